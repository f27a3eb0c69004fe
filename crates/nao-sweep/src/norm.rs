//! Image quality against the seed norm: random unit directions, the same at every norm,
//! rescaled to norms from 0.5·√d to 1.5·√d, sampled under several samplers and scored with
//! `nao eval`'s measures; with the norms that inversion and each centroid method give.

use std::collections::BTreeMap;
use std::time::Instant;

use nao_augment::{method_seeds, SeedMethod};
use nao_backend::Backend;
use nao_inversion::ResizePolicy;
use nao_metrics::{measure, FeatureClassifier, ScoredImages, SetMetrics, DEFAULT_K};
use nao_prior::{GaussianSeeds, RngName};
use nao_sampling::SchedulerChoice;
use serde::Serialize;

use crate::progress::Progress;
use crate::run::{latent_dim, sampler_options, stream_seed, Runner};
use crate::{RealSet, Result, Spread, SweepError};

/// The most norms a sweep takes (`--scales`).
pub const MAX_SCALES: usize = 201;
/// The largest norm, as a multiple of √d (`--min-scale`, `--max-scale`).
pub const MAX_SCALE: f64 = 10.0;
/// The most seeds per class, draw and norm (`--seeds`).
pub const MAX_SEEDS: usize = 10_000;
/// The most draws (`--draws`).
pub const MAX_DRAWS: usize = 1000;
/// The most samplers of one sweep (`--schedulers`).
pub const MAX_SAMPLERS: usize = 64;
/// The most groups of real images per class whose centroids are taken (`--groups`).
pub const MAX_GROUPS: usize = 1000;
/// The most images one sweep samples (samplers × norms × classes × draws × seeds).
pub const MAX_SWEEP_IMAGES: u64 = 100_000_000;
/// The most seeds sampled in one model batch (`--batch`).
pub const MAX_BATCH: usize = 4096;

/// The samplers a norm sweep compares by default: the deterministic ODE solvers of
/// different orders and families, and one that adds noise every step.
pub const DEFAULT_SAMPLERS: [&str; 5] = ["ddim", "euler", "euler-ancestral", "dpm++2m", "unipc"];

/// `count` norms (as multiples of √d) evenly spaced from `lo` to `hi`, both included.
///
/// ```
/// assert_eq!(nao_sweep::linear_scales(0.5, 1.5, 3), [0.5, 1.0, 1.5]);
/// assert_eq!(nao_sweep::linear_scales(0.5, 1.5, 1), [0.5]);
/// ```
pub fn linear_scales(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    match count {
        0 => Vec::new(),
        1 => vec![lo],
        n => (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect(),
    }
}

/// What a norm sweep does (defaults: [`NormSweepSpec::default`]); [`NormSweepSpec::check`]
/// holds every value to its bounds.
#[derive(Debug, Clone, PartialEq)]
pub struct NormSweepSpec {
    /// The seed norms, as multiples of √d (`--min-scale`, `--max-scale`, `--scales`).
    pub scales: Vec<f64>,
    /// Seeds per class, draw and norm (`--seeds`).
    pub seeds: usize,
    /// Independent draws of directions (`--draws`): the measures are reported as mean ± sd
    /// over them.
    pub draws: usize,
    /// The samplers (`--schedulers`).
    pub samplers: Vec<SchedulerChoice>,
    /// Sampling steps of every sampler, and DDIM steps of the inversion (`--steps`).
    pub steps: usize,
    /// Classifier-free guidance scale (`--guidance`; 1 = the conditional model alone).
    pub guidance: f64,
    /// The negative prompt when guidance > 1 (`--negative-prompt`).
    pub negative_prompt: String,
    /// Seed of the random directions and of the samplers' noise (`--seed`).
    pub seed: u64,
    /// Groups of real images per class inverted for the centroid norms (`--groups`; 0: none).
    pub groups: usize,
    /// Real images per group (`--per-group`).
    pub per_group: usize,
    /// Neighbours of the k-NN measures (`--k`).
    pub k: usize,
    /// Seeds per model batch (`--batch`).
    pub batch: usize,
    /// How generated images of another size than the classifier's are brought to it.
    pub resize: ResizePolicy,
}

impl Default for NormSweepSpec {
    /// 11 norms from 0.5·√d to 1.5·√d, 16 seeds per class in each of 3 draws, the
    /// [`DEFAULT_SAMPLERS`] at 50 steps, guidance 1, 4 groups of 5 real images per class.
    fn default() -> Self {
        Self {
            scales: linear_scales(0.5, 1.5, 11),
            seeds: 16,
            draws: 3,
            samplers: DEFAULT_SAMPLERS
                .iter()
                .map(|n| n.parse().expect("a known sampler"))
                .collect(),
            steps: 50,
            guidance: 1.0,
            negative_prompt: String::new(),
            seed: 0,
            groups: 4,
            per_group: 5,
            k: DEFAULT_K,
            batch: 64,
            resize: ResizePolicy::CenterCrop,
        }
    }
}

/// An input error when `value` is outside `lo..=hi`.
pub(crate) fn bounded(option: &str, value: usize, lo: usize, hi: usize) -> Result<()> {
    if (lo..=hi).contains(&value) {
        Ok(())
    } else {
        Err(SweepError::input(format!(
            "{option} {value}: give {lo} to {hi}"
        )))
    }
}

impl NormSweepSpec {
    /// Check every setting against its bounds; an error names the option and the value.
    ///
    /// ```
    /// let mut spec = nao_sweep::NormSweepSpec::default();
    /// assert!(spec.check().is_ok());
    /// spec.seeds = 0;
    /// assert!(spec.check().unwrap_err().to_string().contains("--seeds 0"));
    /// ```
    pub fn check(&self) -> Result<()> {
        bounded("--scales", self.scales.len(), 1, MAX_SCALES)?;
        for &s in &self.scales {
            if !(s.is_finite() && s > 0.0 && s <= MAX_SCALE) {
                return Err(SweepError::input(format!(
                    "scale {s}: seed norms must be above 0 and at most {MAX_SCALE}·√d"
                )));
            }
        }
        bounded("--seeds", self.seeds, 1, MAX_SEEDS)?;
        bounded("--draws", self.draws, 1, MAX_DRAWS)?;
        bounded("--schedulers (count)", self.samplers.len(), 1, MAX_SAMPLERS)?;
        bounded("--steps", self.steps, 1, nao_sampling::MAX_STEPS)?;
        bounded("--groups", self.groups, 0, MAX_GROUPS)?;
        bounded("--per-group", self.per_group, 2, MAX_GROUPS)?;
        bounded("--k", self.k, 1, nao_augment::MAX_K)?;
        bounded("--batch", self.batch, 1, MAX_BATCH)?;
        check_guidance(self.guidance)?;
        let images = (self.samplers.len() as u64)
            .saturating_mul(self.scales.len() as u64)
            .saturating_mul(self.draws as u64)
            .saturating_mul(self.seeds as u64);
        if images > MAX_SWEEP_IMAGES {
            return Err(SweepError::input(format!(
                "{images} images per class (samplers × scales × draws × seeds) is more than \
                 {MAX_SWEEP_IMAGES}"
            )));
        }
        Ok(())
    }
}

/// `--guidance`: finite, within nao-sampling's bound.
pub(crate) fn check_guidance(g: f64) -> Result<()> {
    nao_sampling::check_guidance(g).map_err(|e| SweepError::input(format!("--guidance {g}: {e}")))
}

/// `count` random unit directions in `d` dimensions for draw `draw` (ChaCha20 Gaussian
/// vectors, normalised): the same for every norm, class and sampler of a sweep.
///
/// ```
/// let dirs = nao_sweep::directions(7, 0, 3, 196);
/// assert_eq!(dirs.len(), 3);
/// assert!(dirs.iter().all(|u| (nao_prior::norm(u) - 1.0).abs() < 1e-12));
/// assert_eq!(dirs, nao_sweep::directions(7, 0, 3, 196));
/// assert_ne!(dirs, nao_sweep::directions(7, 1, 3, 196));
/// ```
pub fn directions(seed: u64, draw: usize, count: usize, d: usize) -> Vec<Vec<f64>> {
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, stream_seed(seed, &[draw as u64]));
    (0..count)
        .map(|_| {
            let g: Vec<f64> = rng.seed(d);
            let n = nao_prior::norm(&g);
            g.iter().map(|v| v / n).collect()
        })
        .collect()
}

/// The seeds at norm `norm` along unit `directions`.
///
/// ```
/// let dirs = nao_sweep::directions(0, 0, 2, 196);
/// let seeds = nao_sweep::at_norm(&dirs, 7.0);
/// assert!((nao_prior::norm(&seeds[1]) - 7.0).abs() < 1e-12);
/// ```
pub fn at_norm(directions: &[Vec<f64>], norm: f64) -> Vec<Vec<f64>> {
    directions
        .iter()
        .map(|u| u.iter().map(|v| v * norm).collect())
        .collect()
}

/// Norms of one kind of seed (the inverted real images, one centroid method's centroids).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormGroup {
    /// What the seeds are.
    pub name: String,
    /// Their norms divided by √d.
    pub scales: Vec<f64>,
    /// The spread of those.
    pub spread: Option<Spread>,
}

/// The measures at one norm under one sampler.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormPoint {
    /// The norm asked for, as a multiple of √d.
    pub scale: f64,
    /// The mean norm of the seeds as the model got them (float32), over √d.
    pub measured_scale: f64,
    /// log χ_d of that norm.
    pub log_chi: f64,
    /// Classifier accuracy, mean ± sd over the draws (all classes of a draw together).
    pub accuracy: Spread,
    /// Mean classifier confidence in the image's class, over the draws.
    pub mean_confidence: Spread,
    /// Fréchet distance to the real images in the classifier's feature space, over the draws.
    pub frechet_distance: Option<Spread>,
    /// k-NN precision, over the draws.
    pub precision: Option<Spread>,
    /// k-NN recall, over the draws.
    pub recall: Option<Spread>,
    /// Each draw's measures (its images of every class against every class's real images,
    /// as `nao eval` measures a method over its classes).
    pub draws: Vec<SetMetrics>,
    /// Per class, the images of every draw together.
    pub classes: BTreeMap<String, SetMetrics>,
}

/// One sampler's curve.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SamplerCurve {
    /// The sampler's name.
    pub sampler: String,
    /// Model calls per image.
    pub model_calls: usize,
    /// One point per norm, in the order of the spec's scales.
    pub points: Vec<NormPoint>,
}

/// The settings a report records.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormSweepSettings {
    /// The norms, as multiples of √d.
    pub scales: Vec<f64>,
    /// Seeds per class, draw and norm.
    pub seeds: usize,
    /// Draws.
    pub draws: usize,
    /// Sampling steps (and inversion steps).
    pub steps: usize,
    /// Guidance scale.
    pub guidance: f64,
    /// Seed of the directions and the noise.
    pub seed: u64,
    /// Groups of real images per class whose centroids are taken.
    pub groups: usize,
    /// Real images per group.
    pub per_group: usize,
    /// k of the k-NN measures.
    pub k: usize,
}

/// What a norm sweep measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NormSweepReport {
    /// The model's name.
    pub model: String,
    /// The classifier that scored the images.
    pub classifier: String,
    /// Where the real images come from.
    pub real: String,
    /// The classes, with their prompts.
    pub classes: Vec<(String, String)>,
    /// Seed dimension d.
    pub dim: usize,
    /// √d.
    pub sqrt_d: f64,
    /// Mode of χ_d, over √d.
    pub chi_mode_scale: f64,
    /// Standard deviation of χ_d, over √d.
    pub chi_sd_scale: f64,
    /// The settings.
    pub settings: NormSweepSettings,
    /// One curve per sampler.
    pub samplers: Vec<SamplerCurve>,
    /// The norms of inverted real images and of each centroid method's centroids of them.
    pub seed_norms: Vec<NormGroup>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// Run a norm sweep: every class of `real` sampled under its prompt at every norm of `spec`
/// by every sampler, scored with `classifier` (see the [crate docs](crate)); `progress` gets
/// every [`Event`](crate::Event) and may cancel.
///
/// ```
/// use nao_sweep::{norm_sweep, quiet, NormSweepSpec, RealClass, RealSet};
/// let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
/// let bags = nao_burn::bundled_images(8)?;
/// let class = RealClass::new(&model, "bag", "bag", bags, nao_inversion::ResizePolicy::CenterCrop)?;
/// let real = RealSet { source: "bundled".into(), classes: vec![class] };
/// let spec = NormSweepSpec {
///     scales: vec![0.5, 1.0],
///     seeds: 6,
///     draws: 1,
///     samplers: vec!["ddim".parse()?],
///     steps: 4,
///     groups: 1,
///     ..NormSweepSpec::default()
/// };
/// let report = norm_sweep(&model, &model, &real, &spec, &mut quiet)?;
/// let ddim = &report.samplers[0];
/// assert_eq!(ddim.points.len(), 2);
/// assert!((ddim.points[1].measured_scale - 1.0).abs() < 1e-6);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn norm_sweep(
    model: &dyn Backend,
    classifier: &dyn FeatureClassifier,
    real: &RealSet,
    spec: &NormSweepSpec,
    progress: &mut Progress<'_>,
) -> Result<NormSweepReport> {
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
    let samplers = spec
        .samplers
        .iter()
        .map(|&c| {
            sampler_options(
                model,
                c,
                spec.steps,
                spec.guidance,
                &spec.negative_prompt,
                "--schedulers",
                "--steps",
            )
        })
        .collect::<Result<Vec<_>>>()?;
    if spec.groups > 0 {
        nao_sampling::check_step_count(&model.info().scheduler, spec.steps).map_err(|e| {
            SweepError::input(format!(
                "--steps {}: too many for the inversion: {e}",
                spec.steps
            ))
        })?;
    }
    let d = latent_dim(model)?;
    let sqrt_d = (d as f64).sqrt();
    let total = samplers.len() * spec.scales.len() * real.classes.len() * spec.draws * spec.seeds;
    let mut runner = Runner::new(model, classifier, spec.resize, total)?;

    // The norms inversion and the centroid methods give.
    let mut norm_values: BTreeMap<&'static str, Vec<f64>> = BTreeMap::new();
    let mut unused = GaussianSeeds::new(RngName::ChaCha20, 0);
    for class in &real.classes {
        if spec.groups == 0 {
            break;
        }
        let images = class.slice(0..needed)?;
        let inverted = runner.invert(class, &images, spec.steps, progress)?;
        norm_values
            .entry("inverted seeds")
            .or_default()
            .extend(inverted.iter().map(|z| nao_prior::norm(z) / sqrt_d));
        let groups: Vec<&[Vec<f64>]> = inverted.chunks(spec.per_group).collect();
        for method in SeedMethod::ALL.into_iter().filter(|m| m.inverts()) {
            let made = method_seeds(method, &groups, 0, &mut unused)
                .map_err(|e| SweepError::compute("centroids", e))?;
            norm_values
                .entry(centroid_label(method))
                .or_default()
                .extend(made.seeds.iter().map(|z| nao_prior::norm(z) / sqrt_d));
        }
    }
    let mut seed_norms = Vec::new();
    for name in std::iter::once("inverted seeds").chain(
        SeedMethod::ALL
            .into_iter()
            .filter(|m| m.inverts())
            .map(centroid_label),
    ) {
        if let Some(values) = norm_values.remove(name) {
            seed_norms.push(NormGroup {
                name: name.to_string(),
                spread: Spread::of(&values),
                scales: values,
            });
        }
    }

    let dirs: Vec<Vec<Vec<f64>>> = (0..spec.draws)
        .map(|r| directions(spec.seed, r, spec.seeds, d))
        .collect();
    let all_real = real.all_features()?;
    let mut curves = Vec::new();
    for ((options, calls), choice) in samplers.iter().zip(&spec.samplers) {
        let mut points = Vec::new();
        for &scale in &spec.scales {
            let mut per_draw: Vec<ScoredImages> = vec![ScoredImages::new(); spec.draws];
            let mut classes = BTreeMap::new();
            let mut norm_sum = 0.0f64;
            let mut norm_count = 0usize;
            for (ci, class) in real.classes.iter().enumerate() {
                let mut pooled = ScoredImages::new();
                for (r, dir) in dirs.iter().enumerate() {
                    let seeds = at_norm(dir, scale * sqrt_d);
                    for (b, chunk) in seeds.chunks(spec.batch).enumerate() {
                        for z in chunk {
                            let as_f32: Vec<f32> = z.iter().map(|&v| v as f32).collect();
                            norm_sum += nao_prior::norm(&as_f32);
                            norm_count += 1;
                        }
                        let noise = stream_seed(spec.seed, &[1, ci as u64, r as u64, b as u64]);
                        let sampled = runner.sample(chunk, class, options, noise, progress)?;
                        per_draw[r]
                            .extend(&sampled.scored)
                            .map_err(|e| SweepError::compute("scores", e))?;
                        pooled
                            .extend(&sampled.scored)
                            .map_err(|e| SweepError::compute("scores", e))?;
                    }
                }
                classes.insert(
                    class.name.clone(),
                    measure(&class.features, &pooled, spec.k),
                );
            }
            let draws: Vec<SetMetrics> = per_draw
                .iter()
                .map(|s| measure(&all_real, s, spec.k))
                .collect();
            let measured_scale = norm_sum / norm_count.max(1) as f64 / sqrt_d;
            points.push(NormPoint {
                scale,
                measured_scale,
                log_chi: runner.chi.log_pdf(measured_scale * sqrt_d),
                accuracy: Spread::of(&draws.iter().map(|m| m.accuracy).collect::<Vec<_>>())
                    .expect("at least one draw"),
                mean_confidence: Spread::of(
                    &draws.iter().map(|m| m.mean_confidence).collect::<Vec<_>>(),
                )
                .expect("at least one draw"),
                frechet_distance: Spread::of_known(draws.iter().map(|m| m.frechet_distance)),
                precision: Spread::of_known(draws.iter().map(|m| m.precision)),
                recall: Spread::of_known(draws.iter().map(|m| m.recall)),
                draws,
                classes,
            });
        }
        curves.push(SamplerCurve {
            sampler: choice.name(),
            model_calls: *calls,
            points,
        });
    }
    Ok(NormSweepReport {
        model: model.info().name.clone(),
        classifier: classifier.describe(),
        real: real.source.clone(),
        classes: real
            .classes
            .iter()
            .map(|c| (c.name.clone(), c.prompt.clone()))
            .collect(),
        dim: d,
        sqrt_d,
        chi_mode_scale: runner.chi.mode() / sqrt_d,
        chi_sd_scale: runner.chi.std_dev() / sqrt_d,
        settings: NormSweepSettings {
            scales: spec.scales.clone(),
            seeds: spec.seeds,
            draws: spec.draws,
            steps: spec.steps,
            guidance: spec.guidance,
            seed: spec.seed,
            groups: spec.groups,
            per_group: spec.per_group,
            k: spec.k,
        },
        samplers: curves,
        seed_norms,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The name of a centroid method's norm group.
fn centroid_label(method: SeedMethod) -> &'static str {
    match method {
        SeedMethod::Euclidean => "Euclidean centroids",
        SeedMethod::Normalized => "normalized centroids",
        SeedMethod::Spherical => "spherical centroids",
        SeedMethod::Gaussian => "Gaussian centroids",
        SeedMethod::Nao => "NAO centroids",
        SeedMethod::PromptOnly => "random seeds",
    }
}
