//! The one error type of the crate.

use crate::format::VideoFormat;

/// Why a video could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VideoError {
    /// A file name whose extension names no format this crate writes.
    #[error("{0}: unknown video format (use .gif, .png or .apng for an animated PNG, or .mp4)")]
    UnknownFormat(String),
    /// A format this build does not include.
    #[error(
        "this build has no {0} encoder: build nao with the Cargo feature `mp4` (OpenH264 from \
         its bundled source; needs a C++ compiler), or write the frames as PNG files and encode \
         them with ffmpeg"
    )]
    Unavailable(VideoFormat),
    /// A size, rate or frame count the format cannot hold.
    #[error("{format}: {reason}")]
    Spec {
        /// The format.
        format: VideoFormat,
        /// What does not fit.
        reason: String,
    },
    /// A frame that does not fit the video, or a frame count that does not match.
    #[error("{0}")]
    Frames(String),
    /// The encoder failed (most often: writing failed).
    #[error("{format} encoding failed: {message}")]
    Encode {
        /// The format.
        format: VideoFormat,
        /// The encoder's message.
        message: String,
    },
}

impl VideoError {
    /// An encoder failure of `format`.
    pub(crate) fn encode(format: VideoFormat, e: impl std::fmt::Display) -> Self {
        Self::Encode {
            format,
            message: e.to_string(),
        }
    }
}
