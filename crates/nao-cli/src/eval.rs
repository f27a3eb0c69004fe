//! `nao eval`: generated images measured against real ones (`nao_augment::evaluate`; see
//! docs/eval.md).

use std::path::PathBuf;

use clap::Args;
use nao_augment::{evaluate, EvalSpec, Event};
use nao_fs::Outputs;
use nao_inversion::ResizePolicy;
use nao_metrics::DEFAULT_K;

use crate::classifier::ClassifierArgs;
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
    /// The classifier that scores the images.
    #[command(flatten)]
    classifier: ClassifierArgs,
    /// The ONNX Runtime library [default: $ORT_DYLIB_PATH].
    #[arg(long, value_name = "PATH")]
    ort_lib: Option<PathBuf>,
}

/// Run `nao eval`.
pub fn run(args: &EvalArgs, json: bool) -> Result<(), CliError> {
    args.classifier.check()?;
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
    args.classifier.register_input(&mut out)?;
    out.claim_folder(&args.output, "-o/--output")?;
    let classifier = args.classifier.open(args.ort_lib.as_deref())?;
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
