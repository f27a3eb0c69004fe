//! Images in and out of the command: checked image inputs, decoded images as PNG bytes (the
//! conversion itself is `nao_viz`'s).

use std::path::Path;

use image::DynamicImage;

use crate::error::CliError;

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
