//! The generated sets, made in-process by `nao_augment` with the embedded model (what `nao
//! augment` does), and measured against the rare classes' test images (what `nao eval` does).

use std::collections::VecDeque;
use std::sync::Mutex;

use nao_augment::{Augment, AugmentSpec, EvalReport, EvalSpec, ModelId, Outcome, Runtime, Shard};
use nao_burn::{BurnModel, Device};
use nao_fs::Outputs;
use nao_models::{ModelKind, ModelSource, Precision};

use super::error::{LongtailError, Result};
use super::plan::Plan;
use super::progress::{first_error, Event, Progress, Shared};
use super::rows::Generation;

/// What a generated set records of the embedded model: the same as `nao augment` with its
/// defaults records, so that a set either of them started resumes in the other.
fn embedded_model_id() -> Result<ModelId> {
    let source = ModelSource::Embedded;
    Ok(ModelId {
        name: source.name(),
        identity: source
            .identity()
            .map_err(|e| LongtailError::Model(e.to_string()))?,
        dtype: Precision::F32.to_string(),
        variant: None,
    })
}

fn open_embedded() -> Result<BurnModel> {
    BurnModel::embedded(&Device::flex()).map_err(|e| LongtailError::Model(e.to_string()))
}

/// Make every generated set of `plan` in `WORK/generated/`, `jobs` at a time, each worker with
/// its own embedded model; each set's outcome, in the plan's order.
///
/// Resumable: a set's images already made are checked and kept (see `nao_augment`), so a
/// second run makes nothing and a killed one loses at most the images in flight. `progress`
/// hears [`Event::Generating`] and [`Event::Generated`].
pub fn generate_sets(
    plan: &Plan,
    progress: &mut Progress<'_>,
) -> Result<Vec<(Generation, Outcome)>> {
    let spec = plan.spec();
    let generations = plan.generations();
    if generations.is_empty() {
        return Ok(Vec::new());
    }
    let model = embedded_model_id()?;
    // Every set is planned (its real images read, its folder compared with its run.json)
    // before any image is made: a folder that holds another set fails now, not an hour later.
    let jobs = generations
        .iter()
        .map(|&g| {
            let mut a = AugmentSpec::new(spec.real_dir(), spec.generated_dir(g));
            a.method = g.method;
            a.per_class = spec.generated_per_class;
            a.steps = spec.ddim_steps;
            Augment::plan(a, model.clone(), Shard::WHOLE)
                .map(|job| (g, job))
                .map_err(|e| LongtailError::generate(g, e))
        })
        .collect::<Result<VecDeque<_>>>()?;
    let runtime = Runtime {
        kind: ModelKind::Embedded.describe().into(),
        device: nao_models::Device::Cpu.to_string(),
    };
    let queue = Mutex::new(jobs);
    let done = Mutex::new(Vec::new());
    let shared = Shared::new(progress);
    let workers = spec.jobs.min(generations.len());
    let results = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let r = generate_queue(&queue, &done, &runtime, &shared);
                    if r.is_err() {
                        shared.stop();
                    }
                    r
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a generation thread panicked"))
            .collect::<Vec<_>>()
    });
    first_error(results)?;
    let mut done = done.into_inner().unwrap_or_else(|e| e.into_inner());
    done.sort_by_key(|(g, _)| generations.iter().position(|x| x == g));
    Ok(done)
}

/// One worker: make the sets of the queue until it is empty.
fn generate_queue(
    queue: &Mutex<VecDeque<(Generation, Augment)>>,
    done: &Mutex<Vec<(Generation, Outcome)>>,
    runtime: &Runtime,
    shared: &Shared<'_, '_>,
) -> Result<()> {
    // its own model: burn's modules are not Sync, and opening the embedded one is cheap
    let model = open_embedded()?;
    loop {
        let Some((generation, job)) = queue.lock().expect("the generation queue").pop_front()
        else {
            return Ok(());
        };
        let outcome = job
            .run(&model, runtime, &mut |event| {
                shared.report(Event::Generating { generation, event })
            })
            .map_err(|e| LongtailError::generate(generation, e))?;
        shared.check(Event::Generated {
            generation,
            outcome: &outcome,
            dir: &job.spec().out_dir,
        })?;
        done.lock()
            .expect("the generated sets")
            .push((generation, outcome));
    }
}

/// Measure every generated set of `plan` against the rare classes' test images with the
/// embedded classifier, and write the measures to `WORK/eval/` (`eval.json`, `eval.md`,
/// `eval.png`); `None` when the plan generates nothing. `progress` hears
/// [`Event::Evaluating`].
pub fn evaluate_sets(plan: &Plan, progress: &mut Progress<'_>) -> Result<Option<EvalReport>> {
    let spec = plan.spec();
    let generations = plan.generations();
    if generations.is_empty() {
        return Ok(None);
    }
    let eval_dir = spec.eval_dir();
    let mut out = Outputs::new();
    out.claim_folder(&eval_dir, "the measures")?;
    let classifier = open_embedded()?;
    let eval = EvalSpec::new(
        spec.test_real_dir(),
        generations.iter().map(|&g| spec.generated_dir(g)).collect(),
    );
    let report = nao_augment::evaluate(&classifier, &eval, &mut |event| {
        progress(Event::Evaluating(event))
    })
    .map_err(LongtailError::evaluate)?;
    for (name, bytes) in report.files().map_err(LongtailError::evaluate)? {
        out.write(&eval_dir.join(name), &bytes)?;
    }
    out.commit()?;
    Ok(Some(report))
}
