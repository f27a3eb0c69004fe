//! # nao-video — animations, one frame at a time
//!
//! [`VideoWriter`] encodes frames as they come into any [`std::io::Write`], so a walk of a
//! thousand frames needs the memory of one frame (plus the encoder's own state):
//!
//! - **GIF** ([`VideoFormat::Gif`]), looping forever. Grey frames use one global palette of
//!   the 256 grey levels, so they are stored exactly; colour frames get their own palette each,
//!   chosen by NeuQuant (`color_quant`), learning from every pixel of frames up to 256×256 and
//!   from a sample of about 65 000 pixels of larger ones. GIF stores delays in hundredths of a second: each frame's delay is rounded so
//!   that the *elapsed* time stays exact (25 fps: 4 cs each; 30 fps: 3, 4, 3, …). Browsers
//!   slow down delays under 2 cs, so GIF takes at most 50 fps.
//! - **APNG** ([`VideoFormat::Apng`], `.png`/`.apng`), looping forever, lossless, grey or RGB,
//!   delays exact as `ticks/fps` seconds.
//! - **MP4** ([`VideoFormat::Mp4`]) with the `mp4` feature: H.264 (OpenH264, built from its
//!   bundled source, one thread, no skipped frames) muxed by the pure-Rust `mp4` crate. Each
//!   frame lasts `ticks/fps` seconds (the track's timescale is the frame rate), so a held frame
//!   is one sample, not many. The muxer writes its index last and seeks back, so the stream
//!   goes to an unnamed temporary file first and is copied to the writer at the end. Without
//!   the feature, [`VideoFormat::Mp4`] is refused with the feature's name; [`ffmpeg_command`]
//!   gives the line that makes the video from a folder of PNG frames instead.
//!
//! A frame's `ticks` says how many frame periods (`1/fps`) it stays on screen: a keyframe
//! held for three extra frames is pushed once with `ticks = 4`.
//!
//! ```
//! use image::{DynamicImage, GrayImage};
//! use nao_video::{VideoFormat, VideoSpec, VideoWriter};
//! let spec = VideoSpec::new(8, 6, 25, 3).grey(true);
//! let mut bytes = Vec::new();
//! let mut video = VideoWriter::new(VideoFormat::Gif, &spec, &mut bytes)?;
//! for (i, ticks) in [(0u8, 1), (100, 1), (200, 3)] {
//!     video.push(&DynamicImage::ImageLuma8(GrayImage::from_pixel(8, 6, image::Luma([i]))), ticks)?;
//! }
//! let summary = video.finish()?;
//! assert_eq!((summary.frames, summary.ticks), (3, 5));
//! assert_eq!(&bytes[..6], b"GIF89a");
//! # Ok::<(), nao_video::VideoError>(())
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod animated_gif;
mod apng;
mod error;
mod format;
#[cfg(feature = "mp4")]
mod h264;
mod spec;
mod timing;

use std::io::Write;
use std::path::Path;

use image::DynamicImage;

pub use error::VideoError;
pub use format::VideoFormat;
pub use spec::{VideoSpec, MAX_FPS, MAX_GIF_FPS};
pub use timing::centisecond_delays;

/// What a finished video holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoSummary {
    /// Distinct frames written.
    pub frames: u32,
    /// Their total duration in frame periods (`1/fps`).
    pub ticks: u64,
}

/// An animation being written, frame by frame (see the crate docs).
pub struct VideoWriter<'w> {
    inner: Sink<'w>,
    spec: VideoSpec,
    frames: u32,
    ticks: u64,
}

enum Sink<'w> {
    Gif(animated_gif::GifSink<'w>),
    Apng(apng::ApngSink<'w>),
    // boxed: the muxer's state is large
    #[cfg(feature = "mp4")]
    Mp4(Box<h264::Mp4Sink<'w>>),
}

impl<'w> VideoWriter<'w> {
    /// Start a video of `format` with `spec` on `out` (the format's header is written now).
    pub fn new(
        format: VideoFormat,
        spec: &VideoSpec,
        out: &'w mut dyn Write,
    ) -> Result<Self, VideoError> {
        spec.check(format)?;
        let inner = match format {
            VideoFormat::Gif => Sink::Gif(animated_gif::GifSink::new(spec, out)?),
            VideoFormat::Apng => Sink::Apng(apng::ApngSink::new(spec, out)?),
            #[cfg(feature = "mp4")]
            VideoFormat::Mp4 => Sink::Mp4(Box::new(h264::Mp4Sink::new(spec, out)?)),
            #[cfg(not(feature = "mp4"))]
            VideoFormat::Mp4 => return Err(VideoError::Unavailable(format)),
        };
        Ok(Self {
            inner,
            spec: spec.clone(),
            frames: 0,
            ticks: 0,
        })
    }

    /// Add a frame shown for `ticks ≥ 1` frame periods. Its size must be the spec's; a colour
    /// frame of a grey video is converted to grey (and a grey frame of a colour video to RGB).
    pub fn push(&mut self, frame: &DynamicImage, ticks: u32) -> Result<(), VideoError> {
        let index = self.frames;
        if index >= self.spec.frames {
            return Err(VideoError::Frames(format!(
                "frame {index} is one more than the {} the video was started with",
                self.spec.frames
            )));
        }
        if ticks == 0 {
            return Err(VideoError::Frames(format!(
                "frame {index} lasts 0 frame periods; every frame lasts at least one"
            )));
        }
        if (frame.width(), frame.height()) != (self.spec.width, self.spec.height) {
            return Err(VideoError::Frames(format!(
                "frame {index} is {}×{} but the video is {}×{}",
                frame.width(),
                frame.height(),
                self.spec.width,
                self.spec.height
            )));
        }
        let pixels = if self.spec.grey {
            frame.to_luma8().into_raw()
        } else {
            frame.to_rgb8().into_raw()
        };
        match &mut self.inner {
            Sink::Gif(s) => s.push(&pixels, ticks)?,
            Sink::Apng(s) => s.push(&pixels, ticks)?,
            #[cfg(feature = "mp4")]
            Sink::Mp4(s) => s.push(&pixels, ticks)?,
        }
        self.frames += 1;
        self.ticks += u64::from(ticks);
        Ok(())
    }

    /// Write the trailer (and, for MP4, the index and the whole file). Every frame announced
    /// in the spec must have been pushed.
    pub fn finish(self) -> Result<VideoSummary, VideoError> {
        if self.frames != self.spec.frames {
            return Err(VideoError::Frames(format!(
                "{} frame(s) pushed but the video was started with {}",
                self.frames, self.spec.frames
            )));
        }
        match self.inner {
            Sink::Gif(s) => s.finish()?,
            Sink::Apng(s) => s.finish()?,
            #[cfg(feature = "mp4")]
            Sink::Mp4(s) => s.finish()?,
        }
        Ok(VideoSummary {
            frames: self.frames,
            ticks: self.ticks,
        })
    }
}

/// The `ffmpeg` command line that encodes a folder of frames `00000.png`, `00001.png`, … (one
/// file per frame period, held frames repeated) at `fps` into an H.264 MP4 that plays
/// everywhere (`yuv420p`; the scale filter rounds odd sizes down to even ones).
///
/// ```
/// let line = nao_video::ffmpeg_command(std::path::Path::new("frames"), 25, std::path::Path::new("walk.mp4"));
/// assert_eq!(line, "ffmpeg -framerate 25 -i 'frames/%05d.png' -vf 'scale=trunc(iw/2)*2:trunc(ih/2)*2' -c:v libx264 -pix_fmt yuv420p -crf 18 'walk.mp4'");
/// ```
pub fn ffmpeg_command(frames_dir: &Path, fps: u32, output: &Path) -> String {
    format!(
        "ffmpeg -framerate {fps} -i {} -vf 'scale=trunc(iw/2)*2:trunc(ih/2)*2' -c:v libx264 \
         -pix_fmt yuv420p -crf 18 {}",
        shell_quote(&frames_dir.join(FRAME_PATTERN).display().to_string()),
        shell_quote(&output.display().to_string())
    )
}

/// The file-name pattern of a frames folder, as `ffmpeg` reads it.
pub const FRAME_PATTERN: &str = "%05d.png";

/// The name of frame `index` in a frames folder (`00000.png`, …; more digits past 99 999).
///
/// ```
/// assert_eq!(nao_video::frame_file_name(7), "00007.png");
/// ```
pub fn frame_file_name(index: usize) -> String {
    format!("{index:05}.png")
}

/// Quote a word for a POSIX shell.
fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}
