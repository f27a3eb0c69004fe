//! What a video is: its size, frame rate, frame count and colour, and whether a format can
//! hold it.

use std::path::Path;

use crate::error::VideoError;
use crate::format::VideoFormat;

impl VideoFormat {
    /// The format of a file name's extension (`.gif`; `.png` or `.apng`; `.mp4`), in any case.
    ///
    /// ```
    /// use nao_video::VideoFormat;
    /// assert_eq!(VideoFormat::from_path("a/walk.GIF".as_ref())?, VideoFormat::Gif);
    /// assert_eq!(VideoFormat::from_path("walk.png".as_ref())?, VideoFormat::Apng);
    /// assert!(VideoFormat::from_path("walk.avi".as_ref()).is_err());
    /// # Ok::<(), nao_video::VideoError>(())
    /// ```
    pub fn from_path(path: &Path) -> Result<Self, VideoError> {
        let ext = path
            .extension()
            .map(|e| e.to_string_lossy().to_ascii_lowercase())
            .unwrap_or_default();
        match ext.as_str() {
            "gif" => Ok(Self::Gif),
            "png" | "apng" => Ok(Self::Apng),
            "mp4" => Ok(Self::Mp4),
            _ => Err(VideoError::UnknownFormat(path.display().to_string())),
        }
    }
}

/// The highest frame rate any format takes.
pub const MAX_FPS: u32 = 120;

/// The highest GIF frame rate: browsers play delays under 2 cs as 10 cs.
pub const MAX_GIF_FPS: u32 = 50;

/// A video's frame size, frame rate, frame count and colour.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoSpec {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Frame periods per second.
    pub fps: u32,
    /// Distinct frames that will be pushed (APNG writes the count in its header).
    pub frames: u32,
    /// One grey channel instead of RGB (GIF: an exact grey palette; APNG: a grey PNG).
    pub grey: bool,
}

impl VideoSpec {
    /// An RGB video of `frames` frames of `width × height` at `fps`.
    pub fn new(width: u32, height: u32, fps: u32, frames: u32) -> Self {
        Self {
            width,
            height,
            fps,
            frames,
            grey: false,
        }
    }

    /// The same video in grey (`true`) or RGB.
    pub fn grey(mut self, grey: bool) -> Self {
        self.grey = grey;
        self
    }

    /// Whether `format` can hold this video; the error names the limit.
    pub fn check(&self, format: VideoFormat) -> Result<(), VideoError> {
        if !format.is_available() {
            return Err(VideoError::Unavailable(format));
        }
        let bad = |reason: String| Err(VideoError::Spec { format, reason });
        if self.width == 0 || self.height == 0 {
            return bad(format!(
                "frames of {}×{} have no pixels",
                self.width, self.height
            ));
        }
        let max_side = match format {
            VideoFormat::Apng => 1 << 24,
            VideoFormat::Gif | VideoFormat::Mp4 => u32::from(u16::MAX),
        };
        if self.width > max_side || self.height > max_side {
            return bad(format!(
                "frames of {}×{} exceed the format's largest side, {max_side}",
                self.width, self.height
            ));
        }
        if self.frames == 0 {
            return bad("a video needs at least one frame".into());
        }
        let max_fps = match format {
            VideoFormat::Gif => MAX_GIF_FPS,
            _ => MAX_FPS,
        };
        if self.fps == 0 || self.fps > max_fps {
            return bad(format!(
                "{} fps is not a frame rate it takes: 1 to {max_fps}{}",
                self.fps,
                if format == VideoFormat::Gif {
                    " (browsers play GIF delays under 2/100 s as 1/10 s)"
                } else {
                    ""
                }
            ));
        }
        if format == VideoFormat::Mp4 && (self.width % 2 != 0 || self.height % 2 != 0) {
            return bad(format!(
                "H.264 in 4:2:0 needs an even width and height, and the frames are {}×{} \
                 (scale them by 2)",
                self.width, self.height
            ));
        }
        Ok(())
    }
}
