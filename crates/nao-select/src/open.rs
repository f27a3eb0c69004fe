//! Opening the model SeedSelect refines through, from the same `--model` and `--device` the
//! other commands take: the embedded model and weights of its kind (their classifier as the
//! encoder), Stable Diffusion folders (a CLIP vision tower as the encoder); an ONNX export is
//! refused with what works instead.

use std::path::{Path, PathBuf};

use burn::tensor::Device;
use nao_backend::Precision;
use nao_models::ModelKind;

use crate::{
    not_differentiable, DiffusionNet, EmbeddedNet, Result, SdNet, SelectError, SelectModel,
};

/// How [`open_model`] opens a Stable Diffusion folder (the embedded model needs none of it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenOptions {
    /// The CLIP vision tower (`CLIPVisionModelWithProjection`: `config.json` and
    /// `model.safetensors`); `None` takes the model folder's `image_encoder/`.
    pub image_encoder: Option<PathBuf>,
    /// The negative prompt: guidance's unconditional side.
    pub negative_prompt: String,
    /// The precision the networks compute in.
    pub precision: Precision,
    /// The weights variant (`"fp16"` for `*.fp16.safetensors`).
    pub variant: Option<String>,
    /// The latents' height and width of the seeds to refine (Stable Diffusion samples any size
    /// its VAE factor divides); `None`: the model's default size.
    pub latent_size: Option<(usize, usize)>,
}

/// The model in `folder` (`None`: the embedded one) on the burn `device` (made an autodiff
/// device), frozen and conditioned on `prompt`.
///
/// ```
/// use nao_select::{open_model, OpenOptions};
/// let model = open_model(None, &nao_burn::Device::flex(), "ankle boot", &OpenOptions::default())?;
/// assert_eq!(model.latent_shape(), [4, 7, 7]);
/// # Ok::<(), nao_select::SelectError>(())
/// ```
pub fn open_model(
    folder: Option<&Path>,
    device: &Device,
    prompt: &str,
    options: &OpenOptions,
) -> Result<Box<dyn SelectModel>> {
    let kind = match folder {
        None => ModelKind::Embedded,
        Some(dir) => ModelKind::detect(dir).map_err(|e| SelectError::Input(e.to_string()))?,
    };
    let class = || {
        nao_burn::class_from_prompt(prompt)
            .map_err(|e| SelectError::Input(format!("prompt \"{prompt}\": {e}")))?
            .ok_or_else(|| {
                SelectError::Input(format!(
                    "prompt \"{prompt}\": the embedded model's prompts name a class ({})",
                    nao_burn::CLASS_SLUGS.join(", ")
                ))
            })
    };
    let ad = device.clone().autodiff();
    if let (Some(encoder), ModelKind::Embedded | ModelKind::EmbeddedWeights) =
        (&options.image_encoder, kind)
    {
        return Err(SelectError::Input(format!(
            "--image-encoder {}: the embedded model compares images with its own classifier; \
             an image encoder is for Stable Diffusion folders",
            encoder.display()
        )));
    }
    let fixed_size = |net: EmbeddedNet| -> Result<Box<dyn SelectModel>> {
        let [_, h, w] = net.latent_shape();
        match options.latent_size {
            Some(size) if size != (h, w) => Err(SelectError::LatentSize(format!(
                "latents of {}×{}: the embedded model's are {h}×{w} (its networks have a fixed \
                 size)",
                size.0, size.1
            ))),
            _ => Ok(Box::new(net)),
        }
    };
    match kind {
        ModelKind::Embedded => fixed_size(EmbeddedNet::embedded(device, class()?)?),
        ModelKind::EmbeddedWeights => {
            let dir = folder.unwrap_or(Path::new("."));
            let model = nao_burn::BurnModel::load(dir, &ad)
                .map_err(|e| SelectError::Input(e.to_string()))?;
            fixed_size(EmbeddedNet::new(model, class()?)?)
        }
        ModelKind::EmbeddedOnnx | ModelKind::OnnxExport => Err(not_differentiable(kind.describe())),
        ModelKind::Diffusers => {
            let dir = folder.unwrap_or(Path::new("."));
            let mut sd = nao_sd::SdOptions::default().with_precision(options.precision);
            if let Some(v) = &options.variant {
                sd = sd.with_variant(v);
            }
            let encoder = options.image_encoder.as_deref();
            let negative = &options.negative_prompt;
            let mut net = SdNet::load(dir, encoder, device, prompt, negative, &sd)?;
            if let Some((h, w)) = options.latent_size {
                let s = nao_backend::Backend::info(net.model())
                    .vae_downsample
                    .max(1);
                let (height, width) = (h.saturating_mul(s), w.saturating_mul(s));
                net = net.with_image_size(height, width)?;
            }
            Ok(Box::new(net))
        }
    }
}
