//! The χ distribution with `d` degrees of freedom.

use num_traits::Float;

use crate::gamma::{ln_gamma, ln_gamma_pq, ln_gamma_pq_with_ln_x};
use crate::vector::norm;
use crate::PriorError;

/// χ distribution with `dim` degrees of freedom: the law of `‖z‖` for `z ~ N(0, I_dim)`.
///
/// Every quantity is computed in `f64`; the generic methods take and return any [`Float`]
/// (`f32` or `f64`) and convert at the boundary.
///
/// ```
/// use nao_prior::ChiPrior;
/// let p = ChiPrior::new(64).unwrap();
/// // log χ at the mode, as in the paper's prior
/// let l = p.log_pdf(p.mode());
/// assert!((l - (-0.5710422693403245)).abs() < 1e-12);
/// // the generic entry point accepts f32
/// assert!((p.log_pdf_as(8.0f32) - (-0.574969f32)).abs() < 1e-5);
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChiPrior {
    dim: usize,
    /// `(d/2 − 1)·ln 2 + ln Γ(d/2)`: the log normalising constant.
    log_norm: f64,
}

impl ChiPrior {
    /// χ prior for seeds of `dim` elements (`dim ≥ 1`).
    pub fn new(dim: usize) -> Result<Self, PriorError> {
        if dim == 0 {
            return Err(PriorError::ZeroDimension(dim));
        }
        let k = dim as f64;
        let log_norm = (k / 2.0 - 1.0) * std::f64::consts::LN_2 + ln_gamma(k / 2.0);
        Ok(Self { dim, log_norm })
    }

    /// Degrees of freedom `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The log normalising constant `(d/2 − 1) ln 2 + ln Γ(d/2)`.
    pub fn log_normalizer(&self) -> f64 {
        self.log_norm
    }

    /// `log χ_d(r) = (d−1) ln r − r²/2 − [(d/2−1) ln 2 + ln Γ(d/2)]`, exact in `f64`.
    ///
    /// `−∞` for `r = 0` when `d > 1` and for `r < 0`.
    pub fn log_pdf(&self, r: f64) -> f64 {
        if r.is_nan() {
            return f64::NAN;
        }
        if r < 0.0 {
            return f64::NEG_INFINITY;
        }
        let k = self.dim as f64;
        // (d−1)·ln r with d = 1 must give 0 at r = 0, not 0·(−∞).
        let radial = if self.dim == 1 {
            0.0
        } else {
            (k - 1.0) * r.ln()
        };
        radial - 0.5 * r * r - self.log_norm
    }

    /// [`log_pdf`](Self::log_pdf) for any float type (computed in `f64`).
    pub fn log_pdf_as<T: Float>(&self, r: T) -> T {
        T::from(self.log_pdf(r.to_f64().unwrap_or(f64::NAN))).unwrap_or_else(T::nan)
    }

    /// `−log χ_d(r)`: the NAO metric weight, strictly positive for every `d` and `r`.
    pub fn neg_log_pdf(&self, r: f64) -> f64 {
        -self.log_pdf(r)
    }

    /// Density `χ_d(r)`.
    pub fn pdf(&self, r: f64) -> f64 {
        self.log_pdf(r).exp()
    }

    /// `d/dr log χ_d(r) = (d−1)/r − r`.
    pub fn d_log_pdf(&self, r: f64) -> f64 {
        (self.dim as f64 - 1.0) / r - r
    }

    /// `d²/dr² log χ_d(r) = −(d−1)/r² − 1`.
    pub fn d2_log_pdf(&self, r: f64) -> f64 {
        -(self.dim as f64 - 1.0) / (r * r) - 1.0
    }

    /// `log χ_d(‖x‖)` of a seed given as a slice (norm accumulated in `f64`).
    pub fn log_pdf_of_seed<T: Float>(&self, x: &[T]) -> f64 {
        self.log_pdf(norm(x))
    }

    /// The mode `√(d−1)` (0 for `d = 1`): where the shell of good seeds is.
    pub fn mode(&self) -> f64 {
        (self.dim as f64 - 1.0).sqrt()
    }

    /// The mean `√2·Γ((d+1)/2)/Γ(d/2)`.
    pub fn mean(&self) -> f64 {
        std::f64::consts::SQRT_2 * gamma_half_ratio(self.dim as f64 / 2.0)
    }

    /// The variance `d − mean²`, computed without the cancellation of that formula.
    pub fn variance(&self) -> f64 {
        let x = self.dim as f64 / 2.0;
        if x >= LARGE_X {
            // d − 2x·R(x)²/x with R(x)²/x = 1 − 1/(4x) + … : use the series of R² directly.
            variance_series(x)
        } else {
            let m = self.mean();
            self.dim as f64 - m * m
        }
    }

    /// The standard deviation.
    pub fn std_dev(&self) -> f64 {
        self.variance().sqrt()
    }

    /// Cumulative distribution `P(‖z‖ ≤ r)`.
    pub fn cdf(&self, r: f64) -> f64 {
        self.log_cdf(r).exp()
    }

    /// Survival function `P(‖z‖ > r)`.
    pub fn sf(&self, r: f64) -> f64 {
        self.log_sf(r).exp()
    }

    /// `ln P(‖z‖ ≤ r)`, finite far into the lower tail (where the CDF underflows).
    pub fn log_cdf(&self, r: f64) -> f64 {
        if r.is_nan() {
            return f64::NAN;
        }
        if r <= 0.0 {
            return f64::NEG_INFINITY;
        }
        // ln x passed separately: for tiny r (d = 1) r²/2 underflows while ln(r²/2) does not.
        let ln_x = 2.0 * r.ln() - std::f64::consts::LN_2;
        ln_gamma_pq_with_ln_x(self.dim as f64 / 2.0, 0.5 * r * r, ln_x).0
    }

    /// `ln P(‖z‖ > r)`, finite far into the upper tail.
    pub fn log_sf(&self, r: f64) -> f64 {
        if r.is_nan() {
            return f64::NAN;
        }
        if r <= 0.0 {
            return 0.0;
        }
        ln_gamma_pq(self.dim as f64 / 2.0, 0.5 * r * r).1
    }

    /// Quantile: the `r` with `cdf(r) = p`, for `p ∈ [0, 1]`.
    pub fn quantile(&self, p: f64) -> Result<f64, PriorError> {
        if !(0.0..=1.0).contains(&p) {
            return Err(PriorError::InvalidProbability(p));
        }
        if p == 0.0 {
            return Ok(0.0);
        }
        if p == 1.0 {
            return Ok(f64::INFINITY);
        }
        // Work on the side where the probability is small, in logs, so tails stay accurate.
        let lower = p <= 0.5;
        let target = if lower { p.ln() } else { (1.0 - p).ln() };
        let g = |r: f64| {
            if lower {
                self.log_cdf(r) - target
            } else {
                target - self.log_sf(r)
            }
        };
        // g is increasing in r. Bracket the root.
        let mut hi = self.mean() + 10.0 * self.std_dev().max(1.0);
        while g(hi) < 0.0 {
            hi *= 2.0;
        }
        // Halve down to a bracket [lo, 2·lo]: deep lower tails (p = 1e-300) sit at tiny r.
        let mut lo = 0.5 * hi;
        while lo > f64::MIN_POSITIVE && g(lo) >= 0.0 {
            hi = lo;
            lo *= 0.5;
        }
        // Bisection to full precision: 200 halvings cover any f64 bracket.
        for _ in 0..200 {
            let mid = 0.5 * (lo + hi);
            if mid <= lo || mid >= hi {
                break;
            }
            if g(mid) < 0.0 {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        Ok(0.5 * (lo + hi))
    }
}

/// Above this `x = d/2`, the asymptotic series of `Γ(x+½)/Γ(x)` beats the lgamma difference.
const LARGE_X: f64 = 200.0;

/// `R(x) = Γ(x + ½)/Γ(x)`.
fn gamma_half_ratio(x: f64) -> f64 {
    if x >= LARGE_X {
        x.sqrt() * ratio_series(x)
    } else {
        (ln_gamma(x + 0.5) - ln_gamma(x)).exp()
    }
}

/// `R(x)/√x = 1 − 1/(8x) + 1/(128x²) + 5/(1024x³) − 21/(32768x⁴) − …` (asymptotic).
fn ratio_series(x: f64) -> f64 {
    let y = 1.0 / x;
    1.0 + y
        * (-1.0 / 8.0
            + y * (1.0 / 128.0
                + y * (5.0 / 1024.0
                    + y * (-21.0 / 32768.0 + y * (-399.0 / 262144.0 + y * (869.0 / 4194304.0))))))
}

/// `d − 2R(x)²` with `d = 2x`: `2x(1 − s²)` where `s = R(x)/√x`, formed as `−t(2 + t)` with
/// `t = s − 1` summed directly, so the two nearly equal terms never get subtracted.
fn variance_series(x: f64) -> f64 {
    let t = ratio_series(x) - 1.0;
    // `ratio_series` is 1 + (small series); recompute the small part without the leading 1.
    let y = 1.0 / x;
    let t_direct = y
        * (-1.0 / 8.0
            + y * (1.0 / 128.0
                + y * (5.0 / 1024.0
                    + y * (-21.0 / 32768.0 + y * (-399.0 / 262144.0 + y * (869.0 / 4194304.0))))));
    debug_assert!((t - t_direct).abs() < 1e-15);
    2.0 * x * (-t_direct) * (2.0 + t_direct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn official_reference_values_in_f64() {
        // f64 column of `log_chi_f32_vs_f64` in shared/reference/nao-official/summary.json.
        let p64 = ChiPrior::new(64).unwrap();
        assert!((p64.log_pdf(7.9373) - (-0.5710422693403245)).abs() < 1e-6);
        assert!((p64.log_pdf(8.0) - (-0.5749690248439663)).abs() < 1e-12);
        assert!((p64.log_pdf(7.2) - (-1.1326815112870037)).abs() < 1e-12);
        let p = ChiPrior::new(16384).unwrap();
        assert!((p.log_pdf(128.0) - (-0.5723751154582715)).abs() < 1e-9);
        assert!((p.log_pdf(115.2) - (-170.21370313761872)).abs() < 1e-8);
    }

    #[test]
    fn derivative_matches_finite_differences() {
        for &d in &[1usize, 2, 3, 64, 16384] {
            let p = ChiPrior::new(d).unwrap();
            for &r in &[0.3, 1.0, 5.0, 100.0, 128.0] {
                let h = 1e-5 * r;
                let fd = (p.log_pdf(r + h) - p.log_pdf(r - h)) / (2.0 * h);
                let an = p.d_log_pdf(r);
                assert!((fd - an).abs() < 1e-6 * (1.0 + an.abs()), "d={d} r={r}");
                let fd2 = (p.d_log_pdf(r + h) - p.d_log_pdf(r - h)) / (2.0 * h);
                let an2 = p.d2_log_pdf(r);
                assert!((fd2 - an2).abs() < 1e-6 * (1.0 + an2.abs()), "d={d} r={r}");
            }
        }
    }

    #[test]
    fn density_integrates_to_one_and_moments_match() {
        for &d in &[1usize, 2, 5, 64, 399, 400, 401, 16384] {
            let p = ChiPrior::new(d).unwrap();
            // Trapezoid over a wide window around the mean.
            let (lo, hi) = (0.0f64, p.mean() + 40.0);
            let n = 400_000;
            let h = (hi - lo) / n as f64;
            let (mut m0, mut m1, mut m2) = (0.0, 0.0, 0.0);
            for i in 0..n {
                let r = lo + (i as f64 + 0.5) * h;
                let w = p.pdf(r) * h;
                m0 += w;
                m1 += w * r;
                m2 += w * r * r;
            }
            assert!((m0 - 1.0).abs() < 1e-6, "d={d} mass={m0}");
            assert!((m1 - p.mean()).abs() < 1e-6 * p.mean(), "d={d}");
            let var = m2 - m1 * m1;
            assert!(
                (var - p.variance()).abs() < 1e-5,
                "d={d} {var} {}",
                p.variance()
            );
            assert!((m2 - d as f64).abs() < 1e-4 * d as f64);
        }
    }

    #[test]
    fn series_and_lgamma_agree_where_both_hold() {
        // Reference: R(10) from lgamma (accurate there), carried up by R(x+1) = R(x)·(x+½)/x.
        let mut x = 10.0;
        let mut r = (ln_gamma(10.5) - ln_gamma(10.0)).exp();
        while x < 1000.0 {
            r *= (x + 0.5) / x;
            x += 1.0;
            if x == 200.0 || x == 500.0 || x == 1000.0 {
                let series = x.sqrt() * ratio_series(x);
                assert!(
                    (r / series - 1.0).abs() < 1e-14,
                    "x={x} {}",
                    r / series - 1.0
                );
            }
        }
        // Large d: var → 1/2 − 1/(8d)…
        let p = ChiPrior::new(16384).unwrap();
        assert!((p.variance() - (0.5 - 1.0 / (8.0 * 16384.0))).abs() < 1e-8);
    }

    #[test]
    fn cdf_quantile_round_trip() {
        for &d in &[1usize, 2, 64, 16384] {
            let p = ChiPrior::new(d).unwrap();
            for &q in &[1e-300, 1e-10, 1e-3, 0.1, 0.5, 0.9, 1.0 - 1e-9] {
                let r = p.quantile(q).unwrap();
                let back = if q <= 0.5 { p.cdf(r) } else { 1.0 - p.sf(r) };
                assert!(
                    (back / q - 1.0).abs() < 1e-9,
                    "d={d} q={q} r={r} back={back}"
                );
            }
        }
        // d = 1: χ₁ is the half-normal, cdf = erf(r/√2).
        let p = ChiPrior::new(1).unwrap();
        assert!((p.cdf(1.0) - libm::erf(1.0 / 2f64.sqrt())).abs() < 1e-14);
        // d = 2: Rayleigh, cdf = 1 − e^{−r²/2}.
        let p = ChiPrior::new(2).unwrap();
        assert!((p.cdf(1.3) - (1.0 - (-0.845f64).exp())).abs() < 1e-14);
    }

    #[test]
    fn neg_log_pdf_is_positive_everywhere() {
        for &d in &[1usize, 2, 3, 10, 64, 16384] {
            let p = ChiPrior::new(d).unwrap();
            let m = p.mode().max(1e-3);
            for i in 1..2000 {
                let r = m * 3.0 * i as f64 / 2000.0;
                assert!(p.neg_log_pdf(r) > 0.0, "d={d} r={r}");
            }
        }
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert_eq!(ChiPrior::new(0), Err(PriorError::ZeroDimension(0)));
        let p = ChiPrior::new(4).unwrap();
        assert!(p.quantile(1.5).is_err());
        assert!(p.quantile(f64::NAN).is_err());
    }
}
