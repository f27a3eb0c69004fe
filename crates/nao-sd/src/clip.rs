//! The CLIP text encoder (transformers' `CLIPTextModel`): token and position embeddings, pre-norm
//! transformer layers with causal self-attention, a final layer norm. Its output is
//! `last_hidden_state`, which Stable Diffusion 1.x and 2.x condition on.
//!
//! [`ClipTextModel::load`] builds it from a `text_encoder/` folder alone; [`ClipTextModel::forward`]
//! turns token ids (from [`nao_clip::ClipTokenizer`], which reads the folder's `tokenizer/`)
//! into the text embeddings the [UNet](crate::unet::Unet) takes.
//!
//! ```
//! use nao_clip::ClipTokenizer;
//! use nao_sd::clip::ClipTextModel;
//! use nao_sd::SdOptions;
//!
//! // a tiny SD 2.x-style model: OpenCLIP-style text encoder (gelu), fp16 weights
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sd2-v");
//! let device = nao_sd::Device::flex();
//! let text = ClipTextModel::load(dir.join("text_encoder"), &device, &SdOptions::default())?;
//! assert_eq!(text.config().hidden_size, 32);
//!
//! let tokenizer = ClipTokenizer::from_dir(dir.join("tokenizer"))?;
//! let ids: Vec<Vec<u32>> = ["a photo of a cat", ""]
//!     .iter()
//!     .map(|p| tokenizer.encode(p).ids) // padded to 77 tokens
//!     .collect();
//! let embeddings = text.forward(&ids)?; // [2, 77, 32] in f32, on `device`
//! assert_eq!(embeddings.dims(), [2, 77, 32]);
//!
//! // ids of the wrong length or outside the vocabulary are errors, not panics
//! assert!(text.forward(&[vec![0; 78]]).is_err());
//! assert!(text.forward(&[vec![u32::MAX]]).is_err());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::Path;

use burn::nn::{LayerNorm, Linear};
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::config::{ClipActivation, ClipConfig};
use crate::nn::{attention, ATTENTION_CHUNK_SCORES};
use crate::weights::{load_component, Loader, WeightFile};
use crate::{SdError, SdOptions};

/// Buffers some text encoder files carry that are no weights.
pub(crate) const IGNORED: &[&str] = &["embeddings.position_ids"];

/// The prefix of every tensor name of a text encoder file: transformers < 5 saved the weights
/// under `text_model.`.
pub(crate) fn weight_prefix(file: &WeightFile) -> &'static str {
    if file.names().iter().any(|n| n.starts_with("text_model.")) {
        "text_model."
    } else {
        ""
    }
}

/// One pre-norm transformer block of CLIP's encoders, the same computation in the text
/// encoder (with a causal mask) and in the vision tower (without):
/// `x + attn(ln1(x))`, then `x + fc2(act(fc1(ln2(x))))`.
#[derive(Debug)]
pub(crate) struct EncoderLayer {
    norm1: LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

impl EncoderLayer {
    /// The block under `prefix` (`encoder.layers.N`), with transformers' names.
    pub(crate) fn new(
        w: &mut Loader,
        prefix: &str,
        hidden: usize,
        intermediate: usize,
        eps: f64,
    ) -> Result<Self, SdError> {
        let p = prefix;
        let h = hidden;
        Ok(Self {
            norm1: w.layer_norm(&format!("{p}.layer_norm1"), h, eps)?,
            q: w.linear(&format!("{p}.self_attn.q_proj"), h, h, true)?,
            k: w.linear(&format!("{p}.self_attn.k_proj"), h, h, true)?,
            v: w.linear(&format!("{p}.self_attn.v_proj"), h, h, true)?,
            out: w.linear(&format!("{p}.self_attn.out_proj"), h, h, true)?,
            norm2: w.layer_norm(&format!("{p}.layer_norm2"), h, eps)?,
            fc1: w.linear(&format!("{p}.mlp.fc1"), h, intermediate, true)?,
            fc2: w.linear(&format!("{p}.mlp.fc2"), intermediate, h, true)?,
        })
    }

    /// The block on `[b, n, hidden]`.
    pub(crate) fn forward(
        &self,
        x: Tensor<3>,
        heads: usize,
        act: ClipActivation,
        causal: bool,
    ) -> Tensor<3> {
        let y = self.norm1.forward(x.clone());
        let a = attention(
            self.q.forward(y.clone()),
            self.k.forward(y.clone()),
            self.v.forward(y),
            heads,
            causal,
            false,
            ATTENTION_CHUNK_SCORES,
        );
        let x = x + self.out.forward(a);
        let y = self.fc1.forward(self.norm2.forward(x.clone()));
        x + self.fc2.forward(activation(y, act))
    }
}

/// The MLP activation, as transformers computes it.
fn activation(y: Tensor<3>, act: ClipActivation) -> Tensor<3> {
    match act {
        ClipActivation::QuickGelu => y.clone() * sigmoid(y.mul_scalar(1.702)),
        ClipActivation::Gelu => gelu(y),
        ClipActivation::GeluTanh => {
            // ½x(1 + tanh(√(2/π)(x + 0.044715x³))), transformers' NewGELUActivation
            let inner = (y.clone() + y.clone().powi_scalar(3).mul_scalar(0.044715))
                .mul_scalar((2.0 / std::f64::consts::PI).sqrt());
            y.mul_scalar(0.5) * (inner.tanh() + 1.0)
        }
    }
}

/// transformers' `CLIPTextModel`, the text encoder of Stable Diffusion 1.x / 2.x, with every
/// size from its `config.json` ([`ClipConfig`]); see the [module docs](self).
#[derive(Debug)]
pub struct ClipTextModel {
    config: ClipConfig,
    token_embedding: Tensor<2>,
    position_embedding: Tensor<2>,
    layers: Vec<EncoderLayer>,
    final_norm: LayerNorm,
    heads: usize,
    act: ClipActivation,
}

impl ClipTextModel {
    /// Load a text encoder folder on its own: `dir` holds `config.json` and the weights
    /// (`model.safetensors`, or a variant such as `model.fp16.safetensors` chosen with
    /// [`SdOptions::variant`]), as in a diffusers folder's `text_encoder/`.
    ///
    /// The config is checked first, then every tensor of the weights file against the shapes
    /// it implies (names — transformers' own, with or without the `text_model.` prefix of
    /// older files —, shapes, dtypes, nothing missing or left over), then the tensors are
    /// converted one by one to [`SdOptions::precision`] on `device`.
    pub fn load(
        dir: impl AsRef<Path>,
        device: &Device,
        options: &SdOptions,
    ) -> Result<Self, SdError> {
        let dir = dir.as_ref();
        let config = ClipConfig::from_file(&dir.join("config.json"))?;
        load_component(
            dir,
            &config.path,
            device,
            options,
            weight_prefix,
            IGNORED,
            |w| Self::new(&config, w),
        )
    }

    /// The config the encoder was built from.
    pub fn config(&self) -> &ClipConfig {
        &self.config
    }

    /// `last_hidden_state`: the text embeddings `[b, n, hidden_size]` of `b` rows of `n` token
    /// ids each, in the compute precision ([`SdOptions::precision`]) on the encoder's device.
    ///
    /// The ids are what [`nao_clip::ClipTokenizer::encode`] gives (begin and end tokens
    /// included, padded to the tokenizer's length, 77 for Stable Diffusion); as in diffusers'
    /// pipelines, no attention mask is applied: the causal self-attention alone keeps a token
    /// from seeing those after it. Stable Diffusion conditions its UNet on this output as it
    /// is (no pooling, no projection).
    ///
    /// Errors ([`SdError::Shape`]) when there are no rows, when the rows differ in length, when
    /// `n` is 0 or more than `max_position_embeddings`, or when an id is not below
    /// `vocab_size`.
    pub fn forward(&self, ids: &[Vec<u32>]) -> Result<Tensor<3>, SdError> {
        let c = &self.config;
        let n = match ids {
            [] => return Err(SdError::Shape("no token ids to encode".into())),
            [first, ..] => first.len(),
        };
        if n == 0 || n > c.max_position_embeddings {
            return Err(SdError::Shape(format!(
                "{n} token ids per row: the text encoder takes 1 to {}",
                c.max_position_embeddings
            )));
        }
        if let Some((i, row)) = ids.iter().enumerate().find(|(_, r)| r.len() != n) {
            return Err(SdError::Shape(format!(
                "row {i} has {} token ids, row 0 has {n}: every row must have as many",
                row.len()
            )));
        }
        if let Some(&id) = ids.iter().flatten().find(|&&i| i as usize >= c.vocab_size) {
            return Err(SdError::Shape(format!(
                "the token id {id} is not below the text encoder's vocab_size {}",
                c.vocab_size
            )));
        }
        Ok(self.forward_unchecked(ids))
    }

    /// Build from the weights; the names are transformers' (with or without `text_model.`).
    pub(crate) fn new(c: &ClipConfig, w: &mut Loader) -> Result<Self, SdError> {
        let h = c.hidden_size;
        let eps = c.layer_norm_eps;
        let token_embedding = w.tensor("embeddings.token_embedding.weight", [c.vocab_size, h])?;
        let position_embedding = w.tensor(
            "embeddings.position_embedding.weight",
            [c.max_position_embeddings, h],
        )?;
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let prefix = format!("encoder.layers.{i}");
                EncoderLayer::new(w, &prefix, h, c.intermediate_size, eps)
            })
            .collect::<Result<Vec<_>, SdError>>()?;
        Ok(Self {
            config: c.clone(),
            token_embedding,
            position_embedding,
            layers,
            final_norm: w.layer_norm("final_layer_norm", h, eps)?,
            heads: c.num_attention_heads,
            act: c.hidden_act,
        })
    }

    /// `last_hidden_state` `[b, n, hidden]` of token ids (`n` ≤ the context length; every id
    /// below the vocabulary size, which the caller checks).
    pub(crate) fn forward_unchecked(&self, ids: &[Vec<u32>]) -> Tensor<3> {
        let b = ids.len();
        let n = ids.first().map_or(0, Vec::len);
        let device = self.token_embedding.device();
        let flat: Vec<i64> = ids.iter().flatten().map(|&i| i64::from(i)).collect();
        let index = Tensor::<1, Int>::from_data(TensorData::new(flat, [b * n]), &device);
        let h = self.token_embedding.dims()[1];
        let tokens = self
            .token_embedding
            .clone()
            .select(0, index)
            .reshape([b, n, h]);
        let positions = self
            .position_embedding
            .clone()
            .narrow(0, 0, n)
            .unsqueeze_dim::<3>(0);
        let mut x = tokens + positions;
        for l in &self.layers {
            x = l.forward(x, self.heads, self.act, true);
        }
        self.final_norm.forward(x)
    }
}
