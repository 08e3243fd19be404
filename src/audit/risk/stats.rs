//! The special functions and the distribution the risk models need:
//! log-gamma, digamma, trigamma, and the hypergeometric point probability by
//! Loader's saddle-point expansion (the method of Apache Commons Math, which
//! ARX uses), accurate even for populations of billions.

use core::f64::consts::PI;

const HALF_LOG_2_PI: f64 = 0.918_938_533_204_672_8;

/// ln Γ(x) for x > 0 (Lanczos, g = 7, 9 terms; about 1e-15 relative).
pub fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        return (PI / (PI * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    HALF_LOG_2_PI + (x + 0.5) * t.ln() - t + a.ln()
}

/// Γ(x).
pub fn gamma(x: f64) -> f64 {
    ln_gamma(x).exp()
}

/// ψ(x), the digamma function (recurrence to x ≥ 10, then the asymptotic series).
pub fn digamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    if x <= 0.0 && x == x.floor() {
        return f64::NAN;
    }
    if x < 0.0 {
        return digamma(1.0 - x) - PI / (PI * x).tan();
    }
    while x < 10.0 {
        r -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    r + x.ln()
        - 0.5 / x
        - f * (1.0 / 12.0 - f * (1.0 / 120.0 - f * (1.0 / 252.0 - f * (1.0 / 240.0 - f / 132.0))))
}

/// ψ'(x), the trigamma function.
pub fn trigamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    if x <= 0.0 && x == x.floor() || x.is_nan() {
        return f64::NAN;
    }
    if x < 0.0 {
        // Reflection, ψ'(1 − x) + ψ'(x) = π² / sin²(πx): stepping a large
        // negative x up to 10 one unit at a time would never finish (a
        // Newton step of the Pitman fit can land at -10^12).
        let s = (PI * x).sin();
        return PI * PI / (s * s) - trigamma(1.0 - x);
    }
    while x < 10.0 {
        r += 1.0 / (x * x);
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    r + 1.0 / x
        + f / 2.0
        + f / x
            * (1.0 / 6.0 - f * (1.0 / 30.0 - f * (1.0 / 42.0 - f * (1.0 / 30.0 - f * 5.0 / 66.0))))
}

/// Stirling's error ln(z!) − ((z + ½) ln z − z + ½ ln 2π).
fn stirling_error(z: f64) -> f64 {
    if z < 15.0 {
        if z == 0.0 {
            return 0.0;
        }
        ln_gamma(z + 1.0) - (z + 0.5) * z.ln() + z - HALF_LOG_2_PI
    } else {
        let z2 = z * z;
        (0.083_333_333_333_333_33
            - (0.002_777_777_777_777_778
                - (0.000_793_650_793_650_793_7
                    - (0.000_595_238_095_238_095_2 - 0.000_841_750_841_750_841_8 / z2) / z2)
                    / z2)
                / z2)
            / z
    }
}

/// The deviance term x ln(x/μ) + μ − x, by a series where x ≈ μ.
fn deviance_part(x: f64, mu: f64) -> f64 {
    if (x - mu).abs() < 0.1 * (x + mu) {
        let d = x - mu;
        let mut v = d / (x + mu);
        let mut s1 = v * d;
        let mut s = f64::NAN;
        let mut ej = 2.0 * x * v;
        v *= v;
        let mut j = 1.0;
        while s1 != s {
            s = s1;
            ej *= v;
            s1 = s + ej / (j * 2.0 + 1.0);
            j += 1.0;
        }
        s1
    } else if x == 0.0 {
        mu
    } else {
        x * (x / mu).ln() + mu - x
    }
}

/// ln of the binomial probability of `x` successes in `n` trials.
fn log_binomial_probability(x: f64, n: f64, p: f64, q: f64) -> f64 {
    if x == 0.0 {
        if p < 0.1 {
            -deviance_part(n, n * q) - n * p
        } else {
            n * q.ln()
        }
    } else if x == n {
        if q < 0.1 {
            -deviance_part(n, n * p) - n * q
        } else {
            n * p.ln()
        }
    } else {
        let ret = stirling_error(n)
            - stirling_error(x)
            - stirling_error(n - x)
            - deviance_part(x, n * p)
            - deviance_part(n - x, n * q);
        let f = (2.0 * PI * x * (n - x)) / n;
        -0.5 * f.ln() + ret
    }
}

/// P(X = x) for the hypergeometric distribution: `population` items,
/// `successes` of them marked, `draws` drawn without replacement.
pub fn hypergeometric(population: f64, successes: f64, draws: f64, x: f64) -> f64 {
    let lo = (draws - (population - successes)).max(0.0);
    let hi = successes.min(draws);
    if x < lo || x > hi {
        return 0.0;
    }
    let p = draws / population;
    let q = (population - draws) / population;
    let p1 = log_binomial_probability(x, successes, p, q);
    let p2 = log_binomial_probability(draws - x, population - successes, p, q);
    let p3 = log_binomial_probability(draws, population, p, q);
    (p1 + p2 - p3).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn gamma_family_known_values() {
        assert!(close(ln_gamma(10.0), (362_880f64).ln(), 1e-14));
        assert!(close(ln_gamma(0.5), PI.sqrt().ln(), 1e-13));
        assert!(close(gamma(5.0), 24.0, 1e-13));
        // ψ(1) = −γ, ψ'(1) = π²/6.
        assert!(close(digamma(1.0), -0.577_215_664_901_532_9, 1e-13));
        assert!(close(trigamma(1.0), PI * PI / 6.0, 1e-13));
        assert!(close(digamma(0.5), -1.963_510_026_021_423_5, 1e-13));
        assert!(close(trigamma(0.5), PI * PI / 2.0, 1e-13));
        // Negative arguments by reflection: ψ'(−½) = ψ'(½) + 4.
        assert!(close(trigamma(-0.5), PI * PI / 2.0 + 4.0, 1e-12));
        assert!(close(
            trigamma(-2.25),
            trigamma(-1.25) + 1.0 / (2.25 * 2.25),
            1e-12
        ));
        // Far from zero it answers at once (stepping up would take 10^12 steps).
        assert!(!trigamma(-1e12 - 0.5).is_infinite());
        assert!(trigamma(f64::NAN).is_nan() && trigamma(-3.0).is_nan());
    }

    #[test]
    fn hypergeometric_matches_exact_counts() {
        // N = 20, K = 7, n = 12: P(X = x) = C(7,x) C(13,12-x) / C(20,12).
        fn c(n: u64, k: u64) -> f64 {
            (0..k).fold(1.0, |acc, i| acc * (n - i) as f64 / (i + 1) as f64)
        }
        let total: f64 = (0..=7)
            .map(|x| hypergeometric(20.0, 7.0, 12.0, x as f64))
            .sum();
        assert!(close(total, 1.0, 1e-12));
        for x in 0..=7u64 {
            if 12 - x > 13 {
                continue;
            }
            let exact = c(7, x) * c(13, 12 - x) / c(20, 12);
            assert!(
                close(hypergeometric(20.0, 7.0, 12.0, x as f64), exact, 1e-10),
                "x = {x}"
            );
        }
        // Large populations stay finite and sane.
        let p = hypergeometric(3.0e8, 1.0, 3.0e7, 1.0);
        assert!(close(p, 0.1, 1e-9), "{p}");
    }
}
