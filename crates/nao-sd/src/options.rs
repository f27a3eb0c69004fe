//! How to load a model: compute precision and weights variant.

use nao_backend::Precision;

/// Options of [`StableDiffusion::load`](crate::StableDiffusion::load).
///
/// ```
/// use nao_backend::Precision;
/// let o = nao_sd::SdOptions::default().with_precision(Precision::F16).with_variant("fp16");
/// assert_eq!(o.variant.as_deref(), Some("fp16"));
/// assert_eq!(nao_sd::SdOptions::default().precision, Precision::F32);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdOptions {
    /// The precision the networks compute in (weights are converted to it as they load);
    /// f32 by default. The device must support it.
    pub precision: Precision,
    /// The weights variant to load, e.g. `"fp16"` for `diffusion_pytorch_model.fp16.safetensors`;
    /// `None` takes the files without a variant (or a component's only file).
    pub variant: Option<String>,
}

impl SdOptions {
    /// With a compute precision.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// With a weights variant.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = Some(variant.into());
        self
    }
}
