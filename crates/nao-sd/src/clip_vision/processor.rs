//! transformers' `CLIPImageProcessor` (`preprocessor_config.json`): host images to the
//! encoder's normalised pixels; and the same mapping for decoded images on burn tensors.

use std::path::{Path, PathBuf};

use burn::tensor::{Tensor, TensorData};
use serde_json::Value;

use super::resample::{bicubic_matrix, pil_resize, Resample};
use crate::config::json::{short, ConfigFile};
use crate::config::{ClipVisionConfig, MAX_IMAGE_SIZE};
use crate::SdError;

/// OpenAI CLIP's per-channel mean (transformers' `OPENAI_CLIP_MEAN`).
pub const CLIP_MEAN: [f32; 3] = [0.481_454_66, 0.457_827_5, 0.408_210_73];
/// OpenAI CLIP's per-channel standard deviation (transformers' `OPENAI_CLIP_STD`).
// the decimals transformers writes into configs: the same f32 values as shorter literals
#[allow(clippy::excessive_precision)]
pub const CLIP_STD: [f32; 3] = [0.268_629_54, 0.261_302_58, 0.275_777_11];

/// Most pixels an image may have after the resize (a very elongated image resized to a
/// shortest edge could ask for any number).
const MAX_RESIZED_PIXELS: usize = 1 << 26;

/// The first resize of [`ClipImageProcessor`] (`size` in `preprocessor_config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResizeTo {
    /// `{"shortest_edge": n}` (or a bare `n`): the shorter side to `n`, the longer to
    /// `⌊n · long / short⌋`, keeping the aspect ratio (CLIP's).
    ShortestEdge(usize),
    /// `{"height": h, "width": w}`: exactly this size.
    Exact {
        /// Rows.
        height: usize,
        /// Columns.
        width: usize,
    },
}

/// transformers' `CLIPImageProcessor`, from a `preprocessor_config.json` (the
/// `feature_extractor/` of a diffusers folder, or beside a CLIP model's `config.json`): turns
/// images into the normalised `[3, h, w]` pixels a [`ClipVisionModel`](super::ClipVisionModel)
/// takes, and maps decoded images (in `[−1, 1]`, on burn tensors) to the same space
/// differentiably ([`normalise_decoded`](Self::normalise_decoded)).
///
/// The host path ([`pixel_values`](Self::pixel_values)) is transformers' PIL path step for
/// step, byte for byte: resize with Pillow's filter in Pillow's 8-bit fixed-point arithmetic,
/// centre crop (zero-padded when the crop is larger), rescale by `rescale_factor`, normalise
/// with `image_mean` / `image_std` in f32.
#[derive(Debug, Clone, PartialEq)]
pub struct ClipImageProcessor {
    /// The resize (`do_resize`, `size`), if any.
    pub resize: Option<ResizeTo>,
    /// The resize filter (`resample`; bicubic by default, CLIP's).
    pub resample: Resample,
    /// The centre crop `(height, width)` (`do_center_crop`, `crop_size`), if any.
    pub crop: Option<(usize, usize)>,
    /// The factor pixel bytes are multiplied by (`do_rescale`, `rescale_factor`: 1/255), if
    /// any.
    pub rescale: Option<f64>,
    /// The per-channel `(mean, std)` pixels are normalised with (`do_normalize`,
    /// `image_mean`, `image_std`), if any.
    pub normalize: Option<([f32; 3], [f32; 3])>,
    /// The config file, when read from one.
    pub path: Option<PathBuf>,
}

impl ClipImageProcessor {
    /// Read `preprocessor_config.json`.
    pub fn from_file(path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::read(path)?)
    }

    /// Parse `preprocessor_config.json` text; `path` names it in errors.
    pub fn from_json(text: &str, path: &Path) -> Result<Self, SdError> {
        Self::from_config(&ConfigFile::parse(text, path)?)
    }

    /// CLIP's processor for a vision tower without a `preprocessor_config.json`: shortest edge
    /// and centre crop to the tower's `image_size`, bicubic, 1/255, CLIP's mean and std.
    pub fn for_config(config: &ClipVisionConfig) -> Self {
        let s = config.image_size;
        Self {
            resize: Some(ResizeTo::ShortestEdge(s)),
            resample: Resample::Bicubic,
            crop: Some((s, s)),
            rescale: Some(1.0 / 255.0),
            normalize: Some((CLIP_MEAN, CLIP_STD)),
            path: None,
        }
    }

    fn from_config(c: &ConfigFile) -> Result<Self, SdError> {
        let types = &[
            "CLIPImageProcessor",
            "CLIPImageProcessorPil",
            "CLIPImageProcessorFast",
        ];
        c.class_name("image_processor_type", types)?;
        c.class_name("feature_extractor_type", &["CLIPFeatureExtractor"])?;
        let resize = if c.boolean("do_resize", true)? {
            Some(match c.get("size") {
                None => ResizeTo::ShortestEdge(224),
                Some(Value::Object(m)) => {
                    let side = |key: &str| -> Result<Option<usize>, SdError> {
                        match m.get(key).filter(|v| !v.is_null()) {
                            None => Ok(None),
                            Some(v) => side_value(c, &format!("size.{key}"), v).map(Some),
                        }
                    };
                    match (side("shortest_edge")?, side("height")?, side("width")?) {
                        (Some(n), None, None) if !m.contains_key("longest_edge") => {
                            ResizeTo::ShortestEdge(n)
                        }
                        (None, Some(height), Some(width)) => ResizeTo::Exact { height, width },
                        _ => {
                            return Err(c.err(format!(
                                "'size' = {} is not {{\"shortest_edge\": n}} nor {{\"height\": \
                                 h, \"width\": w}}",
                                short(&Value::Object(m.clone()))
                            )))
                        }
                    }
                }
                Some(v) => ResizeTo::ShortestEdge(side_value(c, "size", v)?),
            })
        } else {
            None
        };
        let resample = match c.get("resample") {
            None => Resample::Bicubic,
            Some(v) => v.as_u64().and_then(Resample::from_pil).ok_or_else(|| {
                c.err(format!(
                    "'resample' = {} is not one of Pillow's filters 1 (Lanczos), 2 (bilinear), \
                     3 (bicubic), 4 (box), 5 (Hamming)",
                    short(v)
                ))
            })?,
        };
        let crop = if c.boolean("do_center_crop", true)? {
            Some(match c.get("crop_size") {
                None => (224, 224),
                Some(Value::Object(m)) => {
                    let side = |key: &str| match m.get(key) {
                        Some(v) => side_value(c, &format!("crop_size.{key}"), v),
                        None => Err(c.err(format!("'crop_size' has no '{key}'"))),
                    };
                    (side("height")?, side("width")?)
                }
                Some(v) => {
                    let n = side_value(c, "crop_size", v)?;
                    (n, n)
                }
            })
        } else {
            None
        };
        let rescale = if c.boolean("do_rescale", true)? {
            Some(c.positive("rescale_factor", 1.0 / 255.0, 1.0)?)
        } else {
            None
        };
        let normalize = if c.boolean("do_normalize", true)? {
            let mean = three(c, "image_mean", CLIP_MEAN, false)?;
            let std = three(c, "image_std", CLIP_STD, true)?;
            Some((mean, std))
        } else {
            None
        };
        if !c.boolean("do_convert_rgb", true)? {
            return Err(c.err(
                "'do_convert_rgb' = false is not supported: images are taken as RGB".to_string(),
            ));
        }
        Ok(Self {
            resize,
            resample,
            crop,
            rescale,
            normalize,
            path: Some(c.path.clone()),
        })
    }

    /// The `(height, width)` an image of `(width, height)` has after the resize, as
    /// transformers computes it (`get_resize_output_image_size`).
    fn resized_size(&self, (width, height): (usize, usize)) -> (usize, usize) {
        match self.resize {
            None => (height, width),
            Some(ResizeTo::Exact { height, width }) => (height, width),
            Some(ResizeTo::ShortestEdge(n)) => {
                let (short, long) = if width <= height {
                    (width, height)
                } else {
                    (height, width)
                };
                // Python's int(n * long / short): a correctly rounded quotient, truncated
                let long = ((n * long) as f64 / short as f64) as usize;
                if width <= height {
                    (long, n)
                } else {
                    (n, long)
                }
            }
        }
    }

    /// The `(height, width)` of every output, when it does not depend on the image (a crop,
    /// or an exact resize).
    pub fn output_size(&self) -> Option<(usize, usize)> {
        match (self.crop, self.resize) {
            (Some(hw), _) => Some(hw),
            (None, Some(ResizeTo::Exact { height, width })) => Some((height, width)),
            _ => None,
        }
    }

    /// The encoder's input for one RGB image: `[3, h, w]` pixels (h × w the crop size),
    /// channel-major, exactly as transformers' PIL-based `CLIPImageProcessor` computes them.
    ///
    /// An image in another colour type is converted first with
    /// [`DynamicImage::to_rgb8`](image::DynamicImage::to_rgb8), which matches Pillow's
    /// `convert("RGB")` for 8-bit grey and RGBA images (alpha is dropped, not composited).
    ///
    /// Errors ([`SdError::Shape`]) for an empty image, or one whose resize would exceed 2²⁶
    /// pixels.
    pub fn pixel_values(&self, image: &image::RgbImage) -> Result<nao_backend::Tensor, SdError> {
        let (width, height) = (image.width() as usize, image.height() as usize);
        if width == 0 || height == 0 {
            return Err(SdError::Shape(format!(
                "the image is {width}×{height} pixels: it must have at least one"
            )));
        }
        let (rh, rw) = self.resized_size((width, height));
        if rh == 0 || rw == 0 || rh.saturating_mul(rw) > MAX_RESIZED_PIXELS {
            return Err(SdError::Shape(format!(
                "a {width}×{height} image resized to {rw}×{rh}: the resize must give 1 to \
                 {MAX_RESIZED_PIXELS} pixels"
            )));
        }
        let resized = if (rw, rh) == (width, height) {
            image.as_raw().clone()
        } else {
            pil_resize(image.as_raw(), (width, height), 3, (rw, rh), self.resample)
        };
        // the centre crop: Python's floor division places it; outside the image is 0
        let (ch, cw) = self.crop.unwrap_or((rh, rw));
        let top = (rh as i64 - ch as i64).div_euclid(2);
        let left = (rw as i64 - cw as i64).div_euclid(2);
        let mut out = vec![0f32; 3 * ch * cw];
        for c in 0..3 {
            for y in 0..ch {
                for x in 0..cw {
                    let (sy, sx) = (top + y as i64, left + x as i64);
                    let byte = if (0..rh as i64).contains(&sy) && (0..rw as i64).contains(&sx) {
                        resized[(sy as usize * rw + sx as usize) * 3 + c]
                    } else {
                        0
                    };
                    // transformers rescales in f64 and stores f32, then normalises in f32
                    let mut v = match self.rescale {
                        Some(f) => (f64::from(byte) * f) as f32,
                        None => f32::from(byte),
                    };
                    if let Some((mean, std)) = self.normalize {
                        v = (v - mean[c]) / std[c];
                    }
                    out[(c * ch + y) * cw + x] = v;
                }
            }
        }
        nao_backend::Tensor::new(vec![3, ch, cw], out).map_err(|e| SdError::Shape(e.to_string()))
    }

    /// [`pixel_values`](Self::pixel_values) of each image, as one `[b, 3, h, w]` f32 burn
    /// tensor on `device`. Errors when there are no images, or when the outputs differ in size
    /// (a processor without a crop keeps each image's aspect ratio).
    pub fn preprocess(
        &self,
        images: &[image::RgbImage],
        device: &crate::Device,
    ) -> Result<Tensor<4>, SdError> {
        let mut data = Vec::new();
        let mut size: Option<Vec<usize>> = None;
        for (i, img) in images.iter().enumerate() {
            let t = self.pixel_values(img)?;
            match &size {
                Some(s) if *s != t.shape => {
                    return Err(SdError::Shape(format!(
                        "image {i} gives pixels of shape {:?}, image 0 {s:?}: a batch must be \
                         of one size",
                        t.shape
                    )))
                }
                _ => size = Some(t.shape.clone()),
            }
            data.extend_from_slice(&t.data);
        }
        let Some(s) = size else {
            return Err(SdError::Shape("no images to preprocess".into()));
        };
        let shape = [images.len(), s[0], s[1], s[2]];
        Ok(Tensor::from_data(TensorData::new(data, shape), device))
    }

    /// Decoded images `[b, 3, H, W]` in `[−1, 1]` (what the VAE decoder gives) to the encoder's
    /// input, as SeedSelect's official code does it, on burn tensors end to end (so gradients
    /// flow back to the pixels, and from them to the latents):
    ///
    /// 1. `(x + 1) / 2`, clamped to `[0, 1]` (the pipeline's `decode_latents`; the clamp passes
    ///    no gradient where it cuts);
    /// 2. when `H × W` is not the [output size](Self::output_size), PyTorch's bicubic
    ///    interpolation (`F.interpolate(mode="bicubic")`, `align_corners=False`, no
    ///    antialiasing, a = −0.75) to it, each side on its own (SeedSelect resizes to the
    ///    processor's size this way, not with Pillow's filter: a tensor resize, no crop);
    /// 3. `(x − mean) / std` per channel (when the processor normalises).
    ///
    /// The result is in the input's dtype, on its device. Errors ([`SdError::Shape`]) for an
    /// input that is not `[b, 3, H, W]` with `b, H, W ≥ 1`, and when the processor has no fixed
    /// output size (no crop and no exact resize).
    pub fn normalise_decoded(&self, pixels: Tensor<4>) -> Result<Tensor<4>, SdError> {
        let [b, c, h, w] = pixels.dims();
        if b == 0 || c != 3 || h == 0 || w == 0 {
            return Err(SdError::Shape(format!(
                "decoded images of shape [{b}, {c}, {h}, {w}]: expected [b, 3, H, W] with b, H, \
                 W ≥ 1"
            )));
        }
        let Some((oh, ow)) = self.output_size() else {
            return Err(SdError::Shape(
                "the image processor has no fixed output size (no centre crop, no exact resize) \
                 to resize decoded images to"
                    .into(),
            ));
        };
        if oh > MAX_IMAGE_SIZE || ow > MAX_IMAGE_SIZE {
            return Err(SdError::Shape(format!(
                "the image processor's output size {ow}×{oh} is larger than {MAX_IMAGE_SIZE}"
            )));
        }
        let dtype = pixels.dtype();
        let device = pixels.device();
        let x = pixels.add_scalar(1.0).mul_scalar(0.5).clamp(0.0, 1.0);
        let x = if (h, w) == (oh, ow) {
            x
        } else {
            // y = M_h · x · M_wᵀ with PyTorch's interpolation matrices (constants of the sizes)
            let matrix = |n: usize, m: usize| {
                Tensor::<2>::from_data(TensorData::new(bicubic_matrix(n, m), [m, n]), &device)
                    .cast(dtype)
            };
            let x = x
                .reshape([b * c * h, w])
                .matmul(matrix(w, ow).transpose())
                .reshape([b, c, h, ow])
                .swap_dims(2, 3)
                .reshape([b * c * ow, h])
                .matmul(matrix(h, oh).transpose())
                .reshape([b, c, ow, oh]);
            x.swap_dims(2, 3)
        };
        Ok(match self.normalize {
            None => x,
            Some((mean, std)) => {
                let column = |v: [f32; 3]| {
                    Tensor::<4>::from_data(TensorData::new(v.to_vec(), [1, 3, 1, 1]), &device)
                        .cast(dtype)
                };
                (x - column(mean)) / column(std)
            }
        })
    }
}

/// A side length (a positive integer up to [`MAX_IMAGE_SIZE`]).
fn side_value(c: &ConfigFile, key: &str, v: &Value) -> Result<usize, SdError> {
    v.as_u64()
        .and_then(|n| usize::try_from(n).ok())
        .filter(|n| (1..=MAX_IMAGE_SIZE).contains(n))
        .ok_or_else(|| {
            c.err(format!(
                "'{key}' = {} is not an integer in 1..={MAX_IMAGE_SIZE}",
                short(v)
            ))
        })
}

/// Three finite numbers (one per RGB channel), positive when `positive`.
fn three(
    c: &ConfigFile,
    key: &str,
    default: [f32; 3],
    positive: bool,
) -> Result<[f32; 3], SdError> {
    let Some(v) = c.get(key) else {
        return Ok(default);
    };
    let numbers: Option<Vec<f32>> = match v {
        Value::Array(a) if a.len() == 3 => a
            .iter()
            .map(|x| x.as_f64().map(|x| x as f32))
            .collect::<Option<Vec<f32>>>(),
        // transformers also takes one number for every channel
        Value::Number(n) => n.as_f64().map(|x| vec![x as f32; 3]),
        _ => None,
    };
    numbers
        .filter(|n| n.iter().all(|x| x.is_finite() && (!positive || *x > 0.0)))
        .map(|n| [n[0], n[1], n[2]])
        .ok_or_else(|| {
            let what = if positive { "positive " } else { "" };
            c.err(format!(
                "'{key}' = {} is not 3 finite {what}numbers (one per RGB channel)",
                short(v)
            ))
        })
}
