//! Settings of the reference solvers, validated once (linfa's `ParamGuard` style: the solvers
//! call `check` when they are built, and never again).

use nao_optim::OptimConfig;
use nao_prior::RngName;

use super::scalars::ScalarPrecision;
use crate::error::GeodesicError;

/// What the interpolation and the centroid reference solvers share: how a path is discretised
/// and initialised, and how the loss's scalars are evaluated. Both solver configurations embed
/// it next to their optimiser settings ([`OptimConfig`]).
///
/// [`Default`] gives the official values: 50 points, `U[0, 0.01)` initial noise, the official
/// `ε`, the official `float32` scalars, and our ChaCha20 RNG with seed 0 for the noise.
///
/// ```
/// use nao_geodesic::reference::DiscretePathConfig;
/// let cfg = DiscretePathConfig { n_points: 20, ..DiscretePathConfig::default() };
/// assert!(cfg.check().is_ok());
/// assert!(DiscretePathConfig { n_points: 2, ..cfg }.check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct DiscretePathConfig {
    /// Points of every discretised path, endpoints included (official: 50). At least 3.
    pub n_points: usize,
    /// Width of the uniform noise `U[0, init_noise)` added to the chord initialisation
    /// (official: `torch.rand(..) / 100`, i.e. 0.01).
    pub init_noise: f64,
    /// Maximal segment length `ε` of the penalty `Σ relu(‖zₖ₊₁−zₖ‖ − ε)`; `None` (default) is
    /// the official `2‖p₁−p₂‖/n_points` (`main.py` computes it with the same `n_points` it
    /// passes to the optimiser).
    pub segment_eps: Option<f64>,
    /// How the per-segment scalars (midpoint radius, `log χ`, the penalty's length test, `ε`)
    /// are evaluated: as the official `float32` code does (default, for parity with the official
    /// gradient, loss trace and early stop) or exactly in `f64`.
    pub scalars: ScalarPrecision,
    /// Which RNG draws the initial noise (torch's generator cannot be reproduced).
    pub rng: RngName,
    /// Seed of that RNG.
    pub seed: u64,
}

impl Default for DiscretePathConfig {
    fn default() -> Self {
        Self {
            n_points: 50,
            init_noise: 0.01,
            segment_eps: None,
            scalars: ScalarPrecision::OfficialF32,
            rng: RngName::ChaCha20,
            seed: 0,
        }
    }
}

impl DiscretePathConfig {
    /// Validate every field.
    ///
    /// # Errors
    /// [`GeodesicError::InvalidConfig`] naming the first offending field.
    pub fn check(&self) -> Result<(), GeodesicError> {
        if self.n_points < 3 {
            return Err(invalid(format!(
                "n_points must be ≥ 3 (endpoints plus at least one free point), got {}",
                self.n_points
            )));
        }
        if !(self.init_noise.is_finite() && self.init_noise >= 0.0) {
            return Err(invalid(format!(
                "init_noise must be finite and ≥ 0, got {}",
                self.init_noise
            )));
        }
        if let Some(eps) = self.segment_eps {
            if !(eps.is_finite() && eps > 0.0) {
                return Err(invalid(format!(
                    "segment_eps must be finite and > 0, got {eps}"
                )));
            }
        }
        Ok(())
    }
}

fn invalid(msg: String) -> GeodesicError {
    GeodesicError::InvalidConfig(msg)
}

/// Settings of [`ReferenceSolver`](super::ReferenceSolver): the discretisation and the
/// optimiser.
///
/// [`Default`] gives the values of the official implementation (`norm_aware_interpolation` in
/// the authors' `nao/norm_aware_optimization.py`): [`DiscretePathConfig::default`] and
/// [`OptimConfig::default`] (Adam with learning rate 0.01, early stop once the loss has changed
/// by less than `1e-3` on 10 consecutive iterations, at most 10 000 iterations).
///
/// ```
/// use nao_geodesic::reference::ReferenceConfig;
/// let mut cfg = ReferenceConfig::with_points(20);
/// cfg.optim.max_iters = 500;
/// assert!(cfg.check().is_ok());
/// cfg.optim.lr = -1.0;
/// assert!(cfg.check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReferenceConfig {
    /// Discretisation, initialisation and scalar precision.
    pub path: DiscretePathConfig,
    /// Adam and the early-stop rule.
    pub optim: OptimConfig,
}

impl ReferenceConfig {
    /// The official settings with `n_points` points per path (and so the official
    /// `ε = 2‖a − b‖/n_points`).
    pub fn with_points(n_points: usize) -> Self {
        let mut cfg = Self::default();
        cfg.path.n_points = n_points;
        cfg
    }

    /// Validate every field; [`ReferenceSolver::new`](super::ReferenceSolver::new) calls this
    /// once.
    ///
    /// # Errors
    /// [`GeodesicError::InvalidConfig`] or [`GeodesicError::Optim`] naming the first offending
    /// field.
    pub fn check(&self) -> Result<(), GeodesicError> {
        self.path.check()?;
        Ok(self.optim.check()?)
    }
}
