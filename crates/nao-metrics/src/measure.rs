//! The measures of one generated set against the real images of the same classes: what
//! `nao eval` reports per class and method, and `nao demo` per rare class and method.

use serde::Serialize;

use crate::{
    density_coverage, diversity, frechet_distance, precision_recall, Features, MetricsError,
    ScoredImages,
};

/// k of the k-NN measures (the value their papers use).
pub const DEFAULT_K: usize = 5;

/// The measures of a set of generated images. A measure that cannot be computed (too few
/// images) is `None`, with the reason in `notes`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetMetrics {
    /// Generated images.
    pub images: usize,
    /// Real images compared against.
    pub real_images: usize,
    /// Fraction the classifier assigns to their class.
    pub accuracy: f64,
    /// Mean probability the classifier gives their class.
    pub mean_confidence: f64,
    /// Fréchet distance to the real images in the classifier's feature space.
    pub frechet_distance: Option<f64>,
    /// Generated images inside the real k-NN manifold.
    pub precision: Option<f64>,
    /// Real images inside the generated k-NN manifold.
    pub recall: Option<f64>,
    /// Density (Naeem et al.): ≈ 1 for a matching distribution.
    pub density: Option<f64>,
    /// Coverage (Naeem et al.): real k-NN balls holding a generated image.
    pub coverage: Option<f64>,
    /// Mean pairwise feature distance among the generated images.
    pub diversity: Option<f64>,
    /// Mean pairwise feature distance among the real images (the diversity to aim for).
    pub real_diversity: Option<f64>,
    /// Mean log χ of the seeds, when every image's is known.
    pub mean_log_chi: Option<f64>,
    /// Why a measure is missing.
    pub notes: Vec<String>,
}

/// The value, or `None` with the reason noted under `what`.
fn kept<T>(notes: &mut Vec<String>, what: &str, r: Result<T, MetricsError>) -> Option<T> {
    r.map_err(|e| notes.push(format!("{what}: {e}"))).ok()
}

/// Measure `generated` against the features of `real` images with k-NN balls of `k`.
pub fn measure(real: &Features, generated: &ScoredImages, k: usize) -> SetMetrics {
    let n = generated.len();
    let mut notes = Vec::new();
    let features = kept(&mut notes, "features", generated.features());
    let with = |notes: &mut Vec<String>,
                what: &str,
                f: &dyn Fn(&Features) -> Result<f64, MetricsError>| {
        features.as_ref().and_then(|g| kept(notes, what, f(g)))
    };
    let fd = with(&mut notes, "Fréchet distance", &|g| {
        frechet_distance(real, g)
    });
    let pr = features
        .as_ref()
        .and_then(|g| kept(&mut notes, "precision/recall", precision_recall(real, g, k)));
    let dc = features
        .as_ref()
        .and_then(|g| kept(&mut notes, "density/coverage", density_coverage(real, g, k)));
    let div = with(&mut notes, "diversity", &diversity);
    let real_div = kept(&mut notes, "real diversity", diversity(real));
    let chi: Vec<f64> = generated.log_chi.iter().flatten().copied().collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    SetMetrics {
        images: n,
        real_images: real.len(),
        accuracy: generated.accuracy(),
        mean_confidence: mean(&generated.confidence),
        frechet_distance: fd,
        precision: pr.map(|p| p.precision),
        recall: pr.map(|p| p.recall),
        density: dc.map(|d| d.density),
        coverage: dc.map(|d| d.coverage),
        diversity: div,
        real_diversity: real_div,
        mean_log_chi: (chi.len() == n && n > 0).then(|| mean(&chi)),
        notes,
    }
}
