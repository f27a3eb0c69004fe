//! [`InversionMethod`]: which inversion turns clean latents into seeds, by name.

use std::fmt;
use std::str::FromStr;

use crate::InversionError;

/// Fixed-point iterations per step when `fixed-point` is given without a count.
pub const DEFAULT_FIXED_POINT_ITERATIONS: usize = 2;

/// The most fixed-point iterations per step: each costs one more network call per step (50
/// steps × 21 calls is already 21 times DDIM inversion), and on the models measured in
/// `docs/inversion.md` the implicit equation's residual stops shrinking after a few.
pub const MAX_FIXED_POINT_ITERATIONS: usize = 20;

/// EDICT's mixing weight p (Wallace et al. 2023 use 0.93).
pub const DEFAULT_EDICT_MIX: f64 = 0.93;

/// The smallest EDICT mixing weight taken: each inverse step divides by p twice, so float
/// rounding grows by up to (1/p)² per step; below ½ that loses the exactness EDICT is for.
pub const MIN_EDICT_MIX: f64 = 0.5;

/// How clean latents are inverted into seeds.
///
/// | name | what | network calls per step |
/// |---|---|---|
/// | `ddim` | diffusers' `DDIMInverseScheduler` (the default) | 1 |
/// | `fixed-point[:K][:average]` | DDIM's step, then `K` fixed-point iterations of its implicit equation | 1 + K |
/// | `edict[:P]` | EDICT's coupled sequences, mixing weight `P` (0.93), exact | 2 |
/// | `dpm++2m` | diffusers' `DPMSolverMultistepInverseScheduler` (DPM-Solver++ 2M) | 1 |
///
/// A DDIM inversion step from `z_s` evaluates the noise prediction at the known `z_s`; the
/// sampler's step it should undo evaluates it at the unknown `z_t`. `fixed-point` solves
/// `z_t = f(z_t)`, `f(z) = inverse_step(z_s, ε(z, t))`, starting from DDIM's `z_t`: each
/// iteration is one network call. With `average` (ReNoise-style, Garibi et al. 2024) the final
/// `z_t` is the inverse step with the mean of the `K` iterations' predictions instead of the
/// last one's, which damps oscillating iterates.
///
/// `edict` (Wallace et al. 2023) carries two sequences `x`, `y` that cross-evaluate the
/// network and mix with weight `P`; its inverse undoes its sampler exactly, up to float
/// rounding, at two network calls per step. Its seed is the pair `(x_T, y_T)` and only the
/// EDICT sampler ([`crate::sample_inverted`]) reproduces the image from it; `x_T` alone is
/// also a seed for DDIM sampling, without the exactness.
///
/// `dpm++2m` is diffusers' inverse DPM-Solver++ (second-order multistep, midpoint, the model's
/// scheduler config as `DPMSolverMultistepInverseScheduler.from_config` reads it): like DDIM it
/// evaluates the network at the known latents, one call per step, but its second-order update
/// reuses the previous step's prediction. Its seeds are sampled back with DPM-Solver++ 2M, the
/// sampler it mirrors ([`InversionMethod::sampling_scheduler`]).
///
/// ```
/// use nao_inversion::InversionMethod;
/// let m: InversionMethod = "fixed-point:4:average".parse()?;
/// assert_eq!(m, InversionMethod::FixedPoint { iterations: 4, average: true });
/// assert_eq!((m.name(), m.model_calls_per_step()), ("fixed-point:4:average".to_string(), 5));
/// assert_eq!("edict".parse::<InversionMethod>()?.name(), "edict:0.93");
/// assert_eq!("dpm++2m".parse::<InversionMethod>()?, InversionMethod::DpmSolver);
/// let e = "fixed-point:0".parse::<InversionMethod>().unwrap_err().to_string();
/// assert!(e.contains("fixed-point:0") && e.contains("at least 1"), "{e}");
/// # Ok::<(), nao_inversion::InversionError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum InversionMethod {
    /// diffusers' DDIM inversion.
    #[default]
    Ddim,
    /// DDIM's step followed by `iterations` fixed-point iterations of each step's implicit
    /// equation, optionally averaging the iterations' predictions.
    FixedPoint {
        /// Iterations per step, 1 to [`MAX_FIXED_POINT_ITERATIONS`].
        iterations: usize,
        /// Whether the final step uses the mean prediction of the iterations.
        average: bool,
    },
    /// EDICT: exact inversion by two coupled sequences.
    Edict {
        /// The mixing weight p, [`MIN_EDICT_MIX`] to 1.
        mix: f64,
    },
    /// diffusers' inverse DPM-Solver++ 2M (`DPMSolverMultistepInverseScheduler`).
    DpmSolver,
}

impl InversionMethod {
    /// The fixed-point method with `iterations` per step, no averaging.
    pub fn fixed_point(iterations: usize) -> Self {
        Self::FixedPoint {
            iterations,
            average: false,
        }
    }

    /// EDICT with the paper's mixing weight 0.93.
    pub fn edict() -> Self {
        Self::Edict {
            mix: DEFAULT_EDICT_MIX,
        }
    }

    /// The name that parses back to this method, with every parameter spelled out
    /// (`fixed-point:2`, `edict:0.93`): what caches and dataset configurations record.
    pub fn name(&self) -> String {
        match *self {
            Self::Ddim => "ddim".into(),
            Self::FixedPoint {
                iterations,
                average,
            } => format!(
                "fixed-point:{iterations}{}",
                if average { ":average" } else { "" }
            ),
            Self::Edict { mix } => format!("edict:{mix}"),
            Self::DpmSolver => "dpm++2m".into(),
        }
    }

    /// Network calls per inversion step (a guided call, with its doubled batch, counts once).
    pub fn model_calls_per_step(&self) -> usize {
        match *self {
            Self::Ddim | Self::DpmSolver => 1,
            Self::FixedPoint { iterations, .. } => 1 + iterations,
            Self::Edict { .. } => 2,
        }
    }

    /// Network calls per step of sampling the seed back with the sampler that inverts this
    /// method exactly or approximately: 2 for EDICT's sampler, 1 for DDIM.
    pub fn sampling_calls_per_step(&self) -> usize {
        match self {
            Self::Edict { .. } => 2,
            _ => 1,
        }
    }

    /// The sampler that takes this method's seeds back when none is chosen: DPM-Solver++ 2M
    /// for `dpm++2m` (the sampler its inverse mirrors), `None` (the caller's or the model's
    /// own; EDICT's pair has its own sampler) for the others.
    pub fn sampling_scheduler(&self) -> Option<nao_sampling::SchedulerChoice> {
        match self {
            Self::DpmSolver => Some(nao_sampling::SchedulerChoice::new(
                nao_sampling::SchedulerKind::DpmSolverMultistep,
            )),
            _ => None,
        }
    }

    /// Whether the seed is a pair that only the EDICT sampler turns back into the image.
    pub fn is_edict(&self) -> bool {
        matches!(self, Self::Edict { .. })
    }

    /// Check the parameters (a method built in code rather than parsed).
    pub fn check(&self) -> Result<(), InversionError> {
        let bad = |reason: String| InversionError::InvalidMethod {
            value: self.name(),
            reason,
        };
        match *self {
            Self::Ddim | Self::DpmSolver => Ok(()),
            Self::FixedPoint { iterations, .. } => {
                if iterations == 0 {
                    Err(bad(
                        "give at least 1 fixed-point iteration per step (ddim is the \
                             method without any)"
                            .into(),
                    ))
                } else if iterations > MAX_FIXED_POINT_ITERATIONS {
                    Err(bad(format!(
                        "at most {MAX_FIXED_POINT_ITERATIONS} fixed-point iterations per step \
                         (each is one more network call per step)"
                    )))
                } else {
                    Ok(())
                }
            }
            Self::Edict { mix } => {
                if mix.is_finite() && (MIN_EDICT_MIX..=1.0).contains(&mix) {
                    Ok(())
                } else {
                    Err(bad(format!(
                        "the EDICT mixing weight must be a number from {MIN_EDICT_MIX} to 1 \
                         (the paper's is {DEFAULT_EDICT_MIX})"
                    )))
                }
            }
        }
    }
}

impl fmt::Display for InversionMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

impl FromStr for InversionMethod {
    type Err = InversionError;

    /// `ddim`, `fixed-point`, `fixed-point:K`, `fixed-point:K:average`,
    /// `fixed-point:average`, `edict`, `edict:P`, `dpm++2m`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| InversionError::InvalidMethod {
            value: s.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = s.split(':');
        let method =
            match parts.next().unwrap_or("") {
                "ddim" => Self::Ddim,
                "dpm++2m" => Self::DpmSolver,
                "fixed-point" => {
                    let mut iterations = None;
                    let mut average = false;
                    for part in parts.by_ref() {
                        match part {
                            "average" if !average => average = true,
                            _ if iterations.is_none() && !average => {
                                iterations = Some(part.parse::<usize>().map_err(|_| {
                                    bad("the fixed-point iteration count K must be a whole number \
                                     (fixed-point:K or fixed-point:K:average)")
                                })?);
                            }
                            _ => {
                                return Err(bad("write fixed-point, fixed-point:K, \
                                            fixed-point:K:average or fixed-point:average"))
                            }
                        }
                    }
                    Self::FixedPoint {
                        iterations: iterations.unwrap_or(DEFAULT_FIXED_POINT_ITERATIONS),
                        average,
                    }
                }
                "edict" => {
                    let mix = match parts.next() {
                    None => DEFAULT_EDICT_MIX,
                    Some(p) => p.parse::<f64>().map_err(|_| {
                        bad("the EDICT mixing weight P must be a number (edict:P, e.g. edict:0.93)")
                    })?,
                };
                    Self::Edict { mix }
                }
                _ => return Err(bad(
                    "not an inversion method: give ddim, fixed-point[:K][:average], edict[:P] or \
                     dpm++2m",
                )),
            };
        if parts.next().is_some() {
            return Err(bad("too many ':' parts"));
        }
        method.check().map_err(|e| match e {
            InversionError::InvalidMethod { reason, .. } => InversionError::InvalidMethod {
                value: s.to_string(),
                reason,
            },
            other => other,
        })?;
        Ok(method)
    }
}
