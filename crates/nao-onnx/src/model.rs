//! Loading an export folder into an [`OnnxBackend`], and what it holds.

use std::path::{Path, PathBuf};

use nao_backend::{BackendError, ModelInfo, SchedulerConfig};
use nao_clip::ClipTokenizer;

use crate::session::Component;
use crate::{config, runtime};
use crate::{ComponentInfo, OnnxBackend, OnnxError, OnnxOptions};

/// A component folder: absent → `None`; present without its `model.onnx` → an error.
fn optional_model(dir: &Path, name: &str) -> Result<Option<PathBuf>, OnnxError> {
    let folder = dir.join(name);
    if !folder.is_dir() {
        return Ok(None);
    }
    let model = folder.join("model.onnx");
    crate::session::require_model_file(
        &model,
        &format!("the {name}/ folder exists but this model file is missing"),
    )?;
    Ok(Some(model))
}

fn scheduler(dir: &Path) -> Result<SchedulerConfig, OnnxError> {
    let path = dir.join("scheduler").join("scheduler_config.json");
    SchedulerConfig::from_file(&path).map_err(|e| match e {
        BackendError::Io { message, .. } => OnnxError::Io {
            path: path.clone(),
            message,
        },
        BackendError::Config { message, .. } => OnnxError::Config {
            path: path.clone(),
            message,
        },
        other => OnnxError::Config {
            path: path.clone(),
            message: other.to_string(),
        },
    })
}

impl OnnxBackend {
    /// Load an optimum-layout Stable Diffusion ONNX folder.
    ///
    /// Needs `unet/model.onnx`, `unet/config.json`, a VAE config (`vae_decoder/`,
    /// `vae_encoder/` or `vae/config.json`) and `scheduler/scheduler_config.json`. The text
    /// encoder (with `tokenizer/`), VAE encoder and VAE decoder are optional: a missing folder
    /// shows in [`Backend::capabilities`](nao_backend::Backend::capabilities); a folder without its `model.onnx` is an error.
    ///
    /// Loads ONNX Runtime on first use (see [`OnnxOptions::library_path`]).
    pub fn load(dir: impl AsRef<Path>, options: &OnnxOptions) -> Result<Self, OnnxError> {
        let dir = dir.as_ref();
        options.validate()?;
        if !dir.is_dir() {
            return Err(OnnxError::Io {
                path: dir.to_path_buf(),
                message: if dir.exists() {
                    "not a folder (expected an optimum ONNX export folder)".into()
                } else {
                    "no such model folder".into()
                },
            });
        }
        // configs first: they are cheap and their errors are the likeliest
        let (vae, _) = config::vae_config(dir)?;
        let (unet_cfg, unet_cfg_path) = config::unet_config(dir)?;
        if unet_cfg.in_channels != vae.latent_channels {
            return Err(OnnxError::Config {
                path: unet_cfg_path,
                message: format!(
                    "in_channels = {} but the VAE has {} latent channels (inpainting and other \
                     conditioned UNets are not supported)",
                    unet_cfg.in_channels, vae.latent_channels
                ),
            });
        }
        let scheduler = scheduler(dir)?;
        let unet_path = dir.join("unet").join("model.onnx");
        crate::session::require_model_file(&unet_path, "the UNet model is missing")?;
        let text_path = optional_model(dir, "text_encoder")?;
        let tokenizer_dir = dir.join("tokenizer");
        let tokenizer = match (&text_path, tokenizer_dir.is_dir()) {
            (Some(_), true) => Some(ClipTokenizer::from_dir(&tokenizer_dir)?),
            (Some(_), false) => {
                return Err(OnnxError::Io {
                    path: tokenizer_dir,
                    message: "the text encoder needs its tokenizer folder".into(),
                })
            }
            (None, _) => None,
        };
        let encoder_path = optional_model(dir, "vae_encoder")?;
        let decoder_path = optional_model(dir, "vae_decoder")?;

        let env = runtime::environment(options.library_path.as_deref())?;
        let unet = Self::load_unet(
            Component::load("unet", unet_path, &env, options)?,
            vae.latent_channels,
        )?;
        let text = match (text_path, tokenizer) {
            (Some(path), Some(tokenizer)) => Some(Self::load_text(
                Component::load("text_encoder", path, &env, options)?,
                tokenizer,
            )?),
            _ => None,
        };
        let vae_encoder = encoder_path
            .map(|p| {
                let model = Component::load("vae_encoder", p, &env, options)?;
                Self::load_vae(
                    model,
                    &["sample"],
                    &["latent_parameters", "latent_sample"],
                    vae.image_channels,
                )
            })
            .transpose()?;
        let vae_decoder = decoder_path
            .map(|p| {
                let model = Component::load("vae_decoder", p, &env, options)?;
                Self::load_vae(model, &["latent_sample"], &["sample"], vae.latent_channels)
            })
            .transpose()?;

        let name = dir
            .canonicalize()
            .ok()
            .as_deref()
            .unwrap_or(dir)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string());
        let info = ModelInfo {
            name,
            vae_scaling_factor: vae.scaling_factor,
            latent_channels: vae.latent_channels,
            vae_downsample: vae.downsample,
            default_image_size: (
                unet_cfg.sample_size.0 * vae.downsample,
                unet_cfg.sample_size.1 * vae.downsample,
            ),
            image_channels: vae.image_channels,
            fixed_image_size: false,
            scheduler,
        };
        Ok(Self {
            dir: dir.to_path_buf(),
            info,
            shift_factor: vae.shift_factor,
            unet_downsample: unet_cfg.downsample,
            text,
            unet,
            vae_encoder,
            vae_decoder,
        })
    }
    /// The model folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The tokenizer, when the model has a text encoder.
    pub fn tokenizer(&self) -> Option<&ClipTokenizer> {
        self.text.as_ref().map(|t| &t.tokenizer)
    }

    /// The declared inputs and outputs of every loaded ONNX file.
    pub fn components(&self) -> Vec<ComponentInfo> {
        let text = self.text.as_ref().map(|t| &t.model);
        let encoder = self.vae_encoder.as_ref().map(|v| &v.model);
        let decoder = self.vae_decoder.as_ref().map(|v| &v.model);
        [text, Some(&self.unet.model), encoder, decoder]
            .into_iter()
            .flatten()
            .map(|c| ComponentInfo {
                name: c.label,
                path: c.path.clone(),
                inputs: c.inputs.iter().map(|p| p.port.clone()).collect(),
                outputs: c.outputs.iter().map(|p| p.port.clone()).collect(),
            })
            .collect()
    }
}
