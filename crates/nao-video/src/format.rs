//! The formats a video can be written in.

use std::fmt;

/// A video container and codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoFormat {
    /// Looping GIF.
    Gif,
    /// Looping animated PNG.
    Apng,
    /// H.264 in MP4 (the `mp4` feature).
    Mp4,
}

impl VideoFormat {
    /// Every format, in a stable order.
    pub const ALL: [VideoFormat; 3] = [VideoFormat::Gif, VideoFormat::Apng, VideoFormat::Mp4];

    /// The format's name: `gif`, `apng`, `mp4`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Gif => "gif",
            Self::Apng => "apng",
            Self::Mp4 => "mp4",
        }
    }

    /// Whether this build can write the format (MP4 needs the `mp4` feature).
    pub fn is_available(&self) -> bool {
        !matches!(self, Self::Mp4) || cfg!(feature = "mp4")
    }
}

impl fmt::Display for VideoFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
