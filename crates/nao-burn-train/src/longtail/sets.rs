//! The training sets of the experiment: few-shot picks of the rare classes, oversampling, and
//! generated images read back from an ImageFolder tree.

use std::path::Path;

use nao_burn::{IMAGE_PIXELS, IMAGE_SIDE};
use nao_prior::{GaussianSeeds, RngName};

use crate::data::{shuffle, ImageSet};
use crate::error::TrainError;

/// `n` indices of images of `class` among `indices` (into `labels`), drawn by a seeded shuffle:
/// the few real images a user of `nao augment` would start from.
pub fn pick_rare_examples(
    labels: &[u8],
    indices: &[usize],
    class: usize,
    n: usize,
    seed: u64,
) -> Result<Vec<usize>, TrainError> {
    let mut of_class: Vec<usize> = indices
        .iter()
        .copied()
        .filter(|&i| labels[i] as usize == class)
        .collect();
    if of_class.len() < n {
        return Err(TrainError::Invalid(format!(
            "class {class} has {} images in the set, {n} were asked for",
            of_class.len()
        )));
    }
    let mut rng = GaussianSeeds::new(RngName::ChaCha8, seed ^ class as u64);
    shuffle(&mut of_class, &mut rng);
    of_class.truncate(n);
    Ok(of_class)
}

/// Positions `0..labels.len()` with those of the `rare` classes repeated (cycling) until each
/// rare class has `target` entries: the standard oversampling baseline. Common classes appear
/// once each.
///
/// ```
/// let labels = [0u8, 0, 0, 1];
/// let idx = nao_burn_train::longtail::oversampled(&labels, &[1], 3);
/// assert_eq!(idx, vec![0, 1, 2, 3, 3, 3]);
/// ```
pub fn oversampled(labels: &[u8], rare: &[usize], target: usize) -> Vec<usize> {
    let mut out: Vec<usize> = (0..labels.len()).collect();
    for &class in rare {
        let own: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == class)
            .collect();
        if own.is_empty() {
            continue;
        }
        out.extend(own.iter().cycle().take(target.saturating_sub(own.len())));
    }
    out
}

/// The 28×28 grey PNG images of `dir` (sorted by name), all labelled `label`.
pub fn load_class_folder(dir: &Path, label: u8) -> Result<ImageSet, TrainError> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| TrainError::io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("png")))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(TrainError::format(dir, "no .png images"));
    }
    let mut set = ImageSet {
        pixels: Vec::with_capacity(files.len() * IMAGE_PIXELS),
        labels: Vec::with_capacity(files.len()),
    };
    for path in files {
        let bytes = nao_fs::input::read_limited(&path, 1 << 20)?;
        let img = image::load_from_memory(&bytes)
            .map_err(|e| TrainError::format(&path, e.to_string()))?
            .into_luma8();
        if (img.width() as usize, img.height() as usize) != (IMAGE_SIDE, IMAGE_SIDE) {
            return Err(TrainError::format(
                &path,
                format!(
                    "{}×{} image, the classifier takes {IMAGE_SIDE}×{IMAGE_SIDE}",
                    img.width(),
                    img.height()
                ),
            ));
        }
        set.pixels.extend_from_slice(img.as_raw());
        set.labels.push(label);
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_are_seeded_and_of_the_class() {
        let labels: Vec<u8> = (0..100).map(|i| (i % 4) as u8).collect();
        let idx: Vec<usize> = (0..100).collect();
        let a = pick_rare_examples(&labels, &idx, 3, 5, 1).unwrap();
        assert_eq!(a, pick_rare_examples(&labels, &idx, 3, 5, 1).unwrap());
        assert_ne!(a, pick_rare_examples(&labels, &idx, 3, 5, 2).unwrap());
        assert!(a.iter().all(|&i| labels[i] == 3));
        assert!(pick_rare_examples(&labels, &idx, 3, 26, 1).is_err());
    }

    #[test]
    fn oversampling_fills_rare_classes_to_the_target() {
        let labels: Vec<u8> = [vec![0u8; 10], vec![1u8; 3], vec![2u8; 4]].concat();
        let idx = oversampled(&labels, &[1, 2], 10);
        let count = |c: u8| idx.iter().filter(|&&i| labels[i] == c).count();
        assert_eq!((count(0), count(1), count(2)), (10, 10, 10));
    }

    #[test]
    fn class_folders_must_hold_28_pixel_grey_images() {
        let dir = tempfile::tempdir().unwrap();
        let img = image::GrayImage::from_fn(28, 28, |x, y| image::Luma([(x + y) as u8]));
        img.save(dir.path().join("a.png")).unwrap();
        let set = load_class_folder(dir.path(), 7).unwrap();
        assert_eq!((set.len(), set.labels[0], set.image(0)[29]), (1, 7, 2));
        image::GrayImage::new(32, 32)
            .save(dir.path().join("b.png"))
            .unwrap();
        let e = load_class_folder(dir.path(), 7).unwrap_err().to_string();
        assert!(e.contains("b.png") && e.contains("32×32"), "{e}");
    }
}
