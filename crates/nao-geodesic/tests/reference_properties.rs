//! Properties of the reference solver that need no reference data: the analytic gradient
//! against central finite differences, the arc-length resampling and the 50-point objective,
//! the torch-style Adam, configuration validation and error reporting.

use nao_geodesic::reference::{
    official_norm_f32, official_path, reference_loss, reference_loss_and_grad,
    resampled_reference_loss_of_points, ReferenceConfig, ReferenceSolver, ScalarPrecision,
    REFERENCE_POINTS,
};
use nao_geodesic::{interpolate, resample_by_arc_length, GeodesicError, Method, Spacing};
use nao_optim::{OptimConfig, OptimError, StopReason};
use nao_prior::{ChiPrior, GaussianSeeds, RngName};
use proptest::prelude::*;

/// A random path of `n` points around the χ shell of `dim` dimensions.
fn random_path(dim: usize, n: usize, seed: u64, spread: f64) -> Vec<f64> {
    let mut g = GaussianSeeds::new(RngName::ChaCha8, seed);
    let a: Vec<f64> = g.seed(dim);
    let b: Vec<f64> = g.seed(dim);
    (0..n)
        .flat_map(|k| {
            let t = k as f64 / (n - 1) as f64;
            a.iter()
                .zip(&b)
                .map(|(&p, &q)| p + t * (q - p))
                .collect::<Vec<_>>()
        })
        .map(|v| v + spread * g.normal())
        .collect()
}

fn lengths(pts: &[f64], dim: usize) -> Vec<f64> {
    pts.chunks_exact(dim)
        .zip(pts.chunks_exact(dim).skip(1))
        .map(|(x, y)| {
            x.iter()
                .zip(y)
                .map(|(a, b)| (a - b) * (a - b))
                .sum::<f64>()
                .sqrt()
        })
        .collect()
}

/// Central differences of the exact (f64) loss against the analytic gradient, on every
/// coordinate of the path (endpoints included).
fn check_gradient(dim: usize, n: usize, seed: u64, eps: f64) -> Result<(), TestCaseError> {
    let prior = ChiPrior::new(dim).unwrap();
    let pts = random_path(dim, n, seed, 0.3);
    let f64_ = ScalarPrecision::F64;
    let (l0, grad) = reference_loss_and_grad(&prior, &pts, dim, eps, f64_).unwrap();
    prop_assert!(l0.loss.is_finite());
    let loss = |p: &[f64]| reference_loss(&prior, p, dim, eps, f64_).unwrap().loss;
    let gmax = grad.iter().fold(0.0f64, |m, g| m.max(g.abs()));
    for i in 0..pts.len() {
        let h = 1e-6 * (1.0 + pts[i].abs());
        let (mut p, mut m) = (pts.clone(), pts.clone());
        p[i] += h;
        m[i] -= h;
        let fd = (loss(&p) - loss(&m)) / (2.0 * h);
        // The relu kink: skip a coordinate whose ±h moves a segment length across eps.
        let kink = lengths(&p, dim)
            .iter()
            .zip(lengths(&m, dim))
            .any(|(a, b)| (a - eps) * (b - eps) <= 0.0);
        if !kink {
            prop_assert!(
                (fd - grad[i]).abs() <= 1e-6 * gmax.max(1.0),
                "coordinate {i}: fd {fd} vs analytic {}",
                grad[i]
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn analytic_gradient_matches_central_differences(
        dim in 1usize..12,
        n in 2usize..7,
        seed in 0u64..1_000,
        eps in 0.05f64..3.0,
    ) {
        check_gradient(dim, n, seed, eps)?;
    }

    #[test]
    fn resampling_keeps_endpoints_and_spaces_evenly(
        dim in 1usize..6,
        m in 2usize..12,
        n in 2usize..40,
        seed in 0u64..1_000,
    ) {
        let pts = random_path(dim, m, seed, 0.5);
        let r = resample_by_arc_length(&pts, dim, n);
        prop_assert_eq!(r.len(), n * dim);
        prop_assert_eq!(&r[..dim], &pts[..dim]);
        prop_assert_eq!(&r[(n - 1) * dim..], &pts[(m - 1) * dim..]);
        // Every resampled point lies on the polyline, at arc length k·S/(n−1): the chords of
        // the resampled path are never longer than that spacing, and sum to at most S.
        let chord = |x: &[f64], y: &[f64]| {
            x.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt()
        };
        let total: f64 = (1..m).map(|i| chord(&pts[(i - 1) * dim..i * dim], &pts[i * dim..(i + 1) * dim])).sum();
        let spacing = total / (n - 1) as f64;
        let mut sum = 0.0;
        for k in 1..n {
            let c = chord(&r[(k - 1) * dim..k * dim], &r[k * dim..(k + 1) * dim]);
            prop_assert!(c <= spacing * (1.0 + 1e-9) + 1e-12);
            sum += c;
        }
        prop_assert!(sum <= total * (1.0 + 1e-9) + 1e-12);
    }
}

#[test]
fn gradient_with_active_penalty_and_official_scalars() {
    // A tiny eps makes every segment's penalty active.
    check_gradient(8, 5, 7, 1e-3).unwrap();
    // The official-scalar gradient is the autograd gradient of the quantised loss: close to the
    // exact one, not its derivative.
    let dim = 512;
    let prior = ChiPrior::new(dim).unwrap();
    let pts: Vec<f32> = random_path(dim, 6, 3, 0.1)
        .into_iter()
        .map(|v| v as f32)
        .collect();
    let (_, g32) =
        reference_loss_and_grad(&prior, &pts, dim, 1.0, ScalarPrecision::OfficialF32).unwrap();
    let (_, g64) = reference_loss_and_grad(&prior, &pts, dim, 1.0, ScalarPrecision::F64).unwrap();
    let num: f64 = g32.iter().zip(&g64).map(|(a, b)| (a - b) * (a - b)).sum();
    let den: f64 = g64.iter().map(|b| b * b).sum();
    assert!((num / den).sqrt() < 1e-4, "{}", (num / den).sqrt());
}

#[test]
fn resampled_loss_is_invariant_to_how_a_polyline_is_sampled() {
    let dim = 16;
    let prior = ChiPrior::new(dim).unwrap();
    let coarse = random_path(dim, 7, 11, 0.4);
    // Insert the midpoint of every segment: the same polyline, sampled twice as densely.
    let m = coarse.len() / dim;
    let mut fine = Vec::new();
    for i in 0..m {
        let x = &coarse[i * dim..(i + 1) * dim];
        fine.extend_from_slice(x);
        if i + 1 < m {
            let y = &coarse[(i + 1) * dim..(i + 2) * dim];
            fine.extend(x.iter().zip(y).map(|(a, b)| 0.5 * (a + b)));
        }
    }
    let (a, b) = (
        resampled_reference_loss_of_points(&prior, &coarse, dim),
        resampled_reference_loss_of_points(&prior, &fine, dim),
    );
    assert!((a - b).abs() < 1e-9 * a.abs(), "{a} vs {b}");
    // A 50-point path whose points are already evenly spaced scores its own loss.
    let line = random_path(dim, REFERENCE_POINTS, 2, 0.0);
    let d2: f64 = (0..dim)
        .map(|j| (line[j] - line[49 * dim + j]).powi(2))
        .sum();
    let eps = 2.0 * d2.sqrt() / 50.0;
    let direct = reference_loss(&prior, &line, dim, eps, ScalarPrecision::F64).unwrap();
    let via = resampled_reference_loss_of_points(&prior, &line, dim);
    assert!((direct.loss - via).abs() < 1e-9 * via.abs());
    // Degenerate inputs.
    assert_eq!(
        resampled_reference_loss_of_points(&prior, &line[..dim], dim),
        0.0
    );
    assert!(resampled_reference_loss_of_points(&prior, &line[..dim + 1], dim).is_nan());
    assert!(resampled_reference_loss_of_points(&ChiPrior::new(3).unwrap(), &line, dim).is_nan());
}

#[test]
fn official_norm_is_the_f32_lane_reduction() {
    let x: Vec<f32> = (0..19).map(|i| i as f32 * 0.37 - 2.0).collect();
    let exact = nao_prior::norm(&x);
    assert!(((official_norm_f32(&x) as f64) - exact).abs() < 1e-5 * exact);
}

#[test]
fn invalid_configs_and_inputs_are_errors() {
    let ok = ReferenceConfig::default();
    assert!(ok.check().is_ok());
    let with_path = |f: &dyn Fn(&mut ReferenceConfig)| {
        let mut c = ok.clone();
        f(&mut c);
        c
    };
    let path_errors = [
        with_path(&|c| c.path.n_points = 2),
        with_path(&|c| c.path.init_noise = f64::INFINITY),
        with_path(&|c| c.path.segment_eps = Some(0.0)),
    ];
    for bad in path_errors {
        assert!(
            matches!(bad.check(), Err(GeodesicError::InvalidConfig(_))),
            "{bad:?}"
        );
        assert!(ReferenceSolver::new(4, bad).is_err());
    }
    // The optimiser's settings are checked by nao-optim, which names the field.
    let optim_errors = [
        (
            "lr",
            OptimConfig {
                lr: 0.0,
                ..OptimConfig::default()
            },
        ),
        (
            "lr",
            OptimConfig {
                lr: f64::NAN,
                ..OptimConfig::default()
            },
        ),
        (
            "betas.0",
            OptimConfig {
                betas: (1.0, 0.999),
                ..OptimConfig::default()
            },
        ),
        (
            "betas.1",
            OptimConfig {
                betas: (0.9, -0.1),
                ..OptimConfig::default()
            },
        ),
        (
            "adam_eps",
            OptimConfig {
                adam_eps: 0.0,
                ..OptimConfig::default()
            },
        ),
        (
            "tol",
            OptimConfig {
                tol: -1.0,
                ..OptimConfig::default()
            },
        ),
        (
            "patience",
            OptimConfig {
                patience: 0,
                ..OptimConfig::default()
            },
        ),
    ];
    for (field, optim) in optim_errors {
        let bad = ReferenceConfig {
            optim,
            ..ok.clone()
        };
        assert!(
            matches!(
                bad.check(),
                Err(GeodesicError::Optim(OptimError::InvalidConfig { field: f, .. })) if f == field
            ),
            "{bad:?}"
        );
        assert!(ReferenceSolver::new(4, bad).is_err());
    }
    assert!(matches!(
        ReferenceSolver::new(0, ok.clone()),
        Err(GeodesicError::Prior(_))
    ));
    let s = ReferenceSolver::new(4, ok).unwrap();
    let a = [1.0f32, 0.0, 0.0, 0.0];
    assert!(matches!(
        s.solve(&a, &[1.0f32, 2.0]),
        Err(GeodesicError::ShapeMismatch { got: 2, .. })
    ));
    assert!(matches!(
        s.solve(&a, &[0.0f32, f32::NAN, 0.0, 1.0]),
        Err(GeodesicError::NonFinite {
            which: "b",
            index: 1
        })
    ));
    assert!(matches!(
        s.solve_from(&a, &a, &[0.0f32; 8]),
        Err(GeodesicError::ShapeMismatch { expected: 192, .. })
    ));
    let prior = ChiPrior::new(4).unwrap();
    assert!(matches!(
        reference_loss(&prior, &[0.0f64; 4], 4, 1.0, ScalarPrecision::F64),
        Err(GeodesicError::TooFewFrames(1))
    ));
    assert!(reference_loss(&prior, &[0.0f64; 6], 3, 1.0, ScalarPrecision::F64).is_err());
}

#[test]
fn a_zero_endpoint_still_optimises_and_max_iters_zero_returns_the_start() {
    let mut cfg = ReferenceConfig::default();
    cfg.optim.max_iters = 0;
    let mut g = GaussianSeeds::new(RngName::ChaCha20, 9);
    let b: Vec<f32> = g.seed(32);
    let a = vec![0.0f32; 32];
    let s = ReferenceSolver::new(32, cfg).unwrap();
    let init = s.initial_interior(&a, &b).unwrap();
    let sol = s.solve_from(&a, &b, &init).unwrap();
    assert_eq!(sol.termination.iterations, 0);
    assert_eq!(sol.termination.reason, StopReason::IterationCap);
    assert_eq!(sol.interior(), &init[..]);
    let full = ReferenceSolver::new(32, ReferenceConfig::default())
        .unwrap()
        .solve(&a, &b)
        .unwrap();
    assert!(full.final_loss.loss.is_finite() && full.final_loss.loss < sol.final_loss.loss);
}

/// `interpolate(NaoReference, …, n)` is the optimiser's own result with `n` points: the
/// official ε rule with that `n`, the points written as the solver left them, and a final loss
/// that is the official loss of exactly those points.
#[test]
fn the_reference_method_returns_the_optimisers_own_points() {
    let mut g = GaussianSeeds::new(RngName::ChaCha20, 21);
    let dim = 48;
    let (a, b): (Vec<f64>, Vec<f64>) = (g.seed(dim), g.seed(dim));
    let prior = ChiPrior::new(dim).unwrap();
    for n in [3usize, 17, 50] {
        let sol = official_path(&a, &b, n).unwrap();
        let frames = interpolate(Method::NaoReference, &a, &b, n, Spacing::Euclidean).unwrap();
        assert_eq!(frames.len(), n);
        assert_eq!(frames, sol.to_frames());
        // ε = 2‖a − b‖/n in float32, as the official main.py computes it for its n_points.
        let d: Vec<f32> = a
            .iter()
            .zip(&b)
            .map(|(x, y)| *x as f32 - *y as f32)
            .collect();
        let eps = (2.0f32 * (official_norm_f32(&d) / n as f32)) as f64;
        assert_eq!(sol.eps, eps, "n = {n}");
        let official = ScalarPrecision::OfficialF32;
        let again = reference_loss(&prior, &frames.data, dim, eps, official).unwrap();
        assert_eq!(again, sol.final_loss, "n = {n}");
        assert_eq!(sol.loss_trace.len(), sol.termination.iterations);
        assert_eq!(sol.termination.reason, StopReason::Converged, "n = {n}");
    }
    // Fewer than 3 points leave no free point to optimise.
    for n in [0usize, 1, 2] {
        assert!(interpolate(Method::NaoReference, &a, &b, n, Spacing::Euclidean).is_err());
    }
    assert!(matches!(
        official_path(&a, &b, 2),
        Err(GeodesicError::InvalidConfig(msg)) if msg.contains("at least 3 points")
    ));
}
