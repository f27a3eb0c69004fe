//! # Reference solver: a faithful port of the official discretised NAO optimiser
//!
//! The paper's code (`norm_aware_interpolation` in `nao/norm_aware_optimization.py` of the
//! authors' SeedSelect repository) does not solve the geodesic equation: it places
//! `n = 50` points `z₀ = a, z₁ … z₄₈, z₄₉ = b`, initialises the 48 free points on the chord
//! `a → b` plus `U[0, 0.01)` noise, and runs Adam (lr 0.01) on
//!
//! ```text
//! loss = −Σₖ ‖zₖ₊₁−zₖ‖ · log χ(‖zₖ/2 + zₖ₊₁/2‖) + Σₖ relu(‖zₖ₊₁−zₖ‖ − ε),   ε = 2‖a−b‖/n,
//! ```
//!
//! stopping when the loss has changed by less than `1e-3` on 10 consecutive iterations, or after
//! 10 000 iterations. This module reproduces that optimiser for users who need the paper's
//! numbers; the exact geodesic of the continuous problem is elsewhere in this crate.
//!
//! - [`ReferenceSolver`] with [`ReferenceConfig`] (defaults = the official values):
//!   [`solve`](ReferenceSolver::solve) (LERP + noise from our seeded RNG) and
//!   [`solve_from`](ReferenceSolver::solve_from) (a given initial path, e.g. the official one);
//! - [`reference_loss`], [`reference_loss_and_grad`]: the loss and its analytic gradient;
//! - [`reference_objective`] (on [`Frames`]) and [`reference_objective_of_points`]: the
//!   official 50-point loss of any polyline after resampling it uniformly in arc length — a
//!   common score for every interpolation method;
//! - [`TorchAdam`]: Adam with torch's `float32` update and bias-correction formulas.
//!
//! ## Precision
//! The state (points, Adam moments) is stored in `f32`, like the official `float32` tensors;
//! the gradient of each element and the Adam update are computed in `f32` in the official
//! order of operations. The per-segment scalars — segment length, midpoint radius, `log χ`,
//! the penalty's test `dist > ε`, and `ε` — follow [`ScalarPrecision`]:
//!
//! - [`ScalarPrecision::OfficialF32`] (default) reproduces the official `float32` evaluation
//!   operation by operation, including torch's AVX2 norm reduction and the `float32` `log χ`
//!   (quantised in steps of 2⁻⁷ at `d = 16384`). On the shared reference cases every segment's
//!   `log χ` comes out bit for bit, the gradient at the official initial path matches to
//!   2·10⁻⁷ and the loss to 3·10⁻⁸, and the run keeps the official behaviour that depends on
//!   that quantisation (the `d = 16384` run never early-stops);
//! - [`ScalarPrecision::F64`] computes them exactly, with `f64` accumulation and the exact
//!   `log χ` of [`nao_prior::ChiPrior`].
//!
//! Sums over segments (the loss) and the Adam bias corrections are in `f64`. Storing `f32`
//! halves the memory traffic of the `d = 16384` case (its 9.4 MB state stays in L3) and doubles
//! the SIMD width of the update, which dominates the cost.
//!
//! ```
//! use nao_geodesic::reference::{ReferenceConfig, ReferenceSolver};
//! use nao_prior::{GaussianSeeds, RngName};
//! let mut g = GaussianSeeds::new(RngName::ChaCha20, 3);
//! let (a, b): (Vec<f32>, Vec<f32>) = (g.seed(64), g.seed(64));
//! let solver = ReferenceSolver::new(64, ReferenceConfig::default()).unwrap();
//! let sol = solver.solve(&a, &b).unwrap();
//! assert_eq!(sol.n_points(), 50);
//! assert_eq!(sol.point(0), &a[..]);
//! // The optimised path leaves the chord (whose midpoint norm is ≈ 0.7·√d) for the χ shell.
//! let mid = sol.point_norms()[25];
//! assert!(mid > 0.95 * 63f64.sqrt(), "{mid}");
//! assert!(sol.final_loss.loss < sol.loss_trace[0]);
//! ```

mod adam;
mod config;
mod kernel;
mod loss;

pub use adam::{AdamMoments, AdamStep, TorchAdam};
#[doc(hidden)]
pub use config::check_optimiser;
pub use config::ReferenceConfig;
pub use loss::{
    official_log_chi_f32, official_norm_f32, reference_loss, reference_loss_and_grad,
    reference_objective_of_points, resample_by_arc_length, ReferenceLoss, ScalarPrecision,
    REFERENCE_POINTS,
};

use nao_prior::{ChiPrior, GaussianSeeds};
use num_traits::Float;

use crate::{Frames, GeodesicError};
use kernel::{fused_step, StepState};
use loss::{official_eps, pair_sums, seg_sums, total, Eval, SegSums, Segment};

/// The official discretised NAO interpolation optimiser (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct ReferenceSolver {
    dim: usize,
    config: ReferenceConfig,
    prior: ChiPrior,
}

/// Result of [`ReferenceSolver::solve`]: the optimised discrete path and how the run went.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceSolution {
    /// Elements per point.
    pub dim: usize,
    /// All `n_points × dim` values, row-major, endpoints included (`f32`, as the official
    /// result).
    pub points: Vec<f32>,
    /// The loss before each Adam step (the official loop's `loss`), one entry per iteration.
    pub loss_trace: Vec<f64>,
    /// Adam steps taken (= objective evaluations, the official iteration count).
    pub iterations: usize,
    /// Whether the early-stop rule ended the run (rather than `max_iters`).
    pub early_stopped: bool,
    /// The segment length `ε` of the penalty.
    pub eps: f64,
    /// The loss of the returned path (after the last step, one step past `loss_trace`'s end).
    pub final_loss: ReferenceLoss,
}

impl ReferenceSolution {
    /// Number of points, endpoints included.
    pub fn n_points(&self) -> usize {
        self.points.len() / self.dim
    }

    /// Point `k` (0 = `a`, `n − 1` = `b`).
    ///
    /// # Panics
    /// If `k ≥ n_points`.
    pub fn point(&self, k: usize) -> &[f32] {
        &self.points[k * self.dim..(k + 1) * self.dim]
    }

    /// The free points `z₁ … z_{n−2}` (what the official function returns), row-major.
    pub fn interior(&self) -> &[f32] {
        let n = self.n_points();
        &self.points[self.dim..(n - 1) * self.dim]
    }

    /// `‖zₖ‖` of every point, in `f64`.
    pub fn point_norms(&self) -> Vec<f64> {
        self.points
            .chunks_exact(self.dim)
            .map(nao_prior::norm)
            .collect()
    }

    /// `‖zₖ₊₁ − zₖ‖` of every segment, in `f64`.
    pub fn segment_lengths(&self) -> Vec<f64> {
        segment_lengths(&self.points, self.dim)
    }

    /// Euclidean length of the polyline.
    pub fn path_length(&self) -> f64 {
        self.segment_lengths().iter().sum()
    }

    /// The points in `f64`, row-major (`n_points × dim`).
    pub fn points_f64(&self) -> Vec<f64> {
        self.points.iter().map(|&v| v as f64).collect()
    }

    /// All points (endpoints included) as [`Frames`].
    pub fn to_frames(&self) -> Frames {
        Frames {
            dim: self.dim,
            data: self.points_f64(),
        }
    }
}

/// The official 50-point loss of a path given as [`Frames`]:
/// [`reference_objective_of_points`] on its frames (resampled to 50 points uniformly in
/// Euclidean arc length, endpoints kept, `ε = 2‖first − last‖/50`, exact `f64` scalars).
///
/// ```
/// use nao_geodesic::reference::{reference_objective, ReferenceConfig, ReferenceSolver};
/// use nao_geodesic::Frames;
/// use nao_prior::{ChiPrior, GaussianSeeds, RngName};
/// let mut g = GaussianSeeds::new(RngName::ChaCha20, 5);
/// let (a, b): (Vec<f64>, Vec<f64>) = (g.seed(64), g.seed(64));
/// let prior = ChiPrior::new(64).unwrap();
/// let chord = Frames { dim: 64, data: [a.clone(), b.clone()].concat() };
/// let sol = ReferenceSolver::new(64, ReferenceConfig::default()).unwrap().solve(&a, &b).unwrap();
/// // The optimised path scores far better than the straight chord.
/// assert!(reference_objective(&prior, &sol.to_frames()) < 0.5 * reference_objective(&prior, &chord));
/// ```
pub fn reference_objective(prior: &ChiPrior, frames: &Frames) -> f64 {
    reference_objective_of_points(prior, &frames.data, frames.dim)
}

fn segment_lengths<T: Float>(points: &[T], dim: usize) -> Vec<f64> {
    points
        .chunks_exact(dim)
        .zip(points.chunks_exact(dim).skip(1))
        .map(|(x, y)| pair_sums(x, y).0.sqrt())
        .collect()
}

impl ReferenceSolver {
    /// A solver for seeds of `dim` elements.
    ///
    /// # Errors
    /// [`GeodesicError::InvalidConfig`] from [`ReferenceConfig::check`];
    /// [`GeodesicError::Prior`] for `dim = 0`.
    pub fn new(dim: usize, config: ReferenceConfig) -> Result<Self, GeodesicError> {
        config.check()?;
        let prior = ChiPrior::new(dim)?;
        Ok(Self { dim, config, prior })
    }

    /// The configuration.
    pub fn config(&self) -> &ReferenceConfig {
        &self.config
    }

    /// The χ prior of this dimension.
    pub fn prior(&self) -> &ChiPrior {
        &self.prior
    }

    /// The segment length `ε` used for the endpoints `a`, `b`: `config.segment_eps`, or the
    /// official `2‖a−b‖/n_points` — evaluated in `float32` as the official code does when
    /// `config.scalars` is [`ScalarPrecision::OfficialF32`], else in `f64`.
    pub fn eps_for<T: Float>(&self, a: &[T], b: &[T]) -> f64 {
        let n = self.config.n_points;
        self.config
            .segment_eps
            .unwrap_or_else(|| match self.config.scalars {
                ScalarPrecision::OfficialF32 => official_eps(a, b, n),
                ScalarPrecision::F64 => 2.0 * pair_sums(a, b).0.sqrt() / n as f64,
            })
    }

    /// The official initialisation of the `n_points − 2` free points: `a + tₖ(b − a)` with
    /// `tₖ = k/(n−1)`, plus `U[0, init_noise)` noise per element from the configured RNG, all in
    /// `f32` (row-major, `(n−2) × dim`).
    ///
    /// # Errors
    /// As [`solve`](Self::solve).
    pub fn initial_interior<T: Float>(&self, a: &[T], b: &[T]) -> Result<Vec<f32>, GeodesicError> {
        self.check_endpoints(a, b)?;
        let n = self.config.n_points;
        let mut rng = GaussianSeeds::new(self.config.rng, self.config.seed);
        let noise = self.config.init_noise as f32;
        let mut out = Vec::with_capacity((n - 2) * self.dim);
        for k in 1..n - 1 {
            let t = (k as f64 / (n - 1) as f64) as f32;
            for (&p, &q) in a.iter().zip(b) {
                let (p, q) = (to32(p), to32(q));
                // `uniform()` is in (0, 1]; 1 − u is in [0, 1) like torch.rand.
                let u = (1.0 - rng.uniform()) as f32;
                out.push(t * (q - p) + p + u * noise);
            }
        }
        Ok(out)
    }

    /// Optimise the path `a → b` from the official LERP + noise initialisation
    /// ([`initial_interior`](Self::initial_interior)).
    ///
    /// # Errors
    /// [`GeodesicError::ShapeMismatch`] if a seed does not have `dim` elements,
    /// [`GeodesicError::NonFinite`] for NaN/∞ in a seed, [`GeodesicError::NonFiniteLoss`] if the
    /// optimisation diverges.
    pub fn solve<T: Float>(&self, a: &[T], b: &[T]) -> Result<ReferenceSolution, GeodesicError> {
        let init = self.initial_interior(a, b)?;
        self.solve_from(a, b, &init)
    }

    /// Optimise the path `a → b` from the given free points `init_interior`
    /// (`(n_points − 2) × dim`, row-major; e.g. the official `init_path`).
    ///
    /// ```
    /// use nao_geodesic::reference::{ReferenceConfig, ReferenceSolver};
    /// let cfg = ReferenceConfig { n_points: 3, max_iters: 1, ..ReferenceConfig::default() };
    /// let solver = ReferenceSolver::new(2, cfg).unwrap();
    /// // The midpoint of a chord through the origin's neighbourhood moves outwards by lr.
    /// let sol = solver.solve_from(&[1.0f32, 0.0], &[-1.0, 0.2], &[0.0f32, 0.1]).unwrap();
    /// assert_eq!(sol.iterations, 1);
    /// assert!(sol.point(1)[1] > 0.1);
    /// ```
    ///
    /// # Errors
    /// As [`solve`](Self::solve), plus [`GeodesicError::ShapeMismatch`] /
    /// [`GeodesicError::NonFinite`] for `init_interior`.
    pub fn solve_from<T: Float, U: Float>(
        &self,
        a: &[T],
        b: &[T],
        init_interior: &[U],
    ) -> Result<ReferenceSolution, GeodesicError> {
        self.check_endpoints(a, b)?;
        let (n, dim) = (self.config.n_points, self.dim);
        if init_interior.len() != (n - 2) * dim {
            return Err(GeodesicError::ShapeMismatch {
                what: "init_interior ((n_points − 2) × dim)",
                expected: (n - 2) * dim,
                got: init_interior.len(),
            });
        }
        if let Some(index) = init_interior.iter().position(|v| !v.is_finite()) {
            return Err(GeodesicError::NonFinite {
                which: "init_interior",
                index,
            });
        }
        let eps = self.eps_for(a, b);
        let mut x = Vec::with_capacity(n * dim);
        x.extend(a.iter().map(|&v| to32(v)));
        x.extend(init_interior.iter().map(|&v| to32(v)));
        x.extend(b.iter().map(|&v| to32(v)));
        self.run(x, eps)
    }

    fn run(&self, mut x: Vec<f32>, eps: f64) -> Result<ReferenceSolution, GeodesicError> {
        let (n, dim, cfg) = (self.config.n_points, self.dim, &self.config);
        let mut m = vec![0.0f32; (n - 2) * dim];
        let mut v = vec![0.0f32; (n - 2) * dim];
        let mut buf = vec![0.0f32; dim];
        let mut sums: Vec<SegSums> = x
            .chunks_exact(dim)
            .zip(x.chunks_exact(dim).skip(1))
            .map(|(p, q)| seg_sums(p, q, cfg.scalars))
            .collect();
        let ev = Eval::new(&self.prior, cfg.scalars);
        let mut segs = Vec::with_capacity(n - 1);
        let mut adam = TorchAdam::new(cfg.lr, cfg.betas, cfg.adam_eps);
        let mut trace = Vec::new();
        let (mut last, mut below, mut early_stopped) = (f64::INFINITY, 0usize, false);
        for iteration in 0..cfg.max_iters {
            segs.clear();
            segs.extend(sums.iter().map(|&s| ev.segment(s, eps)));
            let loss = total(&segs).loss;
            if !loss.is_finite() {
                return Err(GeodesicError::NonFiniteLoss { iteration, loss });
            }
            trace.push(loss);
            let step = adam.begin_step();
            let state = StepState {
                x: &mut x,
                m: &mut m,
                v: &mut v,
                buf: &mut buf,
                sums: &mut sums,
            };
            fused_step(state, dim, &segs, &step, cfg.scalars);
            // The official rule: count consecutive |Δloss| < tol, stop when the count reaches
            // `patience` (the step of that iteration has already been taken).
            if (last - loss).abs() < cfg.tol {
                below += 1;
            } else {
                below = 0;
            }
            last = loss;
            if below == cfg.patience {
                early_stopped = true;
                break;
            }
        }
        let final_segs: Vec<Segment> = sums.iter().map(|&s| ev.segment(s, eps)).collect();
        Ok(ReferenceSolution {
            dim,
            points: x,
            iterations: trace.len(),
            loss_trace: trace,
            early_stopped,
            eps,
            final_loss: total(&final_segs),
        })
    }

    fn check_endpoints<T: Float>(&self, a: &[T], b: &[T]) -> Result<(), GeodesicError> {
        check_seed(a, self.dim, "a")?;
        check_seed(b, self.dim, "b")
    }
}

fn check_seed<T: Float>(x: &[T], dim: usize, which: &'static str) -> Result<(), GeodesicError> {
    if x.len() != dim {
        return Err(GeodesicError::ShapeMismatch {
            what: which,
            expected: dim,
            got: x.len(),
        });
    }
    if let Some(index) = x.iter().position(|v| !v.is_finite()) {
        return Err(GeodesicError::NonFinite { which, index });
    }
    Ok(())
}

#[inline]
fn to32<T: Float>(x: T) -> f32 {
    x.to_f32().unwrap_or(f32::NAN)
}
