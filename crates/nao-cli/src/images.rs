//! Images in and out of the command: checked image inputs, decoded images as PNG bytes (the
//! conversion itself is `nao_viz`'s).

use std::path::Path;

use image::DynamicImage;
use nao_backend::{ModelInfo, Tensor};
use nao_inversion::{load_image, ImageSpec, ResizePolicy};

use crate::error::CliError;
use crate::model::image_error;

/// The help of `--resize` for the commands whose default follows the model (invert,
/// reconstruct).
pub const RESIZE_HELP: &str = "How an image is brought to a size the model takes: none keeps \
    its own size (both sides multiples of the VAE's 8, as diffusers inverts; the seed's shape \
    follows the image), center-crop and stretch bring it to the model's default size, exact \
    refuses another size [default: none for Stable Diffusion folders and ONNX exports, \
    center-crop for the embedded model and its kind, which take 28×28 images only]";

/// Read image files for the model (`resize`, or the model's default policy when `None`), each
/// error naming its file; images of different sizes are refused, naming two of them. Returns
/// the images `[1, channels, H, W]` and the policy used.
pub fn load_for_model(
    paths: &[std::path::PathBuf],
    info: &ModelInfo,
    resize: Option<ResizePolicy>,
) -> Result<(Vec<Tensor>, ResizePolicy), CliError> {
    let policy = resize.unwrap_or_else(|| ResizePolicy::default_for(info));
    let spec = ImageSpec::for_model(info);
    let images = paths
        .iter()
        .map(|p| load_image(p, &spec, policy).map_err(|e| image_error(p, e)))
        .collect::<Result<Vec<_>, _>>()?;
    let named: Vec<(String, &Tensor)> = paths
        .iter()
        .map(|p| p.display().to_string())
        .zip(&images)
        .collect();
    nao_inversion::check_one_size(&named).map_err(|e| {
        CliError::input(format!(
            "{} (see --resize)",
            e.to_string().trim_start_matches("invalid input: ")
        ))
    })?;
    Ok((images, policy))
}

/// A decoded image `[channels, height, width]` in `[0, 1]` as an 8-bit image.
pub fn to_image(
    data: &[f32],
    channels: usize,
    height: usize,
    width: usize,
) -> Result<DynamicImage, CliError> {
    nao_viz::decoded_image(data, channels, height, width)
        .map_err(|e| CliError::compute("decoded image", e))
}

/// The PNG file of an image, for `target` (named in errors).
pub fn png_bytes(img: &DynamicImage, target: &Path) -> Result<Vec<u8>, CliError> {
    nao_viz::png_bytes(img)
        .map_err(|e| CliError::compute("PNG encoding", format!("{}: {e}", target.display())))
}

/// Fail unless `path` is an image file that can be read: a missing file is named as such, and
/// a folder, device or FIFO is refused by `stat` before anything opens it.
pub fn check_image_path(path: &Path) -> Result<(), CliError> {
    if !path.exists() && std::fs::symlink_metadata(path).is_err() {
        return Err(CliError::input(format!(
            "{}: no such image file",
            path.display()
        )));
    }
    nao_fs::input::open_regular(path)?;
    Ok(())
}
