//! `nao devices`: which devices this build has and whether they start here.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use nao_backend::{Device, Precision};
use nao_models::{is_compiled_in, open_model, ModelKind, ModelSource, OpenOptions};

use crate::error::CliError;
use crate::output::emit;

/// Arguments of `nao devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Also load the model on each compiled device and time one noise prediction (starts
    /// every device: GPUs, ONNX Runtime).
    #[arg(long)]
    probe: bool,
    /// The model folder --probe loads, as --model of the model commands take it (a diffusers
    /// folder, an ONNX export, …); devices its kind does not run on are not probed
    /// [default: the embedded model].
    #[arg(long, value_name = "DIR", requires = "probe")]
    model: Option<PathBuf>,
    /// The precision --probe computes in (diffusers folders).
    #[arg(long, value_enum, default_value_t = Precision::F32, requires = "probe")]
    dtype: Precision,
}

#[derive(Serialize)]
struct Row {
    device: String,
    feature: &'static str,
    compiled: bool,
    /// `null` unless probed; then whether the model ran.
    works: Option<bool>,
    message: Option<String>,
}

/// Run `nao devices`.
pub fn run(args: &DevicesArgs, json: bool) -> Result<(), CliError> {
    let source = ModelSource::from_option(args.model.as_deref());
    // a folder that holds no model is an error before anything starts
    let kind = match &source {
        ModelSource::Embedded => ModelKind::Embedded,
        ModelSource::Folder(dir) => {
            ModelKind::detect(dir).map_err(|e| CliError::input(e.to_string()))?
        }
    };
    let mut rows = Vec::new();
    for device in Device::ALL {
        let compiled = is_compiled_in(device);
        let (works, message) = if args.probe && compiled && !kind.runs_on(device) {
            (
                None,
                Some(format!(
                    "not probed: {} runs on {}",
                    kind.describe(),
                    kind.supported_devices()
                )),
            )
        } else if args.probe && compiled {
            match probe(&source, device, args.dtype) {
                Ok(ms) => (
                    Some(true),
                    Some(format!("one noise prediction in {ms:.1} ms")),
                ),
                Err(e) => (Some(false), Some(e.to_string())),
            }
        } else if !compiled {
            (
                None,
                Some(format!("rebuild with --features {}", device.feature())),
            )
        } else {
            (None, None)
        };
        rows.push(Row {
            device: device.to_string(),
            feature: device.feature(),
            compiled,
            works,
            message,
        });
    }
    let value = serde_json::json!({ "model": source.name(), "devices": rows });
    emit(json, &value, || {
        let mut t = if args.probe {
            format!("probed model: {}\n", source.name())
        } else {
            String::new()
        };
        t.push_str("device        feature     compiled  works  note\n");
        for r in &rows {
            t.push_str(&format!(
                "{:<13} {:<11} {:<9} {:<6} {}\n",
                r.device,
                r.feature,
                if r.compiled { "yes" } else { "no" },
                match r.works {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "-",
                },
                r.message.as_deref().unwrap_or("")
            ));
        }
        t
    })
}

/// Load the model on `device` and time one (warm) noise prediction: zero latents of its
/// default image size, conditioned on the empty prompt, at t = 500.
fn probe(source: &ModelSource, device: Device, dtype: Precision) -> Result<f64, CliError> {
    let options = OpenOptions::default().with_precision(dtype);
    let model = open_model(source, Some(device), &options)
        .map_err(|e| CliError::input(e.to_string()))?
        .model;
    let info = model.info();
    let (h, w) = info.default_image_size;
    let shape = info
        .latent_shape(h, w)
        .map_err(|e| CliError::compute("the latent shape", e))?;
    let latents = nao_backend::Tensor::zeros([1].into_iter().chain(shape).collect());
    let context = model
        .encode_prompt("", "", false)
        .map_err(|e| CliError::compute("the empty prompt", e))?
        .cond;
    let run = || {
        model
            .predict_noise(&latents, &[500], &context)
            .map_err(|e| CliError::compute("noise prediction", e))
    };
    run()?;
    let started = std::time::Instant::now();
    run()?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}
