//! Every sampler of nao-sampling on nao-sd against diffusers 0.42.1's `StableDiffusionPipeline`
//! with the same scheduler (`scripts/make_scheduler_fixtures.py`; references in
//! `crates/nao-sampling/tests/fixtures/schedulers/`): the shared tiny SD 1.x model (ε
//! prediction) at guidance 7.5 and 1, and this crate's sd2-v fixture (v-prediction) at 7.5,
//! 10 steps, each chosen by its `--scheduler` name on the model's own (DDIM) config, as a user
//! switches schedulers in diffusers (`Class.from_config(pipe.scheduler.config, …)`).

mod common;

use std::path::Path;

use common::{compare, load, own, tiny_sd1};
use nao_backend::Tensor;
use nao_sampling::{no_progress, sample, SampleOptions, SchedulerChoice, VarianceNoise};
use nao_sd::{SdOptions, StableDiffusion};
use nao_test_support::schedulers;

/// The largest difference allowed, absolute, on final latents of up to |x| ≈ 30.
const TOLERANCE: f64 = 1e-4;

fn initial_latents(model: &str) -> Tensor {
    match model {
        "tiny-sd1" => nao_test_support::read_tensor(nao_test_support::shared(Path::new(
            "fixtures/tiny-sd1/reference/initial_latents.npy",
        ))),
        _ => nao_test_support::read_tensor(own(model).join("reference/initial_latents.npy")),
    }
}

#[test]
fn every_sampler_matches_diffusers() {
    let tiny = load(&tiny_sd1(), &SdOptions::default());
    let sd2 = load(&own("sd2-v"), &SdOptions::default().with_variant("fp16"));
    let noise = VarianceNoise::Provided(schedulers::ancestral_noise());
    let mut report = Vec::new();
    let mut worst = 0.0f64;
    let cases: Vec<_> = schedulers::cases()
        .into_iter()
        .filter(|c| c.kind == "model")
        .collect();
    assert!(cases.len() >= 30, "{} model cases", cases.len());
    for case in &cases {
        let name = case.model.as_deref().unwrap();
        let model: &StableDiffusion = if name == "tiny-sd1" { &tiny } else { &sd2 };
        let choice: SchedulerChoice = case.sampler.parse().unwrap();
        let options = SampleOptions::default()
            .with_steps(schedulers::steps())
            .with_guidance_scale(case.guidance)
            .with_scheduler(choice)
            .with_noise(noise.clone());
        let cond = nao_sampling::encode_prompt(model, &schedulers::prompt(name), &options).unwrap();
        let got = sample(model, &initial_latents(name), &cond, &options, no_progress)
            .unwrap_or_else(|e| panic!("{name}, {}: {e}", case.sampler));
        let (d, scale) = compare(&got, &case.expected);
        let line = format!(
            "{name:<9} {:<16} gs {:<4} max |Δ| {d:.2e} (max |x| {scale:.1})",
            case.sampler, case.guidance
        );
        eprintln!("{line}");
        report.push((line, d));
        worst = worst.max(d);
    }
    let bad: Vec<&String> = report
        .iter()
        .filter(|(_, d)| *d > TOLERANCE)
        .map(|(l, _)| l)
        .collect();
    assert!(bad.is_empty(), "beyond {TOLERANCE:e}: {bad:#?}");
    eprintln!("worst {worst:.2e}");
}
