//! The ONNX backend on the tiny-sd1 fixture against the outputs diffusers computed on the same
//! model (`shared/fixtures/tiny-sd1/reference`).
//!
//! Needs `ORT_DYLIB_PATH` (`cargo xtask setup-ort`); fails with that hint when it is unset.

mod common;

use std::sync::OnceLock;

use common::{onnx_dir, reference};
use nao_backend::{Backend, BackendError, Tensor};
use nao_onnx::{OnnxBackend, OnnxOptions};
use nao_test_support::{max_abs, max_abs_diff, ort_library};

/// The prompts of `reference.json`.
const PROMPTS: [&str; 3] = ["a photo of a cat", "A Tiger-Cat, sitting on a mat!", ""];

fn backend() -> &'static OnnxBackend {
    static BACKEND: OnceLock<OnnxBackend> = OnceLock::new();
    BACKEND.get_or_init(|| {
        let options = OnnxOptions::default()
            .with_threads(1)
            .with_library_path(ort_library());
        OnnxBackend::load(onnx_dir(), &options)
            .unwrap_or_else(|e| panic!("loading the tiny-sd1 ONNX fixture: {e}"))
    })
}

#[test]
fn loads_the_fixture_with_facts_from_its_configs() {
    let b = backend();
    let info = b.info();
    assert_eq!(info.name, "onnx");
    assert_eq!(info.vae_scaling_factor, 0.18215);
    assert_eq!(info.latent_channels, 4);
    assert_eq!(info.vae_downsample, 8); // 4 block_out_channels
    assert_eq!(info.default_image_size, (64, 64)); // unet sample_size 8 × 8
    assert_eq!(info.image_channels, 3);
    assert_eq!(info.scheduler.steps_offset, 1);
    assert_eq!(info.latent_shape(64, 64).unwrap(), [4, 8, 8]);
    let caps = b.capabilities();
    assert!(caps.text_encoder && caps.vae_encoder && caps.vae_decoder);
    let components = b.components();
    let names: Vec<&str> = components.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        ["text_encoder", "unet", "vae_encoder", "vae_decoder"]
    );
    let unet = &components[1];
    let inputs: Vec<String> = unet.inputs.iter().map(ToString::to_string).collect();
    assert_eq!(
        inputs,
        [
            "sample: f32[?, 4, ?, ?]",
            "timestep: i64[?]",
            "encoder_hidden_states: f32[?, 77, 32]"
        ]
    );
    assert_eq!(
        nao_onnx::loaded_library(),
        Some(ort_library().canonicalize().unwrap())
    );
}

#[test]
fn token_ids_match_diffusers_exactly() {
    let tok = backend().tokenizer().expect("the fixture has a tokenizer");
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
    let b = backend();
    let expected = reference("text_embeddings.npy");
    let got = b.encode_prompts(&PROMPTS).unwrap();
    let err = max_abs_diff(&got, &expected);
    eprintln!(
        "text embeddings [3, 77, 32]: max |Δ| = {err:.3e} (max |x| = {:.3})",
        max_abs(&expected)
    );
    assert!(err <= 1e-5, "text embeddings differ by {err}");
    // through the trait: cond = prompt 0, uncond = the empty prompt (prompt 2)
    let c = b.encode_prompt(PROMPTS[0], "", true).unwrap();
    assert_eq!(c.cond.shape, vec![1, 77, 32]);
    assert!(max_abs_diff(&c.cond, &expected.item(0).unwrap()) <= 1e-5);
    assert!(max_abs_diff(c.uncond.as_ref().unwrap(), &expected.item(2).unwrap()) <= 1e-5);
    let single = b.encode_prompt(PROMPTS[1], "", false).unwrap();
    assert!(single.uncond.is_none());
    assert!(max_abs_diff(&single.cond, &expected.item(1).unwrap()) <= 1e-5);
}

#[test]
fn unet_at_t500_matches_diffusers() {
    let b = backend();
    let latents = reference("initial_latents.npy");
    let context = reference("text_embeddings.npy").item(0).unwrap();
    let expected = reference("unet_t500_prompt0.npy");
    let got = b.predict_noise(&latents, &[500], &context).unwrap();
    let err = max_abs_diff(&got, &expected);
    eprintln!(
        "UNet t=500 [1, 4, 8, 8]: max |Δ| = {err:.3e} (max |x| = {:.3})",
        max_abs(&expected)
    );
    assert!(err <= 1e-5, "UNet output differs by {err}");

    // a batch of two (as classifier-free guidance runs it) gives each item's answer
    let batch_latents = Tensor::concat(&[latents.clone(), latents.clone()]).unwrap();
    let uncond = reference("text_embeddings.npy").item(2).unwrap();
    let batch_context = Tensor::concat(&[context.clone(), uncond.clone()]).unwrap();
    let batch = b
        .predict_noise(&batch_latents, &[500, 500], &batch_context)
        .unwrap();
    assert!(max_abs_diff(&batch.item(0).unwrap(), &expected) <= 1e-5);
    let alone = b.predict_noise(&latents, &[500], &uncond).unwrap();
    assert!(max_abs_diff(&batch.item(1).unwrap(), &alone) <= 1e-5);
    // different timesteps per item
    let mixed = b
        .predict_noise(&batch_latents, &[500, 1], &batch_context)
        .unwrap();
    let at1 = b.predict_noise(&latents, &[1], &uncond).unwrap();
    assert!(max_abs_diff(&mixed.item(1).unwrap(), &at1) <= 1e-5);
}

#[test]
fn vae_encode_matches_diffusers() {
    let b = backend();
    let image = reference("inversion_input_image.npy");
    let expected = reference("inversion_z0.npy");
    let got = b.encode_image(&image).unwrap();
    let err = max_abs_diff(&got, &expected);
    eprintln!(
        "VAE encode [1, 4, 8, 8] (mean × 0.18215): max |Δ| = {err:.3e} (max |x| = {:.3})",
        max_abs(&expected)
    );
    assert!(err <= 1e-5, "VAE latents differ by {err}");
}

#[test]
fn vae_decode_matches_diffusers() {
    let b = backend();
    let latents = reference("sample_10steps_gs1.0_latents.npy");
    let expected = reference("sample_10steps_gs1.0_decoded.npy"); // in [−1, 1]
    let raw = b.decode_latents_raw(&latents).unwrap();
    let err = max_abs_diff(&raw, &expected);
    eprintln!(
        "VAE decode [1, 3, 64, 64] (raw, [-1, 1]): max |Δ| = {err:.3e} (max |x| = {:.3})",
        max_abs(&expected)
    );
    assert!(err <= 1e-5, "decoded images differ by {err}");
    let image = b.decode_latents(&latents).unwrap();
    let mapped = Tensor {
        shape: expected.shape.clone(),
        data: expected
            .data
            .iter()
            .map(|&x| ((x + 1.0) / 2.0).clamp(0.0, 1.0))
            .collect(),
    };
    assert!(max_abs_diff(&image, &mapped) <= 1e-5);
    assert!(image.data.iter().all(|&x| (0.0..=1.0).contains(&x)));
    // the gs 7.5 sample too, in a batch of two
    let both = Tensor::concat(&[
        latents.clone(),
        reference("sample_10steps_gs7.5_latents.npy"),
    ])
    .unwrap();
    let raw2 = b.decode_latents_raw(&both).unwrap();
    let expected2 = reference("sample_10steps_gs7.5_decoded.npy");
    assert!(max_abs_diff(&raw2.item(1).unwrap(), &expected2) <= 1e-5);
}

#[test]
fn wrong_shapes_are_errors_not_panics() {
    let b = backend();
    let context = b.encode_prompt("a cat", "", false).unwrap().cond;
    let shape_err = |r: Result<Tensor, BackendError>| match r {
        Err(BackendError::Shape(m)) => m,
        other => panic!("expected a shape error, got {other:?}"),
    };
    // 3 channels instead of 4
    let m = shape_err(b.predict_noise(&Tensor::zeros(vec![1, 3, 8, 8]), &[500], &context));
    assert!(m.contains("[1, 3, 8, 8]") && m.contains('4'), "{m}");
    // rank 3
    let m = shape_err(b.predict_noise(&Tensor::zeros(vec![4, 8, 8]), &[500], &context));
    assert!(m.contains("[4, 8, 8]"), "{m}");
    // a batch of 2 with one timestep
    let m = shape_err(b.predict_noise(&Tensor::zeros(vec![2, 4, 8, 8]), &[500], &context));
    assert!(m.contains("1 timesteps for a batch of 2"), "{m}");
    // a batch of 2 with the conditioning of 1
    let m = shape_err(b.predict_noise(&Tensor::zeros(vec![2, 4, 8, 8]), &[500, 500], &context));
    assert!(m.contains("[2, tokens, hidden]"), "{m}");
    // a conditioning with the wrong hidden size: the model's declared shape is named
    let m = shape_err(b.predict_noise(
        &Tensor::zeros(vec![1, 4, 8, 8]),
        &[500],
        &Tensor::zeros(vec![1, 77, 16]),
    ));
    assert!(
        m.contains("encoder_hidden_states") && m.contains("unet"),
        "{m}"
    );
    // a latent size the UNet cannot halve (its config has 2 blocks: multiples of 2)
    let m = shape_err(b.predict_noise(&Tensor::zeros(vec![1, 4, 7, 8]), &[500], &context));
    assert!(
        m.contains("[1, 4, 7, 8]") && m.contains("multiples of 2"),
        "{m}"
    );
    // a tensor whose data disagrees with its shape
    let bad = Tensor {
        shape: vec![1, 4, 8, 8],
        data: vec![0.0; 3],
    };
    shape_err(b.predict_noise(&bad, &[500], &context));
    // images not a multiple of 8, grey images, latents with 3 channels
    let m = shape_err(b.encode_image(&Tensor::zeros(vec![1, 3, 60, 64])));
    assert!(m.contains("[1, 3, 60, 64]") && m.contains('8'), "{m}");
    shape_err(b.encode_image(&Tensor::zeros(vec![1, 1, 64, 64])));
    shape_err(b.decode_latents(&Tensor::zeros(vec![1, 3, 8, 8])));
    shape_err(b.decode_latents(&Tensor::zeros(vec![0, 4, 8, 8])));
    // zero prompts
    assert!(b.encode_prompts(&[]).is_err());
}
