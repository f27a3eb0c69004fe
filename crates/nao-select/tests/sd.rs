//! SeedSelect on Stable Diffusion: the tiny diffusers fixture of `../shared` with the tiny
//! CLIP vision tower as its `image_encoder/`. The gradient against central finite
//! differences, the loss going down, the same result twice, the refined seed sampling to the
//! differentiable sampler's latent through the ordinary pipeline, and bad input named.

use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

use nao_backend::Backend;
use nao_prior::{GaussianSeeds, RngName};
use nao_select::{
    open_model, refine, step, DiffusionNet, OpenOptions, Problem, Schedule, SdNet, SelectConfig,
    SelectError, Target,
};
use nao_test_support::shared;

/// A diffusers folder: the tiny SD fixture's parts, linked, and with `encoder` the tiny
/// vision tower as `image_encoder/` and its `feature_extractor/`.
fn model_dir(root: &Path, encoder: bool) -> PathBuf {
    let dir = root.join("tiny-sd");
    std::fs::create_dir_all(&dir).unwrap();
    let link = |from: PathBuf, name: &str| {
        std::os::unix::fs::symlink(from, dir.join(name)).unwrap();
    };
    let sd = shared("fixtures/tiny-sd1/diffusers");
    for entry in std::fs::read_dir(&sd).unwrap() {
        let entry = entry.unwrap();
        link(entry.path(), &entry.file_name().to_string_lossy());
    }
    if encoder {
        let clip = shared("fixtures/tiny-clip-vision");
        link(clip.join("image_encoder"), "image_encoder");
        link(clip.join("feature_extractor"), "feature_extractor");
    }
    dir
}

fn device() -> nao_sd::Device {
    nao_sd::Device::flex()
}

fn net(dir: &Path) -> SdNet {
    SdNet::load(dir, None, &device(), "a red bag", "", &Default::default()).unwrap()
}

/// `n` smooth RGB images in [−1, 1] of `side` × `side`, each its own pattern.
fn real(n: usize, side: usize) -> nao_backend::Tensor {
    let mut data = Vec::with_capacity(n * 3 * side * side);
    for i in 0..n {
        for c in 0..3 {
            for y in 0..side {
                for x in 0..side {
                    let v = ((x as f64 * 0.4 + i as f64).sin() * (y as f64 * 0.3 + c as f64).cos())
                        * 0.8;
                    data.push(v as f32);
                }
            }
        }
    }
    nao_backend::Tensor::new(vec![n, 3, side, side], data).unwrap()
}

fn seeds(net: &SdNet, n: usize, seed: u64) -> Vec<Vec<f32>> {
    let d: usize = net.latent_shape().iter().product();
    let mut rng = GaussianSeeds::new(RngName::ChaCha20, seed);
    (0..n).map(|_| rng.seed(d)).collect()
}

fn image_side(net: &SdNet) -> usize {
    net.model().info().default_image_size.0
}

fn go(_: nao_select::Event) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

#[test]
fn the_gradient_matches_central_differences() {
    let tmp = tempfile::tempdir().unwrap();
    let net = net(&model_dir(tmp.path(), true));
    let target = Target::from_images(&net, &net, &real(3, image_side(&net))).unwrap();
    for (guidance, checkpointing) in [(1.0, true), (4.0, true), (4.0, false)] {
        let mut config = SelectConfig::from_nao();
        config.steps = 5;
        config.guidance = guidance;
        config.checkpointing = checkpointing;
        let schedule = Schedule::new(net.scheduler(), config.steps).unwrap();
        let problem = Problem {
            net: &net,
            encoder: &net,
            target: &target,
            schedule: &schedule,
            config: &config,
        };
        let z = seeds(&net, 1, 3).remove(0);
        let (loss, grad) = problem.loss_and_grad(std::slice::from_ref(&z)).unwrap();
        assert!(loss[0].is_finite() && loss[0] > 0.0);
        let g_norm = nao_prior::norm(&grad[0]);
        assert!(g_norm > 0.0 && g_norm.is_finite());
        let mut directions = vec![grad[0].iter().map(|g| g / g_norm).collect::<Vec<f64>>()];
        let mut rng = GaussianSeeds::new(RngName::ChaCha20, 11);
        for _ in 0..3 {
            let v: Vec<f64> = rng.seed(z.len());
            let norm = nao_prior::norm(&v);
            directions.push(v.iter().map(|x| x / norm).collect());
        }
        for (i, v) in directions.iter().enumerate() {
            let h = 1e-2;
            let shifted = |s: f64| -> Vec<f32> {
                z.iter()
                    .zip(v)
                    .map(|(&a, &b)| (f64::from(a) + s * h * b) as f32)
                    .collect()
            };
            let l = problem.loss(&[shifted(1.0), shifted(-1.0)]).unwrap();
            let fd = (l[0] - l[1]) / (2.0 * h);
            let analytic: f64 = grad[0].iter().zip(v).map(|(g, b)| g * b).sum();
            assert!(
                (fd - analytic).abs() < 5e-3 * g_norm,
                "guidance {guidance}, checkpointing {checkpointing}, direction {i}: finite \
                 differences {fd}, gradient {analytic} (gradient norm {g_norm})"
            );
        }
    }
}

#[test]
fn the_loss_goes_down_and_the_result_repeats() {
    let tmp = tempfile::tempdir().unwrap();
    let net = net(&model_dir(tmp.path(), true));
    let target = Target::from_images(&net, &net, &real(3, image_side(&net))).unwrap();
    let mut config = SelectConfig::from_random();
    config.iterations = 6;
    config.steps = 6;
    let z = seeds(&net, 2, 7);
    let a = refine(&net, &net, &target, &z, &config, &mut go).unwrap();
    for r in &a {
        let (first, last) = (r.losses[0], *r.losses.last().unwrap());
        assert!(last < first, "loss {first} → {last}: {:?}", r.losses);
        assert!(r.log_chi_before.is_finite() && r.log_chi_after.is_finite());
    }
    let b = refine(&net, &net, &target, &z, &config, &mut go).unwrap();
    assert_eq!(
        a, b,
        "the same seeds and configuration give the same result"
    );
}

#[test]
fn a_refined_seed_samples_to_the_same_latent_through_the_ordinary_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = model_dir(tmp.path(), true);
    let net = net(&dir);
    let plain = nao_sd::StableDiffusion::load(&dir, &device(), &Default::default()).unwrap();
    let [c, h, w] = net.latent_shape();
    for guidance in [1.0, 5.0] {
        let k = 7;
        let schedule = Schedule::new(net.scheduler(), k).unwrap();
        let z = seeds(&net, 2, 5);
        let flat: Vec<f32> = z.concat();
        let mut x = burn::tensor::Tensor::<4>::from_data(
            burn::tensor::TensorData::new(flat.clone(), [2, c, h, w]),
            net.device(),
        );
        for s in &schedule.steps {
            x = step(&net, &schedule, s, x, guidance).unwrap().latents;
        }
        let ours: Vec<f32> = x.into_data().try_to_vec::<f32>().unwrap();
        let options = nao_sampling::SampleOptions::default()
            .with_steps(k)
            .with_guidance_scale(guidance);
        let cond = nao_sampling::encode_prompt(&plain, "a red bag", &options).unwrap();
        let seeds = nao_backend::Tensor::new(vec![2, c, h, w], flat).unwrap();
        let theirs = nao_sampling::sample(&plain, &seeds, &cond, &options, |_| {
            ControlFlow::Continue(())
        })
        .unwrap();
        let diff = ours
            .iter()
            .zip(&theirs.data)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-4, "guidance {guidance}: max |Δ| {diff}");
    }
}

#[test]
fn bad_input_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let bare = model_dir(&tmp.path().join("bare"), false);
    let e = SdNet::load(&bare, None, &device(), "a bag", "", &Default::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no image_encoder/") && e.contains("--image-encoder"),
        "{e}"
    );
    // the encoder given apart works on the bare folder
    let encoder = shared("fixtures/tiny-clip-vision/image_encoder");
    let net = SdNet::load(
        &bare,
        Some(&encoder),
        &device(),
        "a bag",
        "",
        &Default::default(),
    )
    .unwrap();
    assert_eq!(net.image_encoder_dir(), encoder);
    // an encoder folder without its files
    let e = SdNet::load(
        &bare,
        Some(tmp.path()),
        &device(),
        "a bag",
        "",
        &Default::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("config.json"), "{e}");
    // grey images for an RGB encoder; NaN
    let side = image_side(&net);
    let grey = nao_backend::Tensor::new(vec![1, 1, side, side], vec![0.0; side * side]).unwrap();
    let e = Target::from_images(&net, &net, &grey)
        .unwrap_err()
        .to_string();
    assert!(e.contains("channel") && e.contains("image_encoder"), "{e}");
    let mut nan = real(2, side);
    nan.data[3] = f32::NAN;
    let e = Target::from_images(&net, &net, &nan)
        .unwrap_err()
        .to_string();
    assert!(e.contains("non-finite"), "{e}");
    // the ONNX export of the same model cannot be differentiated
    let onnx = shared("fixtures/tiny-sd1/onnx");
    let e = open_model(Some(&onnx), &device(), "a bag", &OpenOptions::default())
        .err()
        .unwrap();
    assert!(matches!(e, SelectError::NotDifferentiable(_)), "{e}");
    assert!(e.to_string().contains("diffusers folder"), "{e}");
    // an image encoder for the embedded model
    let options = OpenOptions {
        image_encoder: Some(encoder),
        ..OpenOptions::default()
    };
    let e = open_model(None, &device(), "bag", &options)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("--image-encoder") && e.contains("embedded"),
        "{e}"
    );
}

#[test]
fn open_model_takes_the_folder_s_encoder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = model_dir(tmp.path(), true);
    let model = open_model(Some(&dir), &device(), "a bag", &OpenOptions::default()).unwrap();
    let side = 8 * 2;
    let [c, ..] = model.latent_shape();
    assert_eq!(c, 4);
    model.accepts(3, side, side).unwrap();
}
