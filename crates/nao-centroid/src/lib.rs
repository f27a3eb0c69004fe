//! # nao-centroid — centroids of diffusion seeds
//!
//! Averaging a few DDIM-inverted seeds of a rare concept gives a seed that generates it — if the
//! average stays where the model expects seeds to be. The Euclidean mean of k Gaussian seeds has
//! norm ≈ √(d/k), deep inside the χ shell; NAO (Samuel et al., NeurIPS 2023) instead takes the
//! point that minimises the summed geodesic distances of the χ-prior metric plus the prior on its
//! own norm.
//!
//! Methods ([`CentroidMethod`]): Euclidean mean, normalised mean (rescaled to the χ mode or the
//! mean input norm, [`NormTarget`]), spherical (Karcher) mean, Gaussian-preserving mean, the NAO
//! centroid (official objective), its Fréchet variant (squared distances), and a reference-mode
//! port of the official joint optimisation ([`mod@reference`]).
//!
//! ```
//! use nao_centroid::{centroid, CentroidMethod, CentroidOptions};
//! use nao_prior::{norm, GaussianSeeds, RngName};
//! let d = 4096;
//! let mut rng = GaussianSeeds::new(RngName::ChaCha20, 5);
//! let seeds: Vec<Vec<f64>> = (0..5).map(|_| rng.seed(d)).collect();
//! let refs: Vec<&[f64]> = seeds.iter().map(|s| s.as_slice()).collect();
//! let opts = CentroidOptions::default();
//! let mean = centroid(CentroidMethod::Euclidean, &refs, &opts, None).unwrap();
//! let nao = centroid(CentroidMethod::Nao, &refs, &opts, Some(8)).unwrap();
//! // The mean collapses to √(d/k) ≈ 29; the NAO centroid stays on the shell ≈ 64.
//! assert!(norm(&mean.centroid) < 35.0);
//! assert!((norm(&nao.centroid) - 64.0).abs() < 1.0);
//! assert!(nao.objective < mean.objective);
//! assert_eq!(nao.paths.as_ref().unwrap().len(), 5);
//! ```
#![warn(missing_docs)]

pub mod baseline;
mod error;
pub mod nao;
pub mod reference;

use std::fmt;
use std::str::FromStr;

use nao_geodesic::{lerp, nlerp, slerp, Frames, Nao, Spacing};
use nao_prior::norm;

pub use error::CentroidError;
pub use nao::{NaoCentroidConfig, NaoObjective};

/// A centroid method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CentroidMethod {
    /// NAO centroid, official objective `Σ d_NAO(c, xᵢ) − log χ(‖c‖)` (default).
    #[default]
    Nao,
    /// NAO Fréchet mean, `Σ d_NAO(c, xᵢ)²`.
    NaoFrechet,
    /// Port of the official joint optimisation (centroid + one 50-point path per seed, Adam).
    NaoReference,
    /// Euclidean mean.
    Euclidean,
    /// Euclidean mean rescaled to a norm ([`NormTarget`]).
    Normalized,
    /// Spherical (Karcher) mean of the directions at a norm ([`NormTarget`]).
    Spherical,
    /// Gaussian-preserving mean `Σ xᵢ/√k`.
    Gaussian,
}

impl CentroidMethod {
    /// Every method.
    pub const ALL: [CentroidMethod; 7] = [
        Self::Nao,
        Self::NaoFrechet,
        Self::NaoReference,
        Self::Euclidean,
        Self::Normalized,
        Self::Spherical,
        Self::Gaussian,
    ];

    /// Command-line name.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Nao => "nao",
            Self::NaoFrechet => "nao-frechet",
            Self::NaoReference => "nao-reference",
            Self::Euclidean => "euclidean",
            Self::Normalized => "normalized",
            Self::Spherical => "spherical",
            Self::Gaussian => "gaussian",
        }
    }
}

impl fmt::Display for CentroidMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CentroidMethod {
    type Err = CentroidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "nao-fréchet" {
            return Ok(Self::NaoFrechet);
        }
        Self::ALL
            .iter()
            .find(|m| m.as_str() == s)
            .copied()
            .ok_or_else(|| {
                let known: Vec<_> = Self::ALL.iter().map(|m| m.as_str()).collect();
                CentroidError::InvalidConfig(format!(
                    "unknown centroid method '{s}' (known: {}, nao-fréchet)",
                    known.join(", ")
                ))
            })
    }
}

/// The norm given to normalised and spherical centroids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NormTarget {
    /// The χ mode `√(d−1)`.
    Mode,
    /// The mean norm of the input seeds (default: inverted seeds keep their typical norm).
    #[default]
    MeanInputNorm,
}

impl FromStr for NormTarget {
    type Err = CentroidError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "mode" => Ok(Self::Mode),
            "mean-norm" | "mean" => Ok(Self::MeanInputNorm),
            _ => Err(CentroidError::InvalidConfig(format!(
                "unknown norm target '{s}' (known: mode, mean-norm)"
            ))),
        }
    }
}

/// Options of [`centroid`].
#[derive(Debug, Clone, Default)]
pub struct CentroidOptions {
    /// Norm of normalised and spherical centroids.
    pub norm_target: NormTarget,
    /// Settings of the NAO optimiser.
    pub nao: NaoCentroidConfig,
    /// Settings of the reference-mode solver.
    pub reference: reference::ReferenceCentroidConfig,
}

/// A computed centroid.
#[derive(Debug, Clone)]
pub struct CentroidResult {
    /// The centroid.
    pub centroid: Vec<f64>,
    /// The official NAO objective `Σ d_NAO(c, xᵢ) − log χ(‖c‖)` at the centroid, for every
    /// method, so that methods can be compared.
    pub objective: f64,
    /// `Σ d_NAO(c, xᵢ)²` at the centroid (what [`CentroidMethod::NaoFrechet`] minimises).
    pub frechet_objective: f64,
    /// Iterations of the method's optimiser (0 for closed forms).
    pub iterations: usize,
    /// When asked for: one path per seed from the centroid to the seed, in the geometry of the
    /// method (NAO geodesics for the NAO methods, straight lines for the Euclidean and Gaussian
    /// means, NLERP for the normalised mean, SLERP for the spherical mean).
    pub paths: Option<Vec<Frames>>,
}

fn validate(seeds: &[&[f64]]) -> Result<usize, CentroidError> {
    let first = seeds.first().ok_or(CentroidError::NoSeeds)?;
    let d = first.len();
    if d == 0 {
        return Err(CentroidError::InvalidConfig(
            "seeds have no elements".into(),
        ));
    }
    for (i, s) in seeds.iter().enumerate() {
        if s.len() != d {
            return Err(CentroidError::DimensionMismatch {
                index: i,
                expected: d,
                got: s.len(),
            });
        }
        if let Some(index) = s.iter().position(|v| !v.is_finite()) {
            return Err(CentroidError::NonFinite { seed: i, index });
        }
        if s.iter().all(|&v| v == 0.0) {
            return Err(CentroidError::ZeroSeed(i));
        }
    }
    Ok(d)
}

/// The exact NAO geodesics from a centroid `c` to each seed: solved paths that yield frames at
/// any resolution ([`nao_geodesic::Geodesic::frames`]) without storing them.
pub fn geodesics_to_seeds(
    c: &[f64],
    seeds: &[&[f64]],
) -> Result<Vec<nao_geodesic::Geodesic>, CentroidError> {
    validate(seeds)?;
    let solver = Nao::new(c.len())?;
    seeds
        .iter()
        .map(|s| solver.geodesic(c, s).map_err(CentroidError::from))
        .collect()
}

/// The centroid of `seeds` by `method`, with `path_frames` frames of the path from the centroid
/// to each seed when asked for.
pub fn centroid(
    method: CentroidMethod,
    seeds: &[&[f64]],
    options: &CentroidOptions,
    path_frames: Option<usize>,
) -> Result<CentroidResult, CentroidError> {
    let d = validate(seeds)?;
    if let Some(n) = path_frames {
        if n < 2 {
            return Err(CentroidError::Geodesic(
                nao_geodesic::GeodesicError::TooFewFrames(n),
            ));
        }
    }
    let solver = Nao::new(d)?;
    let prepared = nao::PreparedSeeds::new(&solver, seeds);
    let all_identical = seeds.iter().all(|s| s == &seeds[0]);
    let mut reference_paths = None;
    let (c, iterations) = match method {
        CentroidMethod::Euclidean => (baseline::euclidean(seeds), 0),
        CentroidMethod::Normalized => (baseline::normalized(seeds, options.norm_target), 0),
        CentroidMethod::Gaussian => (baseline::gaussian(seeds), 0),
        CentroidMethod::Spherical => baseline::spherical(seeds, options.norm_target, 500, 1e-14),
        CentroidMethod::Nao | CentroidMethod::NaoFrechet if all_identical => {
            // d(c, x) is a cone at x: k·f(‖x‖) ≥ |f′(‖x‖)| holds for any realistic seed, so the
            // seed itself is the minimiser (and trivially for the Fréchet objective).
            (seeds[0].to_vec(), 0)
        }
        CentroidMethod::Nao | CentroidMethod::NaoFrechet => {
            let objective = if method == CentroidMethod::Nao {
                NaoObjective::Official
            } else {
                NaoObjective::Frechet
            };
            let (c, _, it) = nao::minimise(&solver, objective, &prepared, &options.nao)?;
            (c, it)
        }
        CentroidMethod::NaoReference => {
            let rs = reference::ReferenceCentroidSolver::new(d, options.reference.clone())?;
            let sol = rs.solve(seeds)?;
            let c: Vec<f64> = sol.centroid.iter().map(|&v| v as f64).collect();
            reference_paths = Some(sol.paths.clone());
            (c, sol.iterations)
        }
    };
    // Objectives at c, with the distances the optimiser uses (closed form where it holds).
    let mut objective = solver.prior().neg_log_pdf(norm(&c));
    let mut frechet = 0.0;
    for dist in nao::distances(&solver, &prepared, &c)? {
        objective += dist;
        frechet += dist * dist;
    }
    let paths = match path_frames {
        None => None,
        Some(n) => {
            let mut out = Vec::with_capacity(seeds.len());
            for (i, s) in seeds.iter().enumerate() {
                let p = match method {
                    CentroidMethod::Nao | CentroidMethod::NaoFrechet => {
                        solver.path(&c, s, n, Spacing::Euclidean)?
                    }
                    CentroidMethod::NaoReference => {
                        // the solver's own path seed → c, reversed and resampled
                        let pts: Vec<f64> = reference_paths
                            .as_ref()
                            .map_or_else(Vec::new, |p: &Vec<Vec<f32>>| {
                                p[i].iter().map(|&v| v as f64).collect()
                            });
                        let rs = nao_geodesic::reference::resample_by_arc_length(&pts, d, n);
                        Frames { dim: d, data: rs }.reversed()
                    }
                    CentroidMethod::Euclidean | CentroidMethod::Gaussian => lerp(&c, s, n)?,
                    CentroidMethod::Normalized => nlerp(&c, s, n)?,
                    CentroidMethod::Spherical => slerp(&c, s, n)?,
                };
                out.push(p);
            }
            Some(out)
        }
    };
    Ok(CentroidResult {
        centroid: c,
        objective,
        frechet_objective: frechet,
        iterations,
        paths,
    })
}
