//! The resampled reference loss: the official 50-point objective as a yardstick for any path.

use nao_prior::ChiPrior;

use super::loss::{total, Segment};
use super::scalars::{pair_sums, seg_sums, Eval, ScalarPrecision};
use crate::plan::{PathFrames, Rows};

/// Number of points of the official discretisation (endpoints included).
pub const REFERENCE_POINTS: usize = 50;

/// [`resampled_reference_loss_of_points`] of a path given as [`Frames`](crate::Frames).
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
pub fn resampled_reference_loss<P: PathFrames + ?Sized>(prior: &ChiPrior, frames: &P) -> f64 {
    streamed(prior, frames)
}

/// The resampled reference loss of an arbitrary polyline (`points`: `m × dim`, row-major): the
/// path is resampled to [`REFERENCE_POINTS`] points uniformly in Euclidean arc length
/// ([`resample_by_arc_length`](crate::resample_by_arc_length), endpoints kept), `ε = 2‖first − last‖/50`, and
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
    if dim == 0 || points.is_empty() || points.len() % dim != 0 {
        return f64::NAN;
    }
    streamed(prior, &Rows { data: points, dim })
}

/// The resampled loss reading frames one or two at a time: `O(d)` memory whatever the number of
/// frames (the resampling of [`resample_by_arc_length`](crate::resample_by_arc_length), point by
/// point, and the segments of the official loss as the points come).
fn streamed<P: PathFrames + ?Sized>(prior: &ChiPrior, frames: &P) -> f64 {
    let (m, dim) = (frames.count(), frames.width());
    if prior.dim() != dim || dim == 0 || m == 0 {
        return f64::NAN;
    }
    let (mut bp, mut bq) = (vec![0.0; dim], vec![0.0; dim]);
    for i in 0..m {
        if frames.frame_in(i, &mut bp).iter().any(|v| !v.is_finite()) {
            return f64::NAN;
        }
    }
    if m == 1 {
        return 0.0;
    }
    let (d2, _) = pair_sums(frames.frame_in(0, &mut bp), frames.frame_in(m - 1, &mut bq));
    let eps = 2.0 * d2.sqrt() / REFERENCE_POINTS as f64;
    // Cumulative chord lengths.
    let mut cum = Vec::with_capacity(m);
    cum.push(0.0f64);
    for i in 1..m {
        let (p, q) = (frames.frame_in(i - 1, &mut bp), frames.frame_in(i, &mut bq));
        let step = p
            .iter()
            .zip(q)
            .map(|(a, b)| (b - a) * (b - a))
            .sum::<f64>()
            .sqrt();
        cum.push(cum[i - 1] + step);
    }
    let total_len = cum[m - 1];
    let n = REFERENCE_POINTS;
    let ev = Eval::new(prior, ScalarPrecision::F64);
    let (mut line, mut penalty) = (0.0, 0.0);
    let mut prev = frames.frame_in(0, &mut bp).to_vec();
    let mut point = vec![0.0; dim];
    let mut seg = 0usize;
    for k in 1..n {
        if k == n - 1 {
            point.copy_from_slice(frames.frame_in(m - 1, &mut bq));
        } else {
            let t = total_len * k as f64 / (n - 1) as f64;
            // Advance to the segment [cum[seg], cum[seg+1]] holding t (zero-length ones skipped).
            while seg + 2 < m && cum[seg + 1] <= t {
                seg += 1;
            }
            if total_len == 0.0 {
                point.copy_from_slice(frames.frame_in(0, &mut bq));
            } else {
                let (c0, c1) = (cum[seg], cum[seg + 1]);
                let w = if c1 > c0 {
                    ((t - c0) / (c1 - c0)).clamp(0.0, 1.0)
                } else {
                    0.0
                };
                let x = frames.frame_in(seg, &mut bp);
                let y = frames.frame_in(seg + 1, &mut bq);
                for ((o, &p), &q) in point.iter_mut().zip(x).zip(y) {
                    *o = p + w * (q - p);
                }
            }
        }
        let s = Segment::new(&ev, seg_sums(&prev, &point, ScalarPrecision::F64), eps);
        line += s.line;
        penalty += s.penalty;
        std::mem::swap(&mut prev, &mut point);
    }
    total(&[Segment {
        line,
        penalty,
        ..Segment::ZERO
    }])
    .loss
}
