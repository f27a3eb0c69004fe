//! Part 1: interpolation between two inverted real images by LERP, SLERP and NAO.

use nao_burn::CLASS_NAMES;
use nao_geodesic::{interpolate, polyline_cost, Frames, Method, Spacing};
use nao_viz::{GridRow, Tile};
use serde::Serialize;

use crate::engine::{self, Engine, Sampled};
use crate::progress::Progress;
use crate::{DemoError, Result};

/// What one method's interpolation gave.
#[derive(Debug, Serialize)]
pub struct InterpolationMethod {
    /// Seed norm of every frame (endpoints included).
    pub norms: Vec<f64>,
    /// Mean log χ_d over the frames.
    pub mean_log_chi: f64,
    /// Smallest frame norm.
    pub min_norm: f64,
    /// NAO cost (likelihood-weighted length) of the path through the frames.
    pub nao_cost: f64,
    /// Fraction of frames the classifier puts in the endpoints' class.
    pub accuracy: f64,
    /// Frames.
    pub n: usize,
}

/// The interpolation section of the report.
#[derive(Debug, Serialize)]
pub struct InterpolationReport {
    /// The class of both endpoints.
    pub class: String,
    /// Which bundled images were the endpoints.
    pub images: [usize; 2],
    /// Frames per path, endpoints included.
    pub frames: usize,
    /// Per method: `lerp`, `slerp`, `nao`.
    pub methods: std::collections::BTreeMap<String, InterpolationMethod>,
}

/// Invert two bundled images of `class`, interpolate, sample every frame; returns the report,
/// the picture rows, and the LERP midpoint seed (for the norm picture).
pub(crate) fn run(
    engine: &Engine<'_>,
    class: usize,
    images: [usize; 2],
    frames: usize,
    progress: &mut Progress<'_>,
) -> Result<(InterpolationReport, Vec<GridRow>, Vec<f64>)> {
    let pick = engine::pick(&engine::bundled(class)?, class, images)?;
    let seeds = engine.invert(&pick, class, progress)?;
    let (a, b) = (&seeds[0], &seeds[1]);
    let mut rows = Vec::new();
    let mut methods = std::collections::BTreeMap::new();
    let mut lerp_mid = Vec::new();
    for (name, method) in [
        ("lerp", Method::Lerp),
        ("slerp", Method::Slerp),
        ("nao", Method::Nao),
    ] {
        let path: Frames = interpolate(method, a, b, frames, Spacing::Euclidean)
            .map_err(|e| DemoError::compute("interpolation", e))?;
        let seeds: Vec<Vec<f64>> = path.iter().map(|f| f.to_vec()).collect();
        if method == Method::Lerp {
            lerp_mid = a.iter().zip(b).map(|(x, y)| 0.5 * (x + y)).collect();
        }
        let sampled: Sampled = engine.sample(&seeds, class, progress)?;
        let norms: Vec<f64> = seeds.iter().map(|s| engine.norm(s)).collect();
        let tiles = (0..seeds.len())
            .map(|i| {
                Tile::new(sampled.image(i).to_vec(), 1, 28, 28)
                    .map(|t| t.with_caption(format!("{:.2}", norms[i])))
                    .map_err(|e| DemoError::compute("picture", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        rows.push(GridRow {
            label: name.to_uppercase(),
            tiles,
        });
        methods.insert(
            name.to_string(),
            InterpolationMethod {
                min_norm: norms.iter().cloned().fold(f64::INFINITY, f64::min),
                norms,
                mean_log_chi: engine.mean_log_chi(&seeds),
                nao_cost: polyline_cost(&engine.chi, &path),
                accuracy: sampled.scored.accuracy(),
                n: seeds.len(),
            },
        );
    }
    Ok((
        InterpolationReport {
            class: CLASS_NAMES[class].to_string(),
            images,
            frames,
            methods,
        },
        rows,
        lerp_mid,
    ))
}
