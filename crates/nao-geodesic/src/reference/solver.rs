//! The reference solver: the official discretised path, optimised by the official loop.

use nao_optim::{AdamStep, Problem, StopReason};
use nao_prior::{ChiPrior, GaussianSeeds};
use num_traits::Float;

use super::config::ReferenceConfig;
use super::kernel::{fused_step, StepState};
use super::loss::{total, Segment};
use super::scalars::{official_eps, pair_sums, seg_sums, to32, Eval, ScalarPrecision, SegSums};
use super::solution::ReferenceSolution;
use crate::error::GeodesicError;

/// The official discretised NAO interpolation optimiser (see the [module docs](super)).
#[derive(Debug, Clone)]
pub struct ReferenceSolver {
    dim: usize,
    config: ReferenceConfig,
    prior: ChiPrior,
}

/// The official path `a → b` with `n_points` points (endpoints included), every other setting
/// official ([`ReferenceConfig::with_points`]): `ε = 2‖a − b‖/n_points` as the official
/// `main.py` computes it, the chord plus `U[0, 0.01)` noise from our seeded RNG as the start.
/// What the solver returns is its own result: the optimised points, their official loss and why
/// the run stopped.
///
/// ```
/// use nao_geodesic::reference::official_path;
/// use nao_prior::{GaussianSeeds, RngName};
/// let mut g = GaussianSeeds::new(RngName::ChaCha20, 2);
/// let (a, b): (Vec<f64>, Vec<f64>) = (g.seed(32), g.seed(32));
/// let sol = official_path(&a, &b, 12).unwrap();
/// assert_eq!(sol.n_points(), 12);
/// assert!(sol.final_loss.loss < sol.loss_trace[0]);
/// ```
///
/// # Errors
/// Fewer than 3 points ([`GeodesicError::InvalidConfig`]), seeds of different or zero length,
/// non-finite values, a diverging loss.
pub fn official_path<T: Float>(
    a: &[T],
    b: &[T],
    n_points: usize,
) -> Result<ReferenceSolution, GeodesicError> {
    if a.len() != b.len() {
        return Err(GeodesicError::DimensionMismatch {
            a: a.len(),
            b: b.len(),
        });
    }
    if n_points < 3 {
        return Err(GeodesicError::InvalidConfig(format!(
            "the reference solver needs at least 3 points (the endpoints and one free point), \
             got {n_points}"
        )));
    }
    ReferenceSolver::new(a.len(), ReferenceConfig::with_points(n_points))?.solve(a, b)
}

/// The state of one optimisation: the points, their Adam moments and the segment sums the
/// fused step leaves for the next iteration's loss.
struct PathProblem {
    ev: Eval,
    eps: f64,
    dim: usize,
    /// All `n` rows (endpoints included), `n × dim`.
    x: Vec<f32>,
    m: Vec<f32>,
    v: Vec<f32>,
    buf: Vec<f32>,
    sums: Vec<SegSums>,
    /// The current segments' scalars (set by `loss`, used by `step`).
    segs: Vec<Segment>,
}

impl Problem for PathProblem {
    type Error = std::convert::Infallible;

    fn loss(&mut self) -> Result<f64, Self::Error> {
        let (ev, eps) = (&self.ev, self.eps);
        self.segs.clear();
        self.segs
            .extend(self.sums.iter().map(|&s| Segment::new(ev, s, eps)));
        Ok(total(&self.segs).loss)
    }

    fn step(&mut self, step: &AdamStep) {
        let state = StepState {
            x: &mut self.x,
            m: &mut self.m,
            v: &mut self.v,
            buf: &mut self.buf,
            sums: &mut self.sums,
        };
        fused_step(state, self.dim, &self.segs, step, self.ev.precision);
    }
}

/// The most memory a reference run may plan to hold (8 GiB). The reference solvers keep every
/// point of every path with its optimiser state; past this bound (or what the machine has, see
/// [`solver_budget`]) they refuse to start, with the estimate in the error, instead of running
/// the machine out of memory or aborting on an allocation.
pub const MAX_SOLVER_BYTES: u64 = 8 << 30;

/// Bytes a reference run over `paths` paths of `n_points` points of `dim` values holds, rounded
/// up: the points and Adam's two moments in `f32` (12 bytes per value), the loss gradient in
/// `f64` (8), and the `f64` copy a caller makes of the result (8) — 32 bytes per value.
///
/// ```
/// use nao_geodesic::reference::{check_solver_size, solver_bytes};
/// assert_eq!(solver_bytes(1, 50, 1000), 1_600_000);
/// assert!(check_solver_size(1, 50, 16_384).is_ok());
/// let e = check_solver_size(2, 50, 10_000_000).unwrap_err().to_string();
/// assert!(e.contains("29.8 GiB"), "{e}");
/// ```
pub fn solver_bytes(paths: usize, n_points: usize, dim: usize) -> u64 {
    (paths as u64)
        .saturating_mul(n_points as u64)
        .saturating_mul(dim as u64)
        .saturating_mul(32)
}

/// Refuse a reference run whose [`solver_bytes`] exceed [`solver_budget`], with both figures.
pub fn check_solver_size(paths: usize, n_points: usize, dim: usize) -> Result<(), GeodesicError> {
    let bytes = solver_bytes(paths, n_points, dim);
    let budget = solver_budget();
    if bytes > budget {
        let gib = |b: u64| b as f64 / f64::from(1u32 << 30);
        return Err(GeodesicError::InvalidConfig(format!(
            "the reference solver would hold about {:.1} GiB ({paths} path(s) of {n_points} \
             points of d = {dim}); {:.1} GiB are available to it here (its limit is {:.0} GiB, \
             less when the machine's free memory or the address-space limit is lower): use \
             the exact method (nao) or fewer points",
            gib(bytes),
            gib(budget),
            gib(MAX_SOLVER_BYTES)
        )));
    }
    Ok(())
}

/// The memory a reference run may plan to hold here: [`MAX_SOLVER_BYTES`], or less when the
/// machine has less available (`MemAvailable` of `/proc/meminfo`) or the process's address
/// space is limited (`ulimit -v`, less what the process already maps). Where `/proc` cannot be
/// read, [`MAX_SOLVER_BYTES`].
pub fn solver_budget() -> u64 {
    let kib = |text: &str, key: &str| -> Option<u64> {
        let line = text.lines().find(|l| l.starts_with(key))?;
        line[key.len()..]
            .split_whitespace()
            .next()?
            .parse::<u64>()
            .ok()
    };
    let read = |p: &str| std::fs::read_to_string(p).ok();
    let mut budget = MAX_SOLVER_BYTES;
    if let Some(avail) = read("/proc/meminfo").and_then(|t| kib(&t, "MemAvailable:")) {
        budget = budget.min(avail.saturating_mul(1024));
    }
    let limit = read("/proc/self/limits").and_then(|t| kib(&t, "Max address space"));
    let mapped = read("/proc/self/status").and_then(|t| kib(&t, "VmSize:"));
    if let (Some(limit), Some(mapped)) = (limit, mapped) {
        // `limits` gives bytes, `status` KiB.
        budget = budget.min(limit.saturating_sub(mapped.saturating_mul(1024)));
    }
    budget
}

impl ReferenceSolver {
    /// A solver for seeds of `dim` elements.
    ///
    /// # Errors
    /// [`GeodesicError::InvalidConfig`] or [`GeodesicError::Optim`] from
    /// [`ReferenceConfig::check`];
    /// [`GeodesicError::Prior`] for `dim = 0`; [`GeodesicError::InvalidConfig`] when the run
    /// would hold more than [`solver_budget`].
    pub fn new(dim: usize, config: ReferenceConfig) -> Result<Self, GeodesicError> {
        config.check()?;
        check_solver_size(1, config.path.n_points, dim)?;
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

    /// The segment length `ε` used for the endpoints `a`, `b`: `config.path.segment_eps`, or the
    /// official `2‖a−b‖/n_points` — evaluated in `float32` as the official code does when
    /// `config.path.scalars` is [`ScalarPrecision::OfficialF32`], else in `f64`.
    pub fn eps_for<T: Float>(&self, a: &[T], b: &[T]) -> f64 {
        let n = self.config.path.n_points;
        self.config
            .path
            .segment_eps
            .unwrap_or_else(|| match self.config.path.scalars {
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
        let cfg = &self.config.path;
        let n = cfg.n_points;
        let mut rng = GaussianSeeds::new(cfg.rng, cfg.seed);
        let noise = cfg.init_noise as f32;
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
    /// use nao_optim::StopReason;
    /// let mut cfg = ReferenceConfig::with_points(3);
    /// cfg.optim.max_iters = 1;
    /// let solver = ReferenceSolver::new(2, cfg).unwrap();
    /// // The midpoint of a chord through the origin's neighbourhood moves outwards by lr.
    /// let sol = solver.solve_from(&[1.0f32, 0.0], &[-1.0, 0.2], &[0.0f32, 0.1]).unwrap();
    /// assert_eq!(sol.termination.iterations, 1);
    /// assert_eq!(sol.termination.reason, StopReason::IterationCap);
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
        let (n, dim) = (self.config.path.n_points, self.dim);
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

    fn run(&self, x: Vec<f32>, eps: f64) -> Result<ReferenceSolution, GeodesicError> {
        let (n, dim, scalars) = (
            self.config.path.n_points,
            self.dim,
            self.config.path.scalars,
        );
        let sums: Vec<SegSums> = x
            .chunks_exact(dim)
            .zip(x.chunks_exact(dim).skip(1))
            .map(|(p, q)| seg_sums(p, q, scalars))
            .collect();
        let mut path = PathProblem {
            ev: Eval::new(&self.prior, scalars),
            eps,
            dim,
            x,
            m: vec![0.0f32; (n - 2) * dim],
            v: vec![0.0f32; (n - 2) * dim],
            buf: vec![0.0f32; dim],
            sums,
            segs: Vec::with_capacity(n - 1),
        };
        let run = match self.config.optim.minimise(&mut path) {
            Ok(run) => run,
            Err(never) => match never {},
        };
        if run.termination.reason == StopReason::NonFinite {
            return Err(GeodesicError::NonFiniteLoss {
                iteration: run.termination.iterations,
                loss: run.loss_trace.last().copied().unwrap_or(f64::NAN),
            });
        }
        let final_segs: Vec<Segment> = path
            .sums
            .iter()
            .map(|&s| Segment::new(&path.ev, s, eps))
            .collect();
        Ok(ReferenceSolution {
            dim,
            points: path.x,
            loss_trace: run.loss_trace,
            termination: run.termination,
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
