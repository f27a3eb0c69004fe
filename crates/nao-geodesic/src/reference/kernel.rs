//! The fused iteration of the reference solver: one pass over memory per Adam step.
//!
//! For every free row `zₖ`, in order `k = 1 … n−2`, and every element `j`, the pass
//! 1. forms the gradient `a₋·(zₖ−zₖ₋₁) + b₋·(zₖ+zₖ₋₁) − a₊·(zₖ₊₁−zₖ) + b₊·(zₖ₊₁+zₖ)` from the
//!    *old* neighbours (the old `zₖ₋₁` is kept in a one-row buffer, row `k−1` having been
//!    updated already), in `f32` like the official autograd (the segment scalars `a`, `b` come
//!    from `f64` reductions and are rounded once);
//! 2. applies the torch-style Adam update ([`AdamStep::update`]) in `f32`;
//! 3. accumulates the [`SegSums`] of the *new* segment `(zₖ₋₁, zₖ)`, which the next iteration's
//!    loss needs: the squares of `zₖ − zₖ₋₁` in eight `f64` lanes (lane `j mod 8`), and the
//!    midpoint term — eight `f32` fused-multiply-add lanes for
//!    [`ScalarPrecision::OfficialF32`], eight `f64` lanes of `(zₖ + zₖ₋₁)²` for
//!    [`ScalarPrecision::F64`] — exactly as [`seg_sums`] computes them.
//!
//! Rows are contiguous, so a step streams the state once (≈ 9.4 MB for `d = 16384`, which stays
//! in L3), and the lane accumulators hide the latency of the reductions behind the update.
//! Two implementations perform exactly the same IEEE operations in the same order, so they
//! give bit-identical results: explicit AVX2 + FMA code on x86-64 CPUs that have it (detected
//! at run time), and portable scalar code elsewhere.

use super::adam::AdamStep;
use super::loss::{combine, seg_sums, OfficialSq, ScalarPrecision, SegSums, Segment, LANES};

/// Everything one fused step reads and writes.
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

/// The per-row inputs of [`row_step`].
struct Row<'a> {
    cur: &'a mut [f32],
    next: &'a [f32],
    prev_new: &'a [f32],
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
            prev_new: &done[(k - 1) * dim..],
            prev_old: &mut *buf,
            m: &mut m[(k - 1) * dim..k * dim],
            v: &mut v[(k - 1) * dim..k * dim],
        };
        let coef = Coef::new(segs[k - 1], segs[k]);
        sums[k - 1] = row_step(row, coef, adam, precision, simd);
    }
    sums[n - 2] = seg_sums(&x[(n - 2) * dim..(n - 1) * dim], &x[(n - 1) * dim..], precision);
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

fn row_step(
    row: Row<'_>,
    coef: Coef,
    adam: &AdamStep,
    precision: ScalarPrecision,
    simd: bool,
) -> SegSums {
    let official = precision == ScalarPrecision::OfficialF32;
    #[cfg(target_arch = "x86_64")]
    {
        if simd {
            // SAFETY: `simd` is true only when the CPU has AVX2 and FMA.
            return unsafe {
                if official {
                    avx2::row_step::<true>(row, coef, adam)
                } else {
                    avx2::row_step::<false>(row, coef, adam)
                }
            };
        }
    }
    let _ = simd;
    if official {
        portable_row_step::<true>(row, coef, adam)
    } else {
        portable_row_step::<false>(row, coef, adam)
    }
}

/// Accumulators of one row, in the lane layout shared by both implementations.
struct Acc {
    /// `f64` lanes of `‖Δ‖²`.
    len: [f64; LANES],
    /// Tail (elements past the last full chunk of 8) of `‖Δ‖²`.
    len_tail: f64,
    /// `f64` lanes of `‖s‖²` (F64 mode).
    sum: [f64; LANES],
    /// Tail of `‖s‖²`.
    sum_tail: f64,
    /// `‖s/2‖²` as the official `f32` norm kernel sums it (official mode).
    mid: OfficialSq,
    /// `‖Δ‖²` likewise.
    len32: OfficialSq,
}

impl Acc {
    fn new() -> Self {
        Self {
            len: [0.0; LANES],
            len_tail: 0.0,
            sum: [0.0; LANES],
            sum_tail: 0.0,
            mid: OfficialSq::new(),
            len32: OfficialSq::new(),
        }
    }

    /// The same combination as [`seg_sums`].
    fn finish(&self, official: bool) -> SegSums {
        let len_sq = combine(&self.len) + self.len_tail;
        if official {
            SegSums {
                len_sq,
                mid_sq: self.mid.finish() as f64,
                len_sq32: self.len32.finish(),
            }
        } else {
            SegSums {
                len_sq,
                mid_sq: 0.25 * (combine(&self.sum) + self.sum_tail),
                len_sq32: 0.0,
            }
        }
    }
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

fn portable_row_step<const OFFICIAL: bool>(
    row: Row<'_>,
    coef: Coef,
    adam: &AdamStep,
) -> SegSums {
    let Row {
        cur,
        next,
        prev_new,
        prev_old,
        m,
        v,
    } = row;
    let dim = cur.len();
    let split = dim - dim % LANES;
    let mut acc = Acc::new();
    for j in 0..dim {
        let z = cur[j];
        let zn = element(coef, adam, prev_old[j], z, next[j], &mut m[j], &mut v[j]);
        prev_old[j] = z;
        cur[j] = zn;
        let pn = prev_new[j];
        let l = j % LANES;
        let d32 = zn - pn;
        let d = d32 as f64;
        if j < split {
            acc.len[l] += d * d;
        } else {
            acc.len_tail += d * d;
        }
        if OFFICIAL {
            acc.mid.push(pn * 0.5 + zn * 0.5);
            acc.len32.push(d32);
        } else {
            let s = (zn + pn) as f64;
            if j < split {
                acc.sum[l] += s * s;
            } else {
                acc.sum_tail += s * s;
            }
        }
    }
    acc.finish(OFFICIAL)
}

#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{element, Acc, Coef, OfficialSq, Row, SegSums, LANES};
    use crate::reference::adam::AdamStep;

    /// [`super::portable_row_step`] with AVX2 + FMA: the same operations, eight elements at a
    /// time (lanes 0–3 of the `f64` accumulators in one register, 4–7 in another).
    ///
    /// # Safety
    /// The CPU must support AVX2 and FMA.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn row_step<const OFFICIAL: bool>(
        row: Row<'_>,
        coef: Coef,
        adam: &AdamStep,
    ) -> SegSums {
        let Row {
            cur,
            next,
            prev_new,
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
        let half = _mm256_set1_ps(0.5);
        let (mut len_lo, mut len_hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let (mut sum_lo, mut sum_hi) = (_mm256_setzero_pd(), _mm256_setzero_pd());
        let mut mid_acc = _mm256_setzero_ps();
        let mut len32_acc = _mm256_setzero_ps();
        for i in 0..split / LANES {
            let r = i * LANES..(i + 1) * LANES;
            let c8: &mut [f32; LANES] = (&mut cur[r.clone()]).try_into().unwrap();
            let po8: &mut [f32; LANES] = (&mut prev_old[r.clone()]).try_into().unwrap();
            let m8: &mut [f32; LANES] = (&mut m[r.clone()]).try_into().unwrap();
            let v8: &mut [f32; LANES] = (&mut v[r.clone()]).try_into().unwrap();
            let q8: &[f32; LANES] = next[r.clone()].try_into().unwrap();
            let pn8: &[f32; LANES] = prev_new[r].try_into().unwrap();
            let (z, q, p, pn, mm, vv) = (
                load(c8),
                load(q8),
                load(po8),
                load(pn8),
                load(m8),
                load(v8),
            );
            // Gradient, as Coef::grad.
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
            // The new segment (prev_new, zn), as portable_row_step.
            let d = _mm256_sub_ps(zn, pn);
            let (d_lo, d_hi) = (lo(d), hi(d));
            len_lo = _mm256_add_pd(len_lo, _mm256_mul_pd(d_lo, d_lo));
            len_hi = _mm256_add_pd(len_hi, _mm256_mul_pd(d_hi, d_hi));
            if OFFICIAL {
                let mid = _mm256_add_ps(_mm256_mul_ps(pn, half), _mm256_mul_ps(zn, half));
                mid_acc = _mm256_fmadd_ps(mid, mid, mid_acc);
                len32_acc = _mm256_fmadd_ps(d, d, len32_acc);
            } else {
                let s = _mm256_add_ps(zn, pn);
                let (s_lo, s_hi) = (lo(s), hi(s));
                sum_lo = _mm256_add_pd(sum_lo, _mm256_mul_pd(s_lo, s_lo));
                sum_hi = _mm256_add_pd(sum_hi, _mm256_mul_pd(s_hi, s_hi));
            }
        }
        let mut acc = Acc::new();
        acc.len[..4].copy_from_slice(&store_pd(len_lo));
        acc.len[4..].copy_from_slice(&store_pd(len_hi));
        acc.sum[..4].copy_from_slice(&store_pd(sum_lo));
        acc.sum[4..].copy_from_slice(&store_pd(sum_hi));
        acc.mid = OfficialSq::from_lanes(store(mid_acc), split);
        acc.len32 = OfficialSq::from_lanes(store(len32_acc), split);
        // The tail, exactly as the portable code does it.
        for j in split..dim {
            let z = cur[j];
            let zn = element(coef, adam, prev_old[j], z, next[j], &mut m[j], &mut v[j]);
            prev_old[j] = z;
            cur[j] = zn;
            let pn = prev_new[j];
            let d32 = zn - pn;
            let d = d32 as f64;
            acc.len_tail += d * d;
            if OFFICIAL {
                acc.mid.push(pn * 0.5 + zn * 0.5);
                acc.len32.push(d32);
            } else {
                let s = (zn + pn) as f64;
                acc.sum_tail += s * s;
            }
        }
        acc.finish(OFFICIAL)
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

    #[inline(always)]
    fn store_pd(x: __m256d) -> [f64; 4] {
        // SAFETY: as in `load`.
        unsafe { std::mem::transmute::<__m256d, [f64; 4]>(x) }
    }

    /// Lanes 0–3 widened to `f64`.
    ///
    /// # Safety
    /// The CPU must support AVX.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn lo(x: __m256) -> __m256d {
        _mm256_cvtps_pd(_mm256_castps256_ps128(x))
    }

    /// Lanes 4–7 widened to `f64`.
    ///
    /// # Safety
    /// The CPU must support AVX.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn hi(x: __m256) -> __m256d {
        _mm256_cvtps_pd(_mm256_extractf128_ps::<1>(x))
    }
}

#[cfg(test)]
mod tests {
    use nao_prior::{ChiPrior, GaussianSeeds, RngName};

    use super::*;
    use crate::reference::adam::TorchAdam;
    use crate::reference::loss::segments_of;
    use crate::reference::reference_loss_and_grad;

    fn rows(dim: usize, seed: u64) -> Vec<Vec<f32>> {
        let mut g = GaussianSeeds::new(RngName::ChaCha8, seed);
        (0..6).map(|_| g.seed(dim)).collect()
    }

    /// One row step on random data; checks that the fused sums equal a separate reduction of
    /// the new rows, bit for bit.
    fn run(dim: usize, precision: ScalarPrecision, simd: bool) -> (Vec<Vec<f32>>, SegSums) {
        let mut r = rows(dim, dim as u64);
        let mut adam = TorchAdam::new(0.01, (0.9, 0.999), 1e-8);
        let _ = adam.begin_step();
        let step = adam.begin_step(); // step 2: non-trivial bias corrections
        let seg = |a, b| Segment {
            line: 0.0,
            penalty: 0.0,
            a,
            b,
        };
        for row in &mut r[4..] {
            for x in row.iter_mut() {
                *x = x.abs() * 0.01; // moments (v ≥ 0)
            }
        }
        let [cur, next, prev_new, prev_old, m, v] = &mut r[..] else {
            unreachable!()
        };
        let row = Row {
            cur,
            next,
            prev_new,
            prev_old,
            m,
            v,
        };
        let coef = Coef::new(seg(37.5, -1.25), seg(41.0, -0.75));
        let sums = row_step(row, coef, &step, precision, simd);
        assert_eq!(sums, seg_sums(&r[2], &r[0], precision));
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
                    let (p, z, q) = (pts[(k - 1) * dim + j], pts[k * dim + j], pts[(k + 1) * dim + j]);
                    let e = coef.grad(p, z, q) as f64 - grad[k * dim + j];
                    num += e * e;
                    den += grad[k * dim + j] * grad[k * dim + j];
                }
                assert!((num / den).sqrt() < 1e-6, "row {k}: {}", (num / den).sqrt());
            }
        }
    }
}
