//! diffusers' `Transformer2DModel` on continuous inputs (the UNet's spatial transformer):
//! group norm, projection in, `BasicTransformerBlock`s (self-attention, cross-attention on the
//! text, GEGLU feed-forward), projection out, residual.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, LayerNorm, Linear};
use burn::tensor::activation::gelu;
use burn::tensor::Tensor;

use crate::nn::{attention, ATTENTION_CHUNK_SCORES};
use crate::weights::Loader;
use crate::SdError;

/// The sizes of one spatial transformer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TransformerSpec {
    pub channels: usize,
    pub heads: usize,
    pub layers: usize,
    pub cross_dim: usize,
    pub groups: usize,
    pub linear_projection: bool,
    pub upcast: bool,
}

#[derive(Debug)]
enum Projection {
    Linear(Linear),
    Conv(Conv2d),
}

#[derive(Debug)]
struct Attention {
    to_q: Linear,
    to_k: Linear,
    to_v: Linear,
    to_out: Linear,
    heads: usize,
    upcast: bool,
}

impl Attention {
    fn new(
        w: &mut Loader,
        p: &str,
        dim: usize,
        ctx: usize,
        s: &TransformerSpec,
    ) -> Result<Self, SdError> {
        Ok(Self {
            to_q: w.linear(&format!("{p}.to_q"), dim, dim, false)?,
            to_k: w.linear(&format!("{p}.to_k"), ctx, dim, false)?,
            to_v: w.linear(&format!("{p}.to_v"), ctx, dim, false)?,
            to_out: w.linear(&format!("{p}.to_out.0"), dim, dim, true)?,
            heads: s.heads,
            upcast: s.upcast,
        })
    }

    fn forward(&self, x: Tensor<3>, ctx: Option<Tensor<3>>) -> Tensor<3> {
        let ctx = ctx.unwrap_or_else(|| x.clone());
        let a = attention(
            self.to_q.forward(x),
            self.to_k.forward(ctx.clone()),
            self.to_v.forward(ctx),
            self.heads,
            false,
            self.upcast,
            ATTENTION_CHUNK_SCORES,
        );
        self.to_out.forward(a)
    }
}

#[derive(Debug)]
struct Block {
    norm1: LayerNorm,
    attn1: Attention,
    norm2: LayerNorm,
    attn2: Attention,
    norm3: LayerNorm,
    ff_in: Linear,
    ff_out: Linear,
}

/// The spatial transformer of a cross-attention block.
#[derive(Debug)]
pub(crate) struct SpatialTransformer {
    norm: GroupNorm,
    proj_in: Projection,
    blocks: Vec<Block>,
    proj_out: Projection,
}

impl SpatialTransformer {
    pub fn new(w: &mut Loader, p: &str, s: TransformerSpec) -> Result<Self, SdError> {
        let c = s.channels;
        let projection = |w: &mut Loader, name: &str| -> Result<Projection, SdError> {
            let name = format!("{p}.{name}");
            Ok(if s.linear_projection {
                Projection::Linear(w.linear(&name, c, c, true)?)
            } else {
                Projection::Conv(w.conv2d(&name, c, c, 1, 1, None)?)
            })
        };
        let norm = w.group_norm(&format!("{p}.norm"), s.groups, c, 1e-6)?;
        let proj_in = projection(w, "proj_in")?;
        let ff = 4 * c;
        let blocks = (0..s.layers)
            .map(|i| {
                let b = format!("{p}.transformer_blocks.{i}");
                Ok(Block {
                    norm1: w.layer_norm(&format!("{b}.norm1"), c, 1e-5)?,
                    attn1: Attention::new(w, &format!("{b}.attn1"), c, c, &s)?,
                    norm2: w.layer_norm(&format!("{b}.norm2"), c, 1e-5)?,
                    attn2: Attention::new(w, &format!("{b}.attn2"), c, s.cross_dim, &s)?,
                    norm3: w.layer_norm(&format!("{b}.norm3"), c, 1e-5)?,
                    ff_in: w.linear(&format!("{b}.ff.net.0.proj"), c, 2 * ff, true)?,
                    ff_out: w.linear(&format!("{b}.ff.net.2"), ff, c, true)?,
                })
            })
            .collect::<Result<Vec<_>, SdError>>()?;
        Ok(Self {
            norm,
            proj_in,
            blocks,
            proj_out: projection(w, "proj_out")?,
        })
    }

    /// `x` `[b, c, h, w]`, `ctx` the text embeddings `[b, tokens, cross_dim]`.
    pub fn forward(&self, x: Tensor<4>, ctx: &Tensor<3>) -> Tensor<4> {
        let [b, c, h, w] = x.dims();
        let y = self.norm.forward(x.clone());
        let to_tokens = |t: Tensor<4>| t.reshape([b, c, h * w]).swap_dims(1, 2);
        let mut y = match &self.proj_in {
            Projection::Conv(conv) => to_tokens(conv.forward(y)),
            Projection::Linear(l) => l.forward(to_tokens(y)),
        };
        for blk in &self.blocks {
            y = y.clone() + blk.attn1.forward(blk.norm1.forward(y), None);
            y = y.clone() + blk.attn2.forward(blk.norm2.forward(y), Some(ctx.clone()));
            let f = blk.ff_in.forward(blk.norm3.forward(y.clone()));
            let half = f.dims()[2] / 2;
            let gate = f.clone().narrow(2, half, half);
            y = y + blk.ff_out.forward(f.narrow(2, 0, half) * gelu(gate));
        }
        let to_image = |t: Tensor<3>| t.swap_dims(1, 2).reshape([b, c, h, w]);
        let y = match &self.proj_out {
            Projection::Conv(conv) => conv.forward(to_image(y)),
            Projection::Linear(l) => to_image(l.forward(y)),
        };
        y + x
    }
}
