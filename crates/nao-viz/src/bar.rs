//! Grouped bar charts: a few measures side by side for each of several groups (methods).

use image::RgbImage;

use crate::axes::{self, fmt_tick, range, ticks, Scale, INK, TITLE_H};
use crate::draw::fill_rect;
use crate::text::{draw_text, text_width, GLYPH_SIZE};
use crate::VizError;

/// One measure of a [`BarChart`]: a value per group (`None` where it was not computed; that
/// bar is left out and marked "n/a").
#[derive(Debug, Clone, PartialEq)]
pub struct BarSeries {
    /// Name shown in the legend.
    pub name: String,
    /// One value per group, in the order of [`BarChart::groups`].
    pub values: Vec<Option<f64>>,
    /// Bar colour (see [`crate::palette`]).
    pub color: [u8; 3],
}

/// A raster grouped bar chart with a y axis from zero, group labels, a legend and a title.
#[derive(Debug, Clone, PartialEq)]
pub struct BarChart {
    /// Text centred above the chart.
    pub title: String,
    /// Text above the y axis.
    pub y_label: String,
    /// Group names under the x axis.
    pub groups: Vec<String>,
    /// The measures; each has one bar in every group.
    pub series: Vec<BarSeries>,
    /// Picture width in pixels (at least 200).
    pub width: u32,
    /// Picture height in pixels (at least 150).
    pub height: u32,
}

impl BarChart {
    /// An 800×450 chart with no groups or series.
    pub fn new(title: impl Into<String>) -> Self {
        BarChart {
            title: title.into(),
            y_label: String::new(),
            groups: Vec::new(),
            series: Vec::new(),
            width: 800,
            height: 450,
        }
    }

    /// Renders the chart. Errors if the size is out of bounds, a series has the wrong number
    /// of values, or no value is finite.
    ///
    /// ```
    /// use nao_viz::{palette, BarChart, BarSeries};
    /// let mut chart = BarChart::new("accuracy by method");
    /// chart.groups = vec!["nao".into(), "euclidean".into()];
    /// chart.series.push(BarSeries {
    ///     name: "accuracy".into(),
    ///     values: vec![Some(0.98), Some(0.91)],
    ///     color: palette(0),
    /// });
    /// let img = chart.render()?;
    /// assert_eq!(img.dimensions(), (800, 450));
    /// # Ok::<(), nao_viz::VizError>(())
    /// ```
    pub fn render(&self) -> Result<RgbImage, VizError> {
        axes::check_size(self.width, self.height, (200, 150))?;
        if let Some(s) = self
            .series
            .iter()
            .find(|s| s.values.len() != self.groups.len())
        {
            return Err(VizError::Shape(format!(
                "bar series '{}' has {} values for {} groups",
                s.name,
                s.values.len(),
                self.groups.len()
            )));
        }
        let values = || {
            self.series
                .iter()
                .flat_map(|s| s.values.iter().flatten().copied())
        };
        let empty = || VizError::Empty(format!("bar chart '{}' has no finite values", self.title));
        if !values().any(f64::is_finite) {
            return Err(empty());
        }
        let (lo, hi) = range(values().chain([0.0]), 0.05).ok_or_else(empty)?;
        let (lo, hi) = (lo.min(0.0), hi.max(0.0));
        let (marks, step) = ticks(lo, hi, 6);
        let marks: Vec<(f64, String)> = marks.into_iter().map(|t| (t, fmt_tick(t, step))).collect();
        let mut img = axes::blank(self.width, self.height);
        let line_h = i64::from(GLYPH_SIZE);
        let left = 12 + axes::widest(marks.iter().map(|m| &m.1)) + 6;
        let legend_w = axes::widest(self.series.iter().map(|s| &s.name)) + 30;
        let right = i64::from(self.width) - 20 - legend_w;
        let top = TITLE_H + line_h + 8;
        let bottom = i64::from(self.height) - 14 - 2 * line_h;
        let y = Scale {
            lo,
            hi,
            p0: bottom,
            p1: top,
        };
        axes::title(&mut img, &self.title);
        axes::y_ticks(&mut img, &y, &marks, left, right);
        draw_text(&mut img, 12, TITLE_H as i32, &self.y_label, INK, 1);
        let groups = self.groups.len().max(1) as i64;
        let slot = (right - left) / groups;
        let bars = self.series.len().max(1) as i64;
        let bar_w = ((slot - 12) / bars).max(1);
        let zero = y.px(0.0);
        for (g, name) in self.groups.iter().enumerate() {
            let x0 = left + g as i64 * slot + 6;
            for (k, s) in self.series.iter().enumerate() {
                let bx = x0 + k as i64 * bar_w;
                match s.values[g].filter(|v| v.is_finite()) {
                    Some(v) => {
                        let py = y.px(v);
                        let (top_px, h) = if py < zero {
                            (py, zero - py)
                        } else {
                            (zero, py - zero)
                        };
                        fill_rect(&mut img, bx, top_px, (bar_w - 1).max(1), h.max(1), s.color);
                    }
                    None => draw_text(&mut img, bx as i32, (zero - line_h) as i32, "-", INK, 1),
                }
            }
            let lx = x0 + (slot - 12 - i64::from(text_width(name, 1))) / 2;
            draw_text(
                &mut img,
                lx.max(x0) as i32,
                (bottom + 6) as i32,
                name,
                INK,
                1,
            );
        }
        axes::axis_lines(&mut img, left, right, top, bottom);
        // the legend, right of the plot area
        let entry_h = 14;
        let lx = right + 12;
        for (i, s) in self.series.iter().enumerate() {
            let ey = top + i as i64 * entry_h;
            fill_rect(&mut img, lx, ey + 2, 16, 8, s.color);
            draw_text(&mut img, (lx + 22) as i32, ey as i32, &s.name, INK, 1);
        }
        Ok(img)
    }
}
