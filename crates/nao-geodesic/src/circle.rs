//! Closed-form NAO distances in the circle regime, for many distance evaluations at once.
//!
//! When the angle between two seeds is large enough, the geodesic runs from each endpoint to
//! (exponentially close to) the circular geodesic `r = r_gmin`, along it, and out again. Its
//! Clairaut constant is then `C = g_min` to double precision, and the Legendre form of the
//! distance, `D(θ) = C·θ + J(C)` with `J(C) = Σ_legs ∫ √(g² − C²)/r dr`, splits into terms that
//! depend on one endpoint radius each:
//!
//! `D = g_min·θ + J(‖a‖) + J(‖b‖)`.
//!
//! So a [`CircleLeg`] per radius, computed once, turns every further distance (and its gradient)
//! into a few flops. The centroid optimiser uses this: the seeds' legs are fixed, only the
//! centroid's leg changes per iteration. Outside the regime (small angles, radii inside the
//! inner bump of `g`, small `d`) the caller falls back to the full planar solve.

use crate::leg::Leg;
use crate::quad::integral;
use crate::weight::Weight;

/// The Clairaut parameter of the circle limit is reached when the turning point is within this
/// fraction of the leg's radial extent from `r_gmin` (the full solver's limit, too).
const CUTOFF: f64 = 1e-10;

/// The leg from radius `r` to the circular geodesic, with the quantities that the closed form
/// needs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CircleLeg {
    /// The endpoint radius.
    pub r: f64,
    /// `J(r) = |∫_{r_gmin}^{r} √(g² − g_min²)/ρ dρ|`.
    pub j: f64,
    /// Angle swept by the leg down to the cutoff: the regime holds when the two legs' sweeps
    /// fit in the angle between the seeds.
    pub sweep: f64,
    /// `g(r)`.
    pub g: f64,
    /// `f(r) = −log χ(r)`.
    pub f: f64,
    /// `g_min`.
    pub g_min: f64,
    /// `+1` when the leg goes outwards from `r` towards the circle, `−1` inwards.
    pub direction: f64,
}

impl CircleLeg {
    /// The leg for radius `r`, or `None` when no such leg exists (no circle for this `d`, or
    /// `g` dips below `g_min` between `r` and the circle: radii near the origin).
    pub(crate) fn new(w: &Weight, r: f64) -> Option<Self> {
        let rg = w.r_gmin?;
        let y_star = w.gmin_offset();
        let g_min = w.g_near_gmin(y_star);
        let base = rg + y_star;
        if r < base {
            // Inner side: g must stay above g_min all the way, so r must lie beyond the inner
            // root of g = g_min (g is increasing below r_inner, decreasing from there to rg).
            let r_inner = w.r_inner?;
            if r <= r_inner && w.g(r) <= g_min {
                return None;
            }
        }
        let g = w.g(r);
        let leg = Leg {
            base,
            y_base: y_star,
            far: r,
            gap: 0.0,
            c: g_min,
        };
        let h = r - base;
        if h == 0.0 {
            return Some(Self {
                r,
                j: 0.0,
                sweep: 0.0,
                g,
                f: w.f(r),
                g_min,
                direction: 0.0,
            });
        }
        // J has no singularity (its integrand vanishes at the circle); the sweep diverges
        // logarithmically there and is cut at δ = CUTOFF·|h|, i.e. u = √CUTOFF.
        let j = integral(0.0, 1.0, 1e-13, &mut |u| {
            // √(g² − C²)/r · |dr/du| = |dr/du|² / (ratio · r)
            let p = leg.integrand_parts(w, u);
            p.dr_du * p.dr_du / (p.ratio * p.r)
        });
        let sweep = integral(CUTOFF.sqrt(), 1.0, 1e-13, &mut |u| {
            let p = leg.integrand_parts(w, u);
            g_min * p.ratio / p.r
        });
        Some(Self {
            r,
            j,
            sweep,
            g,
            f: w.f(r),
            g_min,
            direction: -h.signum(),
        })
    }

    /// `(distance, (radial, angular) unit tangent at this leg's endpoint)` for the pair of legs
    /// at angle `theta`, or `None` outside the circle regime.
    pub fn distance_to(&self, other: &CircleLeg, theta: f64) -> Option<(f64, (f64, f64))> {
        let fits = theta >= self.sweep + other.sweep; // false for NaN
        if !fits || self.g_min != other.g_min {
            return None;
        }
        let d = self.g_min * theta + self.j + other.j;
        let c = self.g_min;
        let radial = ((self.g - c) * (self.g + c)).max(0.0).sqrt() / self.g;
        Some((d, (self.direction * radial, c / self.g)))
    }
}
