//! `vae/config.json` of a diffusers `AutoencoderKL`.

use std::path::{Path, PathBuf};

use super::json::ConfigFile;
use super::{MAX_BLOCKS, MAX_LAYERS_PER_BLOCK, MAX_WIDTH};
use crate::SdError;

/// What the VAE builder needs.
#[derive(Debug, Clone, PartialEq)]
pub struct VaeConfig {
    /// Image channels (3).
    pub in_channels: usize,
    /// Decoded image channels (3).
    pub out_channels: usize,
    /// Channels of each encoder block (the decoder mirrors them).
    pub block_out_channels: Vec<usize>,
    /// ResNets per encoder block (decoder blocks have one more).
    pub layers_per_block: usize,
    /// Latent channels (4).
    pub latent_channels: usize,
    /// Groups of every group norm.
    pub norm_num_groups: usize,
    /// Scaled latent = posterior mean × this (0.18215 for SD 1.x/2.x).
    pub scaling_factor: f64,
    /// Scaled latent = (mean − shift) × scale (absent, 0, for SD 1.x/2.x).
    pub shift_factor: f64,
    /// A 1×1 convolution after the encoder.
    pub use_quant_conv: bool,
    /// A 1×1 convolution before the decoder.
    pub use_post_quant_conv: bool,
    /// Self-attention in the mid blocks.
    pub mid_block_add_attention: bool,
    /// The config file.
    pub path: PathBuf,
}

impl VaeConfig {
    /// Read `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::read(path)?)
    }

    /// Parse config JSON text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::parse(text, path)?)
    }

    /// Spatial downsampling: `2^(blocks − 1)`.
    pub fn downsample(&self) -> usize {
        1 << (self.block_out_channels.len() - 1)
    }

    fn from_config(c: &ConfigFile) -> Result<Self, SdError> {
        c.class_name("_class_name", &["AutoencoderKL"])?;
        for key in ["latents_mean", "latents_std"] {
            c.absent(
                key,
                &[],
                "per-channel latent statistics are not used by SD 1.x/2.x",
            )?;
        }
        c.choice("act_fn", "silu", &["silu", "swish"])?;
        let block_out_channels =
            c.int_list("block_out_channels", Some(&[64]), MAX_BLOCKS, 1..=MAX_WIDTH)?;
        let n = block_out_channels.len();
        for (key, name) in [
            ("down_block_types", "DownEncoderBlock2D"),
            ("up_block_types", "UpDecoderBlock2D"),
        ] {
            let names = c.str_list(key, &vec![name; n], MAX_BLOCKS)?;
            if let Some(other) = names.iter().find(|s| *s != name) {
                return Err(c.err(format!(
                    "'{key}' holds \"{other}\", which is not supported (only {name})"
                )));
            }
            if names.len() != n {
                return Err(c.err(format!(
                    "'{key}' has {} blocks but 'block_out_channels' {n}",
                    names.len()
                )));
            }
        }
        Ok(Self {
            in_channels: c.int("in_channels", Some(3), 1..=MAX_WIDTH)?,
            out_channels: c.int("out_channels", Some(3), 1..=MAX_WIDTH)?,
            layers_per_block: c.int("layers_per_block", Some(1), 1..=MAX_LAYERS_PER_BLOCK)?,
            latent_channels: c.int("latent_channels", Some(4), 1..=MAX_WIDTH)?,
            norm_num_groups: c.int("norm_num_groups", Some(32), 1..=MAX_WIDTH)?,
            scaling_factor: c.positive("scaling_factor", 0.18215, 1e6)?,
            shift_factor: c.number("shift_factor", 0.0)?,
            use_quant_conv: c.boolean("use_quant_conv", true)?,
            use_post_quant_conv: c.boolean("use_post_quant_conv", true)?,
            mid_block_add_attention: c.boolean("mid_block_add_attention", true)?,
            block_out_channels,
            path: c.path.clone(),
        })
    }
}
