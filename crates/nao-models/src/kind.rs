//! What a model folder holds: each kind's own detector decides, here they are asked in order.

use std::path::Path;

use nao_backend::{Device, Engine};

use crate::ModelsError;

/// The kinds of model nao opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ModelKind {
    /// The Fashion-MNIST model compiled into nao (`--model` left out).
    Embedded,
    /// Weights of the embedded model's kind (`cargo xtask train`: `model.json` + safetensors).
    EmbeddedWeights,
    /// The embedded model's ONNX export (`nao export-onnx`).
    EmbeddedOnnx,
    /// A Stable Diffusion ONNX export in optimum's layout (`optimum-cli export onnx`).
    OnnxExport,
    /// A Stable Diffusion 1.x/2.x diffusers folder (or a Hugging Face hub cache entry of one).
    Diffusers,
}

impl ModelKind {
    /// What `dir` holds, asking each kind's detector; an error listing what was looked for when
    /// it is none of them.
    ///
    /// ```
    /// use nao_models::ModelKind;
    /// let dir = tempfile::tempdir().unwrap();
    /// let e = ModelKind::detect(dir.path()).unwrap_err().to_string();
    /// assert!(e.contains("model_index.json") && e.contains("model.json"), "{e}");
    /// ```
    pub fn detect(dir: &Path) -> Result<ModelKind, ModelsError> {
        let not_a_model = |message: String| ModelsError::NotAModel {
            path: dir.display().to_string(),
            message,
        };
        let meta =
            std::fs::metadata(dir).map_err(|e| not_a_model(format!("cannot open it: {e}")))?;
        if !meta.is_dir() {
            return Err(not_a_model(
                "is not a folder; --model takes a model folder".into(),
            ));
        }
        if nao_burn::is_weights_folder(dir) {
            return Ok(ModelKind::EmbeddedWeights);
        }
        if nao_burn::is_onnx_export_folder(dir) {
            return Ok(ModelKind::EmbeddedOnnx);
        }
        if nao_onnx::is_export_folder(dir) {
            return Ok(ModelKind::OnnxExport);
        }
        if nao_sd::is_diffusers_folder(dir) {
            return Ok(ModelKind::Diffusers);
        }
        if dir.join("model_index.json").is_file() {
            return Err(not_a_model(
                "has a model_index.json, but not of a Stable Diffusion 1.x/2.x pipeline \
                 (StableDiffusionPipeline); nao runs that family only (see \
                 docs/stable-diffusion.md)"
                    .into(),
            ));
        }
        Err(not_a_model(format!(
            "holds no model nao knows; expected one of: a Stable Diffusion diffusers folder \
             (model_index.json, unet/, vae/, text_encoder/, tokenizer/, scheduler/), a Stable \
             Diffusion ONNX export in optimum's layout (unet/model.onnx, scheduler/, \
             vae_decoder/, …), weights of the embedded model's kind ({card} + {dn}), or its \
             ONNX export ({card} + {onnx})",
            card = nao_burn::CARD_FILE,
            dn = nao_burn::DENOISER_FILE,
            onnx = nao_burn::ONNX_DENOISER_FILE,
        )))
    }

    /// What the kind is, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            ModelKind::Embedded => "the embedded Fashion-MNIST model",
            ModelKind::EmbeddedWeights => "weights of the embedded model's kind",
            ModelKind::EmbeddedOnnx => "an ONNX export of the embedded model's kind",
            ModelKind::OnnxExport => "a Stable Diffusion ONNX export",
            ModelKind::Diffusers => "a Stable Diffusion diffusers folder",
        }
    }

    /// Why the kind does not run on other engines' devices, for messages.
    pub fn engine_hint(self) -> &'static str {
        match self {
            ModelKind::EmbeddedOnnx => {
                " (it holds no denoiser.safetensors, the weights burn devices read)"
            }
            ModelKind::EmbeddedWeights => {
                " (it holds no ONNX files; write them with `nao export-onnx --model DIR --out DIR`)"
            }
            ModelKind::OnnxExport => " (ONNX files run on ONNX Runtime)",
            ModelKind::Diffusers => {
                " (its safetensors run on burn; for ONNX Runtime export it with optimum-cli)"
            }
            ModelKind::Embedded => "",
        }
    }

    /// The engines that run this kind.
    pub fn engines(self) -> &'static [Engine] {
        match self {
            ModelKind::Embedded => &[Engine::Burn, Engine::OnnxRuntime],
            ModelKind::EmbeddedWeights | ModelKind::Diffusers => &[Engine::Burn],
            ModelKind::EmbeddedOnnx | ModelKind::OnnxExport => &[Engine::OnnxRuntime],
        }
    }

    /// Whether the kind runs on `device`.
    pub fn runs_on(self, device: Device) -> bool {
        self.engines().contains(&device.engine())
    }

    /// The device used when none is given.
    pub fn default_device(self) -> Device {
        match self.engines()[0] {
            Engine::Burn => Device::Cpu,
            Engine::OnnxRuntime => Device::OnnxCpu,
        }
    }

    /// The device names that run this kind, for messages.
    pub fn supported_devices(self) -> String {
        Device::ALL
            .into_iter()
            .filter(|&d| self.runs_on(d))
            .map(|d| {
                if d.needs_gpu() {
                    format!("{d}[:N]")
                } else {
                    d.to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}
