//! The hyper-parameters of Adam and of the early-stop rule, validated once (linfa's
//! `ParamGuard` style: the solvers call [`OptimConfig::check`] when they are built, and never
//! again).

use crate::OptimError;

/// Adam's hyper-parameters and the official early-stop rule.
///
/// [`Default`] gives the values of the official interpolation (`norm_aware_interpolation` in
/// the authors' `nao/norm_aware_optimization.py`): torch's Adam with learning rate 0.01,
/// `β = (0.9, 0.999)`, `eps = 1e-8`; stop once the loss has changed by less than `1e-3` on 10
/// consecutive iterations, or after 10 000 iterations. The official centroid optimisation uses
/// [`OptimConfig::official_centroid`] (`1e-2` on 5 iterations).
///
/// ```
/// use nao_optim::OptimConfig;
/// let cfg = OptimConfig { max_iters: 500, ..OptimConfig::default() };
/// assert!(cfg.check().is_ok());
/// let err = OptimConfig { lr: -1.0, ..cfg }.check().unwrap_err();
/// assert!(err.to_string().contains("lr = -1"), "{err}");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct OptimConfig {
    /// Adam learning rate (official: 0.01).
    pub lr: f64,
    /// Adam `(β₁, β₂)` (official: torch's default `(0.9, 0.999)`).
    pub betas: (f64, f64),
    /// Adam `eps` added to the denominator (official: torch's default `1e-8`).
    pub adam_eps: f64,
    /// Early-stop threshold on `|loss_i − loss_{i−1}|` (official `eta`: `1e-3` for paths,
    /// `1e-2` for centroids).
    pub tol: f64,
    /// Consecutive iterations below `tol` that stop the run (official: 10 for paths, 5 for
    /// centroids).
    pub patience: usize,
    /// Iteration cap (official: 10 000). `0` takes no step.
    pub max_iters: usize,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            lr: 0.01,
            betas: (0.9, 0.999),
            adam_eps: 1e-8,
            tol: 1e-3,
            patience: 10,
            max_iters: 10_000,
        }
    }
}

impl OptimConfig {
    /// The official centroid optimisation's values (`norm_aware_centroid_optimization`): as
    /// [`Default`] but the early stop at `|Δloss| < 1e-2` on 5 consecutive iterations.
    pub fn official_centroid() -> Self {
        Self {
            tol: 1e-2,
            patience: 5,
            ..Self::default()
        }
    }

    /// Validate every field.
    ///
    /// # Errors
    /// [`OptimError::InvalidConfig`] naming the first offending field.
    pub fn check(&self) -> Result<(), OptimError> {
        let bad =
            |field, value: String, rule| Err(OptimError::InvalidConfig { field, value, rule });
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("lr", self.lr.to_string(), "must be finite and > 0");
        }
        for (field, b) in [("betas.0", self.betas.0), ("betas.1", self.betas.1)] {
            if !(0.0..1.0).contains(&b) {
                return bad(field, b.to_string(), "must lie in [0, 1)");
            }
        }
        if !(self.adam_eps.is_finite() && self.adam_eps > 0.0) {
            return bad(
                "adam_eps",
                self.adam_eps.to_string(),
                "must be finite and > 0",
            );
        }
        if !(self.tol.is_finite() && self.tol >= 0.0) {
            return bad("tol", self.tol.to_string(), "must be finite and ≥ 0");
        }
        if self.patience == 0 {
            return bad("patience", "0".into(), "must be ≥ 1");
        }
        Ok(())
    }
}
