//! The per-segment scalars of the official loss — segment lengths, midpoint radii, `log χ`,
//! `ε` — evaluated either as the official `float32` code does, operation by operation, or
//! exactly in `f64`.

use nao_prior::ChiPrior;
use num_traits::Float;

/// Lanes of the `f64` partial sums: reductions are split over this many independent
/// accumulators (so they vectorise) and combined in a fixed order, identical in every code path.
pub(crate) const LANES: usize = 8;

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
    /// smooth loss whose exact gradient is
    /// [`reference_loss_and_grad`](super::reference_loss_and_grad)'s.
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
    pub prior: ChiPrior,
    pub precision: ScalarPrecision,
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
    pub(crate) fn official_log_chi(&self, r: f32) -> f32 {
        (self.d_minus_1 * r.ln() - 0.5f32 * (r * r)) - self.constant
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
pub(crate) fn to32<T: Float>(x: T) -> f32 {
    x.to_f32().unwrap_or(f32::NAN)
}

#[inline(always)]
pub(crate) fn to64<T: Float>(x: T) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}
