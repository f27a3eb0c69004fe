//! [`open_model`]: a model source on a device, as a `Box<dyn Backend>`.

use std::path::{Path, PathBuf};

use nao_backend::{Backend, Device, Engine, Precision};
use nao_onnx::{ExecutionProvider, OnnxError, OnnxOptions};

use crate::devices::{check_compiled, open_burn_device};
use crate::{ModelKind, ModelsError};

/// Where the model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// The embedded Fashion-MNIST model.
    Embedded,
    /// A model folder; [`ModelKind::detect`] says what it holds.
    Folder(PathBuf),
}

impl ModelSource {
    /// `Folder` for `Some(dir)`, `Embedded` for `None` (a command line's `--model`).
    pub fn from_option(dir: Option<&Path>) -> Self {
        match dir {
            Some(d) => ModelSource::Folder(d.to_path_buf()),
            None => ModelSource::Embedded,
        }
    }

    /// The model's name for reports: the folder, or `embedded`.
    pub fn name(&self) -> String {
        match self {
            ModelSource::Embedded => "embedded".into(),
            ModelSource::Folder(d) => d.display().to_string(),
        }
    }
}

/// The components a command needs; a model without one is refused when it is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Needs {
    /// Prompts are encoded.
    pub text_encoder: bool,
    /// Images are encoded (inversion).
    pub vae_encoder: bool,
    /// Latents are decoded into images.
    pub vae_decoder: bool,
}

/// How to open a model, built like `OpenOptions::default().with_threads(2)`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct OpenOptions {
    /// Intra-op threads of ONNX Runtime sessions (`None`: ONNX Runtime's choice).
    pub threads: Option<usize>,
    /// The ONNX Runtime library (`None`: `$ORT_DYLIB_PATH`).
    pub ort_library: Option<PathBuf>,
    /// The precision to compute in.
    pub precision: Precision,
    /// The weight-file variant to load (`fp16` for `*.fp16.safetensors`).
    pub variant: Option<String>,
    /// The components the caller needs.
    pub needs: Needs,
}

impl OpenOptions {
    /// With ONNX Runtime sessions on `threads` threads.
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = Some(threads);
        self
    }

    /// With the ONNX Runtime library at `path`.
    pub fn with_ort_library(mut self, path: impl Into<PathBuf>) -> Self {
        self.ort_library = Some(path.into());
        self
    }

    /// Computing in `precision`.
    pub fn with_precision(mut self, precision: Precision) -> Self {
        self.precision = precision;
        self
    }

    /// Loading the weight variant `variant`.
    pub fn with_variant(mut self, variant: impl Into<String>) -> Self {
        self.variant = Some(variant.into());
        self
    }

    /// Requiring the components in `needs`.
    pub fn needing(mut self, needs: Needs) -> Self {
        self.needs = needs;
        self
    }

    /// Check the values that need no file.
    pub fn check(&self) -> Result<(), ModelsError> {
        if self.threads == Some(0) {
            return Err(ModelsError::Invalid(
                "--threads 0: give at least 1 thread (or leave --threads out to let ONNX \
                 Runtime choose)"
                    .into(),
            ));
        }
        if let Some(t) = self.threads.filter(|&t| t > nao_onnx::max_threads()) {
            return Err(ModelsError::Invalid(format!(
                "--threads {t}: at most {} ({} per core of this machine's {}); more threads \
                 than that only slow ONNX Runtime down",
                nao_onnx::max_threads(),
                nao_onnx::THREADS_PER_CORE,
                nao_onnx::max_threads() / nao_onnx::THREADS_PER_CORE
            )));
        }
        if self
            .ort_library
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(ModelsError::Invalid(
                "--ort-lib: the library path is empty".into(),
            ));
        }
        if self.variant.as_deref().is_some_and(str::is_empty) {
            return Err(ModelsError::Invalid(
                "--variant: the variant is empty".into(),
            ));
        }
        Ok(())
    }

    fn onnx(&self, device: Device) -> OnnxOptions {
        let mut o = OnnxOptions::default();
        if let Some(t) = self.threads {
            o = o.with_threads(t);
        }
        if let Some(p) = &self.ort_library {
            o = o.with_library_path(p);
        }
        if let Device::OnnxCuda(n) = device {
            o = o.with_execution_provider(ExecutionProvider::Cuda {
                device_id: i32::try_from(n).unwrap_or(i32::MAX),
            });
        }
        o
    }
}

/// An opened model: the backend, what it is and where it runs.
pub struct OpenedModel {
    /// The model behind nao's diffusion `Backend` trait.
    pub model: Box<dyn Backend>,
    /// What the source held.
    pub kind: ModelKind,
    /// The device it runs on.
    pub device: Device,
}

impl std::fmt::Debug for OpenedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedModel")
            .field("model", &self.model.info().name)
            .field("kind", &self.kind)
            .field("device", &self.device)
            .finish()
    }
}

/// Open `source` on `device` (`None`: the kind's default, [`ModelKind::default_device`]).
///
/// Errors say what to do: a device this build lacks names its feature, a device the model kind
/// does not run on lists the ones it does, a missing component names its file.
pub fn open_model(
    source: &ModelSource,
    device: Option<Device>,
    options: &OpenOptions,
) -> Result<OpenedModel, ModelsError> {
    options.check()?;
    let kind = match source {
        ModelSource::Embedded => ModelKind::Embedded,
        ModelSource::Folder(dir) => ModelKind::detect(dir)?,
    };
    let device = device.unwrap_or_else(|| kind.default_device());
    let name = source.name();
    if !kind.runs_on(device) {
        return Err(ModelsError::WrongEngine {
            device: device.to_string(),
            model: name,
            kind: kind.describe(),
            supported: kind.supported_devices(),
            hint: kind.engine_hint(),
        });
    }
    check_compiled(device)?;
    if options.precision != Precision::F32 && kind != ModelKind::Diffusers {
        return Err(ModelsError::Invalid(format!(
            "--dtype {}: {} computes in f32 only",
            options.precision,
            kind.describe()
        )));
    }
    if options.variant.is_some() && kind != ModelKind::Diffusers {
        return Err(ModelsError::Invalid(format!(
            "--variant: {} has no weight variants",
            kind.describe()
        )));
    }
    let load = |message: String| ModelsError::Load {
        model: name.clone(),
        message,
    };
    let model: Box<dyn Backend> = match (source, kind) {
        (ModelSource::Embedded, _) if device.engine() == Engine::Burn => {
            let d = open_burn_device(device)?;
            Box::new(nao_burn::BurnModel::embedded(&d).map_err(|e| load(e.to_string()))?)
        }
        (ModelSource::Embedded, _) => embedded_onnx(options.onnx(device)).map_err(load)?,
        (ModelSource::Folder(dir), ModelKind::EmbeddedWeights) => {
            let d = open_burn_device(device)?;
            Box::new(nao_burn::BurnModel::load(dir, &d).map_err(|e| load(e.to_string()))?)
        }
        (ModelSource::Folder(dir), ModelKind::Diffusers) => {
            let d = open_burn_device(device)?;
            let mut sd = nao_sd::SdOptions::default().with_precision(options.precision);
            if let Some(v) = &options.variant {
                sd = sd.with_variant(v);
            }
            Box::new(nao_sd::StableDiffusion::load(dir, &d, &sd).map_err(|e| load(e.to_string()))?)
        }
        (ModelSource::Folder(dir), ModelKind::EmbeddedOnnx) => {
            embedded_onnx_folder(dir, options.onnx(device)).map_err(load)?
        }
        (ModelSource::Folder(dir), _) => Box::new(
            nao_onnx::OnnxBackend::load(dir, &options.onnx(device))
                .map_err(|e| onnx_error(dir, e))?,
        ),
    };
    check_needs(&*model, source, kind, options.needs)?;
    Ok(OpenedModel {
        model,
        kind,
        device,
    })
}

#[cfg(feature = "onnx")]
fn embedded_onnx(options: OnnxOptions) -> Result<Box<dyn Backend>, String> {
    Ok(Box::new(
        nao_burn::OnnxModel::embedded(&options).map_err(|e| e.to_string())?,
    ))
}

#[cfg(feature = "onnx")]
fn embedded_onnx_folder(dir: &Path, options: OnnxOptions) -> Result<Box<dyn Backend>, String> {
    Ok(Box::new(
        nao_burn::OnnxModel::load(dir, &options).map_err(|e| e.to_string())?,
    ))
}

#[cfg(not(feature = "onnx"))]
fn embedded_onnx(_: OnnxOptions) -> Result<Box<dyn Backend>, String> {
    unreachable!("check_compiled refuses ONNX devices without the onnx feature")
}

#[cfg(not(feature = "onnx"))]
fn embedded_onnx_folder(_: &Path, _: OnnxOptions) -> Result<Box<dyn Backend>, String> {
    unreachable!("check_compiled refuses ONNX devices without the onnx feature")
}

/// An ONNX loading error in the words of the command line.
fn onnx_error(dir: &Path, e: OnnxError) -> ModelsError {
    let model = dir.display().to_string();
    let message = match e {
        OnnxError::LibraryNotConfigured => format!(
            "the ONNX Runtime library is not configured: pass --ort-lib PATH or set \
             ORT_DYLIB_PATH to libonnxruntime (ONNX Runtime >= {}; `cargo xtask setup-ort` \
             downloads one)",
            nao_onnx::REQUIRED_ORT_VERSION
        ),
        other => other.to_string(),
    };
    ModelsError::Load { model, message }
}

/// Refuse a model without a component in `needs`, naming the component's file where the kind
/// has one.
fn check_needs(
    model: &dyn Backend,
    source: &ModelSource,
    kind: ModelKind,
    needs: Needs,
) -> Result<(), ModelsError> {
    let caps = model.capabilities();
    let missing = [
        (
            needs.text_encoder && !caps.text_encoder,
            "text encoder",
            "text_encoder/model.onnx",
            "it encodes the prompt",
        ),
        (
            needs.vae_encoder && !caps.vae_encoder,
            "VAE encoder",
            "vae_encoder/model.onnx",
            "it turns images into latents",
        ),
        (
            needs.vae_decoder && !caps.vae_decoder,
            "VAE decoder",
            "vae_decoder/model.onnx",
            "it turns latents into images",
        ),
    ];
    for (is_missing, component, file, purpose) in missing {
        if is_missing {
            let component = match (source, kind) {
                (ModelSource::Folder(dir), ModelKind::OnnxExport) => {
                    format!("{component} ({} is missing)", dir.join(file).display())
                }
                _ => component.to_string(),
            };
            return Err(ModelsError::MissingComponent {
                model: source.name(),
                component,
                purpose,
            });
        }
    }
    Ok(())
}
