//! Playing the walk back from the work folder, one frame in memory at a time: into the video
//! encoder, into the frames folder, and into the per-frame report.

use std::io::Write;
use std::path::Path;

use image::imageops::FilterType;
use image::DynamicImage;
use nao_fs::Outputs;
use nao_video::{VideoFormat, VideoSpec, VideoWriter};

use super::change::Features;
use super::pacing::PlannedFrame;
use super::render::Renderer;
use super::report::FrameStats;
use super::route::Route;
use crate::error::CliError;
use crate::images::png_bytes;

/// The walk's frames, ready to play.
pub struct Play<'a> {
    /// The route they lie on.
    pub route: &'a Route,
    /// The distinct frames, in order.
    pub frames: &'a [PlannedFrame],
    /// Integer enlargement of every frame.
    pub scale: u32,
}

/// What playing the walk measured.
#[derive(Debug, Default)]
pub struct Played {
    /// One entry per distinct frame.
    pub stats: Vec<FrameStats>,
    /// A looping walk: the image change from the last frame back to the first.
    pub wrap: Option<f64>,
}

impl Play<'_> {
    /// Play every frame: `each` gets it (enlarged) with its plan; the statistics come back.
    fn replay(
        &self,
        renderer: &mut Renderer<'_>,
        mut each: impl FnMut(&PlannedFrame, &DynamicImage) -> Result<(), CliError>,
    ) -> Result<Played, CliError> {
        let prior = self.route.prior();
        let mut stats = Vec::with_capacity(self.frames.len());
        let mut previous: Option<(Vec<f64>, Features)> = None;
        let mut first: Option<Features> = None;
        for (index, f) in self.frames.iter().enumerate() {
            nao_fs::signals::check()?;
            let seed = self.route.seed(f.segment, f.u)?;
            let cached = !renderer.was_sampled(&renderer.key(&seed));
            let img = renderer.image(self.route, (f.segment, f.u))?;
            let features = Features::of(&img);
            let norm = nao_prior::norm(&seed);
            let (latent_distance, image_distance) = match &previous {
                Some((s, feat)) => (
                    Some(
                        s.iter()
                            .zip(&seed)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                            .sqrt(),
                    ),
                    Some(feat.distance(&features)),
                ),
                None => (None, None),
            };
            stats.push(FrameStats {
                index,
                segment: f.segment,
                position: f.u,
                share: f.share,
                keyframe: f.keyframe,
                ticks: f.ticks,
                norm,
                log_chi: prior.log_pdf(norm),
                latent_distance,
                image_distance,
                cached,
            });
            each(f, &self.enlarge(img))?;
            first.get_or_insert_with(|| features.clone());
            previous = Some((seed, features));
        }
        let wrap = match (&first, &previous) {
            (Some(a), Some((_, b))) if self.route.closed => Some(b.distance(a)),
            _ => None,
        };
        Ok(Played { stats, wrap })
    }

    fn enlarge(&self, img: DynamicImage) -> DynamicImage {
        if self.scale == 1 {
            return img;
        }
        let (w, h) = (img.width() * self.scale, img.height() * self.scale);
        img.resize_exact(w, h, FilterType::Nearest)
    }

    /// Encode the walk into `out`.
    pub fn encode(
        &self,
        renderer: &mut Renderer<'_>,
        format: VideoFormat,
        spec: &VideoSpec,
        out: &mut dyn Write,
    ) -> Result<Played, CliError> {
        let fail = |e: nao_video::VideoError| CliError::compute("writing the animation", e);
        let mut video = VideoWriter::new(format, spec, out).map_err(fail)?;
        let played = self.replay(renderer, |f, img| video.push(img, f.ticks).map_err(fail))?;
        video.finish().map_err(fail)?;
        Ok(played)
    }

    /// Stage one PNG per frame period in `dir` (a held keyframe's file repeated).
    pub fn frames_dir(
        &self,
        renderer: &mut Renderer<'_>,
        out: &mut Outputs,
        dir: &Path,
    ) -> Result<Played, CliError> {
        let mut period = 0;
        self.replay(renderer, |f, img| {
            let name = dir.join(nao_video::frame_file_name(period));
            let bytes = png_bytes(img, &name)?;
            for _ in 0..f.ticks {
                out.write(&dir.join(nao_video::frame_file_name(period)), &bytes)?;
                period += 1;
            }
            Ok(())
        })
    }
}
