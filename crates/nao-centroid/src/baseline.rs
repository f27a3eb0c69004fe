//! Baseline centroids: Euclidean, normalised, spherical (Karcher) and Gaussian-preserving means.

use nao_prior::{dot, norm, ChiPrior};

use nao_optim::{StopReason, Termination};

use crate::method::NormTarget;

/// The Euclidean mean `Σ xᵢ / k`. It collapses towards the origin: for k independent Gaussian
/// seeds its norm is about `√(d/k)`, far inside the χ shell.
pub fn euclidean(seeds: &[&[f64]]) -> Vec<f64> {
    let d = seeds[0].len();
    let mut c = vec![0.0; d];
    for s in seeds {
        c.iter_mut().zip(s.iter()).for_each(|(a, b)| *a += b);
    }
    let k = seeds.len() as f64;
    c.iter_mut().for_each(|v| *v /= k);
    c
}

/// The norm a normalised or spherical centroid is given.
pub(crate) fn target_norm(seeds: &[&[f64]], target: NormTarget) -> f64 {
    match target {
        NormTarget::Mode => ChiPrior::new(seeds[0].len())
            .map(|p| p.mode())
            .unwrap_or(1.0),
        NormTarget::MeanInputNorm => {
            seeds.iter().map(|s| norm(s)).sum::<f64>() / seeds.len() as f64
        }
    }
}

/// The Euclidean mean rescaled to the χ mode or to the mean input norm.
///
/// When the mean is the zero vector (e.g. two opposite seeds) its direction is undefined; the
/// first seed's direction is used.
pub fn normalized(seeds: &[&[f64]], target: NormTarget) -> Vec<f64> {
    let mut c = euclidean(seeds);
    let n = norm(&c);
    let r = target_norm(seeds, target);
    if n > 0.0 {
        c.iter_mut().for_each(|v| *v *= r / n);
    } else {
        let n0 = norm(seeds[0]);
        c = seeds[0].iter().map(|v| v * r / n0).collect();
    }
    c
}

/// Gaussian-preserving mean `Σ wᵢ xᵢ / √(Σ wᵢ²)` with equal weights, i.e. `Σ xᵢ / √k`: a
/// combination of independent N(0, I) seeds that is again N(0, I).
pub fn gaussian(seeds: &[&[f64]]) -> Vec<f64> {
    let mut c = euclidean(seeds);
    let k = seeds.len() as f64;
    c.iter_mut().for_each(|v| *v *= k.sqrt());
    c
}

/// Spherical (Karcher) mean of the directions, given the norm of `target`.
///
/// Minimises `Σ angle(c, xᵢ)²` on the unit sphere by the fixed-point iteration
/// `c ← exp_c(mean of log_c(xᵢ))`, started at the normalised mean; returns the point and how
/// the iteration ended ([`StopReason::Converged`] once the mean tangent step is below `tol`,
/// else [`StopReason::IterationCap`]).
pub fn spherical(
    seeds: &[&[f64]],
    target: NormTarget,
    max_iters: usize,
    tol: f64,
) -> (Vec<f64>, Termination) {
    let d = seeds[0].len();
    let units: Vec<Vec<f64>> = seeds
        .iter()
        .map(|s| {
            let n = norm(s);
            s.iter().map(|v| v / n).collect()
        })
        .collect();
    let mut c = {
        let refs: Vec<&[f64]> = units.iter().map(|u| u.as_slice()).collect();
        normalized(&refs, NormTarget::MeanInputNorm) // unit norm: inputs are unit vectors
    };
    let mut iters = 0;
    let mut reason = StopReason::IterationCap;
    let mut step = vec![0.0; d];
    for it in 0..max_iters {
        iters = it + 1;
        step.iter_mut().for_each(|v| *v = 0.0);
        for u in &units {
            // log map: the tangent at c pointing to u with length angle(c, u)
            let cos = dot(&c, u).clamp(-1.0, 1.0);
            let mut t: Vec<f64> = u.iter().zip(&c).map(|(x, y)| x - cos * y).collect();
            let tn = norm(&t);
            if tn < 1e-15 {
                continue; // u = ±c: no direction (the antipode is a measure-zero tie)
            }
            let ang = tn.atan2(cos);
            t.iter_mut().for_each(|v| *v *= ang / tn);
            step.iter_mut().zip(&t).for_each(|(s, v)| *s += v);
        }
        let k = units.len() as f64;
        step.iter_mut().for_each(|v| *v /= k);
        let sn = norm(&step);
        if sn < tol {
            reason = StopReason::Converged;
            break;
        }
        // exp map
        let (s, co) = sn.sin_cos();
        c = c
            .iter()
            .zip(&step)
            .map(|(x, v)| co * x + s * v / sn)
            .collect();
        let n = norm(&c);
        c.iter_mut().for_each(|v| *v /= n);
    }
    let r = target_norm(seeds, target);
    c.iter_mut().for_each(|v| *v *= r);
    let termination = Termination {
        reason,
        iterations: iters,
    };
    (c, termination)
}
