//! Population uniqueness estimated from a sample, as ARX defines it
//! (`org.deidentifier.arx.risk`: `ModelZayatz`, `ModelPitman`, `ModelSNB`,
//! `RiskModelPopulationUniqueness`): the same formulas, initial guesses and
//! decision rule, so the figures agree with ARX's.
//!
//! Input is the class-size histogram of the sample (how many equivalence
//! classes have each size), the sample size `n` and the sampling fraction
//! `π`; the population is `N = n / π`.

use std::collections::BTreeMap;
use std::vec::Vec;

use serde::Serialize;

use super::stats::{digamma, gamma, hypergeometric, ln_gamma, trigamma};

/// Which model Dankar et al.'s rule picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Model {
    /// Pitman (Hoshino 2001).
    Pitman,
    /// Zayatz (1991).
    Zayatz,
    /// Slide negative binomial (Chen and Keller-McNulty 1998).
    Snb,
    /// No sample uniques: nothing to estimate.
    None,
}

/// Estimated population uniques, each as a fraction of the population.
#[derive(Clone, Debug, Serialize)]
pub struct PopulationUniqueness {
    /// Sampling fraction π.
    pub sampling_fraction: f64,
    /// Population size N = n / π.
    pub population: f64,
    /// Zayatz's estimate (fraction of the population).
    pub zayatz: Option<f64>,
    /// Pitman's estimate, if the solver converged.
    pub pitman: Option<f64>,
    /// The SNB estimate, if the solver converged.
    pub snb: Option<f64>,
    /// Dankar et al.'s decision rule.
    pub dankar: f64,
    /// The model the rule used.
    pub dankar_model: Model,
}

/// Computes every estimate and Dankar's choice.
pub fn estimate(hist: &BTreeMap<u64, u64>, n: u64, pi: f64) -> PopulationUniqueness {
    let population = n as f64 / pi;
    let c1 = hist.get(&1).copied().unwrap_or(0) as f64;
    if c1 == 0.0 {
        return PopulationUniqueness {
            sampling_fraction: pi,
            population,
            zayatz: Some(0.0),
            pitman: Some(0.0),
            snb: Some(0.0),
            dankar: 0.0,
            dankar_model: Model::None,
        };
    }
    let valid = |v: f64| v.is_finite() && v != 0.0;
    let zayatz = zayatz(hist, n, pi);
    let pitman = pitman(hist, n, pi);
    let snb = snb(hist, n, pi);
    // RiskModelPopulationUniqueness.getNumUniqueTuplesDankar(true).
    let (dankar, model) = if pi <= 0.1 {
        if valid(pitman) {
            (pitman, Model::Pitman)
        } else {
            (zayatz, Model::Zayatz)
        }
    } else if valid(snb) {
        if zayatz < snb {
            (zayatz, Model::Zayatz)
        } else {
            (snb, Model::Snb)
        }
    } else {
        (zayatz, Model::Zayatz)
    };
    let frac = |v: f64| valid(v).then_some(v / population);
    PopulationUniqueness {
        sampling_fraction: pi,
        population,
        zayatz: frac(zayatz).or(Some(0.0)),
        pitman: frac(pitman),
        snb: frac(snb),
        dankar: if valid(dankar) {
            dankar / population
        } else {
            0.0
        },
        dankar_model: model,
    }
}

/// Zayatz: the share of sample uniques that are population uniques, from
/// the hypergeometric probability of drawing one record of a class.
pub fn zayatz(hist: &BTreeMap<u64, u64>, n: u64, pi: f64) -> f64 {
    // ARX converts the population size to an int (capping it).
    let population = (n as f64 / pi).min(i32::MAX as f64).trunc();
    let draws = (n as f64).min(i32::MAX as f64);
    let classes: f64 = hist.values().sum::<u64>() as f64;
    let c1 = hist.get(&1).copied().unwrap_or(0) as f64;
    let mut temp = 0.0;
    for (&size, &count) in hist {
        temp += (count as f64 / classes) * hypergeometric(population, size as f64, draws, 1.0);
    }
    let cond = (c1 / classes) * hypergeometric(population, 1.0, draws, 1.0) / temp;
    c1 * cond / pi
}

/// 2-D Newton-Raphson: `f` returns the objective and its Jacobian
/// `[[∂f1/∂x, ∂f1/∂y], [∂f2/∂x, ∂f2/∂y]]`.
fn newton(
    f: impl Fn(f64, f64) -> ([f64; 2], [[f64; 2]; 2]),
    mut x: f64,
    mut y: f64,
) -> Option<(f64, f64)> {
    for _ in 0..1000 {
        let (o, j) = f(x, y);
        if !o[0].is_finite() || !o[1].is_finite() {
            return None;
        }
        if o[0].abs() < 1e-10 && o[1].abs() < 1e-10 {
            return Some((x, y));
        }
        let det = j[0][0] * j[1][1] - j[0][1] * j[1][0];
        if det == 0.0 || !det.is_finite() {
            return None;
        }
        let dx = (j[1][1] * o[0] - j[0][1] * o[1]) / det;
        let dy = (j[0][0] * o[1] - j[1][0] * o[0]) / det;
        x -= dx;
        y -= dy;
        if dx.abs() < 1e-15 * x.abs().max(1.0) && dy.abs() < 1e-15 * y.abs().max(1.0) {
            let (o, _) = f(x, y);
            return (o[0].abs() < 1e-6 && o[1].abs() < 1e-6).then_some((x, y));
        }
    }
    None
}

/// Pitman: the two-parameter Poisson-Dirichlet MLE (θ, α) from the class
/// histogram, then E[population uniques] = Γ(θ+1)/Γ(θ+α) · N^α.
pub fn pitman(hist: &BTreeMap<u64, u64>, n: u64, pi: f64) -> f64 {
    let c1 = hist.get(&1).copied().unwrap_or(0) as f64;
    let c2 = hist.get(&2).copied().unwrap_or(0) as f64;
    let u: f64 = hist.values().sum::<u64>() as f64;
    let p = n as f64 / pi;
    let n = n as f64;
    // ModelPitman's initial guess.
    let c2 = if c2 != 0.0 { c2 } else { 1.0 };
    let c = (c1 * (c1 - 1.0)) / c2;
    let t0 = ((n * u * c) - (c1 * (n - 1.0) * ((2.0 * u) + c)))
        / (((2.0 * c1 * u) + (c1 * c)) - (n * c));
    let a0 = ((t0 * (c1 - n)) + ((n - 1.0) * c1)) / (n * u);
    let classes: Vec<(f64, f64)> = hist
        .iter()
        .filter(|(k, _)| **k != 1)
        .map(|(k, v)| (*k as f64, *v as f64))
        .collect();
    // The closed forms of ModelPitman.getMasterFunctionClosed.
    let f = |t: f64, a: f64| {
        let val0 = u - 1.0;
        let val1 = digamma(val0 + (t / a) + 1.0);
        let val2 = trigamma((a + t + (a * val0)) / a);
        let val3 = trigamma((t / a) + 1.0);
        let val4 = digamma((t / a) + 1.0);
        let val5 = a * a;
        let d1 = (val3 - val2) / val5;
        let d5 = (((a * val1) + (t * val2)) - (a * val4) - (t * val3)) / (val5 * a);
        let d3 = (((((val5 * val0) - (t * t * val2)) + (t * t * val3)) - (2.0 * a * t * val1))
            + (2.0 * a * t * val4))
            / (val5 * val5);
        let o1 = (val1 - val4) / a;
        let o3 = ((-t * val1) + (a * val0) + (t * val4)) / (a * a);
        let o2 = digamma(n + t) - digamma(t + 1.0);
        let d2 = trigamma(t + 1.0) - trigamma(n + t);
        let (mut d4, mut o4) = (0.0, 0.0);
        let val6 = digamma(1.0 - a);
        let val7 = trigamma(1.0 - a);
        for &(key, value) in &classes {
            d4 += value * (val7 - trigamma(key - a));
            o4 += value * (digamma(key - a) - val6);
        }
        ([o1 - o2, o3 - o4], [[d2 - d1, -d5], [-d5, -d3 - d4]])
    };
    let Some((t, a)) = newton(f, t0, a0) else {
        return f64::NAN;
    };
    if a == 0.0 {
        return f64::NAN;
    }
    // ModelPitman.getResult: two evaluations, keep the larger valid one.
    let ok = |v: f64| {
        if v.is_finite() && v >= 0.0 && v <= p {
            v
        } else {
            f64::NAN
        }
    };
    let v1 = ok((ln_gamma(t + 1.0) - ln_gamma(t + a)).exp() * p.powf(a));
    let v2 = ok((gamma(t + 1.0) / gamma(t + a)) * p.powf(a));
    match (v1.is_nan(), v2.is_nan()) {
        (true, true) => f64::NAN,
        (false, false) => v1.max(v2),
        (true, false) => v2,
        (false, true) => v1,
    }
}

/// SNB: Chen and Keller-McNulty's slide negative binomial with ARX's
/// Shlosser estimate of the number of non-empty population classes.
pub fn snb(hist: &BTreeMap<u64, u64>, n: u64, pi: f64) -> f64 {
    let _ = n;
    let f = pi;
    let c1 = hist.get(&1).copied().unwrap_or(0) as f64;
    let c2 = hist.get(&2).copied().unwrap_or(0) as f64;
    let classes: f64 = hist.values().sum::<u64>() as f64;
    // ModelSNB.estimateNonEmptyEquivalenceClasses, kept as ARX writes it
    // (including the `- 1` inside the second sum).
    let (mut var1, mut var2, mut var3, mut var4) = (0.0, 0.0, 0.0, 0.0);
    let var5 = f * f;
    for (&size, &count) in hist {
        let (val0, val1) = (size as f64, count as f64);
        let val2 = (1.0 - f).powf(val0) * val1;
        var1 += val0 * var5 * (1.0 - var5).powf(val0 - 1.0) * val1;
        var2 += val2 * (1.0 + f).powf(val0) - 1.0;
        var3 += val2;
        var4 += val0 * f * (1.0 - f).powf(val0 - 1.0) * val1;
    }
    let k = classes + c1 * (var1 / var2) * (var3 / var4) * (var3 / var4);
    let objective = |a: f64, b: f64| {
        let dividend = (1.0 - f) * (1.0 - b);
        [
            k * f * (b / (1.0 - dividend)).powf(a) * (((a * dividend) / (1.0 - dividend)) + 1.0)
                - c1,
            k * a * b.powf(a) * (f * f) * (1.0 - b) / 2.0
                * (1.0 - dividend).powf(a + 2.0)
                * (2.0 - (1.0 - a) * dividend)
                - c2,
        ]
    };
    let jacobian = |a: f64, b: f64| {
        let val0 = (b - 1.0) * (f - 1.0);
        let val1 = val0 - 1.0;
        let val2 = 1.0 - val0;
        let val3 = a * val0 / val1 - 1.0;
        let val4 = (-b / val1).powf(a);
        let val6 = f.powi(2);
        let val7 = b.powf(a);
        let val8 = val7 * val6 * k;
        let val9 = a * val8;
        let val10 = 2.0 * val2.powf(a + 2.0);
        let val11 = val1.powi(2);
        let val13 = f * k;
        let val14 = f - 1.0;
        let val15 = a - 1.0;
        let val16 = b - 1.0;
        let val17 = val15 * val0;
        let val18 = val6 * k;
        let val19 = val17 + 2.0;
        let val20 = val18 * val19;
        let x1 = -val13 * (-b / val1).ln() * val3 * val4 - (val13 * val4 * val0) / val1;
        let x2 = a * val13 * (1.0 / val1 - (b * val14) / val11) * val3 * (-b / val1).powf(val15)
            - val13 * val4 * ((a * val14) / val1 - (a * val16 * val14.powi(2)) / val11);
        let y1 = (val9 * val2.ln() * val19 * val16) / val10
            - (val9 * val16.powi(2) * val14) / val10
            - (val7 * val20 * val16) / val10
            - (a * val7 * val18 * b.ln() * val19 * val16) / val10;
        let y2 = -(val9 * val19) / val10
            - (a.powi(2) * b.powf(val15) * val20 * val16) / val10
            - (a * val7 * val18 * val17) / val10
            - (a * val7 * val20 * (a + 2.0) * val0) / (2.0 * val2.powf(a + 3.0));
        [[x1, x2], [y1, y2]]
    };
    let f2 = |a: f64, b: f64| (objective(a, b), jacobian(a, b));
    // ARX's solver picks its own starting points; try a spread of them.
    for (a0, b0) in [
        (1.0, 0.5),
        (0.5, 0.5),
        (1.0, 0.9),
        (0.1, 0.5),
        (2.0, 0.1),
        (0.5, 0.99),
        (5.0, 0.5),
    ] {
        if let Some((a, b)) = newton(f2, a0, b0) {
            if a > 0.0 && b > 0.0 && b < 1.0 {
                return k * b.powf(a);
            }
        }
    }
    f64::NAN
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hist(pairs: &[(u64, u64)]) -> BTreeMap<u64, u64> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn a_census_is_its_own_population() {
        // π = 1: every sample unique is a population unique (ARX's
        // testDecisionRule2 expects Dankar = sample uniqueness at π = 1).
        let h = hist(&[(1, 300), (2, 100), (3, 50), (7, 10)]);
        let n = 300 + 200 + 150 + 70;
        let z = zayatz(&h, n, 1.0);
        assert!((z - 300.0).abs() < 1e-9, "{z}");
        let e = estimate(&h, n, 1.0);
        assert!((e.dankar - 300.0 / n as f64).abs() < 1e-12);
    }

    #[test]
    fn no_sample_uniques_means_no_population_uniques() {
        let e = estimate(&hist(&[(2, 10), (5, 3)]), 35, 0.1);
        assert_eq!(e.dankar, 0.0);
        assert_eq!(e.dankar_model, Model::None);
    }

    #[test]
    fn smaller_samples_leave_fewer_sample_uniques_unique_in_the_population() {
        let h = hist(&[(1, 500), (2, 200), (3, 80), (4, 40), (6, 20), (10, 5)]);
        let n: u64 = h.iter().map(|(k, v)| k * v).sum();
        let mut last = f64::INFINITY;
        for pi in [0.5, 0.2, 0.1, 0.05] {
            let z = zayatz(&h, n, pi) / (n as f64 / pi);
            assert!(z.is_finite() && z > 0.0 && z < last, "pi {pi}: {z}");
            last = z;
        }
        let p = pitman(&h, n, 0.05);
        assert!(p.is_finite() && p > 0.0 && p < n as f64 / 0.05, "{p}");
        let e = estimate(&h, n, 0.05);
        assert_eq!(e.dankar_model, Model::Pitman);
        let e = estimate(&h, n, 0.3);
        assert!(matches!(e.dankar_model, Model::Snb | Model::Zayatz));
        assert!(e.dankar > 0.0 && e.dankar <= 500.0 / n as f64);
    }
}
