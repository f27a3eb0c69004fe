//! A plain host tensor.

use crate::BackendError;

/// A dense row-major `f32` tensor in host memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Dimensions.
    pub shape: Vec<usize>,
    /// `shape.iter().product()` values, row-major.
    pub data: Vec<f32>,
}

impl Tensor {
    /// A tensor from a shape and data; an error when the sizes disagree.
    pub fn new(shape: Vec<usize>, data: Vec<f32>) -> Result<Self, BackendError> {
        let n: usize = shape.iter().product();
        if n != data.len() {
            return Err(BackendError::Shape(format!(
                "shape {shape:?} holds {n} values, got {}",
                data.len()
            )));
        }
        Ok(Self { shape, data })
    }

    /// A tensor of zeros.
    pub fn zeros(shape: Vec<usize>) -> Self {
        let n = shape.iter().product();
        Self {
            shape,
            data: vec![0.0; n],
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the tensor holds no values.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Size of the first axis (the batch).
    pub fn batch(&self) -> usize {
        self.shape.first().copied().unwrap_or(1)
    }

    /// The `i`-th item along the first axis, as a tensor with a batch of 1.
    pub fn item(&self, i: usize) -> Result<Tensor, BackendError> {
        let b = self.batch();
        if i >= b || self.shape.is_empty() {
            return Err(BackendError::Shape(format!(
                "item {i} of a batch of {b} (shape {:?})",
                self.shape
            )));
        }
        let per = self.data.len() / b;
        let mut shape = self.shape.clone();
        shape[0] = 1;
        Ok(Tensor {
            shape,
            data: self.data[i * per..(i + 1) * per].to_vec(),
        })
    }

    /// Stack tensors of equal shape `[1, …]` or `[…]` along a new or the existing first axis.
    pub fn concat(items: &[Tensor]) -> Result<Tensor, BackendError> {
        let first = items
            .first()
            .ok_or_else(|| BackendError::Shape("nothing to concatenate".into()))?;
        let mut data = Vec::with_capacity(first.len() * items.len());
        let mut batch = 0;
        for t in items {
            if t.shape[1..] != first.shape[1..] {
                return Err(BackendError::Shape(format!(
                    "cannot concatenate {:?} with {:?}",
                    first.shape, t.shape
                )));
            }
            batch += t.batch();
            data.extend_from_slice(&t.data);
        }
        let mut shape = first.shape.clone();
        shape[0] = batch;
        Ok(Tensor { shape, data })
    }
}
