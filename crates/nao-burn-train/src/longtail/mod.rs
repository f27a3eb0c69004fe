//! The long-tail experiment: does adding generated images of the rare classes help a classifier
//! trained on the long-tailed Fashion-MNIST set the embedded model was trained on?
//!
//! The same small classifier is trained, with a fixed seeded recipe, on
//! (a) the long-tailed set alone, (b) the set with the rare classes oversampled to the size of
//! a common class, and (c) the set plus `M` generated images per rare class for each seed
//! method of `nao augment`; each configuration over several seeds, each scored on the full test
//! set (rare-class, overall and balanced accuracy). `cargo xtask longtail` runs it end to end
//! (`nao-longtail` does the data and training parts, `nao augment` the generation).

mod runs;
mod score;
mod sets;
mod stats;

pub use runs::{run_key, Recipe, RunResult};
pub use score::{score, Scores};
pub use sets::{load_class_folder, oversampled, pick_rare_examples};
pub use stats::{compare, Comparison, Spread};
