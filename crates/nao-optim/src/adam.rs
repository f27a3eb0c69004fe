//! Adam exactly as `torch.optim.Adam` (torch 1.13, no weight decay, no AMSGrad) applies it to
//! `float32` tensors.
//!
//! Per element, in `f32` like the tensors of the official code:
//!
//! ```text
//! m ← β₁·m + (1−β₁)·g
//! v ← β₂·v + (1−β₂)·g²
//! x ← x − (lr / (1−β₁ᵗ)) · m / (√v / √(1−β₂ᵗ) + eps)
//! ```
//!
//! with the bias corrections `1−β₁ᵗ`, `1−β₂ᵗ`, `lr/(1−β₁ᵗ)` and `√(1−β₂ᵗ)` formed in `f64` as
//! torch forms them from Python floats, then rounded to `f32` where they meet the tensors. The
//! one deliberate difference: `√v / √(1−β₂ᵗ)` is computed as `√v · (1/√(1−β₂ᵗ))` (at most one
//! `f32` ulp from torch's division; it saves a vector division per element).

/// Step counter and hyper-parameters of a torch-style Adam.
///
/// ```
/// use nao_optim::{AdamMoments, TorchAdam};
/// let mut adam = TorchAdam::new(0.01, (0.9, 0.999), 1e-8);
/// let mut x = [1.0f32, -2.0];
/// let mut moments = AdamMoments::new(2);
/// let step = adam.begin_step();
/// step.apply(&mut x, &[3.0, -0.5], &mut moments);
/// // The first Adam step moves every coordinate by ≈ lr against the gradient's sign.
/// assert!((x[0] - 0.99).abs() < 1e-6 && (x[1] - (-1.99)).abs() < 1e-6);
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct TorchAdam {
    lr: f64,
    betas: (f64, f64),
    eps: f64,
    step: u64,
}

/// First and second moments of one parameter tensor (torch's `exp_avg`, `exp_avg_sq`).
#[derive(Debug, Clone, PartialEq)]
pub struct AdamMoments {
    /// First moment `m`.
    pub m: Vec<f32>,
    /// Second moment `v`.
    pub v: Vec<f32>,
}

impl AdamMoments {
    /// Zero moments for a tensor of `len` elements (torch's lazy state initialisation).
    pub fn new(len: usize) -> Self {
        Self {
            m: vec![0.0; len],
            v: vec![0.0; len],
        }
    }
}

/// The scalars of one Adam step, already rounded to `f32` where torch rounds them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamStep {
    /// `β₁`.
    pub beta1: f32,
    /// `1 − β₁`.
    pub one_minus_beta1: f32,
    /// `β₂`.
    pub beta2: f32,
    /// `1 − β₂`.
    pub one_minus_beta2: f32,
    /// `1 / √(1 − β₂ᵗ)`.
    pub inv_bias_correction2_sqrt: f32,
    /// Adam `eps`.
    pub eps: f32,
    /// `−lr / (1 − β₁ᵗ)`.
    pub neg_step_size: f32,
}

impl TorchAdam {
    /// A fresh optimiser (step counter 0). Hyper-parameters are not checked here:
    /// [`OptimConfig::check`](crate::OptimConfig::check) validates them once, and
    /// [`OptimConfig::minimise`](crate::OptimConfig::minimise) builds its Adam from a checked
    /// configuration.
    pub fn new(lr: f64, betas: (f64, f64), eps: f64) -> Self {
        Self {
            lr,
            betas,
            eps,
            step: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.step
    }

    /// Advance the step counter `t` and return the scalars of step `t`.
    pub fn begin_step(&mut self) -> AdamStep {
        self.step += 1;
        // torch keeps `step` in a float32 tensor and reads it back with `.item()`.
        let t = self.step as f32 as f64;
        let (b1, b2) = self.betas;
        let bias_correction1 = 1.0 - b1.powf(t);
        let bias_correction2 = 1.0 - b2.powf(t);
        let step_size = self.lr / bias_correction1;
        let bias_correction2_sqrt = bias_correction2.sqrt();
        AdamStep {
            beta1: b1 as f32,
            one_minus_beta1: (1.0 - b1) as f32,
            beta2: b2 as f32,
            one_minus_beta2: (1.0 - b2) as f32,
            inv_bias_correction2_sqrt: (1.0 / bias_correction2_sqrt) as f32,
            eps: self.eps as f32,
            neg_step_size: (-step_size) as f32,
        }
    }
}

impl AdamStep {
    /// Update one element: returns the new parameter value, updates `m` and `v` in place.
    #[inline(always)]
    pub fn update(&self, x: f32, g: f32, m: &mut f32, v: &mut f32) -> f32 {
        let m1 = *m * self.beta1 + g * self.one_minus_beta1;
        let v1 = *v * self.beta2 + self.one_minus_beta2 * g * g;
        *m = m1;
        *v = v1;
        let denom = v1.sqrt() * self.inv_bias_correction2_sqrt + self.eps;
        x + self.neg_step_size * m1 / denom
    }

    /// Apply this step to a parameter tensor with its gradient (computed in `f64`, rounded to
    /// `f32` as the official `float32` gradient tensor is).
    ///
    /// # Panics
    /// If `params`, `grads` and the moments differ in length.
    pub fn apply(&self, params: &mut [f32], grads: &[f64], moments: &mut AdamMoments) {
        assert_eq!(params.len(), grads.len(), "adam: gradient length");
        assert_eq!(params.len(), moments.m.len(), "adam: moments length");
        assert_eq!(params.len(), moments.v.len(), "adam: moments length");
        for (((x, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(moments.m.iter_mut())
            .zip(moments.v.iter_mut())
        {
            *x = self.update(*x, g as f32, m, v);
        }
    }
}
