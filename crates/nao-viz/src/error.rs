//! The one error type of the crate.

/// Everything that can go wrong while rendering or saving a picture.
///
/// Bad input is always reported here, never by a panic, so a long experiment does not die
/// because one figure had an odd shape.
#[derive(Debug, thiserror::Error)]
pub enum VizError {
    /// Writing the file failed (the target is not a regular file, the disk is full, …).
    #[error(transparent)]
    Output(#[from] nao_fs::FsError),
    /// The `image` crate could not encode (or decode) a picture.
    #[error("{path}: image encoding failed: {source}")]
    Image {
        /// The file being written.
        path: String,
        /// The underlying error.
        #[source]
        source: image::ImageError,
    },
    /// Data whose shape or size does not fit; the message names the shape received.
    #[error("bad shape: {0}")]
    Shape(String),
    /// An option with an unusable value (a zero scale, a picture too small or too large).
    #[error("invalid option: {0}")]
    Invalid(String),
    /// Nothing to draw: no rows, no tiles, no frames, no finite points.
    #[error("nothing to draw: {0}")]
    Empty(String),
}
