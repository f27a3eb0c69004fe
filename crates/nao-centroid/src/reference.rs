//! # Reference mode: a port of the official joint centroid optimisation
//!
//! The paper's code (`norm_aware_centroid_optimization` in `nao/norm_aware_optimization.py` of
//! the authors' SeedSelect repository, called from its `main.py`) finds the NAO centroid `c` of
//! seeds `p₁ … p_k` by optimising `c` *and* one discretised path `pᵢ → c` per seed at once:
//!
//! ```text
//! loss = Σᵢ path_loss(pᵢ → c) − log χ(‖c‖),
//! ```
//!
//! where `path_loss` is the official 50-point interpolation loss
//! ([`reference_loss`](nao_geodesic::reference::reference_loss)) with `pᵢ` and `c` as its
//! endpoints. As in the official code:
//!
//! - `c` starts at the SLERP midpoint of the two seeds (`main.py` passes `init_c=slerp(0.5, p1,
//!   p2)`; the SLERP falls back to LERP when the seeds are within `arccos 0.9995` of parallel),
//!   or, for other numbers of seeds, at their Euclidean mean (the function's default), replaced
//!   by `U[0, 0.01)` noise if it is exactly zero;
//! - each path starts on the chord `pᵢ → c` with `U[0, 0.01)` noise on every element (our
//!   seeded RNG: torch's cannot be reproduced);
//! - the free points of every path *and* `c` are optimised by one Adam (lr 0.01, torch's
//!   formulas, [`nao_optim::TorchAdam`]) in the official loop ([`OptimConfig::minimise`]);
//!   the seeds stay fixed; the
//!   last point of every path is `c` itself, so `c` receives the gradient of every path's last
//!   segment plus that of `−log χ(‖c‖)`;
//! - the run stops when the loss has changed by less than `1e-2` on 5 consecutive iterations,
//!   or after 10 000 iterations ([`OptimConfig::official_centroid`]); the solution reports
//!   which ([`nao_optim::Termination`]);
//! - `ε = 2‖p₁ − p₂‖/n` (as `main.py` computes it; for other numbers of seeds we use the
//!   largest pairwise distance), in `float32` under
//!   [`ScalarPrecision::OfficialF32`].
//!
//! ```
//! use nao_centroid::reference::{ReferenceCentroidConfig, ReferenceCentroidSolver};
//! use nao_prior::{GaussianSeeds, RngName};
//! let mut g = GaussianSeeds::new(RngName::ChaCha20, 1);
//! let (p1, p2): (Vec<f32>, Vec<f32>) = (g.seed(64), g.seed(64));
//! let solver = ReferenceCentroidSolver::new(64, ReferenceCentroidConfig::default()).unwrap();
//! let sol = solver.solve(&[&p1[..], &p2[..]]).unwrap();
//! // The centroid sits near the χ mode √63 ≈ 7.94, unlike the Euclidean mean (≈ 0.7·√64).
//! assert!((sol.centroid_norm() - 63f64.sqrt()).abs() < 0.3, "{}", sol.centroid_norm());
//! assert_eq!(sol.paths.len(), 2);
//! assert_eq!(sol.termination.reason, nao_optim::StopReason::Converged);
//! ```

use nao_geodesic::reference::{
    official_log_chi_f32, official_norm_f32, reference_loss_and_grad, DiscretePathConfig,
    ScalarPrecision,
};
use nao_geodesic::GeodesicError;
use nao_optim::{AdamMoments, AdamStep, OptimConfig, Problem, StopReason, Termination};
use nao_prior::{ChiPrior, GaussianSeeds};
use num_traits::Float;

use crate::CentroidError;

/// Settings of [`ReferenceCentroidSolver`]: the discretisation of the paths (shared with the
/// interpolation solver) and the optimiser. [`Default`] gives the official values:
/// [`DiscretePathConfig::default`] (50 points per path, `U[0, 0.01)` noise, official `float32`
/// scalars) and [`OptimConfig::official_centroid`] (Adam lr 0.01, early stop at
/// `|Δloss| < 1e-2` on 5 consecutive iterations, at most 10 000 iterations).
///
/// For more than two seeds, `path.segment_eps = None` means `2·D/n_points` with `D` the largest
/// distance between two seeds (the official `2‖p₁−p₂‖/n` for two seeds).
///
/// ```
/// use nao_centroid::reference::ReferenceCentroidConfig;
/// let cfg = ReferenceCentroidConfig::default();
/// assert_eq!((cfg.path.n_points, cfg.optim.tol, cfg.optim.patience), (50, 1e-2, 5));
/// assert!(cfg.check().is_ok());
/// let mut bad = cfg.clone();
/// bad.optim.lr = -1.0;
/// assert!(bad.check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceCentroidConfig {
    /// Discretisation of every path, initialisation and scalar precision.
    pub path: DiscretePathConfig,
    /// Adam and the early-stop rule.
    pub optim: OptimConfig,
}

impl Default for ReferenceCentroidConfig {
    fn default() -> Self {
        Self {
            path: DiscretePathConfig::default(),
            optim: OptimConfig::official_centroid(),
        }
    }
}

impl ReferenceCentroidConfig {
    /// Validate every field; [`ReferenceCentroidSolver::new`] calls this once.
    ///
    /// # Errors
    /// [`GeodesicError::InvalidConfig`] or [`GeodesicError::Optim`] (wrapped in
    /// [`CentroidError`]) naming the first offending field.
    pub fn check(&self) -> Result<(), CentroidError> {
        self.path.check()?;
        self.optim.check().map_err(GeodesicError::from)?;
        Ok(())
    }
}

/// The official joint centroid optimiser (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct ReferenceCentroidSolver {
    dim: usize,
    config: ReferenceCentroidConfig,
    prior: ChiPrior,
}

/// Result of [`ReferenceCentroidSolver::solve`].
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceCentroidSolution {
    /// Elements per seed.
    pub dim: usize,
    /// The optimised centroid `c`.
    pub centroid: Vec<f32>,
    /// One path per seed, `n_points × dim` row-major: the seed, the free points, then `c`.
    pub paths: Vec<Vec<f32>>,
    /// The loss before each Adam step, one entry per iteration.
    pub loss_trace: Vec<f64>,
    /// Why the run stopped (the official early-stop rule, or the iteration cap) and the Adam
    /// steps taken (the official iteration count).
    pub termination: Termination,
    /// The segment length `ε` of the penalty.
    pub eps: f64,
    /// The official loss of the returned centroid and paths (one step past `loss_trace`'s
    /// end).
    pub final_loss: f64,
    /// `log χ(‖c‖)` of the returned centroid (as the configured precision evaluates it).
    pub final_log_chi: f64,
}

impl ReferenceCentroidSolution {
    /// `‖c‖`.
    pub fn centroid_norm(&self) -> f64 {
        nao_prior::norm(&self.centroid)
    }

    /// Euclidean distance from each seed (the first point of its path) to `c`.
    pub fn distances(&self) -> Vec<f64> {
        self.paths
            .iter()
            .map(|p| euclid(&p[..self.dim], &self.centroid))
            .collect()
    }

    /// Euclidean length of each path.
    pub fn path_lengths(&self) -> Vec<f64> {
        self.paths
            .iter()
            .map(|p| {
                p.chunks_exact(self.dim)
                    .zip(p.chunks_exact(self.dim).skip(1))
                    .map(|(x, y)| euclid(x, y))
                    .sum()
            })
            .collect()
    }
}

fn euclid(x: &[f32], y: &[f32]) -> f64 {
    x.iter()
        .zip(y)
        .map(|(&a, &b)| {
            let d = b as f64 - a as f64;
            d * d
        })
        .sum::<f64>()
        .sqrt()
}

impl ReferenceCentroidSolver {
    /// A solver for seeds of `dim` elements.
    ///
    /// # Errors
    /// Invalid configuration or `dim = 0`.
    pub fn new(dim: usize, config: ReferenceCentroidConfig) -> Result<Self, CentroidError> {
        config.check()?;
        let prior = ChiPrior::new(dim).map_err(GeodesicError::from)?;
        Ok(Self { dim, config, prior })
    }

    /// The configuration.
    pub fn config(&self) -> &ReferenceCentroidConfig {
        &self.config
    }

    /// The official initial centroid: the SLERP midpoint of two seeds, else the Euclidean mean
    /// (replaced by `U[0, init_noise)` noise if exactly zero), in `f32`.
    ///
    /// # Errors
    /// As [`solve`](Self::solve).
    pub fn initial_centroid<T: Float>(&self, seeds: &[&[T]]) -> Result<Vec<f32>, CentroidError> {
        self.check_seeds(seeds)?;
        let c: Vec<f32> = if seeds.len() == 2 {
            slerp_midpoint(seeds[0], seeds[1])
        } else {
            let k = seeds.len() as f64;
            (0..self.dim)
                .map(|j| (seeds.iter().map(|s| to64(s[j])).sum::<f64>() / k) as f32)
                .collect()
        };
        if c.iter().all(|&v| v == 0.0) {
            let cfg = &self.config.path;
            let mut rng = GaussianSeeds::new(cfg.rng, cfg.seed ^ 0x9E37_79B9);
            let w = cfg.init_noise;
            return Ok((0..self.dim)
                .map(|_| ((1.0 - rng.uniform()) * w) as f32)
                .collect());
        }
        Ok(c)
    }

    /// The segment length `ε` for these seeds (see [`ReferenceCentroidConfig`]).
    pub fn eps_for<T: Float>(&self, seeds: &[&[T]]) -> f64 {
        if let Some(eps) = self.config.path.segment_eps {
            return eps;
        }
        let n = self.config.path.n_points;
        let mut best = 0.0f64;
        for i in 0..seeds.len() {
            for j in i + 1..seeds.len() {
                let e = match self.config.path.scalars {
                    ScalarPrecision::OfficialF32 => {
                        let d: Vec<f32> = seeds[i]
                            .iter()
                            .zip(seeds[j])
                            .map(|(&a, &b)| to32(a) - to32(b))
                            .collect();
                        (2.0f32 * (official_norm_f32(&d) / n as f32)) as f64
                    }
                    ScalarPrecision::F64 => {
                        let d: Vec<f64> = seeds[i]
                            .iter()
                            .zip(seeds[j])
                            .map(|(&a, &b)| to64(a) - to64(b))
                            .collect();
                        2.0 * nao_prior::norm(&d) / n as f64
                    }
                };
                best = best.max(e);
            }
        }
        best
    }

    /// Optimise from the official initial centroid ([`initial_centroid`](Self::initial_centroid)).
    ///
    /// # Errors
    /// No seeds, a seed without `dim` elements, non-finite values, or a diverging loss.
    pub fn solve<T: Float>(
        &self,
        seeds: &[&[T]],
    ) -> Result<ReferenceCentroidSolution, CentroidError> {
        let c = self.initial_centroid(seeds)?;
        self.solve_from(seeds, &c)
    }

    /// Optimise from the given initial centroid; the paths start on the chords `pᵢ → c` plus
    /// `U[0, init_noise)` noise.
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus a wrong length or non-finite values in `init_c`.
    pub fn solve_from<T: Float, U: Float>(
        &self,
        seeds: &[&[T]],
        init_c: &[U],
    ) -> Result<ReferenceCentroidSolution, CentroidError> {
        self.check_seeds(seeds)?;
        check_seed(init_c, self.dim, "init_c")?;
        let cfg = &self.config.path;
        nao_geodesic::reference::check_solver_size(seeds.len(), cfg.n_points, self.dim)?;
        let (n, dim) = (cfg.n_points, self.dim);
        let c: Vec<f32> = init_c.iter().map(|&v| to32(v)).collect();
        let mut rng = GaussianSeeds::new(cfg.rng, cfg.seed);
        let noise = cfg.init_noise as f32;
        let paths = seeds
            .iter()
            .map(|s| {
                let s: Vec<f32> = s.iter().map(|&v| to32(v)).collect();
                let mut rows = Vec::with_capacity(n * dim);
                rows.extend_from_slice(&s);
                for k in 1..n - 1 {
                    let t = (k as f64 / (n - 1) as f64) as f32;
                    for (&p, &q) in s.iter().zip(&c) {
                        let u = (1.0 - rng.uniform()) as f32;
                        rows.push(t * (q - p) + p + u * noise);
                    }
                }
                rows.extend_from_slice(&c);
                rows
            })
            .collect();
        self.run(paths, c, self.eps_for(seeds))
    }

    /// `(−log χ(‖c‖), gradient of −log χ(‖c‖) w.r.t. c)`.
    fn centroid_term(&self, c: &[f32]) -> (f64, Vec<f64>) {
        let (r, f) = match self.config.path.scalars {
            ScalarPrecision::OfficialF32 => {
                let r = official_norm_f32(c);
                (r as f64, official_log_chi_f32(&self.prior, r) as f64)
            }
            ScalarPrecision::F64 => {
                let r = nao_prior::norm(c);
                (r, self.prior.log_pdf(r))
            }
        };
        let scale = -self.prior.d_log_pdf(r) / r;
        (-f, c.iter().map(|&v| scale * v as f64).collect())
    }

    fn run(
        &self,
        paths: Vec<Vec<f32>>,
        c: Vec<f32>,
        eps: f64,
    ) -> Result<ReferenceCentroidSolution, CentroidError> {
        let free = (self.config.path.n_points - 2) * self.dim;
        let mut problem = JointProblem {
            solver: self,
            eps,
            moments: paths.iter().map(|_| AdamMoments::new(free)).collect(),
            c_moments: AdamMoments::new(self.dim),
            paths,
            c,
            grads: Vec::new(),
            c_grad: Vec::new(),
        };
        let run = self.config.optim.minimise(&mut problem)?;
        if run.termination.reason == StopReason::NonFinite {
            return Err(GeodesicError::NonFiniteLoss {
                iteration: run.termination.iterations,
                loss: run.loss_trace.last().copied().unwrap_or(f64::NAN),
            }
            .into());
        }
        let JointProblem { paths, c, .. } = problem;
        let (final_loss, _, _) = self.loss_and_grads(&paths, &c, eps)?;
        let final_log_chi = -self.centroid_term(&c).0;
        Ok(ReferenceCentroidSolution {
            dim: self.dim,
            centroid: c,
            paths,
            loss_trace: run.loss_trace,
            termination: run.termination,
            eps,
            final_loss,
            final_log_chi,
        })
    }

    /// The total loss, the gradient of every path (all rows), and the gradient w.r.t. `c`.
    #[allow(clippy::type_complexity)]
    fn loss_and_grads(
        &self,
        paths: &[Vec<f32>],
        c: &[f32],
        eps: f64,
    ) -> Result<(f64, Vec<Vec<f64>>, Vec<f64>), CentroidError> {
        let (n, dim) = (self.config.path.n_points, self.dim);
        let (mut loss, mut c_grad) = self.centroid_term(c);
        let mut grads = Vec::with_capacity(paths.len());
        for path in paths {
            let scalars = self.config.path.scalars;
            let (l, g) = reference_loss_and_grad(&self.prior, path, dim, eps, scalars)?;
            loss += l.loss;
            for (cg, &gv) in c_grad.iter_mut().zip(&g[(n - 1) * dim..]) {
                *cg += gv;
            }
            grads.push(g);
        }
        Ok((loss, grads, c_grad))
    }

    fn check_seeds<T: Float>(&self, seeds: &[&[T]]) -> Result<(), CentroidError> {
        if seeds.is_empty() {
            return Err(CentroidError::NoSeeds);
        }
        for s in seeds {
            check_seed(s, self.dim, "seed")?;
        }
        Ok(())
    }
}

/// The state of one joint optimisation: the paths, the centroid, their Adam moments, and the
/// gradients of the current iterate (set by `loss`, used by `step`).
struct JointProblem<'a> {
    solver: &'a ReferenceCentroidSolver,
    eps: f64,
    paths: Vec<Vec<f32>>,
    c: Vec<f32>,
    moments: Vec<AdamMoments>,
    c_moments: AdamMoments,
    grads: Vec<Vec<f64>>,
    c_grad: Vec<f64>,
}

impl Problem for JointProblem<'_> {
    type Error = CentroidError;

    fn loss(&mut self) -> Result<f64, CentroidError> {
        let (loss, grads, c_grad) = self.solver.loss_and_grads(&self.paths, &self.c, self.eps)?;
        self.grads = grads;
        self.c_grad = c_grad;
        Ok(loss)
    }

    fn step(&mut self, step: &AdamStep) {
        let (n, dim) = (self.solver.config.path.n_points, self.solver.dim);
        let free = dim..(n - 1) * dim;
        for ((path, g), mo) in self
            .paths
            .iter_mut()
            .zip(&self.grads)
            .zip(&mut self.moments)
        {
            step.apply(&mut path[free.clone()], &g[free.clone()], mo);
        }
        step.apply(&mut self.c, &self.c_grad, &mut self.c_moments);
        // The last point of every path is `c` itself.
        for path in &mut self.paths {
            path[(n - 1) * dim..].copy_from_slice(&self.c);
        }
    }
}

fn check_seed<T: Float>(x: &[T], dim: usize, which: &'static str) -> Result<(), CentroidError> {
    if x.len() != dim {
        return Err(GeodesicError::ShapeMismatch {
            what: which,
            expected: dim,
            got: x.len(),
        }
        .into());
    }
    if let Some(index) = x.iter().position(|v| !v.is_finite()) {
        return Err(GeodesicError::NonFinite { which, index }.into());
    }
    Ok(())
}

/// The SLERP midpoint of the official `main.py` (Karpathy's `slerp` with `t = ½`): LERP when
/// the seeds' cosine exceeds 0.9995 in absolute value, else `sin(θ/2)/sin θ · (p₁ + p₂)`.
/// Computed in `f64` (the official one in NumPy `float32`) and rounded to `f32`.
pub fn slerp_midpoint<T: Float>(p1: &[T], p2: &[T]) -> Vec<f32> {
    let n1 = p1.iter().map(|&v| to64(v) * to64(v)).sum::<f64>().sqrt();
    let n2 = p2.iter().map(|&v| to64(v) * to64(v)).sum::<f64>().sqrt();
    let cos: f64 = p1
        .iter()
        .zip(p2)
        .map(|(&a, &b)| to64(a) * to64(b))
        .sum::<f64>()
        / (n1 * n2);
    let (s0, s1) = if cos.abs() > 0.9995 {
        (0.5, 0.5)
    } else {
        let theta = cos.acos();
        let s = (0.5 * theta).sin() / theta.sin();
        (s, s)
    };
    p1.iter()
        .zip(p2)
        .map(|(&a, &b)| (s0 * to64(a) + s1 * to64(b)) as f32)
        .collect()
}

#[inline]
fn to32<T: Float>(x: T) -> f32 {
    x.to_f32().unwrap_or(f32::NAN)
}

#[inline]
fn to64<T: Float>(x: T) -> f64 {
    x.to_f64().unwrap_or(f64::NAN)
}
