//! `nao export-onnx`: the embedded model (or trained weights of its kind) as ONNX files.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::error::CliError;
use crate::output::emit;
use nao_fs::Outputs;

/// Arguments of `nao export-onnx`.
#[derive(Debug, Args)]
pub struct ExportOnnxArgs {
    /// Output folder: vae_encoder.onnx, vae_decoder.onnx, denoiser.onnx and model.json
    /// (run it with `--model DIR --device onnx-cpu`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Weights of the embedded model's kind (`cargo xtask train`) [default: the embedded
    /// weights].
    #[arg(long, value_name = "DIR")]
    model: Option<PathBuf>,
}

#[derive(Serialize)]
struct Report {
    out: String,
    files: Vec<FileReport>,
    opset: i64,
}

#[derive(Serialize)]
struct FileReport {
    file: String,
    bytes: usize,
}

/// Run `nao export-onnx`.
pub fn run(args: &ExportOnnxArgs, json: bool) -> Result<(), CliError> {
    let mut out = Outputs::new();
    if let Some(dir) = &args.model {
        out.input(dir, "--model")?;
    }
    out.claim_folder(&args.out, "--out")?;
    let device = nao_models::open_burn_device(nao_backend::Device::Cpu)
        .map_err(|e| CliError::compute("the CPU backend", e))?;
    let model = match &args.model {
        Some(dir) => nao_burn::BurnModel::load(dir, &device).map_err(|e| {
            CliError::input(format!("cannot load the model {}: {e}", dir.display()))
        })?,
        None => nao_burn::BurnModel::embedded(&device)
            .map_err(|e| CliError::compute("loading the embedded model", e))?,
    };
    let export = model
        .to_onnx()
        .map_err(|e| CliError::compute("ONNX export", e))?;
    let card = serde_json::to_string_pretty(&export.card)
        .map_err(|e| CliError::compute("model card", e))?;
    let files = [
        (nao_burn::ONNX_ENCODER_FILE, export.vae_encoder.as_slice()),
        (nao_burn::ONNX_DECODER_FILE, export.vae_decoder.as_slice()),
        (nao_burn::ONNX_DENOISER_FILE, export.denoiser.as_slice()),
        (nao_burn::ONNX_CLASSIFIER_FILE, export.classifier.as_slice()),
        (nao_burn::CARD_FILE, card.as_bytes()),
    ];
    for (name, bytes) in files {
        out.write(&args.out.join(name), bytes)?;
    }
    out.commit()?;
    let report = Report {
        out: args.out.display().to_string(),
        files: files
            .iter()
            .map(|(f, b)| FileReport {
                file: f.to_string(),
                bytes: b.len(),
            })
            .collect(),
        opset: nao_burn::ONNX_OPSET,
    };
    emit(json, &report, || {
        let mut t = format!(
            "wrote the ONNX export (opset {}) to {}:\n",
            report.opset, report.out
        );
        for f in &report.files {
            t.push_str(&format!("  {:<18} {:>10} bytes\n", f.file, f.bytes));
        }
        t.push_str(&format!(
            "run it with: nao sample SEEDS.npy --model {} --device onnx-cpu --prompt bag -o OUT",
            report.out
        ));
        t
    })
}
