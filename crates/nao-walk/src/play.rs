//! Playing a walk back, one frame in memory at a time: into a video encoder, into a frames
//! folder (one PNG per frame period), and into the per-frame statistics.

use std::io::Write;
use std::path::Path;

use image::imageops::FilterType;
use image::DynamicImage;
use nao_fs::Outputs;
use nao_video::{VideoFormat, VideoSpec, VideoWriter};

use crate::change::Thumbnail;
use crate::pacing::PlannedFrame;
use crate::progress::{report, Event, Progress};
use crate::{FrameSource, FrameStats, Result, Route, WalkError};

/// A walk's frames, ready to play from a [`FrameSource`].
#[derive(Debug, Clone, Copy)]
pub struct Play<'a> {
    /// The route they lie on.
    pub route: &'a Route,
    /// The distinct frames, in order.
    pub frames: &'a [PlannedFrame],
    /// Integer enlargement of every frame (nearest neighbour).
    pub scale: u32,
}

/// What playing a walk measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Played {
    /// One entry per distinct frame.
    pub stats: Vec<FrameStats>,
    /// A looping walk: the image change from the last frame back to the first.
    pub wrap: Option<f64>,
}

impl Played {
    /// The image change of every step of the walk, in order (back to the first frame for a
    /// loop): what [`unevenness`](crate::unevenness) measures.
    pub fn image_steps(&self) -> Vec<f64> {
        self.stats
            .iter()
            .filter_map(|s| s.image_distance)
            .chain(self.wrap)
            .collect()
    }
}

impl Play<'_> {
    /// Play every frame: `each` gets it (enlarged) with its plan, and the statistics come
    /// back. Every frame is reported as [`Event::Played`].
    pub fn replay<S: FrameSource + ?Sized>(
        &self,
        source: &mut S,
        progress: &mut Progress<'_>,
        mut each: impl FnMut(&PlannedFrame, &DynamicImage) -> Result<()>,
    ) -> Result<Played> {
        let prior = self.route.prior();
        let total = self.frames.len();
        let mut stats = Vec::with_capacity(total);
        let mut previous: Option<(Vec<f64>, Thumbnail)> = None;
        let mut first: Option<Thumbnail> = None;
        for (index, f) in self.frames.iter().enumerate() {
            let seed = self.route.seed(f.segment, f.u)?;
            let img = source.frame(&seed, progress)?;
            let cached = source.was_cached(&seed);
            let thumbnail = Thumbnail::of(&img);
            let norm = nao_prior::norm(&seed);
            let (latent_distance, image_distance) = match &previous {
                Some((s, t)) => (
                    Some(
                        s.iter()
                            .zip(&seed)
                            .map(|(a, b)| (a - b) * (a - b))
                            .sum::<f64>()
                            .sqrt(),
                    ),
                    Some(t.distance(&thumbnail)),
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
            first.get_or_insert_with(|| thumbnail.clone());
            previous = Some((seed, thumbnail));
            report(
                progress,
                Event::Played {
                    done: index + 1,
                    total,
                },
            )?;
        }
        let wrap = match (&first, &previous) {
            (Some(a), Some((_, b))) if self.route.closed => Some(b.distance(a)),
            _ => None,
        };
        Ok(Played { stats, wrap })
    }

    fn enlarge(&self, img: DynamicImage) -> DynamicImage {
        if self.scale <= 1 {
            return img;
        }
        let (w, h) = (img.width() * self.scale, img.height() * self.scale);
        img.resize_exact(w, h, FilterType::Nearest)
    }

    /// Encode the walk as a `format` video of `spec` (whose frame count must be the walk's
    /// distinct frames) into `out`; a held keyframe is one frame of longer duration.
    pub fn encode<S: FrameSource + ?Sized>(
        &self,
        source: &mut S,
        format: VideoFormat,
        spec: &VideoSpec,
        out: &mut dyn Write,
        progress: &mut Progress<'_>,
    ) -> Result<Played> {
        let fail = |e: nao_video::VideoError| WalkError::compute("writing the animation", e);
        let mut video = VideoWriter::new(format, spec, out).map_err(fail)?;
        let played = self.replay(source, progress, |f, img| {
            video.push(img, f.ticks).map_err(fail)
        })?;
        video.finish().map_err(fail)?;
        Ok(played)
    }

    /// Hand `write` one PNG per frame period with its index (`0, 1, …`; a held keyframe's
    /// file repeated), as `ffmpeg -framerate` expects a frames folder
    /// ([`nao_video::frame_file_name`] names them).
    pub fn frames<S: FrameSource + ?Sized>(
        &self,
        source: &mut S,
        progress: &mut Progress<'_>,
        write: &mut dyn FnMut(usize, &[u8]) -> Result<()>,
    ) -> Result<Played> {
        let mut period = 0;
        self.replay(source, progress, |f, img| {
            let bytes = nao_viz::png_bytes(img).map_err(|e| {
                WalkError::compute("PNG encoding", format!("frame period {period}: {e}"))
            })?;
            for _ in 0..f.ticks {
                write(period, &bytes)?;
                period += 1;
            }
            Ok(())
        })
    }

    /// Stage one PNG per frame period in `dir` (`00000.png`, …), which `out` must have claimed.
    pub fn frames_dir<S: FrameSource + ?Sized>(
        &self,
        source: &mut S,
        out: &mut Outputs,
        dir: &Path,
        progress: &mut Progress<'_>,
    ) -> Result<Played> {
        self.frames(source, progress, &mut |period, bytes| {
            Ok(out.write(&dir.join(nao_video::frame_file_name(period)), bytes)?)
        })
    }
}
