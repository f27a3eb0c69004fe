//! Fashion-MNIST: loading, pixel scaling, and the long-tailed training subset.

use std::path::{Path, PathBuf};

use nao_prior::GaussianSeeds;

use nao_burn::{IMAGE_PIXELS, IMAGE_SIDE, NUM_CLASSES};

use crate::error::TrainError;
use crate::idx::read_idx;

/// Where Debian's `dataset-fashion-mnist` package puts the IDX files.
pub const DEBIAN_FASHION_MNIST_DIR: &str = "/usr/share/datasets/fashion-mnist";

/// Labelled 28×28 grey images, bytes 0..=255, row-major, `len()` images.
#[derive(Debug, Clone, Default)]
pub struct ImageSet {
    /// `len() × 784` pixel bytes.
    pub pixels: Vec<u8>,
    /// One class label (0..10) per image.
    pub labels: Vec<u8>,
}

impl ImageSet {
    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when there are no images.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Pixels of image `i`.
    pub fn image(&self, i: usize) -> &[u8] {
        &self.pixels[i * IMAGE_PIXELS..(i + 1) * IMAGE_PIXELS]
    }

    /// The images at `indices`, in that order.
    pub fn subset(&self, indices: &[usize]) -> ImageSet {
        let mut out = ImageSet::default();
        for &i in indices {
            out.pixels.extend_from_slice(self.image(i));
            out.labels.push(self.labels[i]);
        }
        out
    }

    /// Images per class.
    pub fn class_counts(&self) -> [usize; NUM_CLASSES] {
        let mut c = [0; NUM_CLASSES];
        for &l in &self.labels {
            c[l as usize] += 1;
        }
        c
    }

    /// Pixels of the images at `indices` scaled to `[−1, 1]` (the autoencoder's range).
    pub fn batch_signed(&self, indices: &[usize]) -> Vec<f32> {
        let mut out = Vec::with_capacity(indices.len() * IMAGE_PIXELS);
        for &i in indices {
            out.extend(self.image(i).iter().map(|&p| p as f32 / 127.5 - 1.0));
        }
        out
    }
}

/// The Fashion-MNIST training and test sets.
#[derive(Debug, Clone)]
pub struct FashionMnist {
    /// 60 000 training images.
    pub train: ImageSet,
    /// 10 000 test images.
    pub test: ImageSet,
}

impl FashionMnist {
    /// Load from a folder holding the four IDX files (`train-images-idx3-ubyte[.gz]`, …).
    pub fn load(dir: &Path) -> Result<Self, TrainError> {
        Ok(Self {
            train: load_split(dir, "train")?,
            test: load_split(dir, "t10k")?,
        })
    }

    /// The folder in `NAO_FASHION_MNIST_DIR`, else Debian's package folder.
    pub fn default_dir() -> PathBuf {
        std::env::var_os("NAO_FASHION_MNIST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEBIAN_FASHION_MNIST_DIR))
    }
}

fn find(dir: &Path, stem: &str) -> Result<PathBuf, TrainError> {
    for name in [format!("{stem}.gz"), stem.to_string()] {
        let p = dir.join(name);
        if p.is_file() {
            return Ok(p);
        }
    }
    Err(TrainError::io(
        dir.join(format!("{stem}.gz")),
        "missing: install Debian's `dataset-fashion-mnist` package \
         (apt-get install dataset-fashion-mnist) or set NAO_FASHION_MNIST_DIR",
    ))
}

fn load_split(dir: &Path, split: &str) -> Result<ImageSet, TrainError> {
    let ip = find(dir, &format!("{split}-images-idx3-ubyte"))?;
    let lp = find(dir, &format!("{split}-labels-idx1-ubyte"))?;
    let images = read_idx(&ip)?;
    let labels = read_idx(&lp)?;
    if images.dims.len() != 3 || images.dims[1] != IMAGE_SIDE || images.dims[2] != IMAGE_SIDE {
        return Err(TrainError::format(
            &ip,
            format!("expected [n, 28, 28] images, found {:?}", images.dims),
        ));
    }
    if labels.dims.len() != 1 || labels.dims[0] != images.dims[0] {
        return Err(TrainError::format(
            &lp,
            format!(
                "expected [{}] labels to match the images, found {:?}",
                images.dims[0], labels.dims
            ),
        ));
    }
    if let Some(bad) = labels.data.iter().find(|&&l| l as usize >= NUM_CLASSES) {
        return Err(TrainError::format(
            &lp,
            format!("label {bad} is not a class 0..10"),
        ));
    }
    Ok(ImageSet {
        pixels: images.data,
        labels: labels.data,
    })
}

/// Indices of a long-tailed subset: every image of the common classes, and for each class in
/// `rare` only `ceil(keep_fraction × count)` images, drawn without replacement by a seeded
/// shuffle (deterministic for a seed).
pub fn long_tail_indices(
    labels: &[u8],
    rare: &[usize],
    keep_fraction: f64,
    seed: u64,
) -> Result<Vec<usize>, TrainError> {
    if !(keep_fraction > 0.0 && keep_fraction <= 1.0) {
        return Err(TrainError::Invalid(format!(
            "keep fraction {keep_fraction} is not in (0, 1]"
        )));
    }
    if let Some(c) = rare.iter().find(|&&c| c >= NUM_CLASSES) {
        return Err(TrainError::Invalid(format!(
            "rare class {c} is not a class 0..10"
        )));
    }
    let mut rng = GaussianSeeds::new(nao_prior::RngName::ChaCha8, seed);
    let mut keep = Vec::new();
    for class in 0..NUM_CLASSES {
        let mut idx: Vec<usize> = (0..labels.len())
            .filter(|&i| labels[i] as usize == class)
            .collect();
        if rare.contains(&class) {
            shuffle(&mut idx, &mut rng);
            let n = ((idx.len() as f64) * keep_fraction).ceil() as usize;
            idx.truncate(n);
        }
        keep.extend(idx);
    }
    keep.sort_unstable();
    Ok(keep)
}

/// Fisher–Yates with the project's seeded generator.
pub(crate) fn shuffle(v: &mut [usize], rng: &mut GaussianSeeds) {
    for i in (1..v.len()).rev() {
        let j = ((rng.uniform() * (i + 1) as f64) as usize).min(i);
        v.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_tail_keeps_one_percent_of_rare_classes_deterministically() {
        let labels: Vec<u8> = (0..10_000).map(|i| (i % 10) as u8).collect();
        let a = long_tail_indices(&labels, &[8, 9], 0.01, 7).unwrap();
        let b = long_tail_indices(&labels, &[8, 9], 0.01, 7).unwrap();
        let c = long_tail_indices(&labels, &[8, 9], 0.01, 8).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mut counts = [0usize; 10];
        for &i in &a {
            counts[labels[i] as usize] += 1;
        }
        assert_eq!(
            counts,
            [1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 10, 10]
        );
        assert!(long_tail_indices(&labels, &[8], 0.0, 1).is_err());
        assert!(long_tail_indices(&labels, &[10], 0.5, 1).is_err());
    }

    #[test]
    fn missing_folder_names_the_file_and_the_package() {
        let dir = tempfile::tempdir().unwrap();
        let e = FashionMnist::load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("train-images-idx3-ubyte"), "{e}");
        assert!(e.contains("dataset-fashion-mnist"), "{e}");
    }
}
