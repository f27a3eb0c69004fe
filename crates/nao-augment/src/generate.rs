//! The images of one shard: skip those already made, then for each of the others draw its seed,
//! sample it (one image at a time, so that no image depends on its batch), commit the PNG and
//! append its manifest line.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::time::Instant;

use nao_backend::{Backend, Conditioning, Tensor};
use nao_fs::hash::{file_sha256, sha256_hex};
use nao_fs::Outputs;
use nao_prior::ChiPrior;
use nao_sampling::SampleOptions;

use crate::draw::{image_rng_seed, ClassPool};
use crate::manifest::{manifest_files, read_manifest, ManifestLine, ManifestWriter, SeedSource};
use crate::progress::{report, Event, Progress};
use crate::seeds::{read_class_seeds, ClassSeeds, SEEDS_DIR};
use crate::{AugmentError, AugmentSpec, Refiner, Result, Shard};

/// What one shard's run works with.
pub(crate) struct Job<'a> {
    pub spec: &'a AugmentSpec,
    pub model: &'a dyn Backend,
    /// The model's name and the device, for the manifest.
    pub model_name: &'a str,
    pub device: &'a str,
    pub classes: &'a [String],
    pub shard: Shard,
}

/// What a shard's run did.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
pub(crate) struct Generated {
    pub owned: usize,
    pub already_done: usize,
    pub made: usize,
    pub seconds: f64,
}

/// The image file of (class, index), relative to the output folder.
pub fn relative_file(class: &str, index: usize, per_class: usize) -> String {
    format!("{class}/{}", nao_viz::image_name(index, per_class))
}

/// The class's points and prompt conditioning, loaded when its first image is made.
struct ClassState {
    seeds: ClassSeeds,
    sources: Vec<SeedSource>,
    /// The inverted images' file names, in the order of the inverted seeds.
    images: Vec<String>,
    conditioning: Conditioning,
    /// The class's latent shape: the model's, or its real images' own under
    /// `ResizePolicy::None`.
    latent: [usize; 3],
    /// The χ prior of that dimension.
    chi: ChiPrior,
}

/// Make this shard's missing images.
pub(crate) fn generate(
    job: &Job<'_>,
    writer: &mut ManifestWriter<'_>,
    mut refiner: Option<&mut dyn Refiner>,
    progress: &mut Progress<'_>,
) -> Result<Generated> {
    let spec = job.spec;
    let out_dir = spec.out_dir.as_path();
    let n = spec.per_class;
    let (own, torn) = writer.recover()?;
    let seeds_hashes = crate::config::read_run_file(out_dir)?
        .map(|r| r.seeds)
        .unwrap_or_default();
    if torn > 0 {
        let note = format!(
            "{}: removed the unfinished last line ({torn} bytes) of an interrupted run",
            writer.path().display()
        );
        report(progress, Event::Note(&note))?;
    }
    let classes = job.classes.len();
    // Items are numbered class by class; the spec's bounds keep c·n + i far from overflow.
    let owns = |c: usize, i: usize| job.shard.owns(c * n + i);
    // The shard's items, lazily: no list as long as the dataset is ever built.
    let owned_items = || {
        (0..classes)
            .flat_map(move |c| (0..n).map(move |i| (c, i)))
            .filter(move |&(c, i)| owns(c, i))
    };
    remove_leftovers(job, &owns)?;

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
    for (path, shard) in manifest_files(out_dir)? {
        if shard != Some(job.shard) {
            read_manifest(&path)?
                .lines
                .iter()
                .for_each(|l| note(&l.line));
        }
    }
    let is_done = |c: usize, i: usize| -> Result<bool> {
        let class = &job.classes[c];
        Ok(match recorded.get(&(class.clone(), i)) {
            Some(hashes) => {
                let file = out_dir.join(relative_file(class, i, n));
                file.is_file() && hashes.contains(&file_sha256(&file)?)
            }
            None => false,
        })
    };
    // A first pass counts (for the progress report), the second makes what is missing.
    let mut result = Generated::default();
    for (c, i) in owned_items() {
        result.owned += 1;
        if is_done(c, i)? {
            result.already_done += 1;
        }
    }
    let todo = owned_items().filter_map(|(c, i)| match is_done(c, i) {
        Ok(true) => None,
        Ok(false) => Some(Ok((c, i))),
        Err(e) => Some(Err(e)),
    });

    let info = job.model.info().clone();
    let options = SampleOptions::default()
        .with_steps(spec.steps)
        .with_guidance_scale(spec.guidance)
        .with_negative_prompt(spec.negative_prompt.clone());
    // a stochastic sampler draws its noise from a generator seeded per image, so an image does
    // not depend on which shard or process makes it
    let options = match spec.scheduler {
        Some(c) => options.with_scheduler(c),
        None => options,
    };

    // every seed of a refined dataset is refined, and sampled with the refinement's own
    // sampler (`Refiner::render_options`: a seed optimised at guidance 7.5 is not drawn at 1);
    // the class conditioning is encoded for the sampler that uses it
    let render = refiner
        .as_deref()
        .map(|r| r.render_options(options.clone()));
    let sampling = render.as_ref().unwrap_or(&options);

    let total = result.owned - result.already_done;
    report(
        progress,
        Event::Images {
            done: 0,
            todo: total,
        },
    )?;
    let started = Instant::now();
    let mut state: Option<(usize, ClassState)> = None;
    for item in todo {
        let (c, i) = item?;
        let class = &job.classes[c];
        if state.as_ref().is_none_or(|(sc, _)| *sc != c) {
            crate::seeds::verify_seeds(out_dir, class, seeds_hashes.get(class.as_str()))?;
            let loaded = load_class(job, class, sampling)?;
            if let Some(r) = refiner.as_deref_mut() {
                let images = real_images(job, class, &loaded.images)?;
                r.prepare(class, &loaded.seeds.record.prompt, &images)?;
            }
            state = Some((c, loaded));
        }
        let Some((_, cs)) = &state else {
            unreachable!("loaded above")
        };
        let (latent, chi) = (cs.latent, &cs.chi);
        let d: usize = latent.iter().product();
        let pool = ClassPool {
            method: spec.method,
            points: &cs.seeds.values,
            sources: &cs.sources,
            inverted: &cs.seeds.inverted,
            images: &cs.images,
            mix: &spec.source,
            jitter: spec.jitter,
            dim: d,
        };
        let drawn = pool
            .draw(i, image_rng_seed(spec.seed, class, i))
            .map_err(|e| match e {
                AugmentError::Compute { what, message } => AugmentError::Compute {
                    what,
                    message: format!("class '{class}': {message}"),
                },
                other => other,
            })?;
        let (drawn_values, refinement) = match refiner.as_deref_mut() {
            Some(r) => {
                let (refined, how) = r.refine(&drawn.values).map_err(|e| {
                    AugmentError::compute(
                        "refining a seed",
                        format!("class '{class}', index {i}: {e}"),
                    )
                })?;
                (refined, Some(how))
            }
            None => (drawn.values, None),
        };
        let values: Vec<f32> = drawn_values.iter().map(|&v| v as f32).collect();
        let seed_norm = nao_prior::norm(&values);
        let x_t = Tensor {
            shape: vec![1, latent[0], latent[1], latent[2]],
            data: values,
        };
        let file = relative_file(class, i, n);
        let target = out_dir.join(&file);
        let fail = |e: &dyn std::fmt::Display| {
            AugmentError::compute(
                "sampling",
                format!("{} (class '{class}', index {i}): {e}", target.display()),
            )
        };
        let noise = nao_sampling::VarianceNoise::Seeded {
            rng: nao_prior::RngName::ChaCha20,
            seed: crate::draw::noise_rng_seed(spec.seed, class, i),
        };
        let options = sampling.clone().with_noise(noise);
        let x_0 = nao_sampling::sample(job.model, &x_t, &cs.conditioning, &options, |_| {
            progress(Event::Step)
        })
        .map_err(|e| match e {
            nao_sampling::SamplingError::Cancelled => AugmentError::Cancelled,
            e => fail(&e),
        })?;
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
        let png = nao_viz::decoded_image(&decoded.data, ch, ih, iw)
            .and_then(|img| nao_viz::png_bytes(&img))
            .map_err(|e| fail(&e))?;
        // the file first, whole; its line only once it is in place
        let mut out = Outputs::new();
        out.claim_folder(&out_dir.join(class), "-o/--output")?;
        out.write(&target, &png)?;
        out.commit()?;
        writer.append(&ManifestLine {
            class: class.clone(),
            index: i,
            method: spec.method.name().to_string(),
            prompt: cs.seeds.record.prompt.clone(),
            source: drawn.source,
            round: drawn.round,
            seed_norm,
            log_chi: chi.log_pdf(seed_norm),
            file,
            sha256: sha256_hex(&png),
            model: job.model_name.to_string(),
            device: job.device.to_string(),
            refinement,
        })?;
        result.made += 1;
        report(
            progress,
            Event::Images {
                done: result.made,
                todo: total,
            },
        )?;
    }
    result.seconds = started.elapsed().as_secs_f64();
    Ok(result)
}

/// Read a class's points (prepared by now) and encode its prompt.
fn load_class(job: &Job<'_>, class: &str, options: &SampleOptions) -> Result<ClassState> {
    let out_dir = job.spec.out_dir.as_path();
    let seeds = read_class_seeds(out_dir, class)?;
    let latent = crate::seeds::class_latent_shape(job.model.info(), job.spec.resize, &seeds.record)
        .map_err(|why| {
            AugmentError::input(format!(
                "{}: {why}",
                out_dir
                    .join(SEEDS_DIR)
                    .join(format!("{class}.json"))
                    .display()
            ))
        })?;
    let chi =
        ChiPrior::new(latent.iter().product()).map_err(|e| AugmentError::compute("χ prior", e))?;
    let sources = seeds
        .record
        .points
        .iter()
        .map(|p| p.source.clone())
        .collect();
    let images = seeds.record.images.iter().map(|i| i.file.clone()).collect();
    let conditioning = nao_sampling::encode_prompt(job.model, &seeds.record.prompt, options)
        .map_err(|e| AugmentError::input(format!("prompt \"{}\": {e}", seeds.record.prompt)))?;
    Ok(ClassState {
        seeds,
        sources,
        images,
        conditioning,
        latent,
        chi,
    })
}

/// The real images a class's seeds were made from (the record's), decoded for the model, as
/// one batch `[n, channels, H, W]` in `[−1, 1]`: what a refiner matches seeds to.
fn real_images(job: &Job<'_>, class: &str, files: &[String]) -> Result<Tensor> {
    let spec = nao_inversion::ImageSpec::for_model(job.model.info());
    let dir = job.spec.real_dir.join(class);
    let images = files
        .iter()
        .map(|f| {
            let path = dir.join(f);
            let bytes = nao_fs::input::read_limited(&path, crate::MAX_IMAGE_BYTES)?;
            nao_inversion::decode_image(&bytes, &spec, job.spec.resize)
                .map_err(|e| AugmentError::input(e.for_file(&path).to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::concat(&images).map_err(|e| AugmentError::compute("the real images", e))
}

/// Remove the temporary files a killed run of this shard left beside its images. Only this
/// shard's own images are touched: the shard's lock says no other process writes them.
fn remove_leftovers(job: &Job<'_>, owns: &dyn Fn(usize, usize) -> bool) -> Result<()> {
    let n = job.spec.per_class;
    for (c, class) in job.classes.iter().enumerate() {
        let dir: &Path = &job.spec.out_dir.join(class);
        nao_fs::leftovers::remove(dir, |target| {
            index_of(target, n).is_some_and(|i| owns(c, i))
        })?;
    }
    Ok(())
}

/// The index of an image file name of a class of `per_class` images (`007.png` → 7).
fn index_of(name: &str, per_class: usize) -> Option<usize> {
    let i: usize = name.strip_suffix(".png")?.parse().ok()?;
    (i < per_class && nao_viz::image_name(i, per_class) == name).then_some(i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_give_their_index_back() {
        assert_eq!(index_of("007.png", 10), Some(7));
        assert_eq!(index_of("0007.png", 10), None);
        assert_eq!(index_of("0007.png", 5000), Some(7));
        assert_eq!(index_of("012.png", 10), None);
        assert_eq!(index_of("x.png", 10), None);
        assert_eq!(relative_file("bag", 3, 1000), "bag/003.png");
    }
}
