//! # nao-augment — datasets from a few real images per class, and what they are worth
//!
//! [`Augment`] turns a few real images of each class (an [`ImageFolder`]: `REAL_DIR/<class>/`)
//! into a dataset of new images per class: it inverts each class's images into seeds (DDIM),
//! takes their centroid by a [`SeedMethod`] (NAO, or a baseline) and the points on the paths
//! from the centroid to each seed, and samples [`AugmentSpec::per_class`] images from those
//! points into `OUT_DIR/<class>/<index>.png`, with one [`ManifestLine`] per image.
//!
//! - **Deterministic**: image `i` of class `c` depends only on (configuration, `c`, `i`)
//!   ([`image_rng_seed`], [`noise_rng_seed`]), never on the process or the order.
//! - **Resumable**: a rerun skips images whose manifest line and file hash are present; an
//!   image file is committed whole before its line is appended, so a killed run loses at most
//!   the image in flight. `OUT_DIR/run.json` records the configuration ([`Config`]); another
//!   configuration in the same folder is refused, naming the fields.
//! - **Sharded**: a [`Shard`] does one part; each shard appends to its own locked manifest;
//!   [`merge`] checks that every image is there and writes `manifest.jsonl`, which [`Dataset`]
//!   reads back.
//! - **Class seeds computed once**: the first process that finds a class's points missing
//!   from `OUT_DIR/seeds/` computes them under an exclusive lock on the folder (the others
//!   wait, then read them, [`read_class_seeds`]).
//! - **Library first**: progress and cancellation through one callback ([`Event`]), errors as
//!   [`AugmentError`].
//!
//! [`evaluate`] measures generated sets against real images with any
//! [`nao_metrics::FeatureClassifier`] ([`EvalReport`]: `eval.json`, `eval.md`, `eval.png`).
//!
//! ## Generating a dataset from Rust
//!
//! ```
//! use nao_augment::{quiet, Augment, AugmentSpec, ModelId, Runtime, SeedMethod, Shard};
//!
//! // a few real images per class, in the ImageFolder layout
//! let dir = tempfile::tempdir()?;
//! let real = dir.path().join("real");
//! std::fs::create_dir_all(real.join("bag"))?;
//! let bags = nao_burn::bundled_images(8)?; // real bags, [20, 1, 28, 28] in [−1, 1]
//! for i in 0..3 {
//!     let pixels: Vec<f32> = bags.data[i * 784..(i + 1) * 784].iter().map(|v| (v + 1.0) / 2.0).collect();
//!     let png = nao_viz::png_bytes(&nao_viz::decoded_image(&pixels, 1, 28, 28)?)?;
//!     std::fs::write(real.join("bag").join(format!("{i}.png")), png)?;
//! }
//!
//! let mut spec = AugmentSpec::new(&real, dir.path().join("out"));
//! spec.method = SeedMethod::Nao;
//! spec.per_class = 4;
//! spec.steps = 5;
//! let model = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
//! let id = ModelId::new("embedded", "the embedded model's weights");
//! let job = Augment::plan(spec, id, Shard::WHOLE)?; // checks everything, writes nothing
//! let runtime = Runtime { kind: "the embedded model".into(), device: "cpu".into() };
//! let outcome = job.run(&model, &runtime, &mut quiet)?;
//! assert_eq!((outcome.made, outcome.images_total), (4, 4));
//!
//! // the dataset, read back
//! let dataset = nao_augment::Dataset::open(&dir.path().join("out"))?;
//! assert_eq!(dataset.method(), "nao");
//! assert_eq!(dataset.images()?.len(), 4);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod config;
mod dataset;
mod draw;
mod error;
mod eval;
mod eval_report;
mod folder;
mod generate;
mod job;
mod manifest;
mod merge;
mod method;
mod points;
mod progress;
mod real;
mod refine;
mod seeds;
mod shard;
mod source;
mod spec;

pub use config::{
    differences, read_run_file, Config, ModelRecord, RunFile, SeedsHash, FORMAT, RUN_FILE,
};
pub use dataset::{Dataset, DatasetImage};
pub use draw::{image_rng_seed, noise_rng_seed, ClassPool, Drawn};
pub use error::{AugmentError, Result};
pub use eval::{evaluate, EvalReport, EvalSpec, MethodReport, MAX_K};
pub use eval_report::fixed_or_dash;
pub use folder::{is_image_name, ImageClass, ImageFile, ImageFolder, IMAGE_EXTENSIONS};
pub use generate::relative_file;
pub use job::{Augment, ModelId, Outcome, Runtime};
pub use manifest::{read_manifest, ManifestContent, ManifestLine, ReadLine, SeedSource, MERGED};
pub use merge::{merge, Merged};
pub use method::SeedMethod;
pub use points::{centroid_points, method_seeds, path_positions, CentroidPoints, MethodSeeds};
pub use progress::{quiet, Event, Progress};
pub use real::{fingerprint, RealClass, RealImage, MAX_IMAGE_BYTES};
pub use refine::{Refinement, Refiner};
pub use seeds::{
    read_class_seeds, ClassSeeds, ImageRecord, PointRecord, SeedsRecord, SkippedImage, SEEDS_DIR,
};
pub use shard::Shard;
pub use source::{SourceKind, SourceMix};
pub use spec::{AugmentSpec, MAX_IMAGES, MAX_PATH_POSITIONS, MAX_PER_CLASS, MAX_STEPS};
