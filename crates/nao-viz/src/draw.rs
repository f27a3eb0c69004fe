//! Clipped raster primitives shared by the grid and the plots. Coordinates are `i64` so
//! callers can compute positions left of or above the image without overflow or wrap-around.

use image::{Rgb, RgbImage};

/// Fills the part of the `w`×`h` rectangle at (`x`, `y`) that lies inside the image.
pub(crate) fn fill_rect(img: &mut RgbImage, x: i64, y: i64, w: i64, h: i64, color: [u8; 3]) {
    let (iw, ih) = (i64::from(img.width()), i64::from(img.height()));
    for yy in y.max(0)..(y + h).min(ih) {
        for xx in x.max(0)..(x + w).min(iw) {
            img.put_pixel(xx as u32, yy as u32, Rgb(color));
        }
    }
}

/// A straight line from `from` to `to`, `thick` pixels wide (the pen extends
/// right and down), clipped to the image.
pub(crate) fn line(img: &mut RgbImage, from: (i64, i64), to: (i64, i64), thick: i64, c: [u8; 3]) {
    // Bresenham; the caller keeps endpoints near the image so the loop stays short.
    let (mut x, mut y) = from;
    let (dx, dy) = ((to.0 - x).abs(), -(to.1 - y).abs());
    let (sx, sy) = (if x < to.0 { 1 } else { -1 }, if y < to.1 { 1 } else { -1 });
    let mut err = dx + dy;
    loop {
        fill_rect(img, x, y, thick, thick, c);
        if (x, y) == to {
            break;
        }
        let e2 = 2 * err;
        if e2 >= dy {
            err += dy;
            x += sx;
        }
        if e2 <= dx {
            err += dx;
            y += sy;
        }
    }
}

/// `color` mixed with white, `alpha` of the colour: faint guide lines that do not compete
/// with the data drawn in full colour.
pub(crate) fn tint(color: [u8; 3], alpha: f64) -> [u8; 3] {
    color.map(|c| (255.0 - (255.0 - f64::from(c)) * alpha).round() as u8)
}
