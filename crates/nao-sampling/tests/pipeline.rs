//! The sampling loop on a mock backend with an analytic (Gaussian-data) noise predictor:
//! classifier-free-guidance batching and formula, callbacks and cancellation, η > 0
//! determinism, batches, and the DDIM ODE's closed-form solution.

use nao_test_support as common;

use std::ops::ControlFlow;

use common::{max_abs_diff, seeds, AnalyticBackend, DATA_STD};
use nao_backend::{Backend, Conditioning, Tensor};
use nao_prior::{GaussianSeeds, RngName};
use nao_sampling::{
    encode_prompt, no_progress, sample, DdimScheduler, Direction, GuidedPredictor, SampleOptions,
    SamplingError, VarianceNoise,
};

const PROMPT: &str = "a photo of a cat";

#[test]
fn options_defaults_are_diffusers_defaults() {
    let o = SampleOptions::default();
    assert_eq!(o.steps, 50);
    assert_eq!(o.guidance_scale, 7.5);
    assert_eq!(o.eta, 0.0);
    assert_eq!(o.negative_prompt, "");
    assert!(o.uses_guidance());
    assert!(!o.clone().with_guidance_scale(1.0).uses_guidance());
    assert!(o.clone().with_eta(-0.1).check().is_err());
    assert!(o
        .clone()
        .with_guidance_scale(f64::INFINITY)
        .check()
        .is_err());
    let provided = o
        .with_eta(1.0)
        .with_steps(3)
        .with_noise(VarianceNoise::Provided(vec![]));
    assert!(provided.check().is_err());
}

#[test]
fn guidance_batches_uncond_then_cond_in_one_call() {
    let backend = AnalyticBackend::new();
    let options = SampleOptions::default()
        .with_steps(5)
        .with_negative_prompt("blurry");
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let x = seeds(2, 4, 4, 1);
    sample(&backend, &x, &cond, &options, no_progress).unwrap();
    let calls = backend.calls.borrow();
    assert_eq!(calls.len(), 5, "one backend call per step");
    let mut scheduler = DdimScheduler::new(backend.info().scheduler.clone()).unwrap();
    let timesteps = scheduler.set_timesteps(5).unwrap();
    let (u, c) = (
        AnalyticBackend::prompt_mean("blurry"),
        AnalyticBackend::prompt_mean(PROMPT),
    );
    let expected_context: Vec<f32> = [u, u, c, c].concat();
    for (call, &t) in calls.iter().zip(timesteps) {
        assert_eq!(call.batch, 4, "2b latents: [x; x]");
        assert_eq!(call.timesteps, vec![t; 4]);
        assert_eq!(call.context.shape, vec![4, 1, 4]);
        assert_eq!(
            call.context.data, expected_context,
            "[uncond, uncond, cond, cond]"
        );
    }
}

#[test]
fn guidance_at_most_one_runs_no_unconditional_pass() {
    let backend = AnalyticBackend::new();
    for g in [1.0, 0.5] {
        backend.calls.borrow_mut().clear();
        let options = SampleOptions::default()
            .with_steps(3)
            .with_guidance_scale(g);
        let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
        assert!(cond.uncond.is_none());
        sample(&backend, &seeds(3, 4, 4, 2), &cond, &options, no_progress).unwrap();
        for call in backend.calls.borrow().iter() {
            assert_eq!(call.batch, 3);
        }
    }
    // Guidance on but no unconditional embeddings: a clear error.
    let cond = backend.encode_prompt(PROMPT, "", false).unwrap();
    let err = sample(
        &backend,
        &seeds(1, 4, 4, 2),
        &cond,
        &SampleOptions::default().with_steps(3),
        no_progress,
    )
    .unwrap_err();
    assert!(
        matches!(err, SamplingError::MissingUncond(g) if g == 7.5),
        "{err}"
    );
}

#[test]
fn guided_prediction_is_uncond_plus_g_times_difference() {
    let backend = AnalyticBackend::new();
    let cond = backend.encode_prompt(PROMPT, "", true).unwrap();
    let x = seeds(2, 4, 4, 3);
    let g = 7.5;
    let guided = GuidedPredictor::new(&cond, 2, g)
        .unwrap()
        .predict(&backend, &x, 501)
        .unwrap();
    let single = |ctx: &Tensor| {
        let ctx = Tensor::concat(&[ctx.clone(), ctx.clone()]).unwrap();
        backend.predict_noise(&x, &[501, 501], &ctx).unwrap()
    };
    let (eu, ec) = (single(cond.uncond.as_ref().unwrap()), single(&cond.cond));
    let expected: Vec<f32> = eu
        .data
        .iter()
        .zip(&ec.data)
        .map(|(&u, &c)| u + g as f32 * (c - u))
        .collect();
    assert_eq!(guided.data, expected, "bit-exact f32 CFG");
}

#[test]
fn sampling_equals_a_hand_written_scheduler_loop() {
    let backend = AnalyticBackend::new();
    let options = SampleOptions::default().with_steps(10);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let x = seeds(1, 4, 4, 4);
    let out = sample(&backend, &x, &cond, &options, no_progress).unwrap();
    let mut s = DdimScheduler::new(backend.info().scheduler.clone()).unwrap();
    let ts = s.set_timesteps(10).unwrap().to_vec();
    let p = GuidedPredictor::new(&cond, 1, 7.5).unwrap();
    let mut lat = x.clone();
    for t in ts {
        let eps = p.predict(&backend, &lat, t).unwrap();
        lat = s.step(&eps, t, &lat, 0.0, None).unwrap().prev_sample;
    }
    assert_eq!(out, lat);
}

#[test]
fn callback_sees_every_step_and_can_cancel() {
    let backend = AnalyticBackend::new();
    let options = SampleOptions::default().with_steps(10);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let x = seeds(2, 4, 4, 5);
    let mut seen = Vec::new();
    let mut last = None;
    let out = sample(&backend, &x, &cond, &options, |p| {
        assert_eq!(p.direction, Direction::Sampling);
        assert_eq!(p.total, 10);
        assert_eq!(p.latents.shape, vec![2, 4, 4, 4]);
        assert_eq!(p.pred_original.shape, vec![2, 4, 4, 4]);
        seen.push((p.index, p.timestep));
        last = Some(p.latents.clone());
        ControlFlow::Continue(())
    })
    .unwrap();
    let expected: Vec<(usize, f64)> = (0..10).map(|i| (i, 901.0 - 100.0 * i as f64)).collect();
    assert_eq!(seen, expected);
    assert_eq!(last.unwrap(), out, "the last report holds the result");

    backend.calls.borrow_mut().clear();
    let err = sample(&backend, &x, &cond, &options, |p| {
        if p.index == 3 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap_err();
    assert!(matches!(err, SamplingError::Cancelled));
    assert_eq!(backend.call_count(), 4, "no model call after cancelling");
}

#[test]
fn eta_above_zero_is_deterministic_per_seed() {
    let backend = AnalyticBackend::new();
    let base = SampleOptions::default().with_steps(8).with_eta(0.7);
    let cond = encode_prompt(&backend, PROMPT, &base).unwrap();
    let x = seeds(2, 4, 4, 6);
    let run = |o: &SampleOptions| sample(&backend, &x, &cond, o, no_progress).unwrap();
    let seeded = |seed| {
        base.clone().with_noise(VarianceNoise::Seeded {
            rng: RngName::ChaCha20,
            seed,
        })
    };
    let a = run(&seeded(11));
    assert_eq!(a, run(&seeded(11)));
    let b = run(&seeded(12));
    assert!(max_abs_diff(&a, &b) > 1e-3, "another seed, other noise");
    let deterministic = run(&base.clone().with_eta(0.0));
    assert!(max_abs_diff(&a, &deterministic) > 1e-3, "η > 0 adds noise");

    // Providing the same draws by hand gives the same result as the seeded generator.
    let mut g = GaussianSeeds::new(RngName::ChaCha20, 11);
    let noise: Vec<Tensor> = (0..8)
        .map(|_| Tensor::new(x.shape.clone(), g.seed(x.len())).unwrap())
        .collect();
    let provided = run(&base.clone().with_noise(VarianceNoise::Provided(noise)));
    assert_eq!(provided, a);

    // With η = 0 the noise source is never used.
    let zero_eta = base.clone().with_eta(0.0);
    assert_eq!(
        run(&zero_eta.clone().with_noise(VarianceNoise::Provided(vec![]))),
        deterministic
    );
    assert_eq!(
        run(&zero_eta.with_noise(VarianceNoise::Seeded {
            rng: RngName::ChaCha8,
            seed: 9
        })),
        deterministic
    );
}

#[test]
fn a_batch_samples_like_its_items() {
    let backend = AnalyticBackend::new();
    let options = SampleOptions::default().with_steps(6);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let x = seeds(3, 4, 4, 7);
    let batch = sample(&backend, &x, &cond, &options, no_progress).unwrap();
    for i in 0..3 {
        let one = sample(&backend, &x.item(i).unwrap(), &cond, &options, no_progress).unwrap();
        assert_eq!(one, batch.item(i).unwrap());
    }
    // One prompt per seed: a conditioning batch equal to the seeds' batch.
    let per_seed = Conditioning {
        cond: Tensor::concat(&[
            backend.encode_prompt("a", "", false).unwrap().cond,
            backend.encode_prompt("b", "", false).unwrap().cond,
            backend.encode_prompt("c", "", false).unwrap().cond,
        ])
        .unwrap(),
        uncond: None,
    };
    let o1 = options.clone().with_guidance_scale(1.0);
    let mixed = sample(&backend, &x, &per_seed, &o1, no_progress).unwrap();
    let b_only = backend.encode_prompt("b", "", false).unwrap();
    let one = sample(&backend, &x.item(1).unwrap(), &b_only, &o1, no_progress).unwrap();
    assert_eq!(one, mixed.item(1).unwrap());
}

/// Max deviation of DDIM sampling (`steps` steps, no guidance) from the exact ODE end point.
fn deviation_from_exact_ode(steps: usize) -> f64 {
    let backend = AnalyticBackend::new();
    let options = SampleOptions::default()
        .with_guidance_scale(1.0)
        .with_steps(steps);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let mu = AnalyticBackend::prompt_mean(PROMPT);
    let x = seeds(2, 8, 8, 8);
    let out = sample(&backend, &x, &cond, &options, no_progress).unwrap();
    let mut s = DdimScheduler::new(backend.info().scheduler.clone()).unwrap();
    let first = s.set_timesteps(steps).unwrap()[0] as usize;
    let a = &backend.alphas_cumprod;
    let (a_start, a_end) = (a[first], s.final_alpha_cumprod());
    let s2 = DATA_STD * DATA_STD;
    let hw = 64;
    let mut err: f64 = 0.0;
    for (k, (&xt, &x0)) in x.data.iter().zip(&out.data).enumerate() {
        let m = mu[(k / hw) % 4] as f64;
        let z = (xt as f64 - a_start.sqrt() * m) / (a_start * s2 + 1.0 - a_start).sqrt();
        let exact = a_end.sqrt() * m + (a_end * s2 + 1.0 - a_end).sqrt() * z;
        err = err.max((x0 as f64 - exact).abs());
    }
    err
}

#[test]
fn ddim_follows_the_closed_form_ode_of_gaussian_data() {
    // For data N(μ, S²) the probability-flow ODE keeps z = (x − √ᾱ·μ)/√(ᾱS² + 1 − ᾱ) constant.
    // DDIM is a first-order discretisation of it: the error to the exact end point halves when
    // the steps double. Measured (|z| ≤ 3.3): 9.3e-2 at 50 steps, 2.5e-2 at 200.
    let e50 = deviation_from_exact_ode(50);
    let e200 = deviation_from_exact_ode(200);
    assert!(e50 < 0.12, "50 steps: {e50:e}");
    assert!(e200 < 0.03, "200 steps: {e200:e}");
    assert!(
        e200 < 0.3 * e50,
        "first-order convergence: {e50:e} → {e200:e}"
    );
}

#[test]
fn bad_inputs_are_errors() {
    let backend = AnalyticBackend::new();
    let options = SampleOptions::default().with_steps(2);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let run = |x: &Tensor, c: &Conditioning| sample(&backend, x, c, &options, no_progress);
    // Wrong channel count, missing batch axis, empty batch, inconsistent data.
    for x in [
        Tensor::zeros(vec![1, 3, 4, 4]),
        Tensor::zeros(vec![4, 4, 4]),
        Tensor::zeros(vec![0, 4, 4, 4]),
        Tensor {
            shape: vec![1, 4, 4, 4],
            data: vec![0.0; 3],
        },
    ] {
        assert!(
            matches!(run(&x, &cond), Err(SamplingError::Shape(_))),
            "{:?}",
            x.shape
        );
    }
    // A conditioning batch that is neither 1 nor b.
    let two = Conditioning {
        cond: Tensor::zeros(vec![2, 1, 4]),
        uncond: Some(Tensor::zeros(vec![2, 1, 4])),
    };
    assert!(matches!(
        run(&seeds(3, 4, 4, 0), &two),
        Err(SamplingError::Shape(_))
    ));
    // Too many steps for the model's 1000 training timesteps.
    let err = sample(
        &backend,
        &seeds(1, 4, 4, 0),
        &cond,
        &options.clone().with_steps(5000),
        no_progress,
    );
    assert!(matches!(err, Err(SamplingError::InvalidOption(_))));
}
