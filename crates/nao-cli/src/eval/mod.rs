//! `nao eval`: how good and how useful generated images are — the classifier's accuracy and
//! confidence, the Fréchet distance to real images in the classifier's feature space, k-NN
//! precision/recall and density/coverage, diversity, and the seeds' log χ — per class and
//! method, and per method overall.

mod classifier;
mod measure;
mod report;
mod sets;

use std::collections::BTreeMap;
use std::path::PathBuf;

use clap::Args;
use nao_backend::Tensor;
use nao_fs::Outputs;
use nao_inversion::{load_image, ResizePolicy};
use nao_metrics::Features;

use crate::error::CliError;
use crate::output::{bar, emit};
use classifier::{Embedded, FeatureClassifier, Onnx, OnnxSpec};
pub use measure::{measure, Scored, SetMetrics, DEFAULT_K};
use report::{MethodReport, Report};
use sets::ImageSet;

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

/// Scored images of one class.
struct ClassScores {
    features: Features,
    hits: Vec<bool>,
    confidence: Vec<f64>,
    log_chi: Vec<Option<f64>>,
}

/// Load and score the images of one class of a set.
fn score_class(
    clf: &dyn FeatureClassifier,
    set: &ImageSet,
    class_name: &str,
    resize: ResizePolicy,
) -> Result<ClassScores, CliError> {
    let class = clf.class_index(class_name)?;
    let entries = &set.classes[class_name];
    let spec = clf.spec();
    let mut features: Option<(usize, Vec<f64>)> = None;
    let mut hits = Vec::new();
    let mut confidence = Vec::new();
    // Batches of 64 keep memory flat whatever the class size.
    for chunk in entries.chunks(64) {
        nao_fs::signals::check()?;
        let images = chunk
            .iter()
            .map(|e| {
                load_image(&e.path, &spec, resize)
                    .map_err(|err| crate::model::image_error(&e.path, err))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let batch = Tensor::concat(&images).map_err(|e| CliError::compute("images", e))?;
        let (verdicts, f) = clf.score(&batch)?;
        for v in &verdicts {
            hits.push(v.class == class);
            confidence.push(f64::from(v.probabilities[class]));
        }
        let (dim, data) = features.get_or_insert_with(|| (f.dim(), Vec::new()));
        if *dim != f.dim() {
            return Err(CliError::compute(
                "classifier features",
                "the feature size changed",
            ));
        }
        data.extend(f.rows().flatten());
    }
    let (dim, data) = features.expect("a class has images");
    Ok(ClassScores {
        features: Features::new(dim, data).map_err(|e| CliError::compute("features", e))?,
        hits,
        confidence,
        log_chi: entries.iter().map(|e| e.log_chi).collect(),
    })
}

fn concat(parts: &[&Features]) -> Result<Features, CliError> {
    let dim = parts[0].dim();
    let data: Vec<f64> = parts
        .iter()
        .flat_map(|f| f.rows().flatten().copied())
        .collect();
    Features::new(dim, data).map_err(|e| CliError::compute("features", e))
}

/// Run `nao eval`.
pub fn run(args: &EvalArgs, json: bool) -> Result<(), CliError> {
    if let Some(size) = &args.input_size {
        if size.len() != 2 || size.contains(&0) {
            return Err(CliError::input(format!(
                "--input-size {}: give the height and width, H,W (both ≥ 1)",
                size.iter()
                    .map(usize::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )));
        }
    }
    if args.k == 0 {
        return Err(CliError::input("--k 0: the k-NN measures need k ≥ 1"));
    }
    let mut out = Outputs::new();
    out.claim_folder(&args.output, "-o/--output")?;
    let clf: Box<dyn FeatureClassifier> = match &args.classifier {
        None => Box::new(Embedded::new()?),
        Some(path) => {
            let labels =
                classifier::read_labels(args.labels.as_deref().expect("clap requires it"))?;
            let mut options = nao_onnx::OnnxOptions::default();
            if let Some(p) = &args.ort_lib {
                options = options.with_library_path(p);
            }
            Box::new(Onnx::load(
                OnnxSpec {
                    path: path.clone(),
                    labels,
                    channels: args.channels,
                    size: args.input_size.as_ref().map(|s| (s[0], s[1])),
                    mean: args.mean.clone(),
                    std: args.std.clone(),
                    features_output: args.features_output.clone(),
                    logits_output: args.logits_output.clone(),
                },
                &options,
            )?)
        }
    };
    let real = sets::image_folder(&args.real, "--real")?;
    let generated = args
        .generated
        .iter()
        .map(|d| sets::generated(d))
        .collect::<Result<Vec<_>, _>>()?;
    let mut seen = BTreeMap::new();
    for (set, dir) in generated.iter().zip(&args.generated) {
        if let Some(other) = seen.insert(set.method.clone(), dir) {
            return Err(CliError::input(format!(
                "{} and {} both hold method '{}': give one folder per method",
                other.display(),
                dir.display(),
                set.method
            )));
        }
        for class in set.classes.keys() {
            if !real.classes.contains_key(class) {
                return Err(CliError::input(format!(
                    "{}: class '{class}' has no real images in --real {}",
                    dir.display(),
                    args.real.display()
                )));
            }
        }
    }
    let total: usize = real.classes.values().map(Vec::len).sum::<usize>()
        + generated
            .iter()
            .flat_map(|s| s.classes.values().map(Vec::len))
            .sum::<usize>();
    let pb = bar(total as u64, json, "scoring images");
    let mut real_scores = BTreeMap::new();
    for class in real.classes.keys() {
        let s = score_class(clf.as_ref(), &real, class, args.resize)?;
        pb.inc(s.hits.len() as u64);
        real_scores.insert(class.clone(), s);
    }
    let mut methods = Vec::new();
    for set in &generated {
        let mut classes = BTreeMap::new();
        let mut all = Vec::new();
        for class in set.classes.keys() {
            let s = score_class(clf.as_ref(), set, class, args.resize)?;
            pb.inc(s.hits.len() as u64);
            let scored = Scored {
                features: &s.features,
                hits: &s.hits,
                confidence: &s.confidence,
                log_chi: &s.log_chi,
            };
            classes.insert(
                class.clone(),
                measure(&real_scores[class].features, &scored, args.k),
            );
            all.push((class.clone(), s));
        }
        let gen_f = concat(&all.iter().map(|(_, s)| &s.features).collect::<Vec<_>>())?;
        let real_f = concat(
            &all.iter()
                .map(|(c, _)| &real_scores[c].features)
                .collect::<Vec<_>>(),
        )?;
        let hits: Vec<bool> = all.iter().flat_map(|(_, s)| s.hits.clone()).collect();
        let confidence: Vec<f64> = all.iter().flat_map(|(_, s)| s.confidence.clone()).collect();
        let log_chi: Vec<Option<f64>> = all.iter().flat_map(|(_, s)| s.log_chi.clone()).collect();
        let overall = measure(
            &real_f,
            &Scored {
                features: &gen_f,
                hits: &hits,
                confidence: &confidence,
                log_chi: &log_chi,
            },
            args.k,
        );
        methods.push(MethodReport {
            method: set.method.clone(),
            overall,
            classes,
        });
    }
    pb.finish_and_clear();
    let report = Report {
        classifier: clf.describe(),
        real: args.real.display().to_string(),
        k: args.k,
        methods,
    };
    report.stage(&args.output, &mut out)?;
    out.commit()?;
    emit(json, &report, || report.markdown())
}
