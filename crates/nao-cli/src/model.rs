//! The diffusion model of `nao invert`, `nao sample` and `nao reconstruct` — the embedded
//! model on any compiled device, a weight folder of it, its ONNX export, or a Stable Diffusion
//! ONNX export — and the options every such command shares.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use nao_backend::Backend;
use nao_inversion::{InversionError, ResizePolicy};
use nao_onnx::{OnnxBackend, OnnxError, OnnxOptions};

use crate::device::DeviceArg;
use crate::error::CliError;
use crate::output::spinner;

/// Where the model is and how ONNX Runtime runs it.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Model folder: a Stable Diffusion ONNX export in optimum's layout (text_encoder/, unet/,
    /// vae_encoder/, vae_decoder/, tokenizer/, scheduler/), weights of the embedded model's
    /// kind (`cargo xtask train`: model.json + *.safetensors) or its ONNX export (`nao
    /// export-onnx`) [default: the embedded Fashion-MNIST model, 28×28 grey images, prompts
    /// are class names such as "sneaker" or "bag"].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Where the model runs: cpu (burn, pure Rust), wgpu, tch-cpu, tch-cuda[:N], cuda[:N]
    /// (burn backends), onnx-cpu, onnx-cuda[:N] (ONNX Runtime). Devices not compiled into
    /// this build say which Cargo feature adds them [default: cpu; onnx-cpu for ONNX folders].
    #[arg(long, value_name = "DEVICE")]
    device: Option<DeviceArg>,
    /// Intra-op threads of each ONNX Runtime session [default: ONNX Runtime's choice, one per
    /// core].
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// The ONNX Runtime shared library (libonnxruntime.so.1.31.x, onnxruntime.dll, …), version
    /// 1.31 or newer [default: $ORT_DYLIB_PATH].
    #[arg(long, value_name = "PATH")]
    ort_lib: Option<PathBuf>,
}

/// The model components a command needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    /// `text_encoder/model.onnx` and `tokenizer/`.
    TextEncoder,
    /// `vae_encoder/model.onnx`.
    VaeEncoder,
    /// `vae_decoder/model.onnx`.
    VaeDecoder,
}

impl Component {
    /// The file of the component, relative to the model folder.
    fn file(self) -> &'static str {
        match self {
            Component::TextEncoder => "text_encoder/model.onnx",
            Component::VaeEncoder => "vae_encoder/model.onnx",
            Component::VaeDecoder => "vae_decoder/model.onnx",
        }
    }

    /// What the component is for.
    fn purpose(self) -> &'static str {
        match self {
            Component::TextEncoder => "the text encoder, which encodes the prompt",
            Component::VaeEncoder => "the VAE encoder, which turns images into latents",
            Component::VaeDecoder => "the VAE decoder, which turns latents into images",
        }
    }
}

/// How images of another size than the model's are brought to it (`--resize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ResizeArg {
    /// Scale to cover the model's size, keeping the aspect ratio, then cut the centre
    /// (diffusers' `resize_mode="crop"`).
    CenterCrop,
    /// Scale to the model's size, ignoring the aspect ratio (diffusers' default).
    Stretch,
    /// No resizing: an image of another size is an error.
    Exact,
}

impl From<ResizeArg> for ResizePolicy {
    fn from(r: ResizeArg) -> Self {
        match r {
            ResizeArg::CenterCrop => ResizePolicy::CenterCrop,
            ResizeArg::Stretch => ResizePolicy::Stretch,
            ResizeArg::Exact => ResizePolicy::Exact,
        }
    }
}

impl ModelArgs {
    /// The model's name for reports: the folder, or `embedded`.
    pub fn name(&self) -> String {
        match &self.model {
            Some(dir) => dir.display().to_string(),
            None => "embedded".to_string(),
        }
    }

    /// Check the options that need no file (before any input is read).
    pub fn check(&self) -> Result<(), CliError> {
        if self.threads == Some(0) {
            return Err(CliError::input(
                "--threads 0: give at least 1 thread (or leave --threads out to let ONNX \
                 Runtime choose)",
            ));
        }
        if self
            .ort_lib
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            return Err(CliError::input("--ort-lib: the library path is empty"));
        }
        Ok(())
    }

    fn onnx_options(&self) -> OnnxOptions {
        let mut options = OnnxOptions::default();
        if let Some(t) = self.threads {
            options = options.with_threads(t);
        }
        if let Some(p) = &self.ort_lib {
            options = options.with_library_path(p);
        }
        options
    }

    /// Load the model on the chosen device and check that it has every component in
    /// `needs`; a missing component is an error naming its file.
    pub fn load(&self, json: bool, needs: &[Component]) -> Result<Box<dyn Backend>, CliError> {
        self.check()?;
        let options = self.onnx_options();
        let Some(dir) = &self.model else {
            // The embedded model has every component.
            let device = self.device.unwrap_or_default();
            let pb = spinner(json, &format!("loading the embedded model on {device}"));
            let model = device.embedded(&options);
            pb.finish_and_clear();
            return model;
        };
        if dir.join(nao_burn::CARD_FILE).is_file() {
            return self.load_embedded_kind(dir, &options);
        }
        let device = self.device.unwrap_or(DeviceArg::Onnx { cuda: None });
        let Some(provider) = device.provider() else {
            return Err(CliError::input(format!(
                "--device {device}: {} is a Stable Diffusion ONNX export, which runs on ONNX                  Runtime: use --device onnx-cpu or onnx-cuda[:N]",
                dir.display()
            )));
        };
        if let nao_onnx::ExecutionProvider::Cuda { .. } = provider {
            device.check_compiled()?;
        }
        let options = options.with_execution_provider(provider);
        let pb = spinner(json, &format!("loading {}", dir.display()));
        let loaded = OnnxBackend::load(dir, &options);
        pb.finish_and_clear();
        let backend = loaded.map_err(|e| load_error(dir, e))?;
        let caps = backend.capabilities();
        for &c in needs {
            let present = match c {
                Component::TextEncoder => caps.text_encoder,
                Component::VaeEncoder => caps.vae_encoder,
                Component::VaeDecoder => caps.vae_decoder,
            };
            if !present {
                return Err(CliError::input(format!(
                    "{}: missing; this command needs {} (model folder {})",
                    dir.join(c.file()).display(),
                    c.purpose(),
                    dir.display()
                )));
            }
        }
        Ok(Box::new(backend))
    }

    /// A folder with `model.json`: trained weights (safetensors, any burn device) or their
    /// ONNX export (`nao export-onnx`, onnx devices).
    fn load_embedded_kind(
        &self,
        dir: &Path,
        options: &OnnxOptions,
    ) -> Result<Box<dyn Backend>, CliError> {
        let has_onnx = dir.join(nao_burn::ONNX_DENOISER_FILE).is_file();
        let device = self.device.unwrap_or(if has_onnx {
            DeviceArg::Onnx { cuda: None }
        } else {
            DeviceArg::default()
        });
        device.check_compiled()?;
        let cannot = |e: nao_burn::BurnModelError| {
            CliError::input(format!("cannot load the model {}: {e}", dir.display()))
        };
        if let Some(burn) = device.open_burn()? {
            if !dir.join(nao_burn::DENOISER_FILE).is_file() {
                return Err(CliError::input(format!(
                    "--device {device}: {} holds no {} (an ONNX export runs on --device                      onnx-cpu or onnx-cuda[:N])",
                    dir.display(),
                    nao_burn::DENOISER_FILE
                )));
            }
            let model = nao_burn::BurnModel::load(dir, &burn).map_err(cannot)?;
            return Ok(Box::new(model));
        }
        load_embedded_onnx(dir, device, options)
    }
}

#[cfg(feature = "onnx")]
fn load_embedded_onnx(
    dir: &Path,
    device: DeviceArg,
    options: &OnnxOptions,
) -> Result<Box<dyn Backend>, CliError> {
    if !dir.join(nao_burn::ONNX_DENOISER_FILE).is_file() {
        return Err(CliError::input(format!(
            "--device {device}: {} holds no {}; write one with `nao export-onnx --model {}              --out {}`",
            dir.display(),
            nao_burn::ONNX_DENOISER_FILE,
            dir.display(),
            dir.display()
        )));
    }
    let options = options
        .clone()
        .with_execution_provider(device.provider().expect("an onnx device"));
    let model = nao_burn::OnnxModel::load(dir, &options)
        .map_err(|e| CliError::input(format!("cannot load the model {}: {e}", dir.display())))?;
    Ok(Box::new(model))
}

#[cfg(not(feature = "onnx"))]
fn load_embedded_onnx(
    _: &Path,
    device: DeviceArg,
    _: &OnnxOptions,
) -> Result<Box<dyn Backend>, CliError> {
    device.check_compiled()?;
    unreachable!("check_compiled fails without the onnx feature")
}

/// A model-loading error in the words of the command line.
fn load_error(dir: &Path, e: OnnxError) -> CliError {
    match e {
        OnnxError::LibraryNotConfigured => CliError::input(format!(
            "the ONNX Runtime library is not configured: pass --ort-lib PATH or set \
             ORT_DYLIB_PATH to libonnxruntime (ONNX Runtime >= {}; `cargo xtask setup-ort` \
             downloads one)",
            nao_onnx::REQUIRED_ORT_VERSION
        )),
        OnnxError::Library { .. } => CliError::compute("--ort-lib/ORT_DYLIB_PATH", e),
        // The library's messages name the file ("DIR/unet/model.onnx: the UNet model is
        // missing"); say which folder was being loaded when they do not.
        other => {
            let message = other.to_string();
            let folder = dir.display().to_string();
            if message.contains(&folder) {
                CliError::input(format!("cannot load the model: {message}"))
            } else {
                CliError::input(format!("cannot load the model {folder}: {message}"))
            }
        }
    }
}

/// An image-loading error that names the file.
pub fn image_error(path: &Path, e: InversionError) -> CliError {
    match e {
        InversionError::Image { message, .. } => CliError::input(format!(
            "{}: cannot read it as a PNG or JPEG image: {message}",
            path.display()
        )),
        InversionError::InvalidInput(message) => {
            CliError::input(format!("{}: {message} (see --resize)", path.display()))
        }
        other => CliError::input(format!("{}: {other}", path.display())),
    }
}

/// Check a guidance scale given as `option`.
pub fn check_guidance(option: &str, g: f64) -> Result<(), CliError> {
    if !g.is_finite() || g < 0.0 {
        return Err(CliError::input(format!(
            "{option} {g}: the guidance scale must be a finite number ≥ 0 (≤ 1 runs no \
             unconditional pass)"
        )));
    }
    Ok(())
}

/// Check a step count given as `option` against the model's `train_timesteps` (pass
/// `usize::MAX` before the model is loaded).
pub fn check_steps(option: &str, steps: usize, train_timesteps: usize) -> Result<(), CliError> {
    if steps == 0 {
        return Err(CliError::input(format!(
            "{option} 0: at least one step is needed"
        )));
    }
    if steps > train_timesteps {
        return Err(CliError::input(format!(
            "{option} {steps}: at most {train_timesteps} steps (the model's training timesteps, \
             num_train_timesteps of its scheduler config)"
        )));
    }
    Ok(())
}
