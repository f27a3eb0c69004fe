//! A trained classifier's scores on a labelled set.

use nao_burn::{Classifier, Device, NUM_CLASSES};
use serde::{Deserialize, Serialize};

use crate::data::ImageSet;
use crate::train::classify;

/// Accuracies of a classifier on a labelled set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    /// Mean recall of the rare classes.
    pub rare: f64,
    /// Fraction of all images classified correctly.
    pub overall: f64,
    /// Mean recall over the classes present in the set.
    pub balanced: f64,
    /// Recall of each class (`None` for a class absent from the set).
    pub per_class: Vec<Option<f64>>,
}

impl Scores {
    /// Scores of predicted classes against `labels`.
    ///
    /// ```
    /// let s = nao_burn_train::longtail::Scores::of(&[0, 1, 1, 1], &[0, 0, 1, 1], &[0]);
    /// assert_eq!((s.rare, s.overall, s.balanced), (0.5, 0.75, 0.75));
    /// ```
    pub fn of(predicted: &[usize], labels: &[u8], rare: &[usize]) -> Self {
        let mut right = [0usize; NUM_CLASSES];
        let mut total = [0usize; NUM_CLASSES];
        for (&p, &l) in predicted.iter().zip(labels) {
            total[l as usize] += 1;
            right[l as usize] += usize::from(p == l as usize);
        }
        let per_class: Vec<Option<f64>> = (0..NUM_CLASSES)
            .map(|c| (total[c] > 0).then(|| right[c] as f64 / total[c] as f64))
            .collect();
        let mean = |v: Vec<f64>| v.iter().sum::<f64>() / v.len().max(1) as f64;
        Self {
            rare: mean(rare.iter().filter_map(|&c| per_class[c]).collect()),
            overall: right.iter().sum::<usize>() as f64 / labels.len().max(1) as f64,
            balanced: mean(per_class.iter().flatten().copied().collect()),
            per_class,
        }
    }
}

/// The scores of `model` on `data`, `rare` naming the rare classes.
pub fn score(model: &Classifier, data: &ImageSet, rare: &[usize], device: &Device) -> Scores {
    let all: Vec<usize> = (0..data.len()).collect();
    let predicted = classify(model, &data.batch_signed(&all), device);
    Scores::of(&predicted, &data.labels, rare)
}
