//! The official discretised NAO loss, its analytic gradient, and the 50-point objective used to
//! score any path.

use nao_prior::ChiPrior;
use num_traits::Float;

use crate::GeodesicError;

/// Number of points of the official discretisation (endpoints included).
pub const REFERENCE_POINTS: usize = 50;

/// Lanes of the `f64` partial sums: reductions are split over this many independent
/// accumulators (so they vectorise) and combined in a fixed order, identical in every code path.
pub(crate) const LANES: usize = 8;

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

/// How the per-segment scalars of the loss — the midpoint radius `r`, `log χ(r)`, the segment
/// length compared with `ε` in the penalty, and `ε` itself — are evaluated.
///
/// The official code computes all of them in `float32`. Its `log χ` is
/// `((d−1)·log r − 0.5·r²) − ((d/2−1)·log 2 + lgamma(d/2))`; at `d = 16384` both brackets are
/// ≈ 8·10⁴, so the result is quantised in steps of 2⁻⁷ ≈ 0.008. That quantisation shows in the
/// official loss (it jitters by a few 0.01 from step to step, so the official `d = 16384` run
/// never meets the early-stop rule and uses all 10 000 iterations; with the exact `log χ` the
/// loss is smooth enough to stop after ≈ 1 700) and in the official gradient (one quantum on a
/// segment's `log χ` moves the gradient of its two points by ≈ 2·10⁻⁵ relative).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScalarPrecision {
    /// The official `float32` evaluation, reproduced operation by operation: midpoints
    /// `zₖ/2 + zₖ₊₁/2` and differences rounded to `f32`, their squared norms summed by
    /// fused multiply-adds into eight `f32` lanes (torch's AVX2 norm kernel), `√` in `f32`,
    /// [`official_log_chi_f32`], the penalty's `relu(dist − eps)` in `f32` and
    /// `eps = 2·(‖a−b‖/n)` in `f32`. On the shared reference cases this gives the official
    /// `log χ` of every segment bit for bit. The segment length (the official `dist`) is the
    /// same `f32` norm; the derivative of `log χ` is the exact `(d−1)/r − r` at the `f32`
    /// radius (what autograd differentiates); products and sums over segments are `f64`.
    /// Default of the reference solvers.
    #[default]
    OfficialF32,
    /// Every reduction accumulated in `f64` and the exact `log χ` of [`ChiPrior::log_pdf`]: a
    /// smooth loss whose exact gradient is [`reference_loss_and_grad`]'s.
    F64,
}

/// `log χ_d(r)` computed as the official code computes it, in `float32`:
/// `((d−1)·ln r − 0.5·r²) − ((d/2−1)·ln 2 + lnΓ(d/2))`, each operation rounded to `f32`.
///
/// ```
/// use nao_geodesic::reference::official_log_chi_f32;
/// use nao_prior::ChiPrior;
/// // Values of the official run (summary.json, `log_chi_f32_vs_f64`).
/// let p = ChiPrior::new(16384).unwrap();
/// assert_eq!(official_log_chi_f32(&p, 127.9961), -0.5703125);
/// assert_eq!(official_log_chi_f32(&p, 90.5174), -1581.7890625);
/// ```
pub fn official_log_chi_f32(prior: &ChiPrior, r: f32) -> f32 {
    Eval::new(prior, ScalarPrecision::OfficialF32).official_log_chi(r)
}

/// How segment scalars are evaluated, with the constants of the official `float32` `log χ`
/// computed once.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Eval {
    prior: ChiPrior,
    precision: ScalarPrecision,
    /// `d − 1` as the official code's `float32` scalar.
    d_minus_1: f32,
    /// `(d/2 − 1)·ln 2 + lnΓ(d/2)` in `float32`, as the official expression forms it.
    constant: f32,
}

impl Eval {
    pub(crate) fn new(prior: &ChiPrior, precision: ScalarPrecision) -> Self {
        let d = prior.dim() as f64;
        Self {
            prior: *prior,
            precision,
            d_minus_1: (d - 1.0) as f32,
            constant: (0.5 * d - 1.0) as f32 * 2f32.ln() + nao_prior::ln_gamma(0.5 * d) as f32,
        }
    }

    #[inline]
    fn official_log_chi(&self, r: f32) -> f32 {
        (self.d_minus_1 * r.ln() - 0.5f32 * (r * r)) - self.constant
    }

    /// The scalars of a segment with these sums.
    #[inline]
    pub(crate) fn segment(&self, sums: SegSums, eps: f64) -> Segment {
        Segment::new(self, sums, eps)
    }
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
    fn new(ev: &Eval, sums: SegSums, eps: f64) -> Self {
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

/// Combine lane accumulators in a fixed order.
#[inline(always)]
pub(crate) fn combine(acc: &[f64; LANES]) -> f64 {
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// The reductions a segment `(x, y)` needs, computed as `precision` says:
///
/// - [`ScalarPrecision::F64`]: differences and sums formed in the rows' precision, squared and
///   accumulated in `f64` over [`LANES`] lanes;
/// - [`ScalarPrecision::OfficialF32`]: as the official `float32` code computes `‖y − x‖` and
///   `‖x/2 + y/2‖` — elements rounded to `f32`, squares summed by fused multiply-adds into eight
///   `f32` lanes, lanes added in order, then any tail (torch's AVX2 norm kernel). This
///   reproduces the official radius, and hence the official `log χ`, of every segment of the
///   shared reference cases bit for bit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SegSums {
    /// `‖y − x‖²`.
    pub len_sq: f64,
    /// `‖x/2 + y/2‖²`.
    pub mid_sq: f64,
}

/// [`SegSums`] of two rows (`x` the earlier point of the segment).
#[inline(always)]
pub(crate) fn seg_sums<T: Float>(x: &[T], y: &[T], precision: ScalarPrecision) -> SegSums {
    match precision {
        ScalarPrecision::F64 => {
            let (len_sq, sum_sq) = pair_sums(x, y);
            // ‖s‖²/4 is exact: scaling by a power of two.
            SegSums {
                len_sq,
                mid_sq: 0.25 * sum_sq,
            }
        }
        ScalarPrecision::OfficialF32 => {
            let (mid_sq, len_sq) = official_sq(x, y);
            SegSums {
                len_sq: len_sq as f64,
                mid_sq: mid_sq as f64,
            }
        }
    }
}

/// `(‖x/2 + y/2‖², ‖y − x‖²)` as the official `float32` code computes them (see
/// [`SegSums::mid_sq`]).
#[inline(always)]
fn official_sq<T: Float>(x: &[T], y: &[T]) -> (f32, f32) {
    let mut mid = [0.0f32; LANES];
    let mut len = [0.0f32; LANES];
    let cx = x.chunks_exact(LANES);
    let cy = y.chunks_exact(LANES);
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for l in 0..LANES {
            let (p, q) = (to32(a[l]), to32(b[l]));
            let m = p * 0.5 + q * 0.5;
            let d = q - p;
            mid[l] = m.mul_add(m, mid[l]);
            len[l] = d.mul_add(d, len[l]);
        }
    }
    let mut mid = OfficialSq::from_lanes(mid, x.len() - rx.len());
    let mut len = OfficialSq::from_lanes(len, x.len() - rx.len());
    for (&a, &b) in rx.iter().zip(ry) {
        let (p, q) = (to32(a), to32(b));
        mid.push(p * 0.5 + q * 0.5);
        len.push(q - p);
    }
    (mid.finish(), len.finish())
}

/// The squared norm of torch's AVX2 `float32` norm kernel: full chunks of 8 elements go into
/// eight lanes by fused multiply-add, the lanes are added in order, then the remaining
/// elements' squares are added one by one (also fused, as GCC contracts them).
#[derive(Debug, Clone, Copy)]
pub(crate) struct OfficialSq {
    lanes: [f32; LANES],
    tail: [f32; LANES],
    count: usize,
}

impl OfficialSq {
    #[inline(always)]
    pub(crate) fn new() -> Self {
        Self {
            lanes: [0.0; LANES],
            tail: [0.0; LANES],
            count: 0,
        }
    }

    /// Add the next element (elements must come in order).
    #[inline(always)]
    pub(crate) fn push(&mut self, v: f32) {
        let l = self.count % LANES;
        // Keep the pending partial chunk apart: it becomes a tail if no element completes it.
        self.tail[l] = v;
        self.count += 1;
        if l == LANES - 1 {
            for k in 0..LANES {
                self.lanes[k] = self.tail[k].mul_add(self.tail[k], self.lanes[k]);
            }
        }
    }

    /// The lanes of full chunks (set directly by the vectorised kernel).
    #[inline(always)]
    pub(crate) fn from_lanes(lanes: [f32; LANES], count: usize) -> Self {
        debug_assert_eq!(count % LANES, 0);
        Self {
            lanes,
            tail: [0.0; LANES],
            count,
        }
    }

    #[inline(always)]
    pub(crate) fn finish(&self) -> f32 {
        let mut s = self.lanes.iter().fold(0.0f32, |s, &v| s + v);
        for &v in &self.tail[..self.count % LANES] {
            s = v.mul_add(v, s);
        }
        s
    }
}

/// `‖x‖` as the official `float32` code computes it (torch's AVX2 norm kernel: see
/// [`ScalarPrecision::OfficialF32`]).
///
/// ```
/// use nao_geodesic::reference::official_norm_f32;
/// assert_eq!(official_norm_f32(&[3.0f32, 4.0]), 5.0);
/// ```
pub fn official_norm_f32<T: Float>(x: &[T]) -> f32 {
    let mut acc = OfficialSq::new();
    for &v in x {
        acc.push(to32(v));
    }
    acc.finish().sqrt()
}

/// The official `eps = 2·(‖a − b‖/n)` in `float32` (norm as in [`SegSums`]).
pub(crate) fn official_eps<T: Float>(a: &[T], b: &[T], n: usize) -> f64 {
    let norm = official_sq(a, b).1.sqrt();
    (2.0f32 * (norm / n as f32)) as f64
}

/// `(‖y − x‖², ‖y + x‖²)` of two rows: each difference and sum is formed in the rows' own
/// precision (as the solver's kernel forms them in `f32`), squared and accumulated in `f64`
/// over [`LANES`] lanes.
#[inline(always)]
pub(crate) fn pair_sums<T: Float>(x: &[T], y: &[T]) -> (f64, f64) {
    debug_assert_eq!(x.len(), y.len());
    let mut acc_d = [0.0f64; LANES];
    let mut acc_s = [0.0f64; LANES];
    let cx = x.chunks_exact(LANES);
    let cy = y.chunks_exact(LANES);
    let (rx, ry) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for l in 0..LANES {
            let (d, s) = (to64(b[l] - a[l]), to64(b[l] + a[l]));
            acc_d[l] += d * d;
            acc_s[l] += s * s;
        }
    }
    let (mut td, mut ts) = (0.0, 0.0);
    for (&a, &b) in rx.iter().zip(ry) {
        let (d, s) = (to64(b - a), to64(b + a));
        td += d * d;
        ts += s * s;
    }
    (combine(&acc_d) + td, combine(&acc_s) + ts)
}

#[inline(always)]
fn to32<T: Float>(x: T) -> f32 {
    x.to_f32().unwrap_or(f32::NAN)
}

#[inline(always)]
pub(crate) fn to64<T: Float>(x: T) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
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
        .map(|(x, y)| ev.segment(seg_sums(x, y, precision), eps))
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

/// Resample a polyline (`points`: `m × dim`, row-major, `m ≥ 1`) to `n ≥ 2` points spaced
/// uniformly in Euclidean arc length; the first and last points are kept exactly. A polyline of
/// zero length gives `n` copies of its first point.
///
/// ```
/// use nao_geodesic::reference::resample_by_arc_length;
/// // An L-shaped path of length 2 resampled to 3 points: the corner is the middle one.
/// let pts = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
/// let r = resample_by_arc_length(&pts, 2, 3);
/// assert_eq!(r, vec![0.0, 0.0, 1.0, 0.0, 1.0, 1.0]);
/// ```
///
/// # Panics
/// If `dim == 0`, `points.len()` is not a positive multiple of `dim`, or `n < 2`.
pub fn resample_by_arc_length(points: &[f64], dim: usize, n: usize) -> Vec<f64> {
    assert!(dim > 0 && !points.is_empty() && points.len() % dim == 0);
    assert!(n >= 2, "resample: n must be ≥ 2");
    let m = points.len() / dim;
    let row = |i: usize| &points[i * dim..(i + 1) * dim];
    // Cumulative chord lengths.
    let mut cum = Vec::with_capacity(m);
    cum.push(0.0f64);
    for i in 1..m {
        let (d2, _) = pair_sums(row(i - 1), row(i));
        cum.push(cum[i - 1] + d2.sqrt());
    }
    let total_len = cum[m - 1];
    let mut out = Vec::with_capacity(n * dim);
    out.extend_from_slice(row(0));
    let mut seg = 0usize;
    for k in 1..n - 1 {
        let t = total_len * k as f64 / (n - 1) as f64;
        // Advance to the segment [cum[seg], cum[seg+1]] holding t (zero-length ones skipped).
        while seg + 2 < m && cum[seg + 1] <= t {
            seg += 1;
        }
        if m == 1 || total_len == 0.0 {
            out.extend_from_slice(row(0));
            continue;
        }
        let (c0, c1) = (cum[seg], cum[seg + 1]);
        let w = if c1 > c0 {
            ((t - c0) / (c1 - c0)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let (x, y) = (row(seg), row(seg + 1));
        out.extend(x.iter().zip(y).map(|(&p, &q)| p + w * (q - p)));
    }
    out.extend_from_slice(row(m - 1));
    out
}

/// The official 50-point loss of an arbitrary polyline (`points`: `m × dim`, row-major): the
/// path is resampled to [`REFERENCE_POINTS`] points uniformly in Euclidean arc length
/// (endpoints kept), `ε = 2‖first − last‖/50`, and [`reference_loss`] is evaluated in `f64`
/// with the exact `log χ` ([`ScalarPrecision::F64`]).
/// This is the common yardstick the CLI reports for every interpolation method.
///
/// Returns NaN if the shape is invalid (`dim == 0`, a length that is not a positive multiple of
/// `dim`) or a value is not finite; a single point scores 0.
///
/// ```
/// use nao_geodesic::reference::reference_objective_of_points;
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
/// assert!(reference_objective_of_points(&prior, &arc, d)
///     < reference_objective_of_points(&prior, &chord, d));
/// ```
pub fn reference_objective_of_points(prior: &ChiPrior, points: &[f64], dim: usize) -> f64 {
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
