//! Image loading: the fixture's PNG becomes exactly diffusers' input tensor; grey conversion,
//! resize policies, JPEG, and errors.

use std::io::Cursor;
use std::path::PathBuf;

use image::{DynamicImage, ImageFormat, Rgb, RgbImage, RgbaImage};
use nao_inversion::{
    decode_image, image_to_tensor, load_image, load_images, ImageSpec, InversionError, ResizePolicy,
};

fn reference(name: &str) -> PathBuf {
    nao_test_support::shared("fixtures/tiny-sd1/reference").join(name)
}

const RGB64: ImageSpec = ImageSpec {
    channels: 3,
    height: 64,
    width: 64,
    size_step: None,
};

#[test]
fn fixture_png_loads_exactly_as_diffusers_preprocesses_it() {
    let ours = load_image(
        reference("inversion_input.png"),
        &RGB64,
        ResizePolicy::Exact,
    )
    .unwrap();
    let theirs = nao_npy::read_npy(reference("inversion_input_image.npy")).unwrap();
    assert_eq!(ours.shape, theirs.shape());
    assert_eq!(
        ours.data,
        theirs.to_f32_vec(),
        "pixel/255·2−1 in f32, bit for bit"
    );
    // Any policy leaves an image of the right size alone.
    for policy in [ResizePolicy::Stretch, ResizePolicy::CenterCrop] {
        let again = load_image(reference("inversion_input.png"), &RGB64, policy).unwrap();
        assert_eq!(again, ours);
    }
    let two = load_images(
        &[
            reference("inversion_input.png"),
            reference("inversion_input.png"),
        ],
        &RGB64,
        ResizePolicy::Exact,
    )
    .unwrap();
    assert_eq!(two.shape, vec![2, 3, 64, 64]);
}

fn png_bytes(img: &DynamicImage) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

#[test]
fn grey_models_get_pil_luma_and_rgba_drops_alpha() {
    // PIL: L = (19595·R + 38470·G + 7471·B + 32768) >> 16; (200, 100, 50) → 8172318 >> 16 = 124.
    let img = DynamicImage::ImageRgba8(RgbaImage::from_pixel(8, 8, image::Rgba([200, 100, 50, 7])));
    let grey = ImageSpec {
        channels: 1,
        height: 8,
        width: 8,
        size_step: None,
    };
    let t = decode_image(&png_bytes(&img), &grey, ResizePolicy::Exact).unwrap();
    assert_eq!(t.shape, vec![1, 1, 8, 8]);
    assert!(t.data.iter().all(|&v| v == 124.0 / 255.0 * 2.0 - 1.0));
    let rgb = ImageSpec {
        channels: 3,
        height: 8,
        width: 8,
        size_step: None,
    };
    let t = image_to_tensor(&img, &rgb, ResizePolicy::Exact).unwrap();
    assert_eq!(t.data[0], 200.0 / 255.0 * 2.0 - 1.0);
    assert_eq!(t.data[64], 100.0 / 255.0 * 2.0 - 1.0);
    assert_eq!(t.data[128], 50.0 / 255.0 * 2.0 - 1.0);
}

#[test]
fn centre_crop_keeps_the_aspect_ratio_and_stretch_does_not() {
    // 32×16 (w×h): left half black, right half white, with a 4-pixel red band in the middle.
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(32, 16, |x, _| match x {
        14..=17 => Rgb([255, 0, 0]),
        0..=13 => Rgb([0, 0, 0]),
        _ => Rgb([255, 255, 255]),
    }));
    let spec = ImageSpec {
        channels: 3,
        height: 8,
        width: 8,
        size_step: None,
    };
    // Crop: scaled to 16×8, the middle 8 columns are columns 4..12 of the half-size image,
    // i.e. 8..24 of the original: black, the red band, white.
    let crop = image_to_tensor(&img, &spec, ResizePolicy::CenterCrop).unwrap();
    let red_row: Vec<f32> = crop.data[..8].to_vec();
    let green_row: Vec<f32> = crop.data[64..72].to_vec();
    assert!(red_row[0] < -0.9 && red_row[7] > 0.9, "{red_row:?}");
    for k in [3, 4] {
        assert!(
            red_row[k] > 0.8 && green_row[k] < -0.8,
            "the red band is in the centre: {red_row:?} {green_row:?}"
        );
    }
    // Stretch: the band shrinks to one column-ish, the outer columns stay black and white.
    let stretch = image_to_tensor(&img, &spec, ResizePolicy::Stretch).unwrap();
    assert_eq!(stretch.shape, vec![1, 3, 8, 8]);
    assert!(stretch.data[0] < -0.9 && stretch.data[7] > 0.9);
    // Exact refuses.
    assert!(matches!(
        image_to_tensor(&img, &spec, ResizePolicy::Exact),
        Err(InversionError::InvalidInput(_))
    ));
}

#[test]
fn jpeg_files_decode() {
    let img = DynamicImage::ImageRgb8(RgbImage::from_pixel(16, 16, Rgb([30, 160, 220])));
    let mut bytes = Cursor::new(Vec::new());
    img.write_to(&mut bytes, ImageFormat::Jpeg).unwrap();
    let spec = ImageSpec {
        channels: 3,
        height: 16,
        width: 16,
        size_step: None,
    };
    let t = decode_image(bytes.get_ref(), &spec, ResizePolicy::Exact).unwrap();
    for (c, v) in [30.0f32, 160.0, 220.0].iter().enumerate() {
        let expected = v / 255.0 * 2.0 - 1.0;
        let got = t.data[c * 256];
        assert!(
            (got - expected).abs() < 0.05,
            "channel {c}: {got} vs {expected}"
        );
    }
}

#[test]
fn unreadable_inputs_are_clear_errors() {
    let missing = load_image("/nonexistent/cat.png", &RGB64, ResizePolicy::Exact).unwrap_err();
    assert!(
        matches!(&missing, InversionError::Image { path, .. } if path.contains("cat.png")),
        "{missing}"
    );
    assert!(matches!(
        decode_image(b"not an image", &RGB64, ResizePolicy::Exact),
        Err(InversionError::Image { .. })
    ));
    let img = DynamicImage::ImageRgb8(RgbImage::new(4, 4));
    for spec in [
        ImageSpec {
            channels: 4,
            height: 4,
            width: 4,
            size_step: None,
        },
        ImageSpec {
            channels: 3,
            height: 0,
            width: 4,
            size_step: None,
        },
    ] {
        assert!(matches!(
            image_to_tensor(&img, &spec, ResizePolicy::Stretch),
            Err(InversionError::InvalidInput(_))
        ));
    }
    let none: [&str; 0] = [];
    assert!(load_images(&none, &RGB64, ResizePolicy::Exact).is_err());
}

#[test]
fn none_keeps_the_own_size_of_images_the_model_takes_and_refuses_the_others() {
    let img = DynamicImage::ImageRgb8(RgbImage::from_fn(24, 16, |x, y| {
        Rgb([x as u8 * 10, y as u8 * 10, 7])
    }));
    let sd_like = ImageSpec {
        size_step: Some(8),
        ..RGB64
    };
    let t = image_to_tensor(&img, &sd_like, ResizePolicy::None).unwrap();
    assert_eq!(t.shape, vec![1, 3, 16, 24]);
    // not resampled: pixel (x = 2, y = 1) of the red plane is 20
    assert_eq!(t.data[24 + 2], 20.0 / 255.0 * 2.0 - 1.0);
    // a side that is not a multiple of the step is refused, naming the size and the factor
    let odd = DynamicImage::ImageRgb8(RgbImage::new(20, 16));
    let e = image_to_tensor(&odd, &sd_like, ResizePolicy::None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("16×20") && e.contains("multiples of 8") && e.contains("64×64"),
        "{e}"
    );
    // a fixed-size model takes its own size only
    let fixed = ImageSpec::fixed(3, 16, 16);
    let e = image_to_tensor(&img, &fixed, ResizePolicy::None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("16×24") && e.contains("takes 16×16 images only") && e.contains("fixed size"),
        "{e}"
    );
    let square = DynamicImage::ImageRgb8(RgbImage::new(16, 16));
    assert_eq!(
        image_to_tensor(&square, &fixed, ResizePolicy::None)
            .unwrap()
            .shape,
        vec![1, 3, 16, 16]
    );
}

#[test]
fn a_batch_of_different_sizes_is_refused_naming_two_files() {
    let dir = tempfile::tempdir().unwrap();
    let wide = dir.path().join("wide.png");
    let tall = dir.path().join("tall.png");
    std::fs::write(
        &wide,
        png_bytes(&DynamicImage::ImageRgb8(RgbImage::new(24, 16))),
    )
    .unwrap();
    std::fs::write(
        &tall,
        png_bytes(&DynamicImage::ImageRgb8(RgbImage::new(16, 24))),
    )
    .unwrap();
    let spec = ImageSpec {
        size_step: Some(8),
        ..RGB64
    };
    let e = load_images(&[&wide, &tall], &spec, ResizePolicy::None)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("wide.png is 16×24") && e.contains("tall.png is 24×16"),
        "{e}"
    );
    // one size is one batch; centre-crop brings both to the model's size
    assert_eq!(
        load_images(&[&wide, &wide], &spec, ResizePolicy::None)
            .unwrap()
            .shape,
        vec![2, 3, 16, 24]
    );
    assert_eq!(
        load_images(&[&wide, &tall], &spec, ResizePolicy::CenterCrop)
            .unwrap()
            .shape,
        vec![2, 3, 64, 64]
    );
    assert_eq!(nao_inversion::image_file_size(&tall).unwrap(), (24, 16));
}
