//! [`AugmentSpec`]: what defines a dataset, checked once before any work.

use std::path::PathBuf;

use nao_inversion::{InversionMethod, ResizePolicy};

use crate::{AugmentError, Result, SeedMethod, SourceKind, SourceMix};

/// Everything that decides a dataset's images, apart from the model: the real images, the
/// output folder, the prompt, the seed method and the sampling options. The command-line
/// option of each field is named in its documentation (and in errors).
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentSpec {
    /// Real images, one folder per class (the ImageFolder layout): `REAL_DIR`.
    pub real_dir: PathBuf,
    /// The output folder, shared by every shard: `-o/--output`.
    pub out_dir: PathBuf,
    /// The prompt of each class; `{class}` is replaced by the class folder's name:
    /// `--prompt-template`.
    pub prompt_template: String,
    /// The negative prompt of classifier-free guidance: `--negative-prompt`.
    pub negative_prompt: String,
    /// How seeds are chosen: `--method`.
    pub method: SeedMethod,
    /// Images to make per class: `--per-class`.
    pub per_class: usize,
    /// Points per path from the centroid to each inverted seed: `--path-positions`.
    pub path_positions: usize,
    /// Steps of inversion (DDIM) and sampling: `--steps`.
    pub steps: usize,
    /// The sampler of the images (`None`: the model's own scheduler class): `--scheduler`.
    /// Real images are inverted with DDIM whatever it is.
    pub scheduler: Option<nao_sampling::SchedulerChoice>,
    /// Classifier-free guidance scale of sampling (inversion runs without): `--guidance`.
    pub guidance: f64,
    /// How far repeated rounds turn a point's direction (about atan(jitter) radians):
    /// `--jitter`.
    pub jitter: f64,
    /// Seed of the per-image random numbers: `--seed`.
    pub seed: u64,
    /// How a real image of another size than the model's is brought to it: `--resize`.
    pub resize: ResizePolicy,
    /// How real images are inverted: `--inversion` (DDIM). An EDICT image's seed is its
    /// `x_T`, which the dataset's DDIM sampler takes back approximately.
    pub inversion: InversionMethod,
    /// Leave out real images that cannot be read instead of stopping: `--skip-bad-images`.
    pub skip_bad_images: bool,
    /// How many real images per class are inverted (a seeded choice among the class
    /// folder's, the same in every process): `--shots` [`None`: all of them].
    pub shots: Option<usize>,
    /// Where each image's seed comes from: `--source`.
    pub source: SourceMix,
    /// The identity of the refinement each drawn seed goes through before it is sampled
    /// (`--refine`; [`Refiner::identity`](crate::Refiner::identity)), `None` for none. The
    /// refiner itself is given to [`Augment::run`](crate::Augment::run).
    pub refine: Option<String>,
}

/// The most images per class: past ImageNet's largest classes by a factor of 500, and small
/// enough that no count of the work overflows or sizes an absurd allocation.
pub const MAX_PER_CLASS: usize = 1_000_000;

/// The most images of a dataset (classes × per class).
pub const MAX_IMAGES: usize = 10_000_000;

/// The most points per path from the centroid to each inverted seed.
pub const MAX_PATH_POSITIONS: usize = 1000;

pub use nao_sampling::MAX_STEPS;

impl AugmentSpec {
    /// The defaults of `nao augment`: NAO, 100 images per class, 3 points per path, 50 steps,
    /// guidance 1, jitter 0.2, seed 0, centre-crop, prompt `{class}`.
    pub fn new(real_dir: impl Into<PathBuf>, out_dir: impl Into<PathBuf>) -> Self {
        Self {
            real_dir: real_dir.into(),
            out_dir: out_dir.into(),
            prompt_template: "{class}".into(),
            negative_prompt: String::new(),
            method: SeedMethod::Nao,
            per_class: 100,
            path_positions: 3,
            steps: 50,
            scheduler: None,
            guidance: 1.0,
            jitter: 0.2,
            seed: 0,
            resize: ResizePolicy::CenterCrop,
            inversion: InversionMethod::Ddim,
            skip_bad_images: false,
            shots: None,
            source: SourceMix::default(),
            refine: None,
        }
    }

    /// Refuse values no dataset can be made with (before any file is read).
    pub fn check(&self) -> Result<()> {
        if self.per_class == 0 {
            return Err(AugmentError::input(
                "--per-class 0: give at least 1 image per class",
            ));
        }
        if self.per_class > MAX_PER_CLASS {
            return Err(AugmentError::input(format!(
                "--per-class {}: at most {MAX_PER_CLASS} images per class",
                self.per_class
            )));
        }
        if self.path_positions > MAX_PATH_POSITIONS {
            return Err(AugmentError::input(format!(
                "--path-positions {}: at most {MAX_PATH_POSITIONS} points per path",
                self.path_positions
            )));
        }
        if self.steps == 0 {
            return Err(AugmentError::input(
                "--steps 0: at least one step is needed",
            ));
        }
        if self.steps > MAX_STEPS {
            return Err(AugmentError::input(format!(
                "--steps {}: at most {MAX_STEPS}",
                self.steps
            )));
        }
        if !(self.guidance.is_finite()
            && (0.0..=nao_sampling::MAX_GUIDANCE).contains(&self.guidance))
        {
            return Err(AugmentError::input(format!(
                "--guidance {}: the guidance scale must be a number from 0 to {} (≤ 1 runs no \
                 unconditional pass)",
                self.guidance,
                nao_sampling::MAX_GUIDANCE
            )));
        }
        if !(self.jitter.is_finite() && self.jitter > 0.0) {
            return Err(AugmentError::input(format!(
                "--jitter {}: give a finite number > 0 (the images past the distinct points \
                 would otherwise repeat them)",
                self.jitter
            )));
        }
        if self.shots == Some(0) {
            return Err(AugmentError::input(
                "--shots 0: give at least 1 real image per class",
            ));
        }
        let pairwise = self.source.uses(SourceKind::Pairs) || self.source.uses(SourceKind::Subsets);
        if pairwise && self.shots == Some(1) {
            return Err(AugmentError::input(format!(
                "--shots 1 with --source {}: pairs and subsets need at least 2 real images per \
                 class",
                self.source
            )));
        }
        if !self.prompt_template.contains("{class}") {
            return Err(AugmentError::input(format!(
                "--prompt-template \"{}\": it must contain {{class}}, which is replaced by each \
                 class's name",
                self.prompt_template
            )));
        }
        Ok(())
    }

    /// The prompt of `class`.
    pub fn prompt(&self, class: &str) -> String {
        self.prompt_template.replace("{class}", class)
    }
}
