//! `report.json`, `report.md` and the table printed at the end of the demo.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use nao_prior::ChiPrior;
use serde::Serialize;

use crate::interpolation::InterpolationReport;
use crate::rare::{method_keys, MethodScore};
use crate::{DemoError, Result};
use nao_augment::fixed_or_dash;

/// The model the demo ran.
#[derive(Debug, Serialize)]
pub struct ModelSummary {
    /// Model name.
    pub name: String,
    /// The `--device` it ran on.
    pub device: String,
    /// Seed dimension d.
    pub dim: usize,
    /// χ_d mode √(d−1).
    pub chi_mode: f64,
    /// Latent scaling factor.
    pub scaling_factor: f64,
    /// The rare classes.
    pub rare_classes: Vec<String>,
}

/// The demo's settings.
#[derive(Debug, Serialize)]
pub struct Settings {
    /// Seed of the baseline's random seeds.
    pub seed: u64,
    /// `--quick`.
    pub quick: bool,
    /// Steps (of the DDIM inversion and of the sampling).
    pub steps: usize,
    /// The sampler (`ddim`, `euler`, …).
    pub scheduler: String,
    /// Guidance scale.
    pub guidance: f64,
    /// Groups of real images per rare class.
    pub groups: usize,
    /// Real images per group.
    pub images_per_group: usize,
    /// Interior points per centroid→seed path.
    pub interior_points_per_path: usize,
}

/// Norm statistics of one kind of seed.
#[derive(Debug, Serialize)]
pub struct NormSummary {
    /// Seeds.
    pub n: usize,
    /// Mean norm.
    pub mean_norm: f64,
    /// Smallest norm.
    pub min_norm: f64,
    /// Largest norm.
    pub max_norm: f64,
    /// Mean log χ_d.
    pub mean_log_chi: f64,
}

impl NormSummary {
    /// Statistics of `norms`.
    pub fn of(norms: &[f64], chi: &ChiPrior) -> Self {
        let n = norms.len().max(1) as f64;
        Self {
            n: norms.len(),
            mean_norm: norms.iter().sum::<f64>() / n,
            min_norm: norms.iter().cloned().fold(f64::INFINITY, f64::min),
            max_norm: norms.iter().cloned().fold(f64::NEG_INFINITY, f64::max),
            mean_log_chi: norms.iter().map(|&r| chi.log_pdf(r)).sum::<f64>() / n,
        }
    }
}

/// Everything the demo measured.
#[derive(Debug, Serialize)]
pub struct Report {
    /// The model.
    pub model: ModelSummary,
    /// The settings.
    pub settings: Settings,
    /// Per rare class, per method: accuracy, mean log χ, count.
    pub rare_concepts: BTreeMap<String, BTreeMap<String, MethodScore>>,
    /// The interpolation example.
    pub interpolation: InterpolationReport,
    /// Norm statistics per kind of seed.
    pub norms: BTreeMap<String, NormSummary>,
    /// The pictures written.
    pub files: BTreeMap<String, String>,
    /// Wall time of the demo.
    pub seconds: f64,
}

impl Report {
    /// The verdict for one class: the methods with the highest accuracy, and among them the
    /// one whose images the classifier is surest of. Ties are named as ties.
    fn verdict(scores: &BTreeMap<String, MethodScore>) -> String {
        let best_acc = method_keys()
            .iter()
            .filter_map(|m| scores.get(*m).map(|v| v.accuracy))
            .fold(f64::NEG_INFINITY, f64::max);
        let tied: Vec<&str> = method_keys()
            .iter()
            .copied()
            .filter(|m| {
                scores
                    .get(*m)
                    .is_some_and(|v| v.accuracy >= best_acc - 1e-12)
            })
            .collect();
        let surest = tied
            .iter()
            .copied()
            .max_by(|a, b| {
                scores[*a]
                    .mean_confidence
                    .total_cmp(&scores[*b].mean_confidence)
            })
            .unwrap_or("nao");
        let nao = &scores["nao"];
        let acc_word = if tied.len() == 1 {
            format!("highest accuracy: {} ({:.1} %)", tied[0], 100.0 * best_acc)
        } else {
            format!(
                "highest accuracy {:.1} %, tied between {}",
                100.0 * best_acc,
                tied.join(", ")
            )
        };
        let nao_word = if tied.contains(&"nao") {
            if surest == "nao" {
                let runner_up = tied
                    .iter()
                    .filter(|m| **m != "nao")
                    .map(|m| scores[*m].mean_confidence)
                    .fold(f64::NEG_INFINITY, f64::max);
                if runner_up.is_finite() {
                    format!(
                        "NAO ties on accuracy and has the highest classifier confidence, by {:.3}",
                        nao.mean_confidence - runner_up
                    )
                } else {
                    "NAO is best".to_string()
                }
            } else {
                format!("NAO ties on accuracy; {surest} has the higher classifier confidence")
            }
        } else {
            format!("NAO does not win here ({:.1} %)", 100.0 * nao.accuracy)
        };
        let closest = method_keys()
            .iter()
            .filter_map(|m| {
                scores
                    .get(*m)
                    .and_then(|v| v.frechet_distance.map(|f| (*m, f)))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(m, f)| format!("; closest to the real images: {m} (Fréchet distance {f:.2})"))
            .unwrap_or_default();
        format!("{acc_word}; {nao_word}{closest}")
    }

    /// The rare-concept table (markdown) and a one-line verdict per class.
    pub fn table(&self) -> String {
        let mut s = String::new();
        if self.settings.quick {
            let n = self
                .rare_concepts
                .values()
                .flat_map(|m| m.values().map(|v| v.n))
                .max()
                .unwrap_or(0);
            let _ = writeln!(
                s,
                "\n*--quick: {n} images per method and class, too few to rank the methods (a \
                 difference of one image is {:.0} points of accuracy); run without --quick to \
                 compare them.*",
                100.0 / n.max(1) as f64
            );
        }
        for (class, scores) in &self.rare_concepts {
            let _ = writeln!(s, "\n**{class}** (rare concept)\n");
            let _ = writeln!(
                s,
                "| method | classifier accuracy | confidence | Fréchet distance | precision | recall | centroid images | mean log χ | mean ‖z‖ | n |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for m in method_keys() {
                if let Some(v) = scores.get(m) {
                    let _ = writeln!(
                        s,
                        "| {m} | {:.1} % | {:.3} | {} | {} | {} | {} | {:.2} | {:.2} | {} |",
                        100.0 * v.accuracy,
                        v.mean_confidence,
                        fixed_or_dash(v.frechet_distance, 2),
                        fixed_or_dash(v.precision, 2),
                        fixed_or_dash(v.recall, 2),
                        v.centroid_accuracy
                            .map(|c| format!("{:.0} %", 100.0 * c))
                            .unwrap_or_else(|| "–".into()),
                        v.mean_log_chi,
                        v.mean_norm,
                        v.n
                    );
                }
            }
            let _ = writeln!(s, "\n{}", Self::verdict(scores));
        }
        let _ = writeln!(
            s,
            "\n**interpolation** ({}, {} frames)\n\n| path | accuracy | mean log χ | min ‖z‖ | NAO cost |\n|---|---:|---:|---:|---:|",
            self.interpolation.class, self.interpolation.frames
        );
        for (m, v) in &self.interpolation.methods {
            let _ = writeln!(
                s,
                "| {m} | {:.0} % | {:.2} | {:.2} | {:.2} |",
                100.0 * v.accuracy,
                v.mean_log_chi,
                v.min_norm,
                v.nao_cost
            );
        }
        s
    }

    /// `report.json`: every number of the report, pretty-printed.
    pub fn json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|e| DemoError::compute("JSON encoding", e))
    }

    /// `report.md`: the settings, the tables, the seed norms and the pictures.
    pub fn markdown(&self) -> String {
        let mut md = String::new();
        let _ = writeln!(
            md,
            "# nao demo report\n\nModel: {} on {} (d = {}, χ mode {:.3}); {} steps (DDIM inversion, {} sampling), guidance {}, {} group(s) of {} real images per rare class, {} interior points per path; {:.1} s.\n",
            self.model.name,
            self.model.device,
            self.model.dim,
            self.model.chi_mode,
            self.settings.steps,
            self.settings.scheduler,
            self.settings.guidance,
            self.settings.groups,
            self.settings.images_per_group,
            self.settings.interior_points_per_path,
            self.seconds
        );
        let _ = writeln!(md, "## Rare concepts and interpolation\n{}", self.table());
        let _ = writeln!(md, "\n## Seed norms\n\n| seeds | n | mean ‖z‖ | min | max | mean log χ |\n|---|---:|---:|---:|---:|---:|");
        for (k, v) in &self.norms {
            let _ = writeln!(
                md,
                "| {k} | {} | {:.2} | {:.2} | {:.2} | {:.2} |",
                v.n, v.mean_norm, v.min_norm, v.max_norm, v.mean_log_chi
            );
        }
        let _ = writeln!(md, "\n## Pictures\n");
        for (k, p) in &self.files {
            let name = Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().to_string())
                .unwrap_or_default();
            let _ = writeln!(md, "- {k}: ![{k}]({name})");
        }
        md
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(accuracy: f64, mean_confidence: f64, frechet: f64) -> MethodScore {
        MethodScore {
            accuracy,
            mean_confidence,
            frechet_distance: Some(frechet),
            precision: None,
            recall: None,
            mean_log_chi: -1.0,
            mean_norm: 14.0,
            n: 11,
            centroid_accuracy: None,
        }
    }

    fn scores(rows: &[(&str, f64, f64, f64)]) -> BTreeMap<String, MethodScore> {
        let to_score = |&(k, a, c, f): &(&str, f64, f64, f64)| (k.to_string(), score(a, c, f));
        rows.iter().map(to_score).collect()
    }

    #[test]
    fn the_verdict_names_ties_and_losses_plainly() {
        let tie = scores(&[
            ("prompt_only", 0.5, 0.5, 9.0),
            ("euclidean", 1.0, 0.7, 5.0),
            ("nao", 1.0, 0.9, 4.0),
        ]);
        let v = Report::verdict(&tie);
        assert!(v.contains("tied between euclidean, nao"), "{v}");
        assert!(v.contains("highest classifier confidence, by 0.200"), "{v}");
        assert!(
            v.contains("closest to the real images: nao (Fréchet distance 4.00)"),
            "{v}"
        );
        let loss = scores(&[("euclidean", 1.0, 0.7, 5.0), ("nao", 0.8, 0.9, 6.0)]);
        let v = Report::verdict(&loss);
        assert!(v.contains("highest accuracy: euclidean (100.0 %)"), "{v}");
        assert!(v.contains("NAO does not win here (80.0 %)"), "{v}");
        let surer = scores(&[("gaussian", 1.0, 0.95, 5.0), ("nao", 1.0, 0.9, 6.0)]);
        let v = Report::verdict(&surer);
        assert!(
            v.contains("gaussian has the higher classifier confidence"),
            "{v}"
        );
    }
}
