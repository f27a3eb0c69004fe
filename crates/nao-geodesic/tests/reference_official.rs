//! The reference solver against the official implementation's outputs
//! (`shared/reference/nao-official/`, see its README): the `float32` scalars, the loss and the
//! gradient at the official initial path, the path after one Adam step, the loss trace, and
//! the geometry of the optimised path.
//!
//! Measured on the development machine (x86-64 with AVX2), for orientation:
//!
//! | case | loss rel. | gradient rel. L2 | 1st step rel. L2 | norms max rel. | length rel. |
//! |---|---|---|---|---|---|
//! | interp_d64_gauss | 1.4e-8 | 2.0e-7 | 3.1e-9 | 2.3e-5 | 1.9e-8 |
//! | interp_d64_scaled | 4.4e-8 | 2.1e-7 | 2.8e-9 | 2.2e-3 (RMS 7e-4) | 4.5e-4 |
//! | interp_d16384_gauss | 2.7e-8 | 1.9e-7 | 1.5e-8 | 3e-4 | 4e-5 |

use std::path::PathBuf;

use nao_geodesic::reference::{
    official_log_chi_f32, reference_loss, reference_loss_and_grad, ReferenceConfig,
    ReferenceSolver, ScalarPrecision,
};
use nao_optim::StopReason;
use nao_prior::ChiPrior;

/// `shared/reference/nao-official` beside the repository root (or under `$NAO_SHARED_DIR`).
fn official_dir() -> PathBuf {
    nao_test_support::shared("reference/nao-official")
}

/// One official interpolation case, loaded.
struct Case {
    dim: usize,
    p1: Vec<f32>,
    p2: Vec<f32>,
    init: Vec<f32>,
    grad: Vec<f32>,
    after_one: Vec<f32>,
    final_path: Vec<f32>,
    loss_trace: Vec<f64>,
}

fn load(name: &str) -> Option<Case> {
    let dir = official_dir();
    let dir = dir.join(name);
    let read = |f: &str| nao_npy::read_npy(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let p1 = read("p1.npy");
    let dim = p1.shape()[0];
    let init = read("init_path.npy");
    assert_eq!(init.shape(), &[48, dim]);
    Some(Case {
        dim,
        p1: p1.to_f32_vec(),
        p2: read("p2.npy").to_f32_vec(),
        init: init.to_f32_vec(),
        grad: read("grad_at_init.npy").to_f32_vec(),
        after_one: read("path_after_1_adam_step.npy").to_f32_vec(),
        final_path: read("final_path.npy").to_f32_vec(),
        loss_trace: read("loss_trace.npy").to_f64_vec(),
    })
}

impl Case {
    /// Endpoints around the given 48 free points.
    fn full(&self, interior: &[f32]) -> Vec<f32> {
        [&self.p1[..], interior, &self.p2[..]].concat()
    }

    fn solver(&self, max_iters: usize) -> ReferenceSolver {
        let mut cfg = ReferenceConfig::default();
        cfg.optim.max_iters = max_iters;
        ReferenceSolver::new(self.dim, cfg).unwrap()
    }
}

fn rel_l2(x: &[f64], y: &[f64]) -> f64 {
    let num: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = y.iter().map(|b| b * b).sum();
    (num / den).sqrt()
}

fn f64s(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

fn norms(points: &[f32], dim: usize) -> Vec<f64> {
    points.chunks_exact(dim).map(nao_prior::norm).collect()
}

fn length(points: &[f32], dim: usize) -> f64 {
    points
        .chunks_exact(dim)
        .zip(points.chunks_exact(dim).skip(1))
        .map(|(x, y)| {
            let d: Vec<f64> = x
                .iter()
                .zip(y)
                .map(|(&a, &b)| b as f64 - a as f64)
                .collect();
            nao_prior::norm(&d)
        })
        .sum()
}

/// Loss and gradient at the official initial path, and the path after one Adam step, all to
/// 1e-5 relative (measured ≈ 1e-8, 2e-7 and 1e-8: the per-segment `float32` scalars are
/// reproduced bit for bit, what remains is the official autograd's own `float32` rounding).
///
/// `noise_floor`: Adam's first step moves an element by ≈ lr·sign(g), so where the true
/// gradient is below the `float32` resolution of the terms it is summed from, its sign — and a
/// whole step of `lr` — is rounding noise in both implementations. With `Some(floor)` the
/// step is compared on the elements whose official gradient exceeds `floor` in magnitude, and
/// at most one in 10⁴ elements may be excluded.
fn check_init_and_first_step(name: &str, noise_floor: Option<f64>) {
    let Some(c) = load(name) else { return };
    let prior = ChiPrior::new(c.dim).unwrap();
    let solver = c.solver(1);
    let eps = solver.eps_for(&c.p1, &c.p2);
    let path = c.full(&c.init);
    let official = ScalarPrecision::OfficialF32;
    let (loss, grad) = reference_loss_and_grad(&prior, &path, c.dim, eps, official).unwrap();
    let loss_err = (loss.loss - c.loss_trace[0]).abs() / c.loss_trace[0].abs();
    let g_err = rel_l2(&grad[c.dim..49 * c.dim], &f64s(&c.grad));
    let one = solver.solve_from(&c.p1, &c.p2, &c.init).unwrap();
    assert_eq!((one.termination.iterations, one.loss_trace.len()), (1, 1));
    let keep: Vec<bool> = c
        .grad
        .iter()
        .map(|&g| noise_floor.is_none_or(|f| (g as f64).abs() > f))
        .collect();
    let excluded = keep.iter().filter(|k| !**k).count();
    assert!(
        excluded * 10_000 <= keep.len(),
        "{excluded} elements below the noise floor"
    );
    let masked = |x: &[f32]| -> Vec<f64> {
        x.iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(&v, _)| v as f64)
            .collect()
    };
    let step_err = rel_l2(&masked(one.interior()), &masked(&c.after_one));
    eprintln!(
        "{name}: loss rel {loss_err:.1e}, gradient rel L2 {g_err:.1e}, step rel L2 {step_err:.1e} \
         ({excluded} elements below the noise floor)"
    );
    assert!(loss_err < 1e-5, "loss {} vs {}", loss.loss, c.loss_trace[0]);
    assert!(g_err < 1e-5, "gradient rel L2 {g_err}");
    assert!(step_err < 1e-5, "first step rel L2 {step_err}");
    assert_eq!(loss.penalty, 0.0);
    assert!((one.loss_trace[0] - loss.loss).abs() <= 1e-9 * loss.loss);
    // The exact-f64 loss differs from the official one only by the f32 quantisation of log χ.
    let exact = reference_loss(&prior, &path, c.dim, eps, ScalarPrecision::F64).unwrap();
    assert!((exact.loss - loss.loss).abs() < 1e-5 * loss.loss);
}

/// The final geometry: point norms and path length of the optimised path against the official
/// result.
fn full_run(name: &str, norm_tol: f64, norm_rms_tol: f64, len_tol: f64) {
    let Some(c) = load(name) else { return };
    let t = std::time::Instant::now();
    let sol = c.solver(10_000).solve_from(&c.p1, &c.p2, &c.init).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let off = c.full(&c.final_path);
    let rel: Vec<f64> = sol
        .point_norms()
        .iter()
        .zip(norms(&off, c.dim))
        .map(|(a, b)| (a - b) / b)
        .collect();
    let norm_max = rel.iter().fold(0.0f64, |m, e| m.max(e.abs()));
    let norm_rms = (rel.iter().map(|e| e * e).sum::<f64>() / rel.len() as f64).sqrt();
    let (ours, theirs) = (sol.path_length(), length(&off, c.dim));
    let len_err = ((ours - theirs) / theirs).abs();
    eprintln!(
        "{name}: {secs:.2} s, {} iterations (official {}), stopped: {}; norms max rel \
         {norm_max:.1e}, RMS {norm_rms:.1e}; length {ours:.6} vs {theirs:.6} (rel {len_err:.1e})",
        sol.termination.iterations,
        c.loss_trace.len(),
        sol.termination.reason
    );
    assert!(norm_max < norm_tol, "norms max rel {norm_max}");
    assert!(norm_rms < norm_rms_tol, "norms RMS rel {norm_rms}");
    assert!(len_err < len_tol, "length rel {len_err}");
    assert_eq!(sol.point(0), &c.p1[..]);
    assert_eq!(sol.point(49), &c.p2[..]);
    assert_eq!(sol.loss_trace.len(), sol.termination.iterations);
}

#[test]
fn official_f32_log_chi_and_eps_are_reproduced_exactly() {
    // summary.json: `log_chi_f32_vs_f64` (the f32 column) at √(d−1), 8, the LERP midpoint
    // norm (`lerp_midpoint_norm`, the key shows it rounded) and 7.2; and `eps`.
    // The values are f32 numbers written out in f64, compared exactly.
    let p64 = ChiPrior::new(64).unwrap();
    for (r, v) in [
        (63f64.sqrt(), -0.571044921875),
        (8.0, -0.5749664306640625),
        (5.376667022705078, -8.063735961914062),
        (7.2, -1.1326828002929688),
        (5.032271862030029, -10.441764831542969),
    ] {
        let ours = official_log_chi_f32(&p64, r as f32) as f64;
        assert_eq!(ours, v, "d = 64, r = {r}");
    }
    let p = ChiPrior::new(16384).unwrap();
    for (r, v) in [
        (16383f64.sqrt(), -0.5703125),
        (128.0, -0.5703125),
        (90.51741790771484, -1581.7890625),
        (115.2, -170.2109375),
    ] {
        let ours = official_log_chi_f32(&p, r as f32) as f64;
        assert_eq!(ours, v, "d = 16384, r = {r}");
    }
    for (name, eps) in [
        ("interp_d64_gauss", 0.5081292390823364),
        ("interp_d64_scaled", 0.4752100706100464),
        ("interp_d16384_gauss", 7.2588276863098145),
    ] {
        let Some(c) = load(name) else { return };
        assert_eq!(c.solver(1).eps_for(&c.p1, &c.p2), eps, "{name}");
    }
}

#[test]
fn d64_gauss_loss_gradient_and_first_step() {
    check_init_and_first_step("interp_d64_gauss", None);
}

#[test]
fn d64_scaled_loss_gradient_and_first_step() {
    check_init_and_first_step("interp_d64_scaled", None);
}

#[test]
fn d16384_loss_gradient_and_first_step() {
    check_init_and_first_step("interp_d16384_gauss", None);
}

/// The off-mode pair (norms 126 and 133): the first steps match tightly; its late-loss
/// statistics are checked on what `nao path --method nao-reference` writes (nao-cli's tests).
///
/// At its initial path `log χ` is ≈ −1 600 at the segment midpoints, so the gradient of an
/// element is a sum of `float32` terms of order 10 whose rounding (≈ 1e-6) exceeds the sum for
/// a handful of elements: one of the 786 432 (official gradient 1.9e-6, ours 1.6e-6) takes a
/// full step of lr in one implementation and not in the other, which alone makes the step's
/// rel. L2 1.4e-5. Elements whose official gradient is below 1e-5 (13 of them) are left out of
/// the step comparison; everything else matches to < 1e-5 as for the other cases.
#[test]
fn d16384_offmode_loss_gradient_and_first_step() {
    check_init_and_first_step("interp_d16384_offmode", Some(1e-5));
}

#[test]
fn d64_gauss_full_run_matches_the_official_trace_and_geometry() {
    let Some(c) = load("interp_d64_gauss") else {
        return;
    };
    let sol = c.solver(10_000).solve_from(&c.p1, &c.p2, &c.init).unwrap();
    // Without an active penalty the run follows the official one to the end: the same early
    // stop (107 iterations, not asserted exactly) and the same losses to f32 rounding.
    assert_eq!(sol.termination.reason, StopReason::Converged);
    assert!(
        sol.termination.iterations.abs_diff(c.loss_trace.len()) <= 5,
        "{}",
        sol.termination
    );
    for (i, (a, b)) in sol.loss_trace.iter().zip(&c.loss_trace).enumerate() {
        assert!(((a - b) / b).abs() < 1e-5, "iteration {i}: {a} vs {b}");
    }
    full_run("interp_d64_gauss", 1e-3, 1e-3, 1e-3);
}

/// Here the penalty becomes active near the high-norm endpoint; the optimised segments there
/// settle at `dist ≈ eps`, where single `float32` roundings of the official autograd flip the
/// penalty on or off. Our trajectory follows the official one to ≈ 1e-5 for 148 iterations,
/// then drifts: the free points next to the endpoints keep oscillating by ≈ 1e-2 in norm under
/// Adam (as they do in the official run between iterations), so the three points next to `p2`
/// differ by up to ≈ 2e-3 relative. The norm profile as a whole (RMS) and the length match to
/// < 1e-3.
#[test]
fn d64_scaled_full_run_matches_the_official_geometry() {
    let Some(c) = load("interp_d64_scaled") else {
        return;
    };
    let sol = c.solver(10_000).solve_from(&c.p1, &c.p2, &c.init).unwrap();
    for (i, (a, b)) in sol
        .loss_trace
        .iter()
        .zip(&c.loss_trace)
        .take(100)
        .enumerate()
    {
        assert!(((a - b) / b).abs() < 1e-5, "iteration {i}: {a} vs {b}");
    }
    assert_eq!(sol.termination.reason, StopReason::Converged);
    full_run("interp_d64_scaled", 5e-3, 1e-3, 1e-3);
}

/// The first 1 500 iterations of the d = 16384 run (≈ 1.5 s): the loss follows the official one
/// to 2e-4 for 50 iterations; after that both runs oscillate (Adam's steps of ≈ lr on a path
/// near its optimum) with the same level and amplitude, within 5e-3 of each other.
#[test]
fn d16384_first_1500_iterations_follow_the_official_trace() {
    let Some(c) = load("interp_d16384_gauss") else {
        return;
    };
    let sol = c.solver(1500).solve_from(&c.p1, &c.p2, &c.init).unwrap();
    assert_eq!(sol.termination.iterations, 1500);
    assert_eq!(sol.termination.reason, StopReason::IterationCap);
    for (i, (a, b)) in sol.loss_trace.iter().zip(&c.loss_trace).enumerate() {
        let tol = if i < 50 { 2e-4 } else { 5e-3 };
        assert!(((a - b) / b).abs() < tol, "iteration {i}: {a} vs {b}");
    }
}

/// The full d = 16384 run: 10 000 iterations (the official early stop never triggers: its
/// `float32` loss jitters by more than 1e-3). About 10 s in the test profile.
#[test]
fn d16384_full_run_matches_the_official_geometry() {
    let Some(c) = load("interp_d16384_gauss") else {
        return;
    };
    let sol = c.solver(10_000).solve_from(&c.p1, &c.p2, &c.init).unwrap();
    assert_eq!(sol.termination.iterations, 10_000);
    assert_eq!(sol.termination.reason, StopReason::IterationCap);
    full_run("interp_d16384_gauss", 1e-3, 1e-3, 1e-3);
}

/// The official LERP + noise initialisation with our RNG instead of torch's: a different noise
/// draw, the same optimum to within the spread the draw itself causes. Over RNG seeds 0–5 that
/// spread was: length ≤ 1.1e-3, point norms ≤ 8e-3 (the points next to the endpoints, which
/// oscillate under Adam), ≤ 1.6e-3 away from the endpoints, 99–105 iterations; the bounds
/// below are ≈ 2.5× those.
#[test]
fn solve_with_our_noise_lands_near_the_official_result() {
    let Some(c) = load("interp_d64_gauss") else {
        return;
    };
    let solver = c.solver(10_000);
    let init = solver.initial_interior(&c.p1, &c.p2).unwrap();
    // The noise is U[0, 0.01) on top of the chord.
    for (k, row) in init.chunks_exact(c.dim).enumerate() {
        let t = (k + 1) as f32 / 49.0;
        for j in 0..c.dim {
            let u = row[j] - (t * (c.p2[j] - c.p1[j]) + c.p1[j]);
            assert!((-1e-6..0.01 + 1e-6).contains(&u), "{u}");
        }
    }
    let sol = solver.solve(&c.p1, &c.p2).unwrap();
    assert_eq!(sol, solver.solve_from(&c.p1, &c.p2, &init).unwrap());
    let off = c.full(&c.final_path);
    let theirs = length(&off, c.dim);
    assert!(((sol.path_length() - theirs) / theirs).abs() < 3e-3);
    let rel: Vec<f64> = sol
        .point_norms()
        .iter()
        .zip(norms(&off, c.dim))
        .map(|(a, b)| ((a - b) / b).abs())
        .collect();
    assert!(rel.iter().all(|&e| e < 2e-2), "{rel:?}");
    assert!(rel[3..47].iter().all(|&e| e < 4e-3), "{rel:?}");
    assert_eq!(sol.termination.reason, StopReason::Converged);
    assert!(sol.termination.iterations.abs_diff(107) <= 15);
}
