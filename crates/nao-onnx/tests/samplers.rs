//! The samplers through the ONNX export of the tiny SD 1.x model against diffusers' pipeline
//! on the torch model (`scripts/make_scheduler_fixtures.py`), guidance 7.5 and 1 — the twin of
//! nao-sd's `samplers.rs`, through ONNX Runtime's UNet. The export's UNet takes int64
//! timesteps, so the samplers whose timesteps are fractional (Euler with Karras σ) are
//! refused with an error naming the timestep.
//!
//! Needs `ORT_DYLIB_PATH` (`cargo xtask setup-ort`); fails with that hint when it is unset.

mod common;

use common::{onnx_dir, reference};
use nao_backend::BackendError;
use nao_onnx::{OnnxBackend, OnnxOptions};
use nao_sampling::{no_progress, sample, SampleOptions, SamplingError, VarianceNoise};
use nao_test_support::{max_abs, max_abs_diff, ort_library, schedulers};

#[test]
fn samplers_through_onnx_match_diffusers() {
    let options = OnnxOptions::default()
        .with_threads(1)
        .with_library_path(ort_library());
    let model = OnnxBackend::load(onnx_dir(), &options).unwrap();
    let init = reference("initial_latents.npy");
    let noise = VarianceNoise::Provided(schedulers::ancestral_noise());
    let mut checked = 0;
    for case in schedulers::cases() {
        if case.model.as_deref() != Some("tiny-sd1") {
            continue;
        }
        let options = SampleOptions::default()
            .with_steps(schedulers::steps())
            .with_guidance_scale(case.guidance)
            .with_scheduler(case.sampler.parse().unwrap())
            .with_noise(noise.clone());
        let cond =
            nao_sampling::encode_prompt(&model, &schedulers::prompt("tiny-sd1"), &options).unwrap();
        let got = sample(&model, &init, &cond, &options, no_progress);
        if case.sampler.ends_with("-karras") && case.sampler != "dpm++2m-karras" {
            let e = got.unwrap_err();
            assert!(
                matches!(
                    e,
                    SamplingError::Backend(BackendError::FractionalTimestep(_))
                ),
                "{}: {e}",
                case.sampler
            );
            continue;
        }
        let got = got.unwrap_or_else(|e| panic!("{}: {e}", case.sampler));
        let d = max_abs_diff(&got, &case.expected);
        eprintln!(
            "{:<16} gs {:<4} max |Δ| {d:.2e} (max |x| {:.1})",
            case.sampler,
            case.guidance,
            max_abs(&case.expected)
        );
        assert!(
            d <= 1e-4,
            "{} at guidance {}: {d:e}",
            case.sampler,
            case.guidance
        );
        checked += 1;
    }
    assert!(checked >= 20, "{checked} cases");
}
