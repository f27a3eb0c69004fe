//! Building blocks shared by the networks: attention (burn's fused attention operation, by
//! bounded blocks of query rows), nearest up-sampling to a size, the sinusoidal timestep
//! embedding, moving inputs to a network's device and dtype.

use burn::tensor::module::attention as fused_attention;
use burn::tensor::ops::AttentionModuleOptions;
use burn::tensor::{DType, Device, Int, Tensor, TensorData};

/// `x` on `device` in `dtype`: moved and cast only where it is not already.
pub(crate) fn to_model<const D: usize>(x: Tensor<D>, device: &Device, dtype: DType) -> Tensor<D> {
    let x = if x.device() == *device {
        x
    } else {
        x.to_device(device)
    };
    if x.dtype() == dtype {
        x
    } else {
        x.cast(dtype)
    }
}

/// Most attention scores a block of query rows may span (rows × keys × batch × heads): 2²⁴
/// scores are 64 MiB in f32. burn's CPU backend (flex) and its GPU backends (cubecl's flash
/// kernels) never hold them all — they tile the keys — but a device whose kernel falls back to
/// materialising the scores holds at most this many at once: at 512×512 with guidance (batch
/// 2, 4096 tokens, 8 heads) the full score tensor would be 1 GiB per layer.
pub(crate) const ATTENTION_CHUNK_SCORES: usize = 1 << 24;

/// Multi-head scaled dot-product attention, `softmax(q·kᵀ/√d)·v` per head.
///
/// `q` is `[b, n, heads·d]`, `k` and `v` are `[b, m, heads·d]`; the result is `[b, n, heads·d]`.
/// Runs burn's fused attention operation (flash attention on flex and on cubecl's devices,
/// PyTorch's `scaled_dot_product_attention` on tch) on blocks of query rows spanning at most
/// `chunk_scores` scores. `upcast` computes in f32 whatever the compute dtype (diffusers'
/// `upcast_attention`; the fused kernels accumulate the softmax in f32 anyway). `causal`
/// masks every key after its query (CLIP's text encoder; its 77 tokens are one block).
pub(crate) fn attention(
    q: Tensor<3>,
    k: Tensor<3>,
    v: Tensor<3>,
    heads: usize,
    causal: bool,
    upcast: bool,
    chunk_scores: usize,
) -> Tensor<3> {
    let [b, n, inner] = q.dims();
    let m = k.dims()[1];
    let d = inner / heads;
    let dtype = q.dtype();
    let compute = if upcast { DType::F32 } else { dtype };
    let split = |x: Tensor<3>, len: usize| {
        let x = x.reshape([b, len, heads, d]).swap_dims(1, 2);
        if compute == dtype {
            x
        } else {
            x.cast(compute)
        }
    };
    let (q, k, v) = (split(q, n), split(k, m), split(v, m));
    let options = AttentionModuleOptions {
        is_causal: causal,
        ..Default::default()
    };
    // a causal mask is aligned to the whole query range: causal inputs are never split
    let rows = if causal {
        n
    } else {
        rows_per_block(b * heads, m, chunk_scores)
    };
    let unfused: Option<usize> = std::env::var("NAO_SD_ATTN")
        .ok()
        .and_then(|s| s.parse().ok());
    let out = if let (Some(budget), false) = (unfused, causal) {
        let rows = rows_per_block(b * heads, m, budget);
        let scale = 1.0 / (d as f64).sqrt();
        let kt = k.swap_dims(2, 3);
        let blocks = (0..n)
            .step_by(rows)
            .map(|r| {
                let q = q.clone().narrow(2, r, rows.min(n - r));
                let s = q.matmul(kt.clone()).mul_scalar(scale);
                burn::tensor::activation::softmax(s, 3).matmul(v.clone())
            })
            .collect();
        Tensor::cat(blocks, 2)
    } else if rows >= n {
        fused_attention(q, k, v, None, None, options)
    } else {
        let blocks = (0..n)
            .step_by(rows)
            .map(|r| {
                let q = q.clone().narrow(2, r, rows.min(n - r));
                fused_attention(q, k.clone(), v.clone(), None, None, options)
            })
            .collect();
        Tensor::cat(blocks, 2)
    };
    let out = if compute == dtype {
        out
    } else {
        out.cast(dtype)
    };
    out.swap_dims(1, 2).reshape([b, n, inner])
}

/// Query rows per block so that a block spans at most `budget` scores over `slices` (batch ×
/// heads) and `m` keys; one row at least.
fn rows_per_block(slices: usize, m: usize, budget: usize) -> usize {
    (budget / (slices * m).max(1)).max(1)
}

/// `true` where key `j` comes after query `i` (the reference the tests compare with).
#[cfg(test)]
fn causal_mask(n: usize, m: usize, device: &Device) -> Tensor<2, burn::tensor::Bool> {
    let rows = Tensor::<1, Int>::arange(0..n as i64, device).reshape([n, 1]);
    let cols = Tensor::<1, Int>::arange(0..m as i64, device).reshape([1, m]);
    cols.expand([n, m]).greater(rows.expand([n, m]))
}

/// Nearest-neighbour up-sampling of `[b, c, h, w]` to `[b, c, out_h, out_w]` as PyTorch's
/// `interpolate(mode="nearest")` does: source index `floor(i · in / out)`.
pub(crate) fn upsample_nearest(x: Tensor<4>, out_h: usize, out_w: usize) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    if out_h == 2 * h && out_w == 2 * w {
        return x
            .reshape([b, c, h, 1, w, 1])
            .expand([b, c, h, 2, w, 2])
            .reshape([b, c, out_h, out_w]);
    }
    let device = x.device();
    let index = |out: usize, inp: usize| {
        // PyTorch computes the scale in f32: in / out, then floor(i · scale)
        let scale = inp as f32 / out as f32;
        let idx: Vec<i64> = (0..out)
            .map(|i| ((i as f32 * scale).floor() as usize).min(inp - 1) as i64)
            .collect();
        Tensor::<1, Int>::from_data(TensorData::new(idx, [out]), &device)
    };
    x.select(2, index(out_h, h)).select(3, index(out_w, w))
}

/// The sinusoidal timestep embedding of diffusers' `get_timestep_embedding`, `[b, dim]`, in
/// f32 with PyTorch's order of operations: frequencies `exp(−ln(10⁴)·i / (dim/2 − shift))`,
/// arguments `t · f`, then `[sin, cos]` (`[cos, sin]` when flipped), zero-padded to an odd `dim`.
/// Timesteps are float32, as diffusers' `timesteps.float()` makes them (integer or not).
pub(crate) fn timestep_embedding(
    timesteps: &[f32],
    dim: usize,
    flip_sin_to_cos: bool,
    freq_shift: f64,
    device: &Device,
) -> Tensor<2> {
    let half = dim / 2;
    let denom = (half as f64 - freq_shift) as f32;
    let log_period = -(10000f64.ln()) as f32;
    let freqs: Vec<f32> = (0..half)
        .map(|i| ((log_period * i as f32) / denom).exp())
        .collect();
    let mut data = Vec::with_capacity(timesteps.len() * dim);
    for &t in timesteps {
        let args: Vec<f32> = freqs.iter().map(|f| t * f).collect();
        let sin = args.iter().map(|a| a.sin());
        let cos = args.iter().map(|a| a.cos());
        if flip_sin_to_cos {
            data.extend(cos.chain(sin));
        } else {
            data.extend(sin.chain(cos));
        }
        if dim % 2 == 1 {
            data.push(0.0);
        }
    }
    Tensor::from_data(
        TensorData::new(data, [timesteps.len(), dim]),
        (device, DType::F32),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Attention computed term by term: scores, mask, softmax, weighted sum.
    fn naive(q: &Tensor<3>, k: &Tensor<3>, v: &Tensor<3>, heads: usize, causal: bool) -> Tensor<3> {
        let [b, n, inner] = q.dims();
        let m = k.dims()[1];
        let d = inner / heads;
        let split = |x: &Tensor<3>, len: usize| {
            x.clone()
                .reshape([b, len, heads, d])
                .swap_dims(1, 2)
                .reshape([b * heads, len, d])
        };
        let mut scores = split(q, n)
            .matmul(split(k, m).swap_dims(1, 2))
            .div_scalar((d as f64).sqrt());
        if causal {
            let mask = causal_mask(n, m, &q.device());
            scores = scores.mask_fill(
                mask.unsqueeze_dim::<3>(0).expand([b * heads, n, m]),
                f32::NEG_INFINITY,
            );
        }
        burn::tensor::activation::softmax(scores, 2)
            .matmul(split(v, m))
            .reshape([b, heads, n, d])
            .swap_dims(1, 2)
            .reshape([b, n, inner])
    }

    fn max_diff(a: Tensor<3>, b: Tensor<3>) -> f32 {
        (a - b).abs().max().into_scalar::<f32>()
    }

    #[test]
    fn blocked_attention_equals_the_naive_one() {
        let device = Device::default();
        let x = |n| Tensor::<3>::random([2, n, 12], burn::tensor::Distribution::Default, &device);
        let (q, k, v) = (x(7), x(9), x(9));
        let whole = naive(&q, &k, &v, 3, false);
        // 1 score: one query row per block; 2·3·9 = 54 scores a row: 1, 2 and 7 rows
        for budget in [1, 54, 108, 400, usize::MAX] {
            let got = attention(q.clone(), k.clone(), v.clone(), 3, false, false, budget);
            let diff = max_diff(got, whole.clone());
            assert!(diff < 1e-6, "budget {budget}: {diff}");
        }
        let upcast = attention(q.clone(), k.clone(), v.clone(), 3, false, true, 54);
        assert!(max_diff(upcast, whole) < 1e-6);
        // causal (square), whatever the budget: never split
        let (q, k, v) = (x(7), x(7), x(7));
        let whole = naive(&q, &k, &v, 3, true);
        for budget in [1, usize::MAX] {
            let got = attention(q.clone(), k.clone(), v.clone(), 3, true, false, budget);
            let diff = max_diff(got, whole.clone());
            assert!(diff < 1e-6, "causal, budget {budget}: {diff}");
        }
        // the causal first row attends to key 0 only
        let c = attention(q, k, v.clone(), 1, true, false, usize::MAX);
        let first = c.narrow(1, 0, 1).reshape([2, 12]);
        let v0 = v.narrow(1, 0, 1).reshape([2, 12]);
        assert!((first - v0).abs().max().into_scalar::<f32>() < 1e-6);
    }

    #[test]
    fn blocks_stay_within_the_budget() {
        // SD at 512×512 with guidance: batch 2 × 8 heads, 4096 tokens; and cross-attention
        assert_eq!(rows_per_block(16, 4096, ATTENTION_CHUNK_SCORES), 256);
        assert_eq!(rows_per_block(16, 77, ATTENTION_CHUNK_SCORES), 13_617);
        assert_eq!(rows_per_block(10, 9216, ATTENTION_CHUNK_SCORES), 182);
        assert_eq!(rows_per_block(3, 7, 1), 1);
        for (slices, m) in [(16, 4096), (16, 77), (10, 9216), (1, 1 << 26)] {
            let rows = rows_per_block(slices, m, ATTENTION_CHUNK_SCORES);
            assert!(rows * slices * m <= ATTENTION_CHUNK_SCORES.max(slices * m));
        }
    }

    /// Peak memory of one attention layer of SD at 512×512 with guidance (batch 2, 4096
    /// tokens, 8 heads of 40): the whole score tensor would be 1 GiB (and softmax's
    /// temporaries as much again); the process grows by a fraction of that.
    #[cfg(target_os = "linux")]
    #[test]
    fn attention_at_512px_stays_small() {
        fn peak_kib() -> u64 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
            line.split_whitespace().nth(1).unwrap().parse().unwrap()
        }
        let device = Device::default();
        let x =
            || Tensor::<3>::random([2, 4096, 320], burn::tensor::Distribution::Default, &device);
        let (q, k, v) = (x(), x(), x());
        // the high-water mark starts again from the current size ("5": reset peak RSS)
        std::fs::write("/proc/self/clear_refs", "5")
            .expect("resetting the peak RSS through /proc/self/clear_refs");
        let before = peak_kib();
        let out = attention(q, k, v, 8, false, false, ATTENTION_CHUNK_SCORES);
        assert_eq!(out.dims(), [2, 4096, 320]);
        let grown_mib = (peak_kib() - before) / 1024;
        eprintln!("attention [2, 4096, 320] × 8 heads: peak grew by {grown_mib} MiB");
        assert!(grown_mib < 128, "peak grew by {grown_mib} MiB");
    }

    #[test]
    fn nearest_upsampling_follows_pytorch() {
        let device = Device::default();
        let x = Tensor::<1, Int>::arange(0..6, &device)
            .float()
            .reshape([1, 1, 2, 3]);
        let up = upsample_nearest(x.clone(), 4, 6)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(up[..6], [0., 0., 1., 1., 2., 2.]);
        // 2 → 3 rows and 3 → 5 columns: floor(i·2/3) = 0,0,1 and floor(i·3/5) = 0,0,1,1,2
        let odd = upsample_nearest(x, 3, 5)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(
            odd,
            [0., 0., 1., 1., 2., 0., 0., 1., 1., 2., 3., 3., 4., 4., 5.]
        );
    }

    #[test]
    fn timestep_embedding_layout() {
        let device = Device::default();
        let e = timestep_embedding(&[0.0, 10.0], 5, true, 1.0, &device);
        let v = e.into_data().try_to_vec::<f32>().unwrap();
        // t = 0: cos 0 = 1, sin 0 = 0, padded
        assert_eq!(v[..5], [1.0, 1.0, 0.0, 0.0, 0.0]);
        // t = 10, half 2, shift 1: frequencies 1 and exp(−ln 10⁴) = 1e-4
        assert!((v[5] - 10f32.cos()).abs() < 1e-6 && (v[7] - 10f32.sin()).abs() < 1e-6);
        assert!((v[8] - (10.0f32 * 1e-4).sin()).abs() < 1e-6);
    }
}
