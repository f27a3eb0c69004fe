//! The iteration of the reference solver: one Adam step over all free rows, plus the segment
//! reductions the next iteration's loss needs, in one sweep over the rows.
//!
//! For every free row `zₖ`, in order `k = 1 … n−2`:
//! 1. an update loop forms, per element, the gradient
//!    `a₋·(zₖ−zₖ₋₁) + b₋·(zₖ+zₖ₋₁) − a₊·(zₖ₊₁−zₖ) + b₊·(zₖ₊₁+zₖ)` from the *old* neighbours (the
//!    old `zₖ₋₁` is kept in a one-row buffer, row `k−1` having been updated already), in `f32`
//!    like the official autograd (the segment scalars `a`, `b` come from the per-segment
//!    reductions and are rounded once), and applies the torch-style Adam update
//!    ([`AdamStep::update`]) in `f32`;
//! 2. a reduction loop over the new rows `zₖ₋₁`, `zₖ` (still in L1/L2) computes the
//!    [`SegSums`] of segment `k−1` with [`seg_sums`].
//!
//! Rows are contiguous, so a step streams the state from L3 once (≈ 9.4 MB for `d = 16384`).
//! The update loop carries no dependency from one element to the next, so the out-of-order
//! core overlaps its long `√`/`÷` chains; the reductions, whose accumulators do carry one, run
//! separately. Both loops are compiled twice — plainly, and with AVX2 + FMA enabled for CPUs
//! that have them (detected at run time; the update loop then uses explicit AVX2 code). Rust
//! never contracts `a·b + c` and the only fused multiply-adds are explicit `mul_add`s, so the
//! two versions give bit-identical results.

use nao_optim::AdamStep;

use super::loss::Segment;
use super::scalars::{seg_sums, ScalarPrecision, SegSums, LANES};

/// Everything one step reads and writes.
pub(crate) struct StepState<'a> {
    /// All `n` rows (endpoints included), `n × dim`.
    pub x: &'a mut [f32],
    /// Adam first moments of the `n − 2` free rows.
    pub m: &'a mut [f32],
    /// Adam second moments of the free rows.
    pub v: &'a mut [f32],
    /// One-row scratch buffer.
    pub buf: &'a mut [f32],
    /// Output: the [`SegSums`] of the `n − 1` segments of the updated path.
    pub sums: &'a mut [SegSums],
}

/// The per-row inputs of [`update_row`].
struct Row<'a> {
    cur: &'a mut [f32],
    next: &'a [f32],
    prev_old: &'a mut [f32],
    m: &'a mut [f32],
    v: &'a mut [f32],
}

/// One Adam step on the free rows given the current segments' scalars.
pub(crate) fn fused_step(
    st: StepState<'_>,
    dim: usize,
    segs: &[Segment],
    adam: &AdamStep,
    precision: ScalarPrecision,
) {
    let StepState { x, m, v, buf, sums } = st;
    let n = x.len() / dim;
    assert!(n >= 3 && x.len() == n * dim, "fused_step: bad shape");
    assert!(m.len() == (n - 2) * dim && v.len() == m.len() && buf.len() == dim);
    assert!(segs.len() == n - 1 && sums.len() == n - 1);
    let simd = simd_available();
    buf.copy_from_slice(&x[..dim]);
    for k in 1..n - 1 {
        let (done, rest) = x.split_at_mut(k * dim);
        let (cur, after) = rest.split_at_mut(dim);
        let row = Row {
            cur,
            next: &after[..dim],
            prev_old: &mut *buf,
            m: &mut m[(k - 1) * dim..k * dim],
            v: &mut v[(k - 1) * dim..k * dim],
        };
        update_row(row, Coef::new(segs[k - 1], segs[k]), adam, simd);
        sums[k - 1] = sums_of(&done[(k - 1) * dim..], cur, precision, simd);
    }
    let (rest, last) = x.split_at((n - 1) * dim);
    sums[n - 2] = sums_of(&rest[(n - 2) * dim..], last, precision, simd);
}

fn simd_available() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// [`seg_sums`], compiled with AVX2 + FMA when `simd`.
fn sums_of(x: &[f32], y: &[f32], precision: ScalarPrecision, simd: bool) -> SegSums {
    #[cfg(target_arch = "x86_64")]
    {
        if simd {
            // SAFETY: `simd` is true only when the CPU has AVX2 and FMA.
            return unsafe { avx2::seg_sums(x, y, precision) };
        }
    }
    let _ = simd;
    seg_sums(x, y, precision)
}

/// Gradient and Adam update of one free row; `prev_old` holds the old previous row on entry
/// and the old current row on exit.
fn update_row(row: Row<'_>, coef: Coef, adam: &AdamStep, simd: bool) {
    #[cfg(target_arch = "x86_64")]
    {
        if simd {
            // SAFETY: `simd` is true only when the CPU has AVX2 and FMA.
            unsafe { avx2::update_row(row, coef, adam) };
            return;
        }
    }
    let _ = simd;
    portable_update_row(row, coef, adam);
}

/// The gradient coefficients of a free row, rounded to `f32`: segment `k−1` (`lo`) contributes
/// `a₀·(z−p) + b₀·(z+p)`, segment `k` (`hi`) contributes `a₁·(q−z) + b₁·(q+z)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Coef {
    a0: f32,
    b0: f32,
    a1: f32,
    b1: f32,
}

impl Coef {
    pub(crate) fn new(lo: Segment, hi: Segment) -> Self {
        Self {
            a0: lo.a as f32,
            b0: lo.b as f32,
            a1: -hi.a as f32,
            b1: hi.b as f32,
        }
    }

    /// The gradient at `z` with old neighbours `p`, `q`.
    #[inline(always)]
    pub(crate) fn grad(&self, p: f32, z: f32, q: f32) -> f32 {
        (self.a0 * (z - p) + self.b0 * (z + p)) + (self.a1 * (q - z) + self.b1 * (q + z))
    }
}

/// One element: returns the new value and updates the moments.
#[inline(always)]
fn element(coef: Coef, adam: &AdamStep, p: f32, z: f32, q: f32, m: &mut f32, v: &mut f32) -> f32 {
    adam.update(z, coef.grad(p, z, q), m, v)
}

fn portable_update_row(row: Row<'_>, coef: Coef, adam: &AdamStep) {
    let Row {
        cur,
        next,
        prev_old,
        m,
        v,
    } = row;
    let it = cur
        .iter_mut()
        .zip(next)
        .zip(prev_old.iter_mut())
        .zip(m.iter_mut())
        .zip(v.iter_mut());
    for ((((c, &q), p), mm), vv) in it {
        let z = *c;
        *c = element(coef, adam, *p, z, q, mm, vv);
        *p = z;
    }
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use nao_optim::AdamStep;

    use super::{element, Coef, Row, ScalarPrecision, SegSums, LANES};

    /// [`super::seg_sums`] compiled with AVX2 + FMA: its lane loops vectorise, and `mul_add`
    /// becomes `vfmadd`, which rounds exactly as the scalar fused multiply-add does.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn seg_sums(x: &[f32], y: &[f32], precision: ScalarPrecision) -> SegSums {
        super::seg_sums(x, y, precision)
    }

    /// [`super::portable_update_row`] with AVX2: the same operations, eight elements at a time.
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn update_row(row: Row<'_>, coef: Coef, adam: &AdamStep) {
        let Row {
            cur,
            next,
            prev_old,
            m,
            v,
        } = row;
        let dim = cur.len();
        let split = dim - dim % LANES;
        let a0 = _mm256_set1_ps(coef.a0);
        let b0 = _mm256_set1_ps(coef.b0);
        let a1 = _mm256_set1_ps(coef.a1);
        let b1 = _mm256_set1_ps(coef.b1);
        let beta1 = _mm256_set1_ps(adam.beta1);
        let omb1 = _mm256_set1_ps(adam.one_minus_beta1);
        let beta2 = _mm256_set1_ps(adam.beta2);
        let omb2 = _mm256_set1_ps(adam.one_minus_beta2);
        let ibc2 = _mm256_set1_ps(adam.inv_bias_correction2_sqrt);
        let eps = _mm256_set1_ps(adam.eps);
        let nss = _mm256_set1_ps(adam.neg_step_size);
        for i in 0..split / LANES {
            let r = i * LANES..(i + 1) * LANES;
            let c8: &mut [f32; LANES] = (&mut cur[r.clone()]).try_into().unwrap();
            let po8: &mut [f32; LANES] = (&mut prev_old[r.clone()]).try_into().unwrap();
            let m8: &mut [f32; LANES] = (&mut m[r.clone()]).try_into().unwrap();
            let v8: &mut [f32; LANES] = (&mut v[r.clone()]).try_into().unwrap();
            let q8: &[f32; LANES] = next[r].try_into().unwrap();
            let (z, q, p, mm, vv) = (load(c8), load(q8), load(po8), load(m8), load(v8));
            // The gradient, as Coef::grad.
            let lo_part = _mm256_add_ps(
                _mm256_mul_ps(a0, _mm256_sub_ps(z, p)),
                _mm256_mul_ps(b0, _mm256_add_ps(z, p)),
            );
            let hi_part = _mm256_add_ps(
                _mm256_mul_ps(a1, _mm256_sub_ps(q, z)),
                _mm256_mul_ps(b1, _mm256_add_ps(q, z)),
            );
            let g = _mm256_add_ps(lo_part, hi_part);
            // Adam, as AdamStep::update.
            let m1 = _mm256_add_ps(_mm256_mul_ps(mm, beta1), _mm256_mul_ps(g, omb1));
            let v1 = _mm256_add_ps(
                _mm256_mul_ps(vv, beta2),
                _mm256_mul_ps(_mm256_mul_ps(omb2, g), g),
            );
            let denom = _mm256_add_ps(_mm256_mul_ps(_mm256_sqrt_ps(v1), ibc2), eps);
            let zn = _mm256_add_ps(z, _mm256_div_ps(_mm256_mul_ps(nss, m1), denom));
            *m8 = store(m1);
            *v8 = store(v1);
            *po8 = store(z);
            *c8 = store(zn);
        }
        for j in split..dim {
            let z = cur[j];
            cur[j] = element(coef, adam, prev_old[j], z, next[j], &mut m[j], &mut v[j]);
            prev_old[j] = z;
        }
    }

    // Vector loads and stores through arrays (plain moves, which compile to `vmovups`): the
    // `_mm256_loadu_ps` family goes through `copy_nonoverlapping`, whose debug-build checks
    // would dominate this loop in the test profile.
    #[inline(always)]
    fn load(x: &[f32; LANES]) -> __m256 {
        // SAFETY: `[f32; 8]` and `__m256` have the same size, and any bits are valid in both.
        unsafe { std::mem::transmute::<[f32; LANES], __m256>(*x) }
    }

    #[inline(always)]
    fn store(x: __m256) -> [f32; LANES] {
        // SAFETY: as in `load`.
        unsafe { std::mem::transmute::<__m256, [f32; LANES]>(x) }
    }
}

#[cfg(test)]
mod tests {
    use nao_optim::TorchAdam;
    use nao_prior::{ChiPrior, GaussianSeeds, RngName};

    use super::*;
    use crate::reference::loss::{reference_loss_and_grad, segments_of};

    /// One row update and the sums of the new segment on random data.
    fn run(dim: usize, precision: ScalarPrecision, simd: bool) -> (Vec<Vec<f32>>, SegSums) {
        let mut g = GaussianSeeds::new(RngName::ChaCha8, dim as u64);
        let mut r: Vec<Vec<f32>> = (0..6).map(|_| g.seed(dim)).collect();
        for row in &mut r[4..] {
            for x in row.iter_mut() {
                *x = x.abs() * 0.01; // moments (v ≥ 0)
            }
        }
        let mut adam = TorchAdam::new(0.01, (0.9, 0.999), 1e-8);
        let _ = adam.begin_step();
        let step = adam.begin_step(); // step 2: non-trivial bias corrections
        let seg = |a, b| Segment {
            line: 0.0,
            penalty: 0.0,
            a,
            b,
        };
        let coef = Coef::new(seg(37.5, -1.25), seg(41.0, -0.75));
        let [cur, next, prev_old, m, v, _] = &mut r[..] else {
            unreachable!()
        };
        let row = Row {
            cur,
            next,
            prev_old,
            m,
            v,
        };
        update_row(row, coef, &step, simd);
        let sums = sums_of(&r[5], &r[0], precision, simd);
        (r, sums)
    }

    #[test]
    fn simd_and_portable_agree_bit_for_bit() {
        for dim in [1usize, 8, 13, 64, 1003] {
            for precision in [ScalarPrecision::OfficialF32, ScalarPrecision::F64] {
                let (a, sa) = run(dim, precision, false);
                let (b, sb) = run(dim, precision, simd_available());
                assert_eq!(sa, sb, "dim {dim} {precision:?}");
                for (x, y) in a.iter().zip(&b) {
                    let (x, y): (Vec<u32>, Vec<u32>) = (
                        x.iter().map(|v| v.to_bits()).collect(),
                        y.iter().map(|v| v.to_bits()).collect(),
                    );
                    assert_eq!(x, y, "dim {dim} {precision:?}");
                }
            }
        }
    }

    #[test]
    fn f32_gradient_matches_the_analytic_gradient() {
        let dim = 256;
        let prior = ChiPrior::new(dim).unwrap();
        let mut g = GaussianSeeds::new(RngName::ChaCha8, 5);
        let pts: Vec<f32> = (0..7 * dim).map(|_| g.normal() as f32).collect();
        for precision in [ScalarPrecision::OfficialF32, ScalarPrecision::F64] {
            let eps = 1.5;
            let (_, grad) = reference_loss_and_grad(&prior, &pts, dim, eps, precision).unwrap();
            let segs = segments_of(&prior, &pts, dim, eps, precision);
            for k in 1..6 {
                let coef = Coef::new(segs[k - 1], segs[k]);
                let (mut num, mut den) = (0.0f64, 0.0f64);
                for j in 0..dim {
                    let at = |r: usize| pts[r * dim + j];
                    let e = coef.grad(at(k - 1), at(k), at(k + 1)) as f64 - grad[k * dim + j];
                    num += e * e;
                    den += grad[k * dim + j] * grad[k * dim + j];
                }
                assert!((num / den).sqrt() < 1e-6, "row {k}: {}", (num / den).sqrt());
            }
        }
    }
}
