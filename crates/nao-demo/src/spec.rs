//! The demo's settings, checked against their bounds before any model call.

use std::path::PathBuf;

use nao_sampling::SchedulerChoice;

use crate::{DemoError, Result};

/// Real images per group: each group of inverted images gives one centroid per method.
pub const IMAGES_PER_GROUP: usize = 5;

/// The class of the interpolation example by default: "sneaker".
pub const SNEAKER: usize = 7;

/// What the demo runs: [`DemoSpec::new`] gives `nao demo`'s defaults (or those of
/// `nao demo --quick`); every field may be changed, and [`run`](crate::run) checks them all
/// (through [`DemoSpec::check`]) before any model call.
#[derive(Debug, Clone)]
pub struct DemoSpec {
    /// The folder the files are meant for (the report names each picture by its path there).
    pub out: PathBuf,
    /// Seed of the baseline's random seeds (and of nothing else: the rest is deterministic).
    pub seed: u64,
    /// A fast run (for tests): fewer frames and path points, and noted in the report.
    pub quick: bool,
    /// Steps of the DDIM inversion and of the sampling.
    pub steps: usize,
    /// Classifier-free guidance scale for sampling (1 = the conditional model alone, which
    /// keeps DDIM inversion and sampling inverse to each other); at least 1.
    pub guidance: f64,
    /// The sampler of every image (`None`: the embedded model's own, DDIM); the inversion
    /// stays DDIM.
    pub scheduler: Option<SchedulerChoice>,
    /// Disjoint groups of [`IMAGES_PER_GROUP`] real images per rare class.
    pub groups: usize,
    /// The class (index into [`nao_burn::CLASS_NAMES`]) of the interpolation example.
    pub interpolation_class: usize,
    /// The device the model runs on, as the report names it (`cpu`, `onnx-cpu`, …).
    pub device: String,
}

impl DemoSpec {
    /// `nao demo`'s defaults (50 steps, 4 groups) or, with `quick`, those of
    /// `nao demo --quick` (10 steps, 1 group); DDIM, guidance 1, seed 0, the sneaker class,
    /// the folder `nao-demo`, on the CPU.
    pub fn new(quick: bool) -> Self {
        Self {
            out: PathBuf::from("nao-demo"),
            seed: 0,
            quick,
            steps: if quick { 10 } else { 50 },
            guidance: 1.0,
            scheduler: None,
            groups: if quick { 1 } else { 4 },
            interpolation_class: SNEAKER,
            device: "cpu".into(),
        }
    }

    /// Frames of each interpolation path, endpoints included.
    pub fn frames(&self) -> usize {
        if self.quick {
            5
        } else {
            9
        }
    }

    /// Interior points of each centroid → inverted seed path.
    pub fn interior(&self) -> usize {
        if self.quick {
            2
        } else {
            3
        }
    }

    /// Model batches the demo runs (the unit of its progress): 1 inversion and 3 samplings
    /// for the interpolation, and per rare class 1 inversion and 7 samplings (the six seed
    /// methods and NAO + SeedSelect).
    pub fn model_batches(&self) -> usize {
        4 + nao_burn::RARE_CLASSES.len() * 8
    }

    /// SeedSelect's settings for the refinement of NAO's seeds: its defaults for NAO seeds
    /// ([`nao_select::SelectConfig::from_nao`]), its sampler no longer than the demo's, and
    /// with fewer steps than semantic weights, the weights of the last steps only.
    pub fn select_config(&self) -> nao_select::SelectConfig {
        let mut config = nao_select::SelectConfig::from_nao();
        config.steps = self.steps.min(config.steps);
        let extra = config.semantic_weights.len().saturating_sub(config.steps);
        config.semantic_weights.drain(..extra);
        config
    }

    /// Check every setting; the sampler's name (`ddim`, `euler`, …) when they are fine, or an
    /// error naming the setting as `nao demo` names it (`--steps 3: …`).
    ///
    /// ```
    /// let mut spec = nao_demo::DemoSpec::new(true);
    /// assert_eq!(spec.check().unwrap(), "ddim");
    /// spec.groups = 0;
    /// assert!(spec.check().unwrap_err().to_string().contains("--groups 0"));
    /// ```
    pub fn check(&self) -> Result<String> {
        let config = nao_burn::scheduler_config();
        let steps = self.steps;
        if steps == 0 || steps > nao_sampling::MAX_STEPS {
            return Err(DemoError::input(format!(
                "--steps {steps}: give 1 to {} steps",
                nao_sampling::MAX_STEPS
            )));
        }
        nao_sampling::check_step_count(&config, steps).map_err(|e| {
            DemoError::input(format!(
                "--steps {steps}: not a step count this model's scheduler takes: {e}"
            ))
        })?;
        let mut sampler = nao_sampling::new_scheduler(&config, self.scheduler.as_ref(), 0.0)
            .map_err(|e| match &self.scheduler {
                Some(c) => DemoError::input(format!("--scheduler {c}: {e}")),
                None => DemoError::compute("the embedded model's scheduler", e),
            })?;
        sampler.set_timesteps(steps).map_err(|e| {
            DemoError::input(format!(
                "--steps {steps}: not a step count the {} sampler takes on this model: {e}",
                sampler.name()
            ))
        })?;
        let max_groups = nao_burn::BUNDLED_PER_CLASS / IMAGES_PER_GROUP;
        if self.groups == 0 || self.groups > max_groups {
            return Err(DemoError::input(format!(
                "--groups {}: give 1 to {max_groups} (disjoint groups of {IMAGES_PER_GROUP} of \
                 the {} bundled images per class)",
                self.groups,
                nao_burn::BUNDLED_PER_CLASS
            )));
        }
        let g = self.guidance;
        if !(g.is_finite() && (1.0..=nao_sampling::MAX_GUIDANCE).contains(&g)) {
            return Err(DemoError::input(format!(
                "--guidance {g}: give a guidance scale from 1 to {}",
                nao_sampling::MAX_GUIDANCE
            )));
        }
        if self.interpolation_class >= nao_burn::NUM_CLASSES {
            return Err(DemoError::input(format!(
                "--interpolation-class {}: the embedded model has {} classes",
                self.interpolation_class,
                nao_burn::NUM_CLASSES
            )));
        }
        self.select_config()
            .check()
            .map_err(|e| DemoError::input(format!("SeedSelect: {e}")))?;
        Ok(sampler.name())
    }
}
