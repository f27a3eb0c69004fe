//! Loading PNG/JPEG images as model inputs, converted as diffusers' `VaeImageProcessor` does.

use std::path::Path;

use image::imageops::{self, FilterType};
use image::{DynamicImage, GrayImage, ImageBuffer, Pixel, RgbImage};
use nao_backend::{ModelInfo, Tensor};

use crate::InversionError;

/// How an image whose size differs from the model's is brought to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum ResizePolicy {
    /// The image's own size, as diffusers inverts an image: both sides must be multiples of
    /// the model's VAE downsampling ([`ImageSpec::size_step`]); a model of a fixed size takes
    /// only images of that size. The latents follow the image (a 64×96 image gives latents
    /// `[c, 8, 12]` on Stable Diffusion).
    None,
    /// No resizing: an image of another size than the model's default is an error.
    Exact,
    /// Resize to the target size, ignoring the aspect ratio (diffusers' `resize_mode="default"`).
    Stretch,
    /// Resize so that the image covers the target, keeping the aspect ratio, then cut the
    /// centre (diffusers' `resize_mode="crop"`).
    #[default]
    CenterCrop,
}

impl ResizePolicy {
    /// The command-line name (`exact`, `stretch`, `center-crop`).
    ///
    /// ```
    /// assert_eq!(nao_inversion::ResizePolicy::CenterCrop.name(), "center-crop");
    /// ```
    pub fn name(self) -> &'static str {
        match self {
            ResizePolicy::None => "none",
            ResizePolicy::Exact => "exact",
            ResizePolicy::Stretch => "stretch",
            ResizePolicy::CenterCrop => "center-crop",
        }
    }
}

impl ResizePolicy {
    /// The policy for a model when none is chosen: [`ResizePolicy::None`] (the image's own
    /// size, as diffusers inverts) for models that take any size whose sides are multiples of
    /// their VAE downsampling (Stable Diffusion folders and ONNX exports), and
    /// [`ResizePolicy::CenterCrop`] for models of a fixed size (the embedded model).
    ///
    /// ```
    /// use nao_inversion::ResizePolicy;
    /// let model = nao_test_support::AnalyticBackend::new(); // any multiple of 2
    /// let info = nao_backend::Backend::info(&model);
    /// assert_eq!(ResizePolicy::default_for(info), ResizePolicy::None);
    /// let fixed = nao_backend::ModelInfo { fixed_image_size: true, ..info.clone() };
    /// assert_eq!(ResizePolicy::default_for(&fixed), ResizePolicy::CenterCrop);
    /// ```
    pub fn default_for(info: &ModelInfo) -> Self {
        if info.fixed_image_size {
            ResizePolicy::CenterCrop
        } else {
            ResizePolicy::None
        }
    }
}

/// The most pixels (width × height) an image file may declare: 8192 × 8192. Checked from the
/// file's header before anything is decoded, so a small file that declares a huge image costs
/// nothing.
pub const MAX_IMAGE_PIXELS: u64 = 1 << 26;

/// The largest image file read (a 8192² PNG of noise is about 200 MiB).
pub const MAX_IMAGE_FILE_BYTES: u64 = 256 << 20;

/// The most bytes the decoder may allocate: [`MAX_IMAGE_PIXELS`] at 8 bytes a pixel (16-bit
/// RGBA).
const MAX_DECODE_BYTES: u64 = MAX_IMAGE_PIXELS * 8;

/// The most pixels of the intermediate image a resize goes through. The image crate resizes
/// the height first, keeping the width: a 10 000 000 × 1 image brought to 28 × 28 would pass
/// through 280 million pixels. Past this budget a centre crop is cut before resizing, and a
/// stretch is refused.
const MAX_RESIZE_PIXELS: usize = 1 << 25;

/// The tensor an image becomes: channels (3 for RGB, 1 for grey) and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageSpec {
    /// 3 (RGB) or 1 (grey).
    pub channels: usize,
    /// Height in pixels (the model's default; the target of every policy but
    /// [`ResizePolicy::None`]).
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
    /// The other sizes the model takes: `Some(s)`, any size whose sides are multiples of `s`
    /// (its VAE downsampling: a convolutional model such as Stable Diffusion); `None`, only
    /// `height × width` (a model of a fixed size). [`ResizePolicy::None`] keeps an image's own
    /// size only when this allows it.
    pub size_step: Option<usize>,
}

impl ImageSpec {
    /// The model's image channels and default image size, and the other sizes it takes.
    pub fn for_model(info: &ModelInfo) -> Self {
        Self {
            channels: info.image_channels,
            height: info.default_image_size.0,
            width: info.default_image_size.1,
            size_step: (!info.fixed_image_size).then_some(info.vae_downsample.max(1)),
        }
    }

    /// A spec that takes `height × width` images only (a classifier's input, a model of a
    /// fixed size).
    ///
    /// ```
    /// let spec = nao_inversion::ImageSpec::fixed(3, 64, 64);
    /// assert_eq!((spec.height, spec.size_step), (64, None));
    /// ```
    pub fn fixed(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
            size_step: None,
        }
    }

    /// The size `(height, width)` an image of `(height, width)` = `source` becomes under
    /// `policy`: the image's own under [`ResizePolicy::None`] (an error when the model does
    /// not take it: a side that is not a multiple of [`ImageSpec::size_step`], or another size
    /// than a fixed-size model's), the spec's size under every other policy.
    ///
    /// ```
    /// use nao_inversion::{ImageSpec, ResizePolicy};
    /// let sd = ImageSpec { channels: 3, height: 512, width: 512, size_step: Some(8) };
    /// assert_eq!(sd.target_size((512, 768), ResizePolicy::None)?, (512, 768));
    /// assert_eq!(sd.target_size((512, 768), ResizePolicy::CenterCrop)?, (512, 512));
    /// let e = sd.target_size((500, 768), ResizePolicy::None).unwrap_err().to_string();
    /// assert!(e.contains("500×768") && e.contains("multiples of 8"), "{e}");
    /// # Ok::<(), nao_inversion::InversionError>(())
    /// ```
    pub fn target_size(
        &self,
        source: (usize, usize),
        policy: ResizePolicy,
    ) -> Result<(usize, usize), InversionError> {
        let (ih, iw) = source;
        let (h, w) = (self.height, self.width);
        if policy != ResizePolicy::None || (ih, iw) == (h, w) {
            return Ok((h, w));
        }
        match self.size_step {
            Some(s) if s > 0 && ih > 0 && iw > 0 && ih % s == 0 && iw % s == 0 => Ok((ih, iw)),
            Some(s) => Err(InversionError::InvalidInput(format!(
                "the image is {ih}×{iw} (height × width); the resize policy none keeps an \
                 image's own size, which for this model must have both sides multiples of {s} \
                 (its VAE downsampling factor): crop it to {}×{}, or choose center-crop or \
                 stretch to bring it to {h}×{w}",
                ih / s * s,
                iw / s * s
            ))),
            None => Err(InversionError::InvalidInput(format!(
                "the image is {ih}×{iw} (height × width) but this model takes {h}×{w} images \
                 only (its networks have a fixed size), so the resize policy none cannot keep \
                 it: choose center-crop or stretch"
            ))),
        }
    }

    fn check(&self) -> Result<(), InversionError> {
        if !matches!(self.channels, 1 | 3) {
            return Err(InversionError::InvalidInput(format!(
                "images have 1 (grey) or 3 (RGB) channels, not {}",
                self.channels
            )));
        }
        if self.height == 0 || self.width == 0 || self.height > 1 << 16 || self.width > 1 << 16 {
            return Err(InversionError::InvalidInput(format!(
                "image size {}×{} must be positive and at most 65536",
                self.height, self.width
            )));
        }
        Ok(())
    }
}

/// Read a PNG or JPEG file into a tensor `[1, channels, height, width]` in `[−1, 1]`.
///
/// As diffusers: the image is converted to RGB (alpha dropped) or to grey (PIL's `convert("L")`
/// luma, `(19595·R + 38470·G + 7471·B + 2¹⁵) >> 16`), resized in 8 bits per the policy with a
/// Lanczos-3 filter, and mapped to `pixel/255·2 − 1` in f32.
///
/// ```no_run
/// use nao_inversion::{load_image, ImageSpec, ResizePolicy};
/// let spec = ImageSpec::fixed(3, 512, 512);
/// let image = load_image("cat.png", &spec, ResizePolicy::CenterCrop)?;
/// assert_eq!(image.shape, vec![1, 3, 512, 512]);
/// # Ok::<(), nao_inversion::InversionError>(())
/// ```
pub fn load_image(
    path: impl AsRef<Path>,
    spec: &ImageSpec,
    policy: ResizePolicy,
) -> Result<Tensor, InversionError> {
    let path = path.as_ref();
    let err = |message: String| InversionError::Image {
        path: path.display().to_string(),
        message,
    };
    // stat first: a FIFO or a device is refused before it is opened; the size is checked
    // before anything is read
    let bytes =
        nao_fs::input::read_limited(path, MAX_IMAGE_FILE_BYTES).map_err(|e| err(e.detail()))?;
    decode_image(&bytes, spec, policy).map_err(|e| match e {
        InversionError::Image { message, .. } => err(message),
        other => other,
    })
}

/// Several image files as one batch `[n, channels, height, width]` (see [`load_image`]).
/// A batch has one size: under [`ResizePolicy::None`] images of different sizes are an error
/// naming two of the files and their sizes.
pub fn load_images<P: AsRef<Path>>(
    paths: &[P],
    spec: &ImageSpec,
    policy: ResizePolicy,
) -> Result<Tensor, InversionError> {
    if paths.is_empty() {
        return Err(InversionError::InvalidInput("no image files given".into()));
    }
    let items = paths
        .iter()
        .map(|p| load_image(p, spec, policy))
        .collect::<Result<Vec<_>, _>>()?;
    let named: Vec<(String, &Tensor)> = paths
        .iter()
        .map(|p| p.as_ref().display().to_string())
        .zip(&items)
        .collect();
    check_one_size(&named)?;
    Ok(Tensor::concat(&items)?)
}

/// Refuse images `[1, channels, height, width]` of different sizes, naming the first two that
/// differ (`(name, image)` pairs): a stack of seeds, a walk or a class's centroid needs one
/// latent shape.
///
/// ```
/// use nao_backend::Tensor;
/// let a = Tensor::zeros(vec![1, 3, 64, 96]);
/// let b = Tensor::zeros(vec![1, 3, 64, 64]);
/// let e = nao_inversion::check_one_size(&[("a.png".into(), &a), ("b.png".into(), &b)]);
/// let e = e.unwrap_err().to_string();
/// assert!(e.contains("a.png is 64×96") && e.contains("b.png is 64×64"), "{e}");
/// ```
pub fn check_one_size(images: &[(String, &Tensor)]) -> Result<(), InversionError> {
    let size = |t: &Tensor| t.shape.get(2..4).map(<[usize]>::to_vec).unwrap_or_default();
    let Some((first, image)) = images.first() else {
        return Ok(());
    };
    match images.iter().find(|(_, t)| size(t) != size(image)) {
        None => Ok(()),
        Some((other, t)) => {
            let text = |s: Vec<usize>| {
                s.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("×")
            };
            Err(InversionError::InvalidInput(format!(
                "images of different sizes cannot be inverted together (their seeds need one \
                 latent shape): {first} is {} but {other} is {} (height × width); invert them \
                 separately, or bring them to one size with the resize policy center-crop or \
                 stretch",
                text(size(image)),
                text(size(t))
            )))
        }
    }
}

/// The size `(height, width)` an image file declares in its header (nothing is decoded), as
/// [`load_image`] reads files: for what needs the size before the pixels (a walk's latent
/// shape under [`ResizePolicy::None`]).
pub fn image_file_size(path: impl AsRef<Path>) -> Result<(usize, usize), InversionError> {
    let path = path.as_ref();
    let err = |message: String| InversionError::Image {
        path: path.display().to_string(),
        message,
    };
    let bytes =
        nao_fs::input::read_limited(path, MAX_IMAGE_FILE_BYTES).map_err(|e| err(e.detail()))?;
    let (w, h) = image::ImageReader::new(std::io::Cursor::new(&bytes))
        .with_guessed_format()
        .map_err(|e| err(e.to_string()))?
        .into_dimensions()
        .map_err(|e| err(e.to_string()))?;
    Ok((h as usize, w as usize))
}

/// Decode PNG or JPEG bytes into a tensor `[1, channels, height, width]` (see [`load_image`]).
pub fn decode_image(
    bytes: &[u8],
    spec: &ImageSpec,
    policy: ResizePolicy,
) -> Result<Tensor, InversionError> {
    let img = decode_bounded(bytes).map_err(|message| InversionError::Image {
        path: "<memory>".into(),
        message,
    })?;
    image_to_tensor(&img, spec, policy)
}

/// Decode an image after checking, from its header alone, that it declares at most
/// [`MAX_IMAGE_PIXELS`]; the decoder itself is held to that size and [`MAX_DECODE_BYTES`].
fn decode_bounded(bytes: &[u8]) -> Result<DynamicImage, String> {
    let reader = || {
        image::ImageReader::new(std::io::Cursor::new(bytes))
            .with_guessed_format()
            .map_err(|e| e.to_string())
    };
    let (w, h) = reader()?.into_dimensions().map_err(|e| e.to_string())?;
    let pixels = u64::from(w) * u64::from(h);
    if pixels > MAX_IMAGE_PIXELS {
        return Err(format!(
            "{w}×{h} pixels ({:.1} million): images of at most {} million pixels are read \
             (8192 × 8192)",
            pixels as f64 / 1e6,
            MAX_IMAGE_PIXELS / 1_000_000
        ));
    }
    let mut decoder = reader()?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(w);
    limits.max_image_height = Some(h);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    decoder.limits(limits);
    decoder.decode().map_err(|e| e.to_string())
}

/// Convert a decoded image into a tensor `[1, channels, height, width]` (see [`load_image`]).
///
/// ```
/// use image::{DynamicImage, RgbImage};
/// use nao_inversion::{image_to_tensor, ImageSpec, ResizePolicy};
/// let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(4, 4, image::Rgb([255, 0, 51])));
/// let spec = ImageSpec::fixed(3, 4, 4);
/// let t = image_to_tensor(&img, &spec, ResizePolicy::Exact)?;
/// assert_eq!(t.shape, vec![1, 3, 4, 4]);
/// assert_eq!((t.data[0], t.data[16], t.data[32]), (1.0, -1.0, -0.6));
/// # Ok::<(), nao_inversion::InversionError>(())
/// ```
pub fn image_to_tensor(
    img: &DynamicImage,
    spec: &ImageSpec,
    policy: ResizePolicy,
) -> Result<Tensor, InversionError> {
    spec.check()?;
    let source = (img.height() as usize, img.width() as usize);
    let (h, w) = spec.target_size(source, policy)?;
    let data = if spec.channels == 3 {
        to_planes(&fit(&img.to_rgb8(), h, w, policy)?)
    } else {
        to_planes(&fit(&pil_luma(&img.to_rgb8()), h, w, policy)?)
    };
    Ok(Tensor::new(vec![1, spec.channels, h, w], data)?)
}

/// PIL's RGB → L conversion (ITU-R 601-2 luma in 16-bit fixed point, rounded).
fn pil_luma(rgb: &RgbImage) -> GrayImage {
    GrayImage::from_fn(rgb.width(), rgb.height(), |x, y| {
        let [r, g, b] = rgb.get_pixel(x, y).0;
        let l = (r as u32 * 19595 + g as u32 * 38470 + b as u32 * 7471 + 0x8000) >> 16;
        image::Luma([l as u8])
    })
}

/// Bring an 8-bit image to `h × w` per the policy.
fn fit<P>(
    img: &ImageBuffer<P, Vec<u8>>,
    h: usize,
    w: usize,
    policy: ResizePolicy,
) -> Result<ImageBuffer<P, Vec<u8>>, InversionError>
where
    P: Pixel<Subpixel = u8> + 'static,
{
    let (iw, ih) = (img.width() as usize, img.height() as usize);
    if (ih, iw) == (h, w) {
        return Ok(img.clone());
    }
    if iw == 0 || ih == 0 {
        return Err(InversionError::Image {
            path: "<image>".into(),
            message: "the image is empty".into(),
        });
    }
    match policy {
        // `ImageSpec::target_size` gave the image's own size or refused it
        ResizePolicy::None => Err(InversionError::InvalidInput(format!(
            "the image is {ih}×{iw}; the resize policy none does not resize it to {h}×{w}"
        ))),
        ResizePolicy::Exact => Err(InversionError::InvalidInput(format!(
            "the image is {ih}×{iw} but the model takes {h}×{w} (choose a resize policy)"
        ))),
        ResizePolicy::Stretch if iw.saturating_mul(h) > MAX_RESIZE_PIXELS => {
            Err(InversionError::InvalidInput(format!(
                "the image is {ih}×{iw}, too far from the model's {h}×{w} in shape to stretch \
                 (choose the centre-crop resize policy)"
            )))
        }
        ResizePolicy::Stretch => Ok(imageops::resize(
            img,
            w as u32,
            h as u32,
            FilterType::Lanczos3,
        )),
        ResizePolicy::CenterCrop => {
            // diffusers' `_resize_and_crop`, in the same integer arithmetic.
            let (sw, sh) = if w * ih > iw * h {
                (w, (ih * w / iw).max(1))
            } else {
                ((iw * h / ih).max(1), h)
            };
            if sw.saturating_mul(sh) > MAX_RESIZE_PIXELS
                || iw.saturating_mul(sh) > MAX_RESIZE_PIXELS
            {
                // An extreme aspect ratio: cut the centre at the model's shape first, so that
                // no intermediate image is larger than the source.
                let (cw, ch) = if w * ih > iw * h {
                    (iw, (iw * h / w).clamp(1, ih))
                } else {
                    ((ih * w / h).clamp(1, iw), ih)
                };
                let (x0, y0) = ((iw - cw) / 2, (ih - ch) / 2);
                let cut = imageops::crop_imm(img, x0 as u32, y0 as u32, cw as u32, ch as u32);
                return Ok(imageops::resize(
                    &cut.to_image(),
                    w as u32,
                    h as u32,
                    FilterType::Lanczos3,
                ));
            }
            let resized = imageops::resize(img, sw as u32, sh as u32, FilterType::Lanczos3);
            let (x0, y0) = (sw / 2 - w / 2, sh / 2 - h / 2);
            Ok(imageops::crop_imm(&resized, x0 as u32, y0 as u32, w as u32, h as u32).to_image())
        }
    }
}

/// Channel-planar f32 data in `[−1, 1]`: `(v/255)·2 − 1` in f32, as diffusers computes it.
fn to_planes<P>(img: &ImageBuffer<P, Vec<u8>>) -> Vec<f32>
where
    P: Pixel<Subpixel = u8>,
{
    let c = P::CHANNEL_COUNT as usize;
    let n = img.width() as usize * img.height() as usize;
    let raw = img.as_raw();
    let mut out = vec![0f32; c * n];
    for (i, px) in raw.chunks_exact(c).enumerate() {
        for (k, &v) in px.iter().enumerate() {
            out[k * n + i] = (v as f32 / 255.0) * 2.0 - 1.0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pil_luma_of_grey_is_identity_and_of_colours_is_601() {
        let img = RgbImage::from_fn(3, 1, |x, _| match x {
            0 => image::Rgb([77, 77, 77]),
            1 => image::Rgb([255, 0, 0]),
            _ => image::Rgb([0, 0, 255]),
        });
        let l = pil_luma(&img);
        // 77 stays 77; 255·19595/65536 = 76.24 → 76; 255·7471/65536 = 29.07 → 29.
        assert_eq!(l.as_raw(), &vec![77, 76, 29]);
    }

    #[test]
    fn centre_crop_keeps_the_middle() {
        // A 6×2 (w×h) image whose columns count 0..6, cropped to 2×2 without resizing the
        // height: scale 1, so the middle columns 2 and 3 remain.
        let img = GrayImage::from_fn(6, 2, |x, _| image::Luma([x as u8 * 10]));
        let out = fit(&img, 2, 2, ResizePolicy::CenterCrop).unwrap();
        assert_eq!(out.as_raw(), &vec![20, 30, 20, 30]);
        assert!(fit(&img, 2, 2, ResizePolicy::Exact).is_err());
        let s = fit(&img, 2, 3, ResizePolicy::Stretch).unwrap();
        assert_eq!((s.width(), s.height()), (3, 2));
    }
    /// A PNG that only declares its size: IHDR, an empty IDAT and IEND, no pixel data.
    fn declared_png(w: u32, h: u32) -> Vec<u8> {
        fn crc32(bytes: &[u8]) -> u32 {
            let mut c = !0u32;
            for &b in bytes {
                c ^= u32::from(b);
                for _ in 0..8 {
                    c = if c & 1 != 0 {
                        0xEDB8_8320 ^ (c >> 1)
                    } else {
                        c >> 1
                    };
                }
            }
            !c
        }
        let mut chunk = b"IHDR".to_vec();
        chunk.extend(w.to_be_bytes());
        chunk.extend(h.to_be_bytes());
        chunk.extend([8, 0, 0, 0, 0]); // 8-bit grey
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        for chunk in [chunk, b"IDAT".to_vec(), b"IEND".to_vec()] {
            png.extend((chunk.len() as u32 - 4).to_be_bytes());
            png.extend(&chunk);
            png.extend(crc32(&chunk).to_be_bytes());
        }
        png
    }

    #[test]
    fn huge_declared_images_are_refused_before_decoding() {
        let spec = ImageSpec {
            channels: 1,
            height: 28,
            width: 28,
            size_step: None,
        };
        let e = decode_image(
            &declared_png(22_000, 22_000),
            &spec,
            ResizePolicy::CenterCrop,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("22000×22000") && e.contains("million"), "{e}");
    }

    #[test]
    fn extreme_aspect_ratios_are_cut_before_resizing_or_refused() {
        let spec = ImageSpec {
            channels: 1,
            height: 28,
            width: 28,
            size_step: None,
        };
        // 2 000 000 × 1: resizing first would pass through 56 million pixels and more
        let img = DynamicImage::ImageLuma8(GrayImage::from_fn(2_000_000, 1, |x, _| {
            image::Luma([(x % 256) as u8])
        }));
        let t = image_to_tensor(&img, &spec, ResizePolicy::CenterCrop).unwrap();
        assert_eq!(t.shape, vec![1, 1, 28, 28]);
        let e = image_to_tensor(&img, &spec, ResizePolicy::Stretch)
            .unwrap_err()
            .to_string();
        assert!(e.contains("centre-crop"), "{e}");
        // an ordinary landscape picture takes diffusers' path (resize, then cut)
        let wide =
            DynamicImage::ImageLuma8(GrayImage::from_fn(84, 28, |x, _| image::Luma([x as u8])));
        let t = image_to_tensor(&wide, &spec, ResizePolicy::CenterCrop).unwrap();
        assert_eq!(t.data[0], (28.0f32 / 255.0) * 2.0 - 1.0);
    }
}
