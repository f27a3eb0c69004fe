//! The generated sets, made in-process by `nao_augment` with the embedded model (what `nao
//! augment` does, SeedSelect included: `--refine seedselect`), and measured against the rare
//! classes' test images (what `nao eval` does).

use std::collections::VecDeque;
use std::sync::Mutex;

use nao_augment::{
    Augment, AugmentSpec, EvalReport, EvalSpec, ModelId, Outcome, Refiner, Runtime, SeedMethod,
    Shard, SourceMix,
};
use nao_burn::{BurnModel, Device};
use nao_fs::Outputs;
use nao_models::{ModelKind, ModelSource, Precision};
use nao_select::{OpenOptions, SeedSelectRefiner, SelectConfig};

use super::error::{LongtailError, Result};
use super::plan::Plan;
use super::progress::{first_error, Event, Progress, Shared};
use super::rows::{Generation, Refine};
use super::spec::{ExperimentSpec, SelectSettings};

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

/// SeedSelect's settings for `method`'s seeds: the official ones for inverted seeds, or for
/// random ones with prompt-only (as `nao augment --refine seedselect` chooses them).
pub fn select_config(settings: SelectSettings, method: SeedMethod) -> SelectConfig {
    let mut config = if method == SeedMethod::PromptOnly {
        SelectConfig::from_random()
    } else {
        SelectConfig::from_nao()
    };
    if settings == SelectSettings::Tiny {
        config.iterations = 1;
        // the fewest steps that still take the semantic term's three weights
        config.steps = config.semantic_weights.len();
    }
    config
}

/// The refiner of `generation` (`None` without refinement), opening the embedded model for
/// each class's prompt on the CPU.
fn refiner(spec: &ExperimentSpec, generation: Generation) -> Result<Option<SeedSelectRefiner>> {
    match generation.refine {
        Refine::None => Ok(None),
        Refine::SeedSelect => {
            let config = select_config(spec.select, generation.method);
            let device = Device::flex();
            let open = move |prompt: &str| {
                nao_select::open_model(None, &device, prompt, &OpenOptions::default())
            };
            SeedSelectRefiner::new(config, Box::new(open))
                .map(Some)
                .map_err(|e| LongtailError::Model(format!("SeedSelect: {e}")))
        }
    }
}

/// The `nao augment` spec of `generation`: its method, source, shots and refinement, the
/// experiment's count and steps, augment's defaults for the rest.
pub fn augment_spec(spec: &ExperimentSpec, generation: Generation) -> Result<AugmentSpec> {
    let mut a = AugmentSpec::new(spec.real_dir(), spec.generated_dir(generation));
    a.method = generation.method;
    if let Some(source) = generation.source {
        a.source = SourceMix::only(source);
    }
    a.shots = generation.shots;
    a.per_class = spec.generated_per_class;
    a.steps = spec.ddim_steps;
    a.refine = refiner(spec, generation)?.map(|r| r.identity());
    Ok(a)
}

/// Make `generations` in `WORK/generated/`, `jobs` at a time, each worker with its own
/// embedded model (and SeedSelect refiner, for a refined set); each set's outcome, in the
/// order given.
///
/// Resumable: a set's images already made are checked and kept (see `nao_augment`), so a
/// second run makes nothing and a killed one loses at most the images in flight. `progress`
/// hears [`Event::Generating`] and [`Event::Generated`].
pub fn generate_sets(
    plan: &Plan,
    generations: &[Generation],
    progress: &mut Progress<'_>,
) -> Result<Vec<(Generation, Outcome)>> {
    let spec = plan.spec();
    if generations.is_empty() {
        return Ok(Vec::new());
    }
    let model = embedded_model_id()?;
    // Every set is planned (its real images read, its folder compared with its run.json)
    // before any image is made: a folder that holds another set fails now, not an hour later.
    let jobs = generations
        .iter()
        .map(|&g| {
            let a = augment_spec(spec, g)?;
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
                    let r = generate_queue(spec, &queue, &done, &runtime, &shared);
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
    spec: &ExperimentSpec,
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
        let mut report =
            |event: nao_augment::Event<'_>| shared.report(Event::Generating { generation, event });
        // a refiner per set: it holds the model of the class it prepared last
        let outcome = match refiner(spec, generation)? {
            Some(mut r) => job.run_refined(&model, runtime, &mut r, &mut report),
            None => job.run(&model, runtime, &mut report),
        }
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

/// Measure `generations` against the rare classes' test images with the embedded classifier,
/// each set under its configuration's name (`+FOLDER`), and write the measures to `WORK/eval/`
/// (`eval.json`, `eval.md`, `eval.png`); `None` when there is no set. `progress` hears
/// [`Event::Evaluating`].
///
/// Each set is measured on its own (`nao eval` names a set by its method, and several sets
/// here share one) and the reports are joined; the real images' features are the same in
/// each, so the joined report is the one a single evaluation would give.
pub fn evaluate_sets(
    plan: &Plan,
    generations: &[Generation],
    progress: &mut Progress<'_>,
) -> Result<Option<EvalReport>> {
    let spec = plan.spec();
    if generations.is_empty() {
        return Ok(None);
    }
    let eval_dir = spec.eval_dir();
    let mut out = Outputs::new();
    out.claim_folder(&eval_dir, "the measures")?;
    let classifier = open_embedded()?;
    let mut joined: Option<EvalReport> = None;
    for &g in generations {
        let eval = EvalSpec::new(spec.test_real_dir(), vec![spec.generated_dir(g)]);
        let mut report = nao_augment::evaluate(&classifier, &eval, &mut |event| {
            progress(Event::Evaluating(event))
        })
        .map_err(LongtailError::evaluate)?;
        for m in &mut report.methods {
            m.method = format!("+{}", g.folder());
        }
        match &mut joined {
            None => joined = Some(report),
            Some(j) => j.methods.append(&mut report.methods),
        }
    }
    let Some(report) = joined else {
        return Ok(None);
    };
    for (name, bytes) in report.files().map_err(LongtailError::evaluate)? {
        out.write(&eval_dir.join(name), &bytes)?;
    }
    out.commit()?;
    Ok(Some(report))
}
