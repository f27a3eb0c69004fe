//! The experiment's data: the long-tailed training set the embedded model was trained on, the
//! test set, and the real images generation starts from and is measured against.

use std::path::Path;

use nao_burn::{CLASS_SLUGS, IMAGE_SIDE, RARE_CLASSES};
use nao_fs::Outputs;

use super::error::{LongtailError, Result};
use super::sets::pick_rare_examples;
use crate::data::{long_tail_indices, FashionMnist, ImageSet};
use crate::train::TrainConfig;

/// Seed of the few-shot picks (fixed: every run starts from the same real images).
const PICK_SEED: u64 = 0x5EED;

/// Fashion-MNIST as the experiment uses it.
#[derive(Debug, Clone)]
pub struct LongTailData {
    /// The whole dataset.
    pub data: FashionMnist,
    /// Indices into the training set of the long-tailed set.
    pub tail: Vec<usize>,
    /// The long-tailed set (as the embedded model was trained on: the rare classes at 1 %).
    pub long_tail: ImageSet,
    /// The test images scored (the first `test_limit`, or all).
    pub test: ImageSet,
}

impl LongTailData {
    /// Load the IDX files of `dir` and cut the long-tailed set with the embedded model's own
    /// recipe ([`TrainConfig::default`]).
    pub fn load(dir: &Path, test_limit: Option<usize>) -> Result<Self> {
        let data = FashionMnist::load(dir)?;
        let recipe = TrainConfig::default();
        let tail = long_tail_indices(
            &data.train.labels,
            &recipe.rare_classes,
            recipe.rare_keep,
            recipe.seed,
        )?;
        let long_tail = data.train.subset(&tail);
        let test = match test_limit {
            Some(n) => data
                .test
                .subset(&(0..n.min(data.test.len())).collect::<Vec<_>>()),
            None => data.test.clone(),
        };
        Ok(Self {
            data,
            tail,
            long_tail,
            test,
        })
    }

    /// Real images per rare class in the long-tailed set (the fewest of the rare classes).
    pub fn rare_per_class(&self) -> usize {
        let counts = self.long_tail.class_counts();
        RARE_CLASSES
            .map(|c| counts[c])
            .into_iter()
            .min()
            .unwrap_or(0)
    }

    /// Write every real image of each rare class in the long-tailed set (all the rare images
    /// any configuration trains on) as `out/CLASS/NN.png`, in a seeded order, and every test
    /// image of the rare classes as `test_out/CLASS/NNNN.png`. The same images every time, so a
    /// generated set made from them resumes; `nao augment --shots N` chooses its N among them.
    pub fn write_real_images(&self, out: &Path, test_out: &Path) -> Result<()> {
        let mut files = Outputs::new();
        files.claim_folder(out, "the real images")?;
        files.claim_folder(test_out, "the real test images")?;
        let counts = self.long_tail.class_counts();
        for class in RARE_CLASSES {
            let picks = pick_rare_examples(
                &self.data.train.labels,
                &self.tail,
                class,
                counts[class],
                PICK_SEED,
            )?;
            let dir = out.join(CLASS_SLUGS[class]);
            for (n, &i) in picks.iter().enumerate() {
                files.write(
                    &dir.join(format!("{n:02}.png")),
                    &png(self.data.train.image(i))?,
                )?;
            }
        }
        let test = &self.data.test;
        for class in RARE_CLASSES {
            let dir = test_out.join(CLASS_SLUGS[class]);
            let of_class = (0..test.len()).filter(|&i| test.labels[i] as usize == class);
            for (n, i) in of_class.enumerate() {
                files.write(&dir.join(format!("{n:04}.png")), &png(test.image(i))?)?;
            }
        }
        files.commit()?;
        Ok(())
    }
}

/// A 28×28 grey image as PNG bytes (the same bytes every time: generation fingerprints them).
fn png(pixels: &[u8]) -> Result<Vec<u8>> {
    let fail = |e: String| LongtailError::Invalid(format!("encoding a real image: {e}"));
    let img = image::GrayImage::from_raw(IMAGE_SIDE as u32, IMAGE_SIDE as u32, pixels.to_vec())
        .ok_or_else(|| fail("an image is not 28×28 bytes".into()))?;
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| fail(e.to_string()))?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode_idx;

    /// Fashion-MNIST's four files for `per_class` training and 3 test images per class, each
    /// class's images uniformly `10 × class + i mod 5`.
    fn write_data(dir: &Path, per_class: usize) {
        for (split, n) in [("train", per_class), ("t10k", 3)] {
            let (mut pixels, mut labels) = (Vec::new(), Vec::new());
            for i in 0..n {
                for c in 0..10u8 {
                    pixels.extend(std::iter::repeat_n(10 * c + (i % 5) as u8, 784));
                    labels.push(c);
                }
            }
            let count = labels.len();
            std::fs::write(
                dir.join(format!("{split}-images-idx3-ubyte")),
                encode_idx(&[count, 28, 28], &pixels),
            )
            .unwrap();
            std::fs::write(
                dir.join(format!("{split}-labels-idx1-ubyte")),
                encode_idx(&[count], &labels),
            )
            .unwrap();
        }
    }

    #[test]
    fn every_rare_image_of_the_long_tailed_set_is_written_the_same_every_time() {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        std::fs::create_dir(&data_dir).unwrap();
        // 300 per class: the rare classes keep 3
        write_data(&data_dir, 300);
        let d = LongTailData::load(&data_dir, Some(25)).unwrap();
        assert_eq!(d.long_tail.len(), 8 * 300 + 2 * 3);
        assert_eq!((d.test.len(), d.rare_per_class()), (25, 3));
        let (real, test) = (dir.path().join("real"), dir.path().join("test"));
        d.write_real_images(&real, &test).unwrap();
        let first = std::fs::read(real.join("bag/01.png")).unwrap();
        d.write_real_images(&real, &test).unwrap();
        assert_eq!(std::fs::read(real.join("bag/01.png")).unwrap(), first);
        assert_eq!(std::fs::read_dir(real.join("bag")).unwrap().count(), 3);
        let img = image::load_from_memory(&first).unwrap().into_luma8();
        assert_eq!(img.get_pixel(3, 3).0[0] / 10, 8, "a bag");
        // every test image of the rare classes (the whole test set, not the first 25)
        assert_eq!(
            std::fs::read_dir(test.join("ankle-boot")).unwrap().count(),
            3
        );
    }
}
