//! `nao walk`: an animation through several real images (inverted with the model) and seeds,
//! along NAO paths, as a GIF, an animated PNG or an MP4 — evenly paced, optionally looping,
//! and resumable (docs/walk.md).

mod change;
mod ease;
mod keyframes;
mod pacing;
mod perceptual;
mod play;
mod render;
mod report;
mod route;
mod workdir;

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use nao_backend::Backend;
use nao_fs::Outputs;
use nao_geodesic::Method;
use nao_inversion::{InversionOptions, ResizePolicy};
use nao_models::Needs;
use nao_npy::NpyArray;
use nao_sampling::SampleOptions;
use nao_video::{VideoFormat, VideoSpec};
use serde::Serialize;

use crate::error::CliError;
use crate::model::{check_steps, DdimArgs, ModelArgs};
use crate::output::{bar_eta, emit, interruption, num};
use crate::seeds::shape_text;
use ease::Ease;
use keyframes::{Input, Origin};
use render::{Renderer, Sampler};
use report::FrameStats;
use route::{Measure, Route};
use workdir::{KeyBuilder, WorkDir};

/// The `--method` names `nao walk` accepts (the reference optimiser has no points between its
/// own, so a walk cannot pace it).
const METHODS: &[&str] = &["nao", "slerp", "lerp", "nlerp", "gaussian"];

/// The most frame periods a walk may have.
const MAX_PERIODS: usize = 100_000;

/// The largest `--scale`.
const MAX_SCALE: u32 = 16;

/// Seconds per segment when neither `--frames` nor `--seconds` is given.
const DEFAULT_SECONDS_PER_SEGMENT: f64 = 2.0;

/// How the frames are paced along the route.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WalkSpacing {
    /// Equal steps of Euclidean length in seed space.
    Euclidean,
    /// Equal steps of NAO cost (length weighted by −log χ of the norm).
    Nao,
    /// Equal image change between consecutive frames (measured, refined; see docs/walk.md).
    Perceptual,
}

impl WalkSpacing {
    fn as_str(self) -> &'static str {
        match self {
            Self::Euclidean => "euclidean",
            Self::Nao => "nao",
            Self::Perceptual => "perceptual",
        }
    }
}

/// Arguments of `nao walk`.
#[derive(Debug, Args)]
pub struct WalkArgs {
    /// Keyframes, in order: images (PNG or JPEG, inverted with the model under --prompt) and
    /// .npy seeds ([c, h, w], or [n, c, h, w] for n keyframes, as `nao invert` writes them).
    /// At least two, or one with --loop (a small orbit around it).
    #[arg(required = true, value_name = "IMAGE_OR_SEED")]
    keyframes: Vec<PathBuf>,
    /// The animation, by its extension: .gif, .png or .apng (animated PNG), .mp4 (H.264;
    /// needs the Cargo feature `mp4`).
    #[arg(short, long, value_name = "WALK.gif")]
    output: Option<PathBuf>,
    /// Also (or instead of -o) write one PNG per frame period: DIR/00000.png, … (held
    /// keyframes repeated), and print the ffmpeg line that encodes them.
    #[arg(long, value_name = "DIR")]
    frames_dir: Option<PathBuf>,
    #[command(flatten)]
    model: ModelArgs,
    /// The prompt every frame is sampled (and every image inverted) under.
    #[arg(long)]
    prompt: String,
    /// DDIM options; images are inverted without guidance, as the NAO paper does.
    #[command(flatten)]
    ddim: DdimArgs,
    /// How an image keyframe of another size than the model's is brought to it.
    #[arg(long, value_enum, default_value = "center-crop")]
    resize: ResizePolicy,
    /// The path between consecutive keyframes [default: nao, the exact NAO geodesic].
    #[arg(long, value_parser = PossibleValuesParser::new(METHODS))]
    method: Option<String>,
    /// Walk back from the last keyframe to the first, so the animation loops seamlessly.
    #[arg(long = "loop")]
    closed: bool,
    /// With one keyframe and --loop: the orbit's angle ρ in radians (the walk strays up to 2ρ
    /// from the keyframe, at the keyframe's norm).
    #[arg(long, default_value_t = 0.3, value_name = "RADIANS")]
    orbit_angle: f64,
    /// With one keyframe and --loop: the seed of the orbit's random plane (ChaCha20).
    #[arg(long, default_value_t = 0, value_name = "S")]
    orbit_seed: u64,
    /// Frame periods in all, held keyframes included [default: --fps × 2 s per segment].
    #[arg(long, conflicts_with = "seconds")]
    frames: Option<usize>,
    /// Frames per second of the animation (GIF: at most 50).
    #[arg(long, default_value_t = 25)]
    fps: u32,
    /// Duration in seconds (the frame count is --fps × --seconds).
    #[arg(long)]
    seconds: Option<f64>,
    /// How the frames are paced along the walk.
    #[arg(long, value_enum, default_value = "euclidean")]
    spacing: WalkSpacing,
    /// Easing of each segment: slow starts and ends near the keyframes.
    #[arg(long, value_enum, default_value = "linear")]
    ease: Ease,
    /// Frame periods each keyframe stays on screen beyond its own.
    #[arg(long, default_value_t = 0, value_name = "K")]
    hold: usize,
    /// Perceptual pacing: the most re-placements of the frames after the first.
    #[arg(long, default_value_t = 2)]
    refine: usize,
    /// Enlarge every frame by this integer factor (nearest neighbour), e.g. for the embedded
    /// model's 28×28 images.
    #[arg(long, default_value_t = 1)]
    scale: u32,
    /// Where sampled frames are cached, so that a killed walk resumes without sampling them
    /// again (kept) [default: OUTPUT.nao-walk beside the output, removed when the walk is
    /// written].
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,
    /// Write a PNG of the per-frame norm, log χ and change from the previous frame.
    #[arg(long, value_name = "PLOT.png")]
    plot: Option<PathBuf>,
}

impl WalkArgs {
    /// The guidance scale of the sampling (7.5 unless given).
    fn guidance(&self) -> f64 {
        self.ddim.guidance.unwrap_or(7.5)
    }
}

/// One keyframe in the report.
#[derive(Debug, Serialize)]
struct KeyframeReport {
    #[serde(flatten)]
    origin: Origin,
    norm: f64,
    log_chi: f64,
}

/// How the pacing went.
#[derive(Debug, Serialize)]
struct PacingReport {
    spacing: &'static str,
    ease: &'static str,
    /// The coefficient of variation of the image change per frame, corrected for the easing
    /// (0 = perfectly even).
    unevenness: f64,
    /// Perceptual pacing: one entry per placement of the frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    passes: Option<Vec<perceptual::Pass>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    converged: Option<bool>,
}

#[derive(Debug, Serialize)]
struct WalkReport {
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    format: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    frames_dir: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    ffmpeg: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plot: Option<String>,
    /// Distinct frames.
    frames: usize,
    /// Frame periods (held keyframes count once per period).
    periods: usize,
    fps: u32,
    duration: f64,
    /// Height and width of the written frames.
    size: [usize; 2],
    keyframes: Vec<KeyframeReport>,
    method: &'static str,
    #[serde(rename = "loop")]
    closed: bool,
    hold: usize,
    pacing: PacingReport,
    model: String,
    prompt: String,
    negative_prompt: String,
    steps: usize,
    guidance: f64,
    latent_shape: [usize; 3],
    chi_mode: f64,
    /// Frames sampled by this run (perceptual pacing's probes included).
    sampled: usize,
    /// Distinct frames of the walk found in the work folder.
    reused: usize,
    work_dir: String,
    work_dir_kept: bool,
    load_seconds: f64,
    seconds: f64,
    frame_stats: Vec<FrameStats>,
}

/// Options checked before any file is read.
struct Checked {
    format: Option<VideoFormat>,
    method: Method,
    work: (PathBuf, bool),
}

fn check_options(args: &WalkArgs) -> Result<Checked, CliError> {
    args.model.check()?;
    args.ddim.check()?;
    args.ddim.guidance_or(7.5)?;
    if args.output.is_none() && args.frames_dir.is_none() {
        return Err(CliError::input(
            "nothing to write: give the animation (-o WALK.gif|.png|.mp4) or --frames-dir DIR",
        ));
    }
    let format = match &args.output {
        Some(o) => {
            let f = VideoFormat::from_path(o).map_err(|e| CliError::input(e.to_string()))?;
            if !f.is_available() {
                return Err(CliError::input(format!(
                    "{}: {} (--frames-dir DIR writes the frames and prints the ffmpeg line)",
                    o.display(),
                    nao_video::VideoError::Unavailable(f)
                )));
            }
            Some(f)
        }
        None => None,
    };
    if args.fps == 0 || args.fps > nao_video::MAX_FPS {
        return Err(CliError::input(format!(
            "--fps {}: the frame rate must be 1 to {}",
            args.fps,
            nao_video::MAX_FPS
        )));
    }
    if format == Some(VideoFormat::Gif) && args.fps > nao_video::MAX_GIF_FPS {
        return Err(CliError::input(format!(
            "--fps {}: a GIF plays at most {} frames per second (browsers play shorter delays \
             as 1/10 s); use a lower --fps or an .mp4 or .png output",
            args.fps,
            nao_video::MAX_GIF_FPS
        )));
    }
    if let Some(s) = args.seconds {
        if !(s.is_finite() && s > 0.0) {
            return Err(CliError::input(format!(
                "--seconds {s}: the duration must be a positive number"
            )));
        }
    }
    if args.scale == 0 || args.scale > MAX_SCALE {
        return Err(CliError::input(format!(
            "--scale {}: the factor must be 1 to {MAX_SCALE}",
            args.scale
        )));
    }
    if !(args.orbit_angle > 0.0 && args.orbit_angle <= std::f64::consts::FRAC_PI_2) {
        return Err(CliError::input(format!(
            "--orbit-angle {}: the angle must be in (0, π/2] radians",
            args.orbit_angle
        )));
    }
    let method: Method = args
        .method
        .as_deref()
        .unwrap_or("nao")
        .parse()
        .map_err(|e| CliError::input(format!("--method: {e}")))?;
    let work = match (&args.work_dir, &args.output, &args.frames_dir) {
        (Some(w), _, _) => (w.clone(), false),
        (None, Some(p), _) | (None, None, Some(p)) => (beside(p, ".nao-walk"), true),
        (None, None, None) => return Err(CliError::input("nothing to write")),
    };
    Ok(Checked {
        format,
        method,
        work,
    })
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "walk".into());
    path.with_file_name(format!("{name}{suffix}"))
}

/// Refuse a work folder that is, contains or lies inside an output.
fn check_work_dir(work: &Path, args: &WalkArgs) -> Result<(), CliError> {
    let w = nao_fs::normalise(work);
    let outputs = [
        ("-o/--output", &args.output),
        ("--plot", &args.plot),
        ("--frames-dir", &args.frames_dir),
    ];
    for (option, path) in outputs {
        let Some(p) = path else { continue };
        let p = nao_fs::normalise(p);
        if p.starts_with(&w) || w.starts_with(&p) {
            return Err(CliError::input(format!(
                "{}: the work folder {} and {option} overlap; give another --work-dir",
                p.display(),
                w.display()
            )));
        }
    }
    Ok(())
}

/// The frame periods of the walk.
fn periods(args: &WalkArgs, segments: usize) -> Result<usize, CliError> {
    let fps = f64::from(args.fps);
    let n = match (args.frames, args.seconds) {
        (Some(n), _) => n,
        (None, Some(s)) => (fps * s).round().min(MAX_PERIODS as f64 + 1.0) as usize,
        (None, None) => (fps * DEFAULT_SECONDS_PER_SEGMENT * segments as f64).round() as usize,
    };
    if n > MAX_PERIODS {
        return Err(CliError::input(format!(
            "{n} frame periods: a walk has at most {MAX_PERIODS}"
        )));
    }
    Ok(n)
}

/// Run `nao walk`.
pub fn run(args: &WalkArgs, json: bool) -> Result<(), CliError> {
    let checked = check_options(args)?;
    // Every output is claimed before any work.
    let mut out = Outputs::new();
    args.model.register_input(&mut out)?;
    for keyframe in &args.keyframes {
        out.input(keyframe, "IMAGE_OR_SEED")?;
    }
    if let Some(o) = &args.output {
        out.claim_file(o, "-o/--output")?;
    }
    if let Some(p) = &args.plot {
        out.claim_file(p, "--plot")?;
    }
    if let Some(d) = &args.frames_dir {
        out.claim_folder(d, "--frames-dir")?;
    }
    check_work_dir(&checked.work.0, args)?;

    // Keyframes: seed files are read and checked now, images once the model gives their size.
    let inputs = args
        .keyframes
        .iter()
        .map(|p| Input::read(p))
        .collect::<Result<Vec<_>, _>>()?;
    let count: usize = inputs.iter().map(Input::count).sum();
    if count < 2 && !args.closed {
        return Err(CliError::input(format!(
            "{} keyframe ({}): a walk needs at least two, or --loop to orbit around one",
            count,
            args.keyframes
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if count == 1 && args.method.is_some() {
        return Err(CliError::input(
            "--method: one keyframe with --loop is an orbit around it; there is no path between \
             keyframes to choose",
        ));
    }

    let segments = match (count, args.closed) {
        (1, true) => 1,
        (k, true) => k,
        (k, false) => k - 1,
    };
    let periods = periods(args, segments)?;
    let counts = pacing::counts(periods, count, segments, args.closed, args.hold)
        .map_err(|e| CliError::input(format!("--frames/--seconds/--hold: {e}")))?;

    let load_start = Instant::now();
    let backend = args.model.load(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: inputs.iter().any(Input::is_image),
            vae_decoder: true,
        },
    )?;
    let load_seconds = load_start.elapsed().as_secs_f64();
    let start = Instant::now();
    let info = backend.info().clone();
    check_steps("--steps", args.ddim.steps, Some(&info.scheduler))?;
    let latent = keyframes::latent_shape(&inputs, &args.model.name(), &info)?;
    let s = info.vae_downsample.max(1);
    let (height, width) = (latent[1] * s, latent[2] * s);
    let (out_h, out_w) = (height * args.scale as usize, width * args.scale as usize);
    if let Some(format) = checked.format {
        let frames = u32::try_from(count).unwrap_or(u32::MAX).max(1);
        VideoSpec::new(out_w as u32, out_h as u32, args.fps, frames)
            .check(format)
            .map_err(|e| {
                CliError::input(format!(
                    "{}: {e}",
                    args.output.as_deref().unwrap_or(Path::new("")).display()
                ))
            })?;
    }
    let images = keyframes::load_images(&inputs, &info, args.resize)?;
    let sample_options = SampleOptions::default()
        .with_steps(args.ddim.steps)
        .with_guidance_scale(args.guidance())
        .with_negative_prompt(args.ddim.negative_prompt.clone());
    let conditioning = nao_sampling::encode_prompt(&backend, &args.prompt, &sample_options)
        .map_err(|e| CliError::input(format!("--prompt {:?}: {e}", args.prompt)))?;

    let work = WorkDir::open(&checked.work.0, checked.work.1)?;
    let origins = keyframes::origins(&inputs);
    work.write_manifest(&manifest(args, &origins, &checked, latent))?;

    // Keyframe seeds, images inverted (or read back from the work folder).
    let identity = args.model.identity();
    let seeds = keyframe_seeds(
        args, &*backend, &inputs, images, &work, &identity, latent, json,
    )?;
    let measure = match args.spacing {
        WalkSpacing::Nao => Measure::Nao,
        WalkSpacing::Euclidean | WalkSpacing::Perceptual => Measure::Euclidean,
    };
    let route = Route::new(
        seeds,
        checked.method,
        measure,
        args.closed,
        (args.orbit_angle, args.orbit_seed),
    )?;
    debug_assert_eq!(route.segments.len(), segments);

    let key = KeyBuilder::new("frame-v1")
        .part(identity.as_bytes())
        .part(args.prompt.as_bytes())
        .part(args.ddim.negative_prompt.as_bytes())
        .part(&args.guidance().to_le_bytes())
        .part(&(args.ddim.steps as u64).to_le_bytes())
        .part(format!("{latent:?}").as_bytes());
    let sampler = Sampler {
        backend: &*backend,
        conditioning,
        options: sample_options,
        latent,
        key,
    };
    let mut renderer = Renderer::new(sampler, &work, json);

    // Where the frames go.
    let (frames, passes, converged) = match args.spacing {
        WalkSpacing::Perceptual => {
            let p = perceptual::place(
                &route,
                &mut renderer,
                counts,
                args.ease,
                args.hold,
                args.refine,
            )?;
            (p.frames, Some(p.passes), Some(p.converged))
        }
        WalkSpacing::Euclidean | WalkSpacing::Nao => {
            let lengths: Vec<f64> = (0..segments).map(|s| route.length(s)).collect();
            let intervals = pacing::allocate(&lengths, counts.intervals);
            let frames = pacing::layout(
                &intervals,
                args.ease,
                args.hold,
                args.closed,
                |s| route.segments[s].from,
                route.segments.last().map_or(0, |s| s.to),
                |_, share| share,
            );
            (frames, None, None)
        }
    };
    let positions: Vec<_> = frames.iter().map(|f| (f.segment, f.u)).collect();
    renderer.ensure(&route, &positions, "sampling the frames")?;

    // The animation, the frames folder, the plot: read back from the cache one at a time.
    let play = play::Play {
        route: &route,
        frames: &frames,
        scale: args.scale,
    };
    let mut played = None;
    if let (Some(o), Some(format)) = (&args.output, checked.format) {
        let spec = VideoSpec::new(out_w as u32, out_h as u32, args.fps, frames.len() as u32)
            .grey(renderer.grey());
        out.write_with(o, |w| -> Result<(), CliError> {
            played = Some(play.encode(&mut renderer, format, &spec, w)?);
            Ok(())
        })?;
    }
    if let Some(dir) = &args.frames_dir {
        let p = play.frames_dir(&mut renderer, &mut out, dir)?;
        played.get_or_insert(p);
    }
    let played = played.ok_or_else(|| CliError::input("nothing to write"))?;
    let steps: Vec<f64> = played
        .stats
        .iter()
        .filter_map(|s| s.image_distance)
        .chain(played.wrap)
        .collect();
    let unevenness = pacing::unevenness(&steps, &pacing::share_steps(&frames, args.closed));
    let stats = played.stats;
    let prior = route.prior();
    if let Some(p) = &args.plot {
        let title = args
            .output
            .as_deref()
            .or(args.frames_dir.as_deref())
            .unwrap_or(Path::new("walk"));
        let img = report::plot(&stats, prior.mode(), &title.display().to_string())?;
        out.write(
            p,
            &nao_viz::encode_png(&img).map_err(|e| CliError::compute("the --plot picture", e))?,
        )?;
    }
    out.commit()?;
    let reused = stats.iter().filter(|s| s.cached).count();
    let sampled = renderer.sampled();
    let kept = !work.implicit;
    let work_path = work.path.display().to_string();
    if work.implicit {
        work.remove()?;
    }

    let keyframes = origins
        .into_iter()
        .zip(route.keyframes())
        .map(|(origin, seed)| {
            let norm = nao_prior::norm(seed);
            KeyframeReport {
                origin,
                norm,
                log_chi: prior.log_pdf(norm),
            }
        })
        .collect();
    let report = WalkReport {
        output: args.output.as_ref().map(|p| p.display().to_string()),
        format: checked.format.map(|f| f.as_str()),
        bytes: args
            .output
            .as_ref()
            .and_then(|p| std::fs::metadata(p).ok())
            .map(|m| m.len()),
        frames_dir: args.frames_dir.as_ref().map(|p| p.display().to_string()),
        ffmpeg: args.frames_dir.as_ref().map(|d| {
            let target = args
                .output
                .as_ref()
                .map_or_else(|| beside(d, ".mp4"), |o| o.with_extension("mp4"));
            nao_video::ffmpeg_command(d, args.fps, &target)
        }),
        plot: args.plot.as_ref().map(|p| p.display().to_string()),
        frames: frames.len(),
        periods,
        fps: args.fps,
        duration: periods as f64 / f64::from(args.fps),
        size: [out_h, out_w],
        keyframes,
        method: if segments == 1 && count == 1 {
            "orbit"
        } else {
            checked.method.as_str()
        },
        closed: args.closed,
        hold: args.hold,
        pacing: PacingReport {
            spacing: args.spacing.as_str(),
            ease: args.ease.as_str(),
            unevenness,
            passes,
            converged,
        },
        model: args.model.name(),
        prompt: args.prompt.clone(),
        negative_prompt: args.ddim.negative_prompt.clone(),
        steps: args.ddim.steps,
        guidance: args.guidance(),
        latent_shape: latent,
        chi_mode: prior.mode(),
        sampled,
        reused,
        work_dir: work_path,
        work_dir_kept: kept,
        load_seconds,
        seconds: start.elapsed().as_secs_f64(),
        frame_stats: stats,
    };
    emit(json, &report, || text(&report))
}

/// The report for people.
fn text(r: &WalkReport) -> String {
    let mut s = String::new();
    if let (Some(o), Some(f)) = (&r.output, r.format) {
        s += &format!(
            "wrote {o}: {} {} frames ({} periods at {} fps, {:.2} s) of {}×{}, {} bytes\n",
            r.frames,
            f,
            r.periods,
            r.fps,
            r.duration,
            r.size[0],
            r.size[1],
            r.bytes.unwrap_or(0)
        );
    }
    if let (Some(d), Some(cmd)) = (&r.frames_dir, &r.ffmpeg) {
        s += &format!(
            "wrote {} frame PNGs to {d}; encode them with:\n  {cmd}\n",
            r.periods
        );
    }
    let keys: Vec<String> = r
        .keyframes
        .iter()
        .map(|k| format!("{} ({})", k.origin.source, k.origin.kind))
        .collect();
    s += &format!("keyframes: {}\n", keys.join(", "));
    s += &format!(
        "path {}{}, spacing {}, ease {}, hold {}; image change unevenness {}\n",
        r.method,
        if r.closed { " (loop)" } else { "" },
        r.pacing.spacing,
        r.pacing.ease,
        r.hold,
        num(r.pacing.unevenness)
    );
    let norms = r.frame_stats.iter().map(|f| f.norm);
    let (lo, hi) = norms.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    s += &format!(
        "seed norms {} … {} (χ mode {}), latents {}\n",
        num(lo),
        num(hi),
        num(r.chi_mode),
        shape_text(&r.latent_shape)
    );
    s += &format!(
        "{} frame(s) sampled, {} reused from the work folder {}{}\n",
        r.sampled,
        r.reused,
        r.work_dir,
        if r.work_dir_kept {
            " (kept)"
        } else {
            " (removed)"
        }
    );
    if let Some(p) = &r.plot {
        s += &format!("plot: {p}\n");
    }
    s += &format!(
        "{} DDIM steps, guidance {}, {:.3} s (model loaded in {:.3} s)",
        r.steps, r.guidance, r.seconds, r.load_seconds
    );
    s
}

/// The walk's parameters, written to the work folder.
fn manifest(
    args: &WalkArgs,
    origins: &[Origin],
    checked: &Checked,
    latent: [usize; 3],
) -> serde_json::Value {
    serde_json::json!({
        "nao": env!("CARGO_PKG_VERSION"),
        "what": "the work folder of `nao walk`: cached frames (frames/) and inverted keyframes \
                 (keyframes/), named by the hash of what made them; rerun the same command to \
                 resume",
        "keyframes": origins,
        "model": args.model.identity(),
        "latent_shape": latent,
        "prompt": args.prompt,
        "negative_prompt": args.ddim.negative_prompt,
        "guidance": args.guidance(),
        "steps": args.ddim.steps,
        "resize": format!("{:?}", args.resize),
        "method": checked.method.as_str(),
        "loop": args.closed,
        "frames": args.frames,
        "fps": args.fps,
        "seconds": args.seconds,
        "spacing": args.spacing.as_str(),
        "ease": args.ease.as_str(),
        "hold": args.hold,
        "refine": args.refine,
        "scale": args.scale,
        "output": args.output,
        "frames_dir": args.frames_dir,
    })
}

/// The keyframes' seeds in order: rows of seed files as they are, images inverted (each
/// inversion cached in the work folder).
#[allow(clippy::too_many_arguments)]
fn keyframe_seeds(
    args: &WalkArgs,
    backend: &dyn Backend,
    inputs: &[Input],
    images: Vec<Option<nao_backend::Tensor>>,
    work: &WorkDir,
    identity: &str,
    latent: [usize; 3],
    json: bool,
) -> Result<Vec<Vec<f64>>, CliError> {
    let options = InversionOptions::default().with_steps(args.ddim.steps);
    let key_of = |image: &nao_backend::Tensor| {
        let bytes: Vec<u8> = image.data.iter().flat_map(|v| v.to_le_bytes()).collect();
        KeyBuilder::new("keyframe-v1")
            .part(identity.as_bytes())
            .part(args.prompt.as_bytes())
            .part(&(args.ddim.steps as u64).to_le_bytes())
            .part(&bytes)
            .finish()
    };
    let missing = images
        .iter()
        .flatten()
        .filter(|img| !work.keyframe(&key_of(img)).is_file())
        .count();
    let pb = bar_eta(
        (missing * args.ddim.steps) as u64,
        json,
        "inverting the image keyframes",
    );
    let mut conditioning = None;
    let mut seeds = Vec::new();
    for (input, image) in inputs.iter().zip(images) {
        let Some(image) = image else {
            seeds.extend(keyframes::seed_rows(input));
            continue;
        };
        let path = work.keyframe(&key_of(&image));
        if let Some(seed) = read_inverted(&path, latent) {
            seeds.push(seed);
            continue;
        }
        if conditioning.is_none() {
            conditioning = Some(
                nao_inversion::encode_prompt(backend, &args.prompt, &options)
                    .map_err(|e| CliError::input(format!("--prompt {:?}: {e}", args.prompt)))?,
            );
        }
        let Some(cond) = &conditioning else { continue };
        let label = match input {
            Input::Image(p) => p.display().to_string(),
            Input::Seeds { .. } => String::new(),
        };
        let seed = nao_inversion::invert(backend, &image, cond, &options, |_| {
            pb.inc(1);
            interruption()
        })
        .map_err(|e| {
            if nao_fs::signals::interrupted() {
                CliError::Output(nao_fs::FsError::Interrupted)
            } else {
                CliError::compute("inverting a keyframe", format!("{label}: {e}"))
            }
        })?;
        if let Some(i) = seed.data.iter().position(|v| !v.is_finite()) {
            return Err(CliError::compute(
                "inverting a keyframe",
                format!("{label}: the seed has a non-finite value at flat index {i}"),
            ));
        }
        let array = NpyArray::from_f32(&latent, seed.data.clone())?;
        work.write(&path, &array.to_bytes())?;
        seeds.push(seed.data.iter().map(|&v| f64::from(v)).collect());
    }
    pb.finish_and_clear();
    Ok(seeds)
}

/// An inverted keyframe from the work folder, if it is there and has the latent shape.
fn read_inverted(path: &Path, latent: [usize; 3]) -> Option<Vec<f64>> {
    if !path.is_file() {
        return None;
    }
    let array = nao_npy::read_npy(path).ok()?;
    (array.shape() == latent).then(|| array.to_f64_vec())
}
