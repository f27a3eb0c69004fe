//! The autoencoder: 28×28 grey images ↔ 4×7×7 latents, in the image of Stable Diffusion's VAE.
//!
//! Encoder: three 3×3 convolutions (two with stride 2) and a residual 7×7 block; its output is
//! a posterior mean and log-variance per latent element (a KL-regularised VAE with a tiny KL
//! weight, like SD's, so the decoder tolerates the small errors of sampled latents). Decoder:
//! the mirror image with nearest-neighbour upsampling. Inference uses the posterior mean.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::silu;
use serde::{Deserialize, Serialize};

/// Sizes of the autoencoder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AutoencoderConfig {
    /// Channels at full resolution; doubled at 14×14 and 7×7.
    pub base_channels: usize,
    /// Latent channels (4, like Stable Diffusion).
    pub latent_channels: usize,
}

impl Default for AutoencoderConfig {
    fn default() -> Self {
        Self {
            base_channels: 16,
            latent_channels: 4,
        }
    }
}

fn conv(cin: usize, cout: usize, stride: usize, device: &Device) -> Conv2d {
    Conv2dConfig::new([cin, cout], [3, 3])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
        .init(device)
}

/// Nearest-neighbour ×2 upsampling by broadcasting (its gradient is a plain sum).
fn upsample2(x: Tensor<4>) -> Tensor<4> {
    let [b, c, h, w] = x.dims();
    x.reshape([b, c, h, 1, w, 1])
        .expand([b, c, h, 2, w, 2])
        .reshape([b, c, 2 * h, 2 * w])
}

/// The autoencoder module.
#[derive(Module, Debug)]
pub struct Autoencoder {
    enc_in: Conv2d,
    enc_down1: Conv2d,
    enc_down2: Conv2d,
    enc_mid: Conv2d,
    enc_out: Conv2d,
    dec_in: Conv2d,
    dec_mid: Conv2d,
    dec_up1: Conv2d,
    dec_up2: Conv2d,
    dec_out: Conv2d,
}

impl Autoencoder {
    /// A freshly initialised autoencoder on `device`.
    pub fn new(config: &AutoencoderConfig, device: &Device) -> Self {
        let c = config.base_channels;
        let l = config.latent_channels;
        Self {
            enc_in: conv(1, c, 1, device),
            enc_down1: conv(c, 2 * c, 2, device),
            enc_down2: conv(2 * c, 4 * c, 2, device),
            enc_mid: conv(4 * c, 4 * c, 1, device),
            enc_out: conv(4 * c, 2 * l, 1, device),
            dec_in: conv(l, 4 * c, 1, device),
            dec_mid: conv(4 * c, 4 * c, 1, device),
            dec_up1: conv(4 * c, 2 * c, 1, device),
            dec_up2: conv(2 * c, c, 1, device),
            dec_out: conv(c, 1, 1, device),
        }
    }

    /// Posterior mean and log-variance `[b, l, 7, 7]` of images `[b, 1, 28, 28]` in `[−1, 1]`.
    pub fn encode(&self, images: Tensor<4>) -> (Tensor<4>, Tensor<4>) {
        let x = silu(self.enc_in.forward(images));
        let x = silu(self.enc_down1.forward(x));
        let x = silu(self.enc_down2.forward(x));
        let x = x.clone() + silu(self.enc_mid.forward(x));
        let out = self.enc_out.forward(x);
        let l = out.dims()[1] / 2;
        let mean = out.clone().narrow(1, 0, l);
        // Bounded like diffusers' DiagonalGaussianDistribution.
        let logvar = out.narrow(1, l, l).clamp(-30.0, 20.0);
        (mean, logvar)
    }

    /// Images `[b, 1, 28, 28]` (about `[−1, 1]`, not clamped) from unscaled latents.
    pub fn decode(&self, latents: Tensor<4>) -> Tensor<4> {
        let x = silu(self.dec_in.forward(latents));
        let x = x.clone() + silu(self.dec_mid.forward(x));
        let x = silu(self.dec_up1.forward(upsample2(x)));
        let x = silu(self.dec_up2.forward(upsample2(x)));
        self.dec_out.forward(x)
    }
}

/// The same networks as ONNX graphs (see [`crate::OnnxExport`]); each mirrors
/// [`Autoencoder::encode`] / [`Autoencoder::decode`] line by line.
mod onnx {
    use super::Autoencoder;
    use crate::error::BurnModelError;
    use crate::onnx_graph::graph::{Dim, ElemType, Graph};
    use crate::onnx_graph::layers::{conv2d, narrow1, upsample2};

    impl Autoencoder {
        /// `images [batch, 1, 28, 28]` → `mean [batch, l, 7, 7]` (the posterior mean).
        pub(crate) fn onnx_encoder(&self, side: usize) -> Result<Vec<u8>, BurnModelError> {
            let mut g = Graph::new();
            let x = g.input("images", ElemType::Float, &Dim::grey_images(side));
            let x = conv2d(&mut g, &self.enc_in, &x)?;
            let x = g.silu(&x);
            let x = conv2d(&mut g, &self.enc_down1, &x)?;
            let x = g.silu(&x);
            let x = conv2d(&mut g, &self.enc_down2, &x)?;
            let x = g.silu(&x);
            let y = conv2d(&mut g, &self.enc_mid, &x)?;
            let y = g.silu(&y);
            let x = g.node("Add", &[&x, &y], &[]);
            let out = conv2d(&mut g, &self.enc_out, &x)?;
            let l = self.enc_out.weight.val().dims()[0] / 2;
            let mean = narrow1(&mut g, &out, 0, l);
            let s = side / 4;
            g.output(
                &mean,
                "mean",
                ElemType::Float,
                &[Dim::Batch, Dim::Fixed(l), Dim::Fixed(s), Dim::Fixed(s)],
            );
            Ok(g.finish("nao-fashion-vae-encoder"))
        }

        /// `latents [batch, l, 7, 7]` (unscaled) → `images [batch, 1, 28, 28]` about `[−1, 1]`.
        pub(crate) fn onnx_decoder(&self, side: usize) -> Result<Vec<u8>, BurnModelError> {
            let mut g = Graph::new();
            let l = self.dec_in.weight.val().dims()[1];
            let s = side / 4;
            let z = g.input(
                "latents",
                ElemType::Float,
                &[Dim::Batch, Dim::Fixed(l), Dim::Fixed(s), Dim::Fixed(s)],
            );
            let x = conv2d(&mut g, &self.dec_in, &z)?;
            let x = g.silu(&x);
            let y = conv2d(&mut g, &self.dec_mid, &x)?;
            let y = g.silu(&y);
            let x = g.node("Add", &[&x, &y], &[]);
            let x = upsample2(&mut g, &x);
            let x = conv2d(&mut g, &self.dec_up1, &x)?;
            let x = g.silu(&x);
            let x = upsample2(&mut g, &x);
            let x = conv2d(&mut g, &self.dec_up2, &x)?;
            let x = g.silu(&x);
            let x = conv2d(&mut g, &self.dec_out, &x)?;
            g.output(&x, "images", ElemType::Float, &Dim::grey_images(side));
            Ok(g.finish("nao-fashion-vae-decoder"))
        }
    }
}
