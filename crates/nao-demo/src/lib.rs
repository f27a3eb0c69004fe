//! # nao-demo — what NAO is for, shown with real images
//!
//! `nao demo`, the main job, as a library. On the embedded Fashion-MNIST model (on any device
//! it opens on, scored by its burn classifier):
//!
//! 1. **interpolation** between two inverted real images by LERP, SLERP and NAO: a labelled
//!    grid, the NAO path as a GIF, and per path the frames' norms, log χ, NAO cost and
//!    classifier accuracy;
//! 2. **rare concepts**: per class the model saw only 60 times, groups of inverted real images,
//!    their centroid by every [`SeedMethod`](nao_augment::SeedMethod) and the paths from it to
//!    each inverted seed ([`nao_augment::method_seeds`]), plus NAO's seeds refined by
//!    SeedSelect; each method's images sampled and scored with `nao eval`'s measures
//!    ([`nao_metrics::measure`]) against the class's bundled real images, random seeds with
//!    the class prompt alone as the baseline;
//! 3. **norms**: the χ density with the norm of every kind of seed on it;
//! 4. the [`Report`]: JSON, Markdown, and the table with a verdict per class.
//!
//! [`run`] returns every file's bytes ([`Demo::files`]); it writes nothing, so the caller
//! decides where and how (`nao demo` stages them and renames them into place at the end).
//! Settings are checked first ([`DemoSpec::check`]); progress and cancellation go through one
//! callback ([`Event`]); errors are [`DemoError`]s.
//!
//! ```no_run
//! use nao_burn::{BurnModel, Device};
//!
//! let classifier = BurnModel::embedded(&Device::flex())?;
//! let spec = nao_demo::DemoSpec::new(true); // as `nao demo --quick`
//! let demo = nao_demo::run(&classifier, &classifier, &spec, &mut nao_demo::quiet)?;
//! println!("{}", demo.report.table());
//! for (path, bytes) in &demo.files {
//!     println!("{}: {} bytes", path.display(), bytes.len());
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod engine;
mod error;
mod interpolation;
mod pictures;
mod progress;
mod rare;
mod report;
mod spec;

use std::cell::Cell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use nao_backend::Backend;
use nao_burn::{BurnModel, CLASS_NAMES, CLASS_SLUGS, RARE_CLASSES};
use nao_prior::ChiPrior;

pub use error::{DemoError, Result};
pub use interpolation::{InterpolationMethod, InterpolationReport};
pub use progress::{quiet, Event, Progress};
pub use rare::{method_keys, MethodScore, NAO_SEEDSELECT};
pub use report::{ModelSummary, NormSummary, Report, Settings};
pub use spec::{DemoSpec, IMAGES_PER_GROUP, SNEAKER};

/// What the demo made: its report, and every file (pictures, `report.json`, `report.md`) as
/// the path in [`DemoSpec::out`] it is meant for and its bytes.
#[derive(Debug)]
pub struct Demo {
    /// Everything measured.
    pub report: Report,
    /// The files, in the order they were made; `report.json` and `report.md` last.
    pub files: Vec<(PathBuf, Vec<u8>)>,
}

/// Run the demo of `spec` with `model` (the embedded model on any device: burn, or its ONNX
/// export) and `classifier` (the embedded model on burn, which scores every image and
/// refines seeds with SeedSelect), reporting to `progress`.
pub fn run(
    model: &dyn Backend,
    classifier: &BurnModel,
    spec: &DemoSpec,
    progress: &mut Progress<'_>,
) -> Result<Demo> {
    let started = Instant::now();
    let scheduler_name = spec.check()?;
    let info = model.info();
    if info.default_image_size != (nao_burn::IMAGE_SIDE, nao_burn::IMAGE_SIDE) {
        return Err(DemoError::input(format!(
            "the demo runs the embedded Fashion-MNIST model ({0}×{0} images); {1} makes {2}×{3}",
            nao_burn::IMAGE_SIDE,
            info.name,
            info.default_image_size.0,
            info.default_image_size.1
        )));
    }
    let d = classifier.latent_dim();
    let chi = ChiPrior::new(d).map_err(|e| DemoError::compute("χ prior", e))?;
    let engine = engine::Engine {
        model,
        classifier,
        steps: spec.steps,
        guidance: spec.guidance,
        scheduler: spec.scheduler,
        chi,
        done: Cell::new(0),
        total: spec.model_batches(),
    };
    let mut files = Vec::new();
    let out = |name: &str| spec.out.join(name);

    // 1. Interpolation.
    let class = spec.interpolation_class;
    let frames = spec.frames();
    let (interpolation, rows, lerp_mid) =
        interpolation::run(&engine, class, [0, 1], frames, progress)?;
    let title = format!(
        "{}: two real test images inverted, {frames} frames; caption = seed norm (chi mode {:.2})",
        CLASS_NAMES[class],
        engine.chi.mode()
    );
    files.push((out("interpolation.png"), pictures::grid_png(&rows, title)?));
    let gif_path = out("interpolation-nao.gif");
    let gif = pictures::gif(&rows[rows.len() - 1], &gif_path)?;
    files.push((gif_path, gif));

    // 2. Rare concepts.
    let settings = rare::RareSettings {
        groups: spec.groups,
        per_group: IMAGES_PER_GROUP,
        interior: spec.interior(),
        seed: spec.seed,
        select: spec.select_config(),
    };
    let mut rare_concepts = BTreeMap::new();
    let mut norm_groups: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut rare_pngs = Vec::new();
    for &class in &RARE_CLASSES {
        let (scores, rows, seeds) = rare::run(&engine, class, &settings, progress)?;
        let title = format!(
            "\"{}\" (rare: 60 training images). Centroid, then path points; caption = norm, +/- = classifier",
            CLASS_NAMES[class]
        );
        let png = out(&format!("rare-{}.png", CLASS_SLUGS[class]));
        files.push((png.clone(), pictures::grid_png(&rows, title)?));
        let key = format!("rare_{}", CLASS_SLUGS[class].replace('-', "_"));
        rare_pngs.push((key, png));
        let mut add = |group: &'static str, norms: &[f64]| {
            norm_groups.entry(group).or_default().extend(norms);
        };
        add("random seeds", &seeds.random);
        add("inverted seeds", &seeds.inverted);
        add("LERP midpoints", &seeds.lerp_mid);
        add("NAO path points", &seeds.nao_path);
        for (key, norms) in &seeds.centroids {
            add(pictures::centroid_group(key), norms);
        }
        rare_concepts.insert(CLASS_NAMES[class].to_string(), scores);
    }
    norm_groups
        .entry("LERP midpoints")
        .or_default()
        .push(nao_prior::norm(&lerp_mid));

    // 3. Norm picture.
    let norms_png = out("norms.png");
    files.push((
        norms_png.clone(),
        pictures::norms_png(&engine.chi, d, &norm_groups)?,
    ));

    // 4. Reports.
    let report = Report {
        model: ModelSummary {
            name: info.name.clone(),
            device: spec.device.clone(),
            dim: d,
            chi_mode: engine.chi.mode(),
            scaling_factor: classifier.card().scaling_factor,
            rare_classes: RARE_CLASSES
                .iter()
                .map(|&c| CLASS_NAMES[c].to_string())
                .collect(),
        },
        settings: Settings {
            seed: spec.seed,
            quick: spec.quick,
            steps: spec.steps,
            scheduler: scheduler_name,
            guidance: spec.guidance,
            groups: spec.groups,
            images_per_group: IMAGES_PER_GROUP,
            interior_points_per_path: spec.interior(),
        },
        rare_concepts,
        interpolation,
        norms: pictures::NORM_GROUPS
            .iter()
            .filter_map(|(n, _)| {
                let summary = |v: &Vec<f64>| NormSummary::of(v, &engine.chi);
                norm_groups.get(n).map(|v| (n.to_string(), summary(v)))
            })
            .collect(),
        files: [
            ("interpolation".to_string(), out("interpolation.png")),
            (
                "interpolation_nao_gif".to_string(),
                out("interpolation-nao.gif"),
            ),
            ("norms".to_string(), norms_png),
        ]
        .into_iter()
        .chain(rare_pngs)
        .map(|(k, p)| (k, p.display().to_string()))
        .collect(),
        seconds: started.elapsed().as_secs_f64(),
    };
    files.push((out("report.json"), report.json()?.into_bytes()));
    files.push((out("report.md"), report.markdown().into_bytes()));
    Ok(Demo { report, files })
}
