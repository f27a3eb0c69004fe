//! A sampler sweep's report as files: JSON, Markdown tables, and a grid of the centroid
//! images of every method under every sampler and step count.

use std::fmt::Write as _;

use image::RgbImage;
use nao_viz::{labelled_grid, GridOptions, GridRow, Tile};

use crate::samplers::{method_keys, short_name};
use crate::{MethodRun, Result, SamplerSweepReport, SweepError};

fn opt(v: Option<f64>, decimals: usize) -> String {
    v.map_or_else(|| "—".into(), |v| format!("{v:.decimals$}"))
}

/// A tile caption's short method name.
fn tiny(key: &str) -> &str {
    match key {
        "prompt_only" => "prompt",
        "euclidean" => "eucl",
        "normalized" => "norm",
        "spherical" => "sph",
        "gaussian" => "gauss",
        other => other,
    }
}

impl SamplerSweepReport {
    /// The report as Markdown: per class, the Fréchet distance, accuracy and precision/recall
    /// of every method under every sampler and step count; which method is closest to the
    /// real images in each.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let s = &self.settings;
        let keys = method_keys(self);
        let _ = writeln!(md, "# The rare-concept centroids across samplers\n");
        let _ = writeln!(
            md,
            "Model: {}; classifier: {}; real images: {}; d = {}. Per class, {} groups of {} \
             real images inverted ({} DDIM steps); per method and group the centroid and {} \
             points on each centroid→seed path ({} seeds per method; prompt only: as many \
             random seeds, seed {}). The same seeds under every sampler and step count; \
             guidance {}; k = {}. Pooled: every group's images against all the class's real \
             images; ± is the sd over the {} groups.\n",
            self.model,
            self.classifier,
            self.real,
            self.dim,
            s.groups,
            s.per_group,
            s.invert_steps,
            s.interior,
            s.seeds_per_method,
            s.seed,
            s.guidance,
            s.k,
            s.groups
        );
        for class in &self.classes {
            let header = |md: &mut String, title: &str| {
                let _ = writeln!(md, "### {}: {title}\n", class.class);
                let _ = write!(md, "| sampler | steps |");
                for k in &keys {
                    let _ = write!(md, " {} |", short_name(k));
                }
                let _ = write!(md, "\n|---|---:|");
                md.push_str(&"---:|".repeat(keys.len()));
                md.push('\n');
            };
            type Cell = fn(&MethodRun) -> String;
            let tables: [(&str, Cell); 4] = [
                ("Fréchet distance, pooled (lower is closer)", |m| {
                    opt(m.pooled.frechet_distance, 1)
                }),
                ("Fréchet distance per group (mean ± sd)", |m| {
                    m.frechet_over_groups
                        .map_or_else(|| "—".into(), |s| s.text(1))
                }),
                ("classifier accuracy (mean ± sd over groups)", |m| {
                    m.accuracy_over_groups.text(2)
                }),
                ("precision / recall, pooled", |m| {
                    format!(
                        "{} / {}",
                        opt(m.pooled.precision, 2),
                        opt(m.pooled.recall, 2)
                    )
                }),
            ];
            for (title, value) in tables {
                header(&mut md, title);
                for run in &class.runs {
                    let _ = write!(md, "| {} | {} |", run.sampler, run.steps);
                    for k in &keys {
                        let cell = run
                            .methods
                            .iter()
                            .find(|m| &m.method == k)
                            .map_or_else(|| "—".into(), value);
                        let _ = write!(md, " {cell} |");
                    }
                    md.push('\n');
                }
                md.push('\n');
            }
            if let Some(run) = class.runs.first() {
                let _ = writeln!(
                    md,
                    "### {}: the seeds (the same under every sampler)\n",
                    class.class
                );
                let _ = writeln!(md, "| method | mean log χ | mean ‖z‖ |");
                let _ = writeln!(md, "|---|---:|---:|");
                for m in &run.methods {
                    let _ = writeln!(
                        md,
                        "| {} | {} | {:.2} |",
                        short_name(&m.method),
                        opt(m.pooled.mean_log_chi, 2),
                        m.mean_norm
                    );
                }
                md.push('\n');
            }
        }
        let _ = writeln!(
            md,
            "## Closest to the real images (pooled Fréchet distance)\n"
        );
        let _ = write!(md, "| sampler | steps |");
        for c in &self.classes {
            let _ = write!(md, " {}: closest | {}: NAO's rank |", c.class, c.class);
        }
        let _ = write!(md, "\n|---|---:|");
        md.push_str(&"---|---:|".repeat(self.classes.len()));
        md.push('\n');
        if let Some(first) = self.classes.first() {
            for (i, run) in first.runs.iter().enumerate() {
                let _ = write!(md, "| {} | {} |", run.sampler, run.steps);
                for c in &self.classes {
                    let mut ranked: Vec<(&str, f64)> = c.runs[i]
                        .methods
                        .iter()
                        .filter_map(|m| m.pooled.frechet_distance.map(|f| (m.method.as_str(), f)))
                        .collect();
                    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
                    let best = ranked.first().map_or_else(
                        || "—".into(),
                        |b| format!("{} ({:.1})", short_name(b.0), b.1),
                    );
                    let rank = ranked
                        .iter()
                        .position(|m| m.0 == "nao")
                        .map_or_else(|| "—".into(), |p| format!("{} of {}", p + 1, ranked.len()));
                    let _ = write!(md, " {best} | {rank} |");
                }
                md.push('\n');
            }
        }
        md.push('\n');
        let _ = writeln!(md, "{:.1} s.", self.seconds);
        md
    }

    /// The picture: one row per sampler and step count with, class after class, the image
    /// of each method's first centroid (prompt only: the first random seed's image), under a
    /// row of each class's first real images; captions: the method and the classifier's
    /// verdict (+/−).
    pub fn picture(&self) -> Result<RgbImage> {
        let viz = |e| SweepError::compute("the picture", e);
        let [c, h, w] = self.image_shape;
        let tile = |pixels: &[f32], caption: &str| -> Result<Tile> {
            let t = Tile::new(pixels.to_vec(), c, h, w).map_err(viz)?;
            Ok(if caption.is_empty() {
                t
            } else {
                t.with_caption(caption)
            })
        };
        let blank = vec![1.0f32; c * h * w];
        let columns = self
            .classes
            .first()
            .and_then(|k| k.runs.first())
            .map_or(0, |r| r.methods.len());
        let mut real = Vec::new();
        for class in &self.classes {
            for i in 0..columns {
                real.push(match class.shown_real.get(i) {
                    Some(p) => tile(p, "")?,
                    None => tile(&blank, "")?,
                });
            }
        }
        let mut rows = vec![GridRow {
            label: "real".into(),
            tiles: real,
        }];
        let runs = self.classes.first().map_or(0, |k| k.runs.len());
        for i in 0..runs {
            let first = &self.classes[0].runs[i];
            let mut tiles = Vec::new();
            for class in &self.classes {
                for m in &class.runs[i].methods {
                    let verdict = if m.first_hit { "+" } else { "-" };
                    tiles.push(tile(
                        &m.first_image,
                        &format!("{}{verdict}", tiny(&m.method)),
                    )?);
                }
            }
            rows.push(GridRow {
                label: format!("{} {}", first.sampler, first.steps),
                tiles,
            });
        }
        let names: Vec<&str> = self.classes.iter().map(|k| k.class.as_str()).collect();
        let options = GridOptions {
            title: Some(format!(
                "first centroid per method, by sampler and steps: {}",
                names.join(" | ")
            )),
            scale: if h <= 64 { 2 } else { 1 },
            ..GridOptions::default()
        };
        labelled_grid(&rows, &options).map_err(viz)
    }

    /// The report's files, by name: `sampler-sweep.json`, `sampler-sweep.md`,
    /// `centroids-by-sampler.png`.
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| SweepError::compute("JSON encoding", e))?;
        let png = nao_viz::encode_png(&self.picture()?)
            .map_err(|e| SweepError::compute("the picture", e))?;
        Ok(vec![
            ("sampler-sweep.json", json.into_bytes()),
            ("sampler-sweep.md", self.markdown().into_bytes()),
            ("centroids-by-sampler.png", png),
        ])
    }
}
