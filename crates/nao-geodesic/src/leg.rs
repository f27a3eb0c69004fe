//! A radial leg of a planar geodesic: the piece between a turning point (or the circle) and an
//! endpoint radius, along which Clairaut's constant `C` fixes `dα/dr`, `ds/dr` and the cost
//! (see [`crate::planar`] for the equations and the substitution that removes the turning
//! point's singularity).

use crate::quad::{adaptive_self_scaled, fixed, gl16, integral};
use crate::sweep::{Measure, PanelTable, Sweep};
use crate::weight::Weight;

/// Relative tolerance of the adaptive quadrature.
pub(crate) const QUAD_TOL: f64 = 1e-13;
/// The integrand pieces of a leg at one quadrature node.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LegPoint {
    pub r: f64,
    pub f: f64,
    pub g: f64,
    pub dr_du: f64,
    pub ratio: f64,
}

/// A radial leg `r ∈ [base, far]` of constant Clairaut constant `c`, with `g(base) − c = gap`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Leg {
    pub base: f64,
    /// `base − r_gmin` known exactly (∞ when not expressed relative to `r_gmin`).
    pub y_base: f64,
    pub far: f64,
    pub gap: f64,
    pub c: f64,
}

impl Leg {
    /// Pieces of the integrands at `u`: `r`, `f(r)`, `g(r)`, `|dr/du|` and
    /// `ratio = |dr/du| / √(g² − C²)` (the `u` of `dr/du` cancelled analytically when `gap = 0`).
    #[inline]
    pub(crate) fn integrand_parts(&self, w: &Weight, u: f64) -> LegPoint {
        let h = self.far - self.base;
        let delta = h * u * u;
        let r = self.base + delta;
        let f = w.f(r);
        let g = r * f;
        let hg = (h * w.g_divided_at(self.base, self.y_offset(w), delta)).max(0.0);
        let sum = g + self.c;
        let ratio = if self.gap == 0.0 {
            2.0 * h.abs() / (hg * sum).sqrt()
        } else {
            2.0 * h.abs() * u / ((hg * u * u + self.gap) * sum).sqrt()
        };
        LegPoint {
            r,
            f,
            g,
            dr_du: 2.0 * h.abs() * u,
            ratio,
        }
    }

    /// `(r, [dα/du, ds/du, dcost/du])` at `u ∈ [0, 1]` (the component order of
    /// [`Sweep::from_parts`]).
    #[inline]
    fn integrand(&self, w: &Weight, u: f64) -> (f64, [f64; 3]) {
        let p = self.integrand_parts(w, u);
        (
            p.r,
            [self.c * p.ratio / p.r, p.g * p.ratio, p.f * p.g * p.ratio],
        )
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.far == self.base
    }

    /// `base − r_gmin`: the exact offset when the leg carries one, else the difference.
    #[inline]
    pub(crate) fn y_offset(&self, w: &Weight) -> f64 {
        if self.y_base.is_finite() {
            self.y_base
        } else {
            w.r_gmin.map_or(f64::INFINITY, |rg| self.base - rg)
        }
    }

    /// `g(r) − C` at radius `r` on the leg, without cancellation.
    #[inline]
    pub(crate) fn g_minus_c(&self, w: &Weight, r: f64) -> f64 {
        let dr = r - self.base;
        (dr * w.g_divided_at(self.base, self.y_offset(w), dr) + self.gap).max(0.0)
    }

    /// Swept angle only (the quantity the root finder needs).
    pub(crate) fn alpha(&self, w: &Weight) -> f64 {
        if self.is_empty() || self.c == 0.0 {
            return 0.0;
        }
        integral(0.0, 1.0, QUAD_TOL, &mut |u| self.integrand(w, u).1[0])
    }

    pub(crate) fn solve(self, w: &Weight) -> SolvedLeg {
        if self.is_empty() {
            return SolvedLeg {
                leg: self,
                table: PanelTable::default(),
            };
        }
        let panels = adaptive_self_scaled(0.0, 1.0, QUAD_TOL, &mut |u| self.integrand(w, u).1);
        SolvedLeg {
            leg: self,
            table: PanelTable::new(panels),
        }
    }
}

/// A leg with its quadrature panels kept for locating points along it.
#[derive(Debug, Clone)]
pub(crate) struct SolvedLeg {
    pub leg: Leg,
    pub table: PanelTable,
}

impl SolvedLeg {
    /// The `u` where the partial integral of `m` from `u = 0` equals `target`, and the
    /// partial sweep there.
    pub(crate) fn locate(&self, w: &Weight, m: Measure, target: f64) -> (f64, Sweep) {
        let t = &self.table;
        if t.panels.is_empty() || target <= 0.0 {
            return (0.0, Sweep::default());
        }
        if target >= t.total.get(m) {
            return (1.0, t.total);
        }
        let i = t.find(m, target);
        let p = &t.panels[i];
        let rem = target - t.cum[i].get(m);
        let mut fun = |u: f64| self.leg.integrand(w, u).1;
        let (mut lo, mut hi) = (p.a, p.b);
        let mut u = p.a + (p.b - p.a) * (rem / p.value.get(m)).clamp(0.0, 1.0);
        // Safeguarded Newton: converges in a few steps; stop once the residual is at the
        // rounding level of the panel's integral (tighter would only loop on noise).
        let resid_tol = 1e-14 * p.value.get(m).abs().max(rem.abs());
        for _ in 0..60 {
            let val = Sweep::from_parts(fixed(gl16(), p.a, u, &mut fun)).get(m) - rem;
            if val.abs() <= resid_tol {
                break;
            }
            if val > 0.0 {
                hi = u;
            } else {
                lo = u;
            }
            let der = Sweep::from_parts(fun(u)).get(m);
            let mut next = u - val / der;
            if !(next > lo && next < hi && next.is_finite()) {
                next = 0.5 * (lo + hi);
            }
            if (next - u).abs() <= 4.0 * f64::EPSILON * u.abs().max(f64::MIN_POSITIVE) {
                u = next;
                break;
            }
            u = next;
        }
        let part = Sweep::from_parts(fixed(gl16(), p.a, u, &mut fun));
        (u, t.cum[i] + part)
    }

    #[inline]
    pub(crate) fn radius(&self, u: f64) -> f64 {
        self.leg.base + (self.leg.far - self.leg.base) * u * u
    }
}
