//! Seeds for a class from a few of its inverted real images: their centroid, and points on the
//! paths from the centroid to each of them in the centroid method's own geometry (NAO
//! geodesics for NAO, straight lines for the Euclidean and Gaussian means, NLERP and SLERP for
//! the normalised and spherical means). `nao demo` (rare concepts) and `nao augment` both draw
//! their seeds from these points; `prompt-only`, the baseline, draws random seeds instead.

use clap::ValueEnum;
use nao_centroid::{centroid, CentroidMethod, CentroidOptions};

use crate::error::CliError;

/// How the seeds of a class are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SeedMethod {
    /// Random Gaussian seeds with the class prompt alone (the baseline).
    PromptOnly,
    /// Euclidean mean of the inverted seeds; straight paths.
    Euclidean,
    /// Euclidean mean rescaled to the seeds' mean norm; NLERP paths.
    Normalized,
    /// Spherical (Karcher) mean at the seeds' mean norm; SLERP paths.
    Spherical,
    /// Gaussian-preserving mean Σxᵢ/√k; straight paths.
    Gaussian,
    /// NAO centroid (the paper's objective); NAO geodesic paths.
    Nao,
}

impl SeedMethod {
    /// Every method, in the order of the demo's tables (the baseline first, NAO last).
    pub const ALL: [SeedMethod; 6] = [
        Self::PromptOnly,
        Self::Euclidean,
        Self::Normalized,
        Self::Spherical,
        Self::Gaussian,
        Self::Nao,
    ];

    /// The centroid method, or `None` for the prompt-only baseline.
    pub fn centroid_method(self) -> Option<CentroidMethod> {
        Some(match self {
            Self::PromptOnly => return None,
            Self::Euclidean => CentroidMethod::Euclidean,
            Self::Normalized => CentroidMethod::Normalized,
            Self::Spherical => CentroidMethod::Spherical,
            Self::Gaussian => CentroidMethod::Gaussian,
            Self::Nao => CentroidMethod::Nao,
        })
    }

    /// The command-line name (`prompt-only`, `nao`, …).
    pub fn name(self) -> &'static str {
        match self.centroid_method() {
            Some(m) => m.as_str(),
            None => "prompt-only",
        }
    }

    /// The key of the demo's reports (`prompt_only`, `nao`, …).
    pub fn report_key(self) -> &'static str {
        match self {
            Self::PromptOnly => "prompt_only",
            other => other.name(),
        }
    }
}

/// A centroid and the points on the paths from it to each seed.
#[derive(Debug, Clone)]
pub struct CentroidPoints {
    /// The centroid.
    pub centroid: Vec<f64>,
    /// `paths[i][j]`: the point at [`path_positions`]`(interior)[j]` on the path from the
    /// centroid to seed `i`.
    pub paths: Vec<Vec<Vec<f64>>>,
}

/// Where the `interior` points of a path lie: `t = j/(interior + 1)` for `j = 1..=interior`,
/// as fractions of the way from the centroid (`t = 0`) to the seed (`t = 1`), spaced as the
/// method's frames are (uniformly in Euclidean arc length for NAO, in the interpolation weight
/// for the others): 3 points are at ¼, ½ and ¾.
pub fn path_positions(interior: usize) -> Vec<f64> {
    (1..=interior)
        .map(|j| j as f64 / (interior + 1) as f64)
        .collect()
}

/// The centroid of `seeds` by `method`, and `interior` evenly spaced points strictly inside the
/// path from the centroid to each seed.
pub fn centroid_points(
    method: CentroidMethod,
    seeds: &[&[f64]],
    interior: usize,
) -> Result<CentroidPoints, CliError> {
    let r = centroid(
        method,
        seeds,
        &CentroidOptions::default(),
        Some(interior + 2),
    )
    .map_err(|e| CliError::compute("centroid", e))?;
    let paths = r
        .paths
        .unwrap_or_default()
        .iter()
        .map(|path| (1..=interior).map(|j| path.frame(j).to_vec()).collect())
        .collect::<Vec<Vec<Vec<f64>>>>();
    if paths.len() != seeds.len() {
        return Err(CliError::compute(
            "centroid",
            format!(
                "method {method} returned {} paths for {} seeds",
                paths.len(),
                seeds.len()
            ),
        ));
    }
    Ok(CentroidPoints {
        centroid: r.centroid,
        paths,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_split_the_path_evenly() {
        assert_eq!(path_positions(3), [0.25, 0.5, 0.75]);
        assert_eq!(path_positions(1), [0.5]);
        assert!(path_positions(0).is_empty());
    }

    #[test]
    fn points_lie_on_the_methods_paths() {
        // Euclidean: straight lines, so the point at t is (1 − t)·c + t·x exactly.
        let seeds = [vec![3.0, 1.0, -2.0], vec![1.0, -1.0, 4.0]];
        let views: Vec<&[f64]> = seeds.iter().map(|s| s.as_slice()).collect();
        let p = centroid_points(CentroidMethod::Euclidean, &views, 3).unwrap();
        assert_eq!(p.centroid, [2.0, 0.0, 1.0]);
        assert_eq!(p.paths.len(), 2);
        for (i, path) in p.paths.iter().enumerate() {
            assert_eq!(path.len(), 3);
            for (point, t) in path.iter().zip(path_positions(3)) {
                for k in 0..3 {
                    let want = (1.0 - t) * p.centroid[k] + t * seeds[i][k];
                    assert!((point[k] - want).abs() < 1e-12, "{point:?} at {t}");
                }
            }
        }
    }

    #[test]
    fn names_and_keys() {
        assert_eq!(SeedMethod::PromptOnly.name(), "prompt-only");
        assert_eq!(SeedMethod::PromptOnly.report_key(), "prompt_only");
        assert_eq!(SeedMethod::Nao.name(), "nao");
        for m in SeedMethod::ALL {
            let parsed = SeedMethod::from_str(m.name(), false).unwrap();
            assert_eq!(parsed, m);
        }
    }
}
