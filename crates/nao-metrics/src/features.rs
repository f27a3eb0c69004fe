//! [`Features`]: one feature vector per image, checked once.

use crate::MetricsError;

/// `n` feature vectors of `dim` finite values each, row-major, in `f64`.
#[derive(Debug, Clone, PartialEq)]
pub struct Features {
    dim: usize,
    data: Vec<f64>,
}

impl Features {
    /// Rows of `dim` values; an error when the length is not a multiple of `dim` or a value is
    /// not finite.
    pub fn new(dim: usize, data: Vec<f64>) -> Result<Self, MetricsError> {
        if dim == 0 || data.len() % dim != 0 {
            return Err(MetricsError::Shape(format!(
                "{} values do not make rows of {dim}",
                data.len()
            )));
        }
        if let Some(i) = data.iter().position(|v| !v.is_finite()) {
            return Err(MetricsError::NonFinite {
                row: i / dim,
                column: i % dim,
                value: data[i],
            });
        }
        Ok(Self { dim, data })
    }

    /// From `f32` rows (what networks return), widened to `f64`.
    pub fn from_f32(dim: usize, data: &[f32]) -> Result<Self, MetricsError> {
        Self::new(dim, data.iter().map(|&v| f64::from(v)).collect())
    }

    /// Values per row.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The rows in order.
    pub fn rows(&self) -> impl Iterator<Item = &[f64]> {
        self.data.chunks(self.dim)
    }

    pub(crate) fn same_dim(&self, other: &Features) -> Result<(), MetricsError> {
        if self.dim == other.dim {
            Ok(())
        } else {
            Err(MetricsError::Shape(format!(
                "feature sets of dimension {} and {} cannot be compared",
                self.dim, other.dim
            )))
        }
    }
}

/// Squared Euclidean distance, accumulated in `f64`.
pub(crate) fn distance_sq(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}
