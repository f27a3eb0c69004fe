//! `nao demo`: the main job. On the embedded Fashion-MNIST model, on the CPU, it shows with
//! real images what NAO is for:
//!
//! 1. interpolation between two inverted real images by LERP, SLERP and NAO (a labelled grid);
//! 2. rare concepts: centroids of inverted real images of the two classes the model saw only
//!    60 times, by every centroid method, sampled and scored by a classifier, against random
//!    seeds with the class prompt alone;
//! 3. a picture of the χ prior with the norms of every kind of seed on it;
//! 4. `report.md` and `report.json`, and the table on stdout.

mod engine;
mod interpolation;
mod rare;
mod report;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use image::{DynamicImage, RgbImage};
use nao_burn::{BurnModel, CLASS_NAMES, CLASS_SLUGS, RARE_CLASSES};
use nao_prior::ChiPrior;
use nao_viz::{labelled_grid, DensityPlot, GridOptions, MarkerGroup};

use crate::error::CliError;
use crate::images::png_bytes;
use crate::output::bar;
use engine::Engine;
use nao_backend::{Device, Engine as ModelEngine};
use nao_fs::Outputs;
use nao_models::{open_burn_device, open_model, ModelSource, OpenOptions};

/// Options of `nao demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output folder for the pictures and reports.
    #[arg(long, value_name = "DIR", default_value = "nao-demo")]
    out: PathBuf,
    /// Seed of the baseline's random seeds.
    #[arg(long, value_name = "S", default_value_t = 0)]
    seed: u64,
    /// A fast run for tests: one group of images, 10 DDIM steps, fewer frames.
    #[arg(long)]
    quick: bool,
    /// DDIM steps for inversion and sampling [default: 50, 10 with --quick].
    #[arg(long, value_name = "N")]
    steps: Option<usize>,
    /// Classifier-free guidance scale for sampling (1 = the conditional model alone, which
    /// keeps DDIM inversion and sampling inverse to each other).
    #[arg(long, value_name = "G", default_value_t = 1.0)]
    guidance: f64,
    /// The sampler of every image (see `nao sample --help`; the inversion stays DDIM)
    /// [default: ddim, the embedded model's scheduler].
    #[arg(long, value_name = "NAME")]
    scheduler: Option<nao_sampling::SchedulerChoice>,
    /// Disjoint groups of 5 real images per rare class [default: 4, 1 with --quick].
    #[arg(long, value_name = "N")]
    groups: Option<usize>,
    /// Class of the interpolation example.
    #[arg(long, value_name = "CLASS", default_value = "sneaker")]
    interpolation_class: String,
    /// Where the model runs: cpu, wgpu, tch-cpu, tch-cuda[:N], cuda[:N], onnx-cpu,
    /// onnx-cuda[:N] (see `nao devices`). The classifier that scores the images runs on
    /// burn's CPU backend when the device is an ONNX Runtime one.
    #[arg(long, value_name = "DEVICE", default_value = "cpu")]
    device: Device,
}

/// Run the demo.
pub fn run(args: &DemoArgs, json: bool) -> Result<(), CliError> {
    let started = Instant::now();
    let steps = args.steps.unwrap_or(if args.quick { 10 } else { 50 });
    let groups = args.groups.unwrap_or(if args.quick { 1 } else { 4 });
    let frames = if args.quick { 5 } else { 9 };
    let interior = if args.quick { 2 } else { 3 };
    crate::model::check_steps("--steps", steps, Some(&nao_burn::scheduler_config()))?;
    let used = crate::model::sampler(
        &nao_burn::scheduler_config(),
        args.scheduler.as_ref(),
        steps,
        0.0,
    )?;
    let max_groups = nao_burn::BUNDLED_PER_CLASS / 5;
    if groups == 0 || groups > max_groups {
        return Err(CliError::input(format!(
            "--groups {groups}: give 1 to {max_groups} (disjoint groups of 5 of the {} bundled \
             images per class)",
            nao_burn::BUNDLED_PER_CLASS
        )));
    }
    if args.guidance.is_nan() || args.guidance < 1.0 {
        return Err(CliError::input(format!(
            "--guidance {} must be ≥ 1",
            args.guidance
        )));
    }
    crate::model::check_guidance("--guidance", args.guidance)?;
    let interp_class = nao_burn::class_from_prompt(&args.interpolation_class)
        .map_err(|e| CliError::input(format!("--interpolation-class: {e}")))?
        .ok_or_else(|| CliError::input("--interpolation-class must name a class"))?;
    // Every output is staged and renamed into place at the end, as in the other commands: a
    // demo that fails half-way leaves nothing behind.
    let mut staged = Outputs::new();
    staged.claim_folder(&args.out, "--out")?;

    nao_models::check_compiled(args.device).map_err(|e| CliError::input(e.to_string()))?;
    let burn_device = match args.device.engine() {
        ModelEngine::Burn => args.device,
        ModelEngine::OnnxRuntime => Device::Cpu,
    };
    let burn_device = open_burn_device(burn_device).map_err(|e| CliError::input(e.to_string()))?;
    let classifier = BurnModel::embedded(&burn_device)
        .map_err(|e| CliError::compute("loading the embedded model", e))?;
    // a burn device runs everything on one model; an ONNX Runtime device runs the export
    let onnx = match args.device.engine() {
        ModelEngine::OnnxRuntime => Some(
            open_model(
                &ModelSource::Embedded,
                Some(args.device),
                &OpenOptions::default(),
            )
            .map_err(|e| CliError::input(e.to_string()))?
            .model,
        ),
        ModelEngine::Burn => None,
    };
    let model: &dyn nao_backend::Backend = match &onnx {
        Some(m) => m.as_ref(),
        None => &classifier,
    };
    let d = classifier.latent_dim();
    let chi = ChiPrior::new(d).map_err(|e| CliError::compute("χ prior", e))?;
    // Model batches: 1 + 3 for the interpolation, per rare class 1 inversion + 7 samplings
    // (the six seed methods and NAO + SeedSelect).
    let pb = bar((4 + RARE_CLASSES.len() * 8) as u64, json, "nao demo");
    let engine = Engine {
        model,
        classifier: &classifier,
        steps,
        guidance: args.guidance,
        scheduler: args.scheduler,
        chi,
        tick: Box::new(|| pb.inc(1)),
    };

    // 1. Interpolation.
    let (interp, interp_rows, lerp_mid) =
        interpolation::run(&engine, interp_class, [0, 1], frames)?;
    let grid_options = GridOptions {
        title: Some(format!(
            "{}: two real test images inverted, {frames} frames; caption = seed norm (chi mode {:.2})",
            CLASS_NAMES[interp_class],
            engine.chi.mode()
        )),
        ..GridOptions::default()
    };
    let interp_png = args.out.join("interpolation.png");
    let img =
        labelled_grid(&interp_rows, &grid_options).map_err(|e| CliError::compute("picture", e))?;
    stage_png(&mut staged, img, &interp_png)?;
    let nao_row = &interp_rows[interp_rows.len() - 1].tiles;
    let gif_frames =
        nao_viz::tiles_to_frames(nao_row, 4).map_err(|e| CliError::compute("animation", e))?;
    let gif_path = args.out.join("interpolation-nao.gif");
    let gif = nao_viz::encode_gif(&gif_frames, 250, &gif_path)
        .map_err(|e| CliError::compute("animation", e))?;
    staged.write(&gif_path, &gif)?;

    // 2. Rare concepts.
    let settings = rare::RareSettings {
        groups,
        per_group: 5,
        interior,
        seed: args.seed,
        // SeedSelect's defaults for NAO seeds, its sampler no longer than the demo's
        select: nao_select::SelectConfig {
            steps: steps.min(20),
            ..nao_select::SelectConfig::from_nao()
        },
    };
    let mut rare_scores = BTreeMap::new();
    let mut norm_groups: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    let mut rare_pngs = Vec::new();
    for &class in &RARE_CLASSES {
        let (scores, rows, seeds) = rare::run(&engine, class, &settings)?;
        let png = args.out.join(format!("rare-{}.png", CLASS_SLUGS[class]));
        let options = GridOptions {
            title: Some(format!(
                "\"{}\" (rare: 60 training images). Centroid, then path points; caption = norm, +/- = classifier",
                CLASS_NAMES[class]
            )),
            ..GridOptions::default()
        };
        let img = labelled_grid(&rows, &options).map_err(|e| CliError::compute("picture", e))?;
        stage_png(&mut staged, img, &png)?;
        rare_pngs.push(png);
        norm_groups
            .entry("random seeds")
            .or_default()
            .extend(&seeds.random);
        norm_groups
            .entry("inverted seeds")
            .or_default()
            .extend(&seeds.inverted);
        norm_groups
            .entry("LERP midpoints")
            .or_default()
            .extend(&seeds.lerp_mid);
        norm_groups
            .entry("NAO path points")
            .or_default()
            .extend(&seeds.nao_path);
        for (k, v) in &seeds.centroids {
            let name: &str = match k.as_str() {
                "euclidean" => "Euclidean centroids",
                "normalized" => "normalized centroids",
                "spherical" => "spherical centroids",
                "gaussian" => "Gaussian centroids",
                _ => "NAO centroids",
            };
            norm_groups.entry(name).or_default().extend(v);
        }
        rare_scores.insert(CLASS_NAMES[class].to_string(), scores);
    }
    norm_groups
        .entry("LERP midpoints")
        .or_default()
        .push(nao_prior::norm(&lerp_mid));

    // 3. Norm picture.
    // Fixed colours: the palette has 8, and NAO's two groups share the one that stands out.
    let order: [(&str, [u8; 3]); 9] = [
        ("random seeds", [90, 90, 90]),
        ("inverted seeds", [31, 119, 180]),
        ("LERP midpoints", [255, 127, 14]),
        ("Euclidean centroids", [214, 39, 40]),
        ("Gaussian centroids", [148, 103, 189]),
        ("normalized centroids", [140, 86, 75]),
        ("spherical centroids", [227, 119, 194]),
        ("NAO centroids", [44, 160, 44]),
        ("NAO path points", [23, 190, 207]),
    ];
    let mut plot = DensityPlot::new(format!(
        "chi density, d = {d}, and the norms of the demo seeds"
    ));
    plot.x_label = "seed norm".into();
    plot.height = 720;
    let mode = engine.chi.mode();
    let (lo, hi) = (0.0f64, mode * 1.35);
    plot.curve = (0..=400)
        .map(|i| {
            let r = lo + (hi - lo) * i as f64 / 400.0;
            (
                r,
                if r > 0.0 {
                    engine.chi.log_pdf(r).exp()
                } else {
                    0.0
                },
            )
        })
        .collect();
    plot.groups = order
        .iter()
        .filter_map(|(name, color)| {
            norm_groups.get(name).map(|v| MarkerGroup {
                name: name.to_string(),
                values: v.clone(),
                color: *color,
            })
        })
        .collect();
    let norms_png = args.out.join("norms.png");
    let img = plot.render().map_err(|e| CliError::compute("picture", e))?;
    stage_png(&mut staged, img, &norms_png)?;
    pb.finish_and_clear();

    // 4. Reports.
    let report = report::Report {
        model: report::ModelSummary {
            name: model.info().name.clone(),
            device: args.device.to_string(),
            dim: d,
            chi_mode: mode,
            scaling_factor: classifier.card().scaling_factor,
            rare_classes: RARE_CLASSES
                .iter()
                .map(|&c| CLASS_NAMES[c].to_string())
                .collect(),
        },
        settings: report::Settings {
            seed: args.seed,
            quick: args.quick,
            steps,
            scheduler: used.name,
            guidance: args.guidance,
            groups,
            images_per_group: 5,
            interior_points_per_path: interior,
        },
        rare_concepts: rare_scores,
        interpolation: interp,
        norms: order
            .iter()
            .filter_map(|(n, _)| {
                norm_groups
                    .get(n)
                    .map(|v| (n.to_string(), report::NormSummary::of(v, &engine.chi)))
            })
            .collect(),
        files: [
            ("interpolation", interp_png),
            (
                "interpolation_nao_gif",
                args.out.join("interpolation-nao.gif"),
            ),
            ("norms", norms_png),
            ("rare_bag", rare_pngs[0].clone()),
            ("rare_ankle_boot", rare_pngs[1].clone()),
        ]
        .into_iter()
        .map(|(k, p)| (k.to_string(), p.display().to_string()))
        .collect(),
        seconds: started.elapsed().as_secs_f64(),
    };
    report.stage(&args.out, &mut staged)?;
    staged.commit()?;
    crate::output::emit(json, &report, || {
        format!(
            "{}\npictures and reports in {}\n",
            report.table(),
            args.out.display()
        )
    })
}

/// Stage a picture as a PNG file.
fn stage_png(staged: &mut Outputs, img: RgbImage, path: &std::path::Path) -> Result<(), CliError> {
    Ok(staged.write(path, &png_bytes(&DynamicImage::ImageRgb8(img), path)?)?)
}
