//! `nao walk`: an animation through several real images (inverted with the model) and seeds,
//! along NAO paths, as a GIF, an animated PNG or an MP4 — evenly paced, optionally looping,
//! and resumable (`nao_walk` does the work; docs/walk.md is the reference).

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::builder::PossibleValuesParser;
use clap::Args;
use indicatif::ProgressBar;
use nao_fs::Outputs;
use nao_geodesic::Method;
use nao_inversion::ResizePolicy;
use nao_models::Needs;
use nao_video::{VideoFormat, VideoSpec};
use nao_walk::{
    Ease, Event, Keyframe, KeyframeReport, ModelId, PacingReport, Walk, WalkError, WalkSpacing,
    WalkSpec,
};
use serde::Serialize;

use crate::error::CliError;
use crate::model::{check_steps, require_file, DdimArgs, InversionArgs, ModelArgs};
use crate::output::{bar_eta, emit, interruption, num};
use crate::seeds::{check_finite, check_nonzero, read_float_array, shape_text};

/// The `--method` names `nao walk` accepts (the reference optimiser has no points between its
/// own, so a walk cannot pace it).
const METHODS: &[&str] = &["nao", "slerp", "lerp", "nlerp", "gaussian"];

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
    #[command(flatten)]
    inversion: InversionArgs,
    /// How an image keyframe is brought to a size the model takes: center-crop or stretch to
    /// the model's default size, exact (refuse another size), or none (its own size, both
    /// sides multiples of the VAE's downsampling; every image keyframe must then have the same
    /// size, and the frames have it).
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

impl From<WalkError> for CliError {
    /// A cancelled walk is an interrupted command (the callback stops on SIGINT/SIGTERM).
    fn from(e: WalkError) -> Self {
        match e {
            WalkError::Fs(e) => CliError::Output(e),
            WalkError::Npy(e) => CliError::Npy(e),
            WalkError::Cancelled => CliError::Output(nao_fs::FsError::Interrupted),
            WalkError::Input(message) => CliError::Input(message),
            WalkError::Compute { what, message } => CliError::Compute { what, message },
            other => CliError::input(other.to_string()),
        }
    }
}

/// The walk's spec and the animation's format, checked before any file is read.
fn spec(args: &WalkArgs) -> Result<(WalkSpec, Option<VideoFormat>), CliError> {
    args.model.check()?;
    args.ddim.check()?;
    let guidance = args.ddim.guidance_or(7.5)?;
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
    let (work_dir, implicit) = match (&args.work_dir, &args.output, &args.frames_dir) {
        (Some(w), _, _) => (w.clone(), false),
        (None, Some(p), _) | (None, None, Some(p)) => (beside(p, ".nao-walk"), true),
        (None, None, None) => return Err(CliError::input("nothing to write")),
    };
    let mut spec = WalkSpec::new(args.prompt.clone(), work_dir);
    spec.keep_work_dir = !implicit;
    spec.negative_prompt = args.ddim.negative_prompt.clone();
    spec.guidance = guidance;
    spec.steps = args.ddim.steps;
    spec.scheduler = args.ddim.scheduler;
    spec.resize = args.resize;
    spec.inversion = args.inversion.method;
    spec.method = args
        .method
        .as_deref()
        .unwrap_or("nao")
        .parse::<Method>()
        .map_err(|e| CliError::input(format!("--method: {e}")))?;
    spec.closed = args.closed;
    spec.orbit_angle = args.orbit_angle;
    spec.orbit_seed = args.orbit_seed;
    spec.frames = args.frames;
    spec.seconds = args.seconds;
    spec.fps = args.fps;
    spec.spacing = args.spacing;
    spec.ease = args.ease;
    spec.hold = args.hold;
    spec.refine = args.refine;
    spec.scale = args.scale;
    spec.check()?;
    if format == Some(VideoFormat::Gif) && args.fps > nao_video::MAX_GIF_FPS {
        return Err(CliError::input(format!(
            "--fps {}: a GIF plays at most {} frames per second (browsers play shorter delays \
             as 1/10 s); use a lower --fps or an .mp4 or .png output",
            args.fps,
            nao_video::MAX_GIF_FPS
        )));
    }
    Ok((spec, format))
}

/// `path` with `suffix` added to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "walk".into());
    path.with_file_name(format!("{name}{suffix}"))
}

/// The keyframes of one argument: an image file (decoded once the model says its size), or
/// the rows of a `.npy` of latents `[c, h, w]` or `[n, …, c, h, w]` (read and checked now:
/// finite, non-zero, of latent rank).
fn read_keyframes(path: &Path) -> Result<Vec<Keyframe>, CliError> {
    let is_npy = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"));
    require_file(
        path,
        if is_npy {
            "no such seed file"
        } else {
            "no such image file"
        },
    )?;
    if !is_npy {
        return Ok(vec![Keyframe::ImageFile(path.to_path_buf())]);
    }
    let array = read_float_array(path)?;
    let shape = &array.shape;
    if shape.len() < 3 {
        return Err(CliError::input(format!(
            "{}: seeds of shape {} are not latents: a keyframe seed is [c, h, w], or \
             [n, c, h, w] for n keyframes (as `nao invert` and `nao seed` write them)",
            path.display(),
            shape_text(shape)
        )));
    }
    let k = shape.len();
    let latent = [shape[k - 3], shape[k - 2], shape[k - 1]];
    let per: usize = latent.iter().product();
    let count: usize = shape[..k - 3].iter().product();
    check_finite(&array, 0..array.dim())?;
    let mut rows = Vec::with_capacity(count);
    for (row, values) in array.values.chunks(per.max(1)).take(count).enumerate() {
        let (label, source) = if count > 1 {
            (format!(" row {row}"), format!("{}[{row}]", path.display()))
        } else {
            (String::new(), path.display().to_string())
        };
        check_nonzero(&array, row * per..(row + 1) * per, &label)?;
        rows.push(Keyframe::Seed {
            source,
            latent,
            values: values.to_vec(),
        });
    }
    Ok(rows)
}

/// Progress bars from the walk's events: one per stage of model work, over its steps.
struct Bars {
    json: bool,
    bar: Option<ProgressBar>,
}

impl Bars {
    fn on(&mut self, event: Event<'_>) -> std::ops::ControlFlow<()> {
        match event {
            Event::Stage { what, steps } => {
                self.done();
                self.bar = Some(bar_eta(steps as u64, self.json, what));
            }
            Event::Step => {
                if let Some(b) = &self.bar {
                    b.inc(1);
                }
            }
            Event::StageDone => self.done(),
            Event::Note(note) => eprintln!("nao: warning: {note}"),
            _ => {}
        }
        interruption()
    }

    fn done(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
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
    /// The sampler of the frames (keyframe images are inverted with DDIM).
    scheduler: String,
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
    frame_stats: Vec<nao_walk::FrameStats>,
}

/// Run `nao walk`.
pub fn run(args: &WalkArgs, json: bool) -> Result<(), CliError> {
    let (spec, format) = spec(args)?;
    // Every output is claimed before any work, against the inputs and each other.
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
    // the cache is written by nao_walk itself; claimed here so that it collides with nothing
    out.claim_folder(&spec.work_dir, "--work-dir")?;

    // Keyframes: seed files are read and checked now, images once the model gives their size.
    let mut keyframes = Vec::new();
    for p in &args.keyframes {
        keyframes.extend(read_keyframes(p)?);
    }
    if keyframes.len() == 1 && args.closed && args.method.is_some() {
        return Err(CliError::input(
            "--method: one keyframe with --loop is an orbit around it; there is no path between \
             keyframes to choose",
        ));
    }
    let walk = Walk::plan(spec, keyframes)?;

    let load_start = Instant::now();
    let backend = args.model.load(
        json,
        Needs {
            text_encoder: true,
            vae_encoder: walk.needs_vae_encoder(),
            vae_decoder: true,
        },
    )?;
    let load_seconds = load_start.elapsed().as_secs_f64();
    let info = backend.info().clone();
    check_steps("--steps", args.ddim.steps, Some(&info.scheduler))?;
    let id = ModelId::new(args.model.name(), args.model.identity());
    if let Some(format) = format {
        let [h, w] = walk.frame_size(&id, &info)?;
        let frames = u32::try_from(walk.keyframes().len())
            .unwrap_or(u32::MAX)
            .max(1);
        VideoSpec::new(w as u32, h as u32, args.fps, frames)
            .check(format)
            .map_err(|e| {
                CliError::input(format!(
                    "{}: {e}",
                    args.output.as_deref().unwrap_or(Path::new("")).display()
                ))
            })?;
    }

    let mut bars = Bars { json, bar: None };
    let mut progress = |e: Event<'_>| bars.on(e);
    let mut rendered = walk.render(&*backend, &id, &mut progress)?;

    // The animation, the frames folder, the plot: read back from the cache one at a time.
    let mut played = None;
    if let (Some(o), Some(format)) = (&args.output, format) {
        out.write_with(o, |w| -> Result<(), CliError> {
            played = Some(rendered.encode(format, w, &mut progress)?);
            Ok(())
        })?;
    }
    if let Some(dir) = &args.frames_dir {
        let p = rendered.frames_dir(&mut out, dir, &mut progress)?;
        played.get_or_insert(p);
    }
    let played = played.ok_or_else(|| CliError::input("nothing to write"))?;
    let r = rendered.report(&played);
    if let Some(p) = &args.plot {
        let title = args
            .output
            .as_deref()
            .or(args.frames_dir.as_deref())
            .unwrap_or(Path::new("walk"));
        let img = nao_walk::plot(&r.frame_stats, r.chi_mode, &title.display().to_string())?;
        out.write(
            p,
            &nao_viz::encode_png(&img).map_err(|e| CliError::compute("the --plot picture", e))?,
        )?;
    }
    out.commit()?;
    rendered.finish()?;

    let report = WalkReport {
        output: args.output.as_ref().map(|p| p.display().to_string()),
        format: format.map(|f| f.as_str()),
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
        frames: r.frames,
        periods: r.periods,
        fps: r.fps,
        duration: r.duration,
        size: r.size,
        keyframes: r.keyframes,
        method: r.method,
        closed: r.closed,
        hold: r.hold,
        pacing: r.pacing,
        model: args.model.name(),
        prompt: r.prompt,
        negative_prompt: r.negative_prompt,
        steps: r.steps,
        scheduler: r.scheduler,
        guidance: r.guidance,
        latent_shape: r.latent_shape,
        chi_mode: r.chi_mode,
        sampled: r.sampled,
        reused: r.reused,
        work_dir: r.work_dir,
        work_dir_kept: r.work_dir_kept,
        load_seconds,
        seconds: r.seconds,
        frame_stats: r.frame_stats,
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
        .map(|k| format!("{} ({})", k.source, k.kind))
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
        "{} {} steps, guidance {}, {:.3} s (model loaded in {:.3} s)",
        r.steps, r.scheduler, r.guidance, r.seconds, r.load_seconds
    );
    s
}
