//! Saving tests: files read back, no temporary files left, errors on bad input.

use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use image::codecs::gif::GifDecoder;
use image::{AnimationDecoder, Rgb, RgbImage};
use nao_viz::{save_gif, save_png, VizError};

fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn gradient(w: u32, h: u32, shift: u8) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| Rgb([x as u8 * 20, y as u8 * 30, shift]))
}

#[test]
fn png_round_trips_and_leaves_only_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out/grid.png");
    let img = gradient(9, 7, 5);
    save_png(&img, &path).unwrap();
    assert_eq!(image::open(&path).unwrap().to_rgb8(), img);
    // Overwriting replaces the file in place.
    let other = gradient(3, 2, 200);
    save_png(&other, &path).unwrap();
    assert_eq!(image::open(&path).unwrap().to_rgb8(), other);
    assert_eq!(names(&dir.path().join("out")), ["grid.png"]);
}

#[test]
fn png_errors_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        save_png(&RgbImage::new(0, 3), &dir.path().join("a.png")),
        Err(VizError::Empty(_))
    ));
    // A directory where the file should go: the rename fails and the temporary file goes.
    std::fs::create_dir(dir.path().join("taken.png")).unwrap();
    std::fs::write(dir.path().join("taken.png/x"), b"keep").unwrap();
    let err = save_png(&gradient(2, 2, 0), &dir.path().join("taken.png")).unwrap_err();
    assert!(matches!(err, VizError::Output(_)), "{err}");
    assert_eq!(names(dir.path()), ["taken.png"]);
}

#[test]
fn gif_has_every_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("path.gif");
    let frames: Vec<_> = (0..5).map(|i| gradient(8, 6, i * 50)).collect();
    save_gif(&frames, 120, &path).unwrap();
    let decoded = GifDecoder::new(BufReader::new(File::open(&path).unwrap()))
        .unwrap()
        .into_frames()
        .collect_frames()
        .unwrap();
    assert_eq!(decoded.len(), 5);
    assert_eq!(decoded[0].buffer().dimensions(), (8, 6));
    assert_eq!(decoded[0].delay().numer_denom_ms(), (120, 1));
    assert_eq!(names(dir.path()), ["path.gif"]);
}

#[test]
fn gif_rejects_empty_and_mismatched_frames() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.gif");
    assert!(matches!(save_gif(&[], 100, &path), Err(VizError::Empty(_))));
    let err = save_gif(
        &[gradient(4, 4, 0), gradient(4, 4, 1), gradient(5, 4, 2)],
        100,
        &path,
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("frame 2 is 5×4 but frame 0 is 4×4"),
        "{err}"
    );
    assert!(names(dir.path()).is_empty());
}
