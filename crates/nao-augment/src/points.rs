//! Seeds for a class from a few of its inverted real images: their centroid, and points on the
//! paths from the centroid to each of them in the centroid method's own geometry (NAO
//! geodesics for NAO, straight lines for the Euclidean and Gaussian means, NLERP and SLERP for
//! the normalised and spherical means). `nao demo` (rare concepts) and `nao augment` both draw
//! their seeds from these points.

use nao_centroid::{centroid, CentroidMethod, CentroidOptions};

use crate::{AugmentError, Result};

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
