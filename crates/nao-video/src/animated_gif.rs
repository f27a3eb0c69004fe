//! GIF: an exact grey palette for grey frames, a NeuQuant palette per colour frame.

use std::io::Write;

use gif::{Encoder, Frame, Repeat};

use crate::timing::CentisecondClock;
use crate::{VideoError, VideoFormat, VideoSpec};

/// Pixels NeuQuant learns a palette from, at least: its sampling factor (1 learns from every
/// pixel … 30 from one in 30) is chosen so that it sees about this many, capped at 10.
/// Measured on 12 frames of a 256×256 photo: every pixel 36.3 dB worst-frame PSNR at 63 ms a
/// frame, one in ten 34.0 dB at 18 ms; on 48×32 frames one in ten falls to 23.5 dB.
const NEUQUANT_PIXELS: usize = 1 << 16;

fn fail(e: impl std::fmt::Display) -> VideoError {
    VideoError::encode(VideoFormat::Gif, e)
}

/// A GIF being written.
pub(crate) struct GifSink<'w> {
    encoder: Encoder<&'w mut dyn Write>,
    width: u16,
    height: u16,
    grey: bool,
    clock: CentisecondClock,
}

impl<'w> GifSink<'w> {
    /// Write the header (with the grey palette for a grey video) and the loop extension.
    pub(crate) fn new(spec: &VideoSpec, out: &'w mut dyn Write) -> Result<Self, VideoError> {
        // `VideoSpec::check` has bounded both sides by u16::MAX.
        let (width, height) = (spec.width as u16, spec.height as u16);
        let palette: Vec<u8> = if spec.grey {
            (0..=255u8).flat_map(|v| [v, v, v]).collect()
        } else {
            Vec::new()
        };
        let mut encoder = Encoder::new(out, width, height, &palette).map_err(fail)?;
        encoder.set_repeat(Repeat::Infinite).map_err(fail)?;
        Ok(Self {
            encoder,
            width,
            height,
            grey: spec.grey,
            clock: CentisecondClock::new(spec.fps),
        })
    }

    /// Add a frame (grey levels or RGB triples, row by row) lasting `ticks` frame periods.
    pub(crate) fn push(&mut self, pixels: &[u8], ticks: u32) -> Result<(), VideoError> {
        let delay = self.clock.advance(ticks);
        let delay = u16::try_from(delay).map_err(|_| {
            VideoError::Frames(format!(
                "a frame of {delay}/100 s is longer than a GIF frame can last (655.35 s)"
            ))
        })?;
        let mut frame = if self.grey {
            // the global palette's index i is grey level i
            Frame::from_indexed_pixels(self.width, self.height, pixels.to_vec(), None)
        } else {
            let pixels_per_frame = usize::from(self.width) * usize::from(self.height);
            let speed = (pixels_per_frame / NEUQUANT_PIXELS).clamp(1, 10) as i32;
            Frame::from_rgb_speed(self.width, self.height, pixels, speed)
        };
        frame.delay = delay;
        self.encoder.write_frame(&frame).map_err(fail)
    }

    /// Write the trailer.
    pub(crate) fn finish(self) -> Result<(), VideoError> {
        let out = self.encoder.into_inner().map_err(fail)?;
        out.flush().map_err(fail)
    }
}
