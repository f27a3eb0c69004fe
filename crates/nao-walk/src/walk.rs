//! A whole walk: [`Walk::plan`] checks the spec and the keyframes without a model,
//! [`Walk::render`] inverts the image keyframes, lays out the route, places the frames and
//! samples them into the work folder, and the [`Rendered`] walk plays them into videos or
//! frame folders and reports.

use std::io::Write;
use std::path::Path;
use std::time::Instant;

use nao_backend::{Backend, ModelInfo};
use nao_fs::Outputs;
use nao_video::{VideoFormat, VideoSpec};
use serde::Serialize;

use crate::keyframe::{latent_shape, load_images};
use crate::pacing::{allocate, counts, layout, share_steps, unevenness, Counts, PlannedFrame};
use crate::perceptual::{place, prefetch, Pass, Position};
use crate::progress::Progress;
use crate::{
    invert, FrameStats, Keyframe, ModelFrames, ModelId, Play, Played, Result, Route, WalkError,
    WalkSpacing, WalkSpec,
};

/// One keyframe in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyframeReport {
    /// `image` or `seed`.
    pub kind: &'static str,
    /// Where it came from ([`Keyframe::source`]).
    pub source: String,
    /// The seed's Euclidean norm.
    pub norm: f64,
    /// `log χ_d(‖seed‖)`.
    pub log_chi: f64,
}

/// How the pacing went.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PacingReport {
    /// `euclidean`, `nao` or `perceptual`.
    pub spacing: &'static str,
    /// The easing's name.
    pub ease: &'static str,
    /// The coefficient of variation of the image change per frame, corrected for the easing
    /// (0 = perfectly even; [`unevenness`](crate::unevenness)).
    pub unevenness: f64,
    /// Perceptual pacing: one entry per placement of the frames.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub passes: Option<Vec<Pass>>,
    /// Perceptual pacing: whether the last placement settled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged: Option<bool>,
}

/// What a walk made: the data of `nao walk --json` apart from the outputs' paths and the
/// model's loading.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WalkReport {
    /// Distinct frames.
    pub frames: usize,
    /// Frame periods (held keyframes count once per period).
    pub periods: usize,
    /// Frames per second.
    pub fps: u32,
    /// Seconds.
    pub duration: f64,
    /// Height and width of the written frames.
    pub size: [usize; 2],
    /// The keyframes, in order.
    pub keyframes: Vec<KeyframeReport>,
    /// The path's method, or `orbit`.
    pub method: &'static str,
    /// Whether the walk loops.
    #[serde(rename = "loop")]
    pub closed: bool,
    /// Extra frame periods of each keyframe.
    pub hold: usize,
    /// How the pacing went.
    pub pacing: PacingReport,
    /// The prompt.
    pub prompt: String,
    /// The negative prompt.
    pub negative_prompt: String,
    /// Steps.
    pub steps: usize,
    /// The sampler of the frames (`ddim`, `dpm++2m-karras`, …).
    pub scheduler: String,
    /// Guidance scale.
    pub guidance: f64,
    /// The seeds' latent shape `[c, h, w]`.
    pub latent_shape: [usize; 3],
    /// The χ prior's mode for seeds of that shape.
    pub chi_mode: f64,
    /// Frames sampled by this run (perceptual pacing's probes included).
    pub sampled: usize,
    /// Distinct frames of the walk found in the work folder.
    pub reused: usize,
    /// The work folder.
    pub work_dir: String,
    /// Whether the work folder is kept.
    pub work_dir_kept: bool,
    /// Seconds since [`Walk::render`] began.
    pub seconds: f64,
    /// One entry per distinct frame.
    pub frame_stats: Vec<FrameStats>,
}

/// Where [`Walk::run`] writes the walk.
pub enum Output<'a> {
    /// An animation of `format`, written into `out` frame by frame.
    Video {
        /// GIF, APNG or MP4 (MP4 needs the `mp4` feature).
        format: VideoFormat,
        /// Where its bytes go.
        out: &'a mut dyn Write,
    },
    /// One PNG per frame period, handed over with its index (see [`Play::frames`]).
    Frames(&'a mut dyn FnMut(usize, &[u8]) -> Result<()>),
}

/// A walk to make: the spec and the keyframes, checked before any model is loaded.
#[derive(Debug, Clone)]
pub struct Walk {
    spec: WalkSpec,
    keyframes: Vec<Keyframe>,
    segments: usize,
    periods: usize,
    counts: Counts,
}

impl Walk {
    /// Check the spec and the keyframes (at least two, or one with a loop, which is then
    /// orbited) and count the frames. Reads and writes nothing.
    pub fn plan(spec: WalkSpec, keyframes: Vec<Keyframe>) -> Result<Self> {
        spec.check()?;
        for k in &keyframes {
            k.check()?;
        }
        let count = keyframes.len();
        if count == 0 {
            return Err(WalkError::input(
                "no keyframes: a walk needs at least two, or one with --loop",
            ));
        }
        if count < 2 && !spec.closed {
            return Err(WalkError::input(format!(
                "{} keyframe ({}): a walk needs at least two, or --loop to orbit around one",
                count,
                keyframes
                    .iter()
                    .map(Keyframe::source)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        let segments = match (count, spec.closed) {
            (1, true) => 1,
            (k, true) => k,
            (k, false) => k - 1,
        };
        let periods = spec.periods(segments)?;
        let counts = counts(periods, count, segments, spec.closed, spec.hold)
            .map_err(|e| WalkError::input(format!("--frames/--seconds/--hold: {e}")))?;
        Ok(Self {
            spec,
            keyframes,
            segments,
            periods,
            counts,
        })
    }

    /// The spec.
    pub fn spec(&self) -> &WalkSpec {
        &self.spec
    }

    /// The keyframes.
    pub fn keyframes(&self) -> &[Keyframe] {
        &self.keyframes
    }

    /// Segments of the route.
    pub fn segments(&self) -> usize {
        self.segments
    }

    /// Frame periods of the walk.
    pub fn periods(&self) -> usize {
        self.periods
    }

    /// Distinct frames and intervals between them.
    pub fn counts(&self) -> Counts {
        self.counts
    }

    /// Whether the walk is one keyframe's orbit.
    pub fn is_orbit(&self) -> bool {
        self.keyframes.len() == 1
    }

    /// Whether an image keyframe needs the model's VAE encoder.
    pub fn needs_vae_encoder(&self) -> bool {
        self.keyframes.iter().any(Keyframe::is_image)
    }

    /// The latent shape of the walk's seeds with this model (every seed keyframe checked to
    /// be a latent of it, of one shape).
    pub fn latent_shape(&self, model: &ModelId, info: &ModelInfo) -> Result<[usize; 3]> {
        latent_shape(&self.keyframes, model, info, self.spec.resize)
    }

    /// Height and width of the written frames (the model's images for the latent shape,
    /// times [`WalkSpec::scale`]).
    pub fn frame_size(&self, model: &ModelId, info: &ModelInfo) -> Result<[usize; 2]> {
        let latent = self.latent_shape(model, info)?;
        Ok(frame_size(latent, info, self.spec.scale))
    }

    /// Do the model's work: check the step count against the model's scheduler, load the image
    /// keyframes, encode the prompt, open the work folder (writing its manifest), invert the
    /// image keyframes, lay out the route, place the frames (perceptual pacing samples and
    /// measures as it goes) and sample every frame into the work folder. Frames and inverted
    /// keyframes already there are used, so a walk killed or cancelled halfway resumes.
    pub fn render<'m>(
        &self,
        backend: &'m dyn Backend,
        model: &ModelId,
        progress: &mut Progress<'_>,
    ) -> Result<Rendered<'m>> {
        let started = Instant::now();
        let spec = &self.spec;
        let info = backend.info();
        nao_sampling::check_step_count(&info.scheduler, spec.steps).map_err(|e| {
            WalkError::input(format!(
                "--steps {}: not a step count this model's scheduler takes: {e}",
                spec.steps
            ))
        })?;
        let latent = self.latent_shape(model, info)?;
        let size = frame_size(latent, info, spec.scale);
        let images = load_images(&self.keyframes, info, spec.resize)?;
        let mut source = ModelFrames::new(backend, model, spec, latent)?;
        source
            .work_dir()
            .write_manifest(&self.manifest(model, latent))?;

        let seeds = invert::keyframe_seeds(
            backend,
            model,
            spec,
            &self.keyframes,
            images,
            latent,
            source.work_dir_mut(),
            progress,
        )?;
        let route = Route::new(
            seeds,
            spec.method,
            spec.spacing.measure(),
            spec.closed,
            (spec.orbit_angle, spec.orbit_seed),
        )?;
        let (frames, passes, converged) = match spec.spacing {
            WalkSpacing::Perceptual => {
                let p = place(
                    &route,
                    &mut source,
                    self.counts,
                    spec.ease,
                    spec.hold,
                    spec.refine,
                    progress,
                )?;
                (p.frames, Some(p.passes), Some(p.converged))
            }
            WalkSpacing::Euclidean | WalkSpacing::Nao => (self.layout(&route), None, None),
        };
        let positions: Vec<Position> = frames.iter().map(|f| (f.segment, f.u)).collect();
        prefetch(
            &route,
            &mut source,
            &positions,
            "sampling the frames",
            progress,
        )?;
        Ok(Rendered {
            spec: spec.clone(),
            keyframes: self
                .keyframes
                .iter()
                .map(|k| (k.kind(), k.source()))
                .collect(),
            periods: self.periods,
            route,
            frames,
            passes,
            converged,
            source,
            latent,
            size,
            started,
        })
    }

    /// The frames of Euclidean or NAO-cost pacing: intervals shared by length, eased shares.
    fn layout(&self, route: &Route) -> Vec<PlannedFrame> {
        let lengths: Vec<f64> = (0..route.segments.len()).map(|s| route.length(s)).collect();
        let intervals = allocate(&lengths, self.counts.intervals);
        layout(
            &intervals,
            self.spec.ease,
            self.spec.hold,
            self.spec.closed,
            |s| route.segments[s].from,
            route.segments.last().map_or(0, |s| s.to),
            |_, share| share,
        )
    }

    /// The walk's parameters, written to the work folder.
    fn manifest(&self, model: &ModelId, latent: [usize; 3]) -> serde_json::Value {
        let spec = &self.spec;
        let keyframes: Vec<_> = self
            .keyframes
            .iter()
            .map(|k| serde_json::json!({"kind": k.kind(), "source": k.source()}))
            .collect();
        serde_json::json!({
            "nao": env!("CARGO_PKG_VERSION"),
            "what": "the work folder of `nao walk`: cached frames (frames/) and inverted \
                     keyframes (keyframes/), named by the hash of what made them and of their \
                     content; rerun the same walk to resume",
            "keyframes": keyframes,
            "model": model.identity,
            "latent_shape": latent,
            "prompt": spec.prompt,
            "negative_prompt": spec.negative_prompt,
            "guidance": spec.guidance,
            "steps": spec.steps,
            "scheduler": spec.scheduler.map(|c| c.name()),
            "resize": spec.resize.name(),
            "inversion": spec.inversion.name(),
            "method": spec.method.as_str(),
            "loop": spec.closed,
            "frames": spec.frames,
            "fps": spec.fps,
            "seconds": spec.seconds,
            "spacing": spec.spacing.as_str(),
            "ease": spec.ease.as_str(),
            "hold": spec.hold,
            "refine": spec.refine,
            "scale": spec.scale,
        })
    }

    /// The whole walk in one call: [`render`](Self::render), play into `output`,
    /// [`report`](Rendered::report), [`finish`](Rendered::finish).
    pub fn run(
        &self,
        backend: &dyn Backend,
        model: &ModelId,
        output: Output<'_>,
        progress: &mut Progress<'_>,
    ) -> Result<WalkReport> {
        let mut rendered = self.render(backend, model, progress)?;
        let played = match output {
            Output::Video { format, out } => rendered.encode(format, out, progress)?,
            Output::Frames(write) => rendered.frames_to(progress, write)?,
        };
        let report = rendered.report(&played);
        rendered.finish()?;
        Ok(report)
    }
}

/// Height and width of the written frames.
fn frame_size(latent: [usize; 3], info: &ModelInfo, scale: u32) -> [usize; 2] {
    let s = info.vae_downsample.max(1) * scale as usize;
    [latent[1] * s, latent[2] * s]
}

/// A walk whose frames are all in the work folder: play it (as often as needed, into any
/// outputs), report, finish.
pub struct Rendered<'m> {
    spec: WalkSpec,
    keyframes: Vec<(&'static str, String)>,
    periods: usize,
    route: Route,
    frames: Vec<PlannedFrame>,
    passes: Option<Vec<Pass>>,
    converged: Option<bool>,
    source: ModelFrames<'m>,
    latent: [usize; 3],
    size: [usize; 2],
    started: Instant,
}

impl Rendered<'_> {
    /// The route.
    pub fn route(&self) -> &Route {
        &self.route
    }

    /// The distinct frames, in order.
    pub fn frames(&self) -> &[PlannedFrame] {
        &self.frames
    }

    /// Height and width of the written frames.
    pub fn size(&self) -> [usize; 2] {
        self.size
    }

    /// Whether the frames are grey.
    pub fn grey(&self) -> bool {
        self.source.grey()
    }

    /// The frame source (the model's frames in the work folder).
    pub fn source(&self) -> &ModelFrames<'_> {
        &self.source
    }

    /// The video of the walk: its frame size, rate, distinct frames and colour.
    pub fn video_spec(&self) -> VideoSpec {
        let [h, w] = self.size;
        VideoSpec::new(w as u32, h as u32, self.spec.fps, self.frames.len() as u32)
            .grey(self.grey())
    }

    /// Encode the walk as a `format` animation into `out`.
    pub fn encode(
        &mut self,
        format: VideoFormat,
        out: &mut dyn Write,
        progress: &mut Progress<'_>,
    ) -> Result<Played> {
        let spec = self.video_spec();
        let play = Play {
            route: &self.route,
            frames: &self.frames,
            scale: self.spec.scale,
        };
        play.encode(&mut self.source, format, &spec, out, progress)
    }

    /// Hand `write` one PNG per frame period with its index (see [`Play::frames`]).
    pub fn frames_to(
        &mut self,
        progress: &mut Progress<'_>,
        write: &mut dyn FnMut(usize, &[u8]) -> Result<()>,
    ) -> Result<Played> {
        let play = Play {
            route: &self.route,
            frames: &self.frames,
            scale: self.spec.scale,
        };
        play.frames(&mut self.source, progress, write)
    }

    /// Stage one PNG per frame period in `dir`, claimed in `out` (see [`Play::frames_dir`]).
    pub fn frames_dir(
        &mut self,
        out: &mut Outputs,
        dir: &Path,
        progress: &mut Progress<'_>,
    ) -> Result<Played> {
        let play = Play {
            route: &self.route,
            frames: &self.frames,
            scale: self.spec.scale,
        };
        play.frames_dir(&mut self.source, out, dir, progress)
    }

    /// The report of a played walk.
    pub fn report(&self, played: &Played) -> WalkReport {
        let spec = &self.spec;
        let prior = self.route.prior();
        let keyframes = self
            .keyframes
            .iter()
            .zip(self.route.keyframes())
            .map(|((kind, source), seed)| {
                let norm = nao_prior::norm(seed);
                KeyframeReport {
                    kind,
                    source: source.clone(),
                    norm,
                    log_chi: prior.log_pdf(norm),
                }
            })
            .collect();
        let unevenness = unevenness(
            &played.image_steps(),
            &share_steps(&self.frames, spec.closed),
        );
        WalkReport {
            frames: self.frames.len(),
            periods: self.periods,
            fps: spec.fps,
            duration: self.periods as f64 / f64::from(spec.fps),
            size: self.size,
            keyframes,
            method: if self.route.is_orbit() {
                "orbit"
            } else {
                spec.method.as_str()
            },
            closed: spec.closed,
            hold: spec.hold,
            pacing: PacingReport {
                spacing: spec.spacing.as_str(),
                ease: spec.ease.as_str(),
                unevenness,
                passes: self.passes.clone(),
                converged: self.converged,
            },
            prompt: spec.prompt.clone(),
            negative_prompt: spec.negative_prompt.clone(),
            steps: spec.steps,
            scheduler: self.source.sampler().to_string(),
            guidance: spec.guidance,
            latent_shape: self.latent,
            chi_mode: prior.mode(),
            sampled: self.source.sampled(),
            reused: played.stats.iter().filter(|s| s.cached).count(),
            work_dir: self.source.work_dir().path().display().to_string(),
            work_dir_kept: self.source.work_dir().kept(),
            seconds: self.started.elapsed().as_secs_f64(),
            frame_stats: played.stats.clone(),
        }
    }

    /// Done: remove the work folder unless it is kept ([`WalkSpec::keep_work_dir`]). Call it
    /// once the outputs are in place, so that a failure to write them keeps the cache.
    pub fn finish(self) -> Result<()> {
        let work = self.source.into_work_dir();
        if work.kept() {
            Ok(())
        } else {
            work.remove()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::ops::ControlFlow;

    use nao_backend::Tensor;
    use nao_prior::{GaussianSeeds, RngName};
    use nao_test_support::AnalyticBackend;

    use super::*;
    use crate::{plot, quiet, Ease, Event};

    fn seed(s: u64) -> Keyframe {
        Keyframe::Seed {
            source: format!("seed {s}"),
            latent: [4, 8, 8],
            values: GaussianSeeds::new(RngName::ChaCha20, s).seed(256),
        }
    }

    /// An RGB picture, `[1, 3, 16, 16]` in `[−1, 1]`.
    fn picture() -> Keyframe {
        let data = (0..3 * 256)
            .map(|i| ((i as f32) * 0.37).sin() * 0.8)
            .collect();
        Keyframe::Image {
            source: "picture".into(),
            pixels: Tensor::new(vec![1, 3, 16, 16], data).unwrap(),
        }
    }

    #[test]
    fn plans_refuse_what_no_walk_can_be() {
        let spec = WalkSpec::new("a cat", "work");
        let err = Walk::plan(spec.clone(), vec![seed(1)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("1 keyframe (seed 1)") && err.contains("--loop"),
            "{err}"
        );
        let mut few = spec.clone();
        few.frames = Some(3);
        few.hold = 1;
        let err = Walk::plan(few, vec![seed(1), seed(2)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("--frames/--seconds/--hold") && err.contains("too few"),
            "{err}"
        );
        let mut orbit = spec.clone();
        orbit.closed = true;
        let walk = Walk::plan(orbit, vec![seed(1)]).unwrap();
        assert!(walk.is_orbit() && !walk.needs_vae_encoder());
        assert_eq!((walk.segments(), walk.periods()), (1, 50));
        let walk = Walk::plan(spec, vec![picture(), seed(1), seed(2)]).unwrap();
        assert_eq!(walk.periods(), 100);
        let backend = AnalyticBackend::new();
        let model = ModelId::new("analytic", "analytic");
        assert_eq!(
            walk.frame_size(&model, nao_backend::Backend::info(&backend))
                .unwrap(),
            [16, 16]
        );
    }

    #[test]
    fn a_walk_renders_plays_reports_and_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let backend = AnalyticBackend::new();
        let model = ModelId::new("analytic", "analytic");
        let mut spec = WalkSpec::new("a cat", dir.path().join("work"));
        spec.steps = 4;
        spec.guidance = 1.0;
        spec.frames = Some(9);
        spec.hold = 1;
        spec.closed = true;
        spec.scale = 2;
        spec.ease = Ease::Sine;
        spec.method = nao_geodesic::Method::Slerp;
        let keyframes = vec![picture(), seed(1), seed(2)];
        let walk = Walk::plan(spec.clone(), keyframes.clone()).unwrap();

        let mut stages = Vec::new();
        let mut rendered = walk
            .render(&backend, &model, &mut |e| {
                if let Event::Stage { what, steps } = e {
                    stages.push((what.to_string(), steps));
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(
            stages,
            [
                ("inverting the image keyframes".to_string(), 4),
                ("sampling the frames".to_string(), 6 * 4)
            ]
        );
        let mut gif = Vec::new();
        let played = rendered
            .encode(VideoFormat::Gif, &mut gif, &mut quiet)
            .unwrap();
        assert_eq!(&gif[..6], b"GIF89a");
        let report = rendered.report(&played);
        // 9 periods, 3 keyframes held 1 extra: 6 distinct frames on 3 segments
        assert_eq!((report.frames, report.periods), (6, 9));
        assert_eq!((report.size, report.latent_shape), ([32, 32], [4, 8, 8]));
        assert_eq!((report.method, report.closed), ("slerp", true));
        assert_eq!((report.sampled, report.reused), (6, 0));
        let kinds: Vec<_> = report.keyframes.iter().map(|k| k.kind).collect();
        assert_eq!(kinds, ["image", "seed", "seed"]);
        let ticks: u32 = report.frame_stats.iter().map(|f| f.ticks).sum();
        assert_eq!(ticks, 9);
        assert!(report.pacing.unevenness.is_finite() && report.pacing.passes.is_none());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["loop"], true);
        assert_eq!(json["pacing"]["ease"], "sine");

        // the frames folder: one PNG per period, held keyframes repeated
        let mut periods = Vec::new();
        let again = rendered
            .frames_to(&mut quiet, &mut |i, png| {
                assert_eq!(&png[1..4], b"PNG");
                periods.push(i);
                Ok(())
            })
            .unwrap();
        assert_eq!(periods, (0..9).collect::<Vec<_>>());
        assert_eq!(again.stats.len(), 6);
        let picture = plot(&report.frame_stats, report.chi_mode, "test").unwrap();
        assert!(picture.height() > 600);
        rendered.finish().unwrap();
        assert!(dir.path().join("work/manifest.json").is_file(), "kept");

        // the same walk again: nothing inverted or sampled
        let mut steps = 0;
        let mut count = |e: Event<'_>| {
            if e == Event::Step {
                steps += 1;
            }
            ControlFlow::Continue(())
        };
        let mut apng = Vec::new();
        let output = Output::Video {
            format: VideoFormat::Apng,
            out: &mut apng,
        };
        let second = walk.run(&backend, &model, output, &mut count).unwrap();
        assert_eq!((second.sampled, second.reused, steps), (0, 6, 0));
        assert_eq!(second.frame_stats.len(), 6);

        // another prompt, cancelled after two frames, then resumed
        spec.prompt = "a dog".into();
        spec.keep_work_dir = false;
        let walk = Walk::plan(spec, keyframes).unwrap();
        let cancel = |e: Event<'_>| match e {
            Event::Sampled { done: 2, .. } => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        };
        let err = walk
            .run(&backend, &model, Output::Frames(&mut |_, _| Ok(())), &mut {
                cancel
            })
            .unwrap_err();
        assert!(matches!(err, WalkError::Cancelled), "{err}");
        let resumed = walk
            .run(
                &backend,
                &model,
                Output::Frames(&mut |_, _| Ok(())),
                &mut quiet,
            )
            .unwrap();
        assert_eq!((resumed.sampled, resumed.reused), (4, 2));
        assert!(!resumed.work_dir_kept);
        assert!(
            !dir.path().join("work").exists(),
            "a work folder not kept is removed once the walk is written"
        );
    }
}
