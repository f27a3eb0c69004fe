//! `dpm++2m` inversion on the tiny SD 1.x ONNX export against diffusers'
//! `DPMSolverMultistepInverseScheduler` inverting the same latents (`tests/data/dpm_inverse/`,
//! made by `scripts/make_dpm_inverse_reference.py` from `tests/data/nonsquare/z0.npy`): the
//! grid, 10 steps of inversion, and sampling the seed back with `DPMSolverMultistepScheduler`.
//!
//! Needs ONNX Runtime (`ORT_DYLIB_PATH`) and `shared/`; fails, never skips, without them.

mod common;

use std::path::PathBuf;

use common::{tiny_sd1_onnx, PROMPT};
use nao_backend::{Backend, Tensor};
use nao_inversion::{invert_latents_full, sample_inverted, InversionMethod, InversionOptions};
use nao_sampling::{no_progress, DpmSolverMultistepInverseScheduler};
use nao_test_support::max_abs_diff;

fn reference(name: &str) -> Tensor {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    nao_test_support::read_tensor(path.join(name))
}

#[test]
fn the_inverse_grid_is_diffusers() {
    let mut s =
        DpmSolverMultistepInverseScheduler::from_config(&tiny_sd1_onnx().info().scheduler).unwrap();
    let timesteps = s.set_timesteps(10).unwrap().to_vec();
    let expected = reference("dpm_inverse/timesteps_10steps.npy");
    let expected: Vec<f64> = expected.data.iter().map(|&t| f64::from(t)).collect();
    assert_eq!(timesteps, expected);
    // σ to float32 rounding: torch's `((1 − ᾱ)/ᾱ) ** 0.5` and nao's `sqrt` can differ by an ulp
    let sigmas = reference("dpm_inverse/sigmas_10steps.npy").data;
    assert_eq!(s.sigmas().len(), sigmas.len());
    for (got, want) in s.sigmas().iter().zip(&sigmas) {
        assert!((got - want).abs() <= 1e-6 * want, "σ {got} vs {want}");
    }
    assert_eq!(s.name(), "dpm++2m");
}

#[test]
fn dpm_inversion_and_sampling_back_match_diffusers() {
    let b = tiny_sd1_onnx();
    let options = InversionOptions::default()
        .with_steps(10)
        .with_method("dpm++2m".parse().unwrap());
    let cond = nao_inversion::encode_prompt(b, PROMPT, &options).unwrap();
    let z0 = reference("nonsquare/z0.npy");
    let inverted = invert_latents_full(b, &z0, &cond, &options, no_progress).unwrap();
    assert_eq!(
        (
            inverted.method,
            inverted.model_calls,
            inverted.partner.is_none()
        ),
        (InversionMethod::DpmSolver, 10, true)
    );
    let d = max_abs_diff(
        &inverted.seed,
        &reference("dpm_inverse/inverted_10steps.npy"),
    );
    eprintln!("dpm++2m inversion, 10 steps: max |Δ| against diffusers {d:.3e}");
    assert!(d < 1e-4, "inversion: max |Δ| {d:.3e}");

    // the seed goes back through DPM-Solver++ 2M, the sampler diffusers' inverse mirrors
    let sampling = options.sampling_back();
    assert_eq!(sampling.scheduler.unwrap().to_string(), "dpm++2m");
    let ours = nao_inversion::Inverted {
        seed: reference("dpm_inverse/inverted_10steps.npy"),
        ..inverted
    };
    let (back, calls) = sample_inverted(b, &ours, &cond, &sampling, no_progress).unwrap();
    assert_eq!(calls, 10);
    let expected = reference("dpm_inverse/sampled_back_10steps.npy");
    let d = max_abs_diff(&back, &expected);
    eprintln!("dpm++2m sampling back, 10 steps: max |Δ| against diffusers {d:.3e}");
    assert!(d < 1e-4, "sampling back: max |Δ| {d:.3e}");
    // with no scheduler chosen, sample_inverted picks DPM-Solver++ 2M itself
    let plain = options.sampling_back();
    let plain = nao_sampling::SampleOptions {
        scheduler: None,
        ..plain
    };
    let (again, _) = sample_inverted(b, &ours, &cond, &plain, no_progress).unwrap();
    assert_eq!(again, back);
}

#[test]
fn the_inverse_scheduler_alone_matches_diffusers_for_v_prediction_and_each_spacing() {
    use nao_backend::{PredictionType, TimestepSpacing};
    let base = tiny_sd1_onnx().info().scheduler.clone();
    let z0 = reference("nonsquare/z0.npy");
    for (variant, config) in [
        (
            "v_prediction",
            nao_backend::SchedulerConfig {
                prediction_type: PredictionType::VPrediction,
                ..base.clone()
            },
        ),
        (
            "linspace",
            nao_backend::SchedulerConfig {
                timestep_spacing: TimestepSpacing::Linspace,
                steps_offset: 0,
                ..base.clone()
            },
        ),
        (
            "trailing",
            nao_backend::SchedulerConfig {
                timestep_spacing: TimestepSpacing::Trailing,
                steps_offset: 0,
                ..base.clone()
            },
        ),
    ] {
        let mut s = DpmSolverMultistepInverseScheduler::from_config(&config).unwrap();
        let steps = s.set_timesteps(10).unwrap().len();
        let mut x = z0.clone();
        for index in 0..steps {
            // the model output of the reference: 0.5·x, exact in float32
            let half =
                Tensor::new(x.shape.clone(), x.data.iter().map(|v| 0.5 * v).collect()).unwrap();
            x = s.step(&half, index, &x).unwrap().prev_sample;
        }
        let d = max_abs_diff(
            &x,
            &reference(&format!("dpm_inverse/scheduler_{variant}.npy")),
        );
        eprintln!("inverse scheduler, {variant}: max |Δ| {d:.3e}");
        assert!(d < 1e-5, "{variant}: max |Δ| {d:.3e}");
    }
}
