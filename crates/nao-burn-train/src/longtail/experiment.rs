//! The whole experiment in one call: [`Plan::run`].

use std::time::Instant;

use nao_burn::{CLASS_NAMES, CLASS_SLUGS, RARE_CLASSES};

use super::choose::{best_source, more_seeds};
use super::conclusion::conclusion;
use super::error::{LongtailError, Result};
use super::generate::{evaluate_sets, generate_sets};
use super::inputs::LongTailData;
use super::plan::{Plan, TrainingSet};
use super::pool::RunPool;
use super::progress::{Event, Progress};
use super::report::{aggregate, Results};
use super::rows::Row;
use super::runs::RunResult;
use super::sets::load_class_folder;

impl Plan {
    /// Run the experiment: write the real images; make the generated sets of the first rows
    /// and train every row on the first-pass seeds; choose the best source from them and do
    /// the same for its rows ([`best_source`]); give the rows within the spread of a
    /// comparison their second-pass seeds ([`more_seeds`]); measure every generated set;
    /// aggregate, conclude, and check that the results hold everything the plan asked for
    /// ([`Results::check`]).
    ///
    /// Everything is kept in the working folder, so a second run reuses it all and a killed
    /// (or cancelled) one resumes. `progress` hears every [`Event`] and may stop the run
    /// ([`LongtailError::Cancelled`]).
    ///
    /// ```no_run
    /// use nao_burn_train::longtail::{quiet, ExperimentSpec, Plan};
    /// use nao_burn_train::FashionMnist;
    /// let plan = Plan::new(ExperimentSpec::quick(FashionMnist::default_dir(), "work"))?;
    /// let results = plan.run(&mut quiet)?;
    /// assert!(results.configs.len() >= plan.rows().len());
    /// for line in &results.conclusion {
    ///     println!("- {line}");
    /// }
    /// # Ok::<(), nao_burn_train::longtail::LongtailError>(())
    /// ```
    pub fn run(&self, progress: &mut Progress<'_>) -> Result<Results> {
        let started = Instant::now();
        let spec = self.spec();
        let data = LongTailData::load(&spec.data_dir, spec.test_limit)?;
        let real_per_class = data.rare_per_class();
        let most = spec.most_shots();
        if most > real_per_class {
            let option = if spec.grid.shots.contains(&most) {
                "--shots"
            } else {
                "--best-source-shots"
            };
            return Err(LongtailError::Invalid(format!(
                "{option} {most}: the long-tailed set has {real_per_class} real images per rare \
                 class"
            )));
        }
        let real = spec.real_dir();
        data.write_real_images(&real, &spec.test_real_dir())?;
        if progress(Event::RealImages {
            per_class: real_per_class,
            dir: &real,
        })
        .is_break()
        {
            return Err(LongtailError::Cancelled);
        }
        let mut generation_seconds = 0.0;
        let first = spec.seed_list();

        // the first rows, on the first-pass seeds
        let mut rows = self.rows().to_vec();
        let mut sets = Vec::new();
        let mut runs = Vec::new();
        self.stage(
            &data,
            &rows,
            &first,
            &mut sets,
            &mut runs,
            &mut generation_seconds,
            progress,
        )?;

        // the rows of the best source, once it is known
        let mut best = None;
        if self.needs_best_source() {
            best = best_source(&aggregate(&sets, &runs), &rows, &spec.grid);
            let more = best.map_or_else(Vec::new, |b| spec.grid.best_source_rows(b, &rows));
            self.stage(
                &data,
                &more,
                &first,
                &mut sets,
                &mut runs,
                &mut generation_seconds,
                progress,
            )?;
            rows.extend(more);
        }

        // the second pass, for the rows within the spread of a comparison
        let more_names = if spec.max_seeds > spec.seeds {
            more_seeds(&aggregate(&sets, &runs), &rows)
        } else {
            Vec::new()
        };
        let more_sets: Vec<TrainingSet> = sets
            .iter()
            .filter(|s| more_names.contains(&s.name))
            .cloned()
            .collect();
        runs.extend(self.train(&more_sets, &data, spec.more_seed_list(), progress)?);

        let measuring = Instant::now();
        let eval = evaluate_sets(self, &Plan::generations(&rows), progress)?;
        generation_seconds += measuring.elapsed().as_secs_f64();

        let position = |r: &RunResult| sets.iter().position(|s| s.name == r.config);
        runs.sort_by(|a, b| position(a).cmp(&position(b)).then(a.seed.cmp(&b.seed)));
        let configs = aggregate(&sets, &runs);
        let results = Results {
            wall_seconds: started.elapsed().as_secs_f64(),
            generation_seconds,
            training_seconds: runs.iter().map(|r| r.seconds).sum(),
            recipe: spec.recipe,
            seeds: first,
            more_seed_list: spec.more_seed_list(),
            more_seeds: more_names,
            best_source: best.map(|s| s.name().to_string()),
            rare_classes: RARE_CLASSES.map(|c| CLASS_NAMES[c].to_string()).to_vec(),
            real_per_rare_class: real_per_class,
            generated_per_rare_class: spec.generated_per_class,
            balanced_per_class: sets
                .iter()
                .find(|s| s.name == super::rows::OVERSAMPLE)
                .map_or(0, |s| s.set.class_counts()[RARE_CLASSES[0]]),
            test_images: data.test.len(),
            conclusion: conclusion(&configs, &rows),
            configs,
            runs,
            eval,
        };
        results.check(self)?;
        Ok(results)
    }

    /// Make the generated sets of `rows`, build their training sets and train them on `seeds`;
    /// the sets and runs are added to `sets` and `runs`.
    #[allow(clippy::too_many_arguments)]
    fn stage(
        &self,
        data: &LongTailData,
        rows: &[Row],
        seeds: &[u64],
        sets: &mut Vec<TrainingSet>,
        runs: &mut Vec<RunResult>,
        generation_seconds: &mut f64,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let spec = self.spec();
        let making = Instant::now();
        generate_sets(self, &Plan::generations(rows), progress)?;
        *generation_seconds += making.elapsed().as_secs_f64();
        let new = self.training_sets(rows, &data.long_tail, &mut |g, class| {
            let dir = spec.generated_dir(g).join(CLASS_SLUGS[class]);
            Ok(load_class_folder(&dir, class as u8)?)
        })?;
        runs.extend(self.train(&new, data, seeds.to_vec(), progress)?);
        sets.extend(new);
        Ok(())
    }

    /// Train `sets` on `seeds` (finished runs kept in `WORK/runs` are reused).
    fn train(
        &self,
        sets: &[TrainingSet],
        data: &LongTailData,
        seeds: Vec<u64>,
        progress: &mut Progress<'_>,
    ) -> Result<Vec<RunResult>> {
        if sets.is_empty() || seeds.is_empty() {
            return Ok(Vec::new());
        }
        let spec = self.spec();
        let pool = RunPool {
            recipe: spec.recipe,
            seeds,
            jobs: spec.jobs,
            runs_dir: spec.runs_dir(),
        };
        pool.run(sets, &data.test, progress)
    }
}
