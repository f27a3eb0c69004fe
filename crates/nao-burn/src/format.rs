//! The embedded model's image format: 28×28 grey pixels (Fashion-MNIST).

/// Image side (28).
pub const IMAGE_SIDE: usize = 28;
/// Pixels per image (784).
pub const IMAGE_PIXELS: usize = IMAGE_SIDE * IMAGE_SIDE;
