//! `nao devices`: which devices this build has and whether they start here.

use clap::Args;
use serde::Serialize;

use nao_backend::Device;
use nao_models::{is_compiled_in, open_model, ModelSource, OpenOptions};

use crate::error::CliError;
use crate::output::emit;

/// Arguments of `nao devices`.
#[derive(Debug, Args)]
pub struct DevicesArgs {
    /// Also load the embedded model on each compiled device and time one noise prediction
    /// (starts every device: GPUs, ONNX Runtime).
    #[arg(long)]
    probe: bool,
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
    let mut rows = Vec::new();
    for device in Device::ALL {
        let compiled = is_compiled_in(device);
        let (works, message) = if args.probe && compiled {
            match probe(device) {
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
    emit(json, &serde_json::json!({ "devices": rows }), || {
        let mut t = String::from("device        feature     compiled  works  note\n");
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

/// Load the embedded model on `device` and time one (warm) noise prediction.
fn probe(device: Device) -> Result<f64, CliError> {
    let model = open_model(
        &ModelSource::Embedded,
        Some(device),
        &OpenOptions::default(),
    )
    .map_err(|e| CliError::input(e.to_string()))?
    .model;
    let latents = nao_backend::Tensor::zeros(vec![1, 4, 7, 7]);
    let class = nao_backend::Tensor {
        shape: vec![1, 1],
        data: vec![0.0],
    };
    let run = || {
        model
            .predict_noise(&latents, &[500], &class)
            .map_err(|e| CliError::compute("noise prediction", e))
    };
    run()?;
    let started = std::time::Instant::now();
    run()?;
    Ok(started.elapsed().as_secs_f64() * 1e3)
}
