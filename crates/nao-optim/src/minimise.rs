//! The optimisation loop of the official NAO code: loss, Adam step, early-stop test.

use crate::{AdamStep, EarlyStop, OptimConfig, StopReason, Termination, TorchAdam};

/// A problem [`OptimConfig::minimise`] can drive: it owns its parameters, their Adam moments
/// and whatever it caches between the two calls of an iteration.
pub trait Problem {
    /// What can go wrong while evaluating the loss.
    type Error;

    /// The loss at the current parameters (computed before the iteration's step, as the
    /// official loop does).
    ///
    /// # Errors
    /// Whatever the problem reports; the loop stops and passes it on.
    fn loss(&mut self) -> Result<f64, Self::Error>;

    /// Take one Adam step with the scalars `step`, using the gradient at the parameters whose
    /// loss [`loss`](Self::loss) has just returned.
    fn step(&mut self, step: &AdamStep);
}

/// What [`OptimConfig::minimise`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Run {
    /// Why and after how many steps it stopped.
    pub termination: Termination,
    /// The loss before each step, one entry per iteration; after a
    /// [`StopReason::NonFinite`] stop, the offending loss is the last entry (and no step was
    /// taken from it).
    pub loss_trace: Vec<f64>,
}

impl OptimConfig {
    /// Run the official loop on `problem`: at most `max_iters` times, evaluate the loss, take an
    /// Adam step, and apply the early-stop rule ([`EarlyStop`]) to that loss. A non-finite loss
    /// stops the run before its step ([`StopReason::NonFinite`]).
    ///
    /// The configuration is assumed valid ([`check`](Self::check): the solvers call it once,
    /// when they are built).
    ///
    /// ```
    /// use nao_optim::{AdamMoments, AdamStep, OptimConfig, Problem, StopReason};
    /// /// Minimise (x − 3)² from x = 0.
    /// struct Parabola { x: [f32; 1], g: f64, moments: AdamMoments }
    /// impl Problem for Parabola {
    ///     type Error = std::convert::Infallible;
    ///     fn loss(&mut self) -> Result<f64, Self::Error> {
    ///         let d = self.x[0] as f64 - 3.0;
    ///         self.g = 2.0 * d;
    ///         Ok(d * d)
    ///     }
    ///     fn step(&mut self, step: &AdamStep) {
    ///         step.apply(&mut self.x, &[self.g], &mut self.moments);
    ///     }
    /// }
    /// let mut p = Parabola { x: [0.0], g: 0.0, moments: AdamMoments::new(1) };
    /// let cfg = OptimConfig { lr: 0.1, tol: 1e-9, patience: 3, ..OptimConfig::default() };
    /// let run = cfg.minimise(&mut p).unwrap();
    /// assert!((p.x[0] - 3.0).abs() < 1e-2);
    /// assert_eq!(run.termination.reason, StopReason::Converged);
    /// assert_eq!(run.loss_trace.len(), run.termination.iterations);
    /// ```
    ///
    /// # Errors
    /// The first error of [`Problem::loss`].
    pub fn minimise<P: Problem>(&self, problem: &mut P) -> Result<Run, P::Error> {
        let mut adam = TorchAdam::new(self.lr, self.betas, self.adam_eps);
        let mut rule = EarlyStop::new(self.tol, self.patience);
        let mut loss_trace = Vec::new();
        let mut reason = StopReason::IterationCap;
        for _ in 0..self.max_iters {
            let loss = problem.loss()?;
            loss_trace.push(loss);
            if !loss.is_finite() {
                reason = StopReason::NonFinite;
                break;
            }
            problem.step(&adam.begin_step());
            // The step of this iteration has been taken when the rule stops the run.
            if rule.update(loss) {
                reason = StopReason::Converged;
                break;
            }
        }
        let iterations = adam.steps() as usize;
        Ok(Run {
            termination: Termination { reason, iterations },
            loss_trace,
        })
    }
}
