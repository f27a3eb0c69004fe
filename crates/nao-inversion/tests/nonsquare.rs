//! Images at their own size (`ResizePolicy::None`) on the tiny SD 1.x ONNX export, against
//! diffusers inverting the same 96×64 picture at its own size (`tests/data/nonsquare/`, made by
//! `scripts/make_nonsquare_inversion_reference.py`): loading, VAE encoding, 10 steps of DDIM
//! inversion, sampling back, and the whole round trip's shapes.
//!
//! Needs ONNX Runtime (`ORT_DYLIB_PATH`) and `shared/`; fails, never skips, without them.

mod common;

use std::path::PathBuf;

use common::{tiny_sd1_onnx, PROMPT};
use nao_backend::{Backend, Tensor};
use nao_inversion::{
    encode_images, invert_latents, load_image, reconstruct, ImageSpec, InversionOptions,
    ResizePolicy,
};
use nao_sampling::{no_progress, sample, SampleOptions};
use nao_test_support::max_abs_diff;

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/nonsquare")
        .join(name)
}

fn reference(name: &str) -> Tensor {
    nao_test_support::read_tensor(data(name))
}

fn image() -> Tensor {
    let spec = ImageSpec::for_model(tiny_sd1_onnx().info());
    load_image(data("input.png"), &spec, ResizePolicy::None).unwrap()
}

#[test]
fn the_model_takes_any_multiple_of_8_and_none_is_its_default() {
    let info = tiny_sd1_onnx().info();
    assert!(!info.fixed_image_size);
    assert_eq!(ResizePolicy::default_for(info), ResizePolicy::None);
    assert_eq!(ImageSpec::for_model(info).size_step, Some(8));
}

#[test]
fn a_non_square_image_loads_at_its_own_size_as_diffusers_preprocesses_it() {
    let got = image();
    assert_eq!(got.shape, vec![1, 3, 64, 96]);
    assert_eq!(got, reference("image.npy"));
}

#[test]
fn non_square_inversion_and_sampling_match_diffusers() {
    let b = tiny_sd1_onnx();
    let options = InversionOptions::default().with_steps(10);
    let z0 = encode_images(b, &image()).unwrap();
    assert_eq!(z0.shape, vec![1, 4, 8, 12]);
    let d = max_abs_diff(&z0, &reference("z0.npy"));
    assert!(d < 1e-5, "z0: max |Δ| {d:.3e}");

    let cond = nao_inversion::encode_prompt(b, PROMPT, &options).unwrap();
    let seed = invert_latents(b, &reference("z0.npy"), &cond, &options, no_progress).unwrap();
    let d = max_abs_diff(&seed, &reference("inverted_10steps.npy"));
    assert!(d < 1e-4, "inversion: max |Δ| {d:.3e}");

    let sampling = SampleOptions::default()
        .with_steps(10)
        .with_guidance_scale(1.0);
    let back = sample(
        b,
        &reference("inverted_10steps.npy"),
        &cond,
        &sampling,
        no_progress,
    )
    .unwrap();
    let d = max_abs_diff(&back, &reference("sampled_back_10steps.npy"));
    assert!(d < 1e-4, "sampling back: max |Δ| {d:.3e}");
}

#[test]
fn the_round_trip_keeps_the_image_size() {
    let b = tiny_sd1_onnx();
    let options = InversionOptions::default().with_steps(4);
    let cond = nao_inversion::encode_prompt(b, PROMPT, &options).unwrap();
    let r = reconstruct(
        b,
        &image(),
        &cond,
        &options,
        &options.sampling_back(),
        no_progress,
    )
    .unwrap();
    assert_eq!(r.seed.shape, vec![1, 4, 8, 12]);
    assert_eq!(r.image.unwrap().shape, vec![1, 3, 64, 96]);
    assert!(r.latent_mse.is_finite() && r.psnr_db.is_some());
}

#[test]
fn sides_that_are_not_multiples_of_8_are_refused_under_none() {
    let spec = ImageSpec::for_model(tiny_sd1_onnx().info());
    let img = image::DynamicImage::ImageRgb8(image::RgbImage::new(92, 60));
    let e = nao_inversion::image_to_tensor(&img, &spec, ResizePolicy::None)
        .unwrap_err()
        .for_file(std::path::Path::new("odd.png"))
        .to_string();
    assert!(
        e.starts_with("odd.png: the image is 60×92") && e.contains("multiples of 8"),
        "{e}"
    );
    // the other policies still bring it to the model's default size
    let t = nao_inversion::image_to_tensor(&img, &spec, ResizePolicy::CenterCrop).unwrap();
    assert_eq!(t.shape, vec![1, 3, 64, 64]);
}
