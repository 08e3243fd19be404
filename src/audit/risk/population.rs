//! Population uniqueness estimated from a sample, as ARX defines it
//! (`org.deidentifier.arx.risk`: `ModelZayatz`, `ModelPitman`, `ModelSNB`,
//! `RiskModelPopulationUniqueness`): the same formulas, initial guesses and
//! decision rule, so the figures agree with ARX's.
//!
//! Input is the class-size histogram of the sample (how many equivalence
//! classes have each size), the sample size `n` and the sampling fraction
//! `π`. Like ARX's `ARXPopulationModel`, the population size is the
//! integer `N = round(n / π)` and every model works with the sampling
//! fraction `n / N` that this implies, not with `π` itself (the two differ
//! when `n / π` is not an integer).
//!
//! Pitman's and the SNB model's maximum-likelihood equations are solved with
//! `solve`, a port of the two-dimensional Newton-Raphson solver ARX
//! configures in `ARXSolverConfiguration`: the same stopping rule, the same
//! iteration limits and the same sixteen prepared starting values, so that a
//! solution exists here exactly when ARX finds one. ARX's solver also stops
//! on wall-clock limits (100 ms per start, 1 s in all); those are left out,
//! so the result does not depend on the machine (on UCI Adult ARX finishes
//! every case well inside them).

use std::collections::BTreeMap;
use std::vec::Vec;

use serde::Serialize;

use super::stats::{gamma, hypergeometric, ln_gamma};

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
    /// Population size N = round(n / π), as ARX's `ARXPopulationModel`.
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
    let population = population_size(n, pi);
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
    // RiskModelPopulationUniqueness.getNumUniqueTuplesDankar(true), with the
    // sampling fraction n / N.
    let (dankar, model) = if n as f64 / population <= 0.1 {
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

/// The population size ARX's `ARXPopulationModel.create(n, π)` derives:
/// `n / π` rounded to the nearest integer (`Math.round`, halves up).
pub fn population_size(n: u64, pi: f64) -> f64 {
    (n as f64 / pi + 0.5).floor()
}

/// Zayatz: the share of sample uniques that are population uniques, from
/// the hypergeometric probability of drawing one record of a class.
pub fn zayatz(hist: &BTreeMap<u64, u64>, n: u64, pi: f64) -> f64 {
    // ARX converts the population size to an int (capping it).
    let big_n = population_size(n, pi);
    let fraction = n as f64 / big_n;
    let population = big_n.min(i32::MAX as f64);
    let draws = (n as f64).min(i32::MAX as f64);
    let classes: f64 = hist.values().sum::<u64>() as f64;
    let c1 = hist.get(&1).copied().unwrap_or(0) as f64;
    let mut temp = 0.0;
    for (&size, &count) in hist {
        temp += (count as f64 / classes) * hypergeometric(population, size as f64, draws, 1.0);
    }
    let cond = (c1 / classes) * hypergeometric(population, 1.0, draws, 1.0) / temp;
    c1 * cond / fraction
}

/// What [`solve`] evaluates: the two objective functions at `(x, y)` and
/// their Jacobian `[[∂f1/∂x, ∂f1/∂y], [∂f2/∂x, ∂f2/∂y]]`.
type Master<'a> = &'a dyn Fn(f64, f64) -> ([f64; 2], [[f64; 2]; 2]);

/// ARX's default solver accuracy (`ARXSolverConfiguration`): both objective
/// functions within this of zero.
const ACCURACY: f64 = 1e-6;
/// Newton steps per starting value before the next one is tried.
const ITERATIONS_PER_TRY: u32 = 1000;

/// The starting values `ARXSolverConfiguration.getDefaultStartValues`
/// prepares: both coordinates stepping 0, 0.33, 0.66, 0.99 (accumulated in
/// floating point, as ARX's loop does).
fn prepared_start_values() -> [(f64, f64); 16] {
    let mut out = [(0.0, 0.0); 16];
    let mut i = 0;
    let mut d1 = 0.0f64;
    while d1 < 1.0 {
        let mut d2 = 0.0f64;
        while d2 < 1.0 {
            out[i] = (d1, d2);
            i += 1;
            d2 += 0.33;
        }
        d1 += 0.33;
    }
    out
}

/// The two-dimensional Newton-Raphson solver ARX uses
/// (`NewtonRaphson2D` configured by `ARXSolverConfiguration`), step for step:
/// starting from `start`, then from each prepared starting value in turn; a
/// start is abandoned after 1,000 steps, when the iterate is NaN or when it
/// breaks `constraint`; the search ends (with no solution) right after the
/// first step from the last prepared value, as ARX's does. A solution is an
/// iterate where both objectives are within [`ACCURACY`] of zero.
fn solve(
    f: Master<'_>,
    start: (f64, f64),
    constraint: Option<fn(f64, f64) -> bool>,
) -> Option<(f64, f64)> {
    let prepared = prepared_start_values();
    let iterations_total = (prepared.len() as u32 + 1) * ITERATIONS_PER_TRY;
    let mut total = 0u32;
    let mut offset = 0usize;
    let mut first = true;
    'outer: while total <= iterations_total {
        let (mut x, mut y) = if first {
            first = false;
            start
        } else {
            offset += 1;
            prepared[offset - 1]
        };
        let mut iterations = 0u32;
        loop {
            total += 1;
            let (o, j) = f(x, y);
            if o[0].abs() <= ACCURACY && o[1].abs() <= ACCURACY {
                return Some((x, y));
            }
            // SquareMatrix2D.inverse, then Vector2D.times and minus.
            let scalar = 1.0 / (j[0][0] * j[1][1] - j[0][1] * j[1][0]);
            let (i11, i12, i21, i22) = (
                j[1][1] * scalar,
                -j[0][1] * scalar,
                -j[1][0] * scalar,
                j[0][0] * scalar,
            );
            x -= i11 * o[0] + i12 * o[1];
            y -= i21 * o[0] + i22 * o[1];
            if offset == prepared.len() {
                break 'outer;
            }
            if constraint.is_some_and(|c| !c(x, y)) {
                continue 'outer;
            }
            let over = iterations >= ITERATIONS_PER_TRY;
            iterations += 1;
            if x.is_nan() || y.is_nan() || over {
                continue 'outer;
            }
        }
    }
    None
}

/// ψ(x) exactly as ARX's `org.deidentifier.arx.risk.Gamma.digamma`
/// computes it, which Pitman's closed-form equations use: reflection for
/// x < 0, the Taylor expansion at 0 for 0 < x ≤ 1e-6, the recurrence up to
/// 12 and de Moivre's series, in ARX's order of operations. The Newton path (and so which root within the solver's
/// accuracy it stops at) depends on these values, so agreeing with ARX to
/// 1e-9 needs ARX's numerics here, not the accurate [`digamma`].
fn arx_digamma(mut x: f64) -> f64 {
    const DIGAMMA_1: f64 = -0.577_215_664_901_532_9;
    const TRIGAMMA_1: f64 = core::f64::consts::PI * core::f64::consts::PI / 6.0;
    if x.is_infinite() || x.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x < 0.0 {
        return arx_digamma(1.0 - x) + (core::f64::consts::PI / (-core::f64::consts::PI * x).tan());
    }
    if x <= 1e-6 {
        return (DIGAMMA_1 - (1.0 / x)) + (TRIGAMMA_1 * x);
    }
    let mut result = 0.0;
    while x < 12.0 {
        result -= 1.0 / x;
        x += 1.0;
    }
    let mut r = 1.0 / x;
    result += x.ln() - (0.5 * r);
    r *= r;
    result -= r
        * (1.0 / 12.0
            - (r * (1.0 / 120.0
                - (r * (1.0 / 252.0 - (r * (1.0 / 240.0 - (r * (1.0 / 132.0)))))))));
    result
}

/// ψ'(x) exactly as ARX's `Gamma.trigamma` computes it: reflection for
/// x < 0, the Taylor expansion at 0 for 0 < x ≤ 1e-4; the recurrence stops
/// at x ≥ 8 while the asymptotic tail is only added from x ≥ 12, so arguments
/// that end in [8, 12) get the partial sum alone. Only Pitman's Jacobian
/// uses it: it steers the Newton path, while the solution itself must solve
/// the objective functions to the solver's accuracy.
fn arx_trigamma(mut x: f64) -> f64 {
    const TRIGAMMA_1: f64 = core::f64::consts::PI * core::f64::consts::PI / 6.0;
    const TETRAGAMMA_1: f64 = -2.0 * 1.202_056_903_159_594_2;
    if x.is_infinite() || x.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x < 0.0 {
        let r = core::f64::consts::PI / (-core::f64::consts::PI * x).sin();
        return -arx_trigamma(1.0 - x) + (r * r);
    }
    if x <= 1e-4 {
        return (1.0 / (x * x)) + TRIGAMMA_1 + (TETRAGAMMA_1 * x);
    }
    let mut result = 0.0;
    while x < 8.0 {
        result += 1.0 / (x * x);
        x += 1.0;
    }
    if x >= 12.0 {
        let r = 1.0 / (x * x);
        result += (0.5 * r)
            + ((1.0
                + (r * (1.0 / 6.0
                    + (r * (-1.0 / 30.0
                        + (r * (1.0 / 42.0 + (r * (-1.0 / 30.0 + (r * (5.0 / 66.0)))))))))))
                / x);
    }
    result
}

/// Pitman: the two-parameter Poisson-Dirichlet MLE (θ, α) from the class
/// histogram, then E[population uniques] = Γ(θ+1)/Γ(θ+α) · N^α.
pub fn pitman(hist: &BTreeMap<u64, u64>, n: u64, pi: f64) -> f64 {
    let c1 = hist.get(&1).copied().unwrap_or(0) as f64;
    let c2 = hist.get(&2).copied().unwrap_or(0) as f64;
    let u: f64 = hist.values().sum::<u64>() as f64;
    let p = population_size(n, pi);
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
        let val1 = arx_digamma(val0 + (t / a) + 1.0);
        let val2 = arx_trigamma((a + t + (a * val0)) / a);
        let val3 = arx_trigamma((t / a) + 1.0);
        let val4 = arx_digamma((t / a) + 1.0);
        let val5 = a * a;
        let d1 = (val3 - val2) / val5;
        let d5 = (((a * val1) + (t * val2)) - (a * val4) - (t * val3)) / (val5 * a);
        let d3 = (((((val5 * val0) - (t * t * val2)) + (t * t * val3)) - (2.0 * a * t * val1))
            + (2.0 * a * t * val4))
            / (val5 * val5);
        let o1 = (val1 - val4) / a;
        let o3 = ((-t * val1) + (a * val0) + (t * val4)) / (a * a);
        let o2 = arx_digamma(n + t) - arx_digamma(t + 1.0);
        let d2 = arx_trigamma(t + 1.0) - arx_trigamma(n + t);
        let (mut d4, mut o4) = (0.0, 0.0);
        let val6 = arx_digamma(1.0 - a);
        let val7 = arx_trigamma(1.0 - a);
        for &(key, value) in &classes {
            d4 += value * (val7 - arx_trigamma(key - a));
            o4 += value * (arx_digamma(key - a) - val6);
        }
        ([o1 - o2, o3 - o4], [[d2 - d1, -d5], [-d5, -d3 - d4]])
    };
    // ModelPitman.getMasterFunctionIterative: the same equations as sums.
    let iterative = |t: f64, a: f64| {
        let (mut d1, mut d2, mut d3, mut d4, mut d5) = (0.0, 0.0, 0.0, 0.0, 0.0);
        let (mut o1, mut o2, mut o3, mut o4) = (0.0, 0.0, 0.0, 0.0);
        let mut i = 1.0;
        while i < u {
            let val0 = t + (i * a);
            let val1 = 1.0 / val0;
            let val2 = i * val1;
            let val3 = 1.0 / (val0 * val0);
            let val4 = i * val3;
            let val5 = i * val4;
            d1 += val3;
            d5 += val4;
            d3 += val5;
            o1 += val1;
            o3 += val2;
            i += 1.0;
        }
        for &(key, value) in &classes {
            let (mut val1, mut val2) = (0.0, 0.0);
            let mut j = 1.0;
            while j < key {
                let val3 = j - a;
                val1 += 1.0 / (val3 * val3);
                val2 += 1.0 / val3;
                j += 1.0;
            }
            d4 += value * val1;
            o4 += value * val2;
        }
        let mut i = 1.0;
        while i < n {
            let val0 = t + i;
            d2 += 1.0 / (val0 * val0);
            o2 += 1.0 / val0;
            i += 1.0;
        }
        ([o1 - o2, o3 - o4], [[d2 - d1, -d5], [-d5, -d3 - d4]])
    };
    // ModelPitman's constructor: the closed forms first (θ ≥ 0); if they
    // find nothing, or what they find does not solve the iterative
    // objective functions to the solver's accuracy, the iterative forms.
    let theta_non_negative: fn(f64, f64) -> bool = |t, _| t >= 0.0;
    let iterative_solution =
        || solve(&iterative, (t0, a0), Some(theta_non_negative)).unwrap_or((f64::NAN, f64::NAN));
    let (t, a) = match solve(&f, (t0, a0), Some(theta_non_negative)) {
        None => iterative_solution(),
        Some((t, a)) => {
            let (test, _) = iterative(t, a);
            if test[0].is_nan()
                || test[1].is_nan()
                || test[0].abs() > ACCURACY
                || test[1].abs() > ACCURACY
            {
                iterative_solution()
            } else {
                (t, a)
            }
        }
    };
    if t.is_nan() || a.is_nan() || a == 0.0 {
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
    // ModelSNB works with the sampling fraction n / N.
    let f = n as f64 / population_size(n, pi);
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
    // ModelSNB: ARX's solver from (1, 1), no constraint; the estimate is
    // k·β^α whatever the solution (NaN when there is none).
    match solve(&f2, (1.0, 1.0), None) {
        Some((a, b)) => k * b.powf(a),
        None => f64::NAN,
    }
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
    /// UCI Adult, all 32,561 rows of `adult.data` (`?` kept as a value):
    /// class-size histogram on age,sex,race,native-country, as (size, classes).
    const ADULT_AGE_SEX_RACE_COUNTRY: &[(u64, u64)] = &[
        (1, 1330),
        (2, 417),
        (3, 161),
        (4, 97),
        (5, 59),
        (6, 30),
        (7, 10),
        (8, 17),
        (9, 12),
        (10, 9),
        (11, 5),
        (12, 6),
        (13, 7),
        (14, 9),
        (15, 7),
        (16, 4),
        (17, 7),
        (18, 2),
        (19, 1),
        (20, 6),
        (21, 1),
        (22, 2),
        (23, 2),
        (24, 4),
        (25, 4),
        (26, 4),
        (27, 4),
        (28, 2),
        (29, 4),
        (30, 2),
        (31, 3),
        (32, 5),
        (33, 6),
        (34, 3),
        (35, 2),
        (36, 4),
        (37, 2),
        (38, 3),
        (39, 1),
        (40, 3),
        (41, 10),
        (42, 6),
        (45, 1),
        (46, 2),
        (47, 1),
        (48, 1),
        (51, 1),
        (52, 1),
        (53, 1),
        (55, 1),
        (57, 1),
        (58, 1),
        (59, 1),
        (66, 1),
        (68, 2),
        (71, 1),
        (74, 1),
        (76, 1),
        (80, 1),
        (81, 1),
        (86, 1),
        (87, 1),
        (95, 1),
        (97, 1),
        (101, 1),
        (105, 1),
        (107, 1),
        (121, 1),
        (122, 1),
        (123, 1),
        (129, 1),
        (139, 1),
        (142, 1),
        (147, 2),
        (152, 1),
        (156, 1),
        (157, 2),
        (158, 1),
        (161, 1),
        (169, 1),
        (170, 1),
        (175, 1),
        (176, 2),
        (178, 1),
        (183, 1),
        (184, 1),
        (194, 1),
        (195, 1),
        (196, 1),
        (197, 1),
        (199, 2),
        (201, 1),
        (206, 1),
        (213, 1),
        (216, 3),
        (219, 1),
        (222, 1),
        (226, 1),
        (228, 1),
        (230, 1),
        (235, 2),
        (256, 1),
        (259, 1),
        (260, 1),
        (263, 1),
        (287, 1),
        (289, 1),
        (290, 1),
        (294, 1),
        (298, 1),
        (311, 1),
        (315, 1),
        (319, 1),
        (336, 1),
        (346, 1),
        (362, 1),
        (375, 1),
        (381, 1),
        (382, 1),
        (389, 1),
        (400, 1),
        (403, 1),
        (408, 1),
        (411, 1),
        (412, 1),
        (414, 1),
        (422, 1),
        (430, 1),
        (440, 1),
        (448, 1),
        (452, 1),
        (455, 1),
        (458, 1),
        (467, 1),
        (471, 1),
        (481, 1),
        (483, 2),
        (488, 1),
        (505, 1),
        (506, 1),
        (520, 1),
    ];

    /// UCI Adult, all 32,561 rows of `adult.data` (`?` kept as a value):
    /// class-size histogram on sex,race,relationship, as (size, classes).
    const ADULT_SEX_RACE_RELATIONSHIP: &[(u64, u64)] = &[
        (1, 1),
        (2, 1),
        (5, 1),
        (8, 1),
        (11, 1),
        (13, 1),
        (15, 2),
        (16, 1),
        (17, 1),
        (18, 1),
        (19, 1),
        (22, 1),
        (26, 1),
        (27, 1),
        (31, 1),
        (32, 1),
        (38, 1),
        (40, 1),
        (41, 3),
        (43, 1),
        (64, 1),
        (69, 1),
        (79, 2),
        (80, 1),
        (85, 1),
        (92, 1),
        (93, 1),
        (94, 1),
        (95, 1),
        (121, 1),
        (153, 1),
        (261, 1),
        (292, 1),
        (294, 1),
        (388, 1),
        (402, 1),
        (410, 1),
        (424, 1),
        (641, 1),
        (671, 1),
        (674, 1),
        (1309, 1),
        (1850, 1),
        (1866, 1),
        (2389, 1),
        (3324, 1),
        (3801, 1),
        (11939, 1),
    ];

    /// Figures from ARX's own code: `org.deidentifier.arx.risk`
    /// (`RiskModelPopulationUniqueness` with `ARXPopulationModel.create(n, π)`
    /// and `ARXSolverConfiguration.create()`, ARX's master branch, with
    /// de.linearbits newtonraphson 0.0.1 and commons-math3 3.6.1) run on the
    /// histograms above; fractions of the population, as
    /// `getFractionOfUniqueTuples` returns them. ARX found no SNB solution in
    /// any of these cases.
    struct Arx {
        hist: &'static [(u64, u64)],
        pi: f64,
        population: f64,
        zayatz: f64,
        pitman: f64,
        dankar: Model,
    }

    const ARX: &[Arx] = &[
        Arx {
            hist: ADULT_AGE_SEX_RACE_COUNTRY,
            pi: 0.01,
            population: 3_256_100.0,
            zayatz: 0.006150301108013082,
            pitman: 0.005993830581861951,
            dankar: Model::Pitman,
        },
        Arx {
            hist: ADULT_AGE_SEX_RACE_COUNTRY,
            pi: 0.1,
            population: 325_610.0,
            zayatz: 0.015423762481654368,
            pitman: 0.016013351325454582,
            dankar: Model::Pitman,
        },
        Arx {
            hist: ADULT_AGE_SEX_RACE_COUNTRY,
            pi: 0.2,
            population: 162_805.0,
            zayatz: 0.019372944521949334,
            pitman: 0.021525593859344244,
            dankar: Model::Zayatz,
        },
        Arx {
            hist: ADULT_AGE_SEX_RACE_COUNTRY,
            pi: 0.3,
            population: 108_537.0,
            zayatz: 0.022437407806857983,
            pitman: 0.02559212847205891,
            dankar: Model::Zayatz,
        },
        Arx {
            hist: ADULT_SEX_RACE_RELATIONSHIP,
            pi: 0.01,
            population: 3_256_100.0,
            zayatz: 3.4034335812773075e-8,
            pitman: 3.76030282950965e-7,
            dankar: Model::Pitman,
        },
        Arx {
            hist: ADULT_SEX_RACE_RELATIONSHIP,
            pi: 0.1,
            population: 325_610.0,
            zayatz: 6.252126267908348e-7,
            pitman: 5.757209002229432e-6,
            dankar: Model::Pitman,
        },
        Arx {
            hist: ADULT_SEX_RACE_RELATIONSHIP,
            pi: 0.2,
            population: 162_805.0,
            zayatz: 2.559792335711448e-6,
            pitman: 1.3089687601678618e-5,
            dankar: Model::Zayatz,
        },
        Arx {
            hist: ADULT_SEX_RACE_RELATIONSHIP,
            pi: 0.3,
            population: 108_537.0,
            zayatz: 5.930819961278152e-6,
            pitman: 2.1163814044628418e-5,
            dankar: Model::Zayatz,
        },
    ];

    fn agree(got: Option<f64>, want: f64, what: &str) {
        let got = got.unwrap_or_else(|| panic!("{what}: no estimate, ARX {want}"));
        let rel = ((got - want) / want).abs();
        assert!(
            rel <= 1e-9,
            "{what}: deid {got}, ARX {want} (relative {rel:e})"
        );
    }

    fn check(case: &Arx) {
        let h = hist(case.hist);
        let n: u64 = h.iter().map(|(k, v)| k * v).sum();
        assert_eq!(n, 32_561);
        let e = estimate(&h, n, case.pi);
        let what = format!("{} classes, pi {}", h.values().sum::<u64>(), case.pi);
        assert_eq!(e.population, case.population, "{what}");
        agree(e.zayatz, case.zayatz, &format!("Zayatz, {what}"));
        agree(e.pitman, case.pitman, &format!("Pitman, {what}"));
        assert_eq!(e.snb, None, "SNB, {what}");
        assert_eq!(e.dankar_model, case.dankar, "{what}");
        let want = if case.dankar == Model::Pitman {
            case.pitman
        } else {
            case.zayatz
        };
        agree(Some(e.dankar), want, &format!("Dankar, {what}"));
    }

    #[test]
    fn pitman_on_adult_age_sex_race_country_at_one_percent_agrees_with_arx() {
        check(&ARX[0]);
    }

    #[test]
    fn pitman_and_zayatz_on_adult_age_sex_race_country_at_thirty_percent_agree_with_arx() {
        // n / π = 108,536.67: ARX rounds the population to 108,537 and uses
        // the sampling fraction n / N, not π.
        check(&ARX[3]);
    }

    #[test]
    fn pitman_on_adult_sex_race_relationship_at_twenty_percent_agrees_with_arx() {
        check(&ARX[6]);
    }

    #[test]
    fn every_adult_case_agrees_with_arx() {
        for case in ARX {
            check(case);
        }
    }

    #[test]
    fn the_prepared_start_values_are_arxs_grid() {
        let v = prepared_start_values();
        assert_eq!(v[0], (0.0, 0.0));
        assert_eq!(v[5], (0.33, 0.33));
        assert!((v[15].0 - 0.99).abs() < 1e-12 && (v[15].1 - 0.99).abs() < 1e-12);
    }

    #[test]
    fn the_population_is_n_over_pi_rounded() {
        assert_eq!(population_size(32_561, 0.3), 108_537.0);
        assert_eq!(population_size(30_162, 0.1), 301_620.0);
        assert_eq!(population_size(3, 2.0), 2.0);
    }
}
