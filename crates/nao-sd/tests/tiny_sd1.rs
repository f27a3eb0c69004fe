//! nao-sd on the shared tiny SD 1.x fixture (`shared/fixtures/tiny-sd1/diffusers`) against the
//! outputs diffusers computed on the same model (`shared/fixtures/tiny-sd1/reference`): token
//! ids, text embeddings, the UNet, the VAE, and DDIM sampling and inversion through
//! nao-sampling / nao-inversion — the twin of nao-onnx's tests on the ONNX export.

mod common;

use std::sync::OnceLock;

use common::{assert_abs, compare, load, tiny_sd1, tiny_sd1_reference as reference};
use nao_backend::{Backend, BackendError, Tensor};
use nao_inversion::{invert_latents, InversionOptions};
use nao_sampling::{no_progress, sample, SampleOptions};
use nao_sd::{SdOptions, StableDiffusion};

/// The prompts of `reference.json`.
const PROMPTS: [&str; 3] = ["a photo of a cat", "A Tiger-Cat, sitting on a mat!", ""];

fn model() -> &'static StableDiffusion {
    static MODEL: OnceLock<StableDiffusion> = OnceLock::new();
    MODEL.get_or_init(|| load(&tiny_sd1(), &SdOptions::default()))
}

#[test]
fn loads_the_fixture_with_facts_from_its_configs() {
    let m = model();
    let info = m.info();
    assert_eq!(info.name, "diffusers");
    assert_eq!(info.vae_scaling_factor, 0.18215);
    assert_eq!(info.latent_channels, 4);
    assert_eq!(info.vae_downsample, 8); // 4 block_out_channels
    assert_eq!(info.default_image_size, (64, 64)); // unet sample_size 8 × 8
    assert_eq!(info.image_channels, 3);
    assert_eq!(info.scheduler.steps_offset, 1);
    let caps = m.capabilities();
    assert!(caps.text_encoder && caps.vae_encoder && caps.vae_decoder);
    let files: Vec<String> = m
        .weight_files()
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        files,
        [
            "model.safetensors",
            "diffusion_pytorch_model.safetensors",
            "diffusion_pytorch_model.safetensors"
        ]
    );
    assert!(nao_sd::is_diffusers_folder(tiny_sd1()));
}

#[test]
fn token_ids_match_diffusers_exactly() {
    // the fixture's tokenizer is tokenizer.json + tokenizer_config.json only
    let tok = model().tokenizer();
    let expected = reference("input_ids.npy");
    assert_eq!(expected.shape, vec![3, 77]);
    for (i, prompt) in PROMPTS.iter().enumerate() {
        let got: Vec<f32> = tok.encode(prompt).ids.iter().map(|&x| x as f32).collect();
        assert_eq!(
            got,
            expected.item(i).unwrap().data,
            "prompt {i}: {prompt:?}"
        );
    }
}

#[test]
fn text_embeddings_match_diffusers() {
    let m = model();
    let expected = reference("text_embeddings.npy");
    let got = m.encode_prompts(&PROMPTS).unwrap();
    assert_abs("text embeddings [3, 77, 32]", &got, &expected, 1e-4);
    let c = m.encode_prompt(PROMPTS[0], "", true).unwrap();
    assert_eq!(c.cond.shape, vec![1, 77, 32]);
    assert_abs(
        "  prompt 0 alone",
        &c.cond,
        &expected.item(0).unwrap(),
        1e-4,
    );
    assert_abs(
        "  the empty negative prompt",
        c.uncond.as_ref().unwrap(),
        &expected.item(2).unwrap(),
        1e-4,
    );
}

#[test]
fn unet_at_t500_matches_diffusers() {
    let m = model();
    let latents = reference("initial_latents.npy");
    let context = reference("text_embeddings.npy").item(0).unwrap();
    let expected = reference("unet_t500_prompt0.npy");
    let got = m.predict_noise(&latents, &[500], &context).unwrap();
    assert_abs("UNet t=500 [1, 4, 8, 8]", &got, &expected, 1e-4);

    // a batch of two (as classifier-free guidance runs it), with per-item timesteps
    let batch_latents = Tensor::concat(&[latents.clone(), latents.clone()]).unwrap();
    let uncond = reference("text_embeddings.npy").item(2).unwrap();
    let batch_context = Tensor::concat(&[context, uncond.clone()]).unwrap();
    let batch = m
        .predict_noise(&batch_latents, &[500, 1], &batch_context)
        .unwrap();
    assert_abs("  batch item 0", &batch.item(0).unwrap(), &expected, 1e-4);
    let alone = m.predict_noise(&latents, &[1], &uncond).unwrap();
    let (d, _) = compare(&batch.item(1).unwrap(), &alone);
    assert!(d <= 1e-5, "batch item 1 differs from its own run by {d}");
}

#[test]
fn vae_encode_matches_diffusers() {
    let got = model()
        .encode_image(&reference("inversion_input_image.npy"))
        .unwrap();
    assert_abs(
        "VAE encode [1, 4, 8, 8] (mean × 0.18215)",
        &got,
        &reference("inversion_z0.npy"),
        1e-4,
    );
}

#[test]
fn vae_decode_matches_diffusers() {
    let m = model();
    let both = Tensor::concat(&[
        reference("sample_10steps_gs1.0_latents.npy"),
        reference("sample_10steps_gs7.5_latents.npy"),
    ])
    .unwrap();
    let raw = m.decode_latents_raw(&both).unwrap();
    for (i, g) in ["1.0", "7.5"].iter().enumerate() {
        let expected = reference(&format!("sample_10steps_gs{g}_decoded.npy"));
        assert_abs(
            &format!("VAE decode gs {g} [1, 3, 64, 64] (raw)"),
            &raw.item(i).unwrap(),
            &expected,
            1e-4,
        );
    }
    let image = m.decode_latents(&both).unwrap();
    assert!(image.data.iter().all(|&x| (0.0..=1.0).contains(&x)));
    let mapped: Vec<f32> = raw
        .data
        .iter()
        .map(|&x| ((x + 1.0) / 2.0).clamp(0.0, 1.0))
        .collect();
    assert_eq!(image.data, mapped);
}

fn sample_10(guidance: f64) -> Tensor {
    let m = model();
    let options = SampleOptions::default()
        .with_steps(10)
        .with_guidance_scale(guidance);
    let cond = nao_sampling::encode_prompt(m, PROMPTS[0], &options).unwrap();
    sample(
        m,
        &reference("initial_latents.npy"),
        &cond,
        &options,
        no_progress,
    )
    .unwrap()
}

#[test]
fn sampling_10_steps_without_guidance_matches_diffusers() {
    let got = sample_10(1.0);
    assert_abs(
        "sampling 10 steps, gs 1.0",
        &got,
        &reference("sample_10steps_gs1.0_latents.npy"),
        1e-4,
    );
}

#[test]
fn sampling_10_steps_with_guidance_7_5_matches_diffusers() {
    let got = sample_10(7.5);
    assert_abs(
        "sampling 10 steps, gs 7.5",
        &got,
        &reference("sample_10steps_gs7.5_latents.npy"),
        1e-4,
    );
}

fn invert_reference_z0() -> Tensor {
    let m = model();
    let options = InversionOptions::default().with_steps(10);
    let cond = nao_inversion::encode_prompt(m, PROMPTS[0], &options).unwrap();
    invert_latents(
        m,
        &reference("inversion_z0.npy"),
        &cond,
        &options,
        no_progress,
    )
    .unwrap()
}

#[test]
fn inversion_10_steps_matches_diffusers() {
    assert_abs(
        "inversion 10 steps",
        &invert_reference_z0(),
        &reference("inversion_10steps_latents.npy"),
        1e-4,
    );
}

#[test]
fn inversion_then_sampling_matches_diffusers() {
    let m = model();
    let seeds = invert_reference_z0();
    let options = SampleOptions::default()
        .with_steps(10)
        .with_guidance_scale(1.0);
    let cond = nao_sampling::encode_prompt(m, PROMPTS[0], &options).unwrap();
    let got = sample(m, &seeds, &cond, &options, no_progress).unwrap();
    assert_abs(
        "inversion then sampling",
        &got,
        &reference("inversion_then_sample_latents.npy"),
        1e-4,
    );
}

#[test]
fn wrong_shapes_are_errors_not_panics() {
    let m = model();
    let context = m.encode_prompt("a cat", "", false).unwrap().cond;
    let shape_err = |r: Result<Tensor, BackendError>| match r {
        Err(BackendError::Shape(msg)) => msg,
        other => panic!("expected a shape error, got {other:?}"),
    };
    let e = shape_err(m.predict_noise(&Tensor::zeros(vec![1, 3, 8, 8]), &[500], &context));
    assert!(e.contains("[1, 3, 8, 8]") && e.contains('4'), "{e}");
    let e = shape_err(m.predict_noise(&Tensor::zeros(vec![4, 8, 8]), &[500], &context));
    assert!(e.contains("[4, 8, 8]"), "{e}");
    let e = shape_err(m.predict_noise(&Tensor::zeros(vec![2, 4, 8, 8]), &[500], &context));
    assert!(e.contains("1 timesteps for a batch of 2"), "{e}");
    let e = shape_err(m.predict_noise(&Tensor::zeros(vec![2, 4, 8, 8]), &[500, 500], &context));
    assert!(e.contains("[2, tokens, 32]"), "{e}");
    let e = shape_err(m.predict_noise(
        &Tensor::zeros(vec![1, 4, 8, 8]),
        &[500],
        &Tensor::zeros(vec![1, 77, 16]),
    ));
    assert!(e.contains("[1, 77, 16]"), "{e}");
    let bad = Tensor {
        shape: vec![1, 4, 8, 8],
        data: vec![0.0; 3],
    };
    shape_err(m.predict_noise(&bad, &[500], &context));
    let e = shape_err(m.encode_image(&Tensor::zeros(vec![1, 3, 60, 64])));
    assert!(e.contains("[1, 3, 60, 64]") && e.contains('8'), "{e}");
    shape_err(m.encode_image(&Tensor::zeros(vec![1, 1, 64, 64])));
    shape_err(m.decode_latents(&Tensor::zeros(vec![1, 3, 8, 8])));
    shape_err(m.decode_latents(&Tensor::zeros(vec![0, 4, 8, 8])));
    assert!(m.encode_prompts(&[]).is_err());
}
