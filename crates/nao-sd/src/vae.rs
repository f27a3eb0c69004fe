//! diffusers' `AutoencoderKL`: the encoder (down blocks of ResNets, a mid block with one
//! self-attention, the posterior's mean and log-variance), `quant_conv` / `post_quant_conv`,
//! and the decoder that mirrors the encoder — every size from `vae/config.json`.
//!
//! [`Vae::load`] builds both halves from a `vae/` folder alone. [`Vae::encode`] and
//! [`Vae::decode`] work on the autoencoder's own (unscaled) latents;
//! [`Vae::scale_latents`] and [`Vae::unscale_latents`] convert to and from the scaled latents
//! the UNet and the samplers work on. From an image to the UNet and back:
//!
//! ```text
//! image [b, 3, H, W] in [−1, 1] ── encode ──▶ posterior mean [b, 4, H/8, W/8]
//!     ── scale_latents ──▶ (mean − shift_factor) × scaling_factor   (what the UNet sees)
//!     ── unscale_latents ──▶ latents / scaling_factor + shift_factor
//!     ── decode ──▶ image [b, 3, H, W], about [−1, 1], not clamped
//! ```
//!
//! ([`StableDiffusion`](crate::StableDiffusion)'s `decode_latents` then maps the image to
//! `[0, 1]`: `(x + 1) / 2`, clamped.)
//!
//! ```
//! use burn::tensor::Tensor;
//! use nao_sd::vae::Vae;
//! use nao_sd::SdOptions;
//!
//! // a tiny SD 2.x-style VAE: 3 blocks (down-sampling by 4), 4 latent channels, fp16 weights
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sd2-v");
//! let device = nao_sd::Device::flex();
//! let vae = Vae::load(dir.join("vae"), &device, &SdOptions::default())?;
//! assert_eq!((vae.downsample(), vae.config().scaling_factor), (4, 0.18215));
//!
//! // a grey gradient, in [−1, 1]
//! let image = Tensor::<1>::from_floats(
//!     std::array::from_fn::<f32, 1024, _>(|i| i as f32 / 1023.0 * 2.0 - 1.0),
//!     &device,
//! )
//! .reshape([1, 1, 32, 32])
//! .repeat_dim(1, 3);
//! let mean = vae.encode(image)?;
//! assert_eq!(mean.dims(), [1, 4, 8, 8]);
//! let latents = vae.scale_latents(mean); // what the UNet and the samplers work on
//!
//! let decoded = vae.decode(vae.unscale_latents(latents))?;
//! assert_eq!(decoded.dims(), [1, 3, 32, 32]);
//! // to [0, 1] as the pipeline does
//! let pixels = decoded.add_scalar(1.0).div_scalar(2.0).clamp(0.0, 1.0);
//! assert_eq!(pixels.dims(), [1, 3, 32, 32]);
//!
//! // image sizes must be multiples of the down-sampling
//! assert!(vae.encode(Tensor::zeros([1, 3, 30, 32], &device)).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, Linear};
use burn::tensor::activation::silu;
use burn::tensor::{DType, Device, Tensor};

use crate::config::VaeConfig;
use crate::nn::{attention, to_model, ATTENTION_CHUNK_SCORES};
use crate::resnet::{downsample, ResnetBlock, ResnetSpec, Upsample};
use crate::weights::{load_component, Loader};
use crate::{SdError, SdOptions};

/// diffusers' `AutoencoderKL` as Stable Diffusion 1.x / 2.x use it, with every size from its
/// `config.json` ([`VaeConfig`]): the encoder (images to the posterior's mean) and the
/// decoder (latents to images); see the [module docs](self).
#[derive(Debug)]
pub struct Vae {
    config: VaeConfig,
    device: Device,
    dtype: DType,
    pub(crate) encoder: VaeEncoder,
    pub(crate) decoder: VaeDecoder,
}

impl Vae {
    /// Load a VAE folder on its own: `dir` holds `config.json` and the weights
    /// (`diffusion_pytorch_model.safetensors`, or a variant such as
    /// `diffusion_pytorch_model.fp16.safetensors` chosen with [`SdOptions::variant`]), as in a
    /// diffusers folder's `vae/`.
    ///
    /// The config is checked first, then every tensor of the weights file against the shapes
    /// it implies (names — also the `query`/`key`/`value`/`proj_attn` attention names of
    /// files converted by older diffusers —, shapes, dtypes, nothing missing or left over),
    /// then the tensors are converted one by one to [`SdOptions::precision`] on `device`.
    pub fn load(
        dir: impl AsRef<Path>,
        device: &Device,
        options: &SdOptions,
    ) -> Result<Self, SdError> {
        let dir = dir.as_ref();
        let config = VaeConfig::from_file(&dir.join("config.json"))?;
        load_component(
            dir,
            &config.path,
            device,
            options,
            |_| "",
            &[],
            |w| Self::new(&config, w),
        )
    }

    /// Both halves, encoder first, from one file's loader.
    pub(crate) fn new(cfg: &VaeConfig, w: &mut Loader) -> Result<Self, SdError> {
        Ok(Self {
            config: cfg.clone(),
            device: w.device().clone(),
            dtype: w.dtype(),
            encoder: VaeEncoder::new(cfg, w)?,
            decoder: VaeDecoder::new(cfg, w)?,
        })
    }

    /// The config the VAE was built from.
    pub fn config(&self) -> &VaeConfig {
        &self.config
    }

    /// How many image pixels a latent spans on each side: `2^(blocks − 1)`, 8 for Stable
    /// Diffusion ([`VaeConfig::downsample`]).
    pub fn downsample(&self) -> usize {
        self.config.downsample()
    }

    /// The posterior's mean `[b, latent_channels, H / s, W / s]` (`s` =
    /// [`downsample`](Self::downsample)) of images `[b, in_channels, H, W]` with values in
    /// `[−1, 1]` (pixels `p` in `[0, 1]` as `2p − 1`); `H` and `W` must be multiples of `s`.
    ///
    /// The mean itself, unscaled and without sampling the posterior — diffusers'
    /// `vae.encode(x).latent_dist.mean`. The latents the UNet works on are
    /// [`scale_latents`](Self::scale_latents) of it (diffusers' pipelines also take the mean
    /// for inversion; they sample the posterior for img2img).
    ///
    /// The images are moved to the VAE's device and cast to its compute precision
    /// ([`SdOptions::precision`]) where they are not already; the output is in that precision.
    /// Errors ([`SdError::Shape`]) for a size 0, other channels than `in_channels`, or sizes
    /// that are not multiples of `s`.
    pub fn encode(&self, images: Tensor<4>) -> Result<Tensor<4>, SdError> {
        let [b, c, h, w] = images.dims();
        let s = self.downsample();
        if b == 0 || h == 0 || w == 0 || c != self.config.in_channels || h % s != 0 || w % s != 0 {
            return Err(SdError::Shape(format!(
                "the images {:?} must be [batch, {}, height, width] with positive sizes multiple \
                 of {s}",
                images.dims(),
                self.config.in_channels
            )));
        }
        Ok(self
            .encoder
            .forward(to_model(images, &self.device, self.dtype)))
    }

    /// Images `[b, out_channels, h · s, w · s]` (`s` = [`downsample`](Self::downsample)) of
    /// unscaled latents `[b, latent_channels, h, w]` — latents from the UNet's side go through
    /// [`unscale_latents`](Self::unscale_latents) first.
    ///
    /// The decoder's output as it is (diffusers' `vae.decode(z).sample`): about `[−1, 1]`, not
    /// clamped; `(x + 1) / 2` clamped to `[0, 1]` gives pixels, as
    /// [`StableDiffusion`](crate::StableDiffusion)'s `decode_latents` does.
    ///
    /// The latents are moved to the VAE's device and cast to its compute precision
    /// ([`SdOptions::precision`]) where they are not already; the output is in that precision.
    /// Errors ([`SdError::Shape`]) for a size 0 or other channels than `latent_channels`.
    pub fn decode(&self, latents: Tensor<4>) -> Result<Tensor<4>, SdError> {
        let [b, c, h, w] = latents.dims();
        if b == 0 || h == 0 || w == 0 || c != self.config.latent_channels {
            return Err(SdError::Shape(format!(
                "the latents {:?} must be [batch, {}, height, width] with positive sizes",
                latents.dims(),
                self.config.latent_channels
            )));
        }
        Ok(self
            .decoder
            .forward(to_model(latents, &self.device, self.dtype)))
    }

    /// The latents the UNet works on, of a posterior mean from [`encode`](Self::encode):
    /// `(mean − shift_factor) × scaling_factor` (`× 0.18215` for Stable Diffusion 1.x / 2.x,
    /// whose shift is 0), computed in the tensor's own precision on its device.
    ///
    /// [`StableDiffusion`](crate::StableDiffusion) computes the same on the host in f64, so
    /// the two can differ in the last bit.
    pub fn scale_latents(&self, mean: Tensor<4>) -> Tensor<4> {
        let shifted = if self.config.shift_factor == 0.0 {
            mean
        } else {
            mean.sub_scalar(self.config.shift_factor)
        };
        shifted.mul_scalar(self.config.scaling_factor)
    }

    /// The inverse of [`scale_latents`](Self::scale_latents), what [`decode`](Self::decode)
    /// takes: `latents / scaling_factor + shift_factor`, computed in the tensor's own
    /// precision on its device (in f64 on the host in
    /// [`StableDiffusion`](crate::StableDiffusion)).
    pub fn unscale_latents(&self, latents: Tensor<4>) -> Tensor<4> {
        let unscaled = latents.div_scalar(self.config.scaling_factor);
        if self.config.shift_factor == 0.0 {
            unscaled
        } else {
            unscaled.add_scalar(self.config.shift_factor)
        }
    }
}

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
    fn new(cfg: &VaeConfig, w: &mut Loader) -> Result<Self, SdError> {
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
    fn new(cfg: &VaeConfig, w: &mut Loader) -> Result<Self, SdError> {
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
