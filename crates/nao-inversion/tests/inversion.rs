//! DDIM inversion and reconstruction on the mock backend with the analytic Gaussian-data
//! noise predictor (shared with nao-sampling's tests).

use nao_test_support as common;

use std::ops::ControlFlow;

use common::{max_abs_diff, seeds, AnalyticBackend, DATA_STD};
use nao_backend::{Backend, BackendError, Tensor};
use nao_inversion::{
    encode_prompt, invert, invert_latents, reconstruct, InversionError, InversionOptions,
};
use nao_sampling::{no_progress, sample, Direction, SampleOptions};

const PROMPT: &str = "a photo of a cat";

/// Latents that look like the mock's data: μ_c + S·noise.
fn data_latents(b: usize, seed: u64) -> Tensor {
    let mu = AnalyticBackend::prompt_mean(PROMPT);
    let mut x = seeds(b, 8, 8, seed);
    for (k, v) in x.data.iter_mut().enumerate() {
        *v = mu[(k / 64) % 4] + DATA_STD as f32 * *v;
    }
    x
}

/// Invert then sample back with `steps` steps: the largest latent error and the MSE.
fn round_trip_error(steps: usize) -> (f64, f64) {
    let backend = AnalyticBackend::new();
    let options = InversionOptions::default().with_steps(steps);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let z0 = data_latents(2, 1);
    let seed = invert_latents(&backend, &z0, &cond, &options, no_progress).unwrap();
    let back = sample(
        &backend,
        &seed,
        &cond,
        &SampleOptions::default()
            .with_steps(steps)
            .with_guidance_scale(1.0),
        no_progress,
    )
    .unwrap();
    let (mse, max) = nao_inversion::errors(&back.data, &z0.data);
    assert_eq!(max, max_abs_diff(&back, &z0));
    (max, mse)
}

#[test]
fn inversion_then_sampling_reconstructs_the_latents() {
    // DDIM inversion evaluates the model at the next timestep with the current latents, so the
    // round trip is exact only in the limit: the error is first order in the step size.
    // Measured max |error| on latents of RMS 0.94 (MSE in brackets): 10 steps 0.48 (1.8e-2),
    // 50 steps 0.10 (1.0e-3), 200 steps 0.026 (6.8e-5).
    let (e10, m10) = round_trip_error(10);
    let (e50, m50) = round_trip_error(50);
    let (e200, m200) = round_trip_error(200);
    assert!(e10 < 0.6 && m10 < 0.025, "10 steps: {e10:e} ({m10:e})");
    assert!(e50 < 0.13 && m50 < 1.5e-3, "50 steps: {e50:e} ({m50:e})");
    assert!(
        e200 < 0.035 && m200 < 1e-4,
        "200 steps: {e200:e} ({m200:e})"
    );
    assert!(
        e200 < 0.35 * e50 && e50 < 0.35 * e10,
        "{e10:e} {e50:e} {e200:e}"
    );
}

#[test]
fn inversion_follows_the_closed_form_ode_backwards() {
    // For data N(μ, S²), z = (x − √ᾱ·μ)/√(ᾱS² + 1 − ᾱ) is constant along the ODE: the exact
    // inversion of x₀ at ᾱ₀ ends at √ᾱ_T·μ + √(ᾱ_T S² + 1 − ᾱ_T)·z, ᾱ_T = ᾱ[last timestep].
    let backend = AnalyticBackend::new();
    let options = InversionOptions::default();
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let mu = AnalyticBackend::prompt_mean(PROMPT);
    let z0 = data_latents(1, 2);
    let seed = invert_latents(&backend, &z0, &cond, &options, no_progress).unwrap();
    let a = &backend.alphas_cumprod;
    let (a0, at) = (a[0], a[981]);
    let s2 = DATA_STD * DATA_STD;
    let mut err: f64 = 0.0;
    for (k, (&x0, &xt)) in z0.data.iter().zip(&seed.data).enumerate() {
        let m = mu[(k / 64) % 4] as f64;
        let z = (x0 as f64 - a0.sqrt() * m) / (a0 * s2 + 1.0 - a0).sqrt();
        let exact = at.sqrt() * m + (at * s2 + 1.0 - at).sqrt() * z;
        err = err.max((xt as f64 - exact).abs());
    }
    // Measured: 9.5e-2 with 50 steps (first order in the step size, as for sampling).
    assert!(err < 0.12, "max deviation {err:e}");
}

#[test]
fn invert_encodes_images_then_inverts_the_latents() {
    let backend = AnalyticBackend::new();
    let options = InversionOptions::default().with_steps(5);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let images = Tensor::new(
        vec![2, 3, 16, 16],
        (0..2 * 3 * 256)
            .map(|i| ((i % 37) as f32 / 18.0) - 1.0)
            .collect(),
    )
    .unwrap();
    let from_images = invert(&backend, &images, &cond, &options, no_progress).unwrap();
    let z0 = backend.encode_image(&images).unwrap();
    let from_latents = invert_latents(&backend, &z0, &cond, &options, no_progress).unwrap();
    assert_eq!(from_images, from_latents);
    assert_eq!(from_images.shape, vec![2, 4, 8, 8]);
}

#[test]
fn inversion_reports_ascending_timesteps_and_can_cancel() {
    let backend = AnalyticBackend::new();
    let options = InversionOptions::default().with_steps(10);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let z0 = data_latents(1, 3);
    let mut seen = Vec::new();
    invert_latents(&backend, &z0, &cond, &options, |p| {
        assert_eq!(p.direction, Direction::Inversion);
        seen.push(p.timestep);
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(
        seen,
        (0..10).map(|i| (1 + 100 * i) as f64).collect::<Vec<f64>>()
    );
    backend.calls.borrow_mut().clear();
    let err = invert_latents(&backend, &z0, &cond, &options, |p| {
        if p.index == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    })
    .unwrap_err();
    assert!(matches!(err, InversionError::Cancelled));
    assert_eq!(backend.call_count(), 3);
}

#[test]
fn guided_inversion_batches_uncond_and_cond() {
    let backend = AnalyticBackend::new();
    let options = InversionOptions::default()
        .with_steps(4)
        .with_guidance_scale(3.0);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    assert!(cond.uncond.is_some());
    invert_latents(&backend, &data_latents(2, 4), &cond, &options, no_progress).unwrap();
    for call in backend.calls.borrow().iter() {
        assert_eq!(call.batch, 4);
    }
    // The default guidance (1.0) runs no unconditional pass.
    backend.calls.borrow_mut().clear();
    let plain = InversionOptions::default().with_steps(4);
    invert_latents(&backend, &data_latents(2, 4), &cond, &plain, no_progress).unwrap();
    assert!(backend.calls.borrow().iter().all(|c| c.batch == 2));
}

#[test]
fn reconstruct_reports_latent_and_image_errors() {
    let backend = AnalyticBackend::new();
    let options = InversionOptions::default().with_steps(50);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    // An image whose 2×2 blocks are constant, so the mock VAE round trip is lossless.
    let images = Tensor::new(
        vec![1, 3, 16, 16],
        (0..3 * 256)
            .map(|i| {
                let (c, y, x) = (i / 256, (i % 256) / 16, i % 16);
                (((c * 5 + y / 2 * 3 + x / 2) % 9) as f32 / 8.0) * 1.6 - 0.8
            })
            .collect(),
    )
    .unwrap();
    let mut directions = Vec::new();
    let r = reconstruct(
        &backend,
        &images,
        &cond,
        &options,
        &options.sampling_back(),
        |p| {
            directions.push(p.direction);
            ControlFlow::Continue(())
        },
    )
    .unwrap();
    assert_eq!(directions.len(), 100);
    assert!(directions[..50].iter().all(|d| *d == Direction::Inversion));
    assert!(directions[50..].iter().all(|d| *d == Direction::Sampling));
    assert_eq!(r.seed.shape, vec![1, 4, 8, 8]);
    assert_eq!(r.latents, backend.encode_image(&images).unwrap());
    let image = r.image.as_ref().unwrap();
    assert_eq!(image.shape, images.shape);
    let (latent_mse, image_mse, psnr) = (r.latent_mse, r.image_mse.unwrap(), r.psnr_db.unwrap());
    // Measured at 50 steps: latent MSE 3.1e-3 (max 8.4e-2), image MSE 2.5e-3, PSNR 26.0 dB.
    assert!(latent_mse < 5e-3, "latent mse {latent_mse:e}");
    assert!(r.latent_max_abs_error < 0.13, "{}", r.latent_max_abs_error);
    assert!(image_mse < 4e-3, "image mse {image_mse:e}");
    assert!(psnr > 24.0, "psnr {psnr}");
    assert!((psnr - (-10.0 * image_mse.log10())).abs() < 1e-9);
}

#[test]
fn bad_inputs_are_clear_errors() {
    let mut backend = AnalyticBackend::new();
    let options = InversionOptions::default().with_steps(3);
    let cond = encode_prompt(&backend, PROMPT, &options).unwrap();
    let run = |b: &AnalyticBackend, x: &Tensor| invert(b, x, &cond, &options, no_progress);
    // Wrong channels, wrong rank, size not a multiple of the VAE downsampling, [0, 255] data.
    for x in [
        Tensor::zeros(vec![1, 1, 16, 16]),
        Tensor::zeros(vec![3, 16, 16]),
        Tensor::new(vec![1, 3, 16, 16], vec![128.0; 768]).unwrap(),
    ] {
        assert!(
            matches!(run(&backend, &x), Err(InversionError::InvalidInput(_))),
            "{:?}",
            x.shape
        );
    }
    assert!(matches!(
        run(&backend, &Tensor::zeros(vec![1, 3, 15, 16])),
        Err(InversionError::Backend(BackendError::Shape(_)))
    ));
    assert!(invert(
        &backend,
        &Tensor::zeros(vec![1, 3, 16, 16]),
        &cond,
        &options.clone().with_steps(0),
        no_progress
    )
    .is_err());
    // Guidance without unconditional embeddings.
    let guided = InversionOptions::default().with_guidance_scale(2.0);
    assert!(matches!(
        invert(
            &backend,
            &Tensor::zeros(vec![1, 3, 16, 16]),
            &cond,
            &guided,
            no_progress
        ),
        Err(InversionError::Sampling(_))
    ));
    // No VAE encoder: inversion is impossible, and says so.
    backend.with_vae_encoder = false;
    let err = run(&backend, &Tensor::zeros(vec![1, 3, 16, 16])).unwrap_err();
    assert!(
        matches!(err, InversionError::Backend(BackendError::Unsupported(_))),
        "{err}"
    );
}
