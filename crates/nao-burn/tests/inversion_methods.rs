//! The inversion methods on the embedded model: EDICT's inverse undoes its sampler to float
//! precision on real bundled images, and fixed-point iterations bring DDIM's round trip closer.

use nao_backend::Tensor;
use nao_burn::{bundled_images, BurnModel, Device, CLASS_NAMES};
use nao_inversion::{invert_latents_full, sample_inverted, InversionMethod, InversionOptions};
use nao_sampling::{no_progress, SampleOptions};

/// ‖a − b‖ / ‖b‖ in f64.
fn relative_error(a: &Tensor, b: &Tensor) -> f64 {
    let (mut d, mut n) = (0f64, 0f64);
    for (&x, &y) in a.data.iter().zip(&b.data) {
        d += (f64::from(x) - f64::from(y)).powi(2);
        n += f64::from(y).powi(2);
    }
    (d / n).sqrt()
}

/// Invert the VAE latents of 4 bundled sneakers with `method` and sample them back with the
/// method's sampler: the relative latent error.
fn round_trip(model: &BurnModel, method: InversionMethod, steps: usize) -> f64 {
    let sneaker = CLASS_NAMES.iter().position(|c| *c == "sneaker").unwrap();
    let all = bundled_images(sneaker).unwrap();
    let images = Tensor::new(vec![4, 1, 28, 28], all.data[..4 * 784].to_vec()).unwrap();
    let z0 = nao_inversion::encode_images(model, &images).unwrap();
    let options = InversionOptions::default()
        .with_steps(steps)
        .with_method(method);
    let cond = nao_inversion::encode_prompt(model, "sneaker", &options).unwrap();
    let inverted = invert_latents_full(model, &z0, &cond, &options, no_progress).unwrap();
    let sampling = SampleOptions::default()
        .with_steps(steps)
        .with_guidance_scale(1.0);
    let (back, calls) = sample_inverted(model, &inverted, &cond, &sampling, no_progress).unwrap();
    assert_eq!(calls, steps * method.sampling_calls_per_step());
    relative_error(&back, &z0)
}

#[test]
fn edict_reconstructs_the_latents_to_float_precision() {
    let model = BurnModel::embedded(&Device::flex()).unwrap();
    let edict = round_trip(&model, InversionMethod::edict(), 50);
    let ddim = round_trip(&model, InversionMethod::Ddim, 50);
    let fixed = round_trip(&model, InversionMethod::fixed_point(2), 50);
    eprintln!("relative latent error, 50 steps: ddim {ddim:.3e}, fixed-point:2 {fixed:.3e}, edict {edict:.3e}");
    assert!(edict < 1e-5, "EDICT round trip: {edict:e}");
    assert!(fixed < ddim, "fixed-point:2 {fixed:e} vs ddim {ddim:e}");
}
