//! # nao
//!
//! Facade crate of the nao workspace: norm-aware optimisation (NAO, Samuel et al., NeurIPS 2023)
//! for the latent seed space of diffusion models. Each part is also its own crate; the facade
//! re-exports them behind features, as burn's does:
//!
//! | module | crate | feature | what |
//! |---|---|---|---|
//! | [`prior`] | `nao-prior` | `geometry` (default) | the χ distribution of Gaussian seed norms |
//! | [`geodesic`] | `nao-geodesic` | `geometry` | paths: LERP, SLERP, NLERP, NAO geodesics |
//! | [`centroid`] | `nao-centroid` | `geometry` | centroids of seeds (Euclidean, spherical, NAO, …) |
//! | `backend` | `nao-backend` | `diffusion` | the `Backend` trait every model implements |
//! | `sampling` | `nao-sampling` | `diffusion` | diffusers-exact DDIM sampling |
//! | `inversion` | `nao-inversion` | `diffusion` | diffusers-exact DDIM inversion, image loading |
//! | `models` | `nao-models` | `models` (+ `wgpu`, `tch`, `onnx`) | opening models on devices |
//! | `embedded` | `nao-burn` | `models` | the embedded Fashion-MNIST model: its classifier, bundled images |
//! | `augment` | `nao-augment` | `augment` | datasets from a few real images, and their evaluation |
//! | `metrics` | `nao-metrics` | `augment`, `sweep` | Fréchet distance, precision/recall, classifiers |
//! | `sweep` | `nao-sweep` | `sweep` | the mechanism measured: quality against the seed norm, NAO across samplers |
//! | `select` | `nao-select` | `select` | SeedSelect: seeds refined through a differentiable sampler |
//! | `demo` | `nao-demo` | `demo` | `nao demo` as a library: interpolation, rare-concept centroids, seed norms |
//! | `walk` | `nao-walk` | `walk` | animations along NAO paths, evenly paced, resumable |
//! | `video` | `nao-video` | `walk` | GIF, APNG (and MP4) writers |
//! | `viz` | `nao-viz` | `viz` | decoded images as PNG, grids, plots |
//!
//! `full` turns on everything that runs on the CPU; the runnable `examples/` use it
//! (`cargo run --release --features full --example centroid_of_two_images`).
#![warn(missing_docs)]
#![forbid(unsafe_code)]

#[cfg(feature = "augment")]
pub use nao_augment as augment;
#[cfg(feature = "diffusion")]
pub use nao_backend as backend;
#[cfg(feature = "models")]
pub use nao_burn as embedded;
#[cfg(feature = "geometry")]
pub use nao_centroid as centroid;
#[cfg(feature = "demo")]
pub use nao_demo as demo;
#[cfg(feature = "geometry")]
pub use nao_geodesic as geodesic;
#[cfg(feature = "diffusion")]
pub use nao_inversion as inversion;
#[cfg(any(feature = "augment", feature = "sweep"))]
pub use nao_metrics as metrics;
#[cfg(feature = "models")]
pub use nao_models as models;
#[cfg(feature = "geometry")]
pub use nao_prior as prior;
#[cfg(feature = "diffusion")]
pub use nao_sampling as sampling;
#[cfg(feature = "select")]
pub use nao_select as select;
#[cfg(feature = "sweep")]
pub use nao_sweep as sweep;
#[cfg(feature = "walk")]
pub use nao_video as video;
#[cfg(feature = "viz")]
pub use nao_viz as viz;
#[cfg(feature = "walk")]
pub use nao_walk as walk;
