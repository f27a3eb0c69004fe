//! # nao-walk — animations through images and seeds along NAO paths
//!
//! A walk goes through keyframes — seeds, and real images inverted with the model — along
//! paths between consecutive ones (the exact NAO geodesic, or a baseline: SLERP, LERP, NLERP,
//! Gaussian), optionally back to the first (a loop), or around a single keyframe (an
//! [`Orbit`]). Its frames are placed along the [`Route`] evenly in seed space, in NAO cost, or
//! so that consecutive *images* change by equal amounts ([`perceptual`] placement, measured
//! and refined), with [`Ease`]d segments and held keyframes ([`pacing`]); every frame's seed is
//! DDIM-sampled by the model ([`ModelFrames`]) and cached in a content-keyed work folder
//! ([`WorkDir`]), so that a walk killed halfway resumes where it stopped. The frames are then
//! played, one in memory at a time, into a GIF, APNG or MP4 ([`nao_video`]) or a folder of
//! PNGs, with per-frame statistics ([`FrameStats`]) and their [`plot`].
//!
//! - **Library first**: one call per step — [`Walk::plan`] (no model, no files),
//!   [`Walk::render`] (the model's work), [`Rendered::encode`] / [`Rendered::frames_dir`]
//!   (outputs), [`Rendered::report`], [`Rendered::finish`] — or [`Walk::run`] for all of them;
//!   progress and cancellation through one callback ([`Event`]), errors as [`WalkError`].
//! - **Device-free**: the crate works over the [`nao_backend::Backend`] trait; placement and
//!   playing work over any [`FrameSource`], so a synthetic source tests them without a model.
//!
//! `nao walk` (docs/walk.md) is this crate behind a command line.
//!
//! ## A walk from Rust
//!
//! Two real sneakers of the embedded model's bundled test images, inverted and joined by the
//! NAO geodesic, as a GIF in memory:
//!
//! ```
//! use nao_walk::{quiet, Keyframe, ModelId, Output, Walk, WalkSpec, WalkSpacing};
//! use nao_video::VideoFormat;
//!
//! // two real sneakers, [1, 1, 28, 28] in [−1, 1] as the model sees them
//! let sneakers = nao_burn::bundled_images(7)?;
//! let image = |i: usize| Keyframe::Image {
//!     source: format!("sneaker {i}"),
//!     pixels: nao_backend::Tensor::new(vec![1, 1, 28, 28], sneakers.data[i * 784..(i + 1) * 784].to_vec()).unwrap(),
//! };
//!
//! let work = tempfile::tempdir()?;
//! let mut spec = WalkSpec::new("sneaker", work.path().join("cache"));
//! spec.steps = 5; // DDIM steps of the inversion and of every frame
//! spec.guidance = 1.0; // the inverted keyframes come back as their reconstructions
//! spec.frames = Some(6);
//! spec.spacing = WalkSpacing::Perceptual; // equal image change between frames
//! spec.refine = 1;
//! let walk = Walk::plan(spec, vec![image(0), image(3)])?; // checks everything, reads nothing
//!
//! let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
//! let id = ModelId::new("embedded", "the embedded model on the CPU");
//! let mut gif = Vec::new();
//! let report = walk.run(&model, &id, Output::Video { format: VideoFormat::Gif, out: &mut gif }, &mut quiet)?;
//! assert_eq!((report.frames, report.size), (6, [28, 28]));
//! assert_eq!(&gif[..6], b"GIF89a");
//! assert_eq!(report.frame_stats[5].keyframe, Some(1)); // the walk ends on the second sneaker
//! assert!(report.pacing.passes.is_some());
//!
//! // the same walk again: every frame comes from the cache
//! let again = walk.run(&model, &id, Output::Video { format: VideoFormat::Apng, out: &mut Vec::new() }, &mut quiet)?;
//! assert_eq!((again.sampled, again.reused), (0, 6));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Seeds are keyframes too ([`Keyframe::Seed`]), and image files ([`Keyframe::ImageFile`]) are
//! read once the model says its image size. For more than one output, or a frames folder, use
//! the steps:
//!
//! ```no_run
//! # use nao_walk::{quiet, Keyframe, ModelId, Walk, WalkSpec};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
//! # let id = ModelId::new("embedded", "embedded");
//! # let keyframes = vec![Keyframe::ImageFile("a.png".into()), Keyframe::ImageFile("b.png".into())];
//! let walk = Walk::plan(WalkSpec::new("sneaker", "walk.cache"), keyframes)?;
//! let mut rendered = walk.render(&model, &id, &mut quiet)?; // every frame in the cache
//! let mut out = nao_fs::Outputs::new();
//! out.claim_folder("frames".as_ref(), "--frames-dir")?;
//! let played = rendered.frames_dir(&mut out, "frames".as_ref(), &mut quiet)?;
//! let report = rendered.report(&played);
//! let picture = nao_walk::plot(&report.frame_stats, report.chi_mode, "a walk")?;
//! out.commit()?;
//! rendered.finish()?;
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod change;
mod ease;
mod error;
mod invert;
mod keyframe;
mod model;
pub mod pacing;
pub mod perceptual;
mod play;
mod progress;
mod route;
mod source;
mod spec;
mod stats;
mod walk;
mod workdir;

pub use change::{Thumbnail, THUMBNAIL_SIDE};
pub use ease::Ease;
pub use error::{Result, WalkError};
pub use keyframe::Keyframe;
pub use model::{ModelFrames, ModelId};
pub use pacing::{unevenness, Counts, PlannedFrame};
pub use perceptual::{Pass, Placement};
pub use play::{Play, Played};
pub use progress::{quiet, Event, Progress};
pub use route::{Orbit, Route, Segment};
pub use source::FrameSource;
pub use spec::{WalkSpacing, WalkSpec, DEFAULT_SECONDS_PER_SEGMENT, MAX_PERIODS, MAX_SCALE};
pub use stats::{plot, FrameStats};
pub use walk::{KeyframeReport, Output, PacingReport, Rendered, Walk, WalkReport};
pub use workdir::{WorkDir, MANIFEST};
