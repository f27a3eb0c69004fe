//! The CLIP text encoder (transformers' `CLIPTextModel`): token and position embeddings, pre-norm
//! transformer layers with causal self-attention, a final layer norm. Its output is
//! `last_hidden_state`, which Stable Diffusion 1.x and 2.x condition on.

use burn::nn::{LayerNorm, Linear};
use burn::tensor::activation::{gelu, sigmoid};
use burn::tensor::{Int, Tensor, TensorData};

use crate::config::{ClipActivation, ClipConfig};
use crate::nn::{attention, ATTENTION_CHUNK_SCORES};
use crate::weights::Loader;
use crate::SdError;

/// Buffers some text encoder files carry that are no weights.
pub(crate) const IGNORED: &[&str] = &["embeddings.position_ids"];

#[derive(Debug)]
struct Layer {
    norm1: LayerNorm,
    q: Linear,
    k: Linear,
    v: Linear,
    out: Linear,
    norm2: LayerNorm,
    fc1: Linear,
    fc2: Linear,
}

/// The text encoder.
#[derive(Debug)]
pub(crate) struct ClipTextModel {
    token_embedding: Tensor<2>,
    position_embedding: Tensor<2>,
    layers: Vec<Layer>,
    final_norm: LayerNorm,
    heads: usize,
    act: ClipActivation,
}

impl ClipTextModel {
    /// Build from the weights; the names are transformers' (with or without `text_model.`).
    pub fn new(c: &ClipConfig, w: &mut Loader) -> Result<Self, SdError> {
        let h = c.hidden_size;
        let eps = c.layer_norm_eps;
        let token_embedding = w.tensor("embeddings.token_embedding.weight", [c.vocab_size, h])?;
        let position_embedding = w.tensor(
            "embeddings.position_embedding.weight",
            [c.max_position_embeddings, h],
        )?;
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let p = format!("encoder.layers.{i}");
                Ok(Layer {
                    norm1: w.layer_norm(&format!("{p}.layer_norm1"), h, eps)?,
                    q: w.linear(&format!("{p}.self_attn.q_proj"), h, h, true)?,
                    k: w.linear(&format!("{p}.self_attn.k_proj"), h, h, true)?,
                    v: w.linear(&format!("{p}.self_attn.v_proj"), h, h, true)?,
                    out: w.linear(&format!("{p}.self_attn.out_proj"), h, h, true)?,
                    norm2: w.layer_norm(&format!("{p}.layer_norm2"), h, eps)?,
                    fc1: w.linear(&format!("{p}.mlp.fc1"), h, c.intermediate_size, true)?,
                    fc2: w.linear(&format!("{p}.mlp.fc2"), c.intermediate_size, h, true)?,
                })
            })
            .collect::<Result<Vec<_>, SdError>>()?;
        Ok(Self {
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
    pub fn forward(&self, ids: &[Vec<u32>]) -> Tensor<3> {
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
            let y = l.norm1.forward(x.clone());
            let a = attention(
                l.q.forward(y.clone()),
                l.k.forward(y.clone()),
                l.v.forward(y),
                self.heads,
                true,
                false,
                ATTENTION_CHUNK_SCORES,
            );
            x = x + l.out.forward(a);
            let y = l.fc1.forward(l.norm2.forward(x.clone()));
            let y = match self.act {
                ClipActivation::QuickGelu => y.clone() * sigmoid(y.mul_scalar(1.702)),
                ClipActivation::Gelu => gelu(y),
            };
            x = x + l.fc2.forward(y);
        }
        self.final_norm.forward(x)
    }
}
