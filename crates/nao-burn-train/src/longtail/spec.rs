//! [`ExperimentSpec`]: what one run of the experiment is, and where its files go.

use std::path::PathBuf;

use nao_augment::{SeedMethod, SourceKind};

use super::error::{LongtailError, Result};
use super::grid::Grid;
use super::rows::{Generation, Refine};
use super::runs::Recipe;

/// SeedSelect's settings in the refined sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SelectSettings {
    /// The official defaults, never tuned: `SelectConfig::from_nao()` for seeds from inverted
    /// images, `SelectConfig::from_random()` for prompt-only's random seeds.
    Official,
    /// The same with 1 iteration through a 3-step sampler: the plumbing check's, whose numbers
    /// mean nothing.
    Tiny,
}

/// Everything that decides the experiment's numbers, and where it keeps its work.
///
/// The working folder holds what a rerun reuses: `real/` and `test-real/` (the real images
/// generation starts from and is measured against), `generated/FOLDER/` (resumable `nao
/// augment` datasets, [`Generation::folder`]), `eval/` (their measures) and `runs/` (one file
/// per finished training run, keyed by recipe, seed and training set).
///
/// The protocol is fair: every row but the long-tailed reference trains on the same number of
/// images per class, the real rare images and `M` generated ones oversampled together to the
/// common classes' size (oversampling alone is `M = 0`), with the same recipe and seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct ExperimentSpec {
    /// Fashion-MNIST's IDX files.
    pub data_dir: PathBuf,
    /// The working folder (see above).
    pub work_dir: PathBuf,
    /// Training seeds of every configuration: `0..seeds`.
    pub seeds: u64,
    /// Training seeds of a configuration in a comparison that `seeds` leave within the spread:
    /// `0..max_seeds` (see [`more_seeds`](super::more_seeds)). Equal to `seeds`: no second
    /// pass.
    pub max_seeds: u64,
    /// Generated images per rare class in every generated set (`M`).
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
    /// The generated sets compared.
    pub grid: Grid,
    /// SeedSelect's settings in the refined sets.
    pub select: SelectSettings,
}

impl ExperimentSpec {
    /// The published experiment (docs/results.md, where the costs that chose it are): 3 seeds
    /// and 5 for rows within the spread of a comparison, 100 generated images per rare class
    /// with 20 DDIM steps, [`Recipe::FULL`], the whole test set, two jobs at a time;
    /// prompt-only, normalized and NAO with every source, without and with SeedSelect, from 5
    /// real images per rare class, and from all 60 with the best source.
    pub fn new(data_dir: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            work_dir: work_dir.into(),
            seeds: 3,
            max_seeds: 5,
            generated_per_class: 100,
            ddim_steps: 20,
            recipe: Recipe::FULL,
            test_limit: None,
            jobs: 2,
            grid: Grid {
                methods: vec![
                    SeedMethod::PromptOnly,
                    SeedMethod::Normalized,
                    SeedMethod::Nao,
                ],
                sources: SourceKind::ALL.to_vec(),
                refinements: Refine::ALL.to_vec(),
                shots: vec![5],
                best_source_shots: vec![60],
            },
            select: SelectSettings::Official,
        }
    }

    /// The plumbing check (CI's `--quick`): every code path with tiny settings — one seed and
    /// a second for the rows within the spread (with one seed, all of them), 8 generated
    /// images per rare class with 4 DDIM steps, prompt-only, normalized and NAO from pairs,
    /// without and with a tiny SeedSelect, at 5 shots and (but prompt-only) at 60 with the best
    /// source,
    /// [`Recipe::QUICK`], 500 test images. Its numbers mean nothing.
    ///
    /// ```
    /// use nao_burn_train::longtail::{ExperimentSpec, Recipe};
    /// let spec = ExperimentSpec::quick("data", "work");
    /// assert_eq!((spec.seeds, spec.max_seeds), (1, 2));
    /// assert_eq!((spec.generated_per_class, spec.ddim_steps), (8, 4));
    /// assert_eq!((spec.recipe, spec.test_limit), (Recipe::QUICK, Some(500)));
    /// assert_eq!((spec.grid.shots[0], spec.grid.best_source_shots[0]), (5, 60));
    /// assert_eq!(spec.runs_dir(), std::path::Path::new("work/runs"));
    /// ```
    pub fn quick(data_dir: impl Into<PathBuf>, work_dir: impl Into<PathBuf>) -> Self {
        let published = Self::new(data_dir, work_dir);
        Self {
            seeds: 1,
            max_seeds: 2,
            generated_per_class: 8,
            ddim_steps: 4,
            recipe: Recipe::QUICK,
            test_limit: Some(500),
            grid: Grid {
                sources: vec![SourceKind::Pairs],
                ..published.grid.clone()
            },
            select: SelectSettings::Tiny,
            ..published
        }
    }

    /// Refuse values no experiment can run with, naming the option.
    pub fn check(&self) -> Result<()> {
        let positive = [
            ("--seeds", self.seeds as usize),
            ("--jobs", self.jobs),
            ("--per-class", self.generated_per_class),
            ("--steps", self.ddim_steps),
        ];
        if let Some((option, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(LongtailError::Invalid(format!(
                "{option} 0: it must be at least 1"
            )));
        }
        if self.max_seeds < self.seeds {
            return Err(LongtailError::Invalid(format!(
                "--max-seeds {}: it must be at least --seeds ({})",
                self.max_seeds, self.seeds
            )));
        }
        if self.test_limit == Some(0) {
            return Err(LongtailError::Invalid(
                "--test-limit 0: score on at least one test image".into(),
            ));
        }
        self.grid.check()?;
        self.recipe.config(0).check()?;
        Ok(())
    }

    /// The most real images any generation inverts: the real folder must hold that many per
    /// rare class.
    pub fn most_shots(&self) -> usize {
        let g = &self.grid;
        g.shots
            .iter()
            .chain(&g.best_source_shots)
            .copied()
            .max()
            .unwrap_or(0)
    }

    /// The seeds of the first pass, which every configuration is trained with.
    pub fn seed_list(&self) -> Vec<u64> {
        (0..self.seeds).collect()
    }

    /// The seeds a configuration in a comparison within the spread gets in the second pass.
    pub fn more_seed_list(&self) -> Vec<u64> {
        (self.seeds..self.max_seeds).collect()
    }

    /// `WORK/real`: every real image of the rare classes in the long-tailed set, that
    /// generation chooses its shots from.
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
        assert!(ExperimentSpec::new("d", "w").check().is_ok());
        let refused = |f: fn(&mut ExperimentSpec)| {
            let mut s = ok.clone();
            f(&mut s);
            s.check().unwrap_err().to_string()
        };
        assert!(refused(|s| s.seeds = 0).contains("--seeds 0"));
        assert!(
            refused(|s| s.max_seeds = 0).contains("--max-seeds 0: it must be at least --seeds (1)")
        );
        assert!(refused(|s| s.jobs = 0).contains("--jobs 0"));
        assert!(refused(|s| s.generated_per_class = 0).contains("--per-class 0"));
        assert!(refused(|s| s.test_limit = Some(0)).contains("--test-limit 0"));
        assert!(refused(|s| s.recipe.steps = 0).contains("steps"));
        let twice = refused(|s| s.grid.methods.push(SeedMethod::Nao));
        assert!(twice.contains("--methods: nao is listed twice"), "{twice}");
        assert!(refused(|s| s.grid.sources.clear()).contains("--sources: give at least one"));
        assert!(refused(|s| s.grid.refinements.clear()).contains("--refinements"));
        let one = refused(|s| s.grid.shots = vec![1]);
        assert!(one.contains("--shots 1: give at least 2"), "{one}");
        let both = refused(|s| s.grid.best_source_shots = vec![5]);
        assert!(
            both.contains("--best-source-shots 5: it is in --shots"),
            "{both}"
        );
        let zero = refused(|s| s.grid.best_source_shots = vec![0]);
        assert!(zero.contains("--best-source-shots 0"), "{zero}");
    }
}
