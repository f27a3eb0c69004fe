//! # nao-sd — Stable Diffusion 1.x / 2.x on burn, from diffusers folders
//!
//! [`StableDiffusion`] loads a model in the folder layout diffusers writes
//! (`StableDiffusionPipeline.save_pretrained`, or a Hugging Face hub download):
//!
//! ```text
//! model/
//!   model_index.json                      _class_name: StableDiffusionPipeline
//!   text_encoder/config.json, model[.fp16].safetensors        CLIPTextModel
//!   tokenizer/vocab.json + merges.txt, or tokenizer.json; tokenizer_config.json
//!   unet/config.json, diffusion_pytorch_model[.fp16].safetensors   UNet2DConditionModel
//!   vae/config.json, diffusion_pytorch_model[.fp16].safetensors    AutoencoderKL
//!   scheduler/scheduler_config.json
//! ```
//!
//! and runs it on any burn device behind nao's [`Backend`](nao_backend::Backend) trait, so
//! that nao's DDIM sampling and inversion (`nao-sampling`, `nao-inversion`) work on it as on
//! every other backend.
//!
//! Every network is built from its own `config.json` — nothing is fixed to one checkpoint —
//! and every value outside the SD 1.x/2.x family is an error naming the file, the field and
//! the value (SDXL's added embeddings, class embeddings, unknown block types, …); see
//! [`config`]. Numbers that size allocations or loops are bounded, and every tensor of the
//! weights files is checked against the shapes the configs imply before any is converted.
//! Weights are memory-mapped safetensors in f32, f16 or bf16, converted tensor by tensor to
//! the compute precision ([`SdOptions::precision`]); variant files such as
//! `diffusion_pytorch_model.fp16.safetensors` are chosen with [`SdOptions::variant`] (or taken
//! when they are a component's only file). Attention is computed in chunks of at most 2²⁴
//! scores, so a 512×512 image with guidance needs no 1 GiB score matrix.
//!
//! ```
//! use nao_backend::Backend;
//! use nao_sd::{SdOptions, StableDiffusion};
//!
//! // a tiny SD 2.x-style model (v-prediction, OpenCLIP-style text encoder, fp16 weight files)
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sd2-v");
//! let device = nao_sd::Device::flex();
//! let model = StableDiffusion::load(&dir, &device, &SdOptions::default().with_variant("fp16"))?;
//! let info = model.info();
//! assert_eq!((info.vae_downsample, info.default_image_size), (4, (32, 32)));
//! assert_eq!(info.scheduler.prediction_type, nao_backend::PredictionType::VPrediction);
//!
//! let text = model.encode_prompt("a photo of a cat", "", true)?;
//! assert_eq!(text.cond.shape, vec![1, 77, 32]);
//! let [c, h, w] = info.latent_shape(32, 32)?;
//! let latents = nao_backend::Tensor::zeros(vec![1, c, h, w]);
//! let v = model.predict_noise(&latents, &[500], &text.cond)?;
//! assert_eq!(v.shape, latents.shape);
//! let image = model.decode_latents(&latents)?; // [1, 3, 32, 32] in [0, 1]
//! assert_eq!(image.shape, vec![1, 3, 32, 32]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Building blocks
//!
//! The networks are public on their own, each loaded from its component folder alone
//! (`config.json` and the weights, checked and converted as above) and run on burn tensors
//! (`burn::tensor::Tensor`) on the device it was loaded on, in the compute precision:
//!
//! | module | type | what it does |
//! |---|---|---|
//! | [`clip`] | [`ClipTextModel`](clip::ClipTextModel) | token ids `[b][n]` → text embeddings `[b, n, hidden]` (`last_hidden_state`) |
//! | [`unet`] | [`Unet`](unet::Unet) | latents `[b, 4, h, w]`, timesteps, text embeddings → predicted noise (or `v`) `[b, 4, h, w]` |
//! | [`vae`] | [`Vae`](vae::Vae) | images `[b, 3, H, W]` in `[−1, 1]` ⇄ latents `[b, 4, H/8, W/8]`, and the latent scaling |
//! | [`clip_vision`] | [`ClipVisionModel`](clip_vision::ClipVisionModel), [`ClipImageProcessor`](clip_vision::ClipImageProcessor) | the CLIP vision tower of an `image_encoder/` folder: normalised pixels `[b, 3, S, S]` → `image_embeds` `[b, projection_dim]` and `last_hidden_state`; the image processor for host images and, differentiably, for decoded ones (SeedSelect's image encoder) |
//! | [`config`] | [`ClipConfig`](config::ClipConfig), [`UnetConfig`](config::UnetConfig), [`VaeConfig`](config::VaeConfig), [`ClipVisionConfig`](config::ClipVisionConfig) | each component's `config.json`, checked and bounded |
//!
//! (The sizes shown are Stable Diffusion's; each part takes its own from its config.) The
//! token ids come from [`nao_clip::ClipTokenizer`] on the folder's `tokenizer/`. Each part
//! checks the shapes it is given ([`SdError::Shape`]) and documents its layouts and value
//! ranges exactly. A loaded [`StableDiffusion`] lends its own parts
//! ([`text_encoder`](StableDiffusion::text_encoder), [`unet`](StableDiffusion::unet),
//! [`vae`](StableDiffusion::vae)); [`StableDiffusion`] itself works on nao's host tensors
//! (`nao_backend::Tensor`) and adds the tokenizer, the latent scaling and the `[0, 1]` image
//! range around them.
#![warn(missing_docs)]
// the only unsafe code maps the weights files (weights.rs), each block with its SAFETY note
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]

pub mod clip;
pub mod clip_vision;
pub mod config;
mod detect;
mod error;
mod model;
mod nn;
mod options;
mod random;
mod resnet;
mod transformer;
pub mod unet;
pub mod vae;
mod weights;

pub use burn::tensor::Device;
pub use detect::is_diffusers_folder;
pub use error::SdError;
pub use model::StableDiffusion;
pub use options::SdOptions;
pub use random::RandomModel;
