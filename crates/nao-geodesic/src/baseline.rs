//! The baseline interpolations: LERP, SLERP, NLERP and the Gaussian-preserving combination.
//!
//! Each returns `n` frames from `a` to `b` (both included) at weights `t = i/(n−1)`; the
//! `*_plan` forms make the same frames one at a time ([`FramePlan`]), and the `*_at` forms at
//! any weights in `[0, 1]` ([`crate::interpolate_at`]).

use nao_prior::norm;

use crate::error::GeodesicError;
use crate::frames::Frames;
use crate::plan::{FramePlan, Step};
use crate::plane::Plane;
use crate::validate::{check_frames, check_pair};

/// Below this angle (radians) SLERP falls back to NLERP: `sin θ` is too small to divide by.
pub const SLERP_MIN_ANGLE: f64 = 1e-6;

fn weights(n: usize) -> Vec<f64> {
    (0..n).map(|i| i as f64 / (n - 1) as f64).collect()
}

fn mix_plan(a: &[f64], b: &[f64], steps: Vec<Step>) -> FramePlan {
    FramePlan {
        a: a.to_vec(),
        b: b.to_vec(),
        basis: None,
        steps,
    }
}

/// Linear interpolation `(1−t)a + tb`. Its midpoint norm falls far inside the χ shell.
///
/// ```
/// let f = nao_geodesic::lerp(&[2.0, 0.0], &[0.0, 2.0], 3).unwrap();
/// assert_eq!(f.frame(1), &[1.0, 1.0]);
/// ```
pub fn lerp(a: &[f64], b: &[f64], n: usize) -> Result<Frames, GeodesicError> {
    Ok(lerp_plan(a, b, n)?.to_frames())
}

pub(crate) fn lerp_plan(a: &[f64], b: &[f64], n: usize) -> Result<FramePlan, GeodesicError> {
    check_pair(a, b, false)?;
    check_frames(n)?;
    Ok(lerp_at(a, b, &weights(n)))
}

/// [`lerp`] at weights `ts` (checked by the caller).
pub(crate) fn lerp_at(a: &[f64], b: &[f64], ts: &[f64]) -> FramePlan {
    let steps = ts
        .iter()
        .map(|&t| Step::Mix { wa: 1.0 - t, wb: t })
        .collect();
    mix_plan(a, b, steps)
}

/// Spherical linear interpolation of direction *and* radius: `sin((1−t)θ)/sin θ·a + sin(tθ)/sin θ·b`.
///
/// For nearly parallel seeds (`θ < 1e-6`) it falls back to [`nlerp`], which agrees with it to
/// second order there. Within 1e-6 of `θ = π` the division by `sin θ` is replaced by its limit
/// (constant angular speed, norm moving linearly); for exactly antipodal seeds the great circle
/// is not unique and the path goes through a fixed perpendicular direction (that of the
/// coordinate axis least aligned with `a`).
///
/// ```
/// let f = nao_geodesic::slerp(&[1.0, 0.0], &[0.0, 1.0], 3).unwrap();
/// let s = std::f64::consts::FRAC_1_SQRT_2;
/// assert!((f.frame(1)[0] - s).abs() < 1e-12 && (f.frame(1)[1] - s).abs() < 1e-12);
/// ```
pub fn slerp(a: &[f64], b: &[f64], n: usize) -> Result<Frames, GeodesicError> {
    Ok(slerp_plan(a, b, n)?.to_frames())
}

pub(crate) fn slerp_plan(a: &[f64], b: &[f64], n: usize) -> Result<FramePlan, GeodesicError> {
    check_pair(a, b, true)?;
    check_frames(n)?;
    Ok(slerp_at(a, b, &weights(n)))
}

/// [`slerp`] at weights `ts` (checked by the caller); weights 0 and 1 give `a` and `b` exactly.
pub(crate) fn slerp_at(a: &[f64], b: &[f64], ts: &[f64]) -> FramePlan {
    let plane = Plane::new(a, b);
    if plane.theta < SLERP_MIN_ANGLE {
        return nlerp_at(a, b, ts);
    }
    let near_pi = std::f64::consts::PI - plane.theta < SLERP_MIN_ANGLE;
    // In the plane: SLERP of (ra, 0) and (rb cos θ, rb sin θ), i.e. the radius also follows the
    // SLERP weights (it is not kept constant unless ra = rb).
    let (st, th) = (plane.theta.sin(), plane.theta);
    let mut steps = Vec::with_capacity(ts.len());
    for &t in ts {
        if t == 0.0 {
            steps.push(Step::A);
            continue;
        }
        if t == 1.0 {
            steps.push(Step::B);
            continue;
        }
        let (x, y) = if near_pi {
            // sin θ → 0: the formula's limit rotates at constant speed with the norm moving
            // linearly (exact when ‖a‖ = ‖b‖).
            let r = (1.0 - t) * plane.ra + t * plane.rb;
            (r * (t * th).cos(), r * (t * th).sin())
        } else {
            let wa = ((1.0 - t) * th).sin() / st;
            let wb = (t * th).sin() / st;
            // a and b in plane coordinates
            (
                wa * plane.ra + wb * plane.rb * th.cos(),
                wb * plane.rb * th.sin(),
            )
        };
        steps.push(Step::Plane { x, y });
    }
    plane.into_plan(steps)
}

/// LERP direction with the norm interpolated linearly: `((1−t)‖a‖ + t‖b‖)·lerp/‖lerp‖`.
///
/// ```
/// let f = nao_geodesic::nlerp(&[3.0, 0.0], &[0.0, 3.0], 3).unwrap();
/// let n = (f.frame(1)[0].powi(2) + f.frame(1)[1].powi(2)).sqrt();
/// assert!((n - 3.0).abs() < 1e-12);
/// ```
pub fn nlerp(a: &[f64], b: &[f64], n: usize) -> Result<Frames, GeodesicError> {
    Ok(nlerp_plan(a, b, n)?.to_frames())
}

pub(crate) fn nlerp_plan(a: &[f64], b: &[f64], n: usize) -> Result<FramePlan, GeodesicError> {
    check_pair(a, b, true)?;
    check_frames(n)?;
    Ok(nlerp_at(a, b, &weights(n)))
}

/// [`nlerp`] at weights `ts` (checked by the caller).
pub(crate) fn nlerp_at(a: &[f64], b: &[f64], ts: &[f64]) -> FramePlan {
    let (na, nb) = (norm(a), norm(b));
    let mut buf = vec![0.0; a.len()];
    let mut steps = Vec::with_capacity(ts.len());
    for &t in ts {
        for ((o, x), y) in buf.iter_mut().zip(a).zip(b) {
            *o = (1.0 - t) * x + t * y;
        }
        let nl = norm(&buf);
        let target = (1.0 - t) * na + t * nb;
        // nl = 0 only for t = ½ of exactly opposite seeds: that frame stays at the origin.
        let s = if nl > 0.0 { target / nl } else { 1.0 };
        steps.push(Step::ScaledMix {
            wa: 1.0 - t,
            wb: t,
            s,
        });
    }
    mix_plan(a, b, steps)
}

/// Gaussian-preserving combination `((1−t)a + tb)/√((1−t)² + t²)` (Bodin et al., arXiv
/// 2408.08558): if `a, b` are independent `N(0, I)` seeds, every frame is again `N(0, I)`.
///
/// ```
/// let f = nao_geodesic::gaussian(&[1.0, 0.0], &[0.0, 1.0], 3).unwrap();
/// let s = std::f64::consts::FRAC_1_SQRT_2;
/// assert!((f.frame(1)[0] - s).abs() < 1e-12);
/// ```
pub fn gaussian(a: &[f64], b: &[f64], n: usize) -> Result<Frames, GeodesicError> {
    Ok(gaussian_plan(a, b, n)?.to_frames())
}

pub(crate) fn gaussian_plan(a: &[f64], b: &[f64], n: usize) -> Result<FramePlan, GeodesicError> {
    check_pair(a, b, false)?;
    check_frames(n)?;
    Ok(gaussian_at(a, b, &weights(n)))
}

/// [`gaussian`] at weights `ts` (checked by the caller).
pub(crate) fn gaussian_at(a: &[f64], b: &[f64], ts: &[f64]) -> FramePlan {
    let steps = ts
        .iter()
        .map(|&t| {
            let s = ((1.0 - t).powi(2) + t * t).sqrt();
            Step::Mix {
                wa: (1.0 - t) / s,
                wb: t / s,
            }
        })
        .collect();
    mix_plan(a, b, steps)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_exact_and_slerp_falls_back() {
        let a = [1.0, 2.0, 3.0];
        let b = [1.0, 2.0, 3.0 + 1e-9];
        for f in [
            lerp(&a, &b, 5).unwrap(),
            slerp(&a, &b, 5).unwrap(),
            nlerp(&a, &b, 5).unwrap(),
            gaussian(&a, &b, 5).unwrap(),
        ] {
            assert_eq!(f.len(), 5);
            assert_eq!(f.frame(0), &a);
            assert!(f
                .frame(4)
                .iter()
                .zip(&b)
                .all(|(x, y)| (x - y).abs() < 1e-12));
            assert!(f.data.iter().all(|v| v.is_finite()));
        }
    }

    #[test]
    fn slerp_keeps_the_norm_for_equal_norms_even_when_antipodal() {
        let a = [3.0, 0.0, 0.0];
        let b = [-3.0, 0.0, 0.0];
        let f = slerp(&a, &b, 7).unwrap();
        for fr in f.iter() {
            assert!((norm(fr) - 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(
            lerp(&[1.0], &[1.0, 2.0], 3),
            Err(GeodesicError::DimensionMismatch { a: 1, b: 2 })
        ));
        assert!(matches!(
            lerp(&[1.0], &[2.0], 1),
            Err(GeodesicError::TooFewFrames(1))
        ));
        assert!(matches!(
            slerp(&[0.0, 0.0], &[1.0, 2.0], 3),
            Err(GeodesicError::ZeroSeed { which: "a" })
        ));
        assert!(matches!(
            nlerp(&[1.0, f64::NAN], &[1.0, 2.0], 3),
            Err(GeodesicError::NonFinite {
                which: "a",
                index: 1
            })
        ));
    }
}
