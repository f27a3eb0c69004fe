//! # nao-sampling — DDIM sampling and inversion over any [`nao_backend::Backend`]
//!
//! NAO walks between seeds; this crate turns seeds into images (DDIM sampling) and provides
//! the inverse scheduler that turns images back into seeds (used by `nao-inversion`). The math
//! is diffusers', reproduced to the float32 bit where diffusers works in float32:
//!
//! - [`DdimScheduler`]: diffusers' `DDIMScheduler` — linear / scaled_linear /
//!   squaredcos_cap_v2 / trained βs, zero-terminal-SNR rescaling, leading / trailing / linspace
//!   timesteps with `steps_offset`, ε / v / x₀ prediction, `clip_sample`, η ≥ 0;
//! - [`DdimInverseScheduler`]: diffusers' `DDIMInverseScheduler`;
//! - [`sample`]: the `StableDiffusionPipeline` loop with classifier-free guidance
//!   ([`GuidedPredictor`]), a batch of seeds, per-step progress and cancellation, configured by
//!   [`SampleOptions`].
//!
//! ```
//! use nao_backend::SchedulerConfig;
//! use nao_sampling::DdimScheduler;
//! // Stable Diffusion 1.x's scheduler.
//! let sd1 = SchedulerConfig::from_json(
//!     r#"{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
//!         "steps_offset": 1, "set_alpha_to_one": false, "clip_sample": false}"#,
//! ).unwrap();
//! let s = DdimScheduler::new(sd1).unwrap();
//! assert_eq!(s.alphas_cumprod()[999], 0.00466009508818388);
//! ```
//!
//! The formulas, and what is verified against diffusers to which tolerance, are in
//! `docs/pipeline.md`.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod ddim;
mod error;
mod pipeline;
mod schedule;

pub use ddim::{DdimInverseScheduler, DdimScheduler, StepOutput};
pub use error::SamplingError;
pub use pipeline::{
    check_guidance, check_latents, encode_prompt, no_progress, sample, Direction, GuidedPredictor,
    SampleOptions, StepProgress, VarianceNoise, MAX_GUIDANCE, MAX_STEPS,
};
pub use schedule::check_step_count;
