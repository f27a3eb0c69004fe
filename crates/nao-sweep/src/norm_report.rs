//! A norm sweep's report as files: JSON, a Markdown table, and the picture of quality against
//! the seed norm with the χ density and the norms of inverted and centroid seeds below it.

use std::fmt::Write as _;

use image::RgbImage;
use nao_prior::ChiPrior;
use nao_viz::{palette, stack_vertically, DensityPlot, LinePlot, MarkerGroup, Series};

use crate::{NormSweepReport, Result, Spread, SweepError};

/// The picture's width, and the left margin every panel shares (so their x axes line up).
const WIDTH: u32 = 900;
const LEFT: u32 = 190;

fn cell(s: Option<&Spread>, decimals: usize) -> String {
    s.map_or_else(|| "—".into(), |s| s.text(decimals))
}

impl NormSweepReport {
    /// The report as Markdown: accuracy and Fréchet distance per sampler and norm, each
    /// sampler's full table, and the norms of inverted and centroid seeds.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let s = &self.settings;
        let _ = writeln!(md, "# Image quality against the seed norm\n");
        let _ = writeln!(
            md,
            "Model: {}; classifier: {}; real images: {}. Seed dimension d = {} (√d = {:.2}; \
             the χ_d mode is {:.4}·√d, its standard deviation {:.4}·√d). Classes: {}.\n",
            self.model,
            self.classifier,
            self.real,
            self.dim,
            self.sqrt_d,
            self.chi_mode_scale,
            self.chi_sd_scale,
            self.classes
                .iter()
                .map(|(c, _)| c.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(
            md,
            "{} seeds per class in each of {} draws, the same random directions at every norm \
             and for every sampler; {} steps, guidance {}, seed {}. Each draw's images of all \
             classes are measured together against all classes' real images (as `nao eval` \
             measures a method), k = {}; cells are mean ± sd over the draws.\n",
            s.seeds, s.draws, s.steps, s.guidance, s.seed, s.k
        );
        type Pick = fn(&crate::NormPoint) -> Option<&Spread>;
        let summaries: [(&str, Pick, usize); 2] = [
            ("Classifier accuracy", |p| Some(&p.accuracy), 3),
            (
                "Fréchet distance (lower is closer)",
                |p| p.frechet_distance.as_ref(),
                1,
            ),
        ];
        for (title, pick, decimals) in summaries {
            let _ = writeln!(md, "## {title}\n");
            let _ = write!(md, "| ‖z‖/√d | log χ |");
            for c in &self.samplers {
                let _ = write!(md, " {} |", c.sampler);
            }
            let _ = write!(md, "\n|---:|---:|");
            md.push_str(&"---:|".repeat(self.samplers.len()));
            md.push('\n');
            for (i, &scale) in s.scales.iter().enumerate() {
                let log_chi = self
                    .samplers
                    .first()
                    .map_or(f64::NAN, |c| c.points[i].log_chi);
                let _ = write!(md, "| {scale:.2} | {log_chi:.2} |");
                for c in &self.samplers {
                    let _ = write!(md, " {} |", cell(pick(&c.points[i]), decimals));
                }
                md.push('\n');
            }
            md.push('\n');
        }
        for c in &self.samplers {
            let _ = writeln!(
                md,
                "## {} ({} model calls per image)\n",
                c.sampler, c.model_calls
            );
            let _ = writeln!(
                md,
                "| ‖z‖/√d | accuracy | mean confidence | Fréchet distance | precision | recall |"
            );
            let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|");
            for p in &c.points {
                let _ = writeln!(
                    md,
                    "| {:.2} | {} | {} | {} | {} | {} |",
                    p.scale,
                    p.accuracy.text(3),
                    p.mean_confidence.text(3),
                    cell(p.frechet_distance.as_ref(), 1),
                    cell(p.precision.as_ref(), 2),
                    cell(p.recall.as_ref(), 2)
                );
            }
            md.push('\n');
        }
        if !self.seed_norms.is_empty() {
            let _ = writeln!(
                md,
                "## Norms of inverted real images and their centroids\n\n{} groups of {} real \
                 images per class, inverted with {} DDIM steps.\n",
                s.groups, s.per_group, s.steps
            );
            let _ = writeln!(md, "| seeds | n | ‖z‖/√d (mean ± sd) | min | max |");
            let _ = writeln!(md, "|---|---:|---:|---:|---:|");
            for g in &self.seed_norms {
                let (lo, hi) = g
                    .scales
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
                        (lo.min(v), hi.max(v))
                    });
                let _ = writeln!(
                    md,
                    "| {} | {} | {} | {lo:.3} | {hi:.3} |",
                    g.name,
                    g.scales.len(),
                    cell(g.spread.as_ref(), 3)
                );
            }
            md.push('\n');
        }
        let _ = writeln!(md, "{:.1} s.", self.seconds);
        md
    }

    /// The picture: classifier accuracy, mean confidence and Fréchet distance against
    /// ‖z‖/√d, one line per sampler, above the χ_d density of ‖z‖/√d with the norms of the
    /// inverted seeds and of each centroid method's centroids, all on one x axis.
    pub fn picture(&self) -> Result<RgbImage> {
        let viz = |e| SweepError::compute("the picture", e);
        let values = self
            .settings
            .scales
            .iter()
            .chain(self.seed_norms.iter().flat_map(|g| &g.scales))
            .copied()
            .filter(|v| v.is_finite());
        let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let pad = ((hi - lo) * 0.04).max(0.02);
        let x_range = Some((lo - pad, hi + pad));
        let x_label = "seed norm |z| / sqrt(d)";
        type Pick = fn(&crate::NormPoint) -> Option<f64>;
        type Range = Option<(f64, f64)>;
        let panels: [(&str, Pick, Range); 3] = [
            (
                "classifier accuracy",
                |p| Some(p.accuracy.mean),
                Some((0.0, 1.0)),
            ),
            (
                "mean classifier confidence",
                |p| Some(p.mean_confidence.mean),
                Some((0.0, 1.0)),
            ),
            (
                "Frechet distance to the real images",
                |p| p.frechet_distance.map(|s| s.mean),
                None,
            ),
        ];
        let mut parts = Vec::new();
        for (title, pick, y_range) in panels {
            let mut plot = LinePlot::new(format!("{title}, by sampler"));
            plot.x_label = x_label.into();
            plot.width = WIDTH;
            plot.height = 300;
            plot.x_range = x_range;
            plot.y_range = y_range;
            plot.min_left = LEFT;
            plot.series = self
                .samplers
                .iter()
                .enumerate()
                .map(|(i, c)| Series {
                    name: c.sampler.clone(),
                    points: c
                        .points
                        .iter()
                        .filter_map(|p| pick(p).map(|y| (p.scale, y)))
                        .collect(),
                    color: palette(i),
                })
                .collect();
            if plot.series.iter().all(|s| s.points.is_empty()) {
                continue;
            }
            parts.push(plot.render().map_err(viz)?);
        }
        let chi = ChiPrior::new(self.dim).map_err(|e| SweepError::compute("χ prior", e))?;
        let mut density = DensityPlot::new(format!(
            "chi density (d = {}) and where seeds fall",
            self.dim
        ));
        density.x_label = x_label.into();
        density.width = WIDTH;
        density.min_left = LEFT;
        density.x_range = x_range;
        let (a, b) = (lo - pad, hi + pad);
        density.curve = (0..=600)
            .map(|i| {
                let u = a + (b - a) * i as f64 / 600.0;
                let r = u * self.sqrt_d;
                (
                    u,
                    if r > 0.0 {
                        chi.pdf(r) * self.sqrt_d
                    } else {
                        0.0
                    },
                )
            })
            .collect();
        density.groups.push(MarkerGroup {
            name: "swept norms".into(),
            values: self.settings.scales.clone(),
            color: [90, 90, 90],
        });
        for (i, g) in self.seed_norms.iter().enumerate() {
            density.groups.push(MarkerGroup {
                name: g.name.clone(),
                values: g.scales.clone(),
                color: palette(i + 1),
            });
        }
        density.height = 260 + 22 * density.groups.len() as u32;
        parts.push(density.render().map_err(viz)?);
        stack_vertically(&parts).map_err(viz)
    }

    /// The report's files, by name: `norm-sweep.json`, `norm-sweep.md`, `quality-vs-norm.png`.
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| SweepError::compute("JSON encoding", e))?;
        let png = nao_viz::encode_png(&self.picture()?)
            .map_err(|e| SweepError::compute("the picture", e))?;
        Ok(vec![
            ("norm-sweep.json", json.into_bytes()),
            ("norm-sweep.md", self.markdown().into_bytes()),
            ("quality-vs-norm.png", png),
        ])
    }
}
