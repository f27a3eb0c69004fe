//! The official discretised NAO loss and its analytic gradient.

use nao_prior::ChiPrior;
use num_traits::Float;

use super::scalars::{seg_sums, to64, Eval, ScalarPrecision, SegSums};
use crate::error::GeodesicError;

/// The official loss split into its parts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReferenceLoss {
    /// `−line_integral + penalty`: what the official optimiser minimises.
    pub loss: f64,
    /// `Σₖ ‖zₖ₊₁−zₖ‖ · log χ(‖zₖ/2 + zₖ₊₁/2‖)` (negative for seeds near the χ shell).
    pub line_integral: f64,
    /// `Σₖ relu(‖zₖ₊₁−zₖ‖ − ε)`.
    pub penalty: f64,
}

/// Per-segment scalars: the loss terms and the coefficients of the segment's gradient.
///
/// With `Δ = zₖ₊₁ − zₖ`, `s = zₖ + zₖ₊₁` (so the midpoint is `s/2`), the segment contributes
/// `a·Δ + b·s` to the gradient at `zₖ₊₁` and `−a·Δ + b·s` at `zₖ`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Segment {
    /// `L · log χ(r)`.
    pub line: f64,
    /// `relu(L − ε)`.
    pub penalty: f64,
    /// `(−log χ(r) + [L > ε]) / L`.
    pub a: f64,
    /// `−L · (log χ)'(r) / (4r)`.
    pub b: f64,
}

impl Segment {
    /// A segment that contributes nothing.
    pub(crate) const ZERO: Self = Self {
        line: 0.0,
        penalty: 0.0,
        a: 0.0,
        b: 0.0,
    };

    /// From the segment's [`SegSums`]. A zero-length segment contributes nothing (torch's
    /// `norm` backward is 0 at 0, and `0 · log χ` is taken as 0).
    #[inline]
    pub(crate) fn new(ev: &Eval, sums: SegSums, eps: f64) -> Self {
        let (prior, precision) = (&ev.prior, ev.precision);
        // Official mode: the f32 norm of the official kernel, rounded like `std::sqrt` in f32.
        let len = match precision {
            ScalarPrecision::F64 => sums.len_sq.sqrt(),
            ScalarPrecision::OfficialF32 => (sums.len_sq as f32).sqrt() as f64,
        };
        if len == 0.0 {
            return Self::ZERO;
        }
        let (r, f, active, penalty) = match precision {
            ScalarPrecision::F64 => {
                let r = sums.mid_sq.sqrt();
                let active = len > eps;
                (
                    r,
                    prior.log_pdf(r),
                    active,
                    if active { len - eps } else { 0.0 },
                )
            }
            ScalarPrecision::OfficialF32 => {
                let r = (sums.mid_sq as f32).sqrt();
                // relu(dist − eps) in f32.
                let excess = len as f32 - eps as f32;
                let active = excess > 0.0;
                let f = ev.official_log_chi(r) as f64;
                (
                    r as f64,
                    f,
                    active,
                    if active { excess as f64 } else { 0.0 },
                )
            }
        };
        let df = prior.d_log_pdf(r);
        // relu'(0) = 0, as in torch.
        Self {
            line: len * f,
            penalty,
            a: (-f + if active { 1.0 } else { 0.0 }) / len,
            b: -len * df / (4.0 * r),
        }
    }
}

/// The gradient at a free point `zₖ` as a stencil: `c₋·zₖ₋₁ + c₀·zₖ + c₊·zₖ₊₁` from the scalars
/// of segment `k−1` (`lo`) and segment `k` (`hi`). Formed in `f64`, the cancellation between the
/// large `c₀·zₖ` and its neighbours costs at most a few `f64` digits: far below `f32`'s.
#[inline(always)]
pub(crate) fn stencil(lo: Segment, hi: Segment) -> (f64, f64, f64) {
    // lo: a·(z − p) + b·(z + p); hi: −a·(q − z) + b·(q + z).
    (lo.b - lo.a, (lo.a + lo.b) + (hi.a + hi.b), hi.b - hi.a)
}

/// Sum the per-segment terms in segment order.
pub(crate) fn total(segments: &[Segment]) -> ReferenceLoss {
    let line_integral: f64 = segments.iter().map(|s| s.line).sum();
    let penalty: f64 = segments.iter().map(|s| s.penalty).sum();
    ReferenceLoss {
        loss: -line_integral + penalty,
        line_integral,
        penalty,
    }
}

/// Check a polyline's shape: `points.len() == n·dim`, `n ≥ 2`, `dim ≥ 1`, all finite.
pub(crate) fn check_points<T: Float>(points: &[T], dim: usize) -> Result<usize, GeodesicError> {
    if dim == 0 {
        return Err(GeodesicError::Empty { which: "points" });
    }
    if points.len() % dim != 0 {
        return Err(GeodesicError::ShapeMismatch {
            what: "points (n × dim)",
            expected: points.len().div_ceil(dim) * dim,
            got: points.len(),
        });
    }
    let n = points.len() / dim;
    if n < 2 {
        return Err(GeodesicError::TooFewFrames(n));
    }
    if let Some(index) = points.iter().position(|v| !v.is_finite()) {
        return Err(GeodesicError::NonFinite {
            which: "points",
            index,
        });
    }
    Ok(n)
}

/// Segment scalars of a whole polyline (`n` rows of `dim`).
pub(crate) fn segments_of<T: Float>(
    prior: &ChiPrior,
    points: &[T],
    dim: usize,
    eps: f64,
    precision: ScalarPrecision,
) -> Vec<Segment> {
    let ev = Eval::new(prior, precision);
    points
        .chunks_exact(dim)
        .zip(points.chunks_exact(dim).skip(1))
        .map(|(x, y)| Segment::new(&ev, seg_sums(x, y, precision), eps))
        .collect()
}

/// The official loss of a polyline `z₀ … z_{n−1}` (`points` is `n × dim`, row-major):
/// `−Σₖ ‖zₖ₊₁−zₖ‖ · log χ(‖zₖ/2 + zₖ₊₁/2‖) + Σₖ relu(‖zₖ₊₁−zₖ‖ − eps)`, every reduction in `f64`,
/// `log χ` evaluated as `precision` says.
///
/// ```
/// use nao_geodesic::reference::{reference_loss, ScalarPrecision};
/// use nao_prior::ChiPrior;
/// let prior = ChiPrior::new(2).unwrap();
/// // Two points on the χ₂ mode circle, one segment of length √2 · 1 with midpoint norm √½.
/// let pts = [1.0f64, 0.0, 0.0, 1.0];
/// let l = reference_loss(&prior, &pts, 2, 10.0, ScalarPrecision::F64).unwrap();
/// let expected = -(2f64.sqrt() * prior.log_pdf(0.5f64.sqrt()));
/// assert!((l.loss - expected).abs() < 1e-12 && l.penalty == 0.0);
/// ```
///
/// # Errors
/// Shape errors ([`GeodesicError::ShapeMismatch`], [`GeodesicError::TooFewFrames`],
/// [`GeodesicError::Empty`]) and non-finite values ([`GeodesicError::NonFinite`]).
pub fn reference_loss<T: Float>(
    prior: &ChiPrior,
    points: &[T],
    dim: usize,
    eps: f64,
    precision: ScalarPrecision,
) -> Result<ReferenceLoss, GeodesicError> {
    check_prior(prior, dim)?;
    check_points(points, dim)?;
    Ok(total(&segments_of(prior, points, dim, eps, precision)))
}

/// [`reference_loss`] and its analytic gradient with respect to every point (endpoints
/// included, `n × dim` row-major, in `f64`): segment `k` adds `a·Δ + b·s` at `zₖ₊₁` and
/// `−a·Δ + b·s` at `zₖ`, with `Δ = zₖ₊₁−zₖ`, `s = zₖ+zₖ₊₁`, `a = (−log χ(r) + [L>ε])/L` and
/// `b = −L·(log χ)'(r)/(4r)`, `L = ‖Δ‖`, `r = ‖s‖/2`.
///
/// With [`ScalarPrecision::F64`] this is the exact gradient of [`reference_loss`]; with
/// [`ScalarPrecision::OfficialF32`] it is what the official autograd computes (the quantised
/// `log χ` value in `a`, the smooth derivative in `b`), not a derivative of the quantised loss.
///
/// ```
/// use nao_geodesic::reference::{reference_loss, reference_loss_and_grad, ScalarPrecision};
/// use nao_prior::ChiPrior;
/// let prior = ChiPrior::new(3).unwrap();
/// let pts = [1.0f64, 0.2, 0.0, 0.5, 1.0, 0.3, -0.4, 1.2, 0.9];
/// let exact = ScalarPrecision::F64;
/// let (l, g) = reference_loss_and_grad(&prior, &pts, 3, 0.5, exact).unwrap();
/// // Central difference on one coordinate of the middle point.
/// let h = 1e-6;
/// let (mut p, mut m) = (pts, pts);
/// p[4] += h;
/// m[4] -= h;
/// let lp = reference_loss(&prior, &p, 3, 0.5, exact).unwrap().loss;
/// let lm = reference_loss(&prior, &m, 3, 0.5, exact).unwrap().loss;
/// assert!(((lp - lm) / (2.0 * h) - g[4]).abs() < 1e-6);
/// assert!(l.penalty > 0.0);
/// ```
///
/// # Errors
/// As [`reference_loss`].
pub fn reference_loss_and_grad<T: Float>(
    prior: &ChiPrior,
    points: &[T],
    dim: usize,
    eps: f64,
    precision: ScalarPrecision,
) -> Result<(ReferenceLoss, Vec<f64>), GeodesicError> {
    check_prior(prior, dim)?;
    let n = check_points(points, dim)?;
    let segs = segments_of(prior, points, dim, eps, precision);
    let mut grad = vec![0.0f64; n * dim];
    let none = Segment::ZERO;
    for k in 0..n {
        let lo = if k > 0 { segs[k - 1] } else { none };
        let hi = if k + 1 < n { segs[k] } else { none };
        let (cp, cz, cq) = stencil(lo, hi);
        let g = &mut grad[k * dim..(k + 1) * dim];
        let z = &points[k * dim..(k + 1) * dim];
        // Missing neighbours of the endpoints have zero coefficients; any row stands in.
        let p = if k > 0 {
            &points[(k - 1) * dim..k * dim]
        } else {
            z
        };
        let q = if k + 1 < n {
            &points[(k + 1) * dim..(k + 2) * dim]
        } else {
            z
        };
        for j in 0..dim {
            g[j] = cp * to64(p[j]) + cz * to64(z[j]) + cq * to64(q[j]);
        }
    }
    Ok((total(&segs), grad))
}

pub(crate) fn check_prior(prior: &ChiPrior, dim: usize) -> Result<(), GeodesicError> {
    if prior.dim() != dim {
        return Err(GeodesicError::ShapeMismatch {
            what: "prior dimension",
            expected: dim,
            got: prior.dim(),
        });
    }
    Ok(())
}
