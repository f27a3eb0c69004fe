//! The numbers of the experiment: each configuration's spread over seeds and its comparisons
//! with the baselines ([`aggregate`]), everything together ([`Results`]) and its self-check.

use nao_augment::EvalReport;
use serde::Serialize;

use super::error::{LongtailError, Result};
use super::plan::{Plan, TrainingSet};
use super::rows::{LONG_TAIL, OVERSAMPLE};
use super::runs::{Recipe, RunResult};
use super::stats::{compare, Comparison, Spread};

/// A configuration's numbers over seeds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigReport {
    /// The row's name.
    pub name: String,
    /// What its training set is.
    pub description: String,
    /// Training images (repeats included).
    pub train_images: usize,
    /// Rare-class accuracy.
    pub rare: Spread,
    /// Overall accuracy.
    pub overall: Spread,
    /// Balanced accuracy.
    pub balanced: Spread,
    /// Rare-class accuracy against the long-tailed set alone.
    pub rare_vs_long_tail: Comparison,
    /// Rare-class accuracy against oversampling.
    pub rare_vs_oversample: Comparison,
    /// Overall accuracy against the long-tailed set alone.
    pub overall_vs_long_tail: Comparison,
}

/// Each configuration of `sets` with the spread of its runs in `runs` and its comparisons with
/// the [`LONG_TAIL`] and [`OVERSAMPLE`] rows (a missing baseline compares as an empty spread).
pub fn aggregate(sets: &[TrainingSet], runs: &[RunResult]) -> Vec<ConfigReport> {
    let spread = |name: &str, f: fn(&RunResult) -> f64| {
        Spread::of(
            &runs
                .iter()
                .filter(|r| r.config == name)
                .map(f)
                .collect::<Vec<_>>(),
        )
    };
    let rare = |r: &RunResult| r.scores.rare;
    let overall = |r: &RunResult| r.scores.overall;
    let balanced = |r: &RunResult| r.scores.balanced;
    let base_rare = spread(LONG_TAIL, rare);
    let over_rare = spread(OVERSAMPLE, rare);
    let base_overall = spread(LONG_TAIL, overall);
    sets.iter()
        .map(|c| {
            let r = spread(&c.name, rare);
            let o = spread(&c.name, overall);
            ConfigReport {
                name: c.name.clone(),
                description: c.description.clone(),
                train_images: c.set.len(),
                rare_vs_long_tail: compare(&base_rare, &r),
                rare_vs_oversample: compare(&over_rare, &r),
                overall_vs_long_tail: compare(&base_overall, &o),
                rare: r,
                overall: o,
                balanced: spread(&c.name, balanced),
            }
        })
        .collect()
}

/// Everything the experiment measured (`results.json`, with the command that ran it).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Results {
    /// Seconds from start to end.
    pub wall_seconds: f64,
    /// Seconds spent writing the real images, generating and measuring the generated ones.
    pub generation_seconds: f64,
    /// Seconds of training and scoring, summed over the runs (kept ones included).
    pub training_seconds: f64,
    /// The classifier and its training.
    pub recipe: Recipe,
    /// The training seeds.
    pub seeds: Vec<u64>,
    /// The rare classes' names.
    pub rare_classes: Vec<String>,
    /// Real images per rare class that generation started from.
    pub real_per_rare_class: usize,
    /// Generated images per rare class in each generated row.
    pub generated_per_rare_class: usize,
    /// Test images scored.
    pub test_images: usize,
    /// Each configuration's numbers, in the rows' order.
    pub configs: Vec<ConfigReport>,
    /// The measured conclusion, in sentences.
    pub conclusion: Vec<String>,
    /// Every run.
    pub runs: Vec<RunResult>,
    /// The generated sets measured against the rare classes' test images (none when no row
    /// has generated images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval: Option<EvalReport>,
}

impl Results {
    /// The results must hold every configuration of `plan`, in order, with exactly one run per
    /// seed, and the plan's numbers of images: what the experiment checks before it reports.
    pub fn check(&self, plan: &Plan) -> Result<()> {
        let spec = plan.spec();
        let expected: Vec<&str> = plan.rows().iter().map(|r| r.name.as_str()).collect();
        let found: Vec<&str> = self.configs.iter().map(|c| c.name.as_str()).collect();
        let mut problems = Vec::new();
        if found != expected {
            problems.push(format!(
                "configurations {found:?}, the plan has {expected:?}"
            ));
        }
        let seeds = spec.seed_list();
        if self.seeds != seeds {
            problems.push(format!("seeds {:?}, the plan has {seeds:?}", self.seeds));
        }
        for name in &expected {
            let mut got: Vec<u64> = self
                .runs
                .iter()
                .filter(|r| r.config == *name)
                .map(|r| r.seed)
                .collect();
            got.sort_unstable();
            if got != seeds {
                problems.push(format!("{name}: runs of seeds {got:?}"));
            }
        }
        let stray = self
            .runs
            .iter()
            .filter(|r| !expected.contains(&r.config.as_str()))
            .count();
        if stray > 0 {
            problems.push(format!("{stray} runs of no configuration of the plan"));
        }
        if self.generated_per_rare_class != spec.generated_per_class {
            problems.push(format!(
                "{} generated images per rare class, the plan has {}",
                self.generated_per_rare_class, spec.generated_per_class
            ));
        }
        if self.recipe != spec.recipe {
            problems.push("another recipe than the plan's".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(LongtailError::Incomplete(problems.join("; ")))
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::super::score::Scores;
    use super::*;
    use crate::data::ImageSet;

    /// A run of `config` with rare-class accuracy `rare` (overall and balanced: `rare / 2 +
    /// 0.4`).
    pub(crate) fn run(config: &str, seed: u64, rare: f64) -> RunResult {
        RunResult {
            config: config.into(),
            seed,
            key: format!("{config}{seed}"),
            train_images: 10,
            scores: Scores {
                rare,
                overall: rare / 2.0 + 0.4,
                balanced: rare / 2.0 + 0.4,
                per_class: vec![],
            },
            seconds: 1.0,
        }
    }

    pub(crate) fn set(name: &str, images: usize) -> TrainingSet {
        TrainingSet {
            name: name.into(),
            description: format!("the {name} set"),
            set: ImageSet {
                pixels: vec![],
                labels: vec![0; images],
            },
        }
    }

    #[test]
    fn spreads_and_comparisons_per_configuration() {
        let sets = [set("long-tail", 10), set("oversample", 12), set("+nao", 11)];
        let runs = [
            run("long-tail", 0, 0.1),
            run("long-tail", 1, 0.2),
            run("oversample", 0, 0.8),
            run("oversample", 1, 0.8),
            run("+nao", 0, 0.5),
            run("+nao", 1, 0.6),
        ];
        let r = aggregate(&sets, &runs);
        assert_eq!(r.len(), 3);
        let nao = &r[2];
        assert_eq!((nao.name.as_str(), nao.train_images), ("+nao", 11));
        assert!((nao.rare.mean - 0.55).abs() < 1e-12);
        assert_eq!(nao.rare.values, [0.5, 0.6]);
        assert!((nao.rare_vs_long_tail.difference - 0.4).abs() < 1e-12);
        assert!(nao.rare_vs_long_tail.real);
        assert!((nao.rare_vs_oversample.difference + 0.25).abs() < 1e-12);
        assert!((nao.overall_vs_long_tail.difference - 0.2).abs() < 1e-12);
        assert!((nao.balanced.mean - 0.675).abs() < 1e-12);
        // a baseline against itself: no difference
        assert_eq!(r[0].rare_vs_long_tail.difference, 0.0);
    }

    fn results(plan: &Plan, sets: &[TrainingSet], runs: Vec<RunResult>) -> Results {
        Results {
            wall_seconds: 1.0,
            generation_seconds: 0.5,
            training_seconds: 6.0,
            recipe: plan.spec().recipe,
            seeds: plan.spec().seed_list(),
            rare_classes: vec!["bag".into(), "ankle boot".into()],
            real_per_rare_class: 5,
            generated_per_rare_class: plan.spec().generated_per_class,
            test_images: 500,
            configs: aggregate(sets, &runs),
            conclusion: vec![],
            runs,
            eval: None,
        }
    }

    #[test]
    fn the_check_wants_every_configuration_with_one_run_per_seed() {
        use crate::longtail::ExperimentSpec;
        use nao_augment::SeedMethod;

        let mut spec = ExperimentSpec::quick("data", "work");
        spec.seeds = 2;
        spec.methods = vec![SeedMethod::Nao];
        let plan = Plan::new(spec).unwrap();
        let sets = [set("long-tail", 10), set("oversample", 12), set("+nao", 11)];
        let runs: Vec<RunResult> = sets
            .iter()
            .flat_map(|s| [run(&s.name, 0, 0.5), run(&s.name, 1, 0.6)])
            .collect();
        let good = results(&plan, &sets, runs.clone());
        good.check(&plan).unwrap();

        let fails = |r: Results| r.check(&plan).unwrap_err().to_string();
        let e = fails(results(&plan, &sets, runs[..5].to_vec()));
        assert!(e.contains("+nao: runs of seeds [0]"), "{e}");
        let mut twice = runs.clone();
        twice.push(run("long-tail", 1, 0.6));
        let e = fails(results(&plan, &sets, twice));
        assert!(e.contains("long-tail: runs of seeds [0, 1, 1]"), "{e}");
        let mut stray = runs.clone();
        stray.push(run("+euclidean", 0, 0.6));
        assert!(fails(results(&plan, &sets, stray)).contains("1 runs of no configuration"));
        let e = fails(results(&plan, &sets[..2], runs[..4].to_vec()));
        assert!(e.contains("configurations") && e.contains("+nao"), "{e}");
        let mut fewer = good.clone();
        fewer.generated_per_rare_class = 19;
        assert!(fails(fewer).contains("19 generated images per rare class, the plan has 20"));
        let mut one_seed = good;
        one_seed.seeds = vec![0];
        assert!(fails(one_seed).contains("seeds [0], the plan has [0, 1]"));
    }
}
