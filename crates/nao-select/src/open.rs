//! Opening the model SeedSelect refines through, from the same `--model` and `--device` the
//! other commands take: the embedded model and weights of its kind (their classifier as the
//! encoder); an ONNX export is refused with what works instead.

use std::path::Path;

use burn::tensor::Device;
use nao_models::ModelKind;

use crate::{not_differentiable, EmbeddedNet, Result, SelectError, SelectModel};

/// The model in `folder` (`None`: the embedded one) on the burn `device` (made an autodiff
/// device), frozen and conditioned on `prompt`.
///
/// ```
/// let model = nao_select::open_model(None, &nao_burn::Device::flex(), "ankle boot")?;
/// assert_eq!(model.latent_shape(), [4, 7, 7]);
/// # Ok::<(), nao_select::SelectError>(())
/// ```
pub fn open_model(
    folder: Option<&Path>,
    device: &Device,
    prompt: &str,
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
    match kind {
        ModelKind::Embedded => Ok(Box::new(EmbeddedNet::embedded(device, class()?)?)),
        ModelKind::EmbeddedWeights => {
            let dir = folder.unwrap_or(Path::new("."));
            let model = nao_burn::BurnModel::load(dir, &ad)
                .map_err(|e| SelectError::Input(e.to_string()))?;
            Ok(Box::new(EmbeddedNet::new(model, class()?)?))
        }
        ModelKind::EmbeddedOnnx | ModelKind::OnnxExport => Err(not_differentiable(kind.describe())),
        ModelKind::Diffusers => Err(SelectError::Input(format!(
            "{}: SeedSelect on Stable Diffusion needs a CLIP image encoder; see \
             --image-encoder",
            folder.unwrap_or(Path::new("")).display()
        ))),
    }
}
