//! diffusers' `ResnetBlock2D` (shared by the UNet and the VAE) and the convolutions that
//! halve and double the resolution between blocks.

use burn::nn::conv::Conv2d;
use burn::nn::{GroupNorm, Linear, PaddingConfig2d};
use burn::tensor::activation::silu;
use burn::tensor::Tensor;

use crate::nn::upsample_nearest;
use crate::weights::Loader;
use crate::SdError;

/// The sizes of one ResNet block.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ResnetSpec {
    pub c_in: usize,
    pub c_out: usize,
    /// Width of the time embedding (the VAE's blocks have none).
    pub temb: Option<usize>,
    pub groups: usize,
    pub eps: f64,
    /// `scale_shift` time conditioning instead of `default`.
    pub scale_shift: bool,
    /// The output is divided by this.
    pub output_scale: f64,
}

/// norm → SiLU → conv → (+ time) → norm → SiLU → conv, plus a (1×1-projected) shortcut.
#[derive(Debug)]
pub(crate) struct ResnetBlock {
    norm1: GroupNorm,
    conv1: Conv2d,
    time_emb_proj: Option<Linear>,
    norm2: GroupNorm,
    conv2: Conv2d,
    conv_shortcut: Option<Conv2d>,
    scale_shift: bool,
    output_scale: f64,
}

impl ResnetBlock {
    pub fn new(w: &mut Loader, p: &str, s: ResnetSpec) -> Result<Self, SdError> {
        let temb_out = if s.scale_shift { 2 * s.c_out } else { s.c_out };
        Ok(Self {
            norm1: w.group_norm(&format!("{p}.norm1"), s.groups, s.c_in, s.eps)?,
            conv1: w.conv2d(&format!("{p}.conv1"), s.c_in, s.c_out, 3, 1, None)?,
            time_emb_proj: s
                .temb
                .map(|t| w.linear(&format!("{p}.time_emb_proj"), t, temb_out, true))
                .transpose()?,
            norm2: w.group_norm(&format!("{p}.norm2"), s.groups, s.c_out, s.eps)?,
            conv2: w.conv2d(&format!("{p}.conv2"), s.c_out, s.c_out, 3, 1, None)?,
            conv_shortcut: (s.c_in != s.c_out)
                .then(|| w.conv2d(&format!("{p}.conv_shortcut"), s.c_in, s.c_out, 1, 1, None))
                .transpose()?,
            scale_shift: s.scale_shift,
            output_scale: s.output_scale,
        })
    }

    /// `temb` is the time embedding after its SiLU, `[b, temb]`.
    pub fn forward(&self, x: Tensor<4>, temb: Option<&Tensor<2>>) -> Tensor<4> {
        let h = self.conv1.forward(silu(self.norm1.forward(x.clone())));
        let h = match (&self.time_emb_proj, temb) {
            (Some(proj), Some(t)) => {
                let t = proj.forward(t.clone());
                let [b, c] = t.dims();
                if self.scale_shift {
                    let half = c / 2;
                    let scale = t.clone().narrow(1, 0, half).reshape([b, half, 1, 1]);
                    let shift = t.narrow(1, half, half).reshape([b, half, 1, 1]);
                    self.norm2.forward(h) * (scale.add_scalar(1.0)) + shift
                } else {
                    self.norm2.forward(h + t.reshape([b, c, 1, 1]))
                }
            }
            _ => self.norm2.forward(h),
        };
        let h = self.conv2.forward(silu(h));
        let x = match &self.conv_shortcut {
            Some(c) => c.forward(x),
            None => x,
        };
        let out = x + h;
        if self.output_scale == 1.0 {
            out
        } else {
            out.div_scalar(self.output_scale)
        }
    }
}

/// A stride-2 3×3 convolution; `padding` 1 pads every side, 0 pads only bottom and right (as
/// diffusers' `Downsample2D` does then).
pub(crate) fn downsample(
    w: &mut Loader,
    p: &str,
    channels: usize,
    padding: usize,
) -> Result<Conv2d, SdError> {
    let pad = if padding == 0 {
        PaddingConfig2d::Explicit(0, 0, 1, 1)
    } else {
        PaddingConfig2d::Explicit(padding, padding, padding, padding)
    };
    w.conv2d(&format!("{p}.conv"), channels, channels, 3, 2, Some(pad))
}

/// Nearest up-sampling to `size` followed by a 3×3 convolution (`Upsample2D`).
#[derive(Debug)]
pub(crate) struct Upsample {
    conv: Conv2d,
}

impl Upsample {
    pub fn new(w: &mut Loader, p: &str, channels: usize) -> Result<Self, SdError> {
        Ok(Self {
            conv: w.conv2d(&format!("{p}.conv"), channels, channels, 3, 1, None)?,
        })
    }

    pub fn forward(&self, x: Tensor<4>, size: (usize, usize)) -> Tensor<4> {
        self.conv.forward(upsample_nearest(x, size.0, size.1))
    }
}
