//! The diffusion model of `nao invert`, `nao sample` and `nao reconstruct` — the embedded
//! model or a model folder, on `--device` — and the options every such command shares. Opening
//! is `nao_models::open_model`'s job; this file only turns options into its arguments.

use std::path::{Path, PathBuf};

use clap::Args;
use nao_backend::{Backend, Device, Precision};
use nao_inversion::{InversionError, InversionMethod};
use nao_models::{open_model, ModelSource, Needs, OpenOptions, OpenedModel};
use nao_sampling::SchedulerChoice;

use crate::error::CliError;
use crate::output::spinner;

/// Where the model is, where it runs, and how.
#[derive(Debug, Args)]
pub struct ModelArgs {
    /// Model folder: a Stable Diffusion 1.x/2.x diffusers folder or hub snapshot
    /// (model_index.json; runs on burn devices), a Stable Diffusion ONNX export in optimum's
    /// layout (text_encoder/, unet/, vae_encoder/, vae_decoder/, tokenizer/, scheduler/; runs
    /// on ONNX Runtime), weights of the embedded model's kind (`cargo xtask train`: model.json
    /// and *.safetensors) or its ONNX export (`nao export-onnx`) [default: the embedded
    /// Fashion-MNIST model, 28×28 grey images, prompts are class names such as "sneaker"].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
    /// Where the model runs: cpu (burn, pure Rust), wgpu, tch-cpu, tch-cuda[:N], cuda[:N]
    /// (burn backends), onnx-cpu, onnx-cuda[:N] (ONNX Runtime). Devices not compiled into
    /// this build say which Cargo feature adds them [default: cpu; onnx-cpu for ONNX folders].
    #[arg(long, value_name = "DEVICE")]
    device: Option<Device>,
    /// The precision the model computes in (diffusers folders; the other kinds compute in f32).
    #[arg(long, value_enum, default_value_t = Precision::F32)]
    dtype: Precision,
    /// The weight-file variant of a diffusers folder to load (fp16 for *.fp16.safetensors;
    /// found on its own when it is a component's only file).
    #[arg(long, value_name = "NAME")]
    variant: Option<String>,
    /// Intra-op threads of each ONNX Runtime session [default: ONNX Runtime's choice, one per
    /// core].
    #[arg(long, value_name = "T")]
    threads: Option<usize>,
    /// The ONNX Runtime shared library (libonnxruntime.so.1.31.x, onnxruntime.dll, …), version
    /// 1.31 or newer [default: $ORT_DYLIB_PATH].
    #[arg(long, value_name = "PATH")]
    ort_lib: Option<PathBuf>,
}

impl ModelArgs {
    /// The model's name for reports: the folder, or `embedded`.
    pub fn name(&self) -> String {
        self.source().name()
    }

    /// Everything about the model that changes what it computes, as one line: the model (a
    /// folder by its canonical path), the device, the precision and the weight variant. Caches
    /// key on it; they trust a model folder's files not to change under the same path.
    pub fn identity(&self) -> String {
        let model = match &self.model {
            Some(dir) => std::fs::canonicalize(dir)
                .unwrap_or_else(|_| dir.clone())
                .display()
                .to_string(),
            None => "embedded".into(),
        };
        format!(
            "model={model} device={} dtype={} variant={}",
            self.device.map_or("default".into(), |d| d.to_string()),
            self.dtype,
            self.variant.as_deref().unwrap_or("")
        )
    }

    fn source(&self) -> ModelSource {
        ModelSource::from_option(self.model.as_deref())
    }

    fn options(&self, needs: Needs) -> OpenOptions {
        let mut o = OpenOptions::default()
            .with_precision(self.dtype)
            .needing(needs);
        if let Some(t) = self.threads {
            o = o.with_threads(t);
        }
        if let Some(p) = &self.ort_lib {
            o = o.with_ort_library(p);
        }
        if let Some(v) = &self.variant {
            o = o.with_variant(v);
        }
        o
    }

    /// Check the options that need no file (before any input is read).
    pub fn check(&self) -> Result<(), CliError> {
        self.options(Needs::default())
            .check()
            .map_err(|e| CliError::input(e.to_string()))
    }

    /// Load the model on the chosen device, refusing one without a component in `needs`.
    pub fn load(&self, json: bool, needs: Needs) -> Result<Box<dyn Backend>, CliError> {
        Ok(self.open(json, needs)?.model)
    }

    /// Load the model as [`ModelArgs::load`] does, with what it is and the device it runs on.
    pub fn open(&self, json: bool, needs: Needs) -> Result<OpenedModel, CliError> {
        let source = self.source();
        let pb = spinner(json, &format!("loading {}", source.name()));
        let opened = open_model(&source, self.device, &self.options(needs));
        pb.finish_and_clear();
        opened.map_err(|e| CliError::input(e.to_string()))
    }

    /// Register the model folder as an input of `out`: no output may replace or lie in it.
    pub fn register_input(&self, out: &mut nao_fs::Outputs) -> Result<(), CliError> {
        if let Some(dir) = &self.model {
            out.input(dir, "--model")?;
        }
        if let Some(lib) = &self.ort_lib {
            out.input(lib, "--ort-lib")?;
        }
        Ok(())
    }

    /// The ONNX Runtime library given (`None`: `$ORT_DYLIB_PATH`).
    pub fn ort_lib(&self) -> Option<&Path> {
        self.ort_lib.as_deref()
    }

    /// The model folder (`None`: the embedded model).
    pub fn folder(&self) -> Option<&Path> {
        self.model.as_deref()
    }

    /// The precision and weights variant, as SeedSelect opens a Stable Diffusion folder.
    pub fn select_options(
        &self,
        image_encoder: Option<PathBuf>,
        negative: &str,
    ) -> nao_select::OpenOptions {
        nao_select::OpenOptions {
            image_encoder,
            negative_prompt: negative.to_string(),
            precision: self.dtype,
            variant: self.variant.clone(),
            latent_size: None,
        }
    }

    /// The burn device of `--device` (cpu by default), for what runs on burn alone
    /// (SeedSelect differentiates through the model).
    pub fn burn_device(&self) -> Result<nao_burn::Device, CliError> {
        let device = self.device.unwrap_or(nao_backend::Device::Cpu);
        if device.engine() != nao_backend::Engine::Burn {
            return Err(CliError::input(format!(
                "--device {device}: {}",
                nao_select::not_differentiable("ONNX Runtime")
            )));
        }
        nao_models::open_burn_device(device).map_err(|e| CliError::input(e.to_string()))
    }

    /// What a dataset records of the model: its name, which weights (a hash of the files),
    /// the precision and the weight variant.
    pub fn model_id(&self) -> Result<nao_augment::ModelId, CliError> {
        let source = self.source();
        Ok(nao_augment::ModelId {
            name: source.name(),
            identity: source
                .identity()
                .map_err(|e| CliError::input(e.to_string()))?,
            dtype: self.dtype.to_string(),
            variant: self.variant.clone(),
        })
    }
}

/// The diffusion options every command that samples or inverts shares (sample, walk,
/// reconstruct, invert, augment).
#[derive(Debug, Args)]
pub struct DdimArgs {
    /// Steps, of the inversion (DDIM) and of the sampling.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// The sampler: ddim, pndm, plms (PNDM without its Runge–Kutta warm-up), euler,
    /// euler-ancestral (noise from --seed where the command has one, else 0), heun, dpm++2m,
    /// dpm++2m-karras, deis, unipc, lms, <name>-karras (Karras sigmas), or a diffusers class
    /// name, configured from the model's scheduler_config.json as diffusers' from_config does
    /// (inversion stays DDIM) [default: the model's own scheduler class (_class_name of
    /// scheduler_config.json); DDIM for the embedded model].
    #[arg(long, value_name = "NAME")]
    pub scheduler: Option<SchedulerChoice>,
    /// Classifier-free guidance scale (≤ 1: the conditional model alone, no unconditional
    /// pass) [default: 7.5 for sample and walk; 1 for invert, reconstruct and augment, which
    /// keeps DDIM inversion and sampling inverse to each other].
    #[arg(long, value_name = "G")]
    pub guidance: Option<f64>,
    /// The negative prompt of classifier-free guidance (its unconditional pass).
    #[arg(long, default_value = "")]
    pub negative_prompt: String,
}

impl DdimArgs {
    /// The guidance scale, `default` when not given, checked.
    pub fn guidance_or(&self, default: f64) -> Result<f64, CliError> {
        let g = self.guidance.unwrap_or(default);
        check_guidance("--guidance", g)?;
        Ok(g)
    }

    /// Check the step count before any file is read.
    pub fn check(&self) -> Result<(), CliError> {
        check_steps("--steps", self.steps, None)
    }
}

/// What a command reports of the sampler it uses.
#[derive(Debug, Clone)]
pub struct SamplerInfo {
    /// Its name (`ddim`, `euler`, `dpm++2m-karras`, …).
    pub name: String,
    /// Model calls per sampling (more than the steps for Heun and PNDM).
    pub calls: usize,
    /// Whether it draws noise (DDIM with η > 0, Euler ancestral).
    pub stochastic: bool,
}

/// The sampler `choice` (the model's own scheduler when `None`) on a model of scheduler
/// config `config` with DDIM's η `eta`, checked against `steps`. An input error naming
/// `--scheduler` (an unknown class, an option the sampler lacks, `--eta` with another sampler
/// than DDIM) or `--steps` (a step count whose grid does not fit) otherwise.
pub fn sampler(
    config: &nao_backend::SchedulerConfig,
    choice: Option<&SchedulerChoice>,
    steps: usize,
    eta: f64,
) -> Result<SamplerInfo, CliError> {
    check_steps("--steps", steps, None)?;
    let mut s = nao_sampling::new_scheduler(config, choice, eta).map_err(|e| {
        let what = match choice {
            Some(c) => format!("--scheduler {c}"),
            None => "the model's scheduler (choose another with --scheduler)".into(),
        };
        CliError::input(format!("{what}: {e}"))
    })?;
    s.set_timesteps(steps).map_err(|e| {
        CliError::input(format!(
            "--steps {steps}: not a step count the {} sampler takes on this model: {e}",
            s.name()
        ))
    })?;
    Ok(SamplerInfo {
        name: s.name(),
        calls: s.timesteps().len(),
        stochastic: s.is_stochastic(),
    })
}

/// Refuse `--scheduler` other than DDIM for a command that only inverts (inversion is DDIM's).
pub fn inversion_only(choice: Option<&SchedulerChoice>, command: &str) -> Result<(), CliError> {
    match choice {
        Some(c) if c.kind != nao_sampling::SchedulerKind::Ddim => Err(CliError::input(format!(
            "--scheduler {c}: {command} inverts with DDIM (DDIMInverseScheduler) and samples \
             nothing; the sampler applies to sample, reconstruct, walk, augment and demo"
        ))),
        _ => Ok(()),
    }
}

/// The inversion method every command that inverts images shares (invert, reconstruct, walk,
/// augment).
#[derive(Debug, Args)]
pub struct InversionArgs {
    /// How images are inverted: ddim (diffusers' DDIM inversion, 1 network call per step),
    /// fixed-point[:K] (K more calls per step solving each step's implicit equation by
    /// fixed-point iteration; K from 1 to 20, 2 when not given), fixed-point:K:average (the
    /// last step with the mean prediction of the K iterations, ReNoise-style), or edict[:P]
    /// (EDICT's exact coupled inversion, mixing weight P = 0.93, 2 calls per step; its seed is
    /// x_T, which nao reconstruct samples back exactly with EDICT's sampler and the other
    /// commands with their sampler, approximately), or dpm++2m (diffusers' inverse
    /// DPM-Solver++ 2M, 1 call per step; nao reconstruct samples it back with DPM-Solver++ 2M
    /// unless --scheduler names another). Measured errors: docs/inversion.md.
    #[arg(
        id = "inversion",
        long = "inversion",
        value_name = "METHOD",
        default_value = "ddim",
        value_parser = parse_inversion
    )]
    pub method: InversionMethod,
}

/// `--inversion`'s parser: the library's names, its error as clap's message.
fn parse_inversion(value: &str) -> Result<InversionMethod, String> {
    value.parse().map_err(|e: InversionError| e.to_string())
}

/// Fail unless `path` is a file: "not a file", or `missing` ("no such image file") when
/// nothing is there.
pub fn require_file(path: &Path, missing: &str) -> Result<(), CliError> {
    if path.is_file() {
        return Ok(());
    }
    let why = if path.exists() { "not a file" } else { missing };
    Err(CliError::input(format!("{}: {why}", path.display())))
}

/// An image-loading error that names the file.
pub fn image_error(path: &Path, e: InversionError) -> CliError {
    CliError::input(e.for_file(path).to_string())
}

/// Check a guidance scale given as `option`.
pub fn check_guidance(option: &str, g: f64) -> Result<(), CliError> {
    if !(g.is_finite() && (0.0..=nao_sampling::MAX_GUIDANCE).contains(&g)) {
        return Err(CliError::input(format!(
            "{option} {g}: the guidance scale must be a number from 0 to {} (≤ 1 runs no \
             unconditional pass)",
            nao_sampling::MAX_GUIDANCE
        )));
    }
    Ok(())
}

/// Check a step count given as `option`: at least one step, and (once the model is loaded, with
/// its scheduler config) a step count whose timestep grid fits the model's training timesteps.
pub fn check_steps(
    option: &str,
    steps: usize,
    scheduler: Option<&nao_backend::SchedulerConfig>,
) -> Result<(), CliError> {
    if steps == 0 {
        return Err(CliError::input(format!(
            "{option} 0: at least one step is needed"
        )));
    }
    if steps > nao_sampling::MAX_STEPS {
        return Err(CliError::input(format!(
            "{option} {steps}: at most {}",
            nao_sampling::MAX_STEPS
        )));
    }
    if let Some(config) = scheduler {
        nao_sampling::check_step_count(config, steps).map_err(|e| {
            CliError::input(format!(
                "{option} {steps}: not a step count this model's scheduler takes: {e}"
            ))
        })?;
    }
    Ok(())
}
