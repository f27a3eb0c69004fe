//! Computing a centroid by any method, with the official objective at the result.

use nao_geodesic::{plan, FramePlan, Frames, Method, Nao, Spacing};
use nao_optim::Termination;
use nao_prior::norm;

use crate::baseline;
use crate::error::CentroidError;
use crate::method::{CentroidMethod, CentroidOptions};
use crate::nao::{self, NaoObjective};
use crate::reference::ReferenceCentroidSolver;

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
    /// Why and after how many iterations the method's optimiser stopped; `None` for closed
    /// forms (and for the NAO methods when every seed is the same point, whose centroid is that
    /// point).
    pub termination: Option<Termination>,
    /// [`CentroidMethod::NaoReference`] only: the official joint loss of the returned centroid
    /// and paths (what the official optimiser minimised, at its own result).
    pub reference_loss: Option<f64>,
    /// When asked for: one path per seed from the centroid to the seed, in the geometry of the
    /// method (NAO geodesics for the NAO methods, straight lines for the Euclidean and Gaussian
    /// means, NLERP for the normalised mean, SLERP for the spherical mean). For
    /// [`CentroidMethod::NaoReference`] these are the optimiser's own paths (reversed to run
    /// from the centroid): the solver then runs with as many points per path as frames are
    /// asked for.
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

/// The path from the centroid `c` to `seed` in the geometry of `method`, as a [`FramePlan`] of
/// `n` frames made one at a time (NAO geodesics for the NAO methods, straight lines for the
/// Euclidean and Gaussian means, NLERP for the normalised mean, SLERP for the spherical mean);
/// `None` for [`CentroidMethod::NaoReference`], whose paths are its optimiser's own.
///
/// ```
/// use nao_centroid::{path_plan, CentroidMethod};
/// let p = path_plan(CentroidMethod::Euclidean, &[1.0, 1.0], &[3.0, 1.0], 3).unwrap().unwrap();
/// let mut mid = [0.0; 2];
/// p.frame_into(1, &mut mid);
/// assert_eq!(mid, [2.0, 1.0]);
/// assert!(path_plan(CentroidMethod::NaoReference, &[1.0], &[2.0], 3).unwrap().is_none());
/// ```
pub fn path_plan(
    method: CentroidMethod,
    c: &[f64],
    seed: &[f64],
    n: usize,
) -> Result<Option<FramePlan>, CentroidError> {
    let Some(geometry) = path_geometry(method) else {
        return Ok(None);
    };
    Ok(Some(plan(geometry, c, seed, n, Spacing::Euclidean)?))
}

/// The paths of a centroid method's geometry: NAO geodesics for the NAO methods, straight
/// lines for the Euclidean and Gaussian means, NLERP for the normalised mean, SLERP for the
/// spherical mean; `None` for [`CentroidMethod::NaoReference`], whose paths are its
/// optimiser's own.
///
/// ```
/// use nao_centroid::{path_geometry, CentroidMethod};
/// use nao_geodesic::Method;
/// assert_eq!(path_geometry(CentroidMethod::Spherical), Some(Method::Slerp));
/// ```
pub fn path_geometry(method: CentroidMethod) -> Option<Method> {
    Some(match method {
        CentroidMethod::Nao | CentroidMethod::NaoFrechet => Method::Nao,
        CentroidMethod::Euclidean | CentroidMethod::Gaussian => Method::Lerp,
        CentroidMethod::Normalized => Method::Nlerp,
        CentroidMethod::Spherical => Method::Slerp,
        CentroidMethod::NaoReference => return None,
    })
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
    let mut reference = None;
    let (c, termination) = match method {
        CentroidMethod::Euclidean => (baseline::euclidean(seeds), None),
        CentroidMethod::Normalized => (baseline::normalized(seeds, options.norm_target), None),
        CentroidMethod::Gaussian => (baseline::gaussian(seeds), None),
        CentroidMethod::Spherical => {
            let (c, stop) = baseline::spherical(seeds, options.norm_target, 500, 1e-14);
            (c, Some(stop))
        }
        CentroidMethod::Nao | CentroidMethod::NaoFrechet if all_identical => {
            // d(c, x) is a cone at x: k·f(‖x‖) ≥ |f′(‖x‖)| holds for any realistic seed, so the
            // seed itself is the minimiser (and trivially for the Fréchet objective).
            (seeds[0].to_vec(), None)
        }
        CentroidMethod::Nao | CentroidMethod::NaoFrechet => {
            let objective = if method == CentroidMethod::Nao {
                NaoObjective::Official
            } else {
                NaoObjective::Frechet
            };
            let (c, _, stop) = nao::minimise(&solver, objective, &prepared, &options.nao)?;
            (c, Some(stop))
        }
        CentroidMethod::NaoReference => {
            let mut config = options.reference.clone();
            if let Some(n) = path_frames {
                // The paths written are the solver's own: it runs with that many points.
                config.path.n_points = n;
            }
            let sol = ReferenceCentroidSolver::new(d, config)?.solve(seeds)?;
            let c: Vec<f64> = sol.centroid.iter().map(|&v| v as f64).collect();
            let stop = sol.termination;
            reference = Some(sol);
            (c, Some(stop))
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
                let p = match path_plan(method, &c, s, n)? {
                    Some(plan) => plan.to_frames(),
                    None => {
                        // The solver's own path seed → c, as it left it, reversed.
                        let own = reference.as_ref().map_or(&[][..], |r| &r.paths[i][..]);
                        let data = own.iter().map(|&v| v as f64).collect();
                        Frames { dim: d, data }.reversed()
                    }
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
        termination,
        reference_loss: reference.map(|r| r.final_loss),
        paths,
    })
}
