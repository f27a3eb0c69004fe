//! How much an image changes from one frame to the next: the mean absolute difference of the
//! two images, in `[0, 1]` units per channel, after both are shrunk (by a triangle filter) to
//! at most [`THUMBNAIL_SIDE`] pixels on their longer side. Shrinking first makes the measure
//! cheap, blind to pixel-level noise and to the codec's dithering, and about the same for one
//! picture at 64 or 512 pixels.

use image::imageops::{self, FilterType};
use image::DynamicImage;

/// The longer side of the shrunk images compared.
pub const THUMBNAIL_SIDE: u32 = 64;

/// A frame as the image-change measure sees it: shrunk to at most [`THUMBNAIL_SIDE`] pixels on
/// its longer side, channels in `[0, 1]`.
///
/// ```
/// use image::{DynamicImage, GrayImage, Luma};
/// use nao_walk::Thumbnail;
/// let black = DynamicImage::ImageLuma8(GrayImage::new(28, 28));
/// let grey = DynamicImage::ImageLuma8(GrayImage::from_pixel(28, 28, Luma([51])));
/// let d = Thumbnail::of(&black).distance(&Thumbnail::of(&grey));
/// assert!((d - 0.2).abs() < 1e-6); // 51/255
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail(Vec<f32>);

impl Thumbnail {
    /// The shrunk image's channels in `[0, 1]` (grey stays one channel).
    pub fn of(img: &DynamicImage) -> Self {
        let (w, h) = (img.width().max(1), img.height().max(1));
        let scale = (f64::from(THUMBNAIL_SIDE) / f64::from(w.max(h))).min(1.0);
        let (sw, sh) = (
            ((f64::from(w) * scale).round() as u32).max(1),
            ((f64::from(h) * scale).round() as u32).max(1),
        );
        let values: Vec<u8> = if img.color().channel_count() == 1 {
            let g = img.to_luma8();
            if scale < 1.0 {
                imageops::resize(&g, sw, sh, FilterType::Triangle).into_raw()
            } else {
                g.into_raw()
            }
        } else {
            let c = img.to_rgb8();
            if scale < 1.0 {
                imageops::resize(&c, sw, sh, FilterType::Triangle).into_raw()
            } else {
                c.into_raw()
            }
        };
        Self(values.into_iter().map(|v| f32::from(v) / 255.0).collect())
    }

    /// The mean absolute difference to `other` (accumulated in f64).
    pub fn distance(&self, other: &Thumbnail) -> f64 {
        let n = self.0.len().min(other.0.len()).max(1);
        self.0
            .iter()
            .zip(&other.0)
            .map(|(a, b)| f64::from((a - b).abs()))
            .sum::<f64>()
            / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayImage, RgbImage};

    #[test]
    fn distance_is_the_mean_absolute_difference_at_any_size() {
        let black = DynamicImage::ImageLuma8(GrayImage::new(28, 28));
        let grey = DynamicImage::ImageLuma8(GrayImage::from_pixel(28, 28, image::Luma([51])));
        let d = Thumbnail::of(&black).distance(&Thumbnail::of(&grey));
        assert!((d - 0.2).abs() < 1e-6, "{d}");
        // a 512² picture and its 64² version measure alike
        let big =
            |v| DynamicImage::ImageRgb8(RgbImage::from_pixel(512, 256, image::Rgb([v, 0, v])));
        let f = Thumbnail::of(&big(255));
        assert_eq!(f.0.len(), 64 * 32 * 3);
        let d = f.distance(&Thumbnail::of(&big(0)));
        assert!((d - 2.0 / 3.0).abs() < 1e-6, "{d}");
        assert_eq!(f.distance(&f), 0.0);
    }
}
