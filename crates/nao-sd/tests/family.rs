//! nao-sd on this crate's own fixtures, made with real diffusers by
//! `scripts/make_sd_fixtures.py`: configurations the shared SD 1.x fixture lacks.
//!
//! - `sd2-v`: OpenCLIP-style `gelu` text encoder, tokenizer padding with "!", linear
//!   projections, `upcast_attention`, a per-block head list, `layers_per_block` 2, a 3-block
//!   VAE, v-prediction, and only fp16 variant weight files;
//! - `nonsquare`: a non-square `sample_size` and latents (also 7×10, which the UNet cannot
//!   halve evenly), `transformer_layers_per_block` [1, 2], `scale_shift` time conditioning,
//!   `flip_sin_to_cos` false with `freq_shift` 1, a custom time embedding width and mid-block
//!   scale, a VAE without mid-block attention nor quant convs, bf16 text encoder weights and a
//!   tokenizer.json-only tokenizer.

mod common;

use std::sync::OnceLock;

use common::{assert_close, load, own, own_meta, own_reference as reference};
use nao_backend::{Backend, Precision, PredictionType, Tensor};
use nao_sampling::{no_progress, sample, SampleOptions};
use nao_sd::{SdOptions, StableDiffusion};

const FIXTURES: [&str; 2] = ["sd2-v", "nonsquare"];

fn options(name: &str) -> SdOptions {
    match name {
        // found on its own without the option too (see `variant_files_are_found`)
        "sd2-v" => SdOptions::default().with_variant("fp16"),
        _ => SdOptions::default(),
    }
}

fn model(name: &str) -> &'static StableDiffusion {
    static SD2: OnceLock<StableDiffusion> = OnceLock::new();
    static NONSQUARE: OnceLock<StableDiffusion> = OnceLock::new();
    let cell = match name {
        "sd2-v" => &SD2,
        _ => &NONSQUARE,
    };
    cell.get_or_init(|| load(&own(name), &options(name)))
}

fn prompts(name: &str) -> Vec<String> {
    own_meta(name)["prompts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn facts_come_from_the_configs() {
    let sd2 = model("sd2-v").info();
    assert_eq!(sd2.vae_downsample, 4);
    assert_eq!(sd2.default_image_size, (32, 32));
    assert_eq!(sd2.scheduler.prediction_type, PredictionType::VPrediction);
    let ns = model("nonsquare").info();
    assert_eq!(ns.vae_downsample, 2);
    assert_eq!(ns.default_image_size, (16, 24)); // sample_size [8, 12] × 2
    assert_eq!(ns.vae_scaling_factor, 0.5);
    assert_eq!(ns.latent_shape(16, 24).unwrap(), [4, 8, 12]);
    assert_eq!(ns.name, "nonsquare");
    for name in FIXTURES {
        assert!(nao_sd::is_diffusers_folder(own(name)), "{name}");
    }
}

#[test]
fn token_ids_match_transformers_exactly() {
    for name in FIXTURES {
        let tok = model(name).tokenizer();
        let expected = reference(name, "input_ids.npy");
        for (i, p) in prompts(name).iter().enumerate() {
            let got: Vec<f32> = tok.encode(p).ids.iter().map(|&x| x as f32).collect();
            assert_eq!(got, expected.item(i).unwrap().data, "{name}, prompt {i}");
        }
    }
    // SD 2.x pads with "!" (id 0 of the byte-level vocabulary)
    assert_eq!(model("sd2-v").tokenizer().pad_id(), 0);
}

#[test]
fn text_embeddings_match_transformers() {
    for name in FIXTURES {
        let p = prompts(name);
        let refs: Vec<&str> = p.iter().map(String::as_str).collect();
        let got = model(name).encode_prompts(&refs).unwrap();
        assert_close(
            &format!("{name}: text embeddings"),
            &got,
            &reference(name, "text_embeddings.npy"),
            1e-4,
        );
    }
}

fn unet_context(name: &str) -> Tensor {
    let emb = reference(name, "text_embeddings.npy");
    Tensor::concat(&[emb.item(0).unwrap(), emb.item(2).unwrap()]).unwrap()
}

fn unet_timesteps(name: &str) -> Vec<i64> {
    own_meta(name)["unet_timesteps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_i64().unwrap())
        .collect()
}

#[test]
fn unet_matches_diffusers() {
    for name in FIXTURES {
        let got = model(name)
            .predict_noise(
                &reference(name, "unet_latents.npy"),
                &unet_timesteps(name),
                &unet_context(name),
            )
            .unwrap();
        assert_close(
            &format!("{name}: UNet, batch 2, per-item timesteps"),
            &got,
            &reference(name, "unet_out.npy"),
            1e-4,
        );
    }
}

#[test]
fn unet_on_latents_it_cannot_halve_evenly_matches_diffusers() {
    let name = "nonsquare";
    let latents = reference(name, "unet_odd_latents.npy");
    assert_eq!(latents.shape, vec![2, 4, 7, 10]);
    let got = model(name)
        .predict_noise(&latents, &unet_timesteps(name), &unet_context(name))
        .unwrap();
    assert_close(
        "nonsquare: UNet on 7×10 latents",
        &got,
        &reference(name, "unet_odd_out.npy"),
        1e-4,
    );
}

#[test]
fn vae_matches_diffusers() {
    for name in FIXTURES {
        let m = model(name);
        let z0 = m.encode_image(&reference(name, "vae_image.npy")).unwrap();
        assert_close(
            &format!("{name}: VAE encode"),
            &z0,
            &reference(name, "vae_z0.npy"),
            1e-4,
        );
        let meta = own_meta(name);
        let steps = meta["steps"].as_u64().unwrap();
        let last = meta["guidance"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()
            .as_f64()
            .unwrap();
        let latents = reference(name, &format!("sample_{steps}steps_gs{last:?}_latents.npy"));
        let raw = m.decode_latents_raw(&latents).unwrap();
        assert_close(
            &format!("{name}: VAE decode"),
            &raw,
            &reference(name, &format!("sample_{steps}steps_gs{last:?}_decoded.npy")),
            1e-4,
        );
    }
}

#[test]
fn sampling_matches_diffusers() {
    for name in FIXTURES {
        let m = model(name);
        let meta = own_meta(name);
        let steps = meta["steps"].as_u64().unwrap() as usize;
        for g in meta["guidance"].as_array().unwrap() {
            let g = g.as_f64().unwrap();
            let options = SampleOptions::default()
                .with_steps(steps)
                .with_guidance_scale(g);
            let cond = nao_sampling::encode_prompt(m, &prompts(name)[0], &options).unwrap();
            let got = sample(
                m,
                &reference(name, "initial_latents.npy"),
                &cond,
                &options,
                no_progress,
            )
            .unwrap();
            assert_close(
                &format!("{name}: sampling {steps} steps, gs {g}"),
                &got,
                &reference(name, &format!("sample_{steps}steps_gs{g:?}_latents.npy")),
                1e-4,
            );
        }
    }
}

/// Reduced precision computes the same model: f16 and bf16 runs of the sd2-v UNet and text
/// encoder stay near the f32 reference (relative to its scale).
#[test]
fn reduced_precision_stays_near_f32() {
    let name = "sd2-v";
    for (precision, tol) in [(Precision::F16, 5e-3), (Precision::Bf16, 4e-2)] {
        let m = load(&own(name), &options(name).with_precision(precision));
        assert_eq!(m.precision(), precision);
        let p = prompts(name);
        let emb = m.encode_prompts(&[&p[0], &p[2]]).unwrap();
        let expected = reference(name, "text_embeddings.npy");
        let both = Tensor::concat(&[expected.item(0).unwrap(), expected.item(2).unwrap()]).unwrap();
        assert_close(&format!("{precision}: text embeddings"), &emb, &both, tol);
        let out = m
            .predict_noise(
                &reference(name, "unet_latents.npy"),
                &unet_timesteps(name),
                &unet_context(name),
            )
            .unwrap();
        assert_close(
            &format!("{precision}: UNet"),
            &out,
            &reference(name, "unet_out.npy"),
            tol,
        );
        let z0 = m.encode_image(&reference(name, "vae_image.npy")).unwrap();
        assert_close(
            &format!("{precision}: VAE encode"),
            &z0,
            &reference(name, "vae_z0.npy"),
            tol,
        );
    }
}
