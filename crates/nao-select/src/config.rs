//! [`SelectConfig`]: every value of SeedSelect's loss and optimiser, the official code's as
//! defaults, checked once.

use serde::{Deserialize, Serialize};

use crate::{Result, SelectError};

/// Which latent the semantic term decodes at each of its steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecodeTarget {
    /// The latent after the step (the official code's choice).
    Current,
    /// The step's estimate of the clean latent, x̂₀.
    PredictedX0,
}

impl std::str::FromStr for DecodeTarget {
    type Err = String;

    /// `current` or `predicted-x0`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "current" => Ok(Self::Current),
            "predicted-x0" => Ok(Self::PredictedX0),
            other => Err(format!(
                "'{other}': decode the current latent (current) or the predicted clean latent \
                 (predicted-x0)"
            )),
        }
    }
}

impl DecodeTarget {
    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::PredictedX0 => "predicted-x0",
        }
    }
}

/// SeedSelect's settings (the official code's as defaults, see [`SelectConfig::from_nao`] and
/// [`SelectConfig::from_random`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectConfig {
    /// Optimiser iterations (updates of the seed).
    pub iterations: usize,
    /// AdamW's learning rate.
    pub lr: f64,
    /// The iteration (from 0) from which the learning rate is divided by `lr_drop`.
    pub lr_drop_at: usize,
    /// The divisor of the learning rate from `lr_drop_at` on.
    pub lr_drop: f64,
    /// AdamW's decoupled weight decay.
    pub weight_decay: f64,
    /// DDIM steps of the differentiable sampler (K).
    pub steps: usize,
    /// Classifier-free guidance scale of the sampler.
    pub guidance: f64,
    /// Weights of the semantic term at the last steps, the last step's weight last.
    pub semantic_weights: Vec<f64>,
    /// The factor of the semantic term in the total.
    pub semantic_scale: f64,
    /// The factor of the appearance term (MSE of the final latent to the real images' mean
    /// latent) in the total.
    pub appearance_scale: f64,
    /// What the semantic term decodes.
    pub decode: DecodeTarget,
    /// Recompute each network call in the backward pass instead of keeping every step's
    /// activations (memory grows with one call, not with the steps).
    pub checkpointing: bool,
    /// Seeds refined together (one batch through the networks).
    pub batch: usize,
}

impl SelectConfig {
    /// From NAO seeds (already near the class): learning rate 0.05, 5 iterations, guidance 1.
    pub fn from_nao() -> Self {
        Self {
            iterations: 5,
            lr: 0.05,
            lr_drop_at: 3,
            lr_drop: 10.0,
            weight_decay: 0.01,
            steps: 20,
            guidance: 1.0,
            semantic_weights: vec![0.05, 0.25, 0.70],
            semantic_scale: 10.0,
            appearance_scale: 1.0,
            decode: DecodeTarget::Current,
            checkpointing: true,
            batch: 16,
        }
    }

    /// From random seeds: learning rate 0.1, 30 iterations, guidance 7.5.
    pub fn from_random() -> Self {
        Self {
            iterations: 30,
            lr: 0.1,
            guidance: 7.5,
            ..Self::from_nao()
        }
    }

    /// The learning rate of iteration `i` (from 0).
    pub fn lr_at(&self, i: usize) -> f64 {
        if i >= self.lr_drop_at {
            self.lr / self.lr_drop
        } else {
            self.lr
        }
    }

    /// Refuse values SeedSelect cannot run with, naming each as its option.
    ///
    /// ```
    /// let mut c = nao_select::SelectConfig::from_nao();
    /// assert!(c.check().is_ok());
    /// c.semantic_weights = vec![1.0; 30];
    /// assert!(c.check().unwrap_err().to_string().contains("--select-steps 20"));
    /// ```
    pub fn check(&self) -> Result<()> {
        let bad = |m: String| Err(SelectError::Config(m));
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if self.iterations > 10_000 {
            return bad(format!(
                "--select-iterations {}: at most 10000",
                self.iterations
            ));
        }
        if !positive(self.lr) || self.lr > 100.0 {
            return bad(format!("--select-lr {}: a number in (0, 100]", self.lr));
        }
        if !positive(self.lr_drop) {
            return bad(format!(
                "the learning-rate divisor {} must be > 0",
                self.lr_drop
            ));
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!(
                "--select-weight-decay {}: a finite number ≥ 0",
                self.weight_decay
            ));
        }
        if self.steps == 0 || self.steps > 1000 {
            return bad(format!("--select-steps {}: 1 to 1000", self.steps));
        }
        if !(self.guidance.is_finite()
            && (0.0..=nao_sampling::MAX_GUIDANCE).contains(&self.guidance))
        {
            return bad(format!(
                "--select-guidance {}: a number from 0 to {}",
                self.guidance,
                nao_sampling::MAX_GUIDANCE
            ));
        }
        if self.semantic_weights.len() > self.steps {
            return bad(format!(
                "{} semantic weights for --select-steps {}: one per step at most",
                self.semantic_weights.len(),
                self.steps
            ));
        }
        let finite = |v: &f64| v.is_finite() && *v >= 0.0;
        if !self.semantic_weights.iter().all(finite)
            || !finite(&self.semantic_scale)
            || !finite(&self.appearance_scale)
        {
            return bad("the loss weights must be finite numbers ≥ 0".into());
        }
        if self.batch == 0 || self.batch > 4096 {
            return bad(format!("--select-batch {}: 1 to 4096", self.batch));
        }
        Ok(())
    }
}
