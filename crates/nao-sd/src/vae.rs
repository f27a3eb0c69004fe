//! diffusers' `AutoencoderKL`: the encoder (down blocks of ResNets, a mid block with one
//! self-attention, the posterior's mean and log-variance), `quant_conv` / `post_quant_conv`,
//! and the decoder that mirrors the encoder — every size from `vae/config.json`.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, Linear};
use burn::tensor::activation::silu;
use burn::tensor::Tensor;

use crate::config::VaeConfig;
use crate::nn::{attention, ATTENTION_CHUNK_SCORES};
use crate::resnet::{downsample, ResnetBlock, ResnetSpec, Upsample};
use crate::weights::Loader;
use crate::SdError;

/// ε of every group norm of the VAE.
const EPS: f64 = 1e-6;

/// Single-head self-attention over the pixels, with a residual.
#[derive(Debug)]
struct PixelAttention {
    norm: GroupNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
}

impl PixelAttention {
    fn new(w: &mut Loader, p: &str, c: usize, groups: usize) -> Result<Self, SdError> {
        // files converted by older diffusers name the projections query/key/value/proj_attn
        let legacy = !w.has(&format!("{p}.to_q.weight")) && w.has(&format!("{p}.query.weight"));
        let [q, k, v, o] = if legacy {
            ["query", "key", "value", "proj_attn"]
        } else {
            ["to_q", "to_k", "to_v", "to_out.0"]
        };
        Ok(Self {
            norm: w.group_norm(&format!("{p}.group_norm"), groups, c, EPS)?,
            q: w.linear(&format!("{p}.{q}"), c, c, true)?,
            k: w.linear(&format!("{p}.{k}"), c, c, true)?,
            v: w.linear(&format!("{p}.{v}"), c, c, true)?,
            out: w.linear(&format!("{p}.{o}"), c, c, true)?,
        })
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let y = self
            .norm
            .forward(x.clone())
            .reshape([b, c, h * w])
            .swap_dims(1, 2);
        let a = attention(
            self.q.forward(y.clone()),
            self.k.forward(y.clone()),
            self.v.forward(y),
            1,
            false,
            true,
            ATTENTION_CHUNK_SCORES,
        );
        let y = self.out.forward(a).swap_dims(1, 2).reshape([b, c, h, w]);
        y + x
    }
}

/// ResNet, attention (optional), ResNet.
#[derive(Debug)]
struct MidBlock {
    resnet0: ResnetBlock,
    attention: Option<PixelAttention>,
    resnet1: ResnetBlock,
}

impl MidBlock {
    fn new(w: &mut Loader, p: &str, c: usize, cfg: &VaeConfig) -> Result<Self, SdError> {
        let spec = resnet(c, c, cfg);
        Ok(Self {
            resnet0: ResnetBlock::new(w, &format!("{p}.resnets.0"), spec)?,
            attention: cfg
                .mid_block_add_attention
                .then(|| {
                    PixelAttention::new(w, &format!("{p}.attentions.0"), c, cfg.norm_num_groups)
                })
                .transpose()?,
            resnet1: ResnetBlock::new(w, &format!("{p}.resnets.1"), spec)?,
        })
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.resnet0.forward(x, None);
        let x = match &self.attention {
            Some(a) => a.forward(x),
            None => x,
        };
        self.resnet1.forward(x, None)
    }
}

fn resnet(c_in: usize, c_out: usize, cfg: &VaeConfig) -> ResnetSpec {
    ResnetSpec {
        c_in,
        c_out,
        temb: None,
        groups: cfg.norm_num_groups,
        eps: EPS,
        scale_shift: false,
        output_scale: 1.0,
    }
}

#[derive(Debug)]
struct EncoderBlock {
    resnets: Vec<ResnetBlock>,
    downsampler: Option<Conv2d>,
}

#[derive(Debug)]
struct DecoderBlock {
    resnets: Vec<ResnetBlock>,
    upsampler: Option<Upsample>,
}

/// The encoder half: images → posterior mean (unscaled).
#[derive(Debug)]
pub(crate) struct VaeEncoder {
    conv_in: Conv2d,
    blocks: Vec<EncoderBlock>,
    mid: MidBlock,
    norm_out: GroupNorm,
    conv_out: Conv2d,
    quant_conv: Option<Conv2d>,
    latent_channels: usize,
}

impl VaeEncoder {
    pub fn new(cfg: &VaeConfig, w: &mut Loader) -> Result<Self, SdError> {
        let ch = &cfg.block_out_channels;
        let n = ch.len();
        let l2 = 2 * cfg.latent_channels;
        let conv_in = w.conv2d("encoder.conv_in", cfg.in_channels, ch[0], 3, 1, None)?;
        let mut blocks = Vec::with_capacity(n);
        let mut out = ch[0];
        for i in 0..n {
            let (c_in, c_out) = (out, ch[i]);
            out = c_out;
            let p = format!("encoder.down_blocks.{i}");
            let resnets = (0..cfg.layers_per_block)
                .map(|j| {
                    let r_in = if j == 0 { c_in } else { c_out };
                    ResnetBlock::new(w, &format!("{p}.resnets.{j}"), resnet(r_in, c_out, cfg))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let downsampler = (i + 1 < n)
                .then(|| downsample(w, &format!("{p}.downsamplers.0"), c_out, 0))
                .transpose()?;
            blocks.push(EncoderBlock {
                resnets,
                downsampler,
            });
        }
        Ok(Self {
            conv_in,
            blocks,
            mid: MidBlock::new(w, "encoder.mid_block", ch[n - 1], cfg)?,
            norm_out: w.group_norm("encoder.conv_norm_out", cfg.norm_num_groups, ch[n - 1], EPS)?,
            conv_out: w.conv2d("encoder.conv_out", ch[n - 1], l2, 3, 1, None)?,
            quant_conv: cfg
                .use_quant_conv
                .then(|| w.conv2d("quant_conv", l2, l2, 1, 1, None))
                .transpose()?,
            latent_channels: cfg.latent_channels,
        })
    }

    /// The posterior mean `[b, latent, h/down, w/down]` of images `[b, in, h, w]` in `[−1, 1]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let mut x = self.conv_in.forward(x);
        for b in &self.blocks {
            for r in &b.resnets {
                x = r.forward(x, None);
            }
            if let Some(d) = &b.downsampler {
                x = d.forward(x);
            }
        }
        let x = self.mid.forward(x);
        let x = self.conv_out.forward(silu(self.norm_out.forward(x)));
        let x = match &self.quant_conv {
            Some(q) => q.forward(x),
            None => x,
        };
        x.narrow(1, 0, self.latent_channels)
    }
}

/// The decoder half: unscaled latents → images (about `[−1, 1]`).
#[derive(Debug)]
pub(crate) struct VaeDecoder {
    post_quant_conv: Option<Conv2d>,
    conv_in: Conv2d,
    mid: MidBlock,
    blocks: Vec<DecoderBlock>,
    norm_out: GroupNorm,
    conv_out: Conv2d,
}

impl VaeDecoder {
    pub fn new(cfg: &VaeConfig, w: &mut Loader) -> Result<Self, SdError> {
        let ch = &cfg.block_out_channels;
        let n = ch.len();
        let l = cfg.latent_channels;
        let post_quant_conv = cfg
            .use_post_quant_conv
            .then(|| w.conv2d("post_quant_conv", l, l, 1, 1, None))
            .transpose()?;
        let conv_in = w.conv2d("decoder.conv_in", l, ch[n - 1], 3, 1, None)?;
        let mid = MidBlock::new(w, "decoder.mid_block", ch[n - 1], cfg)?;
        let mut blocks = Vec::with_capacity(n);
        let mut out = ch[n - 1];
        for i in 0..n {
            let (c_in, c_out) = (out, ch[n - 1 - i]);
            out = c_out;
            let p = format!("decoder.up_blocks.{i}");
            let resnets = (0..=cfg.layers_per_block)
                .map(|j| {
                    let r_in = if j == 0 { c_in } else { c_out };
                    ResnetBlock::new(w, &format!("{p}.resnets.{j}"), resnet(r_in, c_out, cfg))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let upsampler = (i + 1 < n)
                .then(|| Upsample::new(w, &format!("{p}.upsamplers.0"), c_out))
                .transpose()?;
            blocks.push(DecoderBlock { resnets, upsampler });
        }
        Ok(Self {
            post_quant_conv,
            conv_in,
            mid,
            blocks,
            norm_out: w.group_norm("decoder.conv_norm_out", cfg.norm_num_groups, ch[0], EPS)?,
            conv_out: w.conv2d("decoder.conv_out", ch[0], cfg.out_channels, 3, 1, None)?,
        })
    }

    /// Images `[b, out, h·down, w·down]` of unscaled latents `[b, latent, h, w]`.
    pub fn forward(&self, z: Tensor<4>) -> Tensor<4> {
        let z = match &self.post_quant_conv {
            Some(p) => p.forward(z),
            None => z,
        };
        let mut x = self.mid.forward(self.conv_in.forward(z));
        for b in &self.blocks {
            for r in &b.resnets {
                x = r.forward(x, None);
            }
            if let Some(u) = &b.upsampler {
                let [_, _, h, w] = x.dims();
                x = u.forward(x, (2 * h, 2 * w));
            }
        }
        self.conv_out.forward(silu(self.norm_out.forward(x)))
    }
}
