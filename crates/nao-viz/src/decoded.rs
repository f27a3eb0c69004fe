//! Decoded images out: a VAE decoder's output (channel-planar floats in `[0, 1]`) as an 8-bit
//! image, PNG bytes, numbered file names, and the contact sheet of many images.

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageFormat, RgbImage};

use crate::VizError;

/// The longest side of a contact sheet; larger grids get smaller tiles.
pub const MAX_SHEET_SIDE: usize = 4096;

/// One decoded image `[channels, height, width]` in `[0, 1]` (channel-planar, 1 or 3
/// channels) as an 8-bit image, rounded as diffusers' `numpy_to_pil` rounds (`round(v·255)`,
/// ties to even).
///
/// ```
/// // 0.5·255 = 127.5 rounds to even (128); channel-planar → interleaved
/// let img = nao_viz::decoded_image(&[0.5, 0.0, 1.0, 2.0, -1.0, 0.2], 3, 1, 2)?.to_rgb8();
/// assert_eq!(img.as_raw(), &vec![128, 255, 0, 0, 255, 51]);
/// # Ok::<(), nao_viz::VizError>(())
/// ```
pub fn decoded_image(
    data: &[f32],
    channels: usize,
    height: usize,
    width: usize,
) -> Result<DynamicImage, VizError> {
    let n = height
        .checked_mul(width)
        .filter(|&n| n > 0 && u32::try_from(height).is_ok() && u32::try_from(width).is_ok())
        .ok_or_else(|| VizError::Shape(format!("an image of {height}×{width} pixels")))?;
    if !matches!(channels, 1 | 3) || data.len() != channels * n {
        return Err(VizError::Shape(format!(
            "{} values for an image of {channels} channel(s) of {height}×{width} (1 or 3 \
             channels, channel-planar)",
            data.len()
        )));
    }
    let byte = |v: f32| (v.clamp(0.0, 1.0) * 255.0).round_ties_even() as u8;
    let (w, h) = (width as u32, height as u32);
    let image = if channels == 1 {
        let raw = data.iter().map(|&v| byte(v)).collect();
        GrayImage::from_raw(w, h, raw).map(DynamicImage::ImageLuma8)
    } else {
        let mut raw = Vec::with_capacity(3 * n);
        for i in 0..n {
            for c in 0..3 {
                raw.push(byte(data[c * n + i]));
            }
        }
        RgbImage::from_raw(w, h, raw).map(DynamicImage::ImageRgb8)
    };
    image.ok_or_else(|| VizError::Shape(format!("an image of {height}×{width} pixels")))
}

/// The PNG file of an image, in memory.
pub fn png_bytes(img: &DynamicImage) -> Result<Vec<u8>, VizError> {
    let mut buf = std::io::Cursor::new(Vec::new());
    img.write_to(&mut buf, ImageFormat::Png)
        .map_err(|source| VizError::Image {
            path: "<png>".into(),
            source,
        })?;
    Ok(buf.into_inner())
}

/// `000.png`, `001.png`, …: zero-padded to at least three digits, more when `count` needs.
///
/// ```
/// assert_eq!(nao_viz::image_name(7, 1000), "007.png");
/// assert_eq!(nao_viz::image_name(7, 1001), "0007.png");
/// ```
pub fn image_name(index: usize, count: usize) -> String {
    let digits = count.saturating_sub(1).max(1).to_string().len().max(3);
    format!("{index:0digits$}.png")
}

/// A grid of tiles: `cols = ⌈√n⌉` columns, as many rows as needed, filled row by row on a
/// black background; tiles shrink so that neither side exceeds [`MAX_SHEET_SIDE`].
#[derive(Debug)]
pub struct ContactSheet {
    cols: usize,
    rows: usize,
    tile: (u32, u32),
    canvas: RgbImage,
}

impl ContactSheet {
    /// An empty sheet for `count` images of `height × width`.
    pub fn new(count: usize, height: usize, width: usize) -> Self {
        let count = count.max(1);
        let cols = (1..).find(|c| c * c >= count).unwrap_or(count);
        let rows = count.div_ceil(cols);
        let scale = 1f64
            .min(MAX_SHEET_SIDE as f64 / (cols * width.max(1)) as f64)
            .min(MAX_SHEET_SIDE as f64 / (rows * height.max(1)) as f64);
        let tile_w = ((width as f64 * scale).floor() as u32).max(1);
        let tile_h = ((height as f64 * scale).floor() as u32).max(1);
        Self {
            cols,
            rows,
            tile: (tile_w, tile_h),
            canvas: RgbImage::new(tile_w * cols as u32, tile_h * rows as u32),
        }
    }

    /// Columns and rows of the grid.
    pub fn grid(&self) -> (usize, usize) {
        (self.cols, self.rows)
    }

    /// Put image `index` in its cell (scaled to the tile size when needed); an index past the
    /// grid is ignored.
    pub fn place(&mut self, index: usize, img: &DynamicImage) {
        if index >= self.cols * self.rows {
            return;
        }
        let (tw, th) = self.tile;
        let rgb = img.to_rgb8();
        let tile = if (rgb.width(), rgb.height()) == (tw, th) {
            rgb
        } else {
            imageops::resize(&rgb, tw, th, FilterType::Triangle)
        };
        let x = (index % self.cols) as i64 * i64::from(tw);
        let y = (index / self.cols) as i64 * i64::from(th);
        imageops::replace(&mut self.canvas, &tile, x, y);
    }

    /// The sheet.
    pub fn into_image(self) -> DynamicImage {
        DynamicImage::ImageRgb8(self.canvas)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grids_and_bad_shapes() {
        assert_eq!(image_name(0, 1), "000.png");
        assert_eq!(ContactSheet::new(1, 64, 64).grid(), (1, 1));
        assert_eq!(ContactSheet::new(3, 64, 64).grid(), (2, 2));
        assert_eq!(ContactSheet::new(10, 64, 64).grid(), (4, 3));
        let big = ContactSheet::new(100, 512, 512).into_image();
        assert!(big.width() as usize <= MAX_SHEET_SIDE);
        assert!(decoded_image(&[0.0; 5], 1, 2, 2).is_err());
        assert!(decoded_image(&[0.0; 8], 2, 2, 2).is_err());
        assert!(decoded_image(&[], 1, 0, 0).is_err());
        let png = png_bytes(&decoded_image(&[0.5; 4], 1, 2, 2).unwrap()).unwrap();
        assert_eq!(&png[1..4], b"PNG");
    }
}
