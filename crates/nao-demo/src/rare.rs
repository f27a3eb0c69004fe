//! Part 2: rare concepts. Invert a few real images of a class the model saw only 60 times,
//! take their centroid by every method, and sample from the centroid and from the interior
//! points of the paths between the centroid and each inverted seed (in the method's own
//! geometry). Baseline: random seeds with the class prompt alone.

use std::collections::BTreeMap;

use nao_prior::{GaussianSeeds, RngName};
use nao_viz::{GridRow, Tile};
use serde::Serialize;

use crate::engine::{self, Engine, Sampled};
use crate::progress::{Event, Progress};
use crate::{DemoError, Result};
use nao_augment::{method_seeds, MethodSeeds, SeedMethod};
use nao_metrics::{measure, DEFAULT_K};

/// The key of the row whose seeds are NAO's, refined by SeedSelect.
pub const NAO_SEEDSELECT: &str = "nao_seedselect";

/// The report's method keys, in table order: every seed method, then NAO + SeedSelect.
pub fn method_keys() -> Vec<&'static str> {
    let mut keys: Vec<&str> = SeedMethod::ALL.map(SeedMethod::report_key).to_vec();
    keys.push(NAO_SEEDSELECT);
    keys
}

/// One method's numbers for one class.
#[derive(Debug, Clone, Serialize)]
pub struct MethodScore {
    /// Fraction of sampled images the classifier puts in the class.
    pub accuracy: f64,
    /// Mean classifier probability of the class.
    pub mean_confidence: f64,
    /// Fréchet distance between the images' classifier features and those of the class's 20
    /// bundled real images (lower is closer; `None` when too few images to estimate it).
    pub frechet_distance: Option<f64>,
    /// Generated images inside the real images' k-NN manifold (k = 5).
    pub precision: Option<f64>,
    /// Real images inside the generated images' k-NN manifold (k = 5).
    pub recall: Option<f64>,
    /// Mean log χ_d of the seeds' norms.
    pub mean_log_chi: f64,
    /// Mean seed norm.
    pub mean_norm: f64,
    /// Images (seeds).
    pub n: usize,
    /// Accuracy of the centroid images alone (one per group; absent for `prompt_only`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub centroid_accuracy: Option<f64>,
}

/// Seeds of one class, by role, for the norm picture.
#[derive(Debug, Default)]
pub(crate) struct ClassSeeds {
    /// Random seeds of the baseline.
    pub random: Vec<f64>,
    /// Norms of the inverted seeds.
    pub inverted: Vec<f64>,
    /// Norms of LERP midpoints between consecutive inverted seeds of a group.
    pub lerp_mid: Vec<f64>,
    /// Centroid norms per method.
    pub centroids: BTreeMap<String, Vec<f64>>,
    /// Norms of the interior NAO path points.
    pub nao_path: Vec<f64>,
}

/// Settings of the rare-concept experiment.
pub(crate) struct RareSettings {
    /// Disjoint groups of real images (each gives one centroid per method).
    pub groups: usize,
    /// Real images per group (5).
    pub per_group: usize,
    /// Interior points per centroid→seed path.
    pub interior: usize,
    /// Seed of the baseline's random seeds.
    pub seed: u64,
    /// SeedSelect's settings for the NAO seeds' refinement (the defaults for NAO seeds).
    pub select: nao_select::SelectConfig,
}

/// What one class's experiment gives: scores per method, picture rows, seed norms.
pub(crate) type ClassOutcome = (BTreeMap<String, MethodScore>, Vec<GridRow>, ClassSeeds);

/// Run the experiment for one class.
pub(crate) fn run(
    engine: &Engine<'_>,
    class: usize,
    s: &RareSettings,
    progress: &mut Progress<'_>,
) -> Result<ClassOutcome> {
    let all = engine::bundled(class)?;
    // `pick` refuses indices past the bundle, naming them.
    let used = engine::pick(&all, class, 0..s.groups * s.per_group)?;
    let inverted = engine.invert(&used, class, progress)?;
    // every bundled image of the class (more than the inverted ones) is the real reference
    let mut unit = all.clone();
    nao_backend::to_unit_range(&mut unit);
    let real_features = engine.real_features(&unit, class)?;
    let mut seeds_out = ClassSeeds {
        inverted: inverted.iter().map(|z| engine.norm(z)).collect(),
        ..Default::default()
    };
    let mut scores = BTreeMap::new();
    let mut rows = vec![GridRow {
        label: "real".into(),
        tiles: (0..s.per_group)
            .map(|i| {
                tile(
                    &used.data[i * 784..(i + 1) * 784]
                        .iter()
                        .map(|v| (v + 1.0) * 0.5)
                        .collect::<Vec<_>>(),
                    None,
                )
            })
            .collect::<Result<_, _>>()?,
    }];
    for g in 0..s.groups {
        let group = &inverted[g * s.per_group..(g + 1) * s.per_group];
        for w in group.windows(2) {
            let mid: Vec<f64> = w[0].iter().zip(&w[1]).map(|(a, b)| 0.5 * (a + b)).collect();
            seeds_out.lerp_mid.push(engine.norm(&mid));
        }
    }
    let groups: Vec<&[Vec<f64>]> = inverted.chunks(s.per_group).take(s.groups).collect();
    let mut nao_seeds: Vec<Vec<f64>> = Vec::new();
    for method in SeedMethod::ALL {
        let key = method.report_key();
        // Seeds of this method: per group the centroid first, then the interior path points
        // (prompt-only: as many random seeds).
        let mut rng = GaussianSeeds::new(RngName::ChaCha20, s.seed ^ (class as u64) << 32);
        let made = method_seeds(method, &groups, s.interior, &mut rng)
            .map_err(|e| DemoError::compute("centroid", e))?;
        let (seeds, centroid_index) = (made.seeds, made.centroids);
        for (i, z) in seeds.iter().enumerate() {
            let norm = engine.norm(z);
            match method {
                SeedMethod::PromptOnly => seeds_out.random.push(norm),
                _ if centroid_index.contains(&i) => seeds_out
                    .centroids
                    .entry(key.to_string())
                    .or_default()
                    .push(norm),
                SeedMethod::Nao => seeds_out.nao_path.push(norm),
                _ => {}
            }
        }
        if method == SeedMethod::Nao {
            nao_seeds.clone_from(&seeds);
        }
        let made = MethodSeeds {
            seeds,
            centroids: centroid_index,
        };
        let row = score_row(engine, &real_features, &made, class, key, s, progress)?;
        scores.insert(key.to_string(), row.0);
        rows.push(row.1);
    }
    // NAO's seeds refined by SeedSelect toward the inverted real images, then sampled alike
    let refined = seedselect(&nao_seeds, &used, class, &s.select, progress)?;
    let centroid_index: Vec<usize> = (0..s.groups)
        .map(|g| g * (1 + s.per_group * s.interior))
        .collect();
    let made = MethodSeeds {
        seeds: refined,
        centroids: centroid_index,
    };
    let row = score_row(
        engine,
        &real_features,
        &made,
        class,
        NAO_SEEDSELECT,
        s,
        progress,
    )?;
    scores.insert(NAO_SEEDSELECT.to_string(), row.0);
    rows.push(row.1);
    Ok((scores, rows, seeds_out))
}

/// The seeds refined by SeedSelect on the embedded model (burn's CPU backend) toward `real`.
fn seedselect(
    seeds: &[Vec<f64>],
    real: &nao_backend::Tensor,
    class: usize,
    config: &nao_select::SelectConfig,
    progress: &mut Progress<'_>,
) -> Result<Vec<Vec<f64>>> {
    let net = nao_select::EmbeddedNet::embedded(&nao_burn::Device::flex(), class)
        .map_err(|e| DemoError::compute("SeedSelect", e))?;
    let target = nao_select::Target::from_images(&net, &net, real)
        .map_err(|e| DemoError::compute("SeedSelect", e))?;
    let z: Vec<Vec<f32>> = seeds
        .iter()
        .map(|s| s.iter().map(|&v| v as f32).collect())
        .collect();
    let refined = nao_select::refine(&net, &net, &target, &z, config, &mut |_| {
        progress(Event::Step)
    })
    .map_err(|e| match e {
        nao_select::SelectError::Cancelled => DemoError::Cancelled,
        e => DemoError::compute("SeedSelect", e),
    })?;
    Ok(refined
        .into_iter()
        .map(|r| r.seed.iter().map(|&v| f64::from(v)).collect())
        .collect())
}

/// Sample `seeds`, score them as `nao eval` does, and make their picture row.
fn score_row(
    engine: &Engine<'_>,
    real_features: &nao_metrics::Features,
    made: &MethodSeeds,
    class: usize,
    key: &str,
    s: &RareSettings,
    progress: &mut Progress<'_>,
) -> Result<(MethodScore, GridRow)> {
    let (seeds, centroid_index) = (&made.seeds, &made.centroids);
    let sampled: Sampled = engine.sample(seeds, class, progress)?;
    let hits = &sampled.scored.hits;
    let centroid_accuracy = (!centroid_index.is_empty()).then(|| {
        centroid_index.iter().filter(|&&i| hits[i]).count() as f64 / centroid_index.len() as f64
    });
    // the measures of `nao eval`, on the same path
    let m = measure(real_features, &sampled.scored, DEFAULT_K);
    let score = MethodScore {
        accuracy: m.accuracy,
        mean_confidence: m.mean_confidence,
        frechet_distance: m.frechet_distance,
        precision: m.precision,
        recall: m.recall,
        mean_log_chi: m.mean_log_chi.unwrap_or(f64::NAN),
        mean_norm: seeds.iter().map(|z| engine.norm(z)).sum::<f64>() / seeds.len() as f64,
        n: seeds.len(),
        centroid_accuracy,
    };
    let shown = seeds.len().min(1 + s.per_group * s.interior).min(11);
    let row = GridRow {
        label: key.replace('_', " "),
        tiles: (0..shown)
            .map(|i| {
                let ok = if hits[i] { "+" } else { "-" };
                tile(
                    sampled.image(i),
                    Some(format!("{:.1}{ok}", engine.norm(&seeds[i]))),
                )
            })
            .collect::<Result<_, _>>()?,
    };
    Ok((score, row))
}

fn tile(pixels: &[f32], caption: Option<String>) -> Result<Tile> {
    let t = Tile::new(pixels.to_vec(), 1, 28, 28).map_err(|e| DemoError::compute("picture", e))?;
    Ok(match caption {
        Some(c) => t.with_caption(c),
        None => t,
    })
}
