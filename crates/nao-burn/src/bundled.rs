//! Real held-out images bundled with the crate: the first 20 test-set images of every class
//! (never seen in training), one PNG strip per class under `assets/test-images/`.

use nao_backend::Tensor;

use crate::classes::{CLASS_SLUGS, NUM_CLASSES};
use crate::error::BurnModelError;
use crate::format::{IMAGE_PIXELS, IMAGE_SIDE};

/// Images per class in the bundle.
pub const BUNDLED_PER_CLASS: usize = 20;

const STRIPS: [&[u8]; NUM_CLASSES] = [
    include_bytes!("../assets/test-images/tshirt-top.png"),
    include_bytes!("../assets/test-images/trouser.png"),
    include_bytes!("../assets/test-images/pullover.png"),
    include_bytes!("../assets/test-images/dress.png"),
    include_bytes!("../assets/test-images/coat.png"),
    include_bytes!("../assets/test-images/sandal.png"),
    include_bytes!("../assets/test-images/shirt.png"),
    include_bytes!("../assets/test-images/sneaker.png"),
    include_bytes!("../assets/test-images/bag.png"),
    include_bytes!("../assets/test-images/ankle-boot.png"),
];

/// The PNG strip (560×28, grey) of a class's bundled images.
pub fn bundled_strip_png(class: usize) -> Result<&'static [u8], BurnModelError> {
    STRIPS.get(class).copied().ok_or_else(|| {
        BurnModelError::Invalid(format!("class {class} is not a class 0..{NUM_CLASSES}"))
    })
}

/// A class's bundled images as `[20, 1, 28, 28]` in `[−1, 1]` (what `encode_image` takes).
pub fn bundled_images(class: usize) -> Result<Tensor, BurnModelError> {
    let png = bundled_strip_png(class)?;
    let origin = format!("assets/test-images/{}.png", CLASS_SLUGS[class]);
    let img = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|e| BurnModelError::format(&origin, e.to_string()))?
        .into_luma8();
    if img.width() as usize != IMAGE_SIDE * BUNDLED_PER_CLASS || img.height() as usize != IMAGE_SIDE
    {
        return Err(BurnModelError::format(
            &origin,
            format!(
                "strip is {}×{}, expected {}×{IMAGE_SIDE}",
                img.width(),
                img.height(),
                IMAGE_SIDE * BUNDLED_PER_CLASS
            ),
        ));
    }
    let mut data = Vec::with_capacity(BUNDLED_PER_CLASS * IMAGE_PIXELS);
    for k in 0..BUNDLED_PER_CLASS {
        for y in 0..IMAGE_SIDE {
            for x in 0..IMAGE_SIDE {
                let v = img.get_pixel((k * IMAGE_SIDE + x) as u32, y as u32).0[0];
                data.push(v as f32 / 127.5 - 1.0);
            }
        }
    }
    Ok(Tensor {
        shape: vec![BUNDLED_PER_CLASS, 1, IMAGE_SIDE, IMAGE_SIDE],
        data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_has_twenty_real_images() {
        for c in 0..NUM_CLASSES {
            let t = bundled_images(c).unwrap();
            assert_eq!(t.shape, vec![20, 1, 28, 28]);
            assert!(t.data.iter().all(|v| (-1.0..=1.0).contains(v)));
            // Real images: not blank, and no two identical.
            for k in 0..20 {
                let img = &t.data[k * 784..(k + 1) * 784];
                assert!(img.iter().any(|&v| v > 0.0), "class {c} image {k} is blank");
                for j in 0..k {
                    assert_ne!(img, &t.data[j * 784..(j + 1) * 784]);
                }
            }
        }
        assert!(bundled_images(10).is_err());
    }
}
