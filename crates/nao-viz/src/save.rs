//! Writing PNG files and looping GIF animations atomically: the picture goes to a temporary
//! file beside the target and is renamed over it only when complete, so an interrupted run
//! never leaves a truncated figure that looks valid to a file browser.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use image::codecs::gif::{GifEncoder, Repeat};
use image::codecs::png::PngEncoder;
use image::{Delay, DynamicImage, ExtendedColorType, Frame, ImageEncoder, RgbImage};

use crate::VizError;

/// Makes temporary names unique between threads of one process (the pid separates processes).
static COUNTER: AtomicU64 = AtomicU64::new(0);

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> VizError + '_ {
    move |source| VizError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn img_err(path: &Path) -> impl FnOnce(image::ImageError) -> VizError + '_ {
    move |source| VizError::Image {
        path: path.display().to_string(),
        source,
    }
}

/// Runs `encode` on a buffered temporary file in `path`'s directory (created if missing),
/// then renames the file to `path`; on any error the temporary file is removed.
fn atomic_write(
    path: &Path,
    encode: impl FnOnce(&mut BufWriter<File>) -> Result<(), VizError>,
) -> Result<(), VizError> {
    let name = path.file_name().ok_or_else(|| VizError::Io {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file path"),
    })?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io_err(dir))?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    let result = (|| {
        let mut w = BufWriter::new(file);
        encode(&mut w)?;
        w.flush().map_err(io_err(&tmp))?;
        w.get_ref().sync_all().map_err(io_err(&tmp))?;
        drop(w);
        std::fs::rename(&tmp, path).map_err(io_err(path))
    })();
    if result.is_err() {
        // Best effort: the original error matters more than a failed cleanup.
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
    if img.width() == 0 || img.height() == 0 {
        return Err(VizError::Empty(format!(
            "{}: image is {}×{}",
            path.display(),
            img.width(),
            img.height()
        )));
    }
    atomic_write(path, |w| {
        PngEncoder::new(w)
            .write_image(
                img.as_raw(),
                img.width(),
                img.height(),
                ExtendedColorType::Rgb8,
            )
            .map_err(img_err(path))
    })
}

/// Saves `frames` as a GIF that loops forever, `delay_ms` per frame (GIF stores
/// hundredths of a second, so the delay is rounded down to 10 ms), atomically. Errors on no
/// frames, empty frames or frames of different sizes.
pub fn save_gif(frames: &[RgbImage], delay_ms: u32, path: &Path) -> Result<(), VizError> {
    let bytes = encode_gif(frames, delay_ms, path)?;
    atomic_write(path, |w| w.write_all(&bytes).map_err(io_err(path)))
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
