//! NAO across samplers: the rare-concept experiment of `nao demo` (groups of inverted real
//! images, each seed method's centroid and path points, random seeds with the prompt alone as
//! the baseline) with the same seeds sampled by every sampler at every step count, scored
//! with `nao eval`'s measures.

use std::time::Instant;

use nao_augment::{method_seeds, SeedMethod};
use nao_backend::Backend;
use nao_inversion::ResizePolicy;
use nao_metrics::{measure, FeatureClassifier, ScoredImages, SetMetrics, DEFAULT_K};
use nao_prior::{GaussianSeeds, RngName};
use nao_sampling::SchedulerChoice;
use serde::Serialize;

use crate::norm::{bounded, check_guidance, MAX_BATCH, MAX_GROUPS, MAX_SAMPLERS};
use crate::progress::Progress;
use crate::run::{latent_dim, sampler_options, stream_seed, Runner};
use crate::{RealSet, Result, Spread, SweepError};

/// The most step counts of one sweep (`--steps`).
pub const MAX_STEP_COUNTS: usize = 32;
/// The most interior points per centroid→seed path (`--interior`).
pub const MAX_INTERIOR: usize = 100;

/// The samplers the sampler sweep compares by default: the embedded model's DDIM, and
/// four others of different families (diffusers names).
pub const SWEEP_SAMPLERS: [&str; 5] = ["ddim", "euler", "euler-ancestral", "dpm++2m", "unipc"];

/// What a sampler sweep does (defaults: [`SamplerSweepSpec::default`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SamplerSweepSpec {
    /// The samplers (`--schedulers`).
    pub samplers: Vec<SchedulerChoice>,
    /// The sampling step counts (`--steps`), each with every sampler.
    pub steps: Vec<usize>,
    /// DDIM steps of the inversion (`--invert-steps`): the seeds are the same for every
    /// sampler and step count.
    pub invert_steps: usize,
    /// Classifier-free guidance scale of the sampling (`--guidance`).
    pub guidance: f64,
    /// The negative prompt when guidance > 1.
    pub negative_prompt: String,
    /// Disjoint groups of real images per class (`--groups`), each giving one centroid per
    /// method.
    pub groups: usize,
    /// Real images per group (`--per-group`).
    pub per_group: usize,
    /// Interior points per centroid→seed path (`--interior`).
    pub interior: usize,
    /// The seed methods, prompt-only being the baseline (`--methods`).
    pub methods: Vec<SeedMethod>,
    /// Seed of the prompt-only seeds (as `nao demo --seed`) and of the samplers' noise.
    pub seed: u64,
    /// Neighbours of the k-NN measures (`--k`).
    pub k: usize,
    /// How generated images of another size than the classifier's are brought to it.
    pub resize: ResizePolicy,
}

impl Default for SamplerSweepSpec {
    /// The [`SWEEP_SAMPLERS`] at 10, 20 and 50 steps; seeds as `nao demo` makes them (50
    /// inversion steps, 4 groups of 5 images, 3 interior points per path, seed 0), every
    /// seed method, guidance 1.
    fn default() -> Self {
        Self {
            samplers: SWEEP_SAMPLERS
                .iter()
                .map(|n| n.parse().expect("a known sampler"))
                .collect(),
            steps: vec![10, 20, 50],
            invert_steps: 50,
            guidance: 1.0,
            negative_prompt: String::new(),
            groups: 4,
            per_group: 5,
            interior: 3,
            methods: SeedMethod::ALL.to_vec(),
            seed: 0,
            k: DEFAULT_K,
            resize: ResizePolicy::CenterCrop,
        }
    }
}

impl SamplerSweepSpec {
    /// Check every setting against its bounds; an error names the option and the value.
    ///
    /// ```
    /// let mut spec = nao_sweep::SamplerSweepSpec::default();
    /// assert!(spec.check().is_ok());
    /// spec.steps = vec![];
    /// assert!(spec.check().unwrap_err().to_string().contains("--steps"));
    /// ```
    pub fn check(&self) -> Result<()> {
        bounded("--schedulers (count)", self.samplers.len(), 1, MAX_SAMPLERS)?;
        bounded("--steps (count)", self.steps.len(), 1, MAX_STEP_COUNTS)?;
        for &s in &self.steps {
            bounded("--steps", s, 1, nao_sampling::MAX_STEPS)?;
        }
        bounded(
            "--invert-steps",
            self.invert_steps,
            1,
            nao_sampling::MAX_STEPS,
        )?;
        bounded("--groups", self.groups, 1, MAX_GROUPS)?;
        bounded("--per-group", self.per_group, 2, MAX_GROUPS)?;
        bounded("--interior", self.interior, 0, MAX_INTERIOR)?;
        bounded(
            "--methods (count)",
            self.methods.len(),
            1,
            SeedMethod::ALL.len(),
        )?;
        bounded("--k", self.k, 1, nao_augment::MAX_K)?;
        check_guidance(self.guidance)?;
        let per_group = 1 + self.per_group * self.interior;
        bounded(
            "seeds per group (1 + --per-group × --interior)",
            per_group,
            1,
            MAX_BATCH,
        )?;
        Ok(())
    }
}

/// One method's measures under one sampler and step count.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MethodRun {
    /// The method's report key (`prompt_only`, `euclidean`, …, `nao`).
    pub method: String,
    /// Every group's images together, against every real image of the class.
    pub pooled: SetMetrics,
    /// Accuracy per group, mean ± sd over the groups.
    pub accuracy_over_groups: Spread,
    /// Fréchet distance per group, mean ± sd over the groups.
    pub frechet_over_groups: Option<Spread>,
    /// Fraction of the groups' centroid images the classifier puts in the class (absent for
    /// prompt-only).
    pub centroid_accuracy: Option<f64>,
    /// Mean seed norm.
    pub mean_norm: f64,
    /// The first group's centroid image (the first random image for prompt-only), `[channels,
    /// H, W]` in `[0, 1]`; for the picture, not in the JSON.
    #[serde(skip)]
    pub first_image: Vec<f32>,
    /// Whether the classifier put that image in the class.
    pub first_hit: bool,
}

/// One sampler at one step count, for one class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplerRun {
    /// The sampler's name.
    pub sampler: String,
    /// Its steps.
    pub steps: usize,
    /// Model calls per image.
    pub model_calls: usize,
    /// One entry per method, in the spec's order.
    pub methods: Vec<MethodRun>,
}

/// One class's results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassRuns {
    /// The class.
    pub class: String,
    /// Its prompt.
    pub prompt: String,
    /// Real images it is measured against.
    pub real_images: usize,
    /// The first group's real images, `[channels, H, W]` in `[0, 1]` each; for the picture,
    /// not in the JSON.
    #[serde(skip)]
    pub shown_real: Vec<Vec<f32>>,
    /// One entry per sampler and step count (samplers outer, steps inner).
    pub runs: Vec<SamplerRun>,
}

/// The settings a report records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplerSweepSettings {
    /// The samplers.
    pub samplers: Vec<String>,
    /// The step counts.
    pub steps: Vec<usize>,
    /// DDIM inversion steps.
    pub invert_steps: usize,
    /// Guidance scale.
    pub guidance: f64,
    /// Groups per class.
    pub groups: usize,
    /// Real images per group.
    pub per_group: usize,
    /// Interior points per path.
    pub interior: usize,
    /// Seeds per method and class.
    pub seeds_per_method: usize,
    /// Seed of the prompt-only seeds and the noise.
    pub seed: u64,
    /// k of the k-NN measures.
    pub k: usize,
}

/// What a sampler sweep measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplerSweepReport {
    /// The model's name.
    pub model: String,
    /// The classifier that scored the images.
    pub classifier: String,
    /// Where the real images come from.
    pub real: String,
    /// Seed dimension d.
    pub dim: usize,
    /// The settings.
    pub settings: SamplerSweepSettings,
    /// Per class.
    pub classes: Vec<ClassRuns>,
    /// Image side and channels of the pictures' tiles.
    #[serde(skip)]
    pub image_shape: [usize; 3],
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Run a sampler sweep on every class of `real` (see the [crate docs](crate)); `progress`
/// gets every [`Event`](crate::Event) and may cancel.
///
/// ```
/// use nao_augment::SeedMethod;
/// use nao_sweep::{quiet, sampler_sweep, RealClass, RealSet, SamplerSweepSpec};
/// let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
/// let bags = nao_burn::bundled_images(8)?;
/// let class = RealClass::new(&model, "bag", "bag", bags, nao_inversion::ResizePolicy::CenterCrop)?;
/// let real = RealSet { source: "bundled".into(), classes: vec![class] };
/// let spec = SamplerSweepSpec {
///     samplers: vec!["ddim".parse()?, "euler".parse()?],
///     steps: vec![3],
///     invert_steps: 3,
///     groups: 1,
///     interior: 1,
///     methods: vec![SeedMethod::PromptOnly, SeedMethod::Nao],
///     ..SamplerSweepSpec::default()
/// };
/// let report = sampler_sweep(&model, &model, &real, &spec, &mut quiet)?;
/// let runs = &report.classes[0].runs;
/// assert_eq!((runs.len(), runs[1].sampler.as_str()), (2, "euler"));
/// assert_eq!(runs[0].methods[1].pooled.images, 6); // the centroid and 5 path points
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn sampler_sweep(
    model: &dyn Backend,
    classifier: &dyn FeatureClassifier,
    real: &RealSet,
    spec: &SamplerSweepSpec,
    progress: &mut Progress<'_>,
) -> Result<SamplerSweepReport> {
    let started = Instant::now();
    spec.check()?;
    if real.classes.is_empty() {
        return Err(SweepError::input(format!(
            "{}: no classes to sample",
            real.source
        )));
    }
    let needed = spec.groups * spec.per_group;
    for class in &real.classes {
        if class.images.batch() < needed {
            return Err(SweepError::input(format!(
                "class '{}' has {} real images; --groups {} of --per-group {} need {needed}",
                class.name,
                class.images.batch(),
                spec.groups,
                spec.per_group
            )));
        }
    }
    nao_sampling::check_step_count(&model.info().scheduler, spec.invert_steps)
        .map_err(|e| SweepError::input(format!("--invert-steps {}: {e}", spec.invert_steps)))?;
    let mut settings = Vec::new();
    for &choice in &spec.samplers {
        for &steps in &spec.steps {
            let (options, calls) = sampler_options(
                model,
                choice,
                steps,
                spec.guidance,
                &spec.negative_prompt,
                "--schedulers",
                "--steps",
            )?;
            settings.push((choice, steps, options, calls));
        }
    }
    let per_group_seeds = 1 + spec.per_group * spec.interior;
    let total =
        real.classes.len() * settings.len() * spec.methods.len() * spec.groups * per_group_seeds;
    let mut runner = Runner::new(model, classifier, spec.resize, total)?;
    let info = model.info();
    let image_shape = [
        info.image_channels,
        info.default_image_size.0,
        info.default_image_size.1,
    ];
    let mut classes = Vec::new();
    for (ci, class) in real.classes.iter().enumerate() {
        let images = class.slice(0..needed)?;
        let inverted = runner.invert(class, &images, spec.invert_steps, progress)?;
        let groups: Vec<&[Vec<f64>]> = inverted.chunks(spec.per_group).collect();
        // Every method's seeds, made once: the same for every sampler and step count.
        let mut seeds = Vec::new();
        for &method in &spec.methods {
            // the prompt-only seeds of `nao demo` for this class and seed
            let mut rng =
                GaussianSeeds::new(RngName::ChaCha20, spec.seed ^ (class.index as u64) << 32);
            let made = method_seeds(method, &groups, spec.interior, &mut rng)
                .map_err(|e| SweepError::compute("centroids", e))?;
            seeds.push((method, made));
        }
        let mut runs = Vec::new();
        for (choice, steps, options, calls) in &settings {
            let mut methods = Vec::new();
            for (method, made) in &seeds {
                let mut pooled = ScoredImages::new();
                let mut per_group = Vec::new();
                let mut first = None;
                let mut centroid_hits = Vec::new();
                for (g, chunk) in made.seeds.chunks(per_group_seeds).enumerate() {
                    let noise = stream_seed(spec.seed, &[2, ci as u64, g as u64]);
                    let sampled = runner.sample(chunk, class, options, noise, progress)?;
                    if made.centroids.contains(&(g * per_group_seeds)) {
                        centroid_hits.push(sampled.scored.hits[0]);
                    }
                    if g == 0 {
                        let n = sampled.images.data.len() / sampled.images.batch().max(1);
                        first = Some((sampled.images.data[..n].to_vec(), sampled.scored.hits[0]));
                    }
                    per_group.push(measure(&class.features, &sampled.scored, spec.k));
                    pooled
                        .extend(&sampled.scored)
                        .map_err(|e| SweepError::compute("scores", e))?;
                }
                let (first_image, first_hit) = first.unwrap_or_default();
                methods.push(MethodRun {
                    method: method.report_key().to_string(),
                    pooled: measure(&class.features, &pooled, spec.k),
                    accuracy_over_groups: Spread::of(
                        &per_group.iter().map(|m| m.accuracy).collect::<Vec<_>>(),
                    )
                    .expect("at least one group"),
                    frechet_over_groups: Spread::of_known(
                        per_group.iter().map(|m| m.frechet_distance),
                    ),
                    centroid_accuracy: (!centroid_hits.is_empty()).then(|| {
                        centroid_hits.iter().filter(|&&h| h).count() as f64
                            / centroid_hits.len() as f64
                    }),
                    mean_norm: made.seeds.iter().map(|z| nao_prior::norm(z)).sum::<f64>()
                        / made.seeds.len().max(1) as f64,
                    first_image,
                    first_hit,
                });
            }
            runs.push(SamplerRun {
                sampler: choice.name(),
                steps: *steps,
                model_calls: *calls,
                methods,
            });
        }
        let shown = class.slice(0..spec.per_group)?;
        let size = shown.data.len() / spec.per_group;
        classes.push(ClassRuns {
            shown_real: shown
                .data
                .chunks(size)
                .map(|c| {
                    c.iter()
                        .map(|v| ((v + 1.0) * 0.5).clamp(0.0, 1.0))
                        .collect()
                })
                .collect(),
            class: class.name.clone(),
            prompt: class.prompt.clone(),
            real_images: class.features.len(),
            runs,
        });
    }
    Ok(SamplerSweepReport {
        model: info.name.clone(),
        classifier: classifier.describe(),
        real: real.source.clone(),
        dim: latent_dim(model)?,
        settings: SamplerSweepSettings {
            samplers: spec.samplers.iter().map(SchedulerChoice::name).collect(),
            steps: spec.steps.clone(),
            invert_steps: spec.invert_steps,
            guidance: spec.guidance,
            groups: spec.groups,
            per_group: spec.per_group,
            interior: spec.interior,
            seeds_per_method: spec.groups * per_group_seeds,
            seed: spec.seed,
            k: spec.k,
        },
        classes,
        image_shape,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Short column names of the methods in tables and pictures.
pub(crate) fn short_name(key: &str) -> &str {
    match key {
        "prompt_only" => "prompt only",
        other => other,
    }
}

/// The spec's methods' keys, for callers that tabulate.
pub fn method_keys(report: &SamplerSweepReport) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for c in &report.classes {
        for r in &c.runs {
            for m in &r.methods {
                if !keys.contains(&m.method) {
                    keys.push(m.method.clone());
                }
            }
        }
    }
    keys
}

/// The measures of one class, sampler, steps and method, if the report has them.
pub fn find<'a>(
    report: &'a SamplerSweepReport,
    class: &str,
    sampler: &str,
    steps: usize,
    method: &str,
) -> Option<&'a MethodRun> {
    report
        .classes
        .iter()
        .find(|c| c.class == class)?
        .runs
        .iter()
        .find(|r| r.sampler == sampler && r.steps == steps)?
        .methods
        .iter()
        .find(|m| m.method == method)
}
