//! # nao-sampling — sampling and inversion over any [`nao_backend::Backend`]
//!
//! NAO walks between seeds; this crate turns seeds into images (sampling) and provides the
//! inverse scheduler that turns images back into seeds (used by `nao-inversion`). The math is
//! diffusers' 0.42.1, operation by operation in float32 where diffusers works in float32:
//!
//! - [`DdimScheduler`]: diffusers' `DDIMScheduler` — linear / scaled_linear /
//!   squaredcos_cap_v2 / trained βs, zero-terminal-SNR rescaling, leading / trailing / linspace
//!   timesteps with `steps_offset`, ε / v / x₀ prediction, `clip_sample`, η ≥ 0;
//! - [`DdimInverseScheduler`]: diffusers' `DDIMInverseScheduler`;
//! - the other samplers, each one file and one diffusers class, behind the [`Scheduler`]
//!   trait: [`PndmScheduler`] (PLMS, with or without the Runge–Kutta warm-up),
//!   [`EulerDiscreteScheduler`], [`EulerAncestralDiscreteScheduler`] (seeded noise),
//!   [`HeunDiscreteScheduler`], [`DpmSolverMultistepScheduler`] (DPM-Solver++ 2M, Karras σ),
//!   [`DeisMultistepScheduler`], [`UniPcMultistepScheduler`], [`LmsDiscreteScheduler`];
//!   [`new_scheduler`] builds the one a model config names (`_class_name`) or a
//!   [`SchedulerChoice`] (`--scheduler NAME`) asks for, configured as diffusers'
//!   `Class.from_config(pipe.scheduler.config)`;
//! - [`sample`]: the `StableDiffusionPipeline` loop with classifier-free guidance
//!   ([`GuidedPredictor`]), a batch of seeds, per-model-call progress and cancellation,
//!   configured by [`SampleOptions`].
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

#[macro_use]
mod grid;
mod ddim;
mod deis;
mod dpm;
mod error;
mod euler;
mod euler_ancestral;
mod heun;
mod kind;
mod lms;
mod pipeline;
mod pndm;
mod schedule;
mod scheduler;
mod sigmas;
mod unipc;

pub use ddim::{DdimInverseScheduler, DdimScheduler, StepOutput};
pub use deis::DeisMultistepScheduler;
pub use dpm::{DpmSolverMultistepInverseScheduler, DpmSolverMultistepScheduler};
pub use error::SamplingError;
pub use euler::EulerDiscreteScheduler;
pub use euler_ancestral::EulerAncestralDiscreteScheduler;
pub use heun::HeunDiscreteScheduler;
pub use kind::{SchedulerChoice, SchedulerKind, SCHEDULER_NAMES};
pub use lms::LmsDiscreteScheduler;
pub use pipeline::{
    check_guidance, check_latents, encode_prompt, no_progress, sample, Direction, GuidedPredictor,
    SampleOptions, StepProgress, VarianceNoise, MAX_GUIDANCE, MAX_STEPS,
};
pub use pndm::PndmScheduler;
pub use schedule::{check_sampling_steps, check_step_count};
pub use scheduler::{new_scheduler, Scheduler, StepNoise};
pub use unipc::UniPcMultistepScheduler;
