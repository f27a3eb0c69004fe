//! [`StableDiffusion`]: the text encoder, UNet and VAE of a diffusers folder on one burn
//! device, behind nao's [`Backend`].

use std::path::{Path, PathBuf};

use burn::tensor::{DType, Device, Tensor, TensorData};
use nao_backend::{
    Backend, BackendError, Capabilities, Conditioning, ModelInfo, Precision, SchedulerConfig,
    Tensor as HostTensor,
};
use nao_clip::ClipTokenizer;

use crate::clip::{self, ClipTextModel};
use crate::config::{ClipConfig, UnetConfig, VaeConfig};
use crate::detect::{model_dir, model_name};
use crate::unet::Unet;
use crate::vae::Vae;
use crate::weights::{compute_dtype, select_file, Loader, Mode, Planned, WeightFile};
use crate::{SdError, SdOptions};

/// A Stable Diffusion 1.x / 2.x model from a diffusers folder; see the [crate docs](crate).
#[derive(Debug)]
pub struct StableDiffusion {
    dir: PathBuf,
    device: Device,
    dtype: DType,
    precision: Precision,
    info: ModelInfo,
    shift_factor: f64,
    tokenizer: ClipTokenizer,
    text: ClipTextModel,
    /// Rows of the token embedding: every token id must be below.
    text_vocab: usize,
    unet: Unet,
    vae: Vae,
    weight_files: Vec<PathBuf>,
}

/// The configs of a folder's components.
pub(crate) struct Configs {
    pub clip: ClipConfig,
    pub unet: UnetConfig,
    pub vae: VaeConfig,
    pub scheduler: SchedulerConfig,
}

impl Configs {
    /// Read the four configs of a diffusers folder.
    pub fn read(dir: &Path) -> Result<Self, SdError> {
        let clip = ClipConfig::from_file(&dir.join("text_encoder").join("config.json"))?;
        let unet = UnetConfig::from_file(&dir.join("unet").join("config.json"))?;
        let vae = VaeConfig::from_file(&dir.join("vae").join("config.json"))?;
        let path = dir.join("scheduler").join("scheduler_config.json");
        let scheduler = SchedulerConfig::from_file(&path).map_err(|e| match e {
            BackendError::Io { message, .. } => SdError::io(&path, message),
            other => SdError::config(&path, other.to_string()),
        })?;
        Self::fit(clip, unet, vae, scheduler)
    }

    /// The configs, if the components fit together.
    pub fn fit(
        clip: ClipConfig,
        unet: UnetConfig,
        vae: VaeConfig,
        scheduler: SchedulerConfig,
    ) -> Result<Self, SdError> {
        let unet_err = |m: String| SdError::config(&unet.path, m);
        if unet.in_channels != vae.latent_channels || unet.out_channels != vae.latent_channels {
            return Err(unet_err(format!(
                "in_channels = {} and out_channels = {}, but the VAE has {} latent channels \
                 (inpainting and other conditioned UNets are not supported)",
                unet.in_channels, unet.out_channels, vae.latent_channels
            )));
        }
        if let Some(d) = unet
            .cross_attention_dim
            .iter()
            .find(|&&d| d != clip.hidden_size)
        {
            return Err(unet_err(format!(
                "'cross_attention_dim' = {d}, but the text encoder's hidden_size is {}",
                clip.hidden_size
            )));
        }
        Ok(Self {
            clip,
            unet,
            vae,
            scheduler,
        })
    }
}

/// The three weights files, mapped.
struct Files {
    text: WeightFile,
    unet: WeightFile,
    vae: WeightFile,
}

/// The networks built from the files in one mode.
struct Networks {
    text: ClipTextModel,
    unet: Unet,
    vae: Vae,
}

/// The tensors each weights file must hold: text encoder, UNet, VAE.
pub(crate) type Plans = [Vec<Planned>; 3];

/// One loader per weights file: text encoder, UNet, VAE.
struct Loaders<'a>([Loader<'a>; 3]);

impl<'a> Loaders<'a> {
    fn of_files(c: &'a Configs, f: &'a Files, device: &Device, dtype: DType, mode: Mode) -> Self {
        Self([
            Loader::new(&f.text, &c.clip.path, device, dtype, mode)
                .with_prefix(clip::weight_prefix(&f.text)),
            Loader::new(&f.unet, &c.unet.path, device, dtype, mode),
            Loader::new(&f.vae, &c.vae.path, device, dtype, mode),
        ])
    }
}

fn build(c: &Configs, loaders: Loaders) -> Result<(Networks, Plans), SdError> {
    let [mut t, mut u, mut v] = loaders.0;
    // each file is checked in full before the next is looked at
    let text = ClipTextModel::new(&c.clip, &mut t)?;
    let text_plan = t.finish(clip::IGNORED)?;
    let unet = Unet::new(&c.unet, &mut u)?;
    let unet_plan = u.finish(&[])?;
    let vae = Vae::new(&c.vae, &mut v)?;
    let plans = [text_plan, unet_plan, v.finish(&[])?];
    Ok((Networks { text, unet, vae }, plans))
}

/// The name and shape of every tensor the configs imply, per weights file.
pub(crate) fn plan(c: &Configs) -> Result<Plans, SdError> {
    let device = Device::default();
    let loaders = Loaders([
        Loader::plan(&c.clip.path, &device),
        Loader::plan(&c.unet.path, &device),
        Loader::plan(&c.vae.path, &device),
    ]);
    Ok(build(c, loaders)?.1)
}

/// `[b, c, h, w]` of a host tensor whose data fits its shape.
fn nchw(t: &HostTensor, what: &str) -> Result<[usize; 4], SdError> {
    match t.shape.as_slice() {
        &[b, c, h, w] if b > 0 && c > 0 && h > 0 && w > 0 && t.data.len() == b * c * h * w => {
            Ok([b, c, h, w])
        }
        _ => Err(SdError::Shape(format!(
            "{what} must be [batch, channels, height, width] with positive sizes, got {:?} \
             holding {} values",
            t.shape,
            t.data.len()
        ))),
    }
}

impl StableDiffusion {
    /// Load a diffusers Stable Diffusion folder (or a Hugging Face hub cache entry of one) onto
    /// `device`.
    ///
    /// Reads `text_encoder/`, `tokenizer/`, `unet/`, `vae/` and `scheduler/`. Every config
    /// value is checked first; then every tensor of the three weights files is checked against
    /// the shapes the configs imply (names, shapes, dtypes, nothing missing or left over)
    /// before any is converted; then the tensors are converted one by one to the compute
    /// precision.
    pub fn load(
        dir: impl AsRef<Path>,
        device: &Device,
        options: &SdOptions,
    ) -> Result<Self, SdError> {
        let dir = model_dir(dir.as_ref());
        if !dir.is_dir() {
            return Err(SdError::Io {
                message: if dir.exists() {
                    "not a folder (expected a diffusers model folder)".into()
                } else {
                    "no such model folder".into()
                },
                path: dir,
            });
        }
        let configs = Configs::read(&dir)?;
        let dtype = compute_dtype(options.precision, device)?;
        let tokenizer = ClipTokenizer::from_dir(dir.join("tokenizer"))?;
        let tok_path = dir.join("tokenizer");
        if tokenizer.max_length() > configs.clip.max_position_embeddings {
            return Err(SdError::config(
                &tok_path,
                format!(
                    "model_max_length = {} exceeds the text encoder's max_position_embeddings {}",
                    tokenizer.max_length(),
                    configs.clip.max_position_embeddings
                ),
            ));
        }
        let largest = [tokenizer.bos_id(), tokenizer.eos_id(), tokenizer.pad_id()]
            .into_iter()
            .max()
            .unwrap_or(0)
            .max(tokenizer.vocab_size().saturating_sub(1) as u32);
        if largest as usize >= configs.clip.vocab_size {
            return Err(SdError::config(
                &tok_path,
                format!(
                    "the tokenizer has ids up to {largest}, but the text encoder's vocab_size is {}",
                    configs.clip.vocab_size
                ),
            ));
        }
        let variant = options.variant.as_deref();
        let open = |name: &str| -> Result<WeightFile, SdError> {
            WeightFile::open(&select_file(&dir.join(name), variant)?)
        };
        let files = Files {
            text: open("text_encoder")?,
            unet: open("unet")?,
            vae: open("vae")?,
        };
        // names, shapes and dtypes of all three files before any tensor is converted
        build(
            &configs,
            Loaders::of_files(&configs, &files, device, dtype, Mode::Check),
        )?;
        let (nets, _) = build(
            &configs,
            Loaders::of_files(&configs, &files, device, dtype, Mode::Load),
        )?;
        let downsample = configs.vae.downsample();
        let info = ModelInfo {
            name: model_name(&dir),
            vae_scaling_factor: configs.vae.scaling_factor,
            latent_channels: configs.vae.latent_channels,
            vae_downsample: downsample,
            default_image_size: (
                configs.unet.sample_size.0 * downsample,
                configs.unet.sample_size.1 * downsample,
            ),
            image_channels: configs.vae.in_channels,
            fixed_image_size: false,
            scheduler: configs.scheduler,
        };
        Ok(Self {
            device: device.clone(),
            dtype,
            precision: options.precision,
            info,
            shift_factor: configs.vae.shift_factor,
            tokenizer,
            text: nets.text,
            text_vocab: configs.clip.vocab_size,
            unet: nets.unet,
            vae: nets.vae,
            weight_files: vec![
                files.text.path().to_path_buf(),
                files.unet.path().to_path_buf(),
                files.vae.path().to_path_buf(),
            ],
            dir,
        })
    }

    /// The model folder (the snapshot, for a hub cache entry).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The weights files loaded: text encoder, UNet, VAE.
    pub fn weight_files(&self) -> &[PathBuf] {
        &self.weight_files
    }

    /// The compute precision.
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// The tokenizer.
    pub fn tokenizer(&self) -> &ClipTokenizer {
        &self.tokenizer
    }

    /// The text encoder, to run on burn tensors without the host round trip of
    /// [`encode_prompt`](Backend::encode_prompt).
    pub fn text_encoder(&self) -> &ClipTextModel {
        &self.text
    }

    /// The UNet, to run on burn tensors without the host round trip of
    /// [`predict_noise`](Backend::predict_noise).
    pub fn unet(&self) -> &Unet {
        &self.unet
    }

    /// The VAE, to run on burn tensors without the host round trip of
    /// [`encode_image`](Backend::encode_image) and [`decode_latents`](Backend::decode_latents).
    pub fn vae(&self) -> &Vae {
        &self.vae
    }

    fn upload<const D: usize>(&self, t: &HostTensor, shape: [usize; D]) -> Tensor<D> {
        let x = Tensor::<D>::from_data(
            TensorData::new(t.data.clone(), shape),
            (&self.device, DType::F32),
        );
        if self.dtype == DType::F32 {
            x
        } else {
            x.cast(self.dtype)
        }
    }

    fn download<const D: usize>(&self, t: Tensor<D>) -> Result<HostTensor, SdError> {
        let shape = t.dims().to_vec();
        let t = if t.dtype() == DType::F32 {
            t
        } else {
            t.cast(DType::F32)
        };
        let data = t
            .try_into_data()
            .map_err(|e| SdError::Runtime(format!("{e:?}")))?
            .try_to_vec::<f32>()
            .map_err(|e| SdError::Runtime(format!("{e:?}")))?;
        HostTensor::new(shape, data).map_err(|e| SdError::Shape(e.to_string()))
    }

    /// Text embeddings `[n, tokens, hidden]` (the text encoder's `last_hidden_state`) of
    /// several prompts, in one batch.
    pub fn encode_prompts(&self, prompts: &[&str]) -> Result<HostTensor, SdError> {
        if prompts.is_empty() {
            return Err(SdError::Shape("no prompts to encode".into()));
        }
        let ids: Vec<Vec<u32>> = prompts
            .iter()
            .map(|p| self.tokenizer.encode(p).ids)
            .collect();
        // the load checked the vocabulary's size; a sparse vocabulary could still hold more
        if let Some(&id) = ids
            .iter()
            .flatten()
            .find(|&&i| i as usize >= self.text_vocab)
        {
            return Err(SdError::config(
                &self.dir.join("tokenizer"),
                format!(
                    "the tokenizer gave the id {id}, but the text encoder's vocab_size is {}",
                    self.text_vocab
                ),
            ));
        }
        self.download(self.text.forward_unchecked(&ids))
    }

    /// The UNet, see [`Backend::predict_noise_at`]: timesteps as float32, as diffusers' UNet
    /// takes them.
    fn predict(
        &self,
        latents: &HostTensor,
        timesteps: &[f32],
        context: &HostTensor,
    ) -> Result<HostTensor, SdError> {
        let [b, c, h, w] = nchw(latents, "the latents")?;
        if c != self.unet.config().in_channels {
            return Err(SdError::Shape(format!(
                "the latents {:?} have {c} channels, the UNet takes {}",
                latents.shape,
                self.unet.config().in_channels
            )));
        }
        if timesteps.len() != b {
            return Err(SdError::Shape(format!(
                "{} timesteps for a batch of {b} latents",
                timesteps.len()
            )));
        }
        let cross = self.unet.config().cross_attention_dim[0];
        let ctx_shape = match context.shape.as_slice() {
            &[cb, t, d] if cb == b && t > 0 && d == cross && context.data.len() == cb * t * d => {
                [cb, t, d]
            }
            _ => {
                return Err(SdError::Shape(format!(
                    "the conditioning must be [{b}, tokens, {cross}] for {b} latents, got {:?}",
                    context.shape
                )))
            }
        };
        let x = self.upload(latents, [b, c, h, w]);
        let ctx = self.upload(context, ctx_shape);
        self.download(self.unet.forward_unchecked(x, timesteps, &ctx))
    }

    fn check_latents(&self, latents: &HostTensor) -> Result<[usize; 4], SdError> {
        let shape = nchw(latents, "the latents")?;
        if shape[1] != self.info.latent_channels {
            return Err(SdError::Shape(format!(
                "the latents {:?} have {} channels, the model has {}",
                latents.shape, shape[1], self.info.latent_channels
            )));
        }
        Ok(shape)
    }

    /// The VAE decoder's output for latents `[b, c, h, w]` (÷ scaling factor, + shift), in the
    /// decoder's own range (about `[−1, 1]`, not clamped).
    pub fn decode_latents_raw(&self, latents: &HostTensor) -> Result<HostTensor, SdError> {
        let shape = self.check_latents(latents)?;
        let (scale, shift) = (self.info.vae_scaling_factor, self.shift_factor);
        let unscaled = HostTensor {
            shape: latents.shape.clone(),
            data: latents
                .data
                .iter()
                .map(|&z| (f64::from(z) / scale + shift) as f32)
                .collect(),
        };
        self.download(self.vae.decoder.forward(self.upload(&unscaled, shape)))
    }

    /// VAE-encode images, see [`Backend::encode_image`].
    fn encode(&self, images: &HostTensor) -> Result<HostTensor, SdError> {
        let [b, c, h, w] = nchw(images, "the images")?;
        let s = self.info.vae_downsample;
        if c != self.info.image_channels || h % s != 0 || w % s != 0 {
            return Err(SdError::Shape(format!(
                "the images {:?} must be [batch, {}, height, width] with sizes multiple of {s}",
                images.shape, self.info.image_channels
            )));
        }
        let mean = self.download(self.vae.encoder.forward(self.upload(images, [b, c, h, w])))?;
        let (scale, shift) = (self.info.vae_scaling_factor, self.shift_factor);
        Ok(HostTensor {
            data: mean
                .data
                .iter()
                .map(|&m| ((f64::from(m) - shift) * scale) as f32)
                .collect(),
            shape: mean.shape,
        })
    }
}

impl Backend for StableDiffusion {
    fn info(&self) -> &ModelInfo {
        &self.info
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities {
            text_encoder: true,
            vae_encoder: true,
            vae_decoder: true,
        }
    }

    fn encode_prompt(
        &self,
        prompt: &str,
        negative_prompt: &str,
        with_uncond: bool,
    ) -> Result<Conditioning, BackendError> {
        Conditioning::encode_batched(prompt, negative_prompt, with_uncond, |p| {
            self.encode_prompts(p)
        })
    }

    fn predict_noise(
        &self,
        latents: &HostTensor,
        timesteps: &[i64],
        context: &HostTensor,
    ) -> Result<HostTensor, BackendError> {
        let t: Vec<f32> = timesteps.iter().map(|&t| t as f32).collect();
        Ok(self.predict(latents, &t, context)?)
    }

    /// Fractional timesteps too (Euler, Heun, LMS with linspace spacing or Karras σ): the UNet
    /// embeds them as float32, as diffusers' does.
    fn predict_noise_at(
        &self,
        latents: &HostTensor,
        timesteps: &[f64],
        context: &HostTensor,
    ) -> Result<HostTensor, BackendError> {
        let t: Vec<f32> = timesteps.iter().map(|&t| t as f32).collect();
        Ok(self.predict(latents, &t, context)?)
    }

    fn encode_image(&self, images: &HostTensor) -> Result<HostTensor, BackendError> {
        Ok(self.encode(images)?)
    }

    fn decode_latents(&self, latents: &HostTensor) -> Result<HostTensor, BackendError> {
        let mut x = self.decode_latents_raw(latents)?;
        nao_backend::to_unit_range(&mut x);
        Ok(x)
    }
}
