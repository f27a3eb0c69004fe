//! The classifier whose verdicts and penultimate-layer features judge generated images: a
//! trait, so that the embedded Fashion-MNIST classifier (in `nao-burn`) and any ONNX image
//! classifier (in `nao-onnx`) serve alike, and the scores of a set of images under it.

use nao_backend::Tensor;

use crate::{Features, MetricsError};

/// A classifier's verdict on one image.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The most likely class.
    pub class: usize,
    /// The probability of every class (softmax of the logits).
    pub probabilities: Vec<f32>,
}

/// The images a classifier takes: channels (1 or 3) and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClassifierInput {
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// Height in pixels.
    pub height: usize,
    /// Width in pixels.
    pub width: usize,
}

/// A classifier with a feature space: what `nao eval` and `nao demo` measure images with.
pub trait FeatureClassifier {
    /// The images it takes.
    fn input(&self) -> ClassifierInput;
    /// The class a class name (a class folder's name) stands for.
    fn class_index(&self, name: &str) -> Result<usize, MetricsError>;
    /// Verdicts and penultimate-layer features of images `[b, c, h, w]` with pixels in
    /// `[0, 1]` (as a VAE decoder gives them).
    fn score(&self, images: &Tensor) -> Result<(Vec<Verdict>, Features), MetricsError>;
    /// A short description for reports.
    fn describe(&self) -> String;
}

/// Images of one class scored by a classifier: whether each is classified as its class, the
/// probability of its class, its features, and its seed's log χ when known.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScoredImages {
    features: Vec<f64>,
    dim: usize,
    /// Classified as their class.
    pub hits: Vec<bool>,
    /// The probability of their class.
    pub confidence: Vec<f64>,
    /// The log χ of their seeds, when known.
    pub log_chi: Vec<Option<f64>>,
}

impl ScoredImages {
    /// No images yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Score a batch of images `[b, c, h, w]` in `[0, 1]` of class `class` and add them;
    /// `log_chi` holds one entry per image (or is empty when unknown).
    ///
    /// ```
    /// use nao_backend::Tensor;
    /// use nao_metrics::{ClassifierInput, FeatureClassifier, Features, MetricsError, ScoredImages, Verdict};
    /// /// Class 1 when the mean pixel is above ½; the mean pixel is the one feature.
    /// struct Bright;
    /// impl FeatureClassifier for Bright {
    ///     fn input(&self) -> ClassifierInput { ClassifierInput { channels: 1, height: 1, width: 2 } }
    ///     fn class_index(&self, name: &str) -> Result<usize, MetricsError> {
    ///         Ok(usize::from(name == "bright"))
    ///     }
    ///     fn score(&self, x: &Tensor) -> Result<(Vec<Verdict>, Features), MetricsError> {
    ///         let means: Vec<f64> = x.data.chunks(2).map(|p| f64::from(p[0] + p[1]) / 2.0).collect();
    ///         let verdicts = means.iter().map(|&m| Verdict {
    ///             class: usize::from(m > 0.5),
    ///             probabilities: vec![(1.0 - m) as f32, m as f32],
    ///         }).collect();
    ///         Ok((verdicts, Features::new(1, means)?))
    ///     }
    ///     fn describe(&self) -> String { "brightness".into() }
    /// }
    /// let images = Tensor::new(vec![2, 1, 1, 2], vec![0.9, 1.0, 0.1, 0.3]).unwrap();
    /// let mut set = ScoredImages::new();
    /// set.add(&Bright, 1, &images, &[])?;
    /// assert_eq!(set.hits, [true, false]);
    /// assert_eq!(set.accuracy(), 0.5);
    /// # Ok::<(), MetricsError>(())
    /// ```
    pub fn add(
        &mut self,
        classifier: &dyn FeatureClassifier,
        class: usize,
        images: &Tensor,
        log_chi: &[Option<f64>],
    ) -> Result<(), MetricsError> {
        let (verdicts, features) = classifier.score(images)?;
        let batch = images.shape.first().copied().unwrap_or(0);
        if verdicts.len() != batch || features.len() != batch {
            return Err(MetricsError::Classifier(format!(
                "{}: {} verdicts and {} feature rows for {batch} images",
                classifier.describe(),
                verdicts.len(),
                features.len()
            )));
        }
        if !log_chi.is_empty() && log_chi.len() != batch {
            return Err(MetricsError::Shape(format!(
                "{} log χ values for {batch} images",
                log_chi.len()
            )));
        }
        for v in &verdicts {
            let p = v.probabilities.get(class).ok_or_else(|| {
                MetricsError::Classifier(format!(
                    "{}: class {class} is not among its {} classes",
                    classifier.describe(),
                    v.probabilities.len()
                ))
            })?;
            self.hits.push(v.class == class);
            self.confidence.push(f64::from(*p));
        }
        if log_chi.is_empty() {
            self.log_chi.extend(std::iter::repeat_n(None, batch));
        } else {
            self.log_chi.extend_from_slice(log_chi);
        }
        self.push_features(&features)
    }

    fn push_features(&mut self, features: &Features) -> Result<(), MetricsError> {
        if features.is_empty() {
            return Ok(());
        }
        if self.dim != 0 && self.dim != features.dim() {
            return Err(MetricsError::Shape(format!(
                "features of {} values after features of {}",
                features.dim(),
                self.dim
            )));
        }
        self.dim = features.dim();
        self.features.extend(features.rows().flatten());
        Ok(())
    }

    /// Add another set's images (another class of the same method, say).
    pub fn extend(&mut self, other: &ScoredImages) -> Result<(), MetricsError> {
        if other.dim != 0 {
            self.push_features(&other.features()?)?;
        }
        self.hits.extend_from_slice(&other.hits);
        self.confidence.extend_from_slice(&other.confidence);
        self.log_chi.extend_from_slice(&other.log_chi);
        Ok(())
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.hits.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.hits.is_empty()
    }

    /// Their features, one row per image.
    pub fn features(&self) -> Result<Features, MetricsError> {
        if self.dim == 0 {
            return Err(MetricsError::TooFew("no images were scored".into()));
        }
        Features::new(self.dim, self.features.clone())
    }

    /// The fraction classified as their class (0 for none).
    pub fn accuracy(&self) -> f64 {
        self.hits.iter().filter(|&&h| h).count() as f64 / self.len().max(1) as f64
    }
}
