//! Building blocks shared by the networks: attention computed in bounded chunks, nearest
//! up-sampling to a size, the sinusoidal timestep embedding.

use burn::tensor::activation::softmax;
use burn::tensor::{Bool, DType, Device, Int, Tensor, TensorData};

/// Most attention scores materialised at once (query rows × keys, over all heads in the
/// chunk): 2²⁴ scores are 64 MiB in f32. At 512×512 with guidance (batch 2, 4096 tokens, 8
/// heads) the full score tensor would be 1 GiB per layer; chunks keep the peak small.
pub(crate) const ATTENTION_CHUNK_SCORES: usize = 1 << 24;

/// Multi-head scaled dot-product attention.
///
/// `q` is `[b, n, heads·d]`, `k` and `v` are `[b, m, heads·d]`; the result is `[b, n, heads·d]`.
/// Scores are computed for a chunk of (head, query) rows at a time, so that at most
/// `chunk_scores` of them exist at once. Softmax runs in f32 whatever the compute dtype;
/// `upcast` also computes the scores in f32 (diffusers' `upcast_attention`). `causal` masks
/// every key after its query (CLIP's text encoder).
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
    let scale = 1.0 / (d as f64).sqrt();
    let split = |x: Tensor<3>, len: usize| {
        x.reshape([b, len, heads, d])
            .swap_dims(1, 2)
            .reshape([b * heads, len, d])
    };
    let (q, kt, v) = (split(q, n), split(k, m).swap_dims(1, 2), split(v, m));
    let (q, kt) = if upcast && dtype != DType::F32 {
        (q.cast(DType::F32), kt.cast(DType::F32))
    } else {
        (q, kt)
    };
    let device = v.device();
    let mask = causal.then(|| causal_mask(n, m, &device));
    let slices = b * heads;
    let chunks = chunk_plan(slices, n, m, chunk_scores);
    let mut parts = Vec::with_capacity(chunks.len());
    for (s, sl, r, rl) in chunks {
        let qc = q.clone().narrow(0, s, sl).narrow(1, r, rl);
        let kc = kt.clone().narrow(0, s, sl);
        let mut scores = qc.matmul(kc).mul_scalar(scale);
        if scores.dtype() != DType::F32 {
            scores = scores.cast(DType::F32);
        }
        if let Some(mask) = &mask {
            let rows: Tensor<2, Bool> = mask.clone().narrow(0, r, rl);
            scores = scores.mask_fill(
                rows.unsqueeze_dim::<3>(0).expand([sl, rl, m]),
                f32::NEG_INFINITY,
            );
        }
        let probs = softmax(scores, 2).cast(dtype);
        parts.push((s, r, probs.matmul(v.clone().narrow(0, s, sl))));
    }
    let out = if parts.len() == 1 {
        parts
            .pop()
            .map(|(_, _, t)| t)
            .unwrap_or_else(|| Tensor::zeros([slices, n, d], (&device, dtype)))
    } else if parts.iter().all(|(_, r, _)| *r == 0) {
        Tensor::cat(parts.into_iter().map(|(_, _, t)| t).collect(), 0)
    } else {
        // query chunks of one slice after another: join rows, then slices
        let mut slices_out = Vec::with_capacity(slices);
        let mut current = Vec::new();
        let mut current_slice = 0;
        for (s, _, t) in parts {
            if s != current_slice && !current.is_empty() {
                slices_out.push(Tensor::cat(std::mem::take(&mut current), 1));
            }
            current_slice = s;
            current.push(t);
        }
        slices_out.push(Tensor::cat(current, 1));
        Tensor::cat(slices_out, 0)
    };
    out.reshape([b, heads, n, d])
        .swap_dims(1, 2)
        .reshape([b, n, inner])
}

/// The chunks `(first slice, slices, first query row, rows)` that cover `slices` (batch × heads)
/// of `n` query rows against `m` keys with at most `budget` scores each (one row at least):
/// whole slices grouped while they fit, else row blocks of one slice.
fn chunk_plan(
    slices: usize,
    n: usize,
    m: usize,
    budget: usize,
) -> Vec<(usize, usize, usize, usize)> {
    let rows_per_chunk = (budget / m.max(1)).max(1);
    let mut chunks = Vec::new();
    if n <= rows_per_chunk {
        let per = (rows_per_chunk / n.max(1)).max(1);
        let mut s = 0;
        while s < slices {
            let len = per.min(slices - s);
            chunks.push((s, len, 0, n));
            s += len;
        }
    } else {
        for s in 0..slices {
            let mut r = 0;
            while r < n {
                let len = rows_per_chunk.min(n - r);
                chunks.push((s, 1, r, len));
                r += len;
            }
        }
    }
    chunks
}

/// `true` where key `j` comes after query `i`.
fn causal_mask(n: usize, m: usize, device: &Device) -> Tensor<2, Bool> {
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
pub(crate) fn timestep_embedding(
    timesteps: &[i64],
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
        let args: Vec<f32> = freqs.iter().map(|f| t as f32 * f).collect();
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

    fn naive(q: &Tensor<3>, k: &Tensor<3>, v: &Tensor<3>, heads: usize, causal: bool) -> Tensor<3> {
        attention(
            q.clone(),
            k.clone(),
            v.clone(),
            heads,
            causal,
            false,
            usize::MAX,
        )
    }

    #[test]
    fn chunked_attention_equals_the_whole() {
        let device = Device::default();
        let q = Tensor::<3>::random([2, 7, 12], burn::tensor::Distribution::Default, &device);
        let k = Tensor::<3>::random([2, 7, 12], burn::tensor::Distribution::Default, &device);
        let v = Tensor::<3>::random([2, 7, 12], burn::tensor::Distribution::Default, &device);
        for causal in [false, true] {
            let whole = naive(&q, &k, &v, 3, causal);
            // 1 score: every (slice, row) alone; 7·7 = one slice per chunk; 3·7 = row chunks
            for budget in [1, 7, 21, 49, 100] {
                let c = attention(q.clone(), k.clone(), v.clone(), 3, causal, false, budget);
                let diff = (c - whole.clone()).abs().max().into_scalar::<f32>();
                assert!(diff < 1e-6, "budget {budget}, causal {causal}: {diff}");
            }
        }
        // the causal first row attends to key 0 only
        let c = naive(&q, &k, &v, 1, true);
        let first = c.narrow(1, 0, 1).reshape([2, 12]);
        let v0 = v.narrow(1, 0, 1).reshape([2, 12]);
        assert!((first - v0).abs().max().into_scalar::<f32>() < 1e-6);
    }

    #[test]
    fn chunks_tile_the_scores_within_the_budget() {
        // SD at 512×512 with guidance: batch 2 × 8 heads, 4096 tokens; and cross-attention
        for (slices, n, m) in [
            (16, 4096, 4096),
            (16, 4096, 77),
            (10, 9216, 9216),
            (3, 5, 7),
        ] {
            let plan = chunk_plan(slices, n, m, ATTENTION_CHUNK_SCORES);
            let mut covered = vec![0usize; slices];
            for &(s, sl, r, rl) in &plan {
                assert!(sl * rl * m <= ATTENTION_CHUNK_SCORES.max(m));
                for c in &mut covered[s..s + sl] {
                    assert_eq!(*c, r, "rows in order");
                    *c += rl;
                }
            }
            assert!(covered.iter().all(|&c| c == n), "{slices} {n} {m}");
        }
        assert_eq!(chunk_plan(16, 4096, 4096, ATTENTION_CHUNK_SCORES).len(), 16);
        assert_eq!(chunk_plan(16, 4096, 77, ATTENTION_CHUNK_SCORES).len(), 1);
    }

    /// Peak memory of one attention layer of SD at 512×512 with guidance (batch 2, 4096
    /// tokens, 8 heads of 40): the whole score tensor would be 1 GiB (and softmax's
    /// temporaries as much again); in chunks the process grows by a fraction of that.
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
        assert!(grown_mib < 512, "peak grew by {grown_mib} MiB");
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
        let e = timestep_embedding(&[0, 10], 5, true, 1.0, &device);
        let v = e.into_data().try_to_vec::<f32>().unwrap();
        // t = 0: cos 0 = 1, sin 0 = 0, padded
        assert_eq!(v[..5], [1.0, 1.0, 0.0, 0.0, 0.0]);
        // t = 10, half 2, shift 1: frequencies 1 and exp(−ln 10⁴) = 1e-4
        assert!((v[5] - 10f32.cos()).abs() < 1e-6 && (v[7] - 10f32.sin()).abs() < 1e-6);
        assert!((v[8] - (10.0f32 * 1e-4).sin()).abs() < 1e-6);
    }
}
