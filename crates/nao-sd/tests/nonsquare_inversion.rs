//! A non-square image inverted at its own size (`ResizePolicy::None`) on the shared tiny SD 1.x
//! diffusers folder, against diffusers doing the same (the reference of nao-inversion's
//! `tests/data/nonsquare/`, made by `scripts/make_nonsquare_inversion_reference.py`): the twin
//! of nao-inversion's ONNX test.

mod common;

use std::path::PathBuf;

use common::{assert_abs, load, tiny_sd1};
use nao_backend::{Backend, Tensor};
use nao_inversion::{
    encode_images, invert_latents, load_image, reconstruct, ImageSpec, InversionOptions,
    ResizePolicy,
};
use nao_sampling::{no_progress, sample, SampleOptions};
use nao_sd::SdOptions;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../nao-inversion/tests/data/nonsquare")
        .join(name)
}

fn reference(name: &str) -> Tensor {
    nao_test_support::read_tensor(data(name))
}

#[test]
fn a_non_square_image_inverts_and_samples_back_as_in_diffusers() {
    let m = load(&tiny_sd1(), &SdOptions::default());
    let info = m.info();
    assert!(!info.fixed_image_size);
    assert_eq!(ResizePolicy::default_for(info), ResizePolicy::None);
    let image = load_image(
        data("input.png"),
        &ImageSpec::for_model(info),
        ResizePolicy::None,
    )
    .unwrap();
    assert_eq!(image, reference("image.npy"));
    let z0 = encode_images(&m, &image).unwrap();
    assert_abs("z0 of a 64×96 image", &z0, &reference("z0.npy"), 1e-5);

    let options = InversionOptions::default().with_steps(10);
    let cond = nao_inversion::encode_prompt(&m, "a photo of a cat", &options).unwrap();
    let seed = invert_latents(&m, &reference("z0.npy"), &cond, &options, no_progress).unwrap();
    assert_eq!(seed.shape, vec![1, 4, 8, 12]);
    assert_abs(
        "inversion of a 64×96 image, 10 steps",
        &seed,
        &reference("inverted_10steps.npy"),
        1e-4,
    );
    let sampling = SampleOptions::default()
        .with_steps(10)
        .with_guidance_scale(1.0);
    let back = sample(
        &m,
        &reference("inverted_10steps.npy"),
        &cond,
        &sampling,
        no_progress,
    )
    .unwrap();
    assert_abs(
        "sampling back a 64×96 seed",
        &back,
        &reference("sampled_back_10steps.npy"),
        1e-4,
    );

    let r = reconstruct(
        &m,
        &image,
        &cond,
        &options.clone().with_steps(3),
        &options.clone().with_steps(3).sampling_back(),
        no_progress,
    )
    .unwrap();
    assert_eq!(r.seed.shape, vec![1, 4, 8, 12]);
    assert_eq!(r.image.unwrap().shape, vec![1, 3, 64, 96]);
}

#[test]
fn dpm_solver_inversion_and_sampling_back_match_diffusers() {
    // nao-inversion's `tests/data/dpm_inverse/` (scripts/make_dpm_inverse_reference.py):
    // diffusers' DPMSolverMultistepInverseScheduler on the same z0, then DPM-Solver++ 2M back
    let dpm = |name: &str| {
        nao_test_support::read_tensor(
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../nao-inversion/tests/data/dpm_inverse")
                .join(name),
        )
    };
    let m = load(&tiny_sd1(), &SdOptions::default());
    let options = InversionOptions::default()
        .with_steps(10)
        .with_method("dpm++2m".parse().unwrap());
    let cond = nao_inversion::encode_prompt(&m, "a photo of a cat", &options).unwrap();
    let seed = invert_latents(&m, &reference("z0.npy"), &cond, &options, no_progress).unwrap();
    assert_abs(
        "dpm++2m inversion, 10 steps",
        &seed,
        &dpm("inverted_10steps.npy"),
        1e-4,
    );
    let back = sample(
        &m,
        &dpm("inverted_10steps.npy"),
        &cond,
        &options.sampling_back(),
        no_progress,
    )
    .unwrap();
    assert_abs(
        "dpm++2m sampling back, 10 steps",
        &back,
        &dpm("sampled_back_10steps.npy"),
        1e-4,
    );
}
