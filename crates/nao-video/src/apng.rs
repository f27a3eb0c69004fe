//! Animated PNG: lossless, grey or RGB, delays exact.

use std::io::Write;

use png::{BitDepth, ColorType, Encoder, Writer};

use crate::{VideoError, VideoFormat, VideoSpec};

fn fail(e: impl std::fmt::Display) -> VideoError {
    VideoError::encode(VideoFormat::Apng, e)
}

/// An APNG being written.
pub(crate) struct ApngSink<'w> {
    writer: Writer<&'w mut dyn Write>,
    fps: u16,
}

impl<'w> ApngSink<'w> {
    /// Write the signature, the header and the animation control chunk (frame count, looping
    /// forever).
    pub(crate) fn new(spec: &VideoSpec, out: &'w mut dyn Write) -> Result<Self, VideoError> {
        let mut encoder = Encoder::new(out, spec.width, spec.height);
        encoder.set_color(if spec.grey {
            ColorType::Grayscale
        } else {
            ColorType::Rgb
        });
        encoder.set_depth(BitDepth::Eight);
        encoder.set_animated(spec.frames, 0).map_err(fail)?;
        let writer = encoder.write_header().map_err(fail)?;
        Ok(Self {
            writer,
            // `VideoSpec::check` has bounded the rate by MAX_FPS.
            fps: spec.fps as u16,
        })
    }

    /// Add a frame lasting `ticks/fps` seconds.
    pub(crate) fn push(&mut self, pixels: &[u8], ticks: u32) -> Result<(), VideoError> {
        let ticks = u16::try_from(ticks).map_err(|_| {
            VideoError::Frames(format!(
                "a frame of {ticks} frame periods is longer than an APNG delay can say (65535)"
            ))
        })?;
        self.writer.set_frame_delay(ticks, self.fps).map_err(fail)?;
        self.writer.write_image_data(pixels).map_err(fail)
    }

    /// Write the end chunk.
    pub(crate) fn finish(self) -> Result<(), VideoError> {
        self.writer.finish().map_err(fail)
    }
}
