//! # nao-onnx — Stable Diffusion ONNX exports behind the nao `Backend` trait
//!
//! [`OnnxBackend`] runs a Stable Diffusion model exported to ONNX in the folder layout of
//! Hugging Face optimum (`optimum-cli export onnx`, `ORTStableDiffusionPipeline`):
//!
//! ```text
//! model/
//!   text_encoder/model.onnx     input_ids → last_hidden_state
//!   unet/model.onnx (+ external weights)  sample, timestep, encoder_hidden_states → out_sample
//!   unet/config.json            sample_size, in_channels
//!   vae_encoder/model.onnx      sample → latent_parameters (mean ‖ logvar) or latent_sample
//!   vae_decoder/model.onnx      latent_sample → sample
//!   vae_*/config.json           scaling_factor, latent_channels, block_out_channels
//!   tokenizer/                  vocab.json, merges.txt, tokenizer_config.json
//!   scheduler/scheduler_config.json
//! ```
//!
//! Every model fact comes from the folder's configs and the sessions' declared inputs and
//! outputs: the VAE scaling factor, latent channels, downsampling
//! (`2^(len(block_out_channels) − 1)`), the sample size, the element types (`float16` exports
//! are converted at the boundary; timesteps may be integers or floats). A folder without
//! `vae_encoder/` (or `text_encoder/` and `tokenizer/`) still loads; [`Capabilities`] says
//! what is missing. [`Backend::encode_image`] takes the posterior mean of `latent_parameters`;
//! exports whose encoder outputs `latent_sample` (older conversion scripts, which sampled the
//! posterior inside the graph) give that output as it is.
//!
//! ONNX Runtime itself is loaded at run time from `ORT_DYLIB_PATH` or
//! [`OnnxOptions::library_path`]; it must be version [`REQUIRED_ORT_VERSION`] or newer.
//! `cargo xtask setup-ort` puts one in `.cache/onnxruntime/`.
//!
//! ```
//! use nao_backend::Backend;
//! use nao_onnx::{OnnxBackend, OnnxOptions};
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//! #     .join("../../../shared/fixtures/tiny-sd1/onnx");
//! # let dir = if dir.is_dir() { dir } else {
//! #     std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/tiny-sd1/onnx")
//! # };
//!
//! // `dir` is an optimum-layout export; ORT_DYLIB_PATH names libonnxruntime
//! let model = OnnxBackend::load(&dir, &OnnxOptions::default().with_threads(1))?;
//! let info = model.info();
//! let [c, h, w] = info.latent_shape(64, 64)?;
//!
//! let text = model.encode_prompt("a photo of a cat", "", true)?;
//! let latents = nao_backend::Tensor::zeros(vec![1, c, h, w]);
//! let noise = model.predict_noise(&latents, &[500], &text.cond)?;
//! assert_eq!(noise.shape, latents.shape);
//! let image = model.decode_latents(&latents)?; // [1, 3, 64, 64] in [0, 1]
//! assert_eq!(image.shape, vec![1, 3, 64, 64]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod config;
mod error;
mod graph;
mod options;
mod runtime;
mod session;

use std::path::{Path, PathBuf};

use nao_backend::Tensor;
use nao_backend::{Backend, BackendError, Capabilities, Conditioning, ModelInfo, SchedulerConfig};
use nao_clip::ClipTokenizer;

pub use error::OnnxError;
pub use graph::{GraphInput, OnnxGraph};
pub use options::{ExecutionProvider, OnnxOptions};
pub use runtime::loaded_library;
pub use session::Port;

use session::{Component, InputData, TypedPort};

/// The oldest ONNX Runtime this crate runs with (`ort`'s `api-31`).
pub const REQUIRED_ORT_VERSION: &str = "1.31";

/// The inputs and outputs of one of the model's ONNX files, for diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInfo {
    /// `text_encoder`, `unet`, `vae_encoder` or `vae_decoder`.
    pub name: &'static str,
    /// The `.onnx` file.
    pub path: PathBuf,
    /// Declared inputs.
    pub inputs: Vec<Port>,
    /// Declared outputs.
    pub outputs: Vec<Port>,
}

/// The text encoder with its tokenizer.
#[derive(Debug)]
struct TextEncoder {
    tokenizer: ClipTokenizer,
    model: Component,
    input_ids: TypedPort,
    hidden: TypedPort,
}

/// The UNet and its three inputs.
#[derive(Debug)]
struct Unet {
    model: Component,
    sample: TypedPort,
    timestep: TypedPort,
    context: TypedPort,
    out: TypedPort,
}

/// A VAE half (encoder or decoder) with its one input and output.
#[derive(Debug)]
struct Vae {
    model: Component,
    input: TypedPort,
    output: TypedPort,
}

/// A Stable Diffusion ONNX export, run with ONNX Runtime; see the [crate docs](crate).
#[derive(Debug)]
pub struct OnnxBackend {
    dir: PathBuf,
    info: ModelInfo,
    shift_factor: f64,
    /// Latent sizes must be multiples of the UNet's own downsampling.
    unet_downsample: usize,
    text: Option<TextEncoder>,
    unet: Unet,
    vae_encoder: Option<Vae>,
    vae_decoder: Option<Vae>,
}

/// A component folder: absent → `None`; present without its `model.onnx` → an error.
fn optional_model(dir: &Path, name: &str) -> Result<Option<PathBuf>, OnnxError> {
    let folder = dir.join(name);
    if !folder.is_dir() {
        return Ok(None);
    }
    let model = folder.join("model.onnx");
    if model.is_file() {
        Ok(Some(model))
    } else {
        Err(OnnxError::Io {
            path: model,
            message: format!("the {name}/ folder exists but this model file is missing"),
        })
    }
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

/// The rank-4 shape `[b, c, h, w]` of a tensor, or a shape error naming `what`.
fn nchw(t: &Tensor, what: &str) -> Result<[usize; 4], OnnxError> {
    match t.shape.as_slice() {
        &[b, c, h, w] if b > 0 && h > 0 && w > 0 && t.data.len() == b * c * h * w => {
            Ok([b, c, h, w])
        }
        _ => Err(OnnxError::Shape(format!(
            "{what} must be [batch, channels, height, width] with a positive batch and size, \
             got {:?} holding {} values",
            t.shape,
            t.data.len()
        ))),
    }
}

impl OnnxBackend {
    /// Load an optimum-layout Stable Diffusion ONNX folder.
    ///
    /// Needs `unet/model.onnx`, `unet/config.json`, a VAE config (`vae_decoder/`,
    /// `vae_encoder/` or `vae/config.json`) and `scheduler/scheduler_config.json`. The text
    /// encoder (with `tokenizer/`), VAE encoder and VAE decoder are optional: a missing folder
    /// shows in [`Backend::capabilities`]; a folder without its `model.onnx` is an error.
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
        if !unet_path.is_file() {
            return Err(OnnxError::Io {
                path: unet_path,
                message: "the UNet model is missing".into(),
            });
        }
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

    fn load_unet(model: Component, latent_channels: usize) -> Result<Unet, OnnxError> {
        let sample = model.input(&["sample"], false)?;
        let timestep = model.input(&["timestep", "timesteps", "t"], false)?;
        let context = model.input(&["encoder_hidden_states"], false)?;
        let out = model.output(&["out_sample", "sample"], true)?;
        model.only_inputs(&[&sample, &timestep, &context])?;
        let model_err = |message: String| OnnxError::Model {
            path: model.path.clone(),
            message,
        };
        if sample.rank() != 4 || sample.dim(1).is_some_and(|c| c != latent_channels) {
            return Err(model_err(format!(
                "the UNet input '{}' should be [batch, {latent_channels}, height, width]",
                sample.port
            )));
        }
        if timestep.rank() > 1 {
            return Err(model_err(format!(
                "the UNet input '{}' should be a scalar or one timestep per batch item",
                timestep.port
            )));
        }
        if context.rank() != 3 {
            return Err(model_err(format!(
                "the UNet input '{}' should be [batch, tokens, hidden]",
                context.port
            )));
        }
        Ok(Unet {
            model,
            sample,
            timestep,
            context,
            out,
        })
    }

    fn load_text(model: Component, tokenizer: ClipTokenizer) -> Result<TextEncoder, OnnxError> {
        let input_ids = model.input(&["input_ids"], true)?;
        let hidden = model.output(&["last_hidden_state"], false)?;
        model.only_inputs(&[&input_ids])?;
        if input_ids.rank() != 2
            || input_ids
                .dim(1)
                .is_some_and(|n| n != tokenizer.max_length())
        {
            return Err(OnnxError::Model {
                path: model.path.clone(),
                message: format!(
                    "the text encoder input '{}' should be [batch, {}] token ids",
                    input_ids.port,
                    tokenizer.max_length()
                ),
            });
        }
        Ok(TextEncoder {
            tokenizer,
            model,
            input_ids,
            hidden,
        })
    }

    fn load_vae(
        model: Component,
        inputs: &[&str],
        outputs: &[&str],
        in_channels: usize,
    ) -> Result<Vae, OnnxError> {
        let input = model.input(inputs, true)?;
        let output = model.output(outputs, true)?;
        model.only_inputs(&[&input])?;
        if input.rank() != 4 || input.dim(1).is_some_and(|c| c != in_channels) {
            return Err(OnnxError::Model {
                path: model.path.clone(),
                message: format!(
                    "the {} input '{}' should be [batch, {in_channels}, height, width]",
                    model.label, input.port
                ),
            });
        }
        Ok(Vae {
            model,
            input,
            output,
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

    /// Text embeddings `[n, tokens, hidden]` of several prompts (the text encoder's
    /// `last_hidden_state`), in one batch when the model allows.
    pub fn encode_prompts(&self, prompts: &[&str]) -> Result<Tensor, OnnxError> {
        let text = self
            .text
            .as_ref()
            .ok_or(OnnxError::Unsupported("text encoder"))?;
        if prompts.is_empty() {
            return Err(OnnxError::Shape("no prompts to encode".into()));
        }
        let tokens = text.tokenizer.max_length();
        let ids: Vec<Vec<i64>> = prompts
            .iter()
            .map(|p| {
                text.tokenizer
                    .encode(p)
                    .ids
                    .iter()
                    .map(|&i| i64::from(i))
                    .collect()
            })
            .collect();
        let run = |chunk: &[Vec<i64>]| -> Result<Tensor, OnnxError> {
            let flat: Vec<i64> = chunk.concat();
            let shape = [chunk.len(), tokens];
            text.model.check_shape(&text.input_ids, &shape, false)?;
            let (out_shape, data) = text.model.run(
                &[(&text.input_ids, &shape, InputData::Int(&flat))],
                &text.hidden,
            )?;
            if out_shape.len() != 3 || out_shape[0] != chunk.len() || out_shape[1] != tokens {
                return Err(OnnxError::Model {
                    path: text.model.path.clone(),
                    message: format!(
                        "the text encoder returned {out_shape:?}, expected [{}, {tokens}, hidden]",
                        chunk.len()
                    ),
                });
            }
            Tensor::new(out_shape, data).map_err(|e| OnnxError::Shape(e.to_string()))
        };
        match text.input_ids.dim(0) {
            Some(fixed) if fixed != prompts.len() => {
                let parts = ids
                    .chunks(fixed)
                    .map(|c| {
                        if c.len() == fixed {
                            run(c)
                        } else {
                            Err(OnnxError::Shape(format!(
                                "{} prompts cannot be split into the text encoder's fixed \
                                 batch of {fixed}",
                                prompts.len()
                            )))
                        }
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                Tensor::concat(&parts).map_err(|e| OnnxError::Shape(e.to_string()))
            }
            _ => run(&ids),
        }
    }

    /// The UNet on a batch, see [`Backend::predict_noise`].
    fn unet(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, OnnxError> {
        let u = &self.unet;
        let [b, c, h, w] = nchw(latents, "the latents")?;
        if c != self.info.latent_channels {
            return Err(OnnxError::Shape(format!(
                "the latents {:?} have {c} channels, the model has {}",
                latents.shape, self.info.latent_channels
            )));
        }
        let s = self.unet_downsample;
        if h % s != 0 || w % s != 0 {
            return Err(OnnxError::Shape(format!(
                "the latents {:?} must have a height and width that are multiples of {s} (the \
                 UNet downsamples {} times; images multiples of {})",
                latents.shape,
                s.trailing_zeros(),
                s * self.info.vae_downsample
            )));
        }
        if timesteps.len() != b {
            return Err(OnnxError::Shape(format!(
                "{} timesteps for a batch of {b} latents",
                timesteps.len()
            )));
        }
        let ctx_shape = match context.shape.as_slice() {
            &[cb, t, d] if cb == b && t > 0 && d > 0 && context.data.len() == cb * t * d => {
                [cb, t, d]
            }
            _ => {
                return Err(OnnxError::Shape(format!(
                    "the conditioning must be [{b}, tokens, hidden] for {b} latents, got {:?}",
                    context.shape
                )))
            }
        };
        // one item per call when the model's batch is fixed to 1 or its timestep is a scalar
        let fixed_one = |p: &TypedPort| p.dim(0) == Some(1);
        let per_item = b > 1
            && (fixed_one(&u.sample)
                || fixed_one(&u.context)
                || u.timestep.rank() == 0
                || fixed_one(&u.timestep));
        let run = |lat: &[f32], ts: &[i64], ctx: &[f32], n: usize| -> Result<Vec<f32>, OnnxError> {
            let s_shape = [n, c, h, w];
            let c_shape = [n, ctx_shape[1], ctx_shape[2]];
            let t_shape: &[usize] = if u.timestep.rank() == 0 { &[] } else { &[n] };
            u.model.check_shape(&u.sample, &s_shape, false)?;
            u.model.check_shape(&u.context, &c_shape, false)?;
            u.model.check_shape(&u.timestep, t_shape, false)?;
            let (shape, data) = u.model.run(
                &[
                    (&u.sample, &s_shape, InputData::Float(lat)),
                    (&u.timestep, t_shape, InputData::Int(ts)),
                    (&u.context, &c_shape, InputData::Float(ctx)),
                ],
                &u.out,
            )?;
            if shape != s_shape {
                return Err(OnnxError::Model {
                    path: u.model.path.clone(),
                    message: format!("the UNet returned {shape:?} for latents {s_shape:?}"),
                });
            }
            Ok(data)
        };
        let data = if per_item {
            let (lat_n, ctx_n) = (c * h * w, ctx_shape[1] * ctx_shape[2]);
            let mut out = Vec::with_capacity(latents.data.len());
            for i in 0..b {
                out.extend(run(
                    &latents.data[i * lat_n..(i + 1) * lat_n],
                    &timesteps[i..=i],
                    &context.data[i * ctx_n..(i + 1) * ctx_n],
                    1,
                )?);
            }
            out
        } else {
            run(&latents.data, timesteps, &context.data, b)?
        };
        Tensor::new(latents.shape.clone(), data).map_err(|e| OnnxError::Shape(e.to_string()))
    }

    /// Run a VAE half on a batch (item by item when its batch is fixed to 1).
    fn run_vae(&self, vae: &Vae, x: &Tensor, what: &str) -> Result<Tensor, OnnxError> {
        let [b, c, h, w] = nchw(x, what)?;
        let per_item = b > 1 && vae.input.dim(0) == Some(1);
        let run = |data: &[f32], n: usize| {
            let shape = [n, c, h, w];
            vae.model.check_shape(&vae.input, &shape, false)?;
            let (out_shape, out) = vae
                .model
                .run(&[(&vae.input, &shape, InputData::Float(data))], &vae.output)?;
            if out_shape.len() != 4 || out_shape[0] != n {
                return Err(OnnxError::Model {
                    path: vae.model.path.clone(),
                    message: format!(
                        "the {} returned {out_shape:?} for {shape:?}",
                        vae.model.label
                    ),
                });
            }
            Tensor::new(out_shape, out).map_err(|e| OnnxError::Shape(e.to_string()))
        };
        if per_item {
            let n = c * h * w;
            let parts = (0..b)
                .map(|i| run(&x.data[i * n..(i + 1) * n], 1))
                .collect::<Result<Vec<_>, _>>()?;
            Tensor::concat(&parts).map_err(|e| OnnxError::Shape(e.to_string()))
        } else {
            run(&x.data, b)
        }
    }

    fn check_latents(&self, latents: &Tensor) -> Result<(), OnnxError> {
        let [_, c, _, _] = nchw(latents, "the latents")?;
        if c != self.info.latent_channels {
            return Err(OnnxError::Shape(format!(
                "the latents {:?} have {c} channels, the model has {}",
                latents.shape, self.info.latent_channels
            )));
        }
        Ok(())
    }

    /// The VAE decoder's output for latents `[b, c, h, w]` (÷ scaling factor, + shift), in the
    /// decoder's own range (about `[−1, 1]`, not clamped).
    pub fn decode_latents_raw(&self, latents: &Tensor) -> Result<Tensor, OnnxError> {
        let vae = self
            .vae_decoder
            .as_ref()
            .ok_or(OnnxError::Unsupported("VAE decoder"))?;
        self.check_latents(latents)?;
        let scale = self.info.vae_scaling_factor;
        let shift = self.shift_factor;
        let unscaled = Tensor {
            shape: latents.shape.clone(),
            data: latents
                .data
                .iter()
                .map(|&z| (f64::from(z) / scale + shift) as f32)
                .collect(),
        };
        let out = self.run_vae(vae, &unscaled, "the latents")?;
        if out.shape[1] != self.info.image_channels {
            return Err(OnnxError::Model {
                path: vae.model.path.clone(),
                message: format!(
                    "the VAE decoder returned {:?}, expected {} image channels",
                    out.shape, self.info.image_channels
                ),
            });
        }
        Ok(out)
    }

    /// VAE-encode images, see [`Backend::encode_image`].
    fn encode(&self, images: &Tensor) -> Result<Tensor, OnnxError> {
        let vae = self
            .vae_encoder
            .as_ref()
            .ok_or(OnnxError::Unsupported("VAE encoder"))?;
        let [b, c, h, w] = nchw(images, "the images")?;
        let s = self.info.vae_downsample;
        if c != self.info.image_channels || h % s != 0 || w % s != 0 {
            return Err(OnnxError::Shape(format!(
                "the images {:?} must be [batch, {}, height, width] with sizes multiple of {s}",
                images.shape, self.info.image_channels
            )));
        }
        let out = self.run_vae(vae, images, "the images")?;
        let lc = self.info.latent_channels;
        let (oc, oh, ow) = (out.shape[1], out.shape[2], out.shape[3]);
        // mean ‖ logvar (latent_parameters) or the latent itself (latent_sample)
        if (oc != 2 * lc && oc != lc) || oh != h / s || ow != w / s {
            return Err(OnnxError::Model {
                path: vae.model.path.clone(),
                message: format!(
                    "the VAE encoder returned {:?} for images {:?}; expected [{b}, {} or {lc}, \
                     {}, {}]",
                    out.shape,
                    images.shape,
                    2 * lc,
                    h / s,
                    w / s
                ),
            });
        }
        let per = oc * oh * ow;
        let keep = lc * oh * ow;
        let (scale, shift) = (self.info.vae_scaling_factor, self.shift_factor);
        let data = out
            .data
            .chunks(per)
            .flat_map(|item| &item[..keep])
            .map(|&m| ((f64::from(m) - shift) * scale) as f32)
            .collect();
        Tensor::new(vec![b, lc, oh, ow], data).map_err(|e| OnnxError::Shape(e.to_string()))
    }
}

impl Backend for OnnxBackend {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            text_encoder: self.text.is_some(),
            vae_encoder: self.vae_encoder.is_some(),
            vae_decoder: self.vae_decoder.is_some(),
        }
    }

    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        if with_uncond {
            let both = self.encode_prompts(&[prompt, negative_prompt])?;
            Ok(Conditioning {
                cond: both.item(0)?,
                uncond: Some(both.item(1)?),
            })
        } else {
            Ok(Conditioning {
                cond: self.encode_prompts(&[prompt])?,
                uncond: None,
            })
        }
    }

    fn predict_noise(
        &self,
        latents: &Tensor,
        timesteps: &[i64],
        context: &Tensor,
    ) -> Result<Tensor, BackendError> {
        Ok(self.unet(latents, timesteps, context)?)
    }

    fn encode_image(&self, images: &Tensor) -> Result<Tensor, BackendError> {
        Ok(self.encode(images)?)
    }

    fn decode_latents(&self, latents: &Tensor) -> Result<Tensor, BackendError> {
        let mut x = self.decode_latents_raw(latents)?;
        for v in &mut x.data {
            *v = ((*v + 1.0) / 2.0).clamp(0.0, 1.0);
        }
        Ok(x)
    }
}
