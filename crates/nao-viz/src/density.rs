//! Density plots with marker strips: a curve (e.g. the χ density of ‖x‖ for a Gaussian
//! seed) and, under it on the same x axis, one row of ticks per group of observed values
//! (e.g. the norms of the seeds each method produced).

use image::RgbImage;

use crate::axes::{self, fmt_tick, range, ticks, Scale, INK, TITLE_H};
use crate::draw::{line, tint};
use crate::text::{draw_text, text_width, GLYPH_SIZE};
use crate::VizError;

const CURVE: [u8; 3] = [40, 40, 40];
const STRIP_H: i64 = 22;

/// One labelled set of values drawn as ticks in its own strip of a [`DensityPlot`].
#[derive(Debug, Clone, PartialEq)]
pub struct MarkerGroup {
    /// Name shown at the left of the strip.
    pub name: String,
    /// The values; non-finite ones are skipped.
    pub values: Vec<f64>,
    /// Tick colour (see [`crate::palette`]).
    pub color: [u8; 3],
}

/// A density curve in a top panel and marker strips below it, sharing one x axis.
#[derive(Debug, Clone, PartialEq)]
pub struct DensityPlot {
    /// Text centred above the plot.
    pub title: String,
    /// Text under the shared x axis.
    pub x_label: String,
    /// (x, density) points of the curve, joined in order of x; non-finite ones are skipped.
    pub curve: Vec<(f64, f64)>,
    /// One strip per group, top to bottom.
    pub groups: Vec<MarkerGroup>,
    /// Picture width in pixels (at least 200).
    pub width: u32,
    /// Picture height in pixels (at least 150, and enough for the strips).
    pub height: u32,
    /// The x axis's range (`None`: the curve's and markers', with a margin); see
    /// [`crate::LinePlot::x_range`].
    pub x_range: Option<(f64, f64)>,
    /// The least left margin in pixels (the strip names and tick labels may need more).
    pub min_left: u32,
}

/// Where everything goes; computed once and shared by [`DensityPlot::render`] and
/// [`DensityPlot::x_to_pixel`], so what the tests check is what gets drawn.
struct Layout {
    x: Scale,
    y: Scale,
    y_marks: Vec<(f64, String)>,
    strips_top: i64,
    axis_y: i64,
}

impl DensityPlot {
    /// A 1000×600 plot with no curve, no groups and an empty x label.
    pub fn new(title: impl Into<String>) -> Self {
        DensityPlot {
            title: title.into(),
            x_label: String::new(),
            curve: Vec::new(),
            groups: Vec::new(),
            width: 1000,
            height: 600,
            x_range: None,
            min_left: 0,
        }
    }

    fn curve_points(&self) -> Vec<(f64, f64)> {
        let mut c: Vec<_> = self
            .curve
            .iter()
            .copied()
            .filter(|(x, y)| x.is_finite() && y.is_finite())
            .collect();
        c.sort_by(|a, b| a.0.total_cmp(&b.0));
        c
    }

    fn layout(&self) -> Result<Layout, VizError> {
        axes::check_size(self.width, self.height, (200, 150))?;
        let curve = self.curve_points();
        let markers = self.groups.iter().flat_map(|g| &g.values).copied();
        let (xlo, xhi) =
            range(curve.iter().map(|p| p.0).chain(markers), 0.04).ok_or_else(|| {
                VizError::Empty(format!(
                    "density plot '{}' has no finite curve point or marker",
                    self.title
                ))
            })?;
        let (xlo, xhi) = axes::given_range(self.x_range, (xlo, xhi), "x_range")?;
        let ymax = curve.iter().map(|p| p.1).fold(0.0, f64::max);
        let ymin = curve.iter().map(|p| p.1).fold(0.0, f64::min);
        let (ylo, yhi) = if ymax > ymin {
            (ymin, ymax * 1.05)
        } else {
            (0.0, 1.0)
        };
        let (marks, step) = ticks(ylo, yhi, 5);
        let y_marks: Vec<_> = marks.into_iter().map(|t| (t, fmt_tick(t, step))).collect();
        let names = self.groups.iter().map(|g| g.name.as_str());
        let left = (12 + axes::widest(names).max(axes::widest(y_marks.iter().map(|m| &m.1))) + 8)
            .max(i64::from(self.min_left));
        let line_h = i64::from(GLYPH_SIZE);
        let axis_y = i64::from(self.height) - 14 - 2 * line_h - 8;
        let strips_top = axis_y - STRIP_H * self.groups.len() as i64;
        let panel_bottom = strips_top - 6;
        if panel_bottom - TITLE_H < 40 {
            return Err(VizError::Invalid(format!(
                "density plot height {} is too small for {} marker strips",
                self.height,
                self.groups.len()
            )));
        }
        Ok(Layout {
            x: Scale {
                lo: xlo,
                hi: xhi,
                p0: left,
                p1: i64::from(self.width) - 20,
            },
            y: Scale {
                lo: ylo,
                hi: yhi,
                p0: panel_bottom,
                p1: TITLE_H,
            },
            y_marks,
            strips_top,
            axis_y,
        })
    }

    /// The image column of value `v` on the shared x axis, or `None` if `v` is not finite,
    /// falls outside the axis, or the plot cannot be laid out (see [`DensityPlot::render`]).
    pub fn x_to_pixel(&self, v: f64) -> Option<u32> {
        let l = self.layout().ok()?;
        let px = l.x.px(v);
        (v.is_finite() && (l.x.p0..=l.x.p1).contains(&px)).then_some(px as u32)
    }

    /// Renders the curve panel, a faint dashed line at each group's mean across the panel,
    /// and one strip of ticks per group. Errors if the size is out of bounds (or too small
    /// for the strips) or there is neither a finite curve point nor a finite marker.
    ///
    /// ```
    /// use nao_viz::{palette, DensityPlot, MarkerGroup};
    /// let mut plot = DensityPlot::new("seed norms");
    /// plot.curve = (0..=100).map(|i| (i as f64 * 0.1, (-(i as f64 * 0.1 - 5.0).powi(2)).exp())).collect();
    /// let color = palette(1);
    /// plot.groups.push(MarkerGroup { name: "NAO".into(), values: vec![4.5, 5.2], color });
    /// let img = plot.render()?;
    /// let col = plot.x_to_pixel(4.5).unwrap();
    /// assert!((0..img.height()).any(|y| img.get_pixel(col, y).0 == color));
    /// # Ok::<(), nao_viz::VizError>(())
    /// ```
    pub fn render(&self) -> Result<RgbImage, VizError> {
        let l = self.layout()?;
        let mut img = axes::blank(self.width, self.height);
        let (left, right, top) = (l.x.p0, l.x.p1, l.y.p1);
        let panel_bottom = l.y.p0;
        axes::title(&mut img, &self.title);
        axes::x_ticks(&mut img, &l.x, top, l.axis_y, l.axis_y + 6);
        axes::y_ticks(&mut img, &l.y, &l.y_marks, left, right);
        axes::axis_lines(&mut img, left, right, top, panel_bottom);
        axes::axis_lines(&mut img, left, right, l.strips_top, l.axis_y);
        let xl = (left + right - i64::from(text_width(&self.x_label, 1))) / 2;
        let label_y = l.axis_y + 8 + i64::from(GLYPH_SIZE);
        draw_text(&mut img, xl as i32, label_y as i32, &self.x_label, INK, 1);
        for g in &self.groups {
            let vals: Vec<f64> = g.values.iter().copied().filter(|v| v.is_finite()).collect();
            if vals.is_empty() {
                continue;
            }
            let mx = l.x.px(vals.iter().sum::<f64>() / vals.len() as f64);
            let faint = tint(g.color, 0.5);
            for y in (top..panel_bottom).step_by(8) {
                line(&mut img, (mx, y), (mx, (y + 3).min(panel_bottom)), 1, faint);
            }
        }
        let pts: Vec<_> = self
            .curve_points()
            .iter()
            .map(|&(x, y)| (l.x.px(x), l.y.px(y)))
            .collect();
        for w in pts.windows(2) {
            line(&mut img, w[0], w[1], 2, CURVE);
        }
        for (i, g) in self.groups.iter().enumerate() {
            let y0 = l.strips_top + i as i64 * STRIP_H;
            let name_y = y0 + (STRIP_H - i64::from(GLYPH_SIZE)) / 2;
            draw_text(&mut img, 12, name_y as i32, &g.name, INK, 1);
            for v in g.values.iter().filter(|v| v.is_finite()) {
                let px = l.x.px(*v);
                line(&mut img, (px, y0 + 4), (px, y0 + STRIP_H - 4), 1, g.color);
            }
        }
        Ok(img)
    }
}
