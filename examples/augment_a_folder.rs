//! Make a dataset from a few real images per class: for each class folder, invert its images,
//! take their NAO centroid and the points on the geodesics to each, and sample new images —
//! deterministic and resumable (run it twice: the second run makes nothing). Then measure the
//! new images against the real ones with the embedded classifier, as `nao eval` does.
//!
//! ```sh
//! cargo run --release --features full --example augment_a_folder [-- REAL_DIR OUT_DIR]
//! ```
use nao::augment::{evaluate, Augment, AugmentSpec, EvalSpec, Event, ModelId, Runtime, Shard};
use nao::models::{open_model, Device, ModelSource, OpenOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let real = args
        .next()
        .unwrap_or(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/data/real").into());
    let out = args.next().map_or_else(
        || std::env::temp_dir().join("nao-augment-a-folder"),
        Into::into,
    );

    let mut spec = AugmentSpec::new(&real, &out); // NAO centroids and paths by default
    spec.per_class = 12;
    spec.steps = 20;
    let source = ModelSource::Embedded;
    let id = ModelId::new(source.name(), source.identity()?);
    // everything that needs no model is checked first: nothing is written on bad input
    let job = Augment::plan(spec, id, Shard::WHOLE)?;

    let opened = open_model(&source, Some(Device::Cpu), &OpenOptions::default())?;
    let runtime = Runtime {
        kind: opened.kind.describe().into(),
        device: opened.device.to_string(),
    };
    let outcome = job.run(&*opened.model, &runtime, &mut |event| {
        if let Event::Images { done, todo } = event {
            eprint!("\r{done}/{todo} images");
        }
        std::ops::ControlFlow::Continue(()) // Break would cancel; a rerun resumes
    })?;
    eprintln!();
    println!(
        "{} images made, {} already there: {}",
        outcome.made,
        outcome.already_done,
        out.display()
    );

    // what the new images are worth, measured against the real ones
    let classifier = nao::embedded::BurnModel::embedded(&nao::embedded::Device::flex())?;
    let report = evaluate(
        &classifier,
        &EvalSpec::new(&real, vec![out.clone()]),
        &mut nao::augment::quiet,
    )?;
    for m in &report.methods {
        println!(
            "{}: accuracy {:.2}, Fréchet distance {:?}, mean log χ {:?}",
            m.method, m.overall.accuracy, m.overall.frechet_distance, m.overall.mean_log_chi
        );
    }
    Ok(())
}
