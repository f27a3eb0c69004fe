//! The resampled reference loss: the official 50-point objective as a yardstick for any path.

use nao_prior::ChiPrior;

use super::loss::{segments_of, total};
use super::scalars::{pair_sums, ScalarPrecision};
use crate::frames::Frames;
use crate::resample::resample_by_arc_length;

/// Number of points of the official discretisation (endpoints included).
pub const REFERENCE_POINTS: usize = 50;

/// [`resampled_reference_loss_of_points`] of a path given as [`Frames`].
///
/// ```
/// use nao_geodesic::reference::{official_path, resampled_reference_loss};
/// use nao_geodesic::Frames;
/// use nao_prior::{ChiPrior, GaussianSeeds, RngName};
/// let mut g = GaussianSeeds::new(RngName::ChaCha20, 5);
/// let (a, b): (Vec<f64>, Vec<f64>) = (g.seed(64), g.seed(64));
/// let prior = ChiPrior::new(64).unwrap();
/// let chord = Frames { dim: 64, data: [a.clone(), b.clone()].concat() };
/// let sol = official_path(&a, &b, 50).unwrap();
/// // The optimised path scores far better than the straight chord.
/// let (opt, line) = (
///     resampled_reference_loss(&prior, &sol.to_frames()),
///     resampled_reference_loss(&prior, &chord),
/// );
/// assert!(opt < 0.5 * line);
/// ```
pub fn resampled_reference_loss(prior: &ChiPrior, frames: &Frames) -> f64 {
    resampled_reference_loss_of_points(prior, &frames.data, frames.dim)
}

/// The resampled reference loss of an arbitrary polyline (`points`: `m × dim`, row-major): the
/// path is resampled to [`REFERENCE_POINTS`] points uniformly in Euclidean arc length
/// ([`resample_by_arc_length`], endpoints kept), `ε = 2‖first − last‖/50`, and
/// [`reference_loss`](super::reference_loss) is evaluated with exact `f64` scalars ([`ScalarPrecision::F64`]).
///
/// A measure of the polyline as a curve: it does not depend on how densely the polyline's
/// vertices sample it, so the CLI reports it for every interpolation method as a common
/// yardstick on the official discrete objective. It is *not* the loss of any path a solver
/// returned — not even of the reference solver's own points, whose official loss is
/// [`ReferenceSolution::final_loss`](super::ReferenceSolution::final_loss): resampling moves
/// those points off the optimum, which its loss sees only at segment midpoints.
///
/// Returns NaN if the shape is invalid (`dim == 0`, a length that is not a positive multiple of
/// `dim`) or a value is not finite; a single point scores 0.
///
/// ```
/// use nao_geodesic::reference::resampled_reference_loss_of_points;
/// use nao_prior::ChiPrior;
/// let d = 64;
/// let prior = ChiPrior::new(d).unwrap();
/// let r = prior.mode();
/// // Two orthogonal seeds on the χ shell: a quarter circle on the shell (33 frames) beats the
/// // straight chord, whose middle dips to r/√2, deep in the low-density region.
/// let arc: Vec<f64> = (0..=32)
///     .flat_map(|i| {
///         let t = std::f64::consts::FRAC_PI_2 * i as f64 / 32.0;
///         let mut z = vec![0.0; d];
///         (z[0], z[1]) = (r * t.cos(), r * t.sin());
///         z
///     })
///     .collect();
/// let (first, last) = (&arc[..d], &arc[32 * d..]);
/// let chord = [first, last].concat();
/// assert!(resampled_reference_loss_of_points(&prior, &arc, d)
///     < resampled_reference_loss_of_points(&prior, &chord, d));
/// ```
pub fn resampled_reference_loss_of_points(prior: &ChiPrior, points: &[f64], dim: usize) -> f64 {
    if prior.dim() != dim || dim == 0 || points.is_empty() || points.len() % dim != 0 {
        return f64::NAN;
    }
    if points.iter().any(|v| !v.is_finite()) {
        return f64::NAN;
    }
    let m = points.len() / dim;
    if m == 1 {
        return 0.0;
    }
    let (d2, _) = pair_sums(&points[..dim], &points[(m - 1) * dim..]);
    let eps = 2.0 * d2.sqrt() / REFERENCE_POINTS as f64;
    let resampled = resample_by_arc_length(points, dim, REFERENCE_POINTS);
    total(&segments_of(
        prior,
        &resampled,
        dim,
        eps,
        ScalarPrecision::F64,
    ))
    .loss
}
