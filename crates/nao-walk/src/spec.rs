//! [`WalkSpec`]: what defines a walk, checked once before any work.

use std::path::PathBuf;

use nao_geodesic::{Method, Spacing};
use nao_inversion::{InversionMethod, ResizePolicy};

use crate::{Ease, Result, WalkError};

/// The most frame periods a walk may have.
pub const MAX_PERIODS: usize = 100_000;

/// The largest [`WalkSpec::scale`].
pub const MAX_SCALE: u32 = 16;

/// Seconds per segment when neither [`WalkSpec::frames`] nor [`WalkSpec::seconds`] is given.
pub const DEFAULT_SECONDS_PER_SEGMENT: f64 = 2.0;

/// How the frames are paced along the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum WalkSpacing {
    /// Equal steps of Euclidean length in seed space.
    #[default]
    Euclidean,
    /// Equal steps of NAO cost (length weighted by −log χ of the norm).
    Nao,
    /// Equal image change between consecutive frames (measured, refined; see docs/walk.md).
    Perceptual,
}

impl WalkSpacing {
    /// The name on the command line (`euclidean`, `nao`, `perceptual`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Euclidean => "euclidean",
            Self::Nao => "nao",
            Self::Perceptual => "perceptual",
        }
    }

    /// The length positions on the route measure: NAO cost for `nao`, Euclidean arc length
    /// otherwise (perceptual pacing starts from it).
    pub fn measure(self) -> Spacing {
        match self {
            Self::Nao => Spacing::NaoDistance,
            Self::Euclidean | Self::Perceptual => Spacing::Euclidean,
        }
    }
}

/// Everything that decides a walk apart from the model and its keyframes: the path, the
/// pacing, the sampling options and the work folder. The command-line option of each field is
/// named in its documentation (and in errors).
#[derive(Debug, Clone, PartialEq)]
pub struct WalkSpec {
    /// The prompt every frame is sampled (and every image inverted) under: `--prompt`.
    pub prompt: String,
    /// The negative prompt of classifier-free guidance: `--negative-prompt`.
    pub negative_prompt: String,
    /// Classifier-free guidance scale of the sampling (inversion runs without): `--guidance`.
    pub guidance: f64,
    /// Steps, of the inversion (DDIM) and of the sampling: `--steps`.
    pub steps: usize,
    /// The sampler of the frames (`None`: the model's own scheduler class): `--scheduler`.
    /// Keyframe images are inverted with DDIM whatever it is.
    pub scheduler: Option<nao_sampling::SchedulerChoice>,
    /// How an image keyframe of another size than the model's is brought to it: `--resize`.
    pub resize: ResizePolicy,
    /// How image keyframes are inverted: `--inversion` (DDIM). An EDICT keyframe's seed is
    /// its `x_T`, which the walk's DDIM sampler takes back approximately.
    pub inversion: InversionMethod,
    /// The path between consecutive keyframes: `--method` (not `nao-reference`, which has no
    /// points between its own). Ignored by an orbit.
    pub method: Method,
    /// Walk back from the last keyframe to the first, so the animation loops: `--loop`.
    pub closed: bool,
    /// With one keyframe and a loop: the orbit's angle ρ in radians, in (0, π/2]:
    /// `--orbit-angle`.
    pub orbit_angle: f64,
    /// With one keyframe and a loop: the seed of the orbit's random plane: `--orbit-seed`.
    pub orbit_seed: u64,
    /// Frame periods in all, held keyframes included: `--frames` (default: `fps` × 2 s per
    /// segment, or `fps × seconds`).
    pub frames: Option<usize>,
    /// Duration in seconds: `--seconds` (not with `frames`).
    pub seconds: Option<f64>,
    /// Frames per second, 1 to [`nao_video::MAX_FPS`]: `--fps`.
    pub fps: u32,
    /// How the frames are paced: `--spacing`.
    pub spacing: WalkSpacing,
    /// Easing of each segment: `--ease`.
    pub ease: Ease,
    /// Frame periods each keyframe stays on screen beyond its own: `--hold`.
    pub hold: usize,
    /// Perceptual pacing: the most re-placements of the frames after the first: `--refine`.
    pub refine: usize,
    /// Integer enlargement of every frame (nearest neighbour), 1 to [`MAX_SCALE`]: `--scale`.
    pub scale: u32,
    /// Where sampled frames and inverted keyframes are cached (see [`WorkDir`](crate::WorkDir)):
    /// `--work-dir`.
    pub work_dir: PathBuf,
    /// Whether the work folder stays once the walk is written (a folder the user chose) or is
    /// removed by [`Rendered::finish`](crate::Rendered::finish) (one nao chose).
    pub keep_work_dir: bool,
}

impl WalkSpec {
    /// The defaults of `nao walk` for `prompt`, caching in `work_dir` (kept): the NAO
    /// geodesic, Euclidean spacing, linear easing, 25 fps, 2 s per segment, 50 steps of the
    /// model's own scheduler, guidance 7.5, no hold, 2 refinements, scale 1, centre-crop, orbit
    /// angle 0.3.
    pub fn new(prompt: impl Into<String>, work_dir: impl Into<PathBuf>) -> Self {
        Self {
            prompt: prompt.into(),
            negative_prompt: String::new(),
            guidance: 7.5,
            steps: 50,
            scheduler: None,
            resize: ResizePolicy::CenterCrop,
            inversion: InversionMethod::Ddim,
            method: Method::Nao,
            closed: false,
            orbit_angle: 0.3,
            orbit_seed: 0,
            frames: None,
            seconds: None,
            fps: 25,
            spacing: WalkSpacing::Euclidean,
            ease: Ease::Linear,
            hold: 0,
            refine: 2,
            scale: 1,
            work_dir: work_dir.into(),
            keep_work_dir: true,
        }
    }

    /// Refuse values no walk can be made with (before any file is read).
    ///
    /// ```
    /// let mut spec = nao_walk::WalkSpec::new("sneaker", "work");
    /// assert!(spec.check().is_ok());
    /// spec.fps = 0;
    /// assert!(spec.check().unwrap_err().to_string().contains("--fps 0"));
    /// ```
    pub fn check(&self) -> Result<()> {
        if self.steps == 0 {
            return Err(WalkError::input("--steps 0: at least one step is needed"));
        }
        if self.steps > nao_sampling::MAX_STEPS {
            return Err(WalkError::input(format!(
                "--steps {}: at most {}",
                self.steps,
                nao_sampling::MAX_STEPS
            )));
        }
        if !(self.guidance.is_finite()
            && (0.0..=nao_sampling::MAX_GUIDANCE).contains(&self.guidance))
        {
            return Err(WalkError::input(format!(
                "--guidance {}: the guidance scale must be a number from 0 to {} (≤ 1 runs no \
                 unconditional pass)",
                self.guidance,
                nao_sampling::MAX_GUIDANCE
            )));
        }
        if let Some(n) = self.frames.filter(|&n| n > MAX_PERIODS) {
            return Err(WalkError::input(format!(
                "--frames {n}: a walk has at most {MAX_PERIODS} frame periods"
            )));
        }
        if self.hold > MAX_PERIODS {
            return Err(WalkError::input(format!(
                "--hold {}: a keyframe can be held at most {MAX_PERIODS} frame periods",
                self.hold
            )));
        }
        if self.fps == 0 || self.fps > nao_video::MAX_FPS {
            return Err(WalkError::input(format!(
                "--fps {}: the frame rate must be 1 to {}",
                self.fps,
                nao_video::MAX_FPS
            )));
        }
        if let Some(s) = self.seconds {
            if self.frames.is_some() {
                return Err(WalkError::input(
                    "--frames and --seconds: give the frame count or the duration, not both",
                ));
            }
            if !(s.is_finite() && s > 0.0) {
                return Err(WalkError::input(format!(
                    "--seconds {s}: the duration must be a positive number"
                )));
            }
            // checked before fps × seconds is rounded into a count
            if f64::from(self.fps) * s > MAX_PERIODS as f64 {
                return Err(WalkError::input(format!(
                    "--seconds {s}: at {} frames per second that is more than the \
                     {MAX_PERIODS} frame periods a walk may have",
                    self.fps
                )));
            }
        }
        if self.scale == 0 || self.scale > MAX_SCALE {
            return Err(WalkError::input(format!(
                "--scale {}: the factor must be 1 to {MAX_SCALE}",
                self.scale
            )));
        }
        if !(self.orbit_angle > 0.0 && self.orbit_angle <= std::f64::consts::FRAC_PI_2) {
            return Err(WalkError::input(format!(
                "--orbit-angle {}: the angle must be in (0, π/2] radians",
                self.orbit_angle
            )));
        }
        if self.method == Method::NaoReference {
            return Err(WalkError::input(
                "--method nao-reference: the reference optimiser has no points between its \
                 own, so a walk cannot pace it (use nao, the exact geodesic)",
            ));
        }
        Ok(())
    }

    /// The frame periods of a walk over `segments` segments: `frames`, or `fps × seconds`, or
    /// `fps` × 2 s per segment; at most [`MAX_PERIODS`].
    pub fn periods(&self, segments: usize) -> Result<usize> {
        let fps = f64::from(self.fps);
        let n = match (self.frames, self.seconds) {
            (Some(n), _) => n,
            (None, Some(s)) => (fps * s).round().min(MAX_PERIODS as f64 + 1.0) as usize,
            (None, None) => (fps * DEFAULT_SECONDS_PER_SEGMENT * segments as f64).round() as usize,
        };
        if n > MAX_PERIODS {
            return Err(WalkError::input(format!(
                "{n} frame periods: a walk has at most {MAX_PERIODS}"
            )));
        }
        Ok(n)
    }

    /// The guidance-free options images are inverted with (as the NAO paper inverts), with
    /// the chosen method.
    pub(crate) fn inversion_options(&self) -> nao_inversion::InversionOptions {
        nao_inversion::InversionOptions::default()
            .with_steps(self.steps)
            .with_method(self.inversion)
    }

    /// The options frames are sampled with (η = 0: a seed always gives the same frame).
    pub(crate) fn sample_options(&self) -> nao_sampling::SampleOptions {
        let o = nao_sampling::SampleOptions::default()
            .with_steps(self.steps)
            .with_guidance_scale(self.guidance)
            .with_negative_prompt(self.negative_prompt.clone());
        match self.scheduler {
            Some(c) => o.with_scheduler(c),
            None => o,
        }
    }
}
