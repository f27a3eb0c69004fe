//! Seeds for a class from a few of its inverted real images: their centroid, and points on the
//! paths from the centroid to each of them in the centroid method's own geometry (NAO
//! geodesics for NAO, straight lines for the Euclidean and Gaussian means, NLERP and SLERP for
//! the normalised and spherical means). `nao demo` (rare concepts) and `nao augment` both draw
//! their seeds from these points.

use nao_centroid::{centroid, CentroidMethod, CentroidOptions};
use nao_prior::GaussianSeeds;

use crate::{AugmentError, Result, SeedMethod};

/// A centroid and the points on the paths from it to each seed.
#[derive(Debug, Clone, PartialEq)]
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
/// for the others).
///
/// ```
/// assert_eq!(nao_augment::path_positions(3), [0.25, 0.5, 0.75]);
/// ```
pub fn path_positions(interior: usize) -> Vec<f64> {
    (1..=interior)
        .map(|j| j as f64 / (interior + 1) as f64)
        .collect()
}

/// The centroid of `seeds` by `method`, and `interior` evenly spaced points strictly inside the
/// path from the centroid to each seed.
///
/// ```
/// use nao_augment::centroid_points;
/// use nao_centroid::CentroidMethod;
/// let (a, b) = ([3.0, 1.0, -2.0], [1.0, -1.0, 4.0]);
/// let p = centroid_points(CentroidMethod::Euclidean, &[&a, &b], 1)?;
/// assert_eq!(p.centroid, [2.0, 0.0, 1.0]);
/// assert_eq!(p.paths[0][0], [2.5, 0.5, -0.5]); // half-way to a
/// # Ok::<(), nao_augment::AugmentError>(())
/// ```
pub fn centroid_points(
    method: CentroidMethod,
    seeds: &[&[f64]],
    interior: usize,
) -> Result<CentroidPoints> {
    let frames = interior
        .checked_add(2)
        .ok_or_else(|| AugmentError::input(format!("{interior} points per path is too many")))?;
    let r = centroid(method, seeds, &CentroidOptions::default(), Some(frames))
        .map_err(|e| AugmentError::compute("centroid", e))?;
    let paths = r
        .paths
        .unwrap_or_default()
        .iter()
        .map(|path| (1..=interior).map(|j| path.frame(j).to_vec()).collect())
        .collect::<Vec<Vec<Vec<f64>>>>();
    if paths.len() != seeds.len() {
        return Err(AugmentError::compute(
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

/// The seeds one [`SeedMethod`] makes from groups of inverted seeds: per group its centroid,
/// then the `interior` points of the path to each seed of the group ([`centroid_points`]);
/// for [`SeedMethod::PromptOnly`], as many random seeds drawn from `random` (the seeds'
/// dimension is the groups'). The rare-concept experiment of `nao demo` and the sampler sweep
/// of `nao sampler-sweep` both make their seeds here.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodSeeds {
    /// The seeds, group after group: the centroid, then the path points seed by seed.
    pub seeds: Vec<Vec<f64>>,
    /// Where each group's centroid is in `seeds` (empty for prompt-only).
    pub centroids: Vec<usize>,
}

/// The seeds of `method` for `groups` of inverted seeds (see [`MethodSeeds`]).
///
/// ```
/// use nao_augment::{method_seeds, SeedMethod};
/// use nao_prior::{GaussianSeeds, RngName};
/// let inverted = vec![vec![3.0, 1.0], vec![1.0, -1.0], vec![0.0, 2.0], vec![2.0, 2.0]];
/// let groups: Vec<&[Vec<f64>]> = inverted.chunks(2).collect();
/// let mut rng = GaussianSeeds::new(RngName::ChaCha20, 0);
/// let s = method_seeds(SeedMethod::Euclidean, &groups, 1, &mut rng)?;
/// assert_eq!(s.centroids, [0, 3]); // per group: centroid, then one point per seed
/// assert_eq!(s.seeds[0], [2.0, 0.0]);
/// let random = method_seeds(SeedMethod::PromptOnly, &groups, 1, &mut rng)?;
/// assert_eq!((random.seeds.len(), random.centroids.len()), (6, 0));
/// # Ok::<(), nao_augment::AugmentError>(())
/// ```
pub fn method_seeds(
    method: SeedMethod,
    groups: &[&[Vec<f64>]],
    interior: usize,
    random: &mut GaussianSeeds,
) -> Result<MethodSeeds> {
    let d = groups
        .iter()
        .flat_map(|g| g.iter())
        .map(Vec::len)
        .next()
        .ok_or_else(|| AugmentError::input("no inverted seeds to take centroids of"))?;
    let mut out = MethodSeeds {
        seeds: Vec::new(),
        centroids: Vec::new(),
    };
    match method.centroid_method() {
        Some(centroid_method) => {
            for group in groups {
                let views: Vec<&[f64]> = group.iter().map(Vec::as_slice).collect();
                let points = centroid_points(centroid_method, &views, interior)?;
                out.centroids.push(out.seeds.len());
                out.seeds.push(points.centroid);
                out.seeds.extend(points.paths.into_iter().flatten());
            }
        }
        None => {
            let count: usize = groups
                .iter()
                .map(|g| 1 + g.len().saturating_mul(interior))
                .sum();
            out.seeds = (0..count).map(|_| random.seed(d)).collect();
        }
    }
    Ok(out)
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
}
