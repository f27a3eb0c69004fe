//! The CLIP vision tower (transformers' `CLIPVisionModelWithProjection`): the image encoder of
//! SeedSelect for Stable Diffusion, on burn tensors end to end so that gradients flow from its
//! `image_embeds` back to the pixels.
//!
//! [`ClipVisionModel::load`] builds it from an `image_encoder/` folder (`config.json` and
//! `model.safetensors`, as some diffusers pipelines ship it, or a whole `CLIPModel`'s folder,
//! whose text tower is skipped); [`ClipVisionModel::forward`] turns normalised pixels into
//! `last_hidden_state` and `image_embeds`. Its inputs come from a [`ClipImageProcessor`] (the
//! folder's `feature_extractor/preprocessor_config.json`): [`pixel_values`] for images on the
//! host, exactly as transformers' processor computes them, and [`normalise_decoded`] for the
//! VAE decoder's `[−1, 1]` pixels on burn tensors, as SeedSelect's official code maps them.
//! [`find_image_encoder`] and [`find_image_processor`] find both in a model folder.
//!
//! [`pixel_values`]: ClipImageProcessor::pixel_values
//! [`normalise_decoded`]: ClipImageProcessor::normalise_decoded
//!
//! ```
//! use nao_sd::clip_vision::{ClipImageProcessor, ClipVisionModel};
//! use nao_sd::SdOptions;
//!
//! // a tiny vision tower: gelu, hidden 48, 48×48 images in 16×16 patches, projection 16
//! let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
//!     .join("tests/fixtures/clip-vision-gelu");
//! let device = nao_sd::Device::flex();
//! let encoder = ClipVisionModel::load(dir.join("image_encoder"), &device, &SdOptions::default())?;
//! let processor =
//!     ClipImageProcessor::from_file(&dir.join("feature_extractor/preprocessor_config.json"))?;
//!
//! // an image on the host: resized, cropped and normalised as transformers does
//! let image = image::RgbImage::from_fn(70, 50, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 90]));
//! let pixels = processor.preprocess(&[image], &device)?; // [1, 3, 48, 48]
//! let out = encoder.forward(pixels)?;
//! assert_eq!(out.last_hidden_state.dims(), [1, 10, 48]); // the class token and 3×3 patches
//! assert_eq!(out.image_embeds.dims(), [1, 16]);
//!
//! // decoded images in [−1, 1], of any size: mapped on burn tensors (differentiably)
//! let decoded = burn::tensor::Tensor::<4>::zeros([2, 3, 64, 64], &device);
//! let out = encoder.forward(processor.normalise_decoded(decoded)?)?;
//! assert_eq!(out.image_embeds.dims(), [2, 16]);
//!
//! // pixels of the wrong size are an error naming both sizes
//! let wrong = burn::tensor::Tensor::<4>::zeros([1, 3, 64, 64], &device);
//! assert!(encoder.forward(wrong).unwrap_err().to_string().contains("64×64"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod processor;
mod resample;

use std::path::{Path, PathBuf};

use burn::nn::{LayerNorm, Linear};
use burn::tensor::{DType, Device, Tensor};

use crate::clip::EncoderLayer;
pub use crate::config::ClipVisionConfig;
use crate::nn::to_model;
use crate::weights::{load_component, Loader, WeightFile};
use crate::{SdError, SdOptions};
pub use processor::{ClipImageProcessor, ResizeTo, CLIP_MEAN, CLIP_STD};
pub use resample::Resample;

/// Tensors a vision tower's file may hold beside its weights: the `position_ids` buffer of
/// older transformers files.
const IGNORED: &[&str] = &["vision_model.embeddings.position_ids"];

/// The same, and the parts of a whole `CLIPModel`'s file that are not its vision tower.
const IGNORED_FULL: &[&str] = &[
    "vision_model.embeddings.position_ids",
    "text_model.*",
    "text_projection.weight",
    "logit_scale",
];

/// The outputs of [`ClipVisionModel::forward`], as transformers names them.
#[derive(Debug, Clone)]
pub struct ClipVisionOutput {
    /// The last encoder layer's hidden states `[b, 1 + (S/p)², hidden]`: the class token,
    /// then the patches row by row (before the post layer norm, as transformers returns it).
    pub last_hidden_state: Tensor<3>,
    /// The projected image embeddings `[b, projection_dim]`: the class token through the post
    /// layer norm and the visual projection (`CLIPModel.get_image_features`, what SeedSelect
    /// compares).
    pub image_embeds: Tensor<2>,
}

/// transformers' `CLIPVisionModelWithProjection`, with every size from its `config.json`
/// ([`ClipVisionConfig`]); see the [module docs](self).
#[derive(Debug)]
pub struct ClipVisionModel {
    config: ClipVisionConfig,
    class_embedding: Tensor<1>,
    /// The patch embedding's convolution kernel `[hidden, channels, p, p]` (no bias).
    patch_embedding: Tensor<4>,
    position_embedding: Tensor<2>,
    pre_norm: LayerNorm,
    layers: Vec<EncoderLayer>,
    post_norm: LayerNorm,
    projection: Linear,
    device: Device,
    dtype: DType,
}

impl ClipVisionModel {
    /// Load a vision tower folder: `dir` holds `config.json` and the weights
    /// (`model.safetensors`, or a variant such as `model.fp16.safetensors` chosen with
    /// [`SdOptions::variant`]), as a diffusers folder's `image_encoder/` or a transformers
    /// `CLIPVisionModelWithProjection` / `CLIPModel` folder.
    ///
    /// The config is checked first, then every tensor of the weights file against the shapes
    /// it implies (transformers' names: `vision_model.embeddings.class_embedding`,
    /// `…patch_embedding.weight`, `…position_embedding.weight`, `vision_model.pre_layrnorm`,
    /// `vision_model.encoder.layers.N.…`, `vision_model.post_layernorm`,
    /// `visual_projection.weight`; nothing missing or left over but a `CLIPModel`'s text
    /// tower), then the tensors are converted one by one to [`SdOptions::precision`] on
    /// `device`. To differentiate through the tower, load it on an autodiff device
    /// (`device.clone().autodiff()`, burn's `autodiff` feature): its weights are constants
    /// there and gradients reach the pixels.
    pub fn load(
        dir: impl AsRef<Path>,
        device: &Device,
        options: &SdOptions,
    ) -> Result<Self, SdError> {
        let dir = dir.as_ref();
        let config = ClipVisionConfig::from_file(&dir.join("config.json"))?;
        let ignored = if config.full_model {
            IGNORED_FULL
        } else {
            IGNORED
        };
        let no_prefix = |_: &WeightFile| "";
        load_component(
            dir,
            &config.path,
            device,
            options,
            no_prefix,
            ignored,
            |w| Self::new(&config, w),
        )
    }

    /// The config the tower was built from.
    pub fn config(&self) -> &ClipVisionConfig {
        &self.config
    }

    /// The tower on `pixels` `[b, num_channels, S, S]` (`S` the config's `image_size`),
    /// normalised as the [`ClipImageProcessor`] gives them: `last_hidden_state` and
    /// `image_embeds`, in the compute precision ([`SdOptions::precision`]) on the tower's
    /// device. Pixels on another device or in another dtype are moved and cast first.
    ///
    /// Burn tensor operations only, end to end: on an autodiff device, the outputs
    /// differentiate back to `pixels`.
    ///
    /// Errors ([`SdError::Shape`]) when the batch is empty or the pixels are not
    /// `num_channels` × `image_size` × `image_size` (the tower's position embedding is for
    /// that size; resize first, e.g. with
    /// [`ClipImageProcessor::normalise_decoded`]).
    pub fn forward(&self, pixels: Tensor<4>) -> Result<ClipVisionOutput, SdError> {
        let c = &self.config;
        let [b, ch, h, w] = pixels.dims();
        if b == 0 {
            return Err(SdError::Shape("no images to encode (batch of 0)".into()));
        }
        if ch != c.num_channels || h != c.image_size || w != c.image_size {
            return Err(SdError::Shape(format!(
                "pixels of {ch} channels at {w}×{h}: the CLIP vision tower takes {} channels \
                 at {s}×{s} (its config {})",
                c.num_channels,
                c.path.display(),
                s = c.image_size,
            )));
        }
        Ok(self.forward_unchecked(to_model(pixels, &self.device, self.dtype)))
    }

    /// Build from the weights (transformers' names).
    fn new(c: &ClipVisionConfig, w: &mut Loader) -> Result<Self, SdError> {
        let h = c.hidden_size;
        let eps = c.layer_norm_eps;
        let p = c.patch_size;
        let e = "vision_model.embeddings";
        let class_embedding = w.tensor(&format!("{e}.class_embedding"), [h])?;
        let patch_embedding = w.tensor(
            &format!("{e}.patch_embedding.weight"),
            [h, c.num_channels, p, p],
        )?;
        let position_embedding =
            w.tensor(&format!("{e}.position_embedding.weight"), [c.tokens(), h])?;
        // "layrnorm" is transformers' own spelling of this weight's name
        let pre_norm = w.layer_norm("vision_model.pre_layrnorm", h, eps)?;
        let layers = (0..c.num_hidden_layers)
            .map(|i| {
                let prefix = format!("vision_model.encoder.layers.{i}");
                EncoderLayer::new(w, &prefix, h, c.intermediate_size, eps)
            })
            .collect::<Result<Vec<_>, SdError>>()?;
        let post_norm = w.layer_norm("vision_model.post_layernorm", h, eps)?;
        let projection = w.linear("visual_projection", h, c.projection_dim, false)?;
        Ok(Self {
            config: c.clone(),
            class_embedding,
            patch_embedding,
            position_embedding,
            pre_norm,
            layers,
            post_norm,
            projection,
            device: w.device().clone(),
            dtype: w.dtype(),
        })
    }

    /// The tower on pixels of the checked shape, on its device and in its dtype.
    fn forward_unchecked(&self, x: Tensor<4>) -> ClipVisionOutput {
        let c = &self.config;
        let [b, ch, s, _] = x.dims();
        let (p, h) = (c.patch_size, c.hidden_size);
        let g = s / p;
        // The patch embedding is a p×p convolution of stride p without bias: each patch,
        // flattened in the kernel's (channel, row, column) order, times the flattened kernel.
        let patches = x
            .reshape([b, ch, g, p, g, p])
            .permute([0, 2, 4, 1, 3, 5])
            .reshape([b * g * g, ch * p * p]);
        let kernel = self
            .patch_embedding
            .clone()
            .reshape([h, ch * p * p])
            .transpose();
        let patches = patches.matmul(kernel).reshape([b, g * g, h]);
        let class = self
            .class_embedding
            .clone()
            .reshape([1, 1, h])
            .expand([b, 1, h]);
        let positions = self.position_embedding.clone().unsqueeze_dim::<3>(0);
        let mut x = self
            .pre_norm
            .forward(Tensor::cat(vec![class, patches], 1) + positions);
        for l in &self.layers {
            x = l.forward(x, c.num_attention_heads, c.hidden_act, false);
        }
        let pooled = self
            .post_norm
            .forward(x.clone().narrow(1, 0, 1).reshape([b, h]));
        ClipVisionOutput {
            last_hidden_state: x,
            image_embeds: self.projection.forward(pooled),
        }
    }
}

/// The vision tower of a model folder: its `image_encoder/` when that holds a `config.json`
/// and a `*.safetensors` weights file (the default of `--image-encoder DIR`). A Hugging Face
/// hub cache entry (`models--org--name/`) stands for the snapshot its `refs/main` names.
///
/// ```
/// let dir = tempfile::tempdir()?;
/// assert_eq!(nao_sd::clip_vision::find_image_encoder(dir.path()), None);
/// let encoder = dir.path().join("image_encoder");
/// std::fs::create_dir(&encoder)?;
/// std::fs::write(encoder.join("config.json"), "{}")?;
/// assert_eq!(nao_sd::clip_vision::find_image_encoder(dir.path()), None); // no weights
/// std::fs::write(encoder.join("model.safetensors"), b"")?;
/// assert_eq!(nao_sd::clip_vision::find_image_encoder(dir.path()), Some(encoder));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn find_image_encoder(model_dir: impl AsRef<Path>) -> Option<PathBuf> {
    let dir = crate::detect::model_dir(model_dir.as_ref()).join("image_encoder");
    let has_weights = std::fs::read_dir(&dir).ok()?.any(|e| {
        e.is_ok_and(|e| {
            e.file_name().to_string_lossy().ends_with(".safetensors") && e.path().is_file()
        })
    });
    (dir.join("config.json").is_file() && has_weights).then_some(dir)
}

/// The image processor config of a model folder: `feature_extractor/preprocessor_config.json`
/// (diffusers' layout), or else `image_encoder/preprocessor_config.json` (a transformers CLIP
/// folder copied whole); `None` when neither is a file. Without one,
/// [`ClipImageProcessor::for_config`] gives CLIP's own processing.
pub fn find_image_processor(model_dir: impl AsRef<Path>) -> Option<PathBuf> {
    let dir = crate::detect::model_dir(model_dir.as_ref());
    ["feature_extractor", "image_encoder"]
        .iter()
        .map(|sub| dir.join(sub).join("preprocessor_config.json"))
        .find(|p| p.is_file())
}
