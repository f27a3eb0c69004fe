//! The samplers against diffusers 0.42.1 (`scripts/make_scheduler_fixtures.py`, references in
//! `tests/fixtures/schedulers/`), without a neural network:
//!
//! - their timesteps, σs and `init_noise_sigma` for several configs and step counts;
//! - whole sampling runs driven by a synthetic model (`0.25·x + 0.1·cos(t/97)`, exact in f32),
//!   which check each sampler's arithmetic alone, for ε and v prediction and many options;
//! - the errors for what they cannot do.

use std::cell::Cell;

use nao_backend::{
    Backend, BackendError, Capabilities, Conditioning, ModelInfo, SchedulerConfig, Tensor,
};
use nao_sampling::{
    new_scheduler, no_progress, sample, SampleOptions, SamplingError, SchedulerChoice,
    SchedulerKind, VarianceNoise,
};
use nao_test_support::schedulers;
use serde_json::Value;

/// The synthetic model of the references: `0.25·x + 0.1·cos(t/97)`, at any timestep.
struct Synthetic {
    info: ModelInfo,
    calls: Cell<usize>,
}

impl Synthetic {
    fn new(scheduler: SchedulerConfig) -> Self {
        Self {
            info: ModelInfo {
                name: "synthetic".into(),
                vae_scaling_factor: 1.0,
                latent_channels: 4,
                vae_downsample: 8,
                default_image_size: (64, 64),
                image_channels: 3,
                fixed_image_size: false,
                scheduler,
            },
            calls: Cell::new(0),
        }
    }
}

impl Backend for Synthetic {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            text_encoder: true,
            vae_encoder: false,
            vae_decoder: false,
        }
    }

    fn encode_prompt(
        &self,
        _: &str,
        _: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        let t = Tensor::zeros(vec![1, 1, 1]);
        Ok(Conditioning {
            cond: t.clone(),
            uncond: with_uncond.then_some(t),
        })
    }

    fn predict_noise(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        let t: Vec<f64> = timesteps.iter().map(|&t| t as f64).collect();
        self.predict_noise_at(latents, &t, context)
    }

    fn predict_noise_at(
        &self,
        latents: &Tensor,
        timesteps: &[f64],
        _: &Tensor,
    ) -> Result<Tensor, BackendError> {
        self.calls.set(self.calls.get() + 1);
        let k = (0.1 * (timesteps[0] / 97.0).cos()) as f32;
        Ok(Tensor {
            shape: latents.shape.clone(),
            data: latents.data.iter().map(|&x| 0.25f32 * x + k).collect(),
        })
    }

    fn encode_image(&self, _: &Tensor) -> Result<Tensor, BackendError> {
        Err(BackendError::Unsupported("VAE encoder"))
    }

    fn decode_latents(&self, _: &Tensor) -> Result<Tensor, BackendError> {
        Err(BackendError::Unsupported("VAE decoder"))
    }
}

fn initial_latents() -> Tensor {
    nao_test_support::read_tensor(nao_test_support::shared(
        "fixtures/tiny-sd1/reference/initial_latents.npy",
    ))
}

fn relative_diff(got: &Tensor, expected: &Tensor) -> (f64, f64) {
    let d = nao_test_support::max_abs_diff(got, expected);
    let scale = nao_test_support::max_abs(expected) as f64;
    (d, d / scale.max(1.0))
}

#[test]
fn synthetic_runs_match_diffusers() {
    let cases: Vec<_> = schedulers::cases()
        .into_iter()
        .filter(|c| c.kind == "synthetic")
        .collect();
    assert!(cases.len() >= 30, "{} synthetic cases", cases.len());
    let noise = VarianceNoise::Provided(schedulers::ancestral_noise());
    let steps = schedulers::steps();
    let mut worst = 0.0f64;
    for case in &cases {
        let config = schedulers::synthetic_config(case);
        let model = Synthetic::new(config);
        let options = SampleOptions::default()
            .with_steps(steps)
            .with_guidance_scale(1.0)
            .with_noise(noise.clone());
        let cond = model.encode_prompt("", "", false).unwrap();
        let got = sample(&model, &initial_latents(), &cond, &options, no_progress)
            .unwrap_or_else(|e| panic!("{}: {e}", case.sampler));
        let (d, rel) = relative_diff(&got, &case.expected);
        eprintln!(
            "{:<24} max |Δ| {d:.2e} (relative {rel:.2e}), {} model calls",
            case.sampler,
            model.calls.get()
        );
        assert!(
            rel < 2e-6,
            "{}: differs by {d:e} (relative {rel:e})",
            case.sampler
        );
        worst = worst.max(rel);
    }
    eprintln!("worst relative difference {worst:.2e}");
}

fn f32s(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

#[test]
fn timesteps_and_sigmas_match_diffusers() {
    let manifest = schedulers::manifest();
    let entries = schedulers::schedules();
    assert!(entries.len() >= 80);
    let mut refused = 0;
    let mut worst_sigma = 0.0f64;
    for e in &entries {
        let what = format!(
            "{} on {} with {} steps",
            e["sampler"], e["config"], e["steps"]
        );
        let config = schedulers::config_with(
            &manifest["base_config"],
            e["class"].as_str().unwrap(),
            &manifest["schedule_configs"][e["config"].as_str().unwrap()],
            &e["options"],
        );
        let mut s = new_scheduler(&config, None, 0.0).unwrap_or_else(|err| panic!("{what}: {err}"));
        let expected = f32s(&e["timesteps"]);
        let set = s.set_timesteps(e["steps"].as_u64().unwrap() as usize);
        if expected[1..].contains(&expected[0]) {
            // diffusers would start such a walk at the second occurrence of its first timestep
            // and index past its σs at the end; nao refuses the grid
            let err = set.unwrap_err().to_string();
            assert!(err.contains("twice"), "{what}: {err}");
            // only the cosine schedule's huge σ_max crowds Karras σs at the start
            assert_eq!(e["config"], "cosine", "{what}");
            refused += 1;
            continue;
        }
        set.unwrap_or_else(|err| panic!("{what}: {err}"));
        let got: Vec<f32> = s.timesteps().iter().map(|&t| t as f32).collect();
        assert_eq!(got.len(), expected.len(), "{what}: timesteps {got:?}");
        for (g, x) in got.iter().zip(&expected) {
            // Integer timesteps are exact. Fractional ones (Karras σ in Euler, Heun, LMS) may
            // differ in the last float32 bit: numpy's float32 log of the training σs is not
            // always correctly rounded, and nao's is.
            let tol = if x.fract() == 0.0 {
                0.0
            } else {
                2.0 * f32::EPSILON * x
            };
            assert!(
                (g - x).abs() <= tol,
                "{what}: timesteps {got:?}, diffusers {expected:?}"
            );
        }
        let expected = e["init_noise_sigma"].as_f64().unwrap() as f32;
        let ins = s.init_noise_sigma();
        assert!(
            (ins - expected).abs() <= 2.0 * f32::EPSILON * expected,
            "{what}: init_noise_sigma {ins} vs {expected}"
        );
        if e.get("sigmas").is_some() {
            let expected = f32s(&e["sigmas"]);
            let got = s.sigmas();
            assert_eq!(got.len(), expected.len(), "{what}: σ count");
            // 2 float32 ulps; zero-SNR rescaling computes ᾱ through a chain of float32
            // operations that nao orders a little differently (see docs/pipeline.md)
            let tol = if e["config"] == "zero-snr" {
                1e-5
            } else {
                2.0 * f32::EPSILON
            };
            for (i, (g, x)) in got.iter().zip(&expected).enumerate() {
                let rel = ((g - x).abs() / x.abs().max(f32::MIN_POSITIVE)) as f64;
                worst_sigma = worst_sigma.max(rel);
                assert!(
                    (g - x).abs() <= tol * x.abs(),
                    "{what}: σ[{i}] = {g}, diffusers {x}"
                );
            }
        }
    }
    assert!(refused <= 3, "{refused} grids refused");
    eprintln!("largest relative σ difference {worst_sigma:.2e}");
}

fn sd1() -> SchedulerConfig {
    nao_test_support::sd1_scheduler()
}

fn choice(name: &str) -> SchedulerChoice {
    name.parse().unwrap()
}

fn err(config: &SchedulerConfig, name: Option<&str>, steps: usize) -> String {
    let choice = name.map(choice);
    match new_scheduler(config, choice.as_ref(), 0.0) {
        Err(e) => e.to_string(),
        Ok(mut s) => s.set_timesteps(steps).unwrap_err().to_string(),
    }
}

fn with(json: &str) -> SchedulerConfig {
    SchedulerConfig::from_json(json).unwrap()
}

#[test]
fn bad_input_gets_errors_naming_the_culprit() {
    // an unknown scheduler class, in the config or by name
    let e = err(
        &with(r#"{"_class_name": "KDPM2AncestralDiscreteScheduler"}"#),
        None,
        10,
    );
    assert!(
        e.contains("KDPM2AncestralDiscreteScheduler") && e.contains("unknown"),
        "{e}"
    );
    let e = "ddpm".parse::<SchedulerChoice>().unwrap_err().to_string();
    assert!(e.contains("'ddpm'"), "{e}");
    // a prediction type the class lacks
    let x0 = with(r#"{"prediction_type": "sample"}"#);
    for name in ["euler-ancestral", "pndm"] {
        let e = err(&x0, Some(name), 10);
        assert!(
            e.contains("sample") && e.contains("does not support"),
            "{name}: {e}"
        );
    }
    // options and orders the samplers lack
    for (json, name, culprit) in [
        (
            r#"{"algorithm_type": "sde-dpmsolver++"}"#,
            "dpm++2m",
            "sde-dpmsolver++",
        ),
        (r#"{"solver_order": 4}"#, "dpm++2m", "solver_order = 4"),
        (r#"{"solver_order": 0}"#, "unipc", "solver_order = 0"),
        (r#"{"solver_order": 5}"#, "deis", "solver_order = 5"),
        (r#"{"solver_type": "bh3"}"#, "unipc", "bh3"),
        (
            r#"{"use_exponential_sigmas": true}"#,
            "euler",
            "use_exponential_sigmas",
        ),
        (r#"{"use_beta_sigmas": true}"#, "dpm++2m", "use_beta_sigmas"),
        (
            r#"{"interpolation_type": "log_linear"}"#,
            "euler",
            "log_linear",
        ),
        (
            r#"{"final_sigmas_type": "one"}"#,
            "unipc",
            "final_sigmas_type",
        ),
        (
            r#"{"variance_type": "learned_range"}"#,
            "dpm++2m",
            "variance_type",
        ),
        (
            r#"{"algorithm_type": "dpmsolver"}"#,
            "dpm++2m",
            "final_sigmas_type",
        ),
        (
            r#"{"use_karras_sigmas": "yes"}"#,
            "euler",
            "use_karras_sigmas",
        ),
    ] {
        let e = err(&with(json), Some(name), 10);
        assert!(e.contains(culprit), "{json} with {name}: {e}");
    }
    assert!(SchedulerChoice::from_name("pndm-karras")
        .unwrap_err()
        .to_string()
        .contains("PNDMScheduler"));
    // steps out of range, for every sampler
    for kind in SchedulerKind::ALL {
        let name = kind.short_name();
        for steps in [0, 1001] {
            let e = err(&sd1(), Some(name), steps);
            assert!(e.contains(&steps.to_string()), "{name}, {steps} steps: {e}");
        }
    }
    let e = err(&sd1(), Some("pndm"), 3);
    assert!(e.contains("at least 4"), "{e}");
    // η is DDIM's
    let e = new_scheduler(&sd1(), Some(&choice("heun")), 0.3)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("eta") && e.contains("HeunDiscreteScheduler"),
        "{e}"
    );
}

#[test]
fn the_config_names_the_scheduler_and_a_choice_overrides_it() {
    let pndm = with(
        r#"{"_class_name": "PNDMScheduler", "skip_prk_steps": true, "steps_offset": 1,
            "beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012}"#,
    );
    let s = new_scheduler(&pndm, None, 0.0).unwrap();
    assert_eq!((s.kind(), s.name().as_str()), (SchedulerKind::Pndm, "plms"));
    let s = new_scheduler(&pndm, Some(&choice("EulerDiscreteScheduler")), 0.0).unwrap();
    assert_eq!(s.kind(), SchedulerKind::Euler);
    let karras = with(
        r#"{"_class_name": "DPMSolverMultistepScheduler", "use_karras_sigmas": true,
        "lambda_min_clipped": "-Infinity"}"#,
    );
    assert_eq!(
        new_scheduler(&karras, None, 0.0).unwrap().name(),
        "dpm++2m-karras"
    );
    // the model's Karras σs carry over to another class, as from_config passes them on
    assert_eq!(
        new_scheduler(&karras, Some(&choice("unipc")), 0.0)
            .unwrap()
            .name(),
        "unipc-karras"
    );
    // steps come in order
    let mut s = new_scheduler(&sd1(), Some(&choice("dpm++2m")), 0.0).unwrap();
    s.set_timesteps(5).unwrap();
    let x = Tensor::zeros(vec![1, 4, 2, 2]);
    let e = s
        .step(&x, 1, &x, &mut nao_sampling::StepNoise::none())
        .unwrap_err();
    assert!(matches!(e, SamplingError::InvalidOption(_)), "{e}");
}

#[test]
fn every_sampler_calls_the_model_as_diffusers_does() {
    let steps = 10;
    for (name, calls) in [
        ("ddim", 10),
        ("pndm", 19), // 12 Runge–Kutta calls for 3 steps, then 7
        ("plms", 11),
        ("euler", 10),
        ("euler-ancestral", 10),
        ("heun", 19),
        ("dpm++2m", 10),
        ("dpm++2m-karras", 10),
        ("deis", 10),
        ("unipc", 10),
        ("lms", 10),
    ] {
        let options = SampleOptions::default()
            .with_steps(steps)
            .with_guidance_scale(1.0)
            .with_scheduler(choice(name));
        assert_eq!(options.model_calls(&sd1()).unwrap(), calls, "{name}");
        let model = Synthetic::new(sd1());
        let cond = model.encode_prompt("", "", false).unwrap();
        let mut seen = 0;
        let out = sample(&model, &initial_latents(), &cond, &options, |p| {
            assert_eq!(p.total, calls);
            seen += 1;
            std::ops::ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!((model.calls.get(), seen), (calls, calls), "{name}");
        assert!(out.data.iter().all(|v| v.is_finite()), "{name}");
    }
}
