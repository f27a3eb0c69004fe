//! Images at their own size (`ResizePolicy::None`) on the tiny SD 1.x ONNX export, against
//! diffusers inverting the same 96×64 picture at its own size (`tests/data/nonsquare/`, made by
//! `scripts/make_nonsquare_inversion_reference.py`): loading, VAE encoding, 10 steps of DDIM
//! inversion, sampling back, and the whole round trip's shapes.
//!
//! Needs ONNX Runtime (`ORT_DYLIB_PATH`) and `shared/`; fails, never skips, without them.

use std::path::PathBuf;
use std::sync::OnceLock;

use nao_backend::{Backend, Tensor};
use nao_inversion::{
    encode_images, invert_latents, load_image, reconstruct, ImageSpec, InversionOptions,
    ResizePolicy,
};
use nao_onnx::{OnnxBackend, OnnxOptions};
use nao_sampling::{no_progress, sample, SampleOptions};

const PROMPT: &str = "a photo of a cat";

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/nonsquare")
        .join(name)
}

fn reference(name: &str) -> Tensor {
    nao_test_support::read_tensor(data(name))
}

fn backend() -> &'static OnnxBackend {
    static BACKEND: OnceLock<OnnxBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        let options = OnnxOptions::default()
            .with_threads(1)
            .with_library_path(nao_test_support::ort_library());
        OnnxBackend::load(nao_test_support::shared("fixtures/tiny-sd1/onnx"), &options)
            .unwrap_or_else(|e| panic!("loading the tiny-sd1 ONNX fixture: {e}"))
    })
}

fn max_abs_diff(got: &Tensor, expected: &Tensor) -> f64 {
    assert_eq!(got.shape, expected.shape);
    got.data
        .iter()
        .zip(&expected.data)
        .map(|(a, b)| (f64::from(*a) - f64::from(*b)).abs())
        .fold(0.0, f64::max)
}

fn image() -> Tensor {
    let spec = ImageSpec::for_model(backend().info());
    load_image(data("input.png"), &spec, ResizePolicy::None).unwrap()
}

#[test]
fn the_model_takes_any_multiple_of_8_and_none_is_its_default() {
    let info = backend().info();
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
    let b = backend();
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
    let b = backend();
    let options = InversionOptions::default().with_steps(4);
    let cond = nao_inversion::encode_prompt(b, PROMPT, &options).unwrap();
    let r = reconstruct(b, &image(), &cond, &options, no_progress).unwrap();
    assert_eq!(r.seed.shape, vec![1, 4, 8, 12]);
    assert_eq!(r.image.unwrap().shape, vec![1, 3, 64, 96]);
    assert!(r.latent_mse.is_finite() && r.psnr_db.is_some());
}

#[test]
fn sides_that_are_not_multiples_of_8_are_refused_under_none() {
    let spec = ImageSpec::for_model(backend().info());
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
