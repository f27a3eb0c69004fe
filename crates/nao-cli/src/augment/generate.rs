//! The images of one shard: skip those already made, then for each of the others draw its seed,
//! sample it (one image at a time, so that no image depends on its batch), commit the PNG and
//! append its manifest line.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use indicatif::ProgressStyle;
use nao_backend::{Backend, Tensor};
use nao_fs::Outputs;
use nao_prior::ChiPrior;
use nao_sampling::SampleOptions;

use super::class_seeds::{self, ClassPoints};
use super::draw::{draw, image_rng_seed};
use super::hashing::{file_sha256, sha256_hex};
use super::leftovers;
use super::manifest::{manifest_files, read_file, ManifestLine, ManifestWriter, SeedSource};
use super::shard::Shard;
use super::SpecArgs;
use crate::error::CliError;
use crate::images::{image_name, png_bytes, to_image};
use crate::output::{bar, interruption};

/// What one shard's run works with.
pub struct Job<'a> {
    /// The options.
    pub spec: &'a SpecArgs,
    /// The model.
    pub model: &'a dyn Backend,
    /// Its name for the manifest.
    pub model_name: String,
    /// The device, for the manifest.
    pub device: String,
    /// OUT_DIR.
    pub out_dir: &'a Path,
    /// The classes, in order.
    pub classes: &'a [String],
    /// This process's part.
    pub shard: Shard,
}

/// What a shard's run did.
#[derive(Debug, Default)]
pub struct Generated {
    /// Images of the shard.
    pub owned: usize,
    /// Found complete and skipped.
    pub already_done: usize,
    /// Made now.
    pub made: usize,
    /// Time spent making them.
    pub seconds: f64,
}

/// The image file of (class, index), relative to OUT_DIR.
pub fn relative_file(class: &str, index: usize, per_class: usize) -> String {
    format!("{class}/{}", image_name(index, per_class))
}

/// The class's points and prompt conditioning, loaded when its first image is made.
struct ClassState {
    points: ClassPoints,
    sources: Vec<SeedSource>,
    conditioning: nao_backend::Conditioning,
}

/// Make this shard's missing images.
pub fn generate(
    job: &Job<'_>,
    writer: &mut ManifestWriter<'_>,
    json: bool,
) -> Result<Generated, CliError> {
    let spec = job.spec;
    let n = spec.per_class;
    let own = writer.recover()?;
    let owned: Vec<(usize, usize)> = (0..job.classes.len())
        .flat_map(|c| (0..n).map(move |i| (c, i)))
        .filter(|&(c, i)| job.shard.owns(c * n + i))
        .collect();
    remove_leftovers(job, &owned)?;

    // Every recorded hash of every manifest (this shard's, the others', a merged one): an
    // image made by any process counts when its file matches.
    let mut recorded: HashMap<(String, usize), HashSet<String>> = HashMap::new();
    let mut note = |line: &ManifestLine| {
        recorded
            .entry((line.class.clone(), line.index))
            .or_default()
            .insert(line.sha256.clone());
    };
    own.lines.iter().for_each(|l| note(&l.line));
    for (path, shard) in manifest_files(job.out_dir)? {
        if shard != Some(job.shard) {
            read_file(&path)?.lines.iter().for_each(|l| note(&l.line));
        }
    }
    let mut todo = Vec::new();
    let mut result = Generated {
        owned: owned.len(),
        ..Generated::default()
    };
    for &(c, i) in &owned {
        let class = &job.classes[c];
        let done = match recorded.get(&(class.clone(), i)) {
            Some(hashes) => {
                let file = job.out_dir.join(relative_file(class, i, n));
                file.is_file() && hashes.contains(&file_sha256(&file)?)
            }
            None => false,
        };
        if done {
            result.already_done += 1;
        } else {
            todo.push((c, i));
        }
    }

    let info = job.model.info().clone();
    let (h, w) = info.default_image_size;
    let latent = info
        .latent_shape(h, w)
        .map_err(|e| CliError::compute("latent shape", e))?;
    let d: usize = latent.iter().product();
    let chi = ChiPrior::new(d).map_err(|e| CliError::compute("χ prior", e))?;
    let options = SampleOptions::default()
        .with_steps(spec.steps)
        .with_guidance_scale(spec.guidance)
        .with_negative_prompt(spec.negative_prompt.clone());

    let pb = bar(
        todo.len() as u64,
        json,
        &format!("shard {}", job.shard.label()),
    );
    if let Ok(style) =
        ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} ({elapsed}, ETA {eta})")
    {
        pb.set_style(style.progress_chars("=> "));
    }
    let started = Instant::now();
    let mut state: Option<(usize, ClassState)> = None;
    for (c, i) in todo {
        let class = &job.classes[c];
        if state.as_ref().is_none_or(|(sc, _)| *sc != c) {
            state = Some((c, load_class(job, class, &options)?));
        }
        let Some((_, cs)) = &state else {
            unreachable!("loaded above")
        };
        let drawn = draw(
            spec.method,
            &cs.points.values,
            &cs.sources,
            d,
            i,
            image_rng_seed(spec.seed, class, i),
            spec.jitter,
        );
        let values: Vec<f32> = drawn.values.iter().map(|&v| v as f32).collect();
        let seed_norm = nao_prior::norm(&values);
        let x_t = Tensor {
            shape: vec![1, latent[0], latent[1], latent[2]],
            data: values,
        };
        let file = relative_file(class, i, n);
        let target = job.out_dir.join(&file);
        let fail = |e: &dyn std::fmt::Display| {
            CliError::compute(
                "sampling",
                format!("{} (class '{class}', index {i}): {e}", target.display()),
            )
        };
        let x_0 = nao_sampling::sample(job.model, &x_t, &cs.conditioning, &options, |_| {
            interruption()
        })
        .map_err(|e| fail(&e))?;
        if x_0.data.iter().any(|v| !v.is_finite()) {
            return Err(fail(&"the final latents are not finite"));
        }
        let decoded = job.model.decode_latents(&x_0).map_err(|e| fail(&e))?;
        let ch = info.image_channels;
        let (ih, iw) = (
            latent[1] * info.vae_downsample,
            latent[2] * info.vae_downsample,
        );
        if decoded.shape != [1, ch, ih, iw] {
            return Err(fail(&format!(
                "the VAE decoder returned {:?}, expected [1, {ch}, {ih}, {iw}]",
                decoded.shape
            )));
        }
        let png = png_bytes(&to_image(&decoded.data, ch, ih, iw), &target)?;
        // the file first, whole; its line only once it is in place
        let mut out = Outputs::new();
        out.claim_folder(&job.out_dir.join(class), "-o/--output")?;
        out.write(&target, &png)?;
        out.commit()?;
        writer.append(&ManifestLine {
            class: class.clone(),
            index: i,
            method: spec.method.name().to_string(),
            prompt: cs.points.record.prompt.clone(),
            source: drawn.source,
            round: drawn.round,
            seed_norm,
            log_chi: chi.log_pdf(seed_norm),
            file,
            sha256: sha256_hex(&png),
            model: job.model_name.clone(),
            device: job.device.clone(),
        })?;
        result.made += 1;
        pb.inc(1);
    }
    pb.finish_and_clear();
    result.seconds = started.elapsed().as_secs_f64();
    Ok(result)
}

/// Read a class's points (prepared by now) and encode its prompt.
fn load_class(job: &Job<'_>, class: &str, options: &SampleOptions) -> Result<ClassState, CliError> {
    let points = class_seeds::read(job.out_dir, class)?;
    let d: usize = points.record.latent_shape.iter().product();
    let info = job.model.info();
    let (h, w) = info.default_image_size;
    let latent = info
        .latent_shape(h, w)
        .map_err(|e| CliError::compute("latent shape", e))?;
    if d != latent.iter().product::<usize>() {
        return Err(CliError::input(format!(
            "{}: seeds of shape {:?}, but the model's latents are {latent:?}",
            job.out_dir
                .join("seeds")
                .join(format!("{class}.json"))
                .display(),
            points.record.latent_shape
        )));
    }
    let sources = points
        .record
        .points
        .iter()
        .map(|p| p.source.clone())
        .collect();
    let conditioning = nao_sampling::encode_prompt(job.model, &points.record.prompt, options)
        .map_err(|e| CliError::input(format!("prompt \"{}\": {e}", points.record.prompt)))?;
    Ok(ClassState {
        points,
        sources,
        conditioning,
    })
}

/// Remove the temporary files a killed run of this shard left beside its images (see
/// [`leftovers`](super::leftovers)). Only this shard's own images are touched: the shard's lock
/// says no other process writes them.
fn remove_leftovers(job: &Job<'_>, owned: &[(usize, usize)]) -> Result<(), CliError> {
    let n = job.spec.per_class;
    let mine: HashSet<(usize, String)> =
        owned.iter().map(|&(c, i)| (c, image_name(i, n))).collect();
    for (c, class) in job.classes.iter().enumerate() {
        leftovers::remove(&job.out_dir.join(class), |target| {
            mine.contains(&(c, target.to_string()))
        })?;
    }
    Ok(())
}
