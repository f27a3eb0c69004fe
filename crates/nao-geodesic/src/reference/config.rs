//! Hyper-parameters of the reference solver, validated once (linfa `ParamGuard` style).

use nao_prior::RngName;

use super::ScalarPrecision;
use crate::GeodesicError;

/// Hyper-parameters of [`ReferenceSolver`](super::ReferenceSolver).
///
/// [`Default`] gives the values of the official implementation (`norm_aware_interpolation` in
/// the authors' `nao/norm_aware_optimization.py`): 50 points, Adam with learning rate 0.01,
/// `β = (0.9, 0.999)`, `eps = 1e-8`, early stop once the loss has changed by less than `1e-3`
/// on 10 consecutive iterations, at most 10 000 iterations, `U[0, 0.01)` initial noise.
///
/// ```
/// use nao_geodesic::reference::ReferenceConfig;
/// let cfg = ReferenceConfig { max_iters: 500, ..ReferenceConfig::default() };
/// assert!(cfg.check().is_ok());
/// assert!(ReferenceConfig { n_points: 2, ..cfg }.check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceConfig {
    /// Points of the discretised path, endpoints included (official: 50). At least 3.
    pub n_points: usize,
    /// Adam learning rate (official: 0.01).
    pub lr: f64,
    /// Adam `(β₁, β₂)` (official: torch's default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Adam `eps` added to the denominator (official: torch's default `1e-8`).
    pub adam_eps: f64,
    /// Early-stop threshold on `|loss_i − loss_{i−1}|` (official `eta`: `1e-3`).
    pub tol: f64,
    /// Consecutive iterations below `tol` that stop the run (official: 10).
    pub patience: usize,
    /// Iteration cap (official: 10 000). `0` returns the initial path.
    pub max_iters: usize,
    /// Width of the uniform noise `U[0, init_noise)` added to the LERP initialisation (official:
    /// `torch.rand(..) / 100`, i.e. 0.01). Only used by [`solve`](super::ReferenceSolver::solve).
    pub init_noise: f64,
    /// Maximal segment length `ε` of the penalty `Σ relu(‖zₖ₊₁−zₖ‖ − ε)`; `None` (default) is the
    /// official `2‖a−b‖/n_points`.
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

impl Default for ReferenceConfig {
    fn default() -> Self {
        Self {
            n_points: 50,
            lr: 0.01,
            betas: (0.9, 0.999),
            adam_eps: 1e-8,
            tol: 1e-3,
            patience: 10,
            max_iters: 10_000,
            init_noise: 0.01,
            segment_eps: None,
            scalars: ScalarPrecision::OfficialF32,
            rng: RngName::ChaCha20,
            seed: 0,
        }
    }
}

impl ReferenceConfig {
    /// Validate every field; the solvers call this once at construction.
    ///
    /// # Errors
    /// [`GeodesicError::InvalidConfig`] naming the first offending field.
    pub fn check(&self) -> Result<(), GeodesicError> {
        check_optimiser(
            self.n_points,
            self.lr,
            self.betas,
            self.adam_eps,
            self.tol,
            self.patience,
        )?;
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

/// Checks shared by the interpolation and the centroid reference configs.
#[doc(hidden)]
pub fn check_optimiser(
    n_points: usize,
    lr: f64,
    betas: (f64, f64),
    adam_eps: f64,
    tol: f64,
    patience: usize,
) -> Result<(), GeodesicError> {
    if n_points < 3 {
        return Err(invalid(format!(
            "n_points must be ≥ 3 (endpoints plus at least one free point), got {n_points}"
        )));
    }
    if !(lr.is_finite() && lr > 0.0) {
        return Err(invalid(format!("lr must be finite and > 0, got {lr}")));
    }
    for (name, b) in [("betas.0", betas.0), ("betas.1", betas.1)] {
        if !(0.0..1.0).contains(&b) {
            return Err(invalid(format!("{name} must lie in [0, 1), got {b}")));
        }
    }
    if !(adam_eps.is_finite() && adam_eps > 0.0) {
        return Err(invalid(format!(
            "adam_eps must be finite and > 0, got {adam_eps}"
        )));
    }
    if !(tol.is_finite() && tol >= 0.0) {
        return Err(invalid(format!("tol must be finite and ≥ 0, got {tol}")));
    }
    if patience == 0 {
        return Err(invalid("patience must be ≥ 1".to_string()));
    }
    Ok(())
}
