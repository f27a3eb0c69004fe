//! `nao eval`: generated images measured against real ones (`nao_augment::evaluate`; see
//! docs/eval.md).

use std::path::PathBuf;

use clap::Args;
use nao_augment::{evaluate, EvalSpec, Event};
use nao_fs::Outputs;
use nao_inversion::ResizePolicy;
use nao_metrics::{FeatureClassifier, DEFAULT_K};
use nao_onnx::{OnnxClassifier, OnnxClassifierSpec};

use crate::error::CliError;
use crate::output::{bar, emit, interruption};

/// Arguments of `nao eval`.
#[derive(Debug, Args)]
pub struct EvalArgs {
    /// Generated images: ImageFolder layouts (DIR/<class>/*.png) or `nao augment` outputs (their
    /// manifest gives each image's class, method and seed log χ); one folder per method.
    #[arg(required = true)]
    generated: Vec<PathBuf>,
    /// Real images of the same classes, in the ImageFolder layout.
    #[arg(long, value_name = "REAL_DIR")]
    real: PathBuf,
    /// Output folder: eval.json, eval.md and eval.png (a bar chart per method).
    #[arg(short, long, default_value = "eval")]
    output: PathBuf,
    /// Neighbours of the k-NN measures (precision/recall, density/coverage).
    #[arg(long, default_value_t = DEFAULT_K)]
    k: usize,
    /// How an image of another size than the classifier's is brought to it.
    #[arg(long, value_enum, default_value = "center-crop")]
    resize: ResizePolicy,
    /// An ONNX image classifier to score and embed images with [default: the embedded
    /// Fashion-MNIST classifier]. Needs --labels.
    #[arg(long, value_name = "MODEL.onnx", requires = "labels")]
    classifier: Option<PathBuf>,
    /// The ONNX classifier's class names, one per line, in logit order (class folders are
    /// matched to them, case and -/_ ignored).
    #[arg(long, value_name = "FILE")]
    labels: Option<PathBuf>,
    /// The ONNX classifier's input size [default: its declared input].
    #[arg(long, value_name = "H,W", value_delimiter = ',')]
    input_size: Option<Vec<usize>>,
    /// The ONNX classifier's input channels, 1 or 3 [default: its declared input].
    #[arg(long)]
    channels: Option<usize>,
    /// Per-channel mean subtracted from pixels in [0, 1] for the ONNX classifier.
    #[arg(long, value_delimiter = ',', default_value = "0.5")]
    mean: Vec<f32>,
    /// Per-channel standard deviation pixels are divided by (after the mean).
    #[arg(long, value_delimiter = ',', default_value = "0.5")]
    std: Vec<f32>,
    /// The ONNX classifier's output with the penultimate-layer features.
    #[arg(long, default_value = "features")]
    features_output: String,
    /// The ONNX classifier's output with the logits.
    #[arg(long, default_value = "logits")]
    logits_output: String,
    /// The ONNX Runtime library [default: $ORT_DYLIB_PATH].
    #[arg(long, value_name = "PATH")]
    ort_lib: Option<PathBuf>,
}

impl EvalArgs {
    /// The classifier: the embedded model's, or the ONNX one given.
    fn classifier(&self) -> Result<Box<dyn FeatureClassifier>, CliError> {
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
        if let Some(p) = &self.ort_lib {
            options = options.with_library_path(p);
        }
        Ok(Box::new(
            OnnxClassifier::load(spec, &options).map_err(onnx)?,
        ))
    }
}

/// Run `nao eval`.
pub fn run(args: &EvalArgs, json: bool) -> Result<(), CliError> {
    if let Some(size) = &args.input_size {
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
    }
    if args.k == 0 || args.k > nao_augment::MAX_K {
        return Err(CliError::input(format!(
            "--k {}: the k-NN measures need k from 1 to at most {}",
            args.k,
            nao_augment::MAX_K
        )));
    }
    let mut out = Outputs::new();
    out.input(&args.real, "--real")?;
    for dir in &args.generated {
        out.input(dir, "GENERATED")?;
    }
    for (option, file) in [
        ("--classifier", &args.classifier),
        ("--labels", &args.labels),
    ] {
        if let Some(file) = file {
            out.input(file, option)?;
        }
    }
    out.claim_folder(&args.output, "-o/--output")?;
    let classifier = args.classifier()?;
    let mut spec = EvalSpec::new(&args.real, args.generated.clone());
    spec.k = args.k;
    spec.resize = args.resize;
    let mut pb = None;
    let report = evaluate(classifier.as_ref(), &spec, &mut |event| {
        if let Event::Scored { done, total } = event {
            pb.get_or_insert_with(|| bar(total as u64, json, "scoring images"))
                .set_position(done as u64);
        }
        interruption()
    });
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
    let report = report?;
    for (name, bytes) in report.files()? {
        out.write(&args.output.join(name), &bytes)?;
    }
    out.commit()?;
    emit(json, &report, || report.markdown())
}
