//! The run of `nao augment` (and of `nao augment prepare`): check everything that can be
//! checked before writing, record or compare the configuration, compute the missing class
//! seeds under OUT_DIR's lock, then make this shard's images.
//!
//! Order matters for the promise that bad input loses nothing: the options, REAL_DIR, run.json,
//! the prompts and the real images that are still to be inverted are all checked before the
//! first write into OUT_DIR.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::ValueEnum;
use nao_backend::Backend;
use nao_fs::Outputs;
use nao_models::Needs;
use serde::Serialize;

use super::class_seeds::{is_prepared, Preparer, SEEDS_DIR};
use super::config::{check_same, read_run_file, Config, ModelRecord, RunFile, FORMAT, RUN_FILE};
use super::generate::{generate, Generated, Job};
use super::inputs::{fingerprint, scan, RealClass};
use super::leftovers;
use super::manifest::{ShardManifest, MERGED};
use super::shard::Shard;
use super::SpecArgs;
use crate::class_points::SeedMethod;
use crate::error::CliError;
use crate::model::{check_guidance, check_steps};
use crate::output::emit;

/// The lock file in OUT_DIR that serialises writing run.json and the class seeds.
const SETUP_LOCK: &str = ".nao-augment.lock";

/// Names a class folder may not have: they are OUT_DIR's own entries.
const RESERVED: [&str; 3] = ["seeds", RUN_FILE, MERGED];

/// What `nao augment` reports.
#[derive(Debug, Serialize)]
struct Report {
    output: String,
    /// `I/N`, or `prepare` for `nao augment prepare`.
    shard: String,
    classes: usize,
    per_class: usize,
    /// Every image of the dataset (classes × per-class).
    images_total: usize,
    /// Images of this shard.
    owned: usize,
    /// Made by this run.
    generated: usize,
    /// Found complete (manifest line and matching file) and skipped.
    already_done: usize,
    /// Classes whose seeds this run computed.
    prepared_classes: usize,
    model: String,
    device: String,
    seconds: f64,
    /// Images made per second of sampling (excluding model loading and class seeds).
    images_per_second: f64,
    /// manifest.jsonl, when this run merged (a run without --shard merges at its end).
    #[serde(skip_serializing_if = "Option::is_none")]
    manifest: Option<String>,
}

impl SpecArgs {
    fn paths(&self) -> Result<(&Path, &Path), CliError> {
        match (&self.real_dir, &self.output) {
            (Some(r), Some(o)) => Ok((r, o)),
            _ => Err(CliError::input("give REAL_DIR and -o/--output OUT_DIR")),
        }
    }

    fn check(&self) -> Result<(), CliError> {
        self.model.check()?;
        if self.per_class == 0 {
            return Err(CliError::input(
                "--per-class 0: give at least 1 image per class",
            ));
        }
        check_steps("--steps", self.steps, None)?;
        check_guidance("--guidance", self.guidance)?;
        if !(self.jitter.is_finite() && self.jitter > 0.0) {
            return Err(CliError::input(format!(
                "--jitter {}: give a finite number > 0 (the images past the distinct points \
                 would otherwise repeat them)",
                self.jitter
            )));
        }
        if !self.prompt_template.contains("{class}") {
            return Err(CliError::input(format!(
                "--prompt-template \"{}\": it must contain {{class}}, which is replaced by each \
                 class's name",
                self.prompt_template
            )));
        }
        Ok(())
    }

    fn prompt(&self, class: &str) -> String {
        self.prompt_template.replace("{class}", class)
    }

    fn config(&self, classes: &[RealClass]) -> Result<Config, CliError> {
        let (dtype, variant) = self.model.precision_and_variant();
        Ok(Config {
            classes: classes.iter().map(|c| c.name.clone()).collect(),
            real_images: fingerprint(classes),
            prompt_template: self.prompt_template.clone(),
            negative_prompt: self.negative_prompt.clone(),
            method: self.method.name().to_string(),
            per_class: self.per_class,
            path_positions: self.path_positions,
            steps: self.steps,
            guidance: self.guidance,
            jitter: self.jitter,
            seed: self.seed,
            resize: self
                .resize
                .to_possible_value()
                .map(|v| v.get_name().to_string())
                .unwrap_or_default(),
            skip_bad_images: self.skip_bad_images,
            model_identity: super::identity::model_identity(self.model.folder())?,
            dtype: dtype.to_string(),
            variant: variant.map(str::to_string),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        })
    }
}

/// Run `nao augment` (`prepare_only`: `nao augment prepare`).
pub fn command(
    spec: &SpecArgs,
    shard: Option<&str>,
    prepare_only: bool,
    json: bool,
) -> Result<(), CliError> {
    let started = Instant::now();
    let (real_dir, out_dir) = spec.paths()?;
    spec.check()?;
    let shard = match shard {
        Some(s) => Shard::parse(s, &|name| std::env::var(name).ok())?,
        None => Shard::WHOLE,
    };
    check_separate(real_dir, out_dir)?;
    let classes = scan(real_dir)?;
    if let Some(c) = classes.iter().find(|c| RESERVED.contains(&c.name.as_str())) {
        return Err(CliError::input(format!(
            "{}: a class may not be called '{}', a name OUT_DIR uses for itself; rename the \
             folder",
            real_dir.join(&c.name).display(),
            c.name
        )));
    }
    let config = spec.config(&classes)?;
    // The quick refusal, before the model is loaded; repeated under the lock below.
    if let Some(recorded) = read_run_file(out_dir)? {
        check_same(out_dir, &recorded.config, &config)?;
    }
    Outputs::new().claim_folder(out_dir, "-o/--output")?;

    let needs = Needs {
        text_encoder: true,
        vae_encoder: spec.method != SeedMethod::PromptOnly,
        vae_decoder: !prepare_only,
    };
    let opened = spec.model.open(json, needs)?;
    let model: &dyn Backend = opened.model.as_ref();
    let device = opened.device.to_string();
    check_steps("--steps", spec.steps, Some(&model.info().scheduler))?;
    let preparer = Preparer {
        model,
        method: spec.method,
        positions: spec.path_positions,
        steps: spec.steps,
        resize: spec.resize,
        skip_bad_images: spec.skip_bad_images,
    };
    // Everything still to be prepared is read and its prompt encoded before the first write:
    // a bad image or an unknown class fails now, with OUT_DIR as it was.
    let pending: Vec<&RealClass> = classes
        .iter()
        .filter(|c| !is_prepared(out_dir, &c.name))
        .collect();
    for class in &pending {
        check_prompt(model, &spec.prompt(&class.name), real_dir, &class.name)?;
        preparer.decode(class)?;
    }

    std::fs::create_dir_all(out_dir).map_err(|e| {
        CliError::input(format!(
            "-o/--output {}: cannot create it: {e}",
            out_dir.display()
        ))
    })?;
    // The shard's lock first: a second process with the same shard stops here, at once.
    let mut manifest = (!prepare_only)
        .then(|| ShardManifest::open(out_dir, shard))
        .transpose()?;
    let mut writer = manifest.as_mut().map(|m| m.lock(shard)).transpose()?;

    let run_file = RunFile {
        format: FORMAT.into(),
        config: config.clone(),
        model: ModelRecord {
            name: spec.model.name(),
            kind: opened.kind.describe().to_string(),
        },
        real_dir: real_dir.display().to_string(),
    };
    let prepared_classes = setup(out_dir, &run_file, |out| {
        let mut done = 0;
        let pb = crate::output::bar(classes.len() as u64, json, "class seeds");
        for class in &classes {
            // another process may have prepared it while this one waited for the lock
            if !is_prepared(out_dir, &class.name) {
                let mut staged = Outputs::new();
                staged.claim_folder(out, "-o/--output")?;
                preparer.prepare(out, class, &spec.prompt(&class.name), &mut staged)?;
                staged.commit()?;
                done += 1;
            }
            pb.inc(1);
        }
        pb.finish_and_clear();
        Ok(done)
    })?;

    let mut generated = Generated::default();
    let mut merged = None;
    if let Some(writer) = writer.as_mut() {
        let job = Job {
            spec,
            model,
            model_name: spec.model.name(),
            device: device.clone(),
            out_dir,
            classes: &config.classes,
            shard,
        };
        generated = generate(&job, writer, json)?;
    }
    // The shard's lock goes before the merge, which checks that no shard is still running.
    drop(writer);
    drop(manifest);
    if !prepare_only && shard == Shard::WHOLE {
        let m = super::merge::merge(out_dir)?;
        merged = Some(m.manifest.display().to_string());
    }

    let images_total = config.classes.len() * spec.per_class;
    let report = Report {
        output: out_dir.display().to_string(),
        shard: if prepare_only {
            "prepare".into()
        } else {
            shard.label()
        },
        classes: config.classes.len(),
        per_class: spec.per_class,
        images_total,
        owned: generated.owned,
        generated: generated.made,
        already_done: generated.already_done,
        prepared_classes,
        model: spec.model.name(),
        device,
        seconds: started.elapsed().as_secs_f64(),
        images_per_second: if generated.seconds > 0.0 {
            generated.made as f64 / generated.seconds
        } else {
            0.0
        },
        manifest: merged,
    };
    emit(json, &report, || text(&report, out_dir))
}

fn text(r: &Report, out_dir: &Path) -> String {
    if r.shard == "prepare" {
        return format!(
            "class seeds of {} classes in {} ({} computed now), {:.1} s",
            r.classes,
            out_dir.join("seeds").display(),
            r.prepared_classes,
            r.seconds
        );
    }
    let mut s = format!(
        "shard {}: {} of its {} images made ({} already there), {:.2} images/s on {}; {:.1} s",
        r.shard, r.generated, r.owned, r.already_done, r.images_per_second, r.device, r.seconds
    );
    match &r.manifest {
        Some(m) => {
            s += &format!(
                "\ndataset complete: {} images, manifest {m}",
                r.images_total
            )
        }
        None => {
            s += &format!(
                "\nwhen every shard is done: nao augment merge {}",
                out_dir.display()
            )
        }
    }
    s
}

/// Refuse an OUT_DIR inside REAL_DIR (it would become a class) or the other way round.
fn check_separate(real_dir: &Path, out_dir: &Path) -> Result<(), CliError> {
    let (r, o) = (nao_fs::normalise(real_dir), nao_fs::normalise(out_dir));
    if o.starts_with(&r) || r.starts_with(&o) {
        return Err(CliError::input(format!(
            "-o/--output {} and REAL_DIR {} overlap; the output folder must lie outside the real \
             images (and hold none of them)",
            out_dir.display(),
            real_dir.display()
        )));
    }
    Ok(())
}

/// Encode a class's prompt once, to refuse a class the model cannot take before any work.
fn check_prompt(
    model: &dyn Backend,
    prompt: &str,
    real_dir: &Path,
    class: &str,
) -> Result<(), CliError> {
    model.encode_prompt(prompt, "", false).map_err(|e| {
        CliError::input(format!(
            "{}: the class's prompt \"{prompt}\" (--prompt-template) is refused by the model: {e}",
            real_dir.join(class).display()
        ))
    })?;
    Ok(())
}

/// Under OUT_DIR's exclusive lock: compare with (or write) run.json, then run `prepare`. Other
/// processes wait for the lock, so the class seeds are computed once.
fn setup(
    out_dir: &Path,
    run_file: &RunFile,
    prepare: impl FnOnce(&Path) -> Result<usize, CliError>,
) -> Result<usize, CliError> {
    let lock_path: PathBuf = out_dir.join(SETUP_LOCK);
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock_path)
        .map_err(|e| CliError::input(format!("{}: cannot open it: {e}", lock_path.display())))?;
    let mut lock = fd_lock::RwLock::new(file);
    let lock_error = |e: std::io::Error| {
        CliError::input(format!("{}: cannot lock it: {e}", lock_path.display()))
    };
    // Try first, to say why this process waits; then wait.
    let busy = match lock.try_write() {
        Ok(_) => false,
        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
        Err(e) => return Err(lock_error(e)),
    };
    if busy {
        eprintln!(
            "nao: waiting for another process that is preparing the class seeds in {}",
            out_dir.display()
        );
    }
    let _guard = lock.write().map_err(lock_error)?;
    // What a killed process left while it held this lock.
    leftovers::remove(out_dir, |target| target == RUN_FILE)?;
    leftovers::remove(&out_dir.join(SEEDS_DIR), |_| true)?;
    match read_run_file(out_dir)? {
        Some(recorded) => check_same(out_dir, &recorded.config, &run_file.config)?,
        None => {
            let text = serde_json::to_string_pretty(run_file)
                .map_err(|e| CliError::compute("JSON encoding", e))?;
            nao_fs::write_file(
                &out_dir.join(RUN_FILE),
                "run.json",
                format!("{text}\n").as_bytes(),
            )?;
        }
    }
    prepare(out_dir)
}
