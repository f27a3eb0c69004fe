//! The long-tail experiment: does adding generated images of the rare classes help a classifier
//! trained on the long-tailed Fashion-MNIST set the embedded model was trained on, more than
//! oversampling the real ones does?
//!
//! The protocol is fair: every configuration ([`Row`]) but the long-tailed reference trains on
//! the same number of images per class. A generated row adds `M` images per rare class to the
//! 60 real ones, and the real and generated rare images are oversampled together (cycling) to
//! the common classes' 6000; oversampling alone is the row with `M = 0`. The generated sets
//! ([`Generation`]) differ in the seed method, the seed source, how many of the 60 real images
//! are inverted (shots) and whether SeedSelect refines each seed; a [`Grid`] of lists says
//! which are run. Each row is trained with a fixed seeded [`Recipe`] over several seeds and
//! scored on the test set (rare-class, overall and balanced accuracy).
//!
//! - [`ExperimentSpec`] says what to run ([`ExperimentSpec::new`]: the published experiment;
//!   [`ExperimentSpec::quick`]: CI's plumbing check) and [`Plan`] adds the rows it implies;
//! - the experiment decides three things from its own first-pass numbers, each a pure function
//!   its self-check recomputes: the comparisons ([`comparisons`]), the rows that get more seeds
//!   because a comparison of theirs is within the spread ([`more_seeds`]), and the source of
//!   the rows with more shots ([`best_source`]);
//! - `Plan::run` (with the default `embedded` feature) does everything in-process: the real
//!   images ([`LongTailData`]), the generated sets (`generate_sets`, through `nao_augment` and
//!   `nao_select`, one worker per set up to [`ExperimentSpec::jobs`], each with its own
//!   embedded model), their measures (`evaluate_sets`, `nao eval`'s work), the training runs
//!   ([`RunPool`]: threads, finished runs kept and reused), the numbers ([`aggregate`]), the
//!   sentences ([`conclusion`]) and the self-check ([`Results::check`]);
//! - progress and cancellation go through one callback ([`Event`], [`Progress`]), errors are
//!   [`LongtailError`]; nothing here prints or reads a signal flag.
//!
//! Everything is kept in the working folder, so a rerun reuses it and a killed run resumes.
//! The `nao-longtail` binary renders [`Results`] (`results.json`, the chart, the markdown
//! report) and `cargo xtask longtail` runs it.
//!
//! ```
//! use nao_augment::SourceKind;
//! use nao_burn_train::longtail::{ExperimentSpec, Plan, Row};
//! let plan = Plan::new(ExperimentSpec::new("data", "work"))?;
//! assert_eq!(plan.rows()[..2], [Row::long_tail(), Row::oversample()]);
//! assert_eq!(plan.rows()[3].name, "+normalized-centroid-paths-5shot");
//! let all = plan.all_rows(Some(SourceKind::Pairs));
//! assert_eq!(all.last().unwrap().name, "+nao-pairs-60shot-seedselect");
//! # Ok::<(), nao_burn_train::longtail::LongtailError>(())
//! ```

mod choose;
mod conclusion;
mod costs;
mod error;
#[cfg(feature = "embedded")]
mod experiment;
#[cfg(feature = "embedded")]
mod generate;
mod grid;
mod inputs;
mod plan;
mod pool;
mod progress;
mod report;
mod rows;
mod runs;
mod score;
mod sets;
mod spec;
mod stats;

pub use choose::{best_source, comparisons, more_seeds};
pub use conclusion::{conclusion, percent, GOAL_BASELINE, SUBJECT};
pub use costs::{estimate, Costs, Estimate};
pub use error::{LongtailError, Result};
#[cfg(feature = "embedded")]
pub use generate::{augment_spec, evaluate_sets, generate_sets, select_config};
pub use grid::Grid;
pub use inputs::LongTailData;
pub use plan::{Plan, TrainingSet};
pub use pool::RunPool;
pub use progress::{quiet, Event, Progress};
pub use report::{aggregate, first_pass, ConfigReport, Results};
pub use rows::{Balance, Generation, Refine, Row, LONG_TAIL, OVERSAMPLE};
pub use runs::{run_key, Recipe, RunResult};
pub use score::{score, Scores};
pub use sets::{load_class_folder, oversampled, pick_rare_examples};
pub use spec::{ExperimentSpec, SelectSettings};
pub use stats::{compare, Comparison, Spread};
