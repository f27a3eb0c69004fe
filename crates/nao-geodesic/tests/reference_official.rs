//! The reference solver against the official implementation's outputs
//! (`shared/reference/nao-official/`, see its README): loss and gradient at the official initial
//! path, the path after one Adam step, and the geometry of the optimised path.

use std::path::{Path, PathBuf};

use nao_geodesic::reference::{
    reference_loss, reference_loss_and_grad, ScalarPrecision, ReferenceConfig, ReferenceSolver,
};
use nao_prior::ChiPrior;

/// `shared/reference/nao-official` beside the repository root (or under `$NAO_SHARED_DIR`).
fn official_dir() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    std::env::var_os("NAO_SHARED_DIR")
        .map(PathBuf::from)
        .into_iter()
        .chain([root.join("shared"), root.join("../shared")])
        .map(|p| p.join("reference/nao-official"))
        .find(|p| p.is_dir())
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
    let Some(dir) = official_dir() else {
        eprintln!("skipped: no shared/reference/nao-official beside this checkout");
        return None;
    };
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
}

fn rel_l2(x: &[f64], y: &[f64]) -> f64 {
    let num: f64 = x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = y.iter().map(|b| b * b).sum();
    (num / den).sqrt()
}

fn max_abs(x: &[f64], y: &[f64]) -> f64 {
    x.iter().zip(y).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max)
}

fn norms(points: &[f32], dim: usize) -> Vec<f64> {
    points.chunks_exact(dim).map(nao_prior::norm).collect()
}

fn length(points: &[f32], dim: usize) -> f64 {
    points
        .chunks_exact(dim)
        .zip(points.chunks_exact(dim).skip(1))
        .map(|(x, y)| {
            let d: Vec<f64> = x.iter().zip(y).map(|(&a, &b)| b as f64 - a as f64).collect();
            nao_prior::norm(&d)
        })
        .sum()
}

fn f64s(x: &[f32]) -> Vec<f64> {
    x.iter().map(|&v| v as f64).collect()
}

fn check_init_and_first_step(name: &str) {
    let Some(c) = load(name) else { return };
    let prior = ChiPrior::new(c.dim).unwrap();
    let solver = ReferenceSolver::new(c.dim, ReferenceConfig::default()).unwrap();
    let eps = solver.eps_for(&c.p1, &c.p2);
    let path = c.full(&c.init);
    let (loss, grad) = reference_loss_and_grad(&prior, &path, c.dim, eps, ScalarPrecision::OfficialF32).unwrap();
    let loss_err = (loss.loss - c.loss_trace[0]).abs() / c.loss_trace[0].abs();
    let g_int = &grad[c.dim..49 * c.dim];
    let g_err = rel_l2(g_int, &f64s(&c.grad));
    let g_max = max_abs(g_int, &f64s(&c.grad));

    let one = ReferenceSolver::new(
        c.dim,
        ReferenceConfig {
            max_iters: 1,
            ..ReferenceConfig::default()
        },
    )
    .unwrap()
    .solve_from(&c.p1, &c.p2, &c.init)
    .unwrap();
    let step_err = rel_l2(&f64s(one.interior()), &f64s(&c.after_one));
    let step_max = max_abs(&f64s(one.interior()), &f64s(&c.after_one));
    eprintln!(
        "{name}: loss {} vs {} rel {loss_err:.2e}; grad rel_l2 {g_err:.2e} max_abs {g_max:.2e}; \
         step rel_l2 {step_err:.2e} max_abs {step_max:.2e}",
        loss.loss, c.loss_trace[0]
    );
    assert!(loss_err < 1e-5);
    assert!(g_err < 1e-5);
    assert!(step_err < 1e-5);
    let _ = reference_loss(&prior, &path, c.dim, eps, ScalarPrecision::F64).unwrap();
}

fn check_full_run(name: &str) {
    let Some(c) = load(name) else { return };
    let solver = ReferenceSolver::new(c.dim, ReferenceConfig::default()).unwrap();
    let t = std::time::Instant::now();
    let sol = solver.solve_from(&c.p1, &c.p2, &c.init).unwrap();
    let secs = t.elapsed().as_secs_f64();
    let off = c.full(&c.final_path);
    let (ours_n, off_n) = (sol.point_norms(), norms(&off, c.dim));
    let norm_err = ours_n
        .iter()
        .zip(&off_n)
        .map(|(a, b)| ((a - b) / b).abs())
        .fold(0.0, f64::max);
    let (ours_len, off_len) = (sol.path_length(), length(&off, c.dim));
    let len_err = ((ours_len - off_len) / off_len).abs();
    eprintln!(
        "{name}: {secs:.2}s iterations {} (official {}), early {}; final loss {} (official last {}); \
         norms max rel {norm_err:.2e}; length {ours_len} vs {off_len} rel {len_err:.2e}",
        sol.iterations,
        c.loss_trace.len(),
        sol.early_stopped,
        sol.loss_trace.last().unwrap(),
        c.loss_trace.last().unwrap()
    );
    assert!(norm_err < 1e-3);
    assert!(len_err < 1e-3);
}

#[test]
fn d64_gauss_init_gradient_and_first_step() {
    check_init_and_first_step("interp_d64_gauss");
}

#[test]
fn d64_scaled_init_gradient_and_first_step() {
    check_init_and_first_step("interp_d64_scaled");
}

#[test]
fn d16384_init_gradient_and_first_step() {
    check_init_and_first_step("interp_d16384_gauss");
}

#[test]
fn d64_gauss_full_run() {
    check_full_run("interp_d64_gauss");
}

#[test]
fn d64_scaled_full_run() {
    check_full_run("interp_d64_scaled");
}

#[test]
#[ignore]
fn d16384_full_run() {
    check_full_run("interp_d16384_gauss");
}
