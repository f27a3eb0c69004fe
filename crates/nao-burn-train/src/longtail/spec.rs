//! [`ExperimentSpec`]: what one run of the experiment is, and where its files go.

use std::path::PathBuf;

use nao_augment::SeedMethod;

use super::error::{LongtailError, Result};
use super::rows::Generation;
use super::runs::Recipe;

/// Everything that decides the experiment's numbers, and where it keeps its work.
///
/// The working folder holds what a rerun reuses: `real/` and `test-real/` (the real images
/// generation starts from and is measured against), `generated/METHOD/` (resumable `nao
/// augment` datasets), `eval/` (their measures) and `runs/` (one file per finished training
/// run, keyed by recipe, seed and training set).
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentSpec {
    /// Fashion-MNIST's IDX files.
    pub data_dir: PathBuf,
    /// The working folder (see above).
    pub work_dir: PathBuf,
    /// Training seeds per configuration: `0..seeds`.
    pub seeds: u64,
    /// Generated images per rare class and method.
    pub generated_per_class: usize,
    /// DDIM steps of the generation (inversion and sampling).
    pub ddim_steps: usize,
    /// The classifier and its training.
    pub recipe: Recipe,
    /// Score on the first `n` test images only (`None`: all 10 000).
    pub test_limit: Option<usize>,
    /// Generated sets made, and training runs trained, at once (burn's CPU convolutions and
    /// the sampler use about one core each).
    pub jobs: usize,
    /// Real images per rare class that generation starts from.
    pub real_per_class: usize,
    /// The seed methods compared, in the report's order: one generated set and one row each.
    pub methods: Vec<SeedMethod>,
}

impl ExperimentSpec {
    /// The published experiment (docs/results.md): 3 seeds, 1000 generated images per rare
    /// class with 50 DDIM steps from 5 real ones, [`Recipe::FULL`], the whole test set, two
    /// jobs at a time, every method of [`SeedMethod::ALL`].
    pub fn new(data_dir: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            work_dir: work_dir.into(),
            seeds: 3,
            generated_per_class: 1000,
            ddim_steps: 50,
            recipe: Recipe::FULL,
            test_limit: None,
            jobs: 2,
            real_per_class: 5,
            methods: SeedMethod::ALL.to_vec(),
        }
    }

    /// The plumbing check (CI's `--quick`): one seed, 20 generated images per rare class with
    /// 4 DDIM steps, [`Recipe::QUICK`], 500 test images. It runs every step; its numbers mean
    /// nothing.
    ///
    /// ```
    /// use nao_burn_train::longtail::{ExperimentSpec, Recipe};
    /// let spec = ExperimentSpec::quick("data", "work");
    /// assert_eq!((spec.seeds, spec.generated_per_class, spec.ddim_steps), (1, 20, 4));
    /// assert_eq!((spec.recipe, spec.test_limit), (Recipe::QUICK, Some(500)));
    /// assert_eq!(spec.runs_dir(), std::path::Path::new("work/runs"));
    /// ```
    pub fn quick(data_dir: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> Self {
        Self {
            seeds: 1,
            generated_per_class: 20,
            ddim_steps: 4,
            recipe: Recipe::QUICK,
            test_limit: Some(500),
            ..Self::new(data_dir, work_dir)
        }
    }

    /// Refuse values no experiment can run with, naming the option.
    pub fn check(&self) -> Result<()> {
        let positive = [
            ("--seeds", self.seeds as usize),
            ("--jobs", self.jobs),
            ("--per-class", self.generated_per_class),
            ("--steps", self.ddim_steps),
            ("--real-per-class", self.real_per_class),
        ];
        if let Some((option, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(LongtailError::Invalid(format!(
                "{option} 0: it must be at least 1"
            )));
        }
        if self.test_limit == Some(0) {
            return Err(LongtailError::Invalid(
                "--test-limit 0: score on at least one test image".into(),
            ));
        }
        if let Some(m) = self
            .methods
            .iter()
            .enumerate()
            .find_map(|(i, m)| self.methods[..i].contains(m).then_some(m))
        {
            return Err(LongtailError::Invalid(format!(
                "seed method {m} is listed twice"
            )));
        }
        self.recipe.config(0).check()?;
        Ok(())
    }

    /// The seeds of the training runs.
    pub fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds).collect()
    }

    /// `WORK/real`: the few real images per rare class that generation starts from.
    pub fn real_dir(&self) -> PathBuf {
        self.work_dir.join("real")
    }

    /// `WORK/test-real`: every test image of the rare classes, that the generated images are
    /// measured against.
    pub fn test_real_dir(&self) -> PathBuf {
        self.work_dir.join("test-real")
    }

    /// `WORK/generated/FOLDER`: a generated set ([`Generation::folder`]).
    pub fn generated_dir(&self, generation: Generation) -> PathBuf {
        self.work_dir.join("generated").join(generation.folder())
    }

    /// `WORK/eval`: the measures of the generated sets (`eval.json`, `eval.md`, `eval.png`).
    pub fn eval_dir(&self) -> PathBuf {
        self.work_dir.join("eval")
    }

    /// `WORK/runs`: one file per finished training run.
    pub fn runs_dir(&self) -> PathBuf {
        self.work_dir.join("runs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_values_are_refused_by_option() {
        let ok = ExperimentSpec::quick("d", "w");
        assert!(ok.check().is_ok());
        let refused = |f: fn(&mut ExperimentSpec)| {
            let mut s = ok.clone();
            f(&mut s);
            s.check().unwrap_err().to_string()
        };
        assert!(refused(|s| s.seeds = 0).contains("--seeds 0"));
        assert!(refused(|s| s.jobs = 0).contains("--jobs 0"));
        assert!(refused(|s| s.generated_per_class = 0).contains("--per-class 0"));
        assert!(refused(|s| s.test_limit = Some(0)).contains("--test-limit 0"));
        assert!(refused(|s| s.recipe.steps = 0).contains("steps"));
        let twice = refused(|s| s.methods.push(SeedMethod::Nao));
        assert!(twice.contains("nao is listed twice"), "{twice}");
    }
}
