//! The numbers of the experiment: each configuration's spread over seeds and its comparisons
//! with the baselines ([`aggregate`]), everything together ([`Results`]) and its self-check.

use nao_augment::EvalReport;
use serde::Serialize;

use super::choose::{best_source, more_seeds};
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
    /// Training seeds behind its numbers (n).
    pub seeds: usize,
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
    let named: Vec<(&str, &str, usize)> = sets
        .iter()
        .map(|s| (s.name.as_str(), s.description.as_str(), s.set.len()))
        .collect();
    aggregate_named(&named, runs)
}

/// [`aggregate`] of configurations given as (name, description, training images).
fn aggregate_named(sets: &[(&str, &str, usize)], runs: &[RunResult]) -> Vec<ConfigReport> {
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
        .map(|&(name, description, images)| {
            let r = spread(name, rare);
            let o = spread(name, overall);
            ConfigReport {
                name: name.to_string(),
                description: description.to_string(),
                train_images: images,
                seeds: r.values.len(),
                rare_vs_long_tail: compare(&base_rare, &r),
                rare_vs_oversample: compare(&over_rare, &r),
                overall_vs_long_tail: compare(&base_overall, &o),
                rare: r,
                overall: o,
                balanced: spread(name, balanced),
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
    /// The seeds of the first pass, which every configuration has.
    pub seeds: Vec<u64>,
    /// The seeds added to the configurations of [`Results::more_seeds`].
    pub more_seed_list: Vec<u64>,
    /// The configurations in a comparison within the spread after the first pass, which got
    /// the seeds of [`Results::more_seed_list`] too.
    pub more_seeds: Vec<String>,
    /// The source of the rows at the larger shot counts, chosen from the first pass (`None`
    /// when the plan has no such row).
    pub best_source: Option<String>,
    /// The rare classes' names.
    pub rare_classes: Vec<String>,
    /// Real images per rare class in every training set (and in the folder generation chose
    /// its shots from).
    pub real_per_rare_class: usize,
    /// Generated images per rare class in each generated row.
    pub generated_per_rare_class: usize,
    /// Images per class of every balanced row.
    pub balanced_per_class: usize,
    /// Test images scored.
    pub test_images: usize,
    /// Each configuration's numbers over all its seeds, in the rows' order.
    pub configs: Vec<ConfigReport>,
    /// The measured conclusion, in sentences.
    pub conclusion: Vec<String>,
    /// Every run.
    pub runs: Vec<RunResult>,
    /// The generated sets measured against the rare classes' test images, each under its
    /// configuration's name (none when no row has generated images).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval: Option<EvalReport>,
}

/// The runs of the first pass: those of `seeds`.
pub fn first_pass(runs: &[RunResult], seeds: &[u64]) -> Vec<RunResult> {
    runs.iter()
        .filter(|r| seeds.contains(&r.seed))
        .cloned()
        .collect()
}

impl Results {
    /// The results must hold every configuration of `plan`, in order, with one run per seed of
    /// the first pass, and of the second pass exactly for the configurations the rule picks
    /// from the first ([`more_seeds`]); the best source must be the one the first pass
    /// chose ([`best_source`]); and the plan's numbers of images. What the experiment checks
    /// before it reports.
    pub fn check(&self, plan: &Plan) -> Result<()> {
        let spec = plan.spec();
        let mut problems = Vec::new();
        let best = match &self.best_source {
            Some(name) => match spec.grid.sources.iter().find(|s| s.name() == name) {
                Some(&s) => Some(s),
                None => {
                    problems.push(format!("best source '{name}' is not one of the plan's"));
                    None
                }
            },
            None => None,
        };
        let rows = plan.all_rows(best);
        let first = spec.seed_list();
        let named: Vec<(&str, &str, usize)> = self
            .configs
            .iter()
            .map(|c| (c.name.as_str(), c.description.as_str(), c.train_images))
            .collect();
        let first_configs = aggregate_named(&named, &first_pass(&self.runs, &first));
        if plan.needs_best_source() {
            let chosen = best_source(&first_configs, plan.rows(), &spec.grid);
            if chosen != best {
                problems.push(format!(
                    "best source {:?}, the first pass chose {:?}",
                    self.best_source,
                    chosen.map(|s| s.name())
                ));
            }
        } else if best.is_some() {
            problems.push("a best source, but the plan has no row that needs one".into());
        }
        let expected: Vec<&str> = rows.iter().map(|r| r.name.as_str()).collect();
        let found: Vec<&str> = self.configs.iter().map(|c| c.name.as_str()).collect();
        if found != expected {
            problems.push(format!(
                "configurations {found:?}, the plan has {expected:?}"
            ));
        }
        if self.seeds != first {
            problems.push(format!("seeds {:?}, the plan has {first:?}", self.seeds));
        }
        // no second pass when there are no more seeds to give
        let more = if spec.max_seeds > spec.seeds {
            more_seeds(&first_configs, &rows)
        } else {
            Vec::new()
        };
        if self.more_seeds != more {
            problems.push(format!(
                "more seeds for {:?}, the first pass asks for {more:?}",
                self.more_seeds
            ));
        }
        let all: Vec<u64> = first
            .iter()
            .chain(&spec.more_seed_list())
            .copied()
            .collect();
        for name in &expected {
            let want = if more.iter().any(|m| m == name) {
                &all
            } else {
                &first
            };
            let mut got: Vec<u64> = self
                .runs
                .iter()
                .filter(|r| r.config == *name)
                .map(|r| r.seed)
                .collect();
            got.sort_unstable();
            if got != *want {
                problems.push(format!("{name}: runs of seeds {got:?}, {want:?} wanted"));
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
        let spec = plan.spec();
        let first = aggregate(sets, &first_pass(&runs, &spec.seed_list()));
        let rows = plan.all_rows(None);
        Results {
            wall_seconds: 1.0,
            generation_seconds: 0.5,
            training_seconds: 6.0,
            recipe: spec.recipe,
            seeds: spec.seed_list(),
            more_seed_list: spec.more_seed_list(),
            more_seeds: if spec.max_seeds > spec.seeds {
                more_seeds(&first, &rows)
            } else {
                vec![]
            },
            best_source: None,
            rare_classes: vec!["bag".into(), "ankle boot".into()],
            real_per_rare_class: 60,
            generated_per_rare_class: spec.generated_per_class,
            balanced_per_class: 6000,
            test_images: 500,
            configs: aggregate(sets, &runs),
            conclusion: vec![],
            runs,
            eval: None,
        }
    }

    #[test]
    fn the_check_wants_every_configuration_with_its_seeds() {
        use crate::longtail::{ExperimentSpec, Generation, Refine, Row};
        use nao_augment::{SeedMethod, SourceKind};

        let mut spec = ExperimentSpec::quick("data", "work");
        spec.seeds = 2;
        spec.max_seeds = 4;
        spec.grid.best_source_shots.clear();
        let g = |m| Generation::new(m, SourceKind::Pairs, 5, Refine::None);
        let rows = vec![
            Row::long_tail(),
            Row::oversample(),
            Row::generated(g(SeedMethod::Normalized)),
            Row::generated(g(SeedMethod::Nao)),
        ];
        let plan = Plan::with_rows(spec, rows).unwrap();
        let sets = [
            set("long-tail", 10),
            set("oversample", 12),
            set("+normalized-pairs-5shot", 12),
            set("+nao-pairs-5shot", 12),
        ];
        // nao is clearly above oversampling, within the spread of normalized: normalized and
        // nao get seeds 2 and 3, the baselines keep 0 and 1
        let rare = [0.1, 0.5, 0.70, 0.71];
        let mut runs: Vec<RunResult> = sets
            .iter()
            .zip(rare)
            .flat_map(|(s, x)| [run(&s.name, 0, x), run(&s.name, 1, x + 0.01)])
            .collect();
        for name in ["+normalized-pairs-5shot", "+nao-pairs-5shot"] {
            runs.push(run(name, 2, 0.7));
            runs.push(run(name, 3, 0.7));
        }
        let good = results(&plan, &sets, runs.clone());
        assert_eq!(
            good.more_seeds,
            ["+normalized-pairs-5shot", "+nao-pairs-5shot"]
        );
        good.check(&plan).unwrap();
        let ns: Vec<usize> = good.configs.iter().map(|c| c.seeds).collect();
        assert_eq!(ns, [2, 2, 4, 4]);

        let fails = |r: Results| r.check(&plan).unwrap_err().to_string();
        // a second-pass run missing
        let e = fails(results(&plan, &sets, runs[..runs.len() - 1].to_vec()));
        assert!(
            e.contains("+nao-pairs-5shot: runs of seeds [0, 1, 2], [0, 1, 2, 3] wanted"),
            "{e}"
        );
        // a second pass for a configuration the rule does not pick
        let mut extra = runs.clone();
        extra.push(run("oversample", 2, 0.5));
        extra.push(run("oversample", 3, 0.5));
        let e = fails(results(&plan, &sets, extra));
        assert!(
            e.contains("oversample: runs of seeds [0, 1, 2, 3], [0, 1] wanted"),
            "{e}"
        );
        // the recorded choice must be the rule's
        let mut claimed = good.clone();
        claimed.more_seeds.pop();
        assert!(fails(claimed).contains("the first pass asks for"));
        let mut twice = runs.clone();
        twice.push(run("long-tail", 1, 0.6));
        let e = fails(results(&plan, &sets, twice));
        assert!(e.contains("long-tail: runs of seeds [0, 1, 1]"), "{e}");
        let mut stray = runs.clone();
        stray.push(run("+euclidean", 0, 0.6));
        assert!(fails(results(&plan, &sets, stray)).contains("1 runs of no configuration"));
        let e = fails(results(&plan, &sets[..3], runs.clone()));
        assert!(e.contains("configurations") && e.contains("+nao"), "{e}");
        let mut fewer = good.clone();
        fewer.generated_per_rare_class = 19;
        assert!(fails(fewer).contains("19 generated images per rare class, the plan has 8"));
        let mut one_seed = good.clone();
        one_seed.seeds = vec![0];
        assert!(fails(one_seed).contains("seeds [0], the plan has [0, 1]"));
        let mut best = good;
        best.best_source = Some("pairs".into());
        assert!(fails(best).contains("no row that needs one"));
    }

    #[test]
    fn the_check_wants_the_best_source_of_the_first_pass() {
        use crate::longtail::ExperimentSpec;
        use nao_augment::SourceKind;

        let mut spec = ExperimentSpec::quick("data", "work");
        spec.grid.sources = vec![SourceKind::Pairs, SourceKind::Subsets];
        spec.grid.refinements = vec![crate::longtail::Refine::None];
        spec.max_seeds = 1;
        let plan = Plan::new(spec).unwrap();
        // subsets wins at 5 shots; its 60-shot rows follow
        let rows = plan.all_rows(Some(SourceKind::Subsets));
        let sets: Vec<TrainingSet> = rows.iter().map(|r| set(&r.name, 10)).collect();
        let runs: Vec<RunResult> = rows
            .iter()
            .map(|r| {
                run(
                    &r.name,
                    0,
                    if r.name.contains("subsets") { 0.6 } else { 0.5 },
                )
            })
            .collect();
        let mut r = results(&plan, &sets, runs.clone());
        r.best_source = Some("subsets".into());
        r.check(&plan).unwrap();
        let mut wrong = r.clone();
        wrong.best_source = Some("pairs".into());
        let e = wrong.check(&plan).unwrap_err().to_string();
        assert!(
            e.contains("best source Some(\"pairs\"), the first pass chose Some(\"subsets\")"),
            "{e}"
        );
        let mut unknown = r;
        unknown.best_source = Some("everything".into());
        let e = unknown.check(&plan).unwrap_err().to_string();
        assert!(e.contains("'everything' is not one of the plan's"), "{e}");
    }
}
