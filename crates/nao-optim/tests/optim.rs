//! Adam against hand-computed torch steps, the official early-stop rule, the loop's
//! termination reasons and configuration errors.

use nao_optim::{
    AdamMoments, AdamStep, EarlyStop, OptimConfig, OptimError, Problem, StopReason, Termination,
    TorchAdam,
};

#[test]
fn torch_adam_matches_hand_computed_steps() {
    // Two steps of torch.optim.Adam(lr=0.1) on one parameter, by hand in f64:
    // t=1: m=0.1·g, v=0.001·g², x -= 0.1·(m/0.1)/(√(v/0.001)+1e-8) = 0.1·sign(g).
    let mut adam = TorchAdam::new(0.1, (0.9, 0.999), 1e-8);
    let mut x = [1.0f32];
    let mut mo = AdamMoments::new(1);
    adam.begin_step().apply(&mut x, &[2.0], &mut mo);
    assert!((x[0] - 0.9).abs() < 1e-7);
    adam.begin_step().apply(&mut x, &[-1.0], &mut mo);
    let (m, v): (f64, f64) = (0.9 * 0.2 - 0.1, 0.999 * 0.004 + 0.001);
    let (bc1, bc2) = (1.0 - 0.9f64.powi(2), 1.0 - 0.999f64.powi(2));
    let expected = 0.9 - 0.1 / bc1 * m / (v.sqrt() / bc2.sqrt() + 1e-8);
    assert!(
        (x[0] as f64 - expected).abs() < 1e-6,
        "{} vs {expected}",
        x[0]
    );
    assert_eq!(adam.steps(), 2);
    assert!((mo.m[0] as f64 - m).abs() < 1e-7);
}

#[test]
fn early_stop_counts_consecutive_small_changes_only() {
    let mut rule = EarlyStop::new(0.1, 3);
    // A large change in the middle resets the counter.
    let losses = [10.0, 9.95, 9.9, 5.0, 4.95, 4.9, 4.85];
    let stops: Vec<bool> = losses.iter().map(|&l| rule.update(l)).collect();
    assert_eq!(stops, [false, false, false, false, false, false, true]);
    // A NaN loss never counts as a small change.
    let mut rule = EarlyStop::new(0.1, 1);
    assert!(!rule.update(f64::NAN) && !rule.update(f64::NAN));
}

/// `loss(x) = values[k]` at the k-th evaluation; the step only counts.
struct Scripted {
    values: Vec<f64>,
    evals: usize,
    steps: usize,
}

impl Problem for Scripted {
    type Error = String;
    fn loss(&mut self) -> Result<f64, String> {
        let v = *self
            .values
            .get(self.evals)
            .ok_or_else(|| format!("no value for evaluation {}", self.evals))?;
        self.evals += 1;
        Ok(v)
    }
    fn step(&mut self, _: &AdamStep) {
        self.steps += 1;
    }
}

fn run(values: &[f64], cfg: &OptimConfig) -> (Result<nao_optim::Run, String>, usize) {
    let mut p = Scripted {
        values: values.to_vec(),
        evals: 0,
        steps: 0,
    };
    let r = cfg.minimise(&mut p);
    (r, p.steps)
}

#[test]
fn the_loop_reports_why_it_stopped() {
    let cfg = OptimConfig {
        tol: 0.5,
        patience: 2,
        max_iters: 5,
        ..OptimConfig::default()
    };
    // Converged: |Δ| = ∞, 1, 0.2, 0.1: two small changes in a row at the 4th iteration, whose
    // step is taken.
    let (r, steps) = run(&[10.0, 9.0, 8.8, 8.7, 1.0], &cfg);
    let r = r.unwrap();
    let converged = Termination {
        reason: StopReason::Converged,
        iterations: 4,
    };
    assert_eq!((r.termination, steps), (converged, 4));
    assert_eq!(r.loss_trace, [10.0, 9.0, 8.8, 8.7]);
    // The cap.
    let (r, steps) = run(&[10.0, 8.0, 6.0, 4.0, 2.0], &cfg);
    let r = r.unwrap();
    assert_eq!(r.termination.reason, StopReason::IterationCap);
    assert_eq!(
        (r.termination.iterations, steps, r.loss_trace.len()),
        (5, 5, 5)
    );
    // A non-finite loss: no step from it, and it ends the trace.
    let (r, steps) = run(&[10.0, 8.0, f64::INFINITY, 1.0], &cfg);
    let r = r.unwrap();
    assert_eq!(r.termination.reason, StopReason::NonFinite);
    assert_eq!((r.termination.iterations, steps), (2, 2));
    assert_eq!(r.loss_trace, [10.0, 8.0, f64::INFINITY]);
    // No iterations at all.
    let zero = OptimConfig {
        max_iters: 0,
        ..cfg.clone()
    };
    let (r, steps) = run(&[], &zero);
    let t = r.unwrap().termination;
    assert_eq!(
        (t.reason, t.iterations, steps),
        (StopReason::IterationCap, 0, 0)
    );
    // The problem's own errors pass through.
    let (r, _) = run(&[10.0], &cfg);
    assert_eq!(r.unwrap_err(), "no value for evaluation 1");
}

#[test]
fn invalid_settings_name_the_field() {
    let ok = OptimConfig::default();
    assert!(ok.check().is_ok() && OptimConfig::official_centroid().check().is_ok());
    for (bad, field) in [
        (
            OptimConfig {
                lr: 0.0,
                ..ok.clone()
            },
            "lr",
        ),
        (
            OptimConfig {
                lr: f64::NAN,
                ..ok.clone()
            },
            "lr",
        ),
        (
            OptimConfig {
                betas: (1.0, 0.999),
                ..ok.clone()
            },
            "betas.0",
        ),
        (
            OptimConfig {
                betas: (0.9, -0.1),
                ..ok.clone()
            },
            "betas.1",
        ),
        (
            OptimConfig {
                adam_eps: 0.0,
                ..ok.clone()
            },
            "adam_eps",
        ),
        (
            OptimConfig {
                tol: -1.0,
                ..ok.clone()
            },
            "tol",
        ),
        (
            OptimConfig {
                patience: 0,
                ..ok.clone()
            },
            "patience",
        ),
    ] {
        match bad.check() {
            Err(OptimError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let msg = OptimConfig { tol: -1.0, ..ok }
        .check()
        .unwrap_err()
        .to_string();
    assert!(msg.contains("tol = -1") && msg.contains("≥ 0"), "{msg}");
}
