//! The one mock [`Backend`] of the workspace: an analytic noise predictor, for the tests and
//! doc examples of `nao-sampling`, `nao-inversion` and everything built on them.
//!
//! The "model" is the exact noise predictor of Gaussian data: every latent value is
//! `N(μ_c, S²)` with a per-channel mean `μ` given by the prompt. Then
//! `x_t = √ᾱ·x₀ + √(1−ᾱ)·ε` and `E[ε | x_t] = √(1−ᾱ)·(x_t − √ᾱ·μ)/(ᾱ·S² + 1 − ᾱ)`, and the DDIM
//! ODE has the closed-form solution `x(ᾱ) = √ᾱ·μ + √(ᾱ·S² + 1 − ᾱ)·z` for a fixed `z`.

use std::cell::RefCell;

use nao_backend::{
    Backend, BackendError, Capabilities, Conditioning, ModelInfo, SchedulerConfig, Tensor,
};
use nao_sampling::DdimScheduler;

/// Standard deviation of the mock's data.
pub const DATA_STD: f64 = 0.5;

/// One recorded `predict_noise` call.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// Batch size of the latents.
    pub batch: usize,
    /// The timesteps passed.
    pub timesteps: Vec<i64>,
    /// The context passed.
    pub context: Tensor,
}

/// The mock backend.
pub struct AnalyticBackend {
    /// The model facts it reports.
    pub info: ModelInfo,
    /// ᾱ of its scheduler, per training timestep.
    pub alphas_cumprod: Vec<f64>,
    /// Every `predict_noise` call, in order.
    pub calls: RefCell<Vec<Call>>,
    /// Whether it has a VAE encoder (inversion needs one).
    pub with_vae_encoder: bool,
}

impl Default for AnalyticBackend {
    fn default() -> Self {
        Self::new()
    }
}

/// SD 1.x's scheduler config (the fixture's; its `leading` spacing given, so that the other
/// schedulers take it too, as from the fixture's file).
pub fn sd1_scheduler() -> SchedulerConfig {
    SchedulerConfig::from_json(
        r#"{"beta_schedule": "scaled_linear", "beta_start": 0.00085, "beta_end": 0.012,
            "steps_offset": 1, "set_alpha_to_one": false, "clip_sample": false,
            "timestep_spacing": "leading"}"#,
    )
    .unwrap()
}

impl AnalyticBackend {
    /// A 4-channel latent model with VAE downsampling 2 and 3-channel 16×16 images.
    pub fn new() -> Self {
        Self::with_scheduler(sd1_scheduler())
    }

    /// The same with another scheduler config.
    pub fn with_scheduler(scheduler: SchedulerConfig) -> Self {
        let alphas_cumprod = DdimScheduler::new(scheduler.clone())
            .unwrap()
            .alphas_cumprod()
            .to_vec();
        Self {
            info: ModelInfo {
                name: "analytic".into(),
                vae_scaling_factor: 0.5,
                latent_channels: 4,
                vae_downsample: 2,
                default_image_size: (16, 16),
                image_channels: 3,
                fixed_image_size: false,
                scheduler,
            },
            alphas_cumprod,
            calls: RefCell::new(Vec::new()),
            with_vae_encoder: true,
        }
    }

    /// The per-channel data mean a prompt stands for.
    pub fn prompt_mean(prompt: &str) -> [f32; 4] {
        let h = prompt
            .bytes()
            .fold(7u32, |a, b| a.wrapping_mul(31).wrapping_add(b as u32));
        std::array::from_fn(|c| (((h >> (3 * c)) % 13) as f32) / 6.0 - 1.0)
    }

    /// Number of `predict_noise` calls so far.
    pub fn call_count(&self) -> usize {
        self.calls.borrow().len()
    }
}

impl Backend for AnalyticBackend {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            text_encoder: true,
            vae_encoder: self.with_vae_encoder,
            vae_decoder: true,
        }
    }

    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        let t = |p: &str| Tensor::new(vec![1, 1, 4], Self::prompt_mean(p).to_vec());
        Ok(Conditioning {
            cond: t(prompt)?,
            uncond: if with_uncond {
                Some(t(negative_prompt)?)
            } else {
                None
            },
        })
    }

    fn predict_noise(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        let [b, c, h, w] = latents.shape[..] else {
            return Err(BackendError::Shape(format!("latents {:?}", latents.shape)));
        };
        if timesteps.len() != b || context.shape != [b, 1, 4] || c != 4 {
            return Err(BackendError::Shape(format!(
                "latents {:?}, {} timesteps, context {:?}",
                latents.shape,
                timesteps.len(),
                context.shape
            )));
        }
        self.calls.borrow_mut().push(Call {
            batch: b,
            timesteps: timesteps.to_vec(),
            context: context.clone(),
        });
        let s2 = DATA_STD * DATA_STD;
        let hw = h * w;
        let mut out = vec![0f32; latents.data.len()];
        for i in 0..b {
            let t = timesteps[i];
            if t < 0 || t as usize >= self.alphas_cumprod.len() {
                return Err(BackendError::Runtime(format!("timestep {t}")));
            }
            let a = self.alphas_cumprod[t as usize];
            for ch in 0..c {
                let mu = context.data[i * 4 + ch] as f64;
                let base = (i * c + ch) * hw;
                for k in base..base + hw {
                    let x = latents.data[k] as f64;
                    out[k] = ((1.0 - a).sqrt() * (x - a.sqrt() * mu) / (a * s2 + 1.0 - a)) as f32;
                }
            }
        }
        Tensor::new(latents.shape.clone(), out)
    }

    /// 2×2 average pooling; latent channel `c` is image channel `c mod 3` (× scaling factor).
    fn encode_image(&self, images: &Tensor) -> Result<Tensor, BackendError> {
        if !self.with_vae_encoder {
            return Err(BackendError::Unsupported("VAE encoder"));
        }
        let [b, 3, hh, ww] = images.shape[..] else {
            return Err(BackendError::Shape(format!("images {:?}", images.shape)));
        };
        let (h, w) = (hh / 2, ww / 2);
        let scale = self.info.vae_scaling_factor as f32;
        let mut out = vec![0f32; b * 4 * h * w];
        for i in 0..b {
            for c in 0..4 {
                let src = (i * 3 + c % 3) * hh * ww;
                for y in 0..h {
                    for x in 0..w {
                        let p = |dy: usize, dx: usize| {
                            images.data[src + (2 * y + dy) * ww + 2 * x + dx]
                        };
                        let m = (p(0, 0) + p(0, 1) + p(1, 0) + p(1, 1)) / 4.0;
                        out[((i * 4 + c) * h + y) * w + x] = m * scale;
                    }
                }
            }
        }
        Tensor::new(vec![b, 4, h, w], out)
    }

    /// ÷ scaling factor, nearest 2× upsampling of channels 0..3, mapped to `[0, 1]`.
    fn decode_latents(&self, latents: &Tensor) -> Result<Tensor, BackendError> {
        let [b, 4, h, w] = latents.shape[..] else {
            return Err(BackendError::Shape(format!("latents {:?}", latents.shape)));
        };
        let scale = self.info.vae_scaling_factor as f32;
        let (hh, ww) = (2 * h, 2 * w);
        let mut out = vec![0f32; b * 3 * hh * ww];
        for i in 0..b {
            for c in 0..3 {
                for y in 0..hh {
                    for x in 0..ww {
                        let v = latents.data[((i * 4 + c) * h + y / 2) * w + x / 2] / scale;
                        out[((i * 3 + c) * hh + y) * ww + x] = ((v + 1.0) / 2.0).clamp(0.0, 1.0);
                    }
                }
            }
        }
        Tensor::new(vec![b, 3, hh, ww], out)
    }
}
