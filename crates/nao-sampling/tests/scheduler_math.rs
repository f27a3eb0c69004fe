//! Scheduler unit tests against values derived by hand or from diffusers' formulas.
//!
//! Expected ᾱ values were computed in Python (f64, `math` module) from the formulas of
//! diffusers' `scheduling_ddim.py`: βᵢ = start + (end − start)·i/(T−1) (linear),
//! βᵢ = min(1 − ᾱ((i+1)/T)/ᾱ(i/T), 0.999) with ᾱ(t) = cos²((t+0.008)/1.008·π/2) (cosine),
//! ᾱₜ = Π(1 − βₛ). diffusers holds βs in float32, so its ᾱ differ from these exact values by
//! float32 rounding (≤ 2·10⁻⁶ relative, except where β rounds far from its real value: see
//! the cosine schedule's last step).

use nao_backend::{BetaSchedule, PredictionType, SchedulerConfig, Tensor, TimestepSpacing};
use nao_prior::{GaussianSeeds, RngName};
use nao_sampling::{DdimInverseScheduler, DdimScheduler, SamplingError};

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

fn cfg(schedule: BetaSchedule) -> SchedulerConfig {
    SchedulerConfig {
        beta_schedule: schedule,
        ..SchedulerConfig::default()
    }
}

#[test]
fn linear_schedule_matches_the_formula() {
    let s = DdimScheduler::new(cfg(BetaSchedule::Linear)).unwrap();
    let expected = [
        (0, 0.9999),
        (1, 0.9997800920720721),
        (500, 0.07779665836502386),
        (999, 4.0358297653756754e-05),
    ];
    for (t, e) in expected {
        let r = rel(s.alphas_cumprod()[t], e);
        assert!(
            r < 2e-6,
            "ᾱ[{t}] = {} vs {e}: rel {r:e}",
            s.alphas_cumprod()[t]
        );
    }
    assert_eq!(s.betas()[0], 0.0001f32 as f64);
    assert_eq!(s.betas()[999], 0.02f32 as f64);
}

#[test]
fn cosine_schedule_uses_float_division() {
    let s = DdimScheduler::new(cfg(BetaSchedule::SquaredcosCapV2)).unwrap();
    let expected = [
        (0, 0.999958715775178),
        (1, 0.9999125759273678),
        (500, 0.49228517244880304),
        (998, 2.4287669070348544e-06),
    ];
    for (t, e) in expected {
        let r = rel(s.alphas_cumprod()[t], e);
        assert!(
            r < 2e-6,
            "ᾱ[{t}] = {} vs {e}: rel {r:e}",
            s.alphas_cumprod()[t]
        );
    }
    // The last β is capped at 0.999, which float32 rounds to 0.99900001: 1 − β is then 1.3e-5
    // relative below 0.001, and so is ᾱ₉₉₉ (2.4287669070348567e-09 exactly).
    assert_eq!(s.betas()[999], 0.999f32 as f64);
    let r = rel(s.alphas_cumprod()[999], 2.4287669070348567e-09);
    assert!(r < 2e-5, "ᾱ[999] rel {r:e}");
    // Integer division (i / T == 0) would give β = 0 for all but the last step.
    assert!(s.betas()[0] > 1e-5 && s.betas()[500] > 1e-3);
}

#[test]
fn trained_betas_override_the_schedule() {
    let c = SchedulerConfig {
        num_train_timesteps: 4,
        trained_betas: Some(vec![0.1, 4.0 / 9.0, 0.5, 0.2]),
        ..SchedulerConfig::default()
    };
    let s = DdimScheduler::new(c.clone()).unwrap();
    // ᾱ = 0.9, 0.9·5/9, 0.5·0.5, 0.25·0.8 by hand.
    for (a, e) in s.alphas_cumprod().iter().zip([0.9, 0.5, 0.25, 0.2]) {
        assert!(rel(*a, e) < 1e-6, "{a} vs {e}");
    }
    let wrong_len = SchedulerConfig {
        num_train_timesteps: 5,
        ..c
    };
    assert!(matches!(
        DdimScheduler::new(wrong_len),
        Err(SamplingError::InvalidConfig(_))
    ));
}

#[test]
fn zero_terminal_snr_rescaling() {
    let c = SchedulerConfig {
        beta_schedule: BetaSchedule::ScaledLinear,
        beta_start: 0.00085,
        beta_end: 0.012,
        rescale_betas_zero_snr: true,
        ..SchedulerConfig::default()
    };
    let s = DdimScheduler::new(c).unwrap();
    // √ᾱ'ₜ = (√ᾱₜ − √ᾱ_T)·√ᾱ₀/(√ᾱ₀ − √ᾱ_T) on the exact SD 1.x schedule, in Python f64.
    // diffusers runs the rescaling in float32; near the end √ᾱₜ − √ᾱ_T cancels, so the
    // tolerance there is looser (measured: 3.8e-5 relative at t = 998, 1.0e-6 at t = 500).
    let expected = [
        (0, 0.99915, 2e-6),
        (1, 0.9982334461401825, 2e-6),
        (500, 0.2410187827573158, 2e-6),
        (998, 1.9678880566211592e-07, 1e-4),
    ];
    for (t, e, tol) in expected {
        let r = rel(s.alphas_cumprod()[t], e);
        assert!(
            r < tol,
            "ᾱ[{t}] = {} vs {e}: rel {r:e}",
            s.alphas_cumprod()[t]
        );
    }
    assert_eq!(s.alphas_cumprod()[999], 0.0, "zero terminal SNR");
}

#[test]
fn invalid_configs_are_errors() {
    for c in [
        SchedulerConfig {
            num_train_timesteps: 0,
            ..SchedulerConfig::default()
        },
        SchedulerConfig {
            beta_end: 1.5,
            ..SchedulerConfig::default()
        },
        SchedulerConfig {
            beta_start: f64::NAN,
            ..SchedulerConfig::default()
        },
        SchedulerConfig {
            clip_sample_range: 0.0,
            ..SchedulerConfig::default()
        },
        SchedulerConfig {
            num_train_timesteps: 2,
            trained_betas: Some(vec![0.1, 1.0]),
            ..SchedulerConfig::default()
        },
    ] {
        assert!(
            matches!(
                DdimScheduler::new(c.clone()),
                Err(SamplingError::InvalidConfig(_))
            ),
            "{c:?}"
        );
        assert!(DdimInverseScheduler::new(c).is_err());
    }
}

fn spaced(spacing: TimestepSpacing, offset: usize) -> SchedulerConfig {
    SchedulerConfig {
        timestep_spacing: spacing,
        steps_offset: offset,
        ..SchedulerConfig::default()
    }
}

#[test]
fn leading_spacing() {
    let mut s = DdimScheduler::new(spaced(TimestepSpacing::Leading, 0)).unwrap();
    // (0..n)·(1000 div n), reversed.
    assert_eq!(
        s.set_timesteps(10).unwrap(),
        &[900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    );
    // 1000 div 3 = 333.
    assert_eq!(s.set_timesteps(3).unwrap(), &[666, 333, 0]);
    let mut s = DdimScheduler::new(spaced(TimestepSpacing::Leading, 1)).unwrap();
    assert_eq!(s.set_timesteps(4).unwrap(), &[751, 501, 251, 1]);
    // 1000 steps with offset 1 would ask for timestep 1000: an error, not an index panic.
    assert!(s.set_timesteps(1000).is_err());
}

#[test]
fn trailing_spacing() {
    let mut s = DdimScheduler::new(spaced(TimestepSpacing::Trailing, 1)).unwrap();
    // round(arange(1000, 0, −100)) − 1; steps_offset is ignored.
    assert_eq!(
        s.set_timesteps(10).unwrap(),
        &[999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    );
    // round([1000, 666.67, 333.33]) − 1.
    assert_eq!(s.set_timesteps(3).unwrap(), &[999, 666, 332]);
    let mut inv = DdimInverseScheduler::new(spaced(TimestepSpacing::Trailing, 0)).unwrap();
    assert_eq!(inv.set_timesteps(3).unwrap(), &[332, 666, 999]);
}

#[test]
fn linspace_spacing_rounds_half_to_even() {
    let mut s = DdimScheduler::new(spaced(TimestepSpacing::Linspace, 1)).unwrap();
    assert_eq!(
        s.set_timesteps(10).unwrap(),
        &[999, 888, 777, 666, 555, 444, 333, 222, 111, 0]
    );
    // linspace(0, 999, 7) = i·166.5: 166.5 → 166, 499.5 → 500, 832.5 → 832 (numpy's round).
    assert_eq!(
        s.set_timesteps(7).unwrap(),
        &[999, 832, 666, 500, 333, 166, 0]
    );
    assert_eq!(s.set_timesteps(1).unwrap(), &[0]);
    // diffusers' DDIMInverseScheduler rejects linspace.
    let mut inv = DdimInverseScheduler::new(spaced(TimestepSpacing::Linspace, 0)).unwrap();
    assert!(matches!(
        inv.set_timesteps(10),
        Err(SamplingError::UnsupportedSpacing { .. })
    ));
}

#[test]
fn step_counts_are_validated() {
    let mut s = DdimScheduler::new(SchedulerConfig::default()).unwrap();
    assert!(s.set_timesteps(0).is_err());
    assert!(s.set_timesteps(1001).is_err());
    assert_eq!(s.set_timesteps(1000).unwrap().len(), 1000);
}

/// A 4-step process with ᾱ = [0.9, 0.5, 0.25, 0.2] and 2 inference steps: timesteps [2, 0].
fn toy(prediction: PredictionType, clip: bool, alpha_to_one: bool) -> SchedulerConfig {
    SchedulerConfig {
        num_train_timesteps: 4,
        trained_betas: Some(vec![0.1, 4.0 / 9.0, 0.5, 0.2]),
        prediction_type: prediction,
        clip_sample: clip,
        set_alpha_to_one: alpha_to_one,
        ..SchedulerConfig::default()
    }
}

fn scalar(x: f32) -> Tensor {
    Tensor::new(vec![1, 1, 1, 1], vec![x]).unwrap()
}

fn one_step(c: SchedulerConfig, x: f32, m: f32, eta: f64, z: Option<f32>) -> (f64, f64) {
    let mut s = DdimScheduler::new(c).unwrap();
    s.set_timesteps(2).unwrap();
    let noise = z.map(scalar);
    let out = s
        .step(&scalar(m), 2, &scalar(x), eta, noise.as_ref())
        .unwrap();
    (
        out.prev_sample.data[0] as f64,
        out.pred_original_sample.data[0] as f64,
    )
}

#[test]
fn one_step_per_prediction_type() {
    // From t = 2 (ᾱ = 0.25) to t = 0 (ᾱ = 0.9), by diffusers' formulas in Python f64:
    // ε: x̂₀ = (x − √0.75·m)/√0.25; v: x̂₀ = √0.25·x − √0.75·m, ε̂ = √0.25·m + √0.75·x;
    // x₀: x̂₀ = m, ε̂ = (x − √0.25·m)/√0.75; then x_prev = √0.9·x̂₀ + √0.1·ε̂.
    let cases = [
        (
            PredictionType::Epsilon,
            1.0,
            0.5,
            1.2338966428516975,
            1.1339745962155614,
        ),
        (
            PredictionType::Epsilon,
            -0.3,
            0.8,
            -1.6307619040292365,
            -1.985640646055102,
        ),
        (PredictionType::Sample, 1.0, 0.5, 0.7482029277778399, 0.5),
        (PredictionType::Sample, -0.3, 0.8, 0.5033427782713336, 0.8),
        (
            PredictionType::VPrediction,
            1.0,
            0.5,
            0.4164679511531748,
            0.0669872981077807,
        ),
        (
            PredictionType::VPrediction,
            -0.3,
            0.8,
            -0.7552368409328162,
            -0.8428203230275509,
        ),
    ];
    for (p, x, m, prev, x0) in cases {
        let (got_prev, got_x0) = one_step(toy(p, false, true), x, m, 0.0, None);
        assert!(
            (got_prev - prev).abs() < 1e-6,
            "{p:?}: prev {got_prev} vs {prev}"
        );
        assert!((got_x0 - x0).abs() < 1e-6, "{p:?}: x0 {got_x0} vs {x0}");
    }
}

#[test]
fn clip_sample_clamps_the_x0_estimate() {
    // x̂₀ = 1.134 is clipped to 1: √0.9·1 + √0.1·0.5.
    let (prev, x0) = one_step(
        toy(PredictionType::Epsilon, true, true),
        1.0,
        0.5,
        0.0,
        None,
    );
    assert_eq!(x0, 1.0);
    assert!((prev - 1.1067971810589328).abs() < 1e-6, "{prev}");
}

#[test]
fn eta_adds_sigma_scaled_noise() {
    let mut s = DdimScheduler::new(toy(PredictionType::Epsilon, false, true)).unwrap();
    s.set_timesteps(2).unwrap();
    // σ²/η² = (1 − 0.9)/(1 − 0.25)·(1 − 0.25/0.9) = 0.0962963.
    assert!((s.variance(2).unwrap() - 0.09629629629629627).abs() < 1e-7);
    // x_prev = √0.9·x̂₀ + √(0.1 − σ²)·ε̂ + σ·z (Python f64).
    let (prev, _) = one_step(
        toy(PredictionType::Epsilon, false, true),
        1.0,
        0.5,
        1.0,
        Some(0.7),
    );
    assert!((prev - 1.3234333026077492).abs() < 1e-6, "{prev}");
    let (prev, _) = one_step(
        toy(PredictionType::Epsilon, false, true),
        1.0,
        0.5,
        0.5,
        Some(-1.3),
    );
    assert!((prev - 1.0118503677403632).abs() < 1e-6, "{prev}");
    // η > 0 without noise is an error, never a silent η = 0.
    assert!(matches!(
        s.step(&scalar(0.5), 2, &scalar(1.0), 0.5, None),
        Err(SamplingError::MissingNoise(_))
    ));
    // A seeded generator makes η > 0 reproducible.
    let a = s
        .step_with_rng(
            &scalar(0.5),
            2,
            &scalar(1.0),
            1.0,
            &mut GaussianSeeds::new(RngName::ChaCha20, 3),
        )
        .unwrap();
    let b = s
        .step_with_rng(
            &scalar(0.5),
            2,
            &scalar(1.0),
            1.0,
            &mut GaussianSeeds::new(RngName::ChaCha20, 3),
        )
        .unwrap();
    let c = s
        .step_with_rng(
            &scalar(0.5),
            2,
            &scalar(1.0),
            1.0,
            &mut GaussianSeeds::new(RngName::ChaCha20, 4),
        )
        .unwrap();
    assert_eq!(a, b);
    assert_ne!(a.prev_sample, c.prev_sample);
}

#[test]
fn last_step_lands_on_the_final_alpha() {
    // From t = 0 the previous timestep is −2: ᾱ_prev = 1 (set_alpha_to_one) gives x̂₀ itself;
    // otherwise ᾱ_prev = ᾱ₀ = 0.9 and the step from t = 0 to "ᾱ₀" leaves x unchanged.
    for (to_one, expect_x0) in [(true, true), (false, false)] {
        let mut s = DdimScheduler::new(toy(PredictionType::Epsilon, false, to_one)).unwrap();
        s.set_timesteps(2).unwrap();
        let out = s.step(&scalar(0.5), 0, &scalar(1.0), 0.0, None).unwrap();
        let (prev, x0) = (out.prev_sample.data[0], out.pred_original_sample.data[0]);
        if expect_x0 {
            assert_eq!(prev, x0);
        } else {
            assert!((prev - 1.0).abs() < 1e-6, "{prev}");
        }
    }
}

#[test]
fn inverse_step_undoes_a_forward_step_for_a_fixed_model_output() {
    // With the same ε̂ on both sides the forward step t = 2 → 0 and the inverse step 0 → 2 are
    // exact inverses (x̂₀ is recovered, then re-noised with the same ε̂).
    let c = toy(PredictionType::Epsilon, false, false);
    let mut fwd = DdimScheduler::new(c.clone()).unwrap();
    let mut inv = DdimInverseScheduler::new(c).unwrap();
    fwd.set_timesteps(2).unwrap();
    assert_eq!(inv.set_timesteps(2).unwrap(), &[0, 2]);
    let x = Tensor::new(vec![1, 1, 1, 3], vec![0.8, -1.2, 0.1]).unwrap();
    let eps = Tensor::new(vec![1, 1, 1, 3], vec![0.3, -0.4, 1.1]).unwrap();
    let down = fwd.step(&eps, 2, &x, 0.0, None).unwrap().prev_sample;
    let up = inv.step(&eps, 2, &down).unwrap().prev_sample;
    for (a, b) in up.data.iter().zip(&x.data) {
        assert!((a - b).abs() < 1e-6, "{a} vs {b}");
    }
}

#[test]
fn inverse_first_step_uses_the_initial_alpha() {
    // set_alpha_to_one: the first step starts from ᾱ = 1, so x̂₀ = x and x_t = √ᾱ₀·x + √(1−ᾱ₀)·ε.
    let mut inv = DdimInverseScheduler::new(toy(PredictionType::Epsilon, false, true)).unwrap();
    inv.set_timesteps(2).unwrap();
    let out = inv.step(&scalar(0.5), 0, &scalar(1.0)).unwrap();
    let expected = 0.9f64.sqrt() + 0.1f64.sqrt() * 0.5;
    assert!((out.prev_sample.data[0] as f64 - expected).abs() < 1e-6);
    assert_eq!(out.pred_original_sample.data[0], 1.0);
    // Without it, from ᾱ₀ to ᾱ₀: the identity.
    let mut inv = DdimInverseScheduler::new(toy(PredictionType::Epsilon, false, false)).unwrap();
    inv.set_timesteps(2).unwrap();
    let out = inv.step(&scalar(0.5), 0, &scalar(1.0)).unwrap();
    assert!((out.prev_sample.data[0] - 1.0).abs() < 1e-6);
}

#[test]
fn bad_steps_are_errors_not_panics() {
    let mut s = DdimScheduler::new(toy(PredictionType::Epsilon, false, true)).unwrap();
    assert!(matches!(
        s.step(&scalar(0.0), 2, &scalar(0.0), 0.0, None),
        Err(SamplingError::TimestepsNotSet)
    ));
    s.set_timesteps(2).unwrap();
    assert!(matches!(
        s.step(&scalar(0.0), 4, &scalar(0.0), 0.0, None),
        Err(SamplingError::TimestepOutOfRange { .. })
    ));
    assert!(matches!(
        s.step(&scalar(0.0), -1, &scalar(0.0), 0.0, None),
        Err(SamplingError::TimestepOutOfRange { .. })
    ));
    let two = Tensor::zeros(vec![1, 1, 1, 2]);
    assert!(matches!(
        s.step(&two, 2, &scalar(0.0), 0.0, None),
        Err(SamplingError::Shape(_))
    ));
    let broken = Tensor {
        shape: vec![1, 1, 1, 5],
        data: vec![0.0; 2],
    };
    assert!(matches!(
        s.step(&broken, 2, &broken, 0.0, None),
        Err(SamplingError::Shape(_))
    ));
    assert!(s.step(&scalar(0.0), 2, &scalar(0.0), -1.0, None).is_err());
    assert!(s
        .step(&scalar(0.0), 2, &scalar(0.0), f64::NAN, None)
        .is_err());
    let inv = DdimInverseScheduler::new(toy(PredictionType::Epsilon, false, true)).unwrap();
    assert!(matches!(
        inv.step(&scalar(0.0), 2, &scalar(0.0)),
        Err(SamplingError::TimestepsNotSet)
    ));
}
