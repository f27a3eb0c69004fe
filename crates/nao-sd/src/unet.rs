//! diffusers' `UNet2DConditionModel` as Stable Diffusion 1.x / 2.x use it: `conv_in`, the time
//! embedding, down blocks (`CrossAttnDownBlock2D`, `DownBlock2D`), `UNetMidBlock2DCrossAttn`,
//! up blocks (`CrossAttnUpBlock2D`, `UpBlock2D`) fed by the down path's skip connections, and
//! `conv_out` — every size from `unet/config.json`.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, Linear};
use burn::tensor::activation::silu;
use burn::tensor::{DType, Tensor};

use crate::config::{DownBlockKind, UnetConfig, UpBlockKind};
use crate::nn::timestep_embedding;
use crate::resnet::{downsample, ResnetBlock, ResnetSpec, Upsample};
use crate::transformer::{SpatialTransformer, TransformerSpec};
use crate::weights::Loader;
use crate::SdError;

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

/// The noise predictor.
#[derive(Debug)]
pub(crate) struct Unet {
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
    pub fn new(c: &UnetConfig, w: &mut Loader) -> Result<Self, SdError> {
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

    /// The model output for latents `[b, c, h, w]` (compute dtype), one timestep per item, and
    /// text embeddings `[b, tokens, cross_dim]` (compute dtype).
    pub fn forward(&self, x: Tensor<4>, timesteps: &[i64], ctx: &Tensor<3>) -> Tensor<4> {
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
