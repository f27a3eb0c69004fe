//! Choosing an interpolation method by name.

use std::fmt;
use std::str::FromStr;

use crate::error::GeodesicError;
use crate::frames::{Frames, Spacing};
use crate::nao::Nao;
use crate::plan::FramePlan;
use crate::validate::check_positions;
use crate::{baseline, reference, validate};

/// An interpolation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Method {
    /// Linear interpolation.
    Lerp,
    /// Spherical linear interpolation.
    Slerp,
    /// LERP with the norm interpolated.
    Nlerp,
    /// Gaussian-preserving linear combination.
    Gaussian,
    /// The exact NAO geodesic (default).
    #[default]
    Nao,
    /// The official discretised NAO optimiser (50 points, Adam), for parity with the paper.
    NaoReference,
}

impl Method {
    /// Every method, in a stable order.
    pub const ALL: [Method; 6] = [
        Method::Lerp,
        Method::Slerp,
        Method::Nlerp,
        Method::Gaussian,
        Method::Nao,
        Method::NaoReference,
    ];

    /// The name used on the command line.
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Lerp => "lerp",
            Method::Slerp => "slerp",
            Method::Nlerp => "nlerp",
            Method::Gaussian => "gaussian",
            Method::Nao => "nao",
            Method::NaoReference => "nao-reference",
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Method {
    type Err = GeodesicError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Method::ALL
            .iter()
            .find(|m| m.as_str() == s)
            .copied()
            .ok_or_else(|| {
                let known: Vec<_> = Method::ALL.iter().map(|m| m.as_str()).collect();
                GeodesicError::InvalidConfig(format!(
                    "unknown method '{s}' (known: {})",
                    known.join(", ")
                ))
            })
    }
}

/// `frames` seeds from `a` to `b` (endpoints included) by `method`.
///
/// `spacing` applies to the NAO geodesic; the baselines use uniform weights `t = i/(n−1)`, and
/// the reference solver runs the official optimiser with `frames` points (so
/// `ε = 2‖a − b‖/frames`, the official rule) and returns its own points — at least 3; see
/// [`reference::official_path`] for its loss and termination.
///
/// ```
/// use nao_geodesic::{interpolate, Method, Spacing};
/// let a = vec![1.0; 16];
/// let b: Vec<f64> = (0..16).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
/// for m in [Method::Lerp, Method::Slerp, Method::Nlerp, Method::Gaussian, Method::Nao] {
///     let f = interpolate(m, &a, &b, 5, Spacing::Euclidean).unwrap();
///     assert_eq!(f.len(), 5);
/// }
/// ```
pub fn interpolate(
    method: Method,
    a: &[f64],
    b: &[f64],
    frames: usize,
    spacing: Spacing,
) -> Result<Frames, GeodesicError> {
    match method {
        Method::NaoReference => {
            validate::check_pair(a, b, true)?;
            validate::check_frames(frames)?;
            Ok(reference::official_path(a, b, frames)?.to_frames())
        }
        _ => Ok(plan(method, a, b, frames, spacing)?.to_frames()),
    }
}

/// The frames of [`interpolate`], made one at a time: `O(d)` memory for any number of frames
/// (see [`FramePlan`]). Every method but [`Method::NaoReference`] (an optimiser that holds all
/// its points) has a plan; asking for that one is an error.
///
/// ```
/// use nao_geodesic::{plan, Method, Spacing};
/// let p = plan(Method::Slerp, &[1.0, 0.0], &[0.0, 1.0], 1000, Spacing::Euclidean).unwrap();
/// let mut frame = [0.0; 2];
/// p.frame_into(999, &mut frame);
/// assert_eq!(frame, [0.0, 1.0]);
/// assert!(plan(Method::NaoReference, &[1.0], &[2.0], 5, Spacing::Euclidean).is_err());
/// ```
pub fn plan(
    method: Method,
    a: &[f64],
    b: &[f64],
    frames: usize,
    spacing: Spacing,
) -> Result<FramePlan, GeodesicError> {
    match method {
        Method::Lerp => baseline::lerp_plan(a, b, frames),
        Method::Slerp => baseline::slerp_plan(a, b, frames),
        Method::Nlerp => baseline::nlerp_plan(a, b, frames),
        Method::Gaussian => baseline::gaussian_plan(a, b, frames),
        Method::Nao => {
            validate::check_pair(a, b, true)?;
            validate::check_frames(frames)?;
            Ok(Nao::new(a.len())?
                .geodesic(a, b)?
                .into_plan(frames, spacing))
        }
        Method::NaoReference => Err(GeodesicError::InvalidConfig(
            "nao-reference is an optimiser over all its points: it has no frame-by-frame plan"
                .into(),
        )),
    }
}

/// Seeds at `positions` in `[0, 1]` along the path of `method` from `a` to `b`: 0 is `a`, 1 is
/// `b` (exactly, for every method but LERP and the Gaussian combination, whose end weights
/// give them to rounding).
///
/// For [`Method::Nao`] a position is the fraction of the path's Euclidean arc length or NAO
/// cost (per `spacing`, see [`crate::Geodesic::frames_at`]); for the baselines it is their
/// weight `t`, and `spacing` does not apply. [`Method::NaoReference`] is a discrete optimiser
/// with no position in between its points and is refused. `interpolate(m, a, b, n, s)` is the
/// special case of the positions `i/(n−1)`.
///
/// ```
/// use nao_geodesic::{interpolate, interpolate_at, Method, Spacing};
/// let a = vec![1.0; 16];
/// let b: Vec<f64> = (0..16).map(|i| if i % 2 == 0 { 1.0 } else { -1.0 }).collect();
/// for m in [Method::Lerp, Method::Slerp, Method::Nlerp, Method::Gaussian, Method::Nao] {
///     let even = interpolate(m, &a, &b, 5, Spacing::Euclidean)?;
///     let at = interpolate_at(m, &a, &b, &[0.0, 0.25, 0.5, 0.75, 1.0], Spacing::Euclidean)?;
///     let worst = even.data.iter().zip(&at.data).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
///     assert!(worst < 1e-12, "{m}: {worst}");
/// }
/// assert!(interpolate_at(Method::Nao, &a, &b, &[1.5], Spacing::Euclidean).is_err());
/// # Ok::<(), nao_geodesic::GeodesicError>(())
/// ```
pub fn interpolate_at(
    method: Method,
    a: &[f64],
    b: &[f64],
    positions: &[f64],
    spacing: Spacing,
) -> Result<Frames, GeodesicError> {
    let nonzero = !matches!(method, Method::Lerp | Method::Gaussian);
    validate::check_pair(a, b, nonzero)?;
    check_positions(positions)?;
    match method {
        Method::Lerp => Ok(baseline::lerp_at(a, b, positions).to_frames()),
        Method::Slerp => Ok(baseline::slerp_at(a, b, positions).to_frames()),
        Method::Nlerp => Ok(baseline::nlerp_at(a, b, positions).to_frames()),
        Method::Gaussian => Ok(baseline::gaussian_at(a, b, positions).to_frames()),
        Method::Nao => Nao::new(a.len())?
            .geodesic(a, b)?
            .frames_at(positions, spacing),
        Method::NaoReference => Err(GeodesicError::InvalidConfig(
            "nao-reference is a discrete optimiser: it has no points between its own, so it \
             cannot be evaluated at arbitrary positions (use nao)"
                .into(),
        )),
    }
}
