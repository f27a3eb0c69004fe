//! An evaluation for people and programs: `eval.json`, `eval.md` (tables per method and per
//! class) and `eval.png` (bar charts per method).

use std::fmt::Write as _;

use image::{imageops, RgbImage};
use nao_metrics::SetMetrics;
use nao_viz::{palette, BarChart, BarSeries};

use crate::eval::EvalReport;
use crate::{AugmentError, Result};

/// A measure to `digits` decimals, or a dash when it could not be computed.
pub fn fixed_or_dash(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "–".into())
}

fn row(name: &str, m: &SetMetrics) -> String {
    format!(
        "| {name} | {} | {:.1} % | {:.3} | {} | {} | {} | {} | {} | {} | {} |\n",
        m.images,
        100.0 * m.accuracy,
        m.mean_confidence,
        fixed_or_dash(m.frechet_distance, 2),
        fixed_or_dash(m.precision, 3),
        fixed_or_dash(m.recall, 3),
        fixed_or_dash(m.density, 3),
        fixed_or_dash(m.coverage, 3),
        fixed_or_dash(m.diversity, 2),
        fixed_or_dash(m.mean_log_chi, 2),
    )
}

const HEADER: &str = "| | images | accuracy | confidence | Fréchet distance | precision | recall | density | coverage | diversity | mean log χ |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";

impl EvalReport {
    /// The report for people (`eval.md`).
    pub fn markdown(&self) -> String {
        let mut md = format!(
            "# nao eval\n\nClassifier: {}. Real images: {}. k = {} for the k-NN measures. The \
             Fréchet distance is computed in this classifier's feature space (an FID of this \
             domain, not Inception's); lower is closer to the real images.\n\n## Per method\n\n",
            self.classifier, self.real, self.k
        );
        md.push_str(HEADER);
        for m in &self.methods {
            md.push_str(&row(&m.method, &m.overall));
        }
        for m in &self.methods {
            let _ = write!(md, "\n## {} per class\n\n{HEADER}", m.method);
            for (class, c) in &m.classes {
                md.push_str(&row(class, c));
            }
            let notes: Vec<String> = std::iter::once(("overall", &m.overall))
                .chain(m.classes.iter().map(|(c, v)| (c.as_str(), v)))
                .flat_map(|(c, v)| v.notes.iter().map(move |n| format!("- {c}: {n}")))
                .collect();
            if !notes.is_empty() {
                let _ = write!(md, "\nNot computed:\n{}\n", notes.join("\n"));
            }
        }
        md
    }

    /// Two bar charts stacked (`eval.png`): the [0, 1] measures, then the Fréchet distance.
    pub fn chart(&self) -> Result<RgbImage> {
        let fail = |e| AugmentError::compute("the chart", e);
        let groups: Vec<String> = self.methods.iter().map(|m| m.method.clone()).collect();
        let series = |name: &str, i: usize, f: fn(&SetMetrics) -> Option<f64>| BarSeries {
            name: name.into(),
            values: self.methods.iter().map(|m| f(&m.overall)).collect(),
            color: palette(i),
        };
        let mut unit = BarChart::new("generated vs real images, per method");
        unit.groups = groups.clone();
        unit.series = vec![
            series("accuracy", 0, |m| Some(m.accuracy)),
            series("precision", 1, |m| m.precision),
            series("recall", 2, |m| m.recall),
            series("coverage", 3, |m| m.coverage),
        ];
        let mut fd =
            BarChart::new("Fréchet distance in the classifier's feature space (lower is better)");
        fd.groups = groups;
        fd.series = vec![series("Fréchet distance", 4, |m| m.frechet_distance)];
        fd.height = 300;
        let a = unit.render().map_err(fail)?;
        // no method may have a Fréchet distance (too few images): then the first chart alone
        let Ok(b) = fd.render() else {
            return Ok(a);
        };
        let mut img = RgbImage::new(a.width().max(b.width()), a.height() + b.height());
        imageops::replace(&mut img, &a, 0, 0);
        imageops::replace(&mut img, &b, 0, i64::from(a.height()));
        Ok(img)
    }

    /// The report's files, by name: `eval.json`, `eval.md`, `eval.png`.
    pub fn files(&self) -> Result<Vec<(&'static str, Vec<u8>)>> {
        let json = serde_json::to_string_pretty(self)
            .map_err(|e| AugmentError::compute("JSON encoding", e))?;
        let png = nao_viz::encode_png(&self.chart()?)
            .map_err(|e| AugmentError::compute("the chart", e))?;
        Ok(vec![
            ("eval.json", json.into_bytes()),
            ("eval.md", self.markdown().into_bytes()),
            ("eval.png", png),
        ])
    }
}
