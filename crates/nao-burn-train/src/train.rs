//! Training of the three networks, deterministic from a seed.
//!
//! All randomness (batch order, diffusion timesteps and noise, reparameterisation noise,
//! flips, conditioning dropout) comes from the project's seeded ChaCha8 generator on the host,
//! so a run is reproducible on any burn device (up to the device's float rounding).

use std::ops::ControlFlow;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use nao_prior::{GaussianSeeds, RngName};
use serde::{Deserialize, Serialize};

use nao_burn::{
    timestep_features, Autoencoder, AutoencoderConfig, Classifier, ClassifierConfig, Denoiser,
    DenoiserConfig, IMAGE_PIXELS, IMAGE_SIDE, NULL_CLASS, NUM_CLASSES,
};

use crate::data::{shuffle, ImageSet};
use crate::error::TrainError;

/// One optimisation stage: steps, batch size and peak learning rate (cosine decay to 5 %).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Stage {
    /// Optimiser steps.
    pub steps: usize,
    /// Batch size.
    pub batch: usize,
    /// Peak learning rate (Adam).
    pub lr: f64,
}

impl Stage {
    fn check(&self, name: &str) -> Result<(), TrainError> {
        if self.steps == 0 || self.batch == 0 {
            return Err(TrainError::Invalid(format!(
                "{name}: steps ({}) and batch ({}) must be positive",
                self.steps, self.batch
            )));
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return Err(TrainError::Invalid(format!(
                "{name}: learning rate {} must be positive and finite",
                self.lr
            )));
        }
        Ok(())
    }

    /// Learning rate at `step`: 2 % linear warm-up, then cosine decay to 5 % of the peak.
    pub fn lr_at(&self, step: usize) -> f64 {
        let warm = (self.steps / 50).max(1);
        if step < warm {
            return self.lr * (step + 1) as f64 / warm as f64;
        }
        let p = (step - warm) as f64 / (self.steps - warm).max(1) as f64;
        self.lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * p).cos()))
    }
}

/// Everything a training run needs; [`TrainConfig::default`] is the committed model's recipe.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Seed of every random choice.
    pub seed: u64,
    /// Autoencoder sizes.
    pub autoencoder: AutoencoderConfig,
    /// Autoencoder optimisation.
    pub autoencoder_stage: Stage,
    /// KL weight of the autoencoder (per latent element, against the per-pixel MSE).
    pub kl_weight: f64,
    /// Noise-predictor sizes.
    pub denoiser: DenoiserConfig,
    /// Noise-predictor optimisation.
    pub denoiser_stage: Stage,
    /// Probability of replacing the class by "no class" (classifier-free guidance).
    pub cond_dropout: f64,
    /// Classes kept at `rare_keep` of their images for the noise predictor.
    pub rare_classes: Vec<usize>,
    /// Fraction of the rare classes' images kept (0.01).
    pub rare_keep: f64,
    /// Classifier sizes.
    pub classifier: ClassifierConfig,
    /// Classifier optimisation.
    pub classifier_stage: Stage,
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self {
            seed: 20231,
            autoencoder: AutoencoderConfig::default(),
            autoencoder_stage: Stage {
                steps: 2000,
                batch: 48,
                lr: 2e-3,
            },
            kl_weight: 1e-4,
            denoiser: DenoiserConfig::default(),
            denoiser_stage: Stage {
                steps: 6000,
                batch: 256,
                lr: 1e-3,
            },
            cond_dropout: 0.1,
            rare_classes: nao_burn::RARE_CLASSES.to_vec(),
            rare_keep: 0.01,
            classifier: ClassifierConfig::default(),
            classifier_stage: Stage {
                steps: 4000,
                batch: 64,
                lr: 1e-3,
            },
        }
    }
}

impl TrainConfig {
    /// Check every field; the error names the field and value.
    pub fn check(&self) -> Result<(), TrainError> {
        self.autoencoder_stage.check("autoencoder")?;
        self.denoiser_stage.check("denoiser")?;
        self.classifier_stage.check("classifier")?;
        if !(0.0..1.0).contains(&self.cond_dropout) {
            return Err(TrainError::Invalid(format!(
                "cond_dropout {} is not in [0, 1)",
                self.cond_dropout
            )));
        }
        if !(self.kl_weight >= 0.0 && self.kl_weight.is_finite()) {
            return Err(TrainError::Invalid(format!(
                "kl_weight {} must be ≥ 0",
                self.kl_weight
            )));
        }
        let d = self.autoencoder.latent_channels * (IMAGE_SIDE / 4) * (IMAGE_SIDE / 4);
        if d != self.denoiser.latent_dim {
            return Err(TrainError::Invalid(format!(
                "denoiser latent_dim {} does not match the autoencoder's {} channels × 7 × 7 = {d}",
                self.denoiser.latent_dim, self.autoencoder.latent_channels
            )));
        }
        Ok(())
    }
}

/// burn's random initialisers draw from a device-wide (often process-wide) generator; the two
/// training threads would interleave their draws. Seeding and building under one lock makes
/// every network's initial weights a function of the seed alone.
static INIT_LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn seeded_init<M>(seed: u64, device: &Device, build: impl FnOnce(&Device) -> M) -> M {
    let _guard = INIT_LOCK.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(seed);
    build(device)
}

/// A progress report: stage name, step (1-based), total steps, the step's loss. The answer
/// decides whether training goes on: [`ControlFlow::Break`] stops it after this step with
/// [`TrainError::Cancelled`] (a program maps its interruption signal to it; the trainers read
/// no global flag).
pub type Progress<'a> = &'a mut dyn FnMut(&str, usize, usize, f64) -> ControlFlow<()>;

/// Report a step; `Err(Cancelled)` when the callback says stop.
fn report(
    progress: Progress<'_>,
    stage: &str,
    step: usize,
    steps: usize,
    loss: f64,
) -> Result<(), TrainError> {
    match progress(stage, step, steps, loss) {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(()) => Err(TrainError::Cancelled),
    }
}

/// Images `[b, 1, 28, 28]` on `device` from host pixels in `[−1, 1]`.
pub fn image_tensor(pixels: Vec<f32>, device: &Device) -> Tensor<4> {
    let b = pixels.len() / IMAGE_PIXELS;
    Tensor::from_data(
        TensorData::new(pixels, [b, 1, IMAGE_SIDE, IMAGE_SIDE]),
        device,
    )
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_scalar::<f32>() as f64
}

/// Batches of indices: reshuffled every epoch from the seeded generator.
struct Batcher {
    order: Vec<usize>,
    pos: usize,
    rng: GaussianSeeds,
}

impl Batcher {
    fn new(n: usize, seed: u64) -> Self {
        let mut rng = GaussianSeeds::new(RngName::ChaCha8, seed);
        let mut order: Vec<usize> = (0..n).collect();
        shuffle(&mut order, &mut rng);
        Self { order, pos: 0, rng }
    }

    fn next(&mut self, batch: usize) -> Vec<usize> {
        let mut out = Vec::with_capacity(batch);
        while out.len() < batch {
            if self.pos == self.order.len() {
                shuffle(&mut self.order, &mut self.rng);
                self.pos = 0;
            }
            out.push(self.order[self.pos]);
            self.pos += 1;
        }
        out
    }
}

/// Flip each image of a `[b, 784]` batch left–right with probability ½ (augmentation).
fn random_flips(pixels: &mut [f32], rng: &mut GaussianSeeds) {
    for img in pixels.chunks_mut(IMAGE_PIXELS) {
        if rng.uniform() < 0.5 {
            for row in img.chunks_mut(IMAGE_SIDE) {
                row.reverse();
            }
        }
    }
}

/// Train the autoencoder on `data`; returns it (without autodiff) and the loss per step.
pub fn train_autoencoder(
    data: &ImageSet,
    config: &TrainConfig,
    device: &Device,
    progress: Progress<'_>,
) -> Result<(Autoencoder, Vec<f64>), TrainError> {
    config.check()?;
    if data.is_empty() {
        return Err(TrainError::Invalid("no training images".into()));
    }
    let stage = config.autoencoder_stage;
    let ad = device.clone().autodiff();
    let mut model = seeded_init(config.seed ^ 0xAE01, &ad, |d| {
        Autoencoder::new(&config.autoencoder, d)
    });
    let mut optim = AdamConfig::new().init();
    let mut batches = Batcher::new(data.len(), config.seed ^ 0xAE);
    let mut rng = GaussianSeeds::new(RngName::ChaCha8, config.seed ^ 0xAE00);
    let mut losses = Vec::with_capacity(stage.steps);
    for step in 0..stage.steps {
        let idx = batches.next(stage.batch);
        let mut px = data.batch_signed(&idx);
        random_flips(&mut px, &mut rng);
        let x = image_tensor(px, &ad);
        let (mean, logvar) = model.encode(x.clone());
        let mut eps = vec![0f32; mean.shape().num_elements()];
        rng.fill(&mut eps);
        let eps = Tensor::<4>::from_data(TensorData::new(eps, mean.dims()), &ad);
        let z = mean.clone() + (logvar.clone() * 0.5).exp() * eps;
        let recon = model.decode(z);
        let mse = (recon - x).powf_scalar(2.0).mean();
        // KL(N(μ, σ²) ‖ N(0, 1)) per latent element.
        let kl = ((mean.powf_scalar(2.0) + logvar.clone().exp() - logvar - 1.0) * 0.5).mean();
        let loss = mse.clone() + kl * config.kl_weight;
        let value = scalar(mse);
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(stage.lr_at(step), model, grads);
        losses.push(value);
        report(progress, "autoencoder", step + 1, stage.steps, value)?;
    }
    Ok((model.valid(), losses))
}

/// Posterior means `[n, 196]` (unscaled) of the images at `indices`, in batches.
pub fn encode_means(ae: &Autoencoder, data: &ImageSet, device: &Device) -> Vec<f32> {
    let mut out = Vec::with_capacity(data.len() * 196);
    let all: Vec<usize> = (0..data.len()).collect();
    for chunk in all.chunks(500) {
        let (mean, _) = ae.encode(image_tensor(data.batch_signed(chunk), device));
        out.extend(mean.into_data().try_to_vec::<f32>().expect("f32 tensor"));
    }
    out
}

/// The scaling factor that gives the latents unit variance: 1 / std (f64 accumulation).
pub fn scaling_factor(latents: &[f32]) -> f64 {
    let n = latents.len() as f64;
    let mean = latents.iter().map(|&v| v as f64).sum::<f64>() / n;
    let var = latents
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n;
    1.0 / var.sqrt()
}

/// Train the noise predictor on scaled latents `[n, d]` with their class labels, with the
/// ε-prediction objective at uniformly drawn timesteps of `alphas_cumprod`.
pub fn train_denoiser(
    latents: &[f32],
    labels: &[u8],
    alphas_cumprod: &[f64],
    config: &TrainConfig,
    device: &Device,
    progress: Progress<'_>,
) -> Result<(Denoiser, Vec<f64>), TrainError> {
    config.check()?;
    let d = config.denoiser.latent_dim;
    if labels.is_empty() || latents.len() != labels.len() * d {
        return Err(TrainError::Invalid(format!(
            "{} latent values do not make {} latents of size {d}",
            latents.len(),
            labels.len()
        )));
    }
    let stage = config.denoiser_stage;
    let ad = device.clone().autodiff();
    let mut model = seeded_init(config.seed ^ 0xD001, &ad, |d| {
        Denoiser::new(&config.denoiser, d)
    });
    let mut optim = AdamConfig::new().init();
    let mut batches = Batcher::new(labels.len(), config.seed ^ 0xD0);
    let mut rng = GaussianSeeds::new(RngName::ChaCha8, config.seed ^ 0xD000);
    let t_max = alphas_cumprod.len();
    let mut losses = Vec::with_capacity(stage.steps);
    for step in 0..stage.steps {
        let idx = batches.next(stage.batch);
        let b = idx.len();
        let mut noisy = Vec::with_capacity(b * d);
        let mut noise = vec![0f32; b * d];
        rng.fill(&mut noise);
        let mut ts = Vec::with_capacity(b);
        let mut classes = Vec::with_capacity(b);
        for (k, &i) in idx.iter().enumerate() {
            let t = ((rng.uniform() * t_max as f64) as usize).min(t_max - 1);
            let a = alphas_cumprod[t];
            let (sa, sn) = (a.sqrt(), (1.0 - a).sqrt());
            for j in 0..d {
                let x0 = latents[i * d + j] as f64;
                noisy.push((sa * x0 + sn * noise[k * d + j] as f64) as f32);
            }
            ts.push(t as f64);
            let drop = rng.uniform() < config.cond_dropout;
            classes.push(if drop { NULL_CLASS } else { labels[i] as usize } as i64);
        }
        let x = Tensor::<2>::from_data(TensorData::new(noisy, [b, d]), &ad);
        let tf = config.denoiser.time_features;
        let time =
            Tensor::<2>::from_data(TensorData::new(timestep_features(&ts, tf), [b, tf]), &ad);
        let c = Tensor::<1, Int>::from_data(TensorData::new(classes, [b]), &ad);
        let target = Tensor::<2>::from_data(TensorData::new(noise, [b, d]), &ad);
        let loss = (model.forward(x, time, c) - target).powf_scalar(2.0).mean();
        let value = scalar(loss.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(stage.lr_at(step), model, grads);
        losses.push(value);
        report(progress, "denoiser", step + 1, stage.steps, value)?;
    }
    Ok((model.valid(), losses))
}

/// Train the classifier on `data` (cross-entropy, random flips).
pub fn train_classifier(
    data: &ImageSet,
    config: &TrainConfig,
    device: &Device,
    progress: Progress<'_>,
) -> Result<(Classifier, Vec<f64>), TrainError> {
    config.check()?;
    if data.is_empty() {
        return Err(TrainError::Invalid("no training images".into()));
    }
    let stage = config.classifier_stage;
    let ad = device.clone().autodiff();
    let mut model = seeded_init(config.seed ^ 0xC101, &ad, |d| {
        Classifier::new(&config.classifier, d)
    });
    let mut optim = AdamConfig::new().init();
    let ce = CrossEntropyLossConfig::new().init(&ad);
    let mut batches = Batcher::new(data.len(), config.seed ^ 0xC1);
    let mut rng = GaussianSeeds::new(RngName::ChaCha8, config.seed ^ 0xC100);
    let mut losses = Vec::with_capacity(stage.steps);
    for step in 0..stage.steps {
        let idx = batches.next(stage.batch);
        let mut px = data.batch_signed(&idx);
        random_flips(&mut px, &mut rng);
        let labels: Vec<i64> = idx.iter().map(|&i| data.labels[i] as i64).collect();
        let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [idx.len()]), &ad);
        let loss = ce.forward(model.forward(image_tensor(px, &ad)), y);
        let value = scalar(loss.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &model);
        model = optim.step(stage.lr_at(step), model, grads);
        losses.push(value);
        report(progress, "classifier", step + 1, stage.steps, value)?;
    }
    Ok((model.valid(), losses))
}

/// Predicted classes of images `[n, 784]` in `[−1, 1]`, batched.
pub fn classify(model: &Classifier, pixels: &[f32], device: &Device) -> Vec<usize> {
    let mut out = Vec::with_capacity(pixels.len() / IMAGE_PIXELS);
    for chunk in pixels.chunks(500 * IMAGE_PIXELS) {
        let logits = model.forward(image_tensor(chunk.to_vec(), device));
        let am = logits.argmax(1).into_data();
        out.extend(am.iter::<i64>().map(|v| (v as usize).min(NUM_CLASSES - 1)));
    }
    out
}

/// Fraction of `data` the classifier labels correctly.
pub fn accuracy(model: &Classifier, data: &ImageSet, device: &Device) -> f64 {
    let all: Vec<usize> = (0..data.len()).collect();
    let pred = classify(model, &data.batch_signed(&all), device);
    let right = pred
        .iter()
        .zip(&data.labels)
        .filter(|(p, l)| **p == **l as usize)
        .count();
    right as f64 / data.len().max(1) as f64
}

/// Mean squared pixel error (pixels in `[−1, 1]`) of autoencoding `data` through the posterior
/// mean.
pub fn reconstruction_mse(ae: &Autoencoder, data: &ImageSet, device: &Device) -> f64 {
    let all: Vec<usize> = (0..data.len()).collect();
    let mut sum = 0.0f64;
    for chunk in all.chunks(500) {
        let x = data.batch_signed(chunk);
        let (mean, _) = ae.encode(image_tensor(x.clone(), device));
        let y = ae
            .decode(mean)
            .into_data()
            .try_to_vec::<f32>()
            .expect("f32 tensor");
        sum += x
            .iter()
            .zip(&y)
            .map(|(a, b)| ((a - b) as f64).powi(2))
            .sum::<f64>();
    }
    sum / (data.len() * IMAGE_PIXELS).max(1) as f64
}
