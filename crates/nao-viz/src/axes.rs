//! What the two plots share: data-to-pixel scales, "nice" tick positions and labels, the
//! plot frame with its grid and tick labels, and the colour palette.

use image::{Rgb, RgbImage};

use crate::draw::{fill_rect, line};
use crate::grid::MAX_PIXELS;
use crate::text::{draw_text, text_width, GLYPH_SIZE};
use crate::VizError;

pub(crate) const INK: [u8; 3] = [0, 0, 0];
pub(crate) const GRID: [u8; 3] = [228, 228, 228];
/// Vertical space taken by the title (scale-2 text) and the gaps around it.
pub(crate) const TITLE_H: i64 = 36;

/// Ten colours far enough apart to tell series and marker groups apart (matplotlib's
/// `tab10`); `i` wraps around.
///
/// ```
/// assert_ne!(nao_viz::palette(0), nao_viz::palette(9));
/// assert_eq!(nao_viz::palette(0), nao_viz::palette(10));
/// ```
pub fn palette(i: usize) -> [u8; 3] {
    const COLOURS: [[u8; 3]; 10] = [
        [31, 119, 180],
        [214, 39, 40],
        [44, 160, 44],
        [255, 127, 14],
        [148, 103, 189],
        [140, 86, 75],
        [227, 119, 194],
        [23, 190, 207],
        [127, 127, 127],
        [188, 189, 34],
    ];
    COLOURS[i % COLOURS.len()]
}

/// A linear map from the data interval [`lo`, `hi`] to the pixel interval [`p0`, `p1`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub lo: f64,
    pub hi: f64,
    pub p0: i64,
    pub p1: i64,
}

impl Scale {
    pub fn px(&self, v: f64) -> i64 {
        let t = (v - self.lo) / (self.hi - self.lo);
        (self.p0 as f64 + t * (self.p1 - self.p0) as f64).round() as i64
    }
}

/// The range of the finite `values`, widened by `margin` of its span on each side; a single
/// value gets a unit-sized range around it so the scale never divides by zero.
pub(crate) fn range(values: impl Iterator<Item = f64>, margin: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let span = hi - lo;
    if span <= f64::EPSILON * lo.abs().max(1.0) {
        let pad = (lo.abs() * 0.05).max(0.5);
        return Some((lo - pad, hi + pad));
    }
    Some((lo - margin * span, hi + margin * span))
}

/// The range a plot was given (`given`, checked: finite, increasing) or else the data's.
pub(crate) fn given_range(
    given: Option<(f64, f64)>,
    data: (f64, f64),
    what: &str,
) -> Result<(f64, f64), VizError> {
    match given {
        None => Ok(data),
        Some((lo, hi)) if lo.is_finite() && hi.is_finite() && lo < hi => Ok((lo, hi)),
        Some(r) => Err(VizError::Invalid(format!(
            "{what} {r:?} must be two finite numbers, the first below the second"
        ))),
    }
}

/// Pictures of one width stacked from top to bottom (figures of several panels that share
/// an x axis: [`crate::LinePlot`]s and a [`crate::DensityPlot`] with the same `x_range`,
/// `width` and `min_left`).
///
/// ```
/// use nao_viz::{stack_vertically, LinePlot, Series, palette};
/// let mut a = LinePlot::new("a");
/// a.series.push(Series { name: "s".into(), points: vec![(0.0, 1.0), (1.0, 2.0)], color: palette(0) });
/// let b = a.clone();
/// let both = stack_vertically(&[a.render()?, b.render()?])?;
/// assert_eq!(both.dimensions(), (800, 1000));
/// # Ok::<(), nao_viz::VizError>(())
/// ```
pub fn stack_vertically(parts: &[RgbImage]) -> Result<RgbImage, VizError> {
    let width = parts
        .first()
        .map(|p| p.width())
        .ok_or_else(|| VizError::Empty("no pictures to stack".into()))?;
    if let Some(p) = parts.iter().find(|p| p.width() != width) {
        return Err(VizError::Invalid(format!(
            "pictures to stack differ in width: {} and {width}",
            p.width()
        )));
    }
    let height: u64 = parts.iter().map(|p| u64::from(p.height())).sum();
    if u64::from(width) * height > MAX_PIXELS {
        return Err(VizError::Invalid(format!(
            "stacked picture {width}×{height} is over {MAX_PIXELS} pixels"
        )));
    }
    let mut out = blank(width, height as u32);
    let mut y0 = 0;
    for p in parts {
        image::imageops::replace(&mut out, p, 0, y0);
        y0 += i64::from(p.height());
    }
    Ok(out)
}

/// Tick positions (and their step) at 1, 2 or 5 × 10ᵏ steps, at most about `max_n` of them, inside [lo, hi].
pub(crate) fn ticks(lo: f64, hi: f64, max_n: usize) -> (Vec<f64>, f64) {
    let raw = (hi - lo) / max_n.max(1) as f64;
    if !(raw.is_finite() && raw > 0.0) {
        return (Vec::new(), 1.0);
    }
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (
        (first..=last).take(100).map(|k| k as f64 * step).collect(),
        step,
    )
}

/// A short label for a tick value on a grid of `step`: as many decimals as the step needs,
/// trailing zeros dropped, scientific notation for very large or very small magnitudes.
pub(crate) fn fmt_tick(v: f64, step: f64) -> String {
    let a = v.abs();
    if a < step.abs() * 1e-6 {
        return "0".into();
    }
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.1e}");
    }
    let decimals = (-step.abs().log10().floor() as i64).clamp(0, 6) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Rejects pictures too small to hold axes and labels, or too large to allocate.
pub(crate) fn check_size(width: u32, height: u32, min: (u32, u32)) -> Result<(), VizError> {
    if width < min.0 || height < min.1 || u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(VizError::Invalid(format!(
            "plot size {width}×{height}: needs at least {}×{} and at most {MAX_PIXELS} pixels",
            min.0, min.1
        )));
    }
    Ok(())
}

/// A white picture of a size that passed [`check_size`].
pub(crate) fn blank(width: u32, height: u32) -> RgbImage {
    RgbImage::from_pixel(width, height, Rgb([255; 3]))
}

/// The title, centred at the top.
pub(crate) fn title(img: &mut RgbImage, text: &str) {
    let x = (i64::from(img.width()) - i64::from(text_width(text, 2))) / 2;
    draw_text(img, x.max(4) as i32, 10, text, INK, 2);
}

/// Vertical grid lines from `top` to `bottom` and tick labels under `bottom`.
pub(crate) fn x_ticks(img: &mut RgbImage, x: &Scale, top: i64, bottom: i64, label_y: i64) {
    let (marks, step) = ticks(x.lo, x.hi, 8);
    for t in marks {
        let px = x.px(t);
        line(img, (px, top), (px, bottom), 1, GRID);
        let label = fmt_tick(t, step);
        let lx = px - i64::from(text_width(&label, 1)) / 2;
        draw_text(img, lx as i32, label_y as i32, &label, INK, 1);
    }
}

/// Horizontal grid lines across [`left`, `right`] at each `(value, label)`, labels
/// right-aligned just left of the axis.
pub(crate) fn y_ticks(
    img: &mut RgbImage,
    y: &Scale,
    marks: &[(f64, String)],
    left: i64,
    right: i64,
) {
    for (v, label) in marks {
        let py = y.px(*v);
        line(img, (left, py), (right, py), 1, GRID);
        let lx = left - 6 - i64::from(text_width(label, 1));
        draw_text(
            img,
            lx as i32,
            (py - i64::from(GLYPH_SIZE) / 2) as i32,
            label,
            INK,
            1,
        );
    }
}

/// Width of the widest label, for sizing the left margin.
pub(crate) fn widest(labels: impl Iterator<Item = impl AsRef<str>>) -> i64 {
    labels
        .map(|l| i64::from(text_width(l.as_ref(), 1)))
        .max()
        .unwrap_or(0)
}

/// The left and bottom axis lines of the rectangle [left, right] × [top, bottom].
pub(crate) fn axis_lines(img: &mut RgbImage, left: i64, right: i64, top: i64, bottom: i64) {
    fill_rect(img, left, top, 1, bottom - top + 1, INK);
    fill_rect(img, left, bottom, right - left + 1, 1, INK);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside() {
        assert_eq!(
            ticks(0.0, 10.0, 5),
            (vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 2.0)
        );
        assert!(ticks(0.13, 0.31, 4)
            .0
            .iter()
            .all(|t| (0.13..=0.31).contains(t)));
        assert!(ticks(1.0, 1.0, 5).0.is_empty());
    }

    #[test]
    fn tick_labels_are_short() {
        assert_eq!(fmt_tick(0.1 + 0.2, 0.1), "0.3");
        assert_eq!(fmt_tick(12.5, 0.5), "12.5");
        assert_eq!(fmt_tick(14.0, 0.5), "14");
        assert_eq!(fmt_tick(-1e-17, 0.1), "0");
        assert_eq!(fmt_tick(1e-4, 1e-5), "1.0e-4");
    }
}
