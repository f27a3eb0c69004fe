//! The real images a sweep compares with: per class its name, the prompt it is sampled with,
//! the classifier's index for it, the images at the model's size (what inversion takes) and
//! the classifier's features of them (what the Fréchet distance and the k-NN measures compare
//! against).

use std::path::Path;

use nao_augment::ImageFolder;
use nao_backend::{ModelInfo, Tensor};
use nao_inversion::{image_to_tensor, load_image, ImageSpec, ResizePolicy};
use nao_metrics::{ClassifierInput, FeatureClassifier, Features, ScoredImages};

use crate::{Result, SweepError};

/// The most real images of one class a sweep reads (they are held in memory at the model's
/// image size).
pub const MAX_REAL_PER_CLASS: usize = 10_000;

/// The real images of one class.
#[derive(Debug, Clone)]
pub struct RealClass {
    /// The class's name (a folder's name, or the embedded model's class name).
    pub name: String,
    /// The prompt its images are inverted and sampled with.
    pub prompt: String,
    /// The classifier's index of the class.
    pub index: usize,
    /// The images `[n, channels, H, W]` in `[−1, 1]` at the model's image size.
    pub images: Tensor,
    /// The classifier's features of the images.
    pub features: Features,
}

impl RealClass {
    /// A class from images `[n, channels, H, W]` in `[−1, 1]` at the model's image size; the
    /// classifier's index comes from `name`, its features from the images (brought to its
    /// input size by `resize` when that differs).
    ///
    /// ```
    /// use nao_sweep::RealClass;
    /// let classifier = nao_burn::BurnModel::embedded(&nao_burn::Device::flex())?;
    /// let bags = nao_burn::bundled_images(8)?; // [20, 1, 28, 28] in [−1, 1]
    /// let class = RealClass::new(&classifier, "bag", "bag", bags, nao_inversion::ResizePolicy::CenterCrop)?;
    /// assert_eq!((class.index, class.features.len()), (8, 20));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(
        classifier: &dyn FeatureClassifier,
        name: &str,
        prompt: &str,
        images: Tensor,
        resize: ResizePolicy,
    ) -> Result<Self> {
        if images.shape.len() != 4 || images.batch() == 0 {
            return Err(SweepError::input(format!(
                "class '{name}': real images must be a non-empty [n, channels, H, W] batch, not {:?}",
                images.shape
            )));
        }
        let index = classifier
            .class_index(name)
            .map_err(|e| SweepError::input(format!("class '{name}': {e}")))?;
        let mut unit = images.clone();
        nao_backend::to_unit_range(&mut unit);
        let fitted = fit_to_classifier(&unit, classifier.input(), resize)?;
        let mut scored = ScoredImages::new();
        scored
            .add(classifier, index, &fitted, &[])
            .map_err(|e| SweepError::compute("scoring the real images", e))?;
        let features = scored
            .features()
            .map_err(|e| SweepError::compute("scoring the real images", e))?;
        Ok(Self {
            name: name.to_string(),
            prompt: prompt.to_string(),
            index,
            images,
            features,
        })
    }

    /// The real images `range` (`[k, channels, H, W]`, in `[−1, 1]`).
    pub fn slice(&self, range: std::ops::Range<usize>) -> Result<Tensor> {
        let n = self.images.batch();
        if range.end > n || range.start > range.end {
            return Err(SweepError::input(format!(
                "class '{}': real images {}..{} asked for, it has {n}",
                self.name, range.start, range.end
            )));
        }
        let size = self.images.data.len() / n;
        let mut shape = self.images.shape.clone();
        shape[0] = range.len();
        Tensor::new(
            shape,
            self.images.data[range.start * size..range.end * size].to_vec(),
        )
        .map_err(|e| SweepError::compute("real images", e))
    }
}

/// The real images of every class a sweep uses.
#[derive(Debug, Clone)]
pub struct RealSet {
    /// Where they come from, for reports (a folder, or "the bundled test images").
    pub source: String,
    /// The classes, in the order of the reports.
    pub classes: Vec<RealClass>,
}

impl RealSet {
    /// The classes of an ImageFolder tree `dir/<class>/*.png|jpg` (`--real`), each loaded at
    /// the model's image size for inversion and at the classifier's input size for its
    /// features (as `nao eval` loads them), prompted with `template` (`{class}` replaced by
    /// the folder's name). `only`, when not empty, picks classes by folder name.
    pub fn from_folder(
        dir: &Path,
        model: &ModelInfo,
        classifier: &dyn FeatureClassifier,
        template: &str,
        only: &[String],
        resize: ResizePolicy,
    ) -> Result<Self> {
        let folder =
            ImageFolder::scan(dir, "--real").map_err(|e| SweepError::input(e.to_string()))?;
        for name in only {
            if !folder.classes.iter().any(|c| &c.name == name) {
                return Err(SweepError::input(format!(
                    "--classes {name}: no such class folder in --real {} (there are: {})",
                    dir.display(),
                    folder
                        .classes
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
        // the sweeps sample at the model's default size: real images are brought to it
        let model_spec = ImageSpec::fixed(
            model.image_channels,
            model.default_image_size.0,
            model.default_image_size.1,
        );
        let input = classifier.input();
        let classifier_spec = ImageSpec::fixed(input.channels, input.height, input.width);
        let mut classes = Vec::new();
        for class in &folder.classes {
            if !only.is_empty() && !only.contains(&class.name) {
                continue;
            }
            if class.images.len() > MAX_REAL_PER_CLASS {
                return Err(SweepError::input(format!(
                    "--real {}: class '{}' has {} images, at most {MAX_REAL_PER_CLASS} are read",
                    dir.display(),
                    class.name,
                    class.images.len()
                )));
            }
            let load = |spec: &ImageSpec| -> Result<Tensor> {
                let images = class
                    .images
                    .iter()
                    .map(|f| {
                        load_image(&f.path, spec, resize)
                            .map_err(|e| SweepError::input(e.for_file(&f.path).to_string()))
                    })
                    .collect::<Result<Vec<_>>>()?;
                Tensor::concat(&images).map_err(|e| SweepError::compute("images", e))
            };
            let images = load(&model_spec)?;
            let index = classifier
                .class_index(&class.name)
                .map_err(|e| SweepError::input(format!("--real class '{}': {e}", class.name)))?;
            let mut unit = load(&classifier_spec)?;
            nao_backend::to_unit_range(&mut unit);
            let mut scored = ScoredImages::new();
            scored
                .add(classifier, index, &unit, &[])
                .map_err(|e| SweepError::compute("scoring the real images", e))?;
            let features = scored
                .features()
                .map_err(|e| SweepError::compute("scoring the real images", e))?;
            classes.push(RealClass {
                prompt: template.replace("{class}", &class.name),
                name: class.name.clone(),
                index,
                images,
                features,
            });
        }
        Ok(Self {
            source: dir.display().to_string(),
            classes,
        })
    }

    /// The features of every class's real images, stacked (what a set of several classes is
    /// measured against, as `nao eval` measures a method over all its classes).
    pub fn all_features(&self) -> Result<Features> {
        let dim = self.classes.first().map_or(1, |c| c.features.dim());
        let data: Vec<f64> = self
            .classes
            .iter()
            .flat_map(|c| c.features.rows().flatten().copied())
            .collect();
        Features::new(dim, data).map_err(|e| SweepError::compute("features", e))
    }
}

/// Images `[b, channels, H, W]` in `[0, 1]` as the classifier takes them: unchanged when they
/// have its channels and size; else each is rounded to 8 bits (as a saved PNG holds it) and
/// brought to its input as `nao eval` brings an image file (`resize`).
pub fn fit_to_classifier(
    images: &Tensor,
    input: ClassifierInput,
    resize: ResizePolicy,
) -> Result<Tensor> {
    let [_, c, h, w] = images.shape[..] else {
        return Err(SweepError::input(format!(
            "images must be [b, channels, H, W], not {:?}",
            images.shape
        )));
    };
    if (c, h, w) == (input.channels, input.height, input.width) {
        return Ok(images.clone());
    }
    let spec = ImageSpec::fixed(input.channels, input.height, input.width);
    let size = c * h * w;
    let parts = images
        .data
        .chunks(size)
        .map(|pixels| {
            let img = nao_viz::decoded_image(pixels, c, h, w)
                .map_err(|e| SweepError::compute("images for the classifier", e))?;
            let mut t = image_to_tensor(&img, &spec, resize)
                .map_err(|e| SweepError::compute("images for the classifier", e))?;
            nao_backend::to_unit_range(&mut t);
            Ok(t)
        })
        .collect::<Result<Vec<_>>>()?;
    Tensor::concat(&parts).map_err(|e| SweepError::compute("images for the classifier", e))
}
