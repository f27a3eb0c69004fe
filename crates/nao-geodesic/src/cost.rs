//! The continuous NAO functional evaluated on any polyline.

use nao_prior::ChiPrior;

use crate::plan::PathFrames;
use crate::quad::integral;
use crate::weight::Weight;

/// `∫ −log χ(‖γ‖) ‖γ′‖` along the polyline through `frames` (held [`Frames`](crate::Frames) or a
/// [`FramePlan`](crate::FramePlan)), segment by segment.
///
/// On a segment `p + tΔ` the squared norm is the quadratic `‖p‖² + 2t p·Δ + t²‖Δ‖²` (three f64
/// sums, with `Δ` formed explicitly: `‖p‖² − 2p·q + ‖q‖²` would cancel catastrophically for short
/// segments far from the origin), so each segment costs `O(d)` plus a 1-D adaptive
/// Gauss–Legendre quadrature.
/// This is the yardstick every interpolation method is measured with: a LERP path, a SLERP path
/// and the NAO geodesic all get their cost from here.
///
/// ```
/// use nao_prior::ChiPrior;
/// use nao_geodesic::{lerp, polyline_cost, Nao, Spacing};
/// let d = 64;
/// let a = vec![1.0; d];
/// let mut b = vec![1.0; d];
/// b[0] = -1.0; b[1] = -1.0;
/// let prior = ChiPrior::new(d).unwrap();
/// let nao = Nao::new(d).unwrap();
/// let exact = nao.distance(&a, &b).unwrap();
/// let path = nao.path(&a, &b, 200, Spacing::Euclidean).unwrap();
/// assert!((polyline_cost(&prior, &path) - exact).abs() < 1e-4 * exact);
/// assert!(polyline_cost(&prior, &lerp(&a, &b, 2).unwrap()) >= exact);
/// ```
pub fn polyline_cost<P: PathFrames + ?Sized>(prior: &ChiPrior, frames: &P) -> f64 {
    let w = Weight::new(prior);
    let mut total = 0.0;
    // Two frame buffers: a plan's frames are made here, held frames are borrowed.
    let (mut bp, mut bq) = (vec![0.0; frames.width()], vec![0.0; frames.width()]);
    for i in 1..frames.count() {
        let p = frames.frame_in(i - 1, &mut bp);
        let q = frames.frame_in(i, &mut bq);
        let (mut pp, mut pd, mut dd) = (0.0, 0.0, 0.0);
        for (x, y) in p.iter().zip(q) {
            let delta = y - x;
            pp += x * x;
            pd += x * delta;
            dd += delta * delta;
        }
        total += segment_cost(&w, pp, pd, dd);
    }
    total
}

/// Cost of the segment `p + tΔ`, `t ∈ [0, 1]`, given `‖p‖²`, `p·Δ` and `‖Δ‖²`.
pub(crate) fn segment_cost(w: &Weight, pp: f64, pd: f64, dd: f64) -> f64 {
    let len = dd.sqrt();
    if len == 0.0 {
        return 0.0;
    }
    integral(0.0, 1.0, 1e-12, &mut |t| {
        let r2 = (pp + 2.0 * t * pd + t * t * dd).max(0.0);
        w.f(r2.sqrt()) * len
    })
}
