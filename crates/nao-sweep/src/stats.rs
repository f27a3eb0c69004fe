//! The spread of a measure over several draws.

use serde::Serialize;

/// The mean and sample standard deviation of a measure over draws (sums in `f64`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Spread {
    /// The mean.
    pub mean: f64,
    /// The sample standard deviation (n − 1 in the denominator; 0 for one draw).
    pub sd: f64,
    /// The draws it is over.
    pub n: usize,
}

impl Spread {
    /// The spread of `values`, `None` when there are none.
    ///
    /// ```
    /// let s = nao_sweep::Spread::of(&[1.0, 2.0, 3.0]).unwrap();
    /// assert_eq!((s.mean, s.sd, s.n), (2.0, 1.0, 3));
    /// assert!(nao_sweep::Spread::of(&[]).is_none());
    /// ```
    pub fn of(values: &[f64]) -> Option<Self> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let sd = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Some(Self { mean, sd, n })
    }

    /// The spread of the values that are known (`None` when none is).
    pub fn of_known(values: impl IntoIterator<Item = Option<f64>>) -> Option<Self> {
        let known: Vec<f64> = values.into_iter().flatten().collect();
        Self::of(&known)
    }

    /// `mean ± sd` with `decimals` decimals (the mean alone for one draw).
    pub fn text(&self, decimals: usize) -> String {
        if self.n > 1 {
            format!("{:.decimals$} ± {:.decimals$}", self.mean, self.sd)
        } else {
            format!("{:.decimals$}", self.mean)
        }
    }
}
