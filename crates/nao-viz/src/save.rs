//! PNG files and looping GIF animations: encoded in memory ([`encode_png`], [`encode_gif`])
//! for callers that stage their own outputs, or saved atomically through `nao-fs` (the picture
//! goes to a temporary file beside the target and is renamed over it only when complete, so an
//! interrupted run never leaves a truncated figure that looks valid to a file browser).

use std::path::Path;

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::png::PngEncoder;
use image::{Delay, DynamicImage, ExtendedColorType, Frame, ImageEncoder, RgbImage};

use crate::VizError;

fn img_err(path: &Path) -> impl FnOnce(image::ImageError) -> VizError + '_ {
    move |source| VizError::Image {
        path: path.display().to_string(),
        source,
    }
}

/// Saves `img` as a PNG at `path`, creating parent directories, atomically (see the module
/// docs). Errors on an empty image or any I/O or encoding failure.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("figures/grid.png");
/// let img = image::RgbImage::from_pixel(4, 3, image::Rgb([10, 20, 30]));
/// nao_viz::save_png(&img, &path)?;
/// assert_eq!(image::open(&path).unwrap().to_rgb8(), img);
/// # Ok::<(), nao_viz::VizError>(())
/// ```
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), VizError> {
    let bytes = encode_png_named(img, path)?;
    save_bytes(path, &bytes)
}

/// Write a picture's bytes, creating its folder (which is removed again when the write fails
/// and nothing else went into it).
fn save_bytes(path: &Path, bytes: &[u8]) -> Result<(), VizError> {
    let mut out = nao_fs::Outputs::new();
    match path.parent().filter(|p| !p.as_os_str().is_empty()) {
        Some(dir) => out.claim_folder(dir, "picture folder")?,
        None => out.claim_file(path, "picture")?,
    }
    out.write(path, bytes)?;
    Ok(out.commit()?)
}

/// The bytes of the PNG [`save_png`] writes.
///
/// ```
/// let img = image::RgbImage::from_pixel(2, 2, image::Rgb([1, 2, 3]));
/// let png = nao_viz::encode_png(&img)?;
/// assert_eq!(image::load_from_memory(&png).unwrap().to_rgb8(), img);
/// # Ok::<(), nao_viz::VizError>(())
/// ```
pub fn encode_png(img: &RgbImage) -> Result<Vec<u8>, VizError> {
    encode_png_named(img, Path::new("<png>"))
}

fn encode_png_named(img: &RgbImage, name: &Path) -> Result<Vec<u8>, VizError> {
    if img.width() == 0 || img.height() == 0 {
        return Err(VizError::Empty(format!(
            "{}: image is {}×{}",
            name.display(),
            img.width(),
            img.height()
        )));
    }
    let mut bytes = Vec::new();
    PngEncoder::new(&mut bytes)
        .write_image(
            img.as_raw(),
            img.width(),
            img.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(img_err(name))?;
    Ok(bytes)
}

/// Saves `frames` as a GIF that loops forever, `delay_ms` per frame (GIF stores
/// hundredths of a second, so the delay is rounded down to 10 ms), atomically. Errors on no
/// frames, empty frames or frames of different sizes.
pub fn save_gif(frames: &[RgbImage], delay_ms: u32, path: &Path) -> Result<(), VizError> {
    let bytes = encode_gif(frames, delay_ms, path)?;
    save_bytes(path, &bytes)
}

/// The bytes of the looping GIF [`save_gif`] writes, for callers that stage their own output
/// files; `name` only labels errors (no file is touched).
pub fn encode_gif(frames: &[RgbImage], delay_ms: u32, name: &Path) -> Result<Vec<u8>, VizError> {
    let path = name;
    let first = frames.first().ok_or_else(|| {
        VizError::Empty(format!("{}: no frames for the animation", path.display()))
    })?;
    let size = first.dimensions();
    if size.0 == 0 || size.1 == 0 {
        return Err(VizError::Empty(format!(
            "{}: frames are {}×{}",
            path.display(),
            size.0,
            size.1
        )));
    }
    if let Some((i, f)) = frames
        .iter()
        .enumerate()
        .find(|(_, f)| f.dimensions() != size)
    {
        return Err(VizError::Shape(format!(
            "{}: frame {i} is {}×{} but frame 0 is {}×{}",
            path.display(),
            f.width(),
            f.height(),
            size.0,
            size.1
        )));
    }
    let mut bytes = Vec::new();
    {
        // Speed 10 of 30: near-best palettes at a fraction of the default's (speed 1) cost.
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite).map_err(img_err(path))?;
        let delay = Delay::from_numer_denom_ms(delay_ms, 1);
        for f in frames {
            let rgba = DynamicImage::ImageRgb8(f.clone()).into_rgba8();
            enc.encode_frame(Frame::from_parts(rgba, 0, 0, delay))
                .map_err(img_err(path))?;
        }
        // Dropping the encoder (end of this block) writes the GIF trailer.
    }
    Ok(bytes)
}
