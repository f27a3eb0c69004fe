//! Refining each drawn seed before it is sampled (`--refine seedselect`): a trait, so that this
//! crate stays free of autodiff (nao-select implements it on burn's autodiff), and so that the
//! refinement runs per seed — image `i` of class `c` still depends only on the configuration,
//! `c` and `i`, and sharding, resuming and merging stay as they are.

use nao_backend::Tensor;
use nao_sampling::SampleOptions;
use serde::{Deserialize, Serialize};

use crate::Result;

/// What a refinement did to one seed, recorded in its manifest line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refinement {
    /// The loss before the first update and of the seed returned.
    pub loss_before: f64,
    /// The loss of the refined seed.
    pub loss_after: f64,
    /// The norm of the seed as drawn, before refinement.
    pub norm_before: f64,
    /// log χ_d of that norm.
    pub log_chi_before: f64,
}

/// A refinement of seeds toward a class's real images.
pub trait Refiner {
    /// What decides the refined seeds (the method and every setting), recorded in run.json:
    /// another refinement in the same output folder is another dataset.
    fn identity(&self) -> String;
    /// Prepare for `class` from its real images `[n, channels, H, W]` in `[−1, 1]` (those the
    /// class's seeds were made from) and its prompt.
    fn prepare(&mut self, class: &str, prompt: &str, images: &Tensor) -> Result<()>;
    /// Refine one seed of the class prepared last.
    fn refine(&mut self, seed: &[f64]) -> Result<(Vec<f64>, Refinement)>;
    /// How a refined seed is sampled, from the dataset's sampling `options`. A refinement that
    /// optimised each seed's image through a sampler of its own (steps, guidance) returns that
    /// sampler, so that the image written is the one it optimised: a seed refined at guidance
    /// 7.5 and sampled at 1 gives another image altogether. The default keeps `options`.
    fn render_options(&self, options: SampleOptions) -> SampleOptions {
        options
    }
}
