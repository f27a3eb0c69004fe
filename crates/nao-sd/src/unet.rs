//! diffusers' `UNet2DConditionModel` as Stable Diffusion 1.x / 2.x use it: `conv_in`, the time
//! embedding, down blocks (`CrossAttnDownBlock2D`, `DownBlock2D`), `UNetMidBlock2DCrossAttn`,
//! up blocks (`CrossAttnUpBlock2D`, `UpBlock2D`) fed by the down path's skip connections, and
//! `conv_out` — every size from `unet/config.json`.
//!
//! [`Unet::load`] builds it from a `unet/` folder alone; [`Unet::forward`] predicts what the
//! model was trained to predict (the noise ε, or `v` for v-prediction models: the scheduler
//! config's `prediction_type` says which) for latents, one timestep per latent, and text
//! embeddings such as [`ClipTextModel::forward`](crate::clip::ClipTextModel::forward) gives.
//!
//! ```
//! use burn::tensor::{Distribution, Tensor};
//! use nao_sd::unet::Unet;
//! use nao_sd::SdOptions;
//!
//! // a tiny SD 2.x-style UNet: 3 blocks, latents of 4 channels, text embeddings of width 32
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sd2-v");
//! let device = nao_sd::Device::flex();
//! let unet = Unet::load(dir.join("unet"), &device, &SdOptions::default())?;
//! let c = unet.config();
//! assert_eq!((c.in_channels, c.cross_attention_dim[0], c.sample_size), (4, 32, (8, 8)));
//!
//! // two latents of 8×8 (any size works; multiples of `c.downsample()` avoid rounding)
//! let latents = Tensor::<4>::random([2, 4, 8, 8], Distribution::Normal(0.0, 1.0), &device);
//! let text = Tensor::<3>::zeros([2, 77, 32], &device);
//! let prediction = unet.forward(latents, &[999, 500], text)?;
//! assert_eq!(prediction.dims(), [2, 4, 8, 8]);
//!
//! // a timestep per latent, and text embeddings of the UNet's width
//! let latents = Tensor::<4>::zeros([1, 4, 8, 8], &device);
//! assert!(unet.forward(latents.clone(), &[1, 2], Tensor::zeros([1, 77, 32], &device)).is_err());
//! assert!(unet.forward(latents, &[1], Tensor::zeros([1, 77, 16], &device)).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, Linear};
use burn::tensor::activation::silu;
use burn::tensor::{DType, Device, Tensor};

use crate::config::{DownBlockKind, UnetConfig, UpBlockKind};
use crate::nn::{timestep_embedding, to_model};
use crate::resnet::{downsample, ResnetBlock, ResnetSpec, Upsample};
use crate::transformer::{SpatialTransformer, TransformerSpec};
use crate::weights::{load_component, Loader};
use crate::{SdError, SdOptions};

#[derive(Debug)]
struct DownBlock {
    resnets: Vec<ResnetBlock>,
    attentions: Vec<SpatialTransformer>,
    downsampler: Option<Conv2d>,
}

#[derive(Debug)]
struct UpBlock {
    resnets: Vec<ResnetBlock>,
    attentions: Vec<SpatialTransformer>,
    upsampler: Option<Upsample>,
}

/// diffusers' `UNet2DConditionModel` as Stable Diffusion 1.x / 2.x use it, with every size from
/// its `config.json` ([`UnetConfig`]): the noise (or `v`) predictor; see the
/// [module docs](self).
#[derive(Debug)]
pub struct Unet {
    config: UnetConfig,
    device: Device,
    dtype: DType,
    conv_in: Conv2d,
    time_linear_1: Linear,
    time_linear_2: Linear,
    down: Vec<DownBlock>,
    mid_resnets: Vec<ResnetBlock>,
    mid_attention: SpatialTransformer,
    up: Vec<UpBlock>,
    norm_out: GroupNorm,
    conv_out: Conv2d,
    time_proj_dim: usize,
    flip_sin_to_cos: bool,
    freq_shift: f64,
    center_input_sample: bool,
}

impl Unet {
    /// Load a UNet folder on its own: `dir` holds `config.json` and the weights
    /// (`diffusion_pytorch_model.safetensors`, or a variant such as
    /// `diffusion_pytorch_model.fp16.safetensors` chosen with [`SdOptions::variant`]), as in a
    /// diffusers folder's `unet/`.
    ///
    /// The config is checked first (its `cross_attention_dim` must be the same for every
    /// block: one text embedding feeds them all), then every tensor of the weights file
    /// against the shapes it implies (names, shapes, dtypes, nothing missing or left over),
    /// then the tensors are converted one by one to [`SdOptions::precision`] on `device`.
    pub fn load(
        dir: impl AsRef<Path>,
        device: &Device,
        options: &SdOptions,
    ) -> Result<Self, SdError> {
        let dir = dir.as_ref();
        let config = UnetConfig::from_file(&dir.join("config.json"))?;
        let dims = &config.cross_attention_dim;
        if dims.iter().any(|&d| d != dims[0]) {
            return Err(SdError::config(
                &config.path,
                format!(
                    "'cross_attention_dim' = {dims:?} differs between blocks: one text \
                     embedding conditions every block"
                ),
            ));
        }
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

    /// The config the UNet was built from.
    pub fn config(&self) -> &UnetConfig {
        &self.config
    }

    /// The model's prediction `[b, out_channels, h, w]` — the noise ε, or `v` for a
    /// v-prediction model (the scheduler's `prediction_type`; the UNet computes the same
    /// either way) — for `latents` `[b, in_channels, h, w]`, one timestep per latent, and
    /// text embeddings `text` `[b, tokens, cross_attention_dim]`.
    ///
    /// The latents are those the sampler works on: scaled VAE latents
    /// ([`Vae::scale_latents`](crate::vae::Vae::scale_latents)) with noise, as diffusers'
    /// pipelines pass them (`scheduler.scale_model_input` is the identity for DDIM). Any
    /// positive `h` and `w` work; multiples of [`UnetConfig::downsample`] avoid rounding on
    /// the way down and up. Timesteps are the scheduler's (`0..num_train_timesteps`), turned
    /// into the sinusoidal embedding in f32 as diffusers does. `text` is
    /// [`ClipTextModel::forward`](crate::clip::ClipTextModel::forward)'s output (for
    /// classifier-free guidance, the batch holds the conditional and unconditional rows; the
    /// combination is the caller's).
    ///
    /// Inputs are moved to the UNet's device and cast to its compute precision
    /// ([`SdOptions::precision`]) where they are not already; the output is in that precision.
    /// Errors ([`SdError::Shape`]) when a shape does not fit: a size 0, other channels than
    /// `in_channels`, not one timestep per latent, or text embeddings of another batch or width.
    pub fn forward(
        &self,
        latents: Tensor<4>,
        timesteps: &[i64],
        text: Tensor<3>,
    ) -> Result<Tensor<4>, SdError> {
        let c = &self.config;
        let [b, ch, h, w] = latents.dims();
        if b == 0 || h == 0 || w == 0 || ch != c.in_channels {
            return Err(SdError::Shape(format!(
                "the latents must be [batch, {}, height, width] with positive sizes, got {:?}",
                c.in_channels,
                latents.dims()
            )));
        }
        if timesteps.len() != b {
            return Err(SdError::Shape(format!(
                "{} timesteps for a batch of {b} latents",
                timesteps.len()
            )));
        }
        let cross = c.cross_attention_dim[0];
        let [tb, tokens, d] = text.dims();
        if tb != b || tokens == 0 || d != cross {
            return Err(SdError::Shape(format!(
                "the text embeddings must be [{b}, tokens, {cross}] for {b} latents, got {:?}",
                text.dims()
            )));
        }
        let latents = to_model(latents, &self.device, self.dtype);
        let text = to_model(text, &self.device, self.dtype);
        let timesteps: Vec<f32> = timesteps.iter().map(|&t| t as f32).collect();
        Ok(self.forward_unchecked(latents, &timesteps, &text))
    }

    pub(crate) fn new(c: &UnetConfig, w: &mut Loader) -> Result<Self, SdError> {
        let n = c.block_out_channels.len();
        let ch = &c.block_out_channels;
        let temb = c.time_embed_dim;
        let resnet = |c_in, c_out, output_scale| ResnetSpec {
            c_in,
            c_out,
            temb: Some(temb),
            groups: c.norm_num_groups,
            eps: c.norm_eps,
            scale_shift: c.time_scale_shift,
            output_scale,
        };
        let transformer = |channels, block: usize, layers| TransformerSpec {
            channels,
            heads: c.attention_heads[block],
            layers,
            cross_dim: c.cross_attention_dim[block],
            groups: c.norm_num_groups,
            linear_projection: c.use_linear_projection,
            upcast: c.upcast_attention,
        };

        let conv_in = w.conv2d("conv_in", c.in_channels, ch[0], c.conv_in_kernel, 1, None)?;
        let time_linear_1 = w.linear("time_embedding.linear_1", ch[0], temb, true)?;
        let time_linear_2 = w.linear("time_embedding.linear_2", temb, temb, true)?;

        let mut down = Vec::with_capacity(n);
        let mut out = ch[0];
        for (i, kind) in c.down_blocks.iter().enumerate() {
            let (c_in, c_out) = (out, ch[i]);
            out = c_out;
            let p = format!("down_blocks.{i}");
            let mut resnets = Vec::new();
            let mut attentions = Vec::new();
            for j in 0..c.layers_per_block[i] {
                let r_in = if j == 0 { c_in } else { c_out };
                resnets.push(ResnetBlock::new(
                    w,
                    &format!("{p}.resnets.{j}"),
                    resnet(r_in, c_out, 1.0),
                )?);
                if *kind == DownBlockKind::CrossAttn {
                    let s = transformer(c_out, i, c.transformer_layers_per_block[i]);
                    attentions.push(SpatialTransformer::new(
                        w,
                        &format!("{p}.attentions.{j}"),
                        s,
                    )?);
                }
            }
            let downsampler = (i + 1 < n)
                .then(|| {
                    downsample(
                        w,
                        &format!("{p}.downsamplers.0"),
                        c_out,
                        c.downsample_padding,
                    )
                })
                .transpose()?;
            down.push(DownBlock {
                resnets,
                attentions,
                downsampler,
            });
        }

        let last = ch[n - 1];
        let mid_resnets = (0..2)
            .map(|j| {
                ResnetBlock::new(
                    w,
                    &format!("mid_block.resnets.{j}"),
                    resnet(last, last, c.mid_block_scale_factor),
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mid_attention = SpatialTransformer::new(
            w,
            "mid_block.attentions.0",
            transformer(last, n - 1, c.transformer_layers_per_block[n - 1]),
        )?;

        let mut up = Vec::with_capacity(n);
        let mut out = ch[n - 1];
        for (i, kind) in c.up_blocks.iter().enumerate() {
            // block i of the up path mirrors down block n − 1 − i
            let mirror = n - 1 - i;
            let prev = out;
            out = ch[mirror];
            let skip_in = ch[mirror.saturating_sub(1)];
            let layers = c.layers_per_block[mirror] + 1;
            let p = format!("up_blocks.{i}");
            let mut resnets = Vec::new();
            let mut attentions = Vec::new();
            for j in 0..layers {
                let skip = if j + 1 == layers { skip_in } else { out };
                let r_in = if j == 0 { prev } else { out };
                resnets.push(ResnetBlock::new(
                    w,
                    &format!("{p}.resnets.{j}"),
                    resnet(r_in + skip, out, 1.0),
                )?);
                if *kind == UpBlockKind::CrossAttn {
                    let s = transformer(out, mirror, c.transformer_layers_per_block[mirror]);
                    attentions.push(SpatialTransformer::new(
                        w,
                        &format!("{p}.attentions.{j}"),
                        s,
                    )?);
                }
            }
            let upsampler = (i + 1 < n)
                .then(|| Upsample::new(w, &format!("{p}.upsamplers.0"), out))
                .transpose()?;
            up.push(UpBlock {
                resnets,
                attentions,
                upsampler,
            });
        }
        let norm_out = w.group_norm("conv_norm_out", c.norm_num_groups, ch[0], c.norm_eps)?;
        let conv_out = w.conv2d(
            "conv_out",
            ch[0],
            c.out_channels,
            c.conv_out_kernel,
            1,
            None,
        )?;
        Ok(Self {
            config: c.clone(),
            device: w.device().clone(),
            dtype: w.dtype(),
            conv_in,
            time_linear_1,
            time_linear_2,
            down,
            mid_resnets,
            mid_attention,
            up,
            norm_out,
            conv_out,
            time_proj_dim: ch[0],
            flip_sin_to_cos: c.flip_sin_to_cos,
            freq_shift: c.freq_shift,
            center_input_sample: c.center_input_sample,
        })
    }

    /// The model output for latents `[b, c, h, w]` (compute dtype), one timestep per item (as
    /// float32, which may be fractional: σ schedulers ask for such timesteps), and text
    /// embeddings `[b, tokens, cross_dim]` (compute dtype); the caller checks the shapes.
    pub(crate) fn forward_unchecked(
        &self,
        x: Tensor<4>,
        timesteps: &[f32],
        ctx: &Tensor<3>,
    ) -> Tensor<4> {
        let dtype = x.dtype();
        let device = x.device();
        let x = if self.center_input_sample {
            x.mul_scalar(2.0).sub_scalar(1.0)
        } else {
            x
        };
        // the sinusoidal features in f32, as diffusers computes them, then the model's dtype
        let t = timestep_embedding(
            timesteps,
            self.time_proj_dim,
            self.flip_sin_to_cos,
            self.freq_shift,
            &device,
        );
        let t = if dtype == DType::F32 {
            t
        } else {
            t.cast(dtype)
        };
        let temb = self
            .time_linear_2
            .forward(silu(self.time_linear_1.forward(t)));
        // every ResNet applies SiLU to the time embedding first
        let temb = silu(temb);
        let temb = Some(&temb);

        let mut x = self.conv_in.forward(x);
        let mut skips = vec![x.clone()];
        for block in &self.down {
            for (j, r) in block.resnets.iter().enumerate() {
                x = r.forward(x, temb);
                if let Some(a) = block.attentions.get(j) {
                    x = a.forward(x, ctx);
                }
                skips.push(x.clone());
            }
            if let Some(d) = &block.downsampler {
                x = d.forward(x);
                skips.push(x.clone());
            }
        }
        x = self.mid_resnets[0].forward(x, temb);
        x = self.mid_attention.forward(x, ctx);
        x = self.mid_resnets[1].forward(x, temb);
        for block in &self.up {
            for (j, r) in block.resnets.iter().enumerate() {
                // the builder sized the blocks so that the down path leaves exactly this many
                if let Some(skip) = skips.pop() {
                    x = Tensor::cat(vec![x, skip], 1);
                }
                x = r.forward(x, temb);
                if let Some(a) = block.attentions.get(j) {
                    x = a.forward(x, ctx);
                }
            }
            if let Some(u) = &block.upsampler {
                // to the size of the skip connection waiting next (×2 unless a down-sampling
                // rounded an odd size up)
                let size = skips
                    .last()
                    .map(|s| {
                        let [_, _, h, w] = s.dims();
                        (h, w)
                    })
                    .unwrap_or_else(|| {
                        let [_, _, h, w] = x.dims();
                        (2 * h, 2 * w)
                    });
                x = u.forward(x, size);
            }
        }
        self.conv_out.forward(silu(self.norm_out.forward(x)))
    }
}
