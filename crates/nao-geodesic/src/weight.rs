//! The NAO metric weight `f(r) = −log χ_d(r)` and the Clairaut function `g(r) = r·f(r)`,
//! written around the χ mode so that differences stay accurate.
//!
//! Near the mode `r₀ = √(d−1)` the plain formula `−(d−1) ln r + r²/2 + c` adds terms of size
//! 10⁵ (at d = 16384) to get a value of 0.57: its rounding error (≈1e-11) would swamp the
//! differences `g(r) − C` that the geodesic quadrature divides by. With `r = r₀(1 + x)`:
//!
//! `f(r) = f₀ + (d−1)·q(x)`, `q(x) = x²/2 + (x − ln(1+x))`,
//!
//! where `f₀ = f(r₀)` and `q ≥ 0` is computed without cancellation.

use nao_prior::ChiPrior;

/// `x − ln(1 + x)`, accurate for small `|x|` (series) and elsewhere.
pub(crate) fn x_minus_ln1p(x: f64) -> f64 {
    if x.abs() < 1e-2 {
        // x²/2 − x³/3 + x⁴/4 − … ; |x| < 1e-2 → 9 terms give 1e-18 relative
        let mut term = x * x;
        let mut sum = 0.0;
        for n in 2..12 {
            sum += term / n as f64 * if n % 2 == 0 { 1.0 } else { -1.0 };
            term *= x;
        }
        sum
    } else {
        x - x.ln_1p()
    }
}

/// `1 − ln(1+z)/z` (→ z/2 at 0), accurate everywhere on `z > −1`.
fn one_minus_l1(z: f64) -> f64 {
    if z.abs() < 1e-3 {
        // z/2 − z²/3 + z³/4 − z⁴/5
        z * (0.5 - z * (1.0 / 3.0 - z * (0.25 - z * 0.2)))
    } else {
        1.0 - z.ln_1p() / z
    }
}

/// The weight function of a χ_d prior and its derived quantities.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Weight {
    /// d − 1
    pub dm1: f64,
    /// r₀ = √(d − 1)
    pub r0: f64,
    /// f(r₀)
    pub f0: f64,
    /// the χ log normaliser (for the origin integral)
    pub log_norm: f64,
    /// Local maximum of g (None when g is increasing everywhere).
    pub r_inner: Option<f64>,
    /// Local minimum of g: the circular geodesic (None when g is increasing everywhere).
    pub r_gmin: Option<f64>,
    /// Taylor coefficients `g⁽ⁿ⁾(r_gmin)/n!`, n = 0…TAYLOR−1, for divided differences near
    /// `r_gmin`, where the closed form cancels (`g′ ≈ 0` there).
    taylor: [f64; TAYLOR],
}

/// Terms of the Taylor expansion of g around `r_gmin`.
const TAYLOR: usize = 18;
/// The expansion is used while both radii lie within this fraction of `r_gmin`.
const TAYLOR_RADIUS: f64 = 0.05;

impl Weight {
    pub fn new(prior: &ChiPrior) -> Self {
        let d = prior.dim() as f64;
        let dm1 = d - 1.0;
        let r0 = dm1.sqrt();
        let f0 = -prior.log_pdf(r0);
        let mut w = Self {
            dm1,
            r0,
            f0,
            log_norm: prior.log_normalizer(),
            r_inner: None,
            r_gmin: None,
            taylor: [0.0; TAYLOR],
        };
        if dm1 > 0.0 {
            w.find_critical_points();
        }
        if let Some(rg) = w.r_gmin {
            // g = r f with f = −(d−1) ln r + r²/2 + c:
            // g⁽ⁿ⁾ = −(d−1)(−1)ⁿ (n−2)!/r^(n−1) for n ≥ 4.
            let (g0, g1) = (w.g(rg), w.dg(rg));
            let t = &mut w.taylor;
            t[0] = g0;
            t[1] = g1;
            t[2] = (3.0 * rg - dm1 / rg) / 2.0;
            t[3] = (dm1 / (rg * rg) + 3.0) / 6.0;
            for (n, c) in t.iter_mut().enumerate().skip(4) {
                let sign = if n % 2 == 0 { -1.0 } else { 1.0 };
                // (n−2)!/n! = 1/(n(n−1))
                *c = sign * dm1 / ((n * (n - 1)) as f64 * rg.powi(n as i32 - 1));
            }
        }
        w
    }

    #[inline]
    fn x_of(&self, r: f64) -> f64 {
        (r - self.r0) / self.r0
    }

    /// f(r) = −log χ(r) > 0 (requires d ≥ 2 and r > 0).
    #[inline]
    pub fn f(&self, r: f64) -> f64 {
        if self.dm1 == 0.0 {
            // d = 1: no (d−1) ln r term, and no mode to expand around.
            return 0.5 * r * r + self.log_norm;
        }
        if r < 0.5 * self.r0 {
            // Far below the mode the plain formula has no cancellation, and 1 + x would lose r.
            return -self.dm1 * r.ln() + 0.5 * r * r + self.log_norm;
        }
        let x = self.x_of(r);
        self.f0 + self.dm1 * (0.5 * x * x + x_minus_ln1p(x))
    }

    /// g(r) = r·f(r).
    #[inline]
    pub fn g(&self, r: f64) -> f64 {
        r * self.f(r)
    }

    /// f′(r) = r − (d−1)/r.
    #[inline]
    pub fn df(&self, r: f64) -> f64 {
        if self.dm1 == 0.0 {
            return r;
        }
        let x = self.x_of(r);
        self.r0 * x * (2.0 + x) / (1.0 + x)
    }

    /// g′(r) = f + r f′ = f₀ + (d−1)[q(x) + x(2 + x)].
    #[inline]
    pub fn dg(&self, r: f64) -> f64 {
        let x = self.x_of(r);
        self.f0 + self.dm1 * (0.5 * x * x + x_minus_ln1p(x) + x * (2.0 + x))
    }

    /// g″(r) = 3r − (d−1)/r.
    #[cfg(test)]
    #[inline]
    pub fn d2g(&self, r: f64) -> f64 {
        3.0 * r - self.dm1 / r
    }

    /// Divided difference `(g(r) − g(s))/(r − s)`, equal to g′(r) at r = s, without cancellation.
    #[cfg(test)]
    pub fn g_divided(&self, r: f64, s: f64) -> f64 {
        self.g_divided_from(s, r - s)
    }

    /// `(g(s + δ) − g(s))/δ` with the offset `δ` given exactly.
    ///
    /// Passing `δ` rather than `r = s + δ` matters near a turning point: there `δ` can be far
    /// below the spacing of doubles around `s`, and `r − s` would come out quantised.
    #[cfg(test)]
    pub fn g_divided_from(&self, s: f64, delta: f64) -> f64 {
        let y = self.r_gmin.map_or(f64::INFINITY, |rg| s - rg);
        self.g_divided_at(s, y, delta)
    }

    /// [`g_divided_from`](Self::g_divided_from) with `s = r_gmin + y` where the offset `y` is known
    /// more precisely than `s − r_gmin` (turning points exponentially close to the circle).
    #[inline]
    pub fn g_divided_at(&self, s: f64, y: f64, delta: f64) -> f64 {
        if let Some(rg) = self.r_gmin {
            let x = y + delta;
            if x.abs() < TAYLOR_RADIUS * rg && y.abs() < TAYLOR_RADIUS * rg {
                // Σₙ cₙ (xⁿ − yⁿ)/(x − y) = Σₙ cₙ Σⱼ xʲ yⁿ⁻¹⁻ʲ, by the recurrence
                // S₁ = 1, Sₙ = x·Sₙ₋₁ + yⁿ⁻¹.
                let mut sum = 0.0;
                let mut s_n = 1.0;
                let mut y_pow = 1.0;
                for n in 1..TAYLOR {
                    if n > 1 {
                        y_pow *= y;
                        s_n = x * s_n + y_pow;
                    }
                    sum += self.taylor[n] * s_n;
                }
                return sum;
            }
        }
        let y = self.x_of(s);
        let x = y + delta / self.r0;
        // g(r) − g(s) = (r − s) f(r) + s (f(r) − f(s)) and f(r) − f(s) = (d−1)(x − y) Q(x, y)
        // with Q = (x + y)/2 + (y + M(z))/(1 + y), z = (x − y)/(1 + y), M(z) = 1 − ln(1+z)/z.
        let z = (delta / self.r0) / (1.0 + y);
        let q_div = 0.5 * (x + y) + (y + one_minus_l1(z)) / (1.0 + y);
        let f_r = self.f0 + self.dm1 * (0.5 * x * x + x_minus_ln1p(x));
        f_r + s * self.dm1 * q_div / self.r0
    }

    /// Offset `y* = −g′(r_gmin)/g″(r_gmin)` of the true minimum of g from the double `r_gmin`
    /// (the bisection leaves `g′(r_gmin)` at a few ulps, which matters within 1e-10 of it).
    pub fn gmin_offset(&self) -> f64 {
        if self.r_gmin.is_none() {
            return 0.0;
        }
        -self.taylor[1] / (2.0 * self.taylor[2])
    }

    /// `g(r_gmin + y)` from the expansion (exact for tiny `y`).
    pub fn g_near_gmin(&self, y: f64) -> f64 {
        let mut sum = 0.0;
        for c in self.taylor.iter().rev() {
            sum = sum * y + c;
        }
        sum
    }

    /// `∫₀^r f(ρ) dρ`: the cost of a radial segment from the origin to radius r.
    pub fn integral_from_origin(&self, r: f64) -> f64 {
        if r <= 0.0 {
            return 0.0;
        }
        // f = −(d−1) ln r + r²/2 + log_norm
        -self.dm1 * (r * r.ln() - r) + r * r * r / 6.0 + self.log_norm * r
    }

    fn find_critical_points(&mut self) {
        // g′ is convex-like with its minimum at r_c = √((d−1)/3).
        let rc = (self.dm1 / 3.0).sqrt();
        if self.dg(rc) >= 0.0 {
            return;
        }
        // Inner root in (0, r_c): g′ → +∞ at 0⁺ is not guaranteed for tiny r in floating point,
        // so bracket from a small positive radius.
        let mut lo = rc * 1e-12;
        while self.dg(lo) < 0.0 && lo > 1e-300 {
            lo *= 1e-3;
        }
        self.r_inner = Some(bisect(|r| self.dg(r), lo, rc));
        // Outer root in (r_c, ∞): near r₀ for large d.
        let mut hi = self.r0.max(rc * 2.0) + 1.0;
        while self.dg(hi) < 0.0 {
            hi *= 2.0;
        }
        self.r_gmin = Some(bisect(|r| self.dg(r), rc, hi));
    }
}

/// Bisection for a sign change of `h` on `[lo, hi]` to full precision.
fn bisect(h: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
    let s_lo = h(lo).signum();
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if h(mid).signum() == s_lo {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_prior_and_its_derivatives() {
        for &d in &[2usize, 3, 7, 64, 16384] {
            let p = ChiPrior::new(d).unwrap();
            let w = Weight::new(&p);
            for &frac in &[0.01, 0.3, 0.8, 0.999, 1.0, 1.001, 1.3, 2.0] {
                let r = frac * w.r0.max(0.5);
                let f = w.f(r);
                assert!(
                    (f - p.neg_log_pdf(r)).abs() < 1e-9 * (1.0 + f.abs()),
                    "d={d} r={r}"
                );
                assert!((w.df(r) + p.d_log_pdf(r)).abs() < 1e-9 * (1.0 + w.df(r).abs()));
                let h = 1e-6 * r;
                let fd = (w.g(r + h) - w.g(r - h)) / (2.0 * h);
                assert!(
                    (fd - w.dg(r)).abs() < 1e-5 * (1.0 + fd.abs()),
                    "d={d} r={r}"
                );
                let fd2 = (w.dg(r + h) - w.dg(r - h)) / (2.0 * h);
                assert!(
                    (fd2 - w.d2g(r)).abs() < 1e-4 * (1.0 + fd2.abs()),
                    "d={d} r={r}"
                );
                for &ds in &[1e-9, 1e-4, 0.1] {
                    let s = r * (1.0 + ds);
                    let dd = (w.g(s) - w.g(r)) / (s - r);
                    let an = w.g_divided(s, r);
                    assert!(
                        (dd - an).abs() < 1e-5 * (1.0 + an.abs()),
                        "d={d} r={r} ds={ds}"
                    );
                }
            }
        }
    }

    #[test]
    fn taylor_divided_difference_agrees_with_the_closed_form() {
        for &d in &[16usize, 64, 16384] {
            let w = Weight::new(&ChiPrior::new(d).unwrap());
            let rg = w.r_gmin.unwrap();
            for &(fx, fy) in &[(0.049, 0.03), (-0.049, 0.02), (0.01, -0.01), (0.04, 0.04)] {
                let (r, s) = (rg * (1.0 + fx), rg * (1.0 + fy));
                let taylor = w.g_divided(r, s);
                // closed form, valid away from rg
                let mut far = w;
                far.r_gmin = None;
                let closed = far.g_divided(r, s);
                assert!(
                    (taylor - closed).abs() < 1e-9 * closed.abs(),
                    "d={d} {taylor} {closed}"
                );
            }
            // Near rg the expansion keeps full relative accuracy: G(rg+δ, rg+δ) = g′(rg+δ) ≈ g″δ.
            let delta = 1e-9 * rg;
            let g = w.g_divided(rg + delta, rg + delta);
            let approx = (3.0 * rg - w.dm1 / rg) * delta;
            assert!((g / approx - 1.0).abs() < 1e-6, "d={d}: {g} vs {approx}");
        }
    }

    #[test]
    fn origin_integral_matches_quadrature() {
        let p = ChiPrior::new(5).unwrap();
        let w = Weight::new(&p);
        let r = 1.7;
        // r = R v² removes the log singularity at the origin.
        let panels = crate::quad::adaptive(0.0, 1.0, 1e-13, [10.0], &mut |v: f64| {
            [w.f(r * v * v) * 2.0 * r * v]
        });
        let num: f64 = panels.iter().map(|p| p.value[0]).sum();
        assert!((num - w.integral_from_origin(r)).abs() < 1e-11, "{num}");
    }

    #[test]
    fn critical_points_of_g() {
        let w = Weight::new(&ChiPrior::new(16384).unwrap());
        let rg = w.r_gmin.unwrap();
        assert!(w.dg(rg).abs() < 1e-6 && w.d2g(rg) > 0.0);
        assert!((rg - w.r0).abs() < 0.01);
        let ri = w.r_inner.unwrap();
        assert!(w.dg(ri).abs() < 1e-6 && w.d2g(ri) < 0.0);
        // d = 2: g is increasing everywhere.
        let w2 = Weight::new(&ChiPrior::new(2).unwrap());
        assert!(w2.r_gmin.is_none());
    }
}
