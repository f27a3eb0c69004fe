//! The long-tail experiment: does adding generated images of the rare classes help a classifier
//! trained on the long-tailed Fashion-MNIST set the embedded model was trained on?
//!
//! The same small classifier is trained, with a fixed seeded [`Recipe`], on each [`Row`]: (a)
//! the long-tailed set alone, (b) the set with the rare classes oversampled to the size of the
//! smallest common class, and (c) the set plus `M` generated images per rare class for each seed
//! method of [`SeedMethod::ALL`](nao_augment::SeedMethod::ALL); each configuration over several
//! seeds, each scored on the test set (rare-class, overall and balanced accuracy).
//!
//! - [`ExperimentSpec`] says what to run ([`ExperimentSpec::new`]: the published experiment;
//!   [`ExperimentSpec::quick`]: CI's plumbing check) and [`Plan`] adds the rows it implies;
//! - `Plan::run` (with the default `embedded` feature) does everything in-process: the real
//!   images ([`LongTailData`]), the generated sets (`generate_sets`, through `nao_augment`,
//!   one worker per set up to [`ExperimentSpec::jobs`], each with its own embedded model), their
//!   measures (`evaluate_sets`, `nao eval`'s work), the training runs ([`RunPool`]: threads,
//!   finished runs kept and reused), the numbers ([`aggregate`]), the sentences
//!   ([`conclusion`]) and the self-check ([`Results::check`]);
//! - progress and cancellation go through one callback ([`Event`], [`Progress`]), errors are
//!   [`LongtailError`]; nothing here prints or reads a signal flag.
//!
//! Everything is kept in the working folder, so a rerun reuses it and a killed run resumes.
//! The `nao-longtail` binary renders [`Results`] (`results.json`, the chart, the markdown
//! report) and `cargo xtask longtail` runs it.
//!
//! ```
//! use nao_burn_train::longtail::{ExperimentSpec, Plan, Row};
//! let mut spec = ExperimentSpec::new("data", "work");
//! spec.seeds = 5;
//! let plan = Plan::new(spec)?;
//! assert_eq!(plan.rows()[0], Row::long_tail());
//! assert_eq!(plan.rows().last().unwrap().name, "+nao");
//! # Ok::<(), nao_burn_train::longtail::LongtailError>(())
//! ```

mod conclusion;
mod error;
#[cfg(feature = "embedded")]
mod experiment;
#[cfg(feature = "embedded")]
mod generate;
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

pub use conclusion::{conclusion, percent, SUBJECT};
pub use error::{LongtailError, Result};
#[cfg(feature = "embedded")]
pub use generate::{evaluate_sets, generate_sets};
pub use inputs::LongTailData;
pub use plan::{Plan, TrainingSet};
pub use pool::RunPool;
pub use progress::{quiet, Event, Progress};
pub use report::{aggregate, ConfigReport, Results};
pub use rows::{Balance, Generation, Row, LONG_TAIL, OVERSAMPLE};
pub use runs::{run_key, Recipe, RunResult};
pub use score::{score, Scores};
pub use sets::{load_class_folder, oversampled, pick_rare_examples};
pub use spec::ExperimentSpec;
pub use stats::{compare, Comparison, Spread};
