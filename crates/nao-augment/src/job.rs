//! One run of `nao augment` (or of its `prepare` step): check everything that can be checked
//! before writing, record or compare the configuration, compute the missing class seeds under
//! the output folder's lock, then make this shard's images.
//!
//! Order matters for the promise that bad input loses nothing: the spec, the real images,
//! run.json, the prompts and the real images that are still to be inverted are all checked
//! before the first write into the output folder.

use std::fs::File;
use std::path::Path;

use nao_backend::Backend;
use nao_fs::Outputs;
use serde::Serialize;

use crate::config::{check_same, read_run_file, Config, ModelRecord, RunFile, FORMAT, RUN_FILE};
use crate::generate::{generate, Generated, Job};
use crate::manifest::{ShardManifest, MERGED};
use crate::merge::merge;
use crate::progress::{report, Event, Progress};
use crate::real::{fingerprint, hash_classes, RealClass};
use crate::seeds::{hash_seeds, is_prepared, Preparer, SEEDS_DIR};
use crate::{AugmentError, AugmentSpec, ImageFolder, Refiner, Result, Shard};

/// The lock file in the output folder that serialises writing run.json and the class seeds.
const SETUP_LOCK: &str = ".nao-augment.lock";

/// Names a class folder may not have: they are the output folder's own entries.
const RESERVED: [&str; 3] = [SEEDS_DIR, RUN_FILE, MERGED];

/// Which model makes the dataset: what run.json records of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelId {
    /// `embedded` or the model folder as given (for people and the manifest).
    pub name: String,
    /// Which weights these are (`nao_models::ModelSource::identity`).
    pub identity: String,
    /// The precision it computes in (`f32`, `f16`, `bf16`).
    pub dtype: String,
    /// The weight-file variant loaded (`fp16`), if any.
    pub variant: Option<String>,
}

impl ModelId {
    /// A model computing in f32 with its plain weight files.
    pub fn new(name: impl Into<String>, identity: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            identity: identity.into(),
            dtype: "f32".into(),
            variant: None,
        }
    }
}

/// Where the opened model runs: recorded for people, not part of the configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runtime {
    /// What kind of model it is ("a Stable Diffusion ONNX export", …).
    pub kind: String,
    /// The device it runs on.
    pub device: String,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    /// Classes of the dataset.
    pub classes: usize,
    /// Images per class.
    pub per_class: usize,
    /// Every image of the dataset (classes × per class).
    pub images_total: usize,
    /// Images of this shard.
    pub owned: usize,
    /// Made by this run.
    pub made: usize,
    /// Found complete (manifest line and matching file) and skipped.
    pub already_done: usize,
    /// Classes whose seeds this run computed.
    pub prepared_classes: usize,
    /// Seconds spent making images (excluding the model's loading and the class seeds).
    pub generating_seconds: f64,
    /// `manifest.jsonl`, when this run merged (a run of the whole work merges at its end).
    pub manifest: Option<std::path::PathBuf>,
}

/// A dataset to make: the spec, checked against the real images and the output folder, before
/// any model is loaded.
///
/// ```no_run
/// use nao_augment::{quiet, Augment, AugmentSpec, ModelId, Runtime, SeedMethod, Shard};
/// let mut spec = AugmentSpec::new("real", "out");
/// spec.method = SeedMethod::Nao;
/// spec.per_class = 20;
/// let id = ModelId::new("embedded", "sha256:…");
/// let job = Augment::plan(spec, id, Shard::WHOLE)?;      // refuses bad input, writes nothing
/// let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
/// let runtime = Runtime { kind: "the embedded model".into(), device: "cpu".into() };
/// let outcome = job.run(&model, &runtime, &mut quiet)?;  // resumable, deterministic
/// assert_eq!(outcome.images_total, outcome.classes * 20);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Augment {
    spec: AugmentSpec,
    model: ModelId,
    shard: Shard,
    classes: Vec<RealClass>,
    config: Config,
}

impl Augment {
    /// Check the spec, scan and hash the real images, and compare with the output folder's
    /// run.json: everything that needs no model. Writes nothing.
    pub fn plan(spec: AugmentSpec, model: ModelId, shard: Shard) -> Result<Self> {
        spec.check()?;
        check_separate(&spec.real_dir, &spec.out_dir)?;
        let folder = ImageFolder::scan(&spec.real_dir, "REAL_DIR")?;
        if let Some(c) = folder
            .classes
            .iter()
            .find(|c| RESERVED.contains(&c.name.as_str()))
        {
            return Err(AugmentError::input(format!(
                "{}: a class may not be called '{}', a name OUT_DIR uses for itself; rename \
                 the folder",
                spec.real_dir.join(&c.name).display(),
                c.name
            )));
        }
        let images = folder.classes.len().saturating_mul(spec.per_class);
        if images > crate::spec::MAX_IMAGES {
            return Err(AugmentError::input(format!(
                "--per-class {} × {} classes = {images} images: a dataset has at most {}",
                spec.per_class,
                folder.classes.len(),
                crate::spec::MAX_IMAGES
            )));
        }
        let classes = hash_classes(&folder)?;
        let config = Config {
            classes: classes.iter().map(|c| c.name.clone()).collect(),
            real_images: fingerprint(&classes),
            prompt_template: spec.prompt_template.clone(),
            negative_prompt: spec.negative_prompt.clone(),
            method: spec.method.name().to_string(),
            per_class: spec.per_class,
            path_positions: spec.path_positions,
            steps: spec.steps,
            scheduler: spec.scheduler.map(|c| c.name()),
            guidance: spec.guidance,
            jitter: spec.jitter,
            seed: spec.seed,
            resize: spec.resize.name().to_string(),
            skip_bad_images: spec.skip_bad_images,
            shots: spec.shots,
            source: spec.source.to_string(),
            inversion: spec.inversion.name(),
            refine: spec.refine.clone(),
            model_identity: model.identity.clone(),
            dtype: model.dtype.clone(),
            variant: model.variant.clone(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        // The quick refusal, before the model is loaded; repeated under the lock.
        if let Some(recorded) = read_run_file(&spec.out_dir)? {
            check_same(&spec.out_dir, &recorded.config, &config)?;
        }
        Outputs::new().claim_folder(&spec.out_dir, "-o/--output")?;
        Ok(Self {
            spec,
            model,
            shard,
            classes,
            config,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &AugmentSpec {
        &self.spec
    }

    /// The configuration run.json records.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Whether the model must encode images (every method but prompt-only inverts).
    pub fn needs_vae_encoder(&self) -> bool {
        self.spec.method.inverts()
    }

    /// Compute the class seeds that are missing, and make this shard's images (merging the
    /// manifest at the end when the shard is the whole work).
    pub fn run(
        &self,
        model: &dyn Backend,
        runtime: &Runtime,
        progress: &mut Progress<'_>,
    ) -> Result<Outcome> {
        self.execute(model, runtime, false, None, progress)
    }

    /// [`Augment::run`] refining every drawn seed with `refiner` before it is sampled; the
    /// spec's [`AugmentSpec::refine`] must name it (its [`Refiner::identity`]).
    pub fn run_refined(
        &self,
        model: &dyn Backend,
        runtime: &Runtime,
        refiner: &mut dyn Refiner,
        progress: &mut Progress<'_>,
    ) -> Result<Outcome> {
        self.execute(model, runtime, false, Some(refiner), progress)
    }

    /// Only invert the real images and compute every class's points into `seeds/` (the first
    /// sampling process does it otherwise).
    pub fn prepare(
        &self,
        model: &dyn Backend,
        runtime: &Runtime,
        progress: &mut Progress<'_>,
    ) -> Result<Outcome> {
        self.execute(model, runtime, true, None, progress)
    }

    fn execute(
        &self,
        model: &dyn Backend,
        runtime: &Runtime,
        prepare_only: bool,
        mut refiner: Option<&mut dyn Refiner>,
        progress: &mut Progress<'_>,
    ) -> Result<Outcome> {
        let spec = &self.spec;
        let out_dir = spec.out_dir.as_path();
        if !prepare_only {
            match (&spec.refine, &refiner) {
                (Some(want), Some(r)) if *want != r.identity() => {
                    return Err(AugmentError::input(format!(
                        "the spec's refinement ({want}) is not the refiner given ({})",
                        r.identity()
                    )))
                }
                (Some(want), None) => {
                    return Err(AugmentError::input(format!(
                        "the spec names a refinement ({want}) but no refiner was given"
                    )))
                }
                (None, Some(_)) => {
                    return Err(AugmentError::input(
                        "a refiner was given but the spec names no refinement (set \
                         AugmentSpec::refine to its identity)",
                    ))
                }
                _ => {}
            }
        }
        nao_sampling::check_step_count(&model.info().scheduler, spec.steps).map_err(|e| {
            AugmentError::input(format!(
                "--steps {}: not a step count this model's scheduler takes: {e}",
                spec.steps
            ))
        })?;
        nao_sampling::check_sampling_steps(
            &model.info().scheduler,
            spec.scheduler.as_ref(),
            spec.steps,
        )
        .map_err(|e| {
            let what = spec.scheduler.map_or("the model's scheduler".into(), |c| {
                format!("--scheduler {c}")
            });
            AugmentError::input(format!("{what} with --steps {}: {e}", spec.steps))
        })?;
        let preparer = Preparer {
            model,
            method: spec.method,
            positions: spec.path_positions,
            steps: spec.steps,
            inversion: spec.inversion,
            resize: spec.resize,
            skip_bad_images: spec.skip_bad_images,
            shots: spec.shots,
            seed: spec.seed,
            centroid_paths: spec.source.uses(crate::SourceKind::CentroidPaths),
            pairwise: spec.source.uses(crate::SourceKind::Pairs)
                || spec.source.uses(crate::SourceKind::Subsets),
        };
        // Everything still to be prepared is read and its prompt encoded before the first
        // write: a bad image or an unknown class fails now, with the folder as it was.
        for class in self
            .classes
            .iter()
            .filter(|c| !is_prepared(out_dir, &c.name))
        {
            check_prompt(
                model,
                &spec.prompt(&class.name),
                &spec.real_dir,
                &class.name,
            )?;
            preparer.decode(class, progress)?;
        }

        std::fs::create_dir_all(out_dir).map_err(|e| {
            AugmentError::input(format!(
                "-o/--output {}: cannot create it: {e}",
                out_dir.display()
            ))
        })?;
        // The shard's lock first: a second process with the same shard stops here, at once.
        let mut manifest = (!prepare_only)
            .then(|| ShardManifest::open(out_dir, self.shard))
            .transpose()?;
        let mut writer = manifest.as_mut().map(|m| m.lock(self.shard)).transpose()?;

        let run_file = RunFile {
            format: FORMAT.into(),
            config: self.config.clone(),
            model: ModelRecord {
                name: self.model.name.clone(),
                kind: runtime.kind.clone(),
            },
            real_dir: spec.real_dir.display().to_string(),
            seeds: Default::default(),
        };
        let total = self.classes.len();
        let prepared_classes = setup(out_dir, &run_file, progress, |progress| {
            let mut done = 0;
            let recorded = read_run_file(out_dir)?.map(|r| r.seeds).unwrap_or_default();
            for (k, class) in self.classes.iter().enumerate() {
                if is_prepared(out_dir, &class.name) && !recorded.contains_key(&class.name) {
                    // prepared by a version that kept no hashes: recorded as they are
                    record_seeds(out_dir, &class.name)?;
                }
                // another process may have prepared it while this one waited for the lock
                if !is_prepared(out_dir, &class.name) {
                    let mut staged = Outputs::new();
                    staged.claim_folder(out_dir, "-o/--output")?;
                    preparer.prepare(
                        out_dir,
                        class,
                        &spec.prompt(&class.name),
                        &mut staged,
                        progress,
                    )?;
                    staged.commit()?;
                    record_seeds(out_dir, &class.name)?;
                    done += 1;
                }
                report(progress, Event::ClassSeeds { done: k + 1, total })?;
            }
            Ok(done)
        })?;

        let mut generated = Generated::default();
        if let Some(writer) = writer.as_mut() {
            let job = Job {
                spec,
                model,
                model_name: &self.model.name,
                device: &runtime.device,
                classes: &self.config.classes,
                shard: self.shard,
            };
            generated = generate(&job, writer, refiner.take(), progress)?;
        }
        // The shard's lock goes before the merge, which checks that no shard is still running.
        drop(writer);
        drop(manifest);
        let manifest = if !prepare_only && self.shard == Shard::WHOLE {
            Some(merge(out_dir)?.manifest)
        } else {
            None
        };
        Ok(Outcome {
            classes: self.config.classes.len(),
            per_class: spec.per_class,
            images_total: self.config.classes.len() * spec.per_class,
            owned: generated.owned,
            made: generated.made,
            already_done: generated.already_done,
            prepared_classes,
            generating_seconds: generated.seconds,
            manifest,
        })
    }
}

/// Record the hashes of a class's seeds files in run.json (under the setup lock).
fn record_seeds(out_dir: &Path, class: &str) -> Result<()> {
    let mut run = read_run_file(out_dir)?
        .ok_or_else(|| AugmentError::input(format!("{}: run.json is gone", out_dir.display())))?;
    run.seeds
        .insert(class.to_string(), hash_seeds(out_dir, class)?);
    write_run_file(out_dir, &run)
}

/// Write run.json (whole, through a temporary file).
fn write_run_file(out_dir: &Path, run: &RunFile) -> Result<()> {
    let text =
        serde_json::to_string_pretty(run).map_err(|e| AugmentError::compute("JSON encoding", e))?;
    Ok(nao_fs::write_file(
        &out_dir.join(RUN_FILE),
        "run.json",
        format!("{text}\n").as_bytes(),
    )?)
}

/// Refuse an output folder inside the real images' (it would become a class) or the other
/// way round.
fn check_separate(real_dir: &Path, out_dir: &Path) -> Result<()> {
    let (r, o) = (nao_fs::normalise(real_dir), nao_fs::normalise(out_dir));
    if o.starts_with(&r) || r.starts_with(&o) {
        return Err(AugmentError::input(format!(
            "-o/--output {} and REAL_DIR {} overlap; the output folder must lie outside the real \
             images (and hold none of them)",
            out_dir.display(),
            real_dir.display()
        )));
    }
    Ok(())
}

/// Encode a class's prompt once, to refuse a class the model cannot take before any work.
fn check_prompt(model: &dyn Backend, prompt: &str, real_dir: &Path, class: &str) -> Result<()> {
    model.encode_prompt(prompt, "", false).map_err(|e| {
        AugmentError::input(format!(
            "{}: the class's prompt \"{prompt}\" (--prompt-template) is refused by the model: {e}",
            real_dir.join(class).display()
        ))
    })?;
    Ok(())
}

/// Under the output folder's exclusive lock: compare with (or write) run.json, then run
/// `prepare`. Other processes wait for the lock, so the class seeds are computed once.
fn setup(
    out_dir: &Path,
    run_file: &RunFile,
    progress: &mut Progress<'_>,
    prepare: impl FnOnce(&mut Progress<'_>) -> Result<usize>,
) -> Result<usize> {
    let lock_path = out_dir.join(SETUP_LOCK);
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| {
            AugmentError::input(format!("{}: cannot open it: {e}", lock_path.display()))
        })?;
    let mut lock = fd_lock::RwLock::new(file);
    let lock_error = |e: std::io::Error| {
        AugmentError::input(format!("{}: cannot lock it: {e}", lock_path.display()))
    };
    // Try first, to say why this process waits; then wait.
    let busy = match lock.try_write() {
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
        Err(e) => return Err(lock_error(e)),
    };
    if busy {
        report(progress, Event::WaitingForSetup)?;
    }
    let _guard = lock.write().map_err(lock_error)?;
    // What a killed process left while it held this lock.
    nao_fs::leftovers::remove(out_dir, |target| target == RUN_FILE)?;
    nao_fs::leftovers::remove(&out_dir.join(SEEDS_DIR), |_| true)?;
    match read_run_file(out_dir)? {
        Some(recorded) => check_same(out_dir, &recorded.config, &run_file.config)?,
        None => write_run_file(out_dir, run_file)?,
    }
    prepare(progress)
}
