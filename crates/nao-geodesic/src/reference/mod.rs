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
//!   [`official_path`] for the official settings with any number of points. The
//!   [`ReferenceSolution`] is the optimiser's own result: its points, their official loss, and
//!   why and after how many iterations the run stopped ([`nao_optim::Termination`]);
//! - [`DiscretePathConfig`]: the settings the interpolation and the centroid solvers share
//!   (discretisation, initial noise, scalar precision); the optimiser's settings are
//!   [`nao_optim::OptimConfig`], and the optimiser itself is `nao_optim`'s Adam and early-stop
//!   loop;
//! - [`reference_loss`], [`reference_loss_and_grad`]: the loss and its analytic gradient, with
//!   [`official_log_chi_f32`] and [`official_norm_f32`], the official `float32` arithmetic;
//! - [`resampled_reference_loss`] (on [`Frames`](crate::Frames)) and
//!   [`resampled_reference_loss_of_points`]: the official 50-point loss of any polyline after
//!   resampling it uniformly in arc length — a common score for every interpolation method, not
//!   the loss of any returned path.
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

mod config;
mod kernel;
mod loss;
mod resampled;
mod scalars;
mod solution;
mod solver;

pub use config::{DiscretePathConfig, ReferenceConfig};
pub use loss::{reference_loss, reference_loss_and_grad, ReferenceLoss};
pub use resampled::{
    resampled_reference_loss, resampled_reference_loss_of_points, REFERENCE_POINTS,
};
pub use scalars::{official_log_chi_f32, official_norm_f32, ScalarPrecision};
pub use solution::ReferenceSolution;
pub use solver::{
    check_solver_size, official_path, solver_budget, solver_bytes, ReferenceSolver,
    MAX_SOLVER_BYTES,
};
