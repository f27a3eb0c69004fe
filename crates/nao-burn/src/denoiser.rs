//! The class-conditional noise predictor on flattened 4×7×7 latents.
//!
//! A residual MLP: the latent is projected to `hidden` units, then `blocks` pre-norm residual
//! blocks each add a projection of the timestep + class embedding, then a projection back.
//! At d = 196 an MLP sees the whole latent at once, which a 7×7 convolution stack would need
//! several layers for; it is also what trains fastest on two CPU cores.

use burn::nn::{Embedding, EmbeddingConfig, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::silu;
use serde::{Deserialize, Serialize};

use crate::classes::NUM_CLASSES;

/// Sizes of the noise predictor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenoiserConfig {
    /// Flattened latent size (4·7·7 = 196).
    pub latent_dim: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Residual blocks.
    pub blocks: usize,
    /// Size of the sinusoidal timestep features.
    pub time_features: usize,
}

impl Default for DenoiserConfig {
    fn default() -> Self {
        Self {
            latent_dim: 196,
            hidden: 512,
            blocks: 3,
            time_features: 128,
        }
    }
}

/// Sinusoidal timestep features `[b, n]` (half sines, half cosines, geometric frequencies from
/// 1 to 1/10000, as in the DDPM/SD UNets), computed on the host in f64.
pub fn timestep_features(timesteps: &[f64], n: usize) -> Vec<f32> {
    let half = n / 2;
    let mut out = Vec::with_capacity(timesteps.len() * n);
    for &t in timesteps {
        for k in 0..half {
            let freq = (-(10000f64.ln()) * k as f64 / half as f64).exp();
            out.push((t * freq).sin() as f32);
        }
        for k in 0..half {
            let freq = (-(10000f64.ln()) * k as f64 / half as f64).exp();
            out.push((t * freq).cos() as f32);
        }
        out.extend(std::iter::repeat_n(0.0, n - 2 * half));
    }
    out
}

/// One pre-norm residual block.
#[derive(Module, Debug)]
pub struct ResidualBlock {
    norm: LayerNorm,
    fc1: Linear,
    emb: Linear,
    fc2: Linear,
}

impl ResidualBlock {
    fn forward(&self, h: Tensor<2>, emb: Tensor<2>) -> Tensor<2> {
        let y = self.fc1.forward(silu(self.norm.forward(h.clone())));
        let y = silu(y + self.emb.forward(emb));
        h + self.fc2.forward(y)
    }
}

/// The noise predictor module.
#[derive(Module, Debug)]
pub struct Denoiser {
    input: Linear,
    time1: Linear,
    time2: Linear,
    class_embedding: Embedding,
    blocks: Vec<ResidualBlock>,
    out_norm: LayerNorm,
    output: Linear,
}

impl Denoiser {
    /// A freshly initialised noise predictor on `device`.
    pub fn new(config: &DenoiserConfig, device: &Device) -> Self {
        let h = config.hidden;
        Self {
            input: LinearConfig::new(config.latent_dim, h).init(device),
            time1: LinearConfig::new(config.time_features, h).init(device),
            time2: LinearConfig::new(h, h).init(device),
            // One extra row: the "no class" embedding of classifier-free guidance.
            class_embedding: EmbeddingConfig::new(NUM_CLASSES + 1, h).init(device),
            blocks: (0..config.blocks)
                .map(|_| ResidualBlock {
                    norm: LayerNormConfig::new(h).init(device),
                    fc1: LinearConfig::new(h, h).init(device),
                    emb: LinearConfig::new(h, h).init(device),
                    fc2: LinearConfig::new(h, h).init(device),
                })
                .collect(),
            out_norm: LayerNormConfig::new(h).init(device),
            output: LinearConfig::new(h, config.latent_dim).init(device),
        }
    }

    /// Predicted noise `[b, latent_dim]` for latents `[b, latent_dim]`, timestep features
    /// `[b, time_features]` and class indices `[b]` (`NULL_CLASS` for none).
    pub fn forward(
        &self,
        latents: Tensor<2>,
        time: Tensor<2>,
        classes: Tensor<1, Int>,
    ) -> Tensor<2> {
        let [b, _] = latents.dims();
        let t = self.time2.forward(silu(self.time1.forward(time)));
        let c = self.class_embedding.forward(classes.reshape([b, 1]));
        let hidden = c.dims()[2];
        let emb = silu(t + c.reshape([b, hidden]));
        let mut h = self.input.forward(latents);
        for block in &self.blocks {
            h = block.forward(h, emb.clone());
        }
        self.output.forward(silu(self.out_norm.forward(h)))
    }
}

/// The noise predictor as an ONNX graph (see [`crate::OnnxExport`]), mirroring
/// [`Denoiser::forward`] line by line.
mod onnx {
    use super::Denoiser;
    use crate::error::BurnModelError;
    use crate::onnx_graph::graph::{Dim, ElemType, Graph};
    use crate::onnx_graph::layers::{embedding, layer_norm, linear};

    impl Denoiser {
        /// `latents [batch, d]`, `time [batch, time_features]`, `classes [batch]` (int64) →
        /// `noise [batch, d]`.
        pub(crate) fn onnx_graph(
            &self,
            latent_dim: usize,
            time_features: usize,
        ) -> Result<Vec<u8>, BurnModelError> {
            let mut g = Graph::new();
            let x = g.input(
                "latents",
                ElemType::Float,
                &[Dim::Batch, Dim::Fixed(latent_dim)],
            );
            let time = g.input(
                "time",
                ElemType::Float,
                &[Dim::Batch, Dim::Fixed(time_features)],
            );
            let classes = g.input("classes", ElemType::Int64, &[Dim::Batch]);
            let t = linear(&mut g, &self.time1, &time)?;
            let t = g.silu(&t);
            let t = linear(&mut g, &self.time2, &t)?;
            let c = embedding(&mut g, &self.class_embedding, &classes)?;
            let emb = g.node("Add", &[&t, &c], &[]);
            let emb = g.silu(&emb);
            let mut h = linear(&mut g, &self.input, &x)?;
            for block in &self.blocks {
                let y = layer_norm(&mut g, &block.norm, &h)?;
                let y = g.silu(&y);
                let y = linear(&mut g, &block.fc1, &y)?;
                let e = linear(&mut g, &block.emb, &emb)?;
                let y = g.node("Add", &[&y, &e], &[]);
                let y = g.silu(&y);
                let y = linear(&mut g, &block.fc2, &y)?;
                h = g.node("Add", &[&h, &y], &[]);
            }
            let y = layer_norm(&mut g, &self.out_norm, &h)?;
            let y = g.silu(&y);
            let y = linear(&mut g, &self.output, &y)?;
            g.output(
                &y,
                "noise",
                ElemType::Float,
                &[Dim::Batch, Dim::Fixed(latent_dim)],
            );
            Ok(g.finish("nao-fashion-denoiser"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestep_features_are_sin_cos_pairs() {
        let f = timestep_features(&[0.0, 500.0], 8);
        assert_eq!(f.len(), 16);
        assert_eq!(&f[..8], &[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        for k in 0..4 {
            let (s, c) = (f[8 + k] as f64, f[12 + k] as f64);
            assert!((s * s + c * c - 1.0).abs() < 1e-6);
        }
        assert!((f[8] as f64 - 500f64.sin()).abs() < 1e-6);
    }
}
