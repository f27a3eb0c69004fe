//! Spread over seeds, and when a difference is more than it.

use serde::{Deserialize, Serialize};

/// Values over seeds: their mean and sample standard deviation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// Mean.
    pub mean: f64,
    /// Sample standard deviation (divided by n − 1; 0 for one value).
    pub std: f64,
    /// The values, one per seed.
    pub values: Vec<f64>,
}

impl Spread {
    /// The spread of `values` (at least one).
    ///
    /// ```
    /// let s = nao_burn_train::longtail::Spread::of(&[1.0, 2.0, 3.0]);
    /// assert_eq!((s.mean, s.std), (2.0, 1.0));
    /// ```
    pub fn of(values: &[f64]) -> Self {
        let n = values.len().max(1) as f64;
        let mean = values.iter().sum::<f64>() / n;
        let std = if values.len() > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt()
        } else {
            0.0
        };
        Self {
            mean,
            std,
            values: values.to_vec(),
        }
    }
}

/// A difference of means and whether it stands out of the seeds' spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// `b.mean − a.mean`.
    pub difference: f64,
    /// `a.std + b.std`: the difference must exceed it to count.
    pub spread: f64,
    /// Whether `|difference| > spread` with at least two seeds on each side.
    pub real: bool,
}

/// Compare `b` against `a`. With one seed nothing counts as real: there is no spread to
/// measure a difference against.
///
/// ```
/// use nao_burn_train::longtail::{compare, Spread};
/// let a = Spread::of(&[0.50, 0.52, 0.54]);
/// let b = Spread::of(&[0.60, 0.61, 0.62]);
/// assert!(compare(&a, &b).real);
/// assert!(!compare(&a, &Spread::of(&[0.51, 0.55, 0.53])).real);
/// ```
pub fn compare(a: &Spread, b: &Spread) -> Comparison {
    let difference = b.mean - a.mean;
    let spread = a.std + b.std;
    Comparison {
        difference,
        spread,
        real: a.values.len() > 1 && b.values.len() > 1 && difference.abs() > spread,
    }
}
