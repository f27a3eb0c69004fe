//! `text_encoder/config.json` of a transformers `CLIPTextModel`.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::json::ConfigFile;
use super::{MAX_HEADS, MAX_POSITIONS, MAX_TEXT_LAYERS, MAX_VOCAB, MAX_WIDTH};
use crate::SdError;

/// The activation of the MLP of CLIP's encoder layers (text and vision towers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClipActivation {
    /// `x·σ(1.702x)`: OpenAI CLIP (Stable Diffusion 1.x).
    QuickGelu,
    /// The exact (erf) GELU: OpenCLIP (Stable Diffusion 2.x).
    Gelu,
    /// GELU's tanh approximation, `½x(1 + tanh(√(2/π)(x + 0.044715x³)))` (transformers'
    /// `gelu_new` and `gelu_pytorch_tanh`); vision towers only.
    GeluTanh,
}

/// The sizes of a CLIP text encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipConfig {
    /// Vocabulary size (rows of the token embedding).
    pub vocab_size: usize,
    /// Width of the hidden states.
    pub hidden_size: usize,
    /// Width of the MLP.
    pub intermediate_size: usize,
    /// Transformer layers.
    pub num_hidden_layers: usize,
    /// Attention heads (dividing `hidden_size`).
    pub num_attention_heads: usize,
    /// Positions (77).
    pub max_position_embeddings: usize,
    /// MLP activation.
    pub hidden_act: ClipActivation,
    /// Layer norm ε.
    pub layer_norm_eps: f64,
    /// The config file.
    pub path: PathBuf,
}

impl ClipConfig {
    /// Read `config.json`.
    pub fn from_file(path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::read(path)?)
    }

    /// Parse config JSON text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::parse(text, path)?)
    }

    fn from_config(c: &ConfigFile) -> Result<Self, SdError> {
        c.class_name("model_type", &["clip_text_model"])?;
        if let Some(Value::Array(a)) = c.get("architectures") {
            if !a.iter().any(|v| v == "CLIPTextModel") {
                return Err(c.err(format!(
                    "'architectures' = {} is not CLIPTextModel (the text encoder of Stable \
                     Diffusion 1.x/2.x)",
                    super::json::short(&Value::Array(a.clone()))
                )));
            }
        }
        let hidden_size = c.int("hidden_size", Some(512), 1..=MAX_WIDTH)?;
        let num_attention_heads = c.int("num_attention_heads", Some(8), 1..=MAX_HEADS)?;
        if hidden_size % num_attention_heads != 0 {
            return Err(c.err(format!(
                "'num_attention_heads' = {num_attention_heads} does not divide 'hidden_size' = \
                 {hidden_size}"
            )));
        }
        let hidden_act = match c
            .choice("hidden_act", "quick_gelu", &["quick_gelu", "gelu"])?
            .as_str()
        {
            "gelu" => ClipActivation::Gelu,
            _ => ClipActivation::QuickGelu,
        };
        Ok(Self {
            vocab_size: c.int("vocab_size", Some(49408), 1..=MAX_VOCAB)?,
            hidden_size,
            intermediate_size: c.int("intermediate_size", Some(2048), 1..=4 * MAX_WIDTH)?,
            num_hidden_layers: c.int("num_hidden_layers", Some(12), 1..=MAX_TEXT_LAYERS)?,
            num_attention_heads,
            max_position_embeddings: c.int(
                "max_position_embeddings",
                Some(77),
                1..=MAX_POSITIONS,
            )?,
            hidden_act,
            layer_norm_eps: c.positive("layer_norm_eps", 1e-5, 1.0)?,
            path: c.path.clone(),
        })
    }
}
