//! The classifier that scores images (`nao eval`, `nao norm-sweep`, `nao sampler-sweep`): the
//! embedded Fashion-MNIST classifier, or any ONNX image classifier given with its labels.

use std::path::{Path, PathBuf};

use clap::Args;
use nao_metrics::FeatureClassifier;
use nao_onnx::{OnnxClassifier, OnnxClassifierSpec};

use crate::error::CliError;

/// Options of the scoring classifier.
#[derive(Debug, Args)]
pub struct ClassifierArgs {
    /// An ONNX image classifier to score and embed images with [default: the embedded
    /// Fashion-MNIST classifier]. Needs --labels.
    #[arg(long, value_name = "MODEL.onnx", requires = "labels")]
    pub classifier: Option<PathBuf>,
    /// The ONNX classifier's class names, one per line, in logit order (class folders are
    /// matched to them, case and -/_ ignored).
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// The ONNX classifier's input size [default: its declared input].
    #[arg(long, value_name = "H,W", value_delimiter = ',')]
    pub input_size: Option<Vec<usize>>,
    /// The ONNX classifier's input channels, 1 or 3 [default: its declared input].
    #[arg(long)]
    pub channels: Option<usize>,
    /// Per-channel mean subtracted from pixels in [0, 1] for the ONNX classifier.
    #[arg(long, value_delimiter = ',', default_value = "0.5")]
    pub mean: Vec<f32>,
    /// Per-channel standard deviation pixels are divided by (after the mean).
    #[arg(long, value_delimiter = ',', default_value = "0.5")]
    pub std: Vec<f32>,
    /// The ONNX classifier's output with the penultimate-layer features.
    #[arg(long, default_value = "features")]
    pub features_output: String,
    /// The ONNX classifier's output with the logits.
    #[arg(long, default_value = "logits")]
    pub logits_output: String,
}

impl ClassifierArgs {
    /// Check the options that need no file (before any input is read).
    pub fn check(&self) -> Result<(), CliError> {
        let Some(size) = &self.input_size else {
            return Ok(());
        };
        let text = size
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(",");
        if size.len() != 2 || size.contains(&0) {
            return Err(CliError::input(format!(
                "--input-size {text}: give the height and width, H,W (both ≥ 1)"
            )));
        }
        // each image of a batch is resized to this: the product is bounded, not each side
        let pixels = (size[0] as u64).saturating_mul(size[1] as u64);
        if pixels > nao_inversion::MAX_IMAGE_PIXELS {
            return Err(CliError::input(format!(
                "--input-size {text}: {pixels} pixels, at most {} (8192 × 8192)",
                nao_inversion::MAX_IMAGE_PIXELS
            )));
        }
        Ok(())
    }

    /// Register the classifier and labels files as inputs of `out`.
    pub fn register_input(&self, out: &mut nao_fs::Outputs) -> Result<(), CliError> {
        for (option, file) in [
            ("--classifier", &self.classifier),
            ("--labels", &self.labels),
        ] {
            if let Some(file) = file {
                out.input(file, option)?;
            }
        }
        Ok(())
    }

    /// The classifier: the embedded model's (on burn's CPU backend), or the ONNX one given,
    /// on ONNX Runtime loaded from `ort_lib` (`$ORT_DYLIB_PATH` when `None`).
    pub fn open(&self, ort_lib: Option<&Path>) -> Result<Box<dyn FeatureClassifier>, CliError> {
        let Some(path) = &self.classifier else {
            let device = nao_models::open_burn_device(nao_backend::Device::Cpu)
                .map_err(|e| CliError::compute("the CPU backend", e))?;
            let model = nao_burn::BurnModel::embedded(&device)
                .map_err(|e| CliError::compute("loading the embedded model", e))?;
            return Ok(Box::new(model));
        };
        let labels = self.labels.as_deref().expect("clap requires --labels");
        let onnx = |e: nao_onnx::OnnxError| CliError::input(format!("--classifier: {e}"));
        let mut spec = OnnxClassifierSpec::new(
            path,
            nao_onnx::read_labels(labels).map_err(|e| CliError::input(format!("--labels: {e}")))?,
        );
        spec.channels = self.channels;
        spec.size = self.input_size.as_ref().map(|s| (s[0], s[1]));
        spec.mean = self.mean.clone();
        spec.std = self.std.clone();
        spec.features_output = self.features_output.clone();
        spec.logits_output = self.logits_output.clone();
        let mut options = nao_onnx::OnnxOptions::default();
        if let Some(p) = ort_lib {
            options = options.with_library_path(p);
        }
        Ok(Box::new(
            OnnxClassifier::load(spec, &options).map_err(onnx)?,
        ))
    }
}
