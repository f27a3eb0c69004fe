//! `image_encoder/config.json` of a transformers `CLIPVisionModelWithProjection` (or the
//! `vision_config` section of a whole `CLIPModel`'s config).

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::json::{short, ConfigFile};
use super::{ClipActivation, MAX_HEADS, MAX_POSITIONS, MAX_TEXT_LAYERS, MAX_WIDTH};
use crate::SdError;

/// Largest image side a vision tower may take (CLIP's are 224 and 336).
pub(crate) const MAX_IMAGE_SIZE: usize = 4096;
/// Most image channels (CLIP's are 3).
pub(crate) const MAX_CHANNELS: usize = 16;

/// The sizes of a CLIP vision tower with its projection (transformers'
/// `CLIPVisionModelWithProjection`, or the vision half of a `CLIPModel`).
///
/// Read from the keys transformers writes, with transformers' defaults for absent ones (a
/// ViT-B/32: hidden 768, 12 layers of 12 heads, 224×224 images in 32×32 patches, projection
/// 512, `quick_gelu`). Every size is bounded and checked against the others before anything
/// is allocated from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipVisionConfig {
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads (dividing `hidden_size`).
    pub num_attention_heads: usize,
    /// Side of the square images the tower takes (a multiple of `patch_size`).
    pub image_size: usize,
    /// Side of the square patches (the stride of the patch embedding).
    pub patch_size: usize,
    /// Channels of the images (3).
    pub num_channels: usize,
    /// Width of `image_embeds`, the output of the visual projection.
    pub projection_dim: usize,
    /// MLP activation.
    pub hidden_act: ClipActivation,
    /// Layer norm ε.
    pub layer_norm_eps: f64,
    /// Whether the file is a whole `CLIPModel`'s config (`model_type` `clip`), of which this is
    /// the `vision_config` section: its weights file also holds the text tower, which loading
    /// the vision tower skips.
    pub full_model: bool,
    /// The config file.
    pub path: PathBuf,
}

impl ClipVisionConfig {
    /// Read `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::read(path)?)
    }

    /// Parse config JSON text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::parse(text, path)?)
    }

    /// Patches per side (`image_size / patch_size`).
    pub fn patches_per_side(&self) -> usize {
        self.image_size / self.patch_size
    }

    /// Tokens of `last_hidden_state`: the class token and one per patch.
    pub fn tokens(&self) -> usize {
        1 + self.patches_per_side() * self.patches_per_side()
    }

    fn from_config(c: &ConfigFile) -> Result<Self, SdError> {
        c.class_name("model_type", &["clip_vision_model", "clip"])?;
        let full_model =
            c.get("model_type").is_some_and(|v| v == "clip") || c.get("vision_config").is_some();
        if let Some(Value::Array(a)) = c.get("architectures") {
            let wanted = if full_model {
                "CLIPModel"
            } else {
                "CLIPVisionModelWithProjection"
            };
            if !a.iter().any(|v| v == wanted) {
                let why = if a.iter().any(|v| v == "CLIPVisionModel") {
                    " (CLIPVisionModel has no visual projection, hence no image_embeds)"
                } else {
                    ""
                };
                return Err(c.err(format!(
                    "'architectures' = {} is not {wanted}, a CLIP vision tower with its \
                     projection{why}",
                    short(&Value::Array(a.clone()))
                )));
            }
        }
        if !full_model {
            return Self::vision(c, c.int("projection_dim", Some(512), 1..=MAX_WIDTH)?, false);
        }
        // transformers builds the vision tower from `vision_config`, with the values of the
        // older `vision_config_dict` over it; the projection width is the whole model's
        let section = match (
            c.section("vision_config")?,
            c.section("vision_config_dict")?,
        ) {
            (Some(v), Some(d)) => v.merged(d),
            (Some(v), None) | (None, Some(v)) => v,
            (None, None) => return Err(c.err("'vision_config' is missing")),
        };
        let projection_dim = c.int("projection_dim", Some(512), 1..=MAX_WIDTH)?;
        Self::vision(&section, projection_dim, true)
    }

    /// The vision tower's keys (the file's top level or its `vision_config` section).
    fn vision(c: &ConfigFile, projection_dim: usize, full_model: bool) -> Result<Self, SdError> {
        c.class_name("model_type", &["clip_vision_model"])?;
        let hidden_size = c.int("hidden_size", Some(768), 1..=MAX_WIDTH)?;
        let num_attention_heads = c.int("num_attention_heads", Some(12), 1..=MAX_HEADS)?;
        if hidden_size % num_attention_heads != 0 {
            return Err(c.err(format!(
                "'num_attention_heads' = {num_attention_heads} does not divide 'hidden_size' = \
                 {hidden_size}"
            )));
        }
        let image_size = square(c, "image_size", 224, MAX_IMAGE_SIZE)?;
        let patch_size = square(c, "patch_size", 32, image_size)?;
        if image_size % patch_size != 0 {
            return Err(c.err(format!(
                "'image_size' = {image_size} is not a multiple of 'patch_size' = {patch_size}"
            )));
        }
        let side = image_size / patch_size;
        if side * side + 1 > MAX_POSITIONS {
            return Err(c.err(format!(
                "'image_size' = {image_size} in patches of 'patch_size' = {patch_size} makes \
                 {} tokens; at most {MAX_POSITIONS} are accepted",
                side * side + 1
            )));
        }
        let hidden_act = match c.get("hidden_act") {
            None => ClipActivation::QuickGelu,
            Some(v) => match v.as_str() {
                Some("quick_gelu") => ClipActivation::QuickGelu,
                Some("gelu") => ClipActivation::Gelu,
                Some("gelu_new" | "gelu_pytorch_tanh") => ClipActivation::GeluTanh,
                _ => {
                    return Err(c.err(format!(
                        "'hidden_act' = {} is not supported (CLIP vision towers use quick_gelu, \
                         gelu, gelu_new or gelu_pytorch_tanh)",
                        short(v)
                    )))
                }
            },
        };
        Ok(Self {
            hidden_size,
            intermediate_size: c.int("intermediate_size", Some(3072), 1..=4 * MAX_WIDTH)?,
            num_hidden_layers: c.int("num_hidden_layers", Some(12), 1..=MAX_TEXT_LAYERS)?,
            num_attention_heads,
            image_size,
            patch_size,
            num_channels: c.int("num_channels", Some(3), 1..=MAX_CHANNELS)?,
            projection_dim,
            hidden_act,
            layer_norm_eps: c.positive("layer_norm_eps", 1e-5, 1.0)?,
            full_model,
            path: c.path.clone(),
        })
    }
}

/// A side given as one integer or as a square `[n, n]` (transformers accepts both).
fn square(c: &ConfigFile, key: &str, default: usize, max: usize) -> Result<usize, SdError> {
    match c.get(key) {
        Some(Value::Array(a)) => {
            let sides = c.int_list(key, None, 2, 1..=max)?;
            match sides.as_slice() {
                [n, m] if n == m => Ok(*n),
                [n] => Ok(*n),
                _ => Err(c.err(format!(
                    "'{key}' = {} is not square (the CLIP vision tower takes square images \
                     and patches)",
                    short(&Value::Array(a.clone()))
                ))),
            }
        }
        _ => c.int(key, Some(default), 1..=max),
    }
}
