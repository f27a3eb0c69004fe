//! SeedSelect as `nao augment`'s refinement (`--refine seedselect`): each drawn seed refined
//! toward its class's real images before it is sampled.

use nao_augment::{AugmentError, Refinement, Refiner};
use nao_backend::Tensor;
use nao_sampling::{SampleOptions, SchedulerChoice, SchedulerKind};
use serde::Serialize;

use crate::net::{DiffusionNet, ImageEncoder};
use crate::{refine, SelectConfig, Target};

/// A model SeedSelect refines through: the diffusion model and the image encoder together.
pub trait SelectModel: DiffusionNet + ImageEncoder {}

impl<T: DiffusionNet + ImageEncoder> SelectModel for T {}

/// Opens the model for one class's prompt.
pub type OpenModel = dyn FnMut(&str) -> crate::Result<Box<dyn SelectModel>>;

/// [`Refiner`] by SeedSelect: for each class, the model conditioned on the class's prompt and
/// the target of its real images; each seed refined alone (so it does not depend on which
/// others share its batch).
pub struct SeedSelectRefiner {
    open: Box<OpenModel>,
    config: SelectConfig,
    encoder: Option<String>,
    current: Option<(Box<dyn SelectModel>, Target)>,
}

/// What decides a refined seed: the settings but the batch and the checkpointing (which only
/// change how it is computed).
#[derive(Serialize)]
struct Identity<'a> {
    iterations: usize,
    lr: f64,
    lr_drop_at: usize,
    lr_drop: f64,
    weight_decay: f64,
    steps: usize,
    guidance: f64,
    semantic_weights: &'a [f64],
    semantic_scale: f64,
    appearance_scale: f64,
    decode: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    encoder: Option<&'a str>,
}

impl SeedSelectRefiner {
    /// SeedSelect with `config`, opening the model for each class's prompt with `open`.
    pub fn new(config: SelectConfig, open: Box<OpenModel>) -> crate::Result<Self> {
        config.check()?;
        Ok(Self {
            open,
            config,
            encoder: None,
            current: None,
        })
    }

    /// With an image encoder apart from the model (`--image-encoder`), named in the
    /// [`identity`](Refiner::identity) by `identity` (e.g. a hash of its files): another
    /// encoder refines seeds differently.
    pub fn with_encoder(mut self, identity: impl Into<String>) -> Self {
        self.encoder = Some(identity.into());
        self
    }
}

fn augment_error(e: crate::SelectError) -> AugmentError {
    AugmentError::Compute {
        what: "SeedSelect",
        message: e.to_string(),
    }
}

impl Refiner for SeedSelectRefiner {
    fn identity(&self) -> String {
        let c = &self.config;
        let id = Identity {
            iterations: c.iterations,
            lr: c.lr,
            lr_drop_at: c.lr_drop_at,
            lr_drop: c.lr_drop,
            weight_decay: c.weight_decay,
            steps: c.steps,
            guidance: c.guidance,
            semantic_weights: &c.semantic_weights,
            semantic_scale: c.semantic_scale,
            appearance_scale: c.appearance_scale,
            decode: c.decode.name(),
            encoder: self.encoder.as_deref(),
        };
        format!(
            "seedselect {}",
            serde_json::to_string(&id).unwrap_or_default()
        )
    }

    /// SeedSelect's own sampler: DDIM (η = 0) at its steps and guidance, the sampler each
    /// seed's image was optimised through.
    fn render_options(&self, options: SampleOptions) -> SampleOptions {
        options
            .with_scheduler(SchedulerChoice::new(SchedulerKind::Ddim))
            .with_eta(0.0)
            .with_steps(self.config.steps)
            .with_guidance_scale(self.config.guidance)
    }

    fn prepare(&mut self, _class: &str, prompt: &str, images: &Tensor) -> nao_augment::Result<()> {
        let model = (self.open)(prompt).map_err(augment_error)?;
        let target = Target::from_images(&*model, &*model, images).map_err(augment_error)?;
        self.current = Some((model, target));
        Ok(())
    }

    fn refine(&mut self, seed: &[f64]) -> nao_augment::Result<(Vec<f64>, Refinement)> {
        let (model, target) = self
            .current
            .as_ref()
            .ok_or_else(|| AugmentError::Input("SeedSelect: no class was prepared".into()))?;
        let z: Vec<f32> = seed.iter().map(|&v| v as f32).collect();
        let mut config = self.config.clone();
        config.batch = 1;
        let mut r = refine(&**model, &**model, target, &[z], &config, &mut |_| {
            std::ops::ControlFlow::Continue(())
        })
        .map_err(augment_error)?;
        let r = r.remove(0);
        let how = Refinement {
            loss_before: r.losses.first().copied().unwrap_or(f64::NAN),
            loss_after: r.losses.last().copied().unwrap_or(f64::NAN),
            norm_before: r.norm_before,
            log_chi_before: r.log_chi_before,
        };
        Ok((r.seed.iter().map(|&v| f64::from(v)).collect(), how))
    }
}
