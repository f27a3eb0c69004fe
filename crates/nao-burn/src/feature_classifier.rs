//! The model's Fashion-MNIST classifier as a [`FeatureClassifier`]: the verdicts and
//! penultimate-layer features that `nao eval` and `nao demo` measure generated images with.

use nao_backend::Tensor;
use nao_metrics::{ClassifierInput, FeatureClassifier, Features, MetricsError, Verdict};

use crate::classes::{class_from_prompt, CLASS_SLUGS};
use crate::format::IMAGE_SIDE;
use crate::BurnModel;

impl FeatureClassifier for BurnModel {
    fn input(&self) -> ClassifierInput {
        ClassifierInput {
            channels: 1,
            height: IMAGE_SIDE,
            width: IMAGE_SIDE,
        }
    }

    /// Class names as prompts name them: `bag`, `ankle boot`, `ankle_boot`, ….
    fn class_index(&self, name: &str) -> Result<usize, MetricsError> {
        match class_from_prompt(name) {
            Ok(Some(c)) => Ok(c),
            _ => Err(MetricsError::UnknownClass {
                name: name.to_string(),
                known: CLASS_SLUGS.join(", "),
            }),
        }
    }

    fn score(&self, images: &Tensor) -> Result<(Vec<Verdict>, Features), MetricsError> {
        let (predictions, features) = self
            .classify_with_features(images)
            .map_err(|e| MetricsError::Classifier(e.to_string()))?;
        let dim = features.shape.get(1).copied().unwrap_or(0);
        let verdicts = predictions
            .into_iter()
            .map(|p| Verdict {
                class: p.class,
                probabilities: p.probabilities.to_vec(),
            })
            .collect();
        Ok((verdicts, Features::from_f32(dim, &features.data)?))
    }

    fn describe(&self) -> String {
        format!(
            "the embedded Fashion-MNIST classifier (penultimate layer, {} features)",
            self.card().classifier.hidden
        )
    }
}
