//! The whole experiment in one call: [`Plan::run`].

use std::time::Instant;

use nao_burn::{CLASS_NAMES, CLASS_SLUGS, RARE_CLASSES};

use super::conclusion::conclusion;
use super::error::{LongtailError, Result};
use super::generate::{evaluate_sets, generate_sets};
use super::inputs::LongTailData;
use super::plan::Plan;
use super::pool::RunPool;
use super::progress::{Event, Progress};
use super::report::{aggregate, Results};
use super::sets::load_class_folder;

impl Plan {
    /// Run the experiment: write the real images, make and measure the generated sets, train
    /// every configuration over every seed, aggregate, conclude, and check that the results
    /// hold everything the plan asked for ([`Results::check`]).
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
    /// assert_eq!(results.runs.len(), plan.rows().len());
    /// for line in &results.conclusion {
    ///     println!("- {line}");
    /// }
    /// # Ok::<(), nao_burn_train::longtail::LongtailError>(())
    /// ```
    pub fn run(&self, progress: &mut Progress<'_>) -> Result<Results> {
        let started = Instant::now();
        let spec = self.spec();
        let data = LongTailData::load(&spec.data_dir, spec.test_limit)?;
        let real = spec.real_dir();
        data.write_real_images(spec.real_per_class, &real, &spec.test_real_dir())?;
        if progress(Event::RealImages {
            per_class: spec.real_per_class,
            dir: &real,
        })
        .is_break()
        {
            return Err(LongtailError::Cancelled);
        }
        generate_sets(self, progress)?;
        let eval = evaluate_sets(self, progress)?;
        let generation_seconds = started.elapsed().as_secs_f64();

        let sets = self.training_sets(&data.long_tail, &mut |g, class| {
            let dir = spec.generated_dir(g).join(CLASS_SLUGS[class]);
            Ok(load_class_folder(&dir, class as u8)?)
        })?;
        let pool = RunPool {
            recipe: spec.recipe,
            seeds: spec.seed_list(),
            jobs: spec.jobs,
            runs_dir: spec.runs_dir(),
        };
        let runs = pool.run(&sets, &data.test, progress)?;
        let configs = aggregate(&sets, &runs);
        let results = Results {
            wall_seconds: started.elapsed().as_secs_f64(),
            generation_seconds,
            training_seconds: runs.iter().map(|r| r.seconds).sum(),
            recipe: spec.recipe,
            seeds: spec.seed_list(),
            rare_classes: RARE_CLASSES.map(|c| CLASS_NAMES[c].to_string()).to_vec(),
            real_per_rare_class: spec.real_per_class,
            generated_per_rare_class: spec.generated_per_class,
            test_images: data.test.len(),
            conclusion: conclusion(&configs, self.rows()),
            configs,
            runs,
            eval,
        };
        results.check(self)?;
        Ok(results)
    }
}
