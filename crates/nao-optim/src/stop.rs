//! Why an iterative solver stopped, and the official early-stop rule.

use std::fmt;

/// Why an iterative solver stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The solver's convergence test was met (for Adam: the official early-stop rule,
    /// [`EarlyStop`]).
    Converged,
    /// The iteration cap was reached first.
    IterationCap,
    /// No step could lower the objective any more (e.g. a line search found no decrease at
    /// double precision) before the convergence test was met.
    NoProgress,
    /// The objective became NaN or infinite; the solver's result is not usable.
    NonFinite,
}

impl StopReason {
    /// A short, stable name (for reports and JSON): `converged`, `iteration-cap`,
    /// `no-progress`, `non-finite`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Converged => "converged",
            Self::IterationCap => "iteration-cap",
            Self::NoProgress => "no-progress",
            Self::NonFinite => "non-finite",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an iterative solver ended: why, and after how many iterations.
///
/// ```
/// use nao_optim::{StopReason, Termination};
/// let t = Termination { reason: StopReason::IterationCap, iterations: 10_000 };
/// assert_eq!(t.to_string(), "iteration-cap after 10000 iterations");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Termination {
    /// Why it stopped.
    pub reason: StopReason,
    /// Iterations completed (for Adam: steps taken, the official iteration count).
    pub iterations: usize,
}

impl fmt::Display for Termination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} after {} iterations", self.reason, self.iterations)
    }
}

/// The official early-stop rule: after each step, `|loss − last_loss| < tol` increments a
/// counter and anything else resets it; the run stops when the counter reaches `patience`.
/// `last_loss` starts at `+∞`, so the first iteration never counts.
///
/// ```
/// use nao_optim::EarlyStop;
/// let mut rule = EarlyStop::new(1e-3, 2);
/// assert!(!rule.update(5.0)); // |∞ − 5| is not small
/// assert!(!rule.update(5.0005)); // one small change
/// assert!(rule.update(5.0009)); // two in a row: stop
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct EarlyStop {
    tol: f64,
    patience: usize,
    last: f64,
    below: usize,
}

impl EarlyStop {
    /// A fresh rule (validate `tol`, `patience` through [`OptimConfig`](crate::OptimConfig)).
    pub fn new(tol: f64, patience: usize) -> Self {
        Self {
            tol,
            patience,
            last: f64::INFINITY,
            below: 0,
        }
    }

    /// Record the loss of the iteration whose step has just been taken; `true` when the rule
    /// ends the run.
    pub fn update(&mut self, loss: f64) -> bool {
        if (self.last - loss).abs() < self.tol {
            self.below += 1;
        } else {
            self.below = 0;
        }
        self.last = loss;
        self.below == self.patience
    }
}
