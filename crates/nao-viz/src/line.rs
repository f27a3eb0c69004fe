//! Line plots: training-loss curves and other series over steps.

use image::RgbImage;

use crate::axes::{self, fmt_tick, range, ticks, Scale, INK, TITLE_H};
use crate::draw::{fill_rect, line};
use crate::text::{draw_text, text_width, GLYPH_SIZE};
use crate::VizError;

/// One named polyline of a [`LinePlot`].
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Name shown in the legend.
    pub name: String,
    /// (x, y) points, joined in the given order; non-finite points are skipped.
    pub points: Vec<(f64, f64)>,
    /// Line colour (see [`crate::palette`]).
    pub color: [u8; 3],
}

/// A raster line plot with axes, tick labels, a legend and a title.
#[derive(Debug, Clone, PartialEq)]
pub struct LinePlot {
    /// Text centred above the plot.
    pub title: String,
    /// Text under the x axis.
    pub x_label: String,
    /// Text above the y axis.
    pub y_label: String,
    /// The curves, drawn in order (later ones on top).
    pub series: Vec<Series>,
    /// Logarithmic y axis; points with y ≤ 0 are then skipped.
    pub log_y: bool,
    /// Picture width in pixels (at least 200).
    pub width: u32,
    /// Picture height in pixels (at least 150).
    pub height: u32,
    /// The x axis's range (`None`: the data's). With the same range, width and
    /// [`LinePlot::min_left`], plots stacked above each other (and a [`crate::DensityPlot`] so
    /// set) share their x axis pixel for pixel.
    pub x_range: Option<(f64, f64)>,
    /// The y axis's range in data units (`None`: the data's, with a margin).
    pub y_range: Option<(f64, f64)>,
    /// The least left margin in pixels (the y tick labels may need more).
    pub min_left: u32,
}

impl LinePlot {
    /// An 800×500 linear plot with no series and empty axis labels.
    pub fn new(title: impl Into<String>) -> Self {
        LinePlot {
            title: title.into(),
            x_label: String::new(),
            y_label: String::new(),
            series: Vec::new(),
            log_y: false,
            width: 800,
            height: 500,
            x_range: None,
            y_range: None,
            min_left: 0,
        }
    }

    /// The points of each series that can be drawn, with y already in axis units.
    fn usable(&self) -> Vec<Vec<(f64, f64)>> {
        let keep = |&(x, y): &(f64, f64)| {
            let y = match self.log_y {
                true if y > 0.0 => y.log10(),
                true => return None,
                false => y,
            };
            (x.is_finite() && y.is_finite()).then_some((x, y))
        };
        self.series
            .iter()
            .map(|s| s.points.iter().filter_map(keep).collect())
            .collect()
    }

    /// Renders the plot. Errors if the size is out of bounds or no series has a point that
    /// can be drawn.
    ///
    /// ```
    /// use nao_viz::{palette, LinePlot, Series};
    /// let mut plot = LinePlot::new("training loss");
    /// plot.x_label = "step".into();
    /// plot.log_y = true;
    /// let loss = (1..100).map(|i| (i as f64, 1.0 / i as f64)).collect();
    /// plot.series.push(Series { name: "loss".into(), points: loss, color: palette(0) });
    /// let img = plot.render()?;
    /// assert_eq!(img.dimensions(), (800, 500));
    /// # Ok::<(), nao_viz::VizError>(())
    /// ```
    pub fn render(&self) -> Result<RgbImage, VizError> {
        axes::check_size(self.width, self.height, (200, 150))?;
        let mut img = axes::blank(self.width, self.height);
        let pts = self.usable();
        let no_points = || {
            let why = if self.log_y {
                " (log_y skips y ≤ 0)"
            } else {
                ""
            };
            VizError::Empty(format!(
                "line plot '{}' has no finite points{why}",
                self.title
            ))
        };
        let (xlo, xhi) = range(pts.iter().flatten().map(|p| p.0), 0.0).ok_or_else(no_points)?;
        let (ylo, yhi) = range(pts.iter().flatten().map(|p| p.1), 0.05).ok_or_else(no_points)?;
        let (xlo, xhi) = axes::given_range(self.x_range, (xlo, xhi), "x_range")?;
        let y_given = match (self.y_range, self.log_y) {
            (Some((lo, hi)), true) if lo > 0.0 && hi > 0.0 => Some((lo.log10(), hi.log10())),
            (Some(r), true) => {
                return Err(VizError::Invalid(format!(
                    "y_range {r:?} on a log axis must be positive"
                )))
            }
            (r, false) => r,
            (None, true) => None,
        };
        let (ylo, yhi) = axes::given_range(y_given, (ylo, yhi), "y_range")?;
        let y_marks = self.y_marks(ylo, yhi);
        let line_h = i64::from(GLYPH_SIZE);
        let left =
            (12 + axes::widest(y_marks.iter().map(|m| &m.1)) + 6).max(i64::from(self.min_left));
        let (right, top) = (i64::from(self.width) - 20, TITLE_H + line_h + 8);
        let bottom = i64::from(self.height) - 14 - 2 * line_h - 8;
        let x = Scale {
            lo: xlo,
            hi: xhi,
            p0: left,
            p1: right,
        };
        let y = Scale {
            lo: ylo,
            hi: yhi,
            p0: bottom,
            p1: top,
        };
        axes::title(&mut img, &self.title);
        axes::x_ticks(&mut img, &x, top, bottom, bottom + 6);
        axes::y_ticks(&mut img, &y, &y_marks, left, right);
        axes::axis_lines(&mut img, left, right, top, bottom);
        draw_text(&mut img, 12, (TITLE_H) as i32, &self.y_label, INK, 1);
        let xl = (left + right - i64::from(text_width(&self.x_label, 1))) / 2;
        draw_text(
            &mut img,
            xl as i32,
            (bottom + 8 + line_h) as i32,
            &self.x_label,
            INK,
            1,
        );
        for (s, p) in self.series.iter().zip(&pts) {
            let at = |&(px, py): &(f64, f64)| (x.px(px), y.px(py));
            if let [only] = p.as_slice() {
                let (cx, cy) = at(only);
                fill_rect(&mut img, cx - 1, cy - 1, 3, 3, s.color);
            }
            for w in p.windows(2) {
                line(&mut img, at(&w[0]), at(&w[1]), 2, s.color);
            }
        }
        self.legend(&mut img, right, top);
        Ok(img)
    }

    /// Tick values in axis units with their labels. On a log axis: powers of ten over four
    /// or more decades, else 1, 2 and 5 times powers of ten, else (less than a factor of 2)
    /// round values of the exponent.
    fn y_marks(&self, lo: f64, hi: f64) -> Vec<(f64, String)> {
        if !self.log_y {
            let (marks, step) = ticks(lo, hi, 6);
            return marks.into_iter().map(|t| (t, fmt_tick(t, step))).collect();
        }
        let decades: Vec<i64> = (lo.ceil() as i64..=hi.floor() as i64).collect();
        if decades.len() >= 4 {
            let stride = decades.len().div_ceil(8);
            return decades
                .iter()
                .step_by(stride)
                .map(|&e| (e as f64, format!("1e{e}")))
                .collect();
        }
        let mut marks = Vec::new();
        for e in lo.floor() as i64..=hi.ceil() as i64 {
            let unit = 10f64.powi(e as i32);
            for m in [1.0, 2.0, 5.0] {
                let t = (m * unit).log10();
                if (lo..=hi).contains(&t) {
                    marks.push((t, fmt_tick(m * unit, unit)));
                }
            }
        }
        if marks.len() >= 2 {
            return marks;
        }
        let (marks, _) = ticks(lo, hi, 5);
        // Three significant digits of the value itself.
        let label = |t: f64| fmt_tick(10f64.powf(t), 10f64.powf(t.floor() - 2.0));
        marks.into_iter().map(|t| (t, label(t))).collect()
    }

    /// Series names with colour swatches, in a boxed list at the top right of the plot area.
    fn legend(&self, img: &mut RgbImage, right: i64, top: i64) {
        if self.series.is_empty() {
            return;
        }
        let entry_h = 14;
        let w = axes::widest(self.series.iter().map(|s| &s.name)) + 30;
        let h = entry_h * self.series.len() as i64 + 6;
        let (x, y) = (right - w - 6, top + 6);
        fill_rect(img, x, y, w, h, [200; 3]);
        fill_rect(img, x + 1, y + 1, w - 2, h - 2, [255; 3]);
        for (i, s) in self.series.iter().enumerate() {
            let ey = y + 4 + i as i64 * entry_h;
            fill_rect(img, x + 4, ey + 2, 16, 4, s.color);
            draw_text(img, (x + 24) as i32, ey as i32, &s.name, INK, 1);
        }
    }
}
