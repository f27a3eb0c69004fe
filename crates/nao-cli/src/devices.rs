//! `nao devices`: which devices this build has and whether they start here.

use clap::Args;
use serde::Serialize;

use crate::device::DeviceArg;
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
    let names = [
        "cpu",
        "wgpu",
        "tch-cpu",
        "tch-cuda",
        "cuda",
        "onnx-cpu",
        "onnx-cuda",
    ];
    let mut rows = Vec::new();
    for name in names {
        let device: DeviceArg = name.parse().map_err(CliError::input)?;
        let compiled = device.is_compiled_in();
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
fn probe(device: DeviceArg) -> Result<f64, CliError> {
    let model = device.embedded(&nao_onnx::OnnxOptions::default())?;
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
