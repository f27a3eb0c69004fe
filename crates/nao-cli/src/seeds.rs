//! Loading seeds from `.npy` files, validating them, and writing results.

use std::path::{Path, PathBuf};

use nao_npy::{DType, NpyData};

use crate::error::CliError;

/// Arrays larger than this many elements are refused rather than risking an out-of-memory abort.
pub const MAX_ELEMENTS: usize = 1 << 30;

/// A floating-point array read from a `.npy` file, converted to `f64`.
#[derive(Debug, Clone)]
pub struct FloatArray {
    /// The file it came from.
    pub path: PathBuf,
    /// Its shape.
    pub shape: Vec<usize>,
    /// `float32` or `float64`.
    pub dtype: DType,
    /// The elements in C order.
    pub values: Vec<f64>,
}

impl FloatArray {
    /// Number of elements.
    pub fn dim(&self) -> usize {
        self.values.len()
    }
}

/// `(4, 8, 8)`-style text for a shape.
pub fn shape_text(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Read a `.npy` file of `float32` or `float64` values with at least one element.
pub fn read_float_array(path: &Path) -> Result<FloatArray, CliError> {
    // The budget is checked against the header, before the data are read.
    let array = nao_npy::read_npy_at_most(path, MAX_ELEMENTS)?;
    let dtype = array.dtype();
    if !dtype.is_float() {
        return Err(CliError::input(format!(
            "{}: dtype {} is not a seed dtype (seeds must be float32 or float64)",
            path.display(),
            dtype.name()
        )));
    }
    if array.is_empty() {
        return Err(CliError::input(format!(
            "{}: array of shape {} has no elements",
            path.display(),
            shape_text(array.shape())
        )));
    }
    let (shape, data) = array.into_parts();
    // Converted without holding two copies of f64 data; an allocation the machine cannot
    // give is an error naming the file, not an abort.
    let values = match data {
        NpyData::F64(v) => v,
        NpyData::F32(v) => {
            let mut out = Vec::new();
            out.try_reserve_exact(v.len()).map_err(|_| {
                CliError::input(format!(
                    "{}: not enough memory for {} values in float64 ({} bytes)",
                    path.display(),
                    v.len(),
                    8 * v.len() as u64
                ))
            })?;
            out.extend(v.iter().map(|&x| f64::from(x)));
            out
        }
        other => other.to_f64_vec(), // not reached: the dtype is float
    };
    Ok(FloatArray {
        path: path.to_path_buf(),
        shape,
        dtype,
        values,
    })
}

/// The multi-index of flat index `flat` in C order.
fn multi_index(flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut rest = flat;
    let mut index = vec![0; shape.len()];
    for k in (0..shape.len()).rev() {
        if shape[k] > 0 {
            index[k] = rest % shape[k];
            rest /= shape[k];
        }
    }
    index
}

/// Fail on the first NaN or infinity in `values[range]`, naming the file and the flat index.
pub fn check_finite(array: &FloatArray, range: std::ops::Range<usize>) -> Result<(), CliError> {
    let start = range.start;
    if let Some(offset) = array.values[range].iter().position(|v| !v.is_finite()) {
        let flat = start + offset;
        let v = array.values[flat];
        let what = if v.is_nan() { "NaN" } else { "infinite" };
        let position = if array.shape.len() > 1 {
            format!(
                " (index {} in shape {})",
                shape_text(&multi_index(flat, &array.shape)),
                shape_text(&array.shape)
            )
        } else {
            String::new()
        };
        return Err(CliError::input(format!(
            "{}: element at flat index {flat}{position} is {what} ({v}); seeds must be finite",
            array.path.display()
        )));
    }
    Ok(())
}

/// Fail if `values[range]` is all zeros (`label` says which seed, e.g. "" or " row 3").
pub fn check_nonzero(
    array: &FloatArray,
    range: std::ops::Range<usize>,
    label: &str,
) -> Result<(), CliError> {
    if array.values[range].iter().all(|&v| v == 0.0) {
        return Err(CliError::input(format!(
            "{}:{label} seed is all zeros (norm 0): it has no direction and lies outside the χ prior's support",
            array.path.display()
        )));
    }
    Ok(())
}

/// Read one seed: a whole float file, finite and not all zero.
pub fn load_seed(path: &Path) -> Result<FloatArray, CliError> {
    let array = read_float_array(path)?;
    check_finite(&array, 0..array.dim())?;
    check_nonzero(&array, 0..array.dim(), "")?;
    Ok(array)
}

/// Load several seeds that must all have the same shape.
pub fn load_seeds(paths: &[PathBuf]) -> Result<Vec<FloatArray>, CliError> {
    let mut seeds: Vec<FloatArray> = Vec::with_capacity(paths.len());
    for path in paths {
        let seed = load_seed(path)?;
        if let Some(first) = seeds.first() {
            check_same_shape(first, &seed)?;
        }
        seeds.push(seed);
    }
    Ok(seeds)
}

/// Fail unless `a` and `b` have the same shape, naming both files and shapes.
pub fn check_same_shape(a: &FloatArray, b: &FloatArray) -> Result<(), CliError> {
    if a.shape == b.shape {
        return Ok(());
    }
    let detail = if a.dim() == b.dim() {
        format!("same number of elements ({}) but different shapes", a.dim())
    } else {
        format!("dimension {} vs {}", a.dim(), b.dim())
    };
    Err(CliError::input(format!(
        "seed shapes differ: {} has shape {} but {} has shape {} ({detail})",
        a.path.display(),
        shape_text(&a.shape),
        b.path.display(),
        shape_text(&b.shape)
    )))
}

/// The dtype of outputs: `float64` if any input is `float64`, else `float32`.
pub fn output_dtype(inputs: &[FloatArray]) -> DType {
    if inputs.iter().any(|a| a.dtype == DType::F64) {
        DType::F64
    } else {
        DType::F32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_index_and_shapes() {
        assert_eq!(multi_index(13, &[2, 3, 4]), vec![1, 0, 1]);
        assert_eq!(shape_text(&[5]), "(5,)");
        assert_eq!(shape_text(&[]), "()");
        assert_eq!(shape_text(&[1, 4, 8, 8]), "(1, 4, 8, 8)");
    }
}
