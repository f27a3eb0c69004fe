//! `unet/config.json` of a diffusers `UNet2DConditionModel`, as Stable Diffusion 1.x / 2.x
//! use it.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::json::ConfigFile;
use super::{
    MAX_BLOCKS, MAX_HEADS, MAX_KERNEL, MAX_LAYERS_PER_BLOCK, MAX_TRANSFORMER_LAYERS, MAX_WIDTH,
};
use crate::SdError;

/// A down block of the UNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownBlockKind {
    /// `CrossAttnDownBlock2D`: ResNets, each followed by a spatial transformer.
    CrossAttn,
    /// `DownBlock2D`: ResNets only.
    Plain,
}

/// An up block of the UNet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpBlockKind {
    /// `CrossAttnUpBlock2D`.
    CrossAttn,
    /// `UpBlock2D`.
    Plain,
}

/// What the UNet builder needs, with diffusers' defaults for absent keys and per-block lists
/// expanded.
#[derive(Debug, Clone, PartialEq)]
pub struct UnetConfig {
    /// Latent channels in.
    pub in_channels: usize,
    /// Channels out.
    pub out_channels: usize,
    /// `2x − 1` on the input (false for SD).
    pub center_input_sample: bool,
    /// Timestep embedding as `[cos, sin]` (true for SD) instead of `[sin, cos]`.
    pub flip_sin_to_cos: bool,
    /// Frequency shift of the timestep embedding (0 for SD).
    pub freq_shift: f64,
    /// Down blocks.
    pub down_blocks: Vec<DownBlockKind>,
    /// Up blocks.
    pub up_blocks: Vec<UpBlockKind>,
    /// Channels of each down block.
    pub block_out_channels: Vec<usize>,
    /// ResNets per down block (up blocks have one more).
    pub layers_per_block: Vec<usize>,
    /// Padding of the down-sampling convolutions.
    pub downsample_padding: usize,
    /// Output scale of the mid block's ResNets.
    pub mid_block_scale_factor: f64,
    /// Groups of every group norm.
    pub norm_num_groups: usize,
    /// ε of the ResNets' group norms.
    pub norm_eps: f64,
    /// Width of the text conditioning, per down block.
    pub cross_attention_dim: Vec<usize>,
    /// Transformer layers per down block (the mid block takes the last; up blocks reversed).
    pub transformer_layers_per_block: Vec<usize>,
    /// Attention heads per down block: diffusers' `attention_head_dim`, which for these models
    /// is really the number of heads (`num_attention_heads` must stay null, as diffusers
    /// itself requires).
    pub attention_heads: Vec<usize>,
    /// Linear instead of 1×1-convolution projections into and out of the transformers.
    pub use_linear_projection: bool,
    /// Attention scores computed in f32 under reduced precision.
    pub upcast_attention: bool,
    /// ResNets apply the time embedding as scale and shift after the norm (`scale_shift`)
    /// instead of adding it before (`default`).
    pub time_scale_shift: bool,
    /// Width of the time embedding.
    pub time_embed_dim: usize,
    /// Kernel of `conv_in`.
    pub conv_in_kernel: usize,
    /// Kernel of `conv_out`.
    pub conv_out_kernel: usize,
    /// The latent `(height, width)` the model was trained for.
    pub sample_size: (usize, usize),
    /// The config file.
    pub path: PathBuf,
}

impl UnetConfig {
    /// Read `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::read(path)?)
    }

    /// Parse config JSON text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::parse(text, path)?)
    }

    /// The UNet's own downsampling: latent sizes are best multiples of this.
    pub fn downsample(&self) -> usize {
        1 << (self.block_out_channels.len() - 1)
    }

    fn from_config(c: &ConfigFile) -> Result<Self, SdError> {
        c.class_name("_class_name", &["UNet2DConditionModel"])?;
        // Features of other model families (SDXL, LCM, Kandinsky, unCLIP, GLIGEN, …).
        let other = "Stable Diffusion 1.x/2.x UNets have none";
        for key in [
            "class_embed_type",
            "addition_embed_type",
            "addition_time_embed_dim",
            "num_class_embeds",
            "time_cond_proj_dim",
            "encoder_hid_dim",
            "encoder_hid_dim_type",
            "time_embedding_act_fn",
            "timestep_post_act",
            "cross_attention_norm",
            "reverse_transformer_layers_per_block",
        ] {
            c.absent(key, &[], other)?;
        }
        c.absent(
            "num_attention_heads",
            &[],
            "diffusers' UNet2DConditionModel refuses it too: the head count of these models \
             is 'attention_head_dim'",
        )?;
        for key in [
            "dual_cross_attention",
            "only_cross_attention",
            "mid_block_only_cross_attention",
            "resnet_skip_time_act",
            "class_embeddings_concat",
        ] {
            c.absent(key, &[json!(false)], other)?;
        }
        c.absent("resnet_out_scale_factor", &[json!(1.0), json!(1)], other)?;
        c.choice("time_embedding_type", "positional", &["positional"])?;
        c.choice("attention_type", "default", &["default"])?;
        c.choice("act_fn", "silu", &["silu", "swish"])?;
        c.choice(
            "mid_block_type",
            "UNetMidBlock2DCrossAttn",
            &["UNetMidBlock2DCrossAttn"],
        )?;

        let down_names = c.str_list(
            "down_block_types",
            &[
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "CrossAttnDownBlock2D",
                "DownBlock2D",
            ],
            MAX_BLOCKS,
        )?;
        let up_names = c.str_list(
            "up_block_types",
            &[
                "UpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D",
                "CrossAttnUpBlock2D",
            ],
            MAX_BLOCKS,
        )?;
        let down_blocks = down_names
            .iter()
            .map(|n| match n.as_str() {
                "CrossAttnDownBlock2D" => Ok(DownBlockKind::CrossAttn),
                "DownBlock2D" => Ok(DownBlockKind::Plain),
                other => Err(c.err(format!(
                    "'down_block_types' holds \"{other}\", which is not supported (only \
                     CrossAttnDownBlock2D and DownBlock2D)"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let up_blocks = up_names
            .iter()
            .map(|n| match n.as_str() {
                "CrossAttnUpBlock2D" => Ok(UpBlockKind::CrossAttn),
                "UpBlock2D" => Ok(UpBlockKind::Plain),
                other => Err(c.err(format!(
                    "'up_block_types' holds \"{other}\", which is not supported (only \
                     CrossAttnUpBlock2D and UpBlock2D)"
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let n = down_blocks.len();
        let block_out_channels = c.int_list(
            "block_out_channels",
            Some(&[320, 640, 1280, 1280]),
            MAX_BLOCKS,
            1..=MAX_WIDTH,
        )?;
        if up_blocks.len() != n || block_out_channels.len() != n {
            return Err(c.err(format!(
                "'down_block_types' has {n} blocks, 'up_block_types' {} and \
                 'block_out_channels' {}: they must agree",
                up_blocks.len(),
                block_out_channels.len()
            )));
        }
        let attention_heads = c.per_block("attention_head_dim", n, Some(8), 1..=MAX_HEADS)?;
        if c.get("transformer_layers_per_block")
            .is_some_and(|v| v.as_array().is_some_and(|a| a.iter().any(Value::is_array)))
        {
            return Err(c.err(
                "'transformer_layers_per_block' is a list of lists (asymmetric UNets such as \
                 SDXL refiners are not supported)",
            ));
        }
        let transformer_layers_per_block = c.per_block(
            "transformer_layers_per_block",
            n,
            Some(1),
            1..=MAX_TRANSFORMER_LAYERS,
        )?;
        let cross_attention_dim =
            c.per_block("cross_attention_dim", n, Some(1280), 1..=MAX_WIDTH)?;
        let norm_num_groups = match c.get("norm_num_groups") {
            None if c.map_has_null("norm_num_groups") => {
                return Err(
                    c.err("'norm_num_groups' = null (UNets without group norms) is not supported")
                )
            }
            _ => c.int("norm_num_groups", Some(32), 1..=MAX_WIDTH)?,
        };
        let sample_size = match c.get("sample_size") {
            Some(Value::Array(a)) if a.len() == 2 => {
                let dim = |v: &Value| {
                    v.as_u64()
                        .filter(|&s| (1..=1 << 14).contains(&s))
                        .map(|s| s as usize)
                        .ok_or_else(|| {
                            c.err(format!(
                                "'sample_size' = {} is not [height, width] in 1..=16384",
                                super::json::short(&Value::Array(a.clone()))
                            ))
                        })
                };
                (dim(&a[0])?, dim(&a[1])?)
            }
            _ => {
                let s = c.int("sample_size", Some(64), 1..=1 << 14)?;
                (s, s)
            }
        };
        let odd_kernel = |key: &str| -> Result<usize, SdError> {
            let k = c.int(key, Some(3), 1..=MAX_KERNEL)?;
            if k % 2 == 0 {
                return Err(c.err(format!("'{key}' = {k} is not an odd kernel size")));
            }
            Ok(k)
        };
        let time_embed_dim = match c.get("time_embedding_dim") {
            None => 4 * block_out_channels[0],
            Some(_) => c.int("time_embedding_dim", None, 1..=4 * MAX_WIDTH)?,
        };
        let cfg = Self {
            in_channels: c.int("in_channels", Some(4), 1..=MAX_WIDTH)?,
            out_channels: c.int("out_channels", Some(4), 1..=MAX_WIDTH)?,
            center_input_sample: c.boolean("center_input_sample", false)?,
            flip_sin_to_cos: c.boolean("flip_sin_to_cos", true)?,
            freq_shift: c.number("freq_shift", 0.0)?,
            down_blocks,
            up_blocks,
            layers_per_block: c.per_block(
                "layers_per_block",
                n,
                Some(2),
                1..=MAX_LAYERS_PER_BLOCK,
            )?,
            downsample_padding: c.int("downsample_padding", Some(1), 0..=1)?,
            mid_block_scale_factor: c.positive("mid_block_scale_factor", 1.0, 1e6)?,
            norm_num_groups,
            norm_eps: c.positive("norm_eps", 1e-5, 1.0)?,
            cross_attention_dim,
            transformer_layers_per_block,
            use_linear_projection: c.boolean("use_linear_projection", false)?,
            upcast_attention: c.boolean("upcast_attention", false)?,
            time_scale_shift: c.choice(
                "resnet_time_scale_shift",
                "default",
                &["default", "scale_shift"],
            )? == "scale_shift",
            time_embed_dim,
            conv_in_kernel: odd_kernel("conv_in_kernel")?,
            conv_out_kernel: odd_kernel("conv_out_kernel")?,
            sample_size,
            attention_heads,
            block_out_channels,
            path: c.path.clone(),
        };
        if cfg.block_out_channels[0] < 2 {
            return Err(c.err(format!(
                "'block_out_channels' starts with {}: the timestep embedding needs at least 2",
                cfg.block_out_channels[0]
            )));
        }
        if (cfg.block_out_channels[0] / 2) as f64 == cfg.freq_shift {
            return Err(c.err(format!(
                "'freq_shift' = {} equals half the timestep embedding width (a division by zero)",
                cfg.freq_shift
            )));
        }
        cfg.check_heads(c)?;
        Ok(cfg)
    }

    /// Every attention block's channels must split evenly into its heads.
    fn check_heads(&self, c: &ConfigFile) -> Result<(), SdError> {
        let n = self.block_out_channels.len();
        let check = |what: String, channels: usize, heads: usize| {
            if channels % heads == 0 {
                Ok(())
            } else {
                Err(c.err(format!(
                    "'attention_head_dim' = {:?}: {what} has {channels} channels, which {heads} \
                     heads cannot split evenly",
                    self.attention_heads
                )))
            }
        };
        for (i, kind) in self.down_blocks.iter().enumerate() {
            if *kind == DownBlockKind::CrossAttn {
                check(
                    format!("down block {i}"),
                    self.block_out_channels[i],
                    self.attention_heads[i],
                )?;
            }
        }
        check(
            "the mid block".into(),
            self.block_out_channels[n - 1],
            self.attention_heads[n - 1],
        )?;
        for (i, kind) in self.up_blocks.iter().enumerate() {
            if *kind == UpBlockKind::CrossAttn {
                check(
                    format!("up block {i}"),
                    self.block_out_channels[n - 1 - i],
                    self.attention_heads[n - 1 - i],
                )?;
            }
        }
        Ok(())
    }
}
