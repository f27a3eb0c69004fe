use nao_backend::BackendError;
use thiserror::Error;

/// Errors of the schedulers and the sampling loop.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum SamplingError {
    /// The model backend failed.
    #[error(transparent)]
    Backend(#[from] BackendError),
    /// The scheduler configuration cannot describe a diffusion process.
    #[error("invalid scheduler config: {0}")]
    InvalidConfig(String),
    /// A sampling or inversion option is out of range.
    #[error("invalid option: {0}")]
    InvalidOption(String),
    /// The scheduler does not support this timestep spacing (diffusers raises the same error).
    #[error("{scheduler} does not support the '{spacing}' timestep spacing")]
    UnsupportedSpacing {
        /// the scheduler
        scheduler: &'static str,
        /// the spacing
        spacing: &'static str,
    },
    /// A scheduler class (`_class_name` of a config, or a name given by the user) that nao does
    /// not implement.
    #[error("unknown scheduler '{0}': nao has {names}", names = crate::kind::known_names())]
    UnknownScheduler(String),
    /// A scheduler option or prediction type the scheduler (or nao's implementation of it) does
    /// not support.
    #[error("{scheduler} does not support {what}")]
    Unsupported {
        /// the scheduler class
        scheduler: &'static str,
        /// the option and its value
        what: String,
    },
    /// `step` was called before `set_timesteps`.
    #[error("set_timesteps must be called before step")]
    TimestepsNotSet,
    /// A timestep lies outside `0..num_train_timesteps`.
    #[error("timestep {timestep} is outside 0..{num_train_timesteps}")]
    TimestepOutOfRange {
        /// the timestep
        timestep: i64,
        /// training timesteps `T`
        num_train_timesteps: usize,
    },
    /// Tensors have incompatible shapes.
    #[error("shape error: {0}")]
    Shape(String),
    /// `eta > 0` needs variance noise, and none was given.
    #[error("eta = {0} > 0 needs variance noise (pass a noise tensor or use step_with_rng)")]
    MissingNoise(f64),
    /// Classifier-free guidance (`guidance_scale > 1`) needs unconditional embeddings.
    #[error(
        "guidance scale {0} > 1 needs unconditional embeddings (encode the prompt with_uncond)"
    )]
    MissingUncond(f64),
    /// The progress callback asked to stop.
    #[error("cancelled")]
    Cancelled,
}
