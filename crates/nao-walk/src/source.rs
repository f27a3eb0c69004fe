//! Where frames come from: anything that turns a seed into an image. The model-backed source
//! is [`ModelFrames`](crate::ModelFrames) (DDIM sampling, cached in the work folder); a test or
//! a preview can implement [`FrameSource`] with a closed-form picture.

use image::DynamicImage;

use crate::progress::Progress;
use crate::Result;

/// Turns seeds into frames. The same seed must always give the same image: placement and
/// playing read a frame again rather than keep it in memory.
///
/// ```
/// use image::{DynamicImage, GrayImage, Luma};
/// use nao_walk::{FrameSource, Progress, Result};
///
/// /// A flat grey frame as bright as the seed's first element.
/// struct Brightness;
///
/// impl FrameSource for Brightness {
///     fn frame(&mut self, seed: &[f64], _: &mut Progress<'_>) -> Result<DynamicImage> {
///         let v = (seed[0].clamp(0.0, 1.0) * 255.0).round() as u8;
///         Ok(DynamicImage::ImageLuma8(GrayImage::from_pixel(8, 8, Luma([v]))))
///     }
/// }
///
/// let img = Brightness.frame(&[0.5], &mut nao_walk::quiet)?;
/// assert_eq!(img.to_luma8()[(0, 0)], Luma([128]));
/// # Ok::<(), nao_walk::WalkError>(())
/// ```
pub trait FrameSource {
    /// The frame of `seed` (made now, or read back from a cache). A source that runs a model
    /// reports its steps to `progress` and stops when it answers `Break`.
    fn frame(&mut self, seed: &[f64], progress: &mut Progress<'_>) -> Result<DynamicImage>;

    /// Make the frames of `seeds` ready for [`frame`](Self::frame) (a model source samples and
    /// caches the missing ones, as one stage called `what` for progress). The default does
    /// nothing: frames are made when asked for.
    fn prefetch(
        &mut self,
        seeds: &[Vec<f64>],
        what: &str,
        progress: &mut Progress<'_>,
    ) -> Result<()> {
        let _ = (seeds, what, progress);
        Ok(())
    }

    /// Whether the frame of `seed` came from a cache rather than being made by this source
    /// (the `cached` flag of [`FrameStats`](crate::FrameStats)). The default: never.
    fn was_cached(&self, seed: &[f64]) -> bool {
        let _ = seed;
        false
    }
}
