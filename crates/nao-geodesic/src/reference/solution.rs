//! What the reference solver returns.

use nao_optim::Termination;

use super::loss::ReferenceLoss;
use super::scalars::pair_sums;
use crate::frames::Frames;

/// Result of [`ReferenceSolver::solve`](super::ReferenceSolver::solve): the optimised discrete
/// path and how the run went.
#[derive(Debug, Clone, PartialEq)]
pub struct ReferenceSolution {
    /// Elements per point.
    pub dim: usize,
    /// All `n_points × dim` values, row-major, endpoints included (`f32`, as the official
    /// result; the endpoints are the seeds rounded to `f32`).
    pub points: Vec<f32>,
    /// The loss before each Adam step (the official loop's `loss`), one entry per iteration.
    pub loss_trace: Vec<f64>,
    /// Why the run stopped ([`StopReason::Converged`](nao_optim::StopReason::Converged): the
    /// official early-stop rule; or the iteration cap) and the Adam steps taken (= objective
    /// evaluations, the official iteration count).
    pub termination: Termination,
    /// The segment length `ε` of the penalty.
    pub eps: f64,
    /// The official loss of the returned points (after the last step, one step past
    /// `loss_trace`'s end), with the configured scalars: what
    /// [`reference_loss`](super::reference_loss) gives for [`points`](Self::points) and
    /// [`eps`](Self::eps).
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
        self.points
            .chunks_exact(self.dim)
            .zip(self.points.chunks_exact(self.dim).skip(1))
            .map(|(x, y)| pair_sums(x, y).0.sqrt())
            .collect()
    }

    /// Euclidean length of the polyline.
    pub fn path_length(&self) -> f64 {
        self.segment_lengths().iter().sum()
    }

    /// The points in `f64`, row-major (`n_points × dim`).
    pub fn points_f64(&self) -> Vec<f64> {
        self.points.iter().map(|&v| v as f64).collect()
    }

    /// All points (endpoints included) as [`Frames`]: the solver's own points, exactly.
    pub fn to_frames(&self) -> Frames {
        Frames {
            dim: self.dim,
            data: self.points_f64(),
        }
    }
}
