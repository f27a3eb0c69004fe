//! In-memory arrays: element types, data and shape.

use std::path::PathBuf;

use crate::NpyError;

/// Label used in errors about arrays that are not (yet) in a file.
pub(crate) const IN_MEMORY: &str = "<in-memory>";

/// Element type of an array (the byte order is a property of the file, not of the array).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DType {
    /// `bool` (`|b1`).
    Bool,
    /// `uint8` (`|u1`).
    U8,
    /// `uint16` (`<u2`).
    U16,
    /// `uint32` (`<u4`).
    U32,
    /// `uint64` (`<u8`).
    U64,
    /// `int8` (`|i1`).
    I8,
    /// `int16` (`<i2`).
    I16,
    /// `int32` (`<i4`).
    I32,
    /// `int64` (`<i8`).
    I64,
    /// `float32` (`<f4`).
    F32,
    /// `float64` (`<f8`).
    F64,
}

impl DType {
    /// Bytes per element.
    pub fn size(self) -> usize {
        match self {
            Self::Bool | Self::U8 | Self::I8 => 1,
            Self::U16 | Self::I16 => 2,
            Self::U32 | Self::I32 | Self::F32 => 4,
            Self::U64 | Self::I64 | Self::F64 => 8,
        }
    }

    /// The NumPy name (`"float32"`, `"int64"`, …).
    pub fn name(self) -> &'static str {
        match self {
            Self::Bool => "bool",
            Self::U8 => "uint8",
            Self::U16 => "uint16",
            Self::U32 => "uint32",
            Self::U64 => "uint64",
            Self::I8 => "int8",
            Self::I16 => "int16",
            Self::I32 => "int32",
            Self::I64 => "int64",
            Self::F32 => "float32",
            Self::F64 => "float64",
        }
    }

    /// The little-endian `descr` string this crate writes (`"<f4"`, `"|u1"`, …).
    pub fn descr(self) -> &'static str {
        match self {
            Self::Bool => "|b1",
            Self::U8 => "|u1",
            Self::U16 => "<u2",
            Self::U32 => "<u4",
            Self::U64 => "<u8",
            Self::I8 => "|i1",
            Self::I16 => "<i2",
            Self::I32 => "<i4",
            Self::I64 => "<i8",
            Self::F32 => "<f4",
            Self::F64 => "<f8",
        }
    }

    /// Whether this is `float32` or `float64`.
    pub fn is_float(self) -> bool {
        matches!(self, Self::F32 | Self::F64)
    }

    /// Parse a NumPy `descr` such as `"<f4"`, `">f8"` or `"|u1"`.
    ///
    /// Returns the element type and whether the file stores it big-endian; `None` for anything
    /// unsupported.
    pub(crate) fn parse_descr(descr: &str) -> Option<(Self, bool)> {
        let mut chars = descr.chars();
        let first = chars.next()?;
        let (order, rest) = match first {
            '<' | '>' | '|' | '=' => (first, chars.as_str()),
            _ => ('=', descr),
        };
        let mut rest_chars = rest.chars();
        let kind = rest_chars.next()?;
        let size: usize = rest_chars.as_str().parse().ok()?;
        let dtype = match (kind, size) {
            ('b', 1) => Self::Bool,
            ('u', 1) => Self::U8,
            ('u', 2) => Self::U16,
            ('u', 4) => Self::U32,
            ('u', 8) => Self::U64,
            ('i', 1) => Self::I8,
            ('i', 2) => Self::I16,
            ('i', 4) => Self::I32,
            ('i', 8) => Self::I64,
            ('f', 4) => Self::F32,
            ('f', 8) => Self::F64,
            _ => return None,
        };
        // `|` ("not applicable") only makes sense for one-byte types.
        if order == '|' && size != 1 {
            return None;
        }
        let big_endian = match order {
            '>' => true,
            '<' | '|' => false,
            _ => cfg!(target_endian = "big"),
        };
        Some((dtype, big_endian && size > 1))
    }
}

impl std::fmt::Display for DType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The elements of an array, in C (row-major) order, in their stored type.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // one variant per `DType`, documented there
pub enum NpyData {
    Bool(Vec<bool>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
    I8(Vec<i8>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
}

/// Apply `$body` to the vector inside any variant, bound to `$v`.
macro_rules! with_vec {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            $crate::NpyData::Bool($v) => $body,
            $crate::NpyData::U8($v) => $body,
            $crate::NpyData::U16($v) => $body,
            $crate::NpyData::U32($v) => $body,
            $crate::NpyData::U64($v) => $body,
            $crate::NpyData::I8($v) => $body,
            $crate::NpyData::I16($v) => $body,
            $crate::NpyData::I32($v) => $body,
            $crate::NpyData::I64($v) => $body,
            $crate::NpyData::F32($v) => $body,
            $crate::NpyData::F64($v) => $body,
        }
    };
}
pub(crate) use with_vec;

macro_rules! from_vec {
    ($($t:ty => $variant:ident),*) => {$(
        impl From<Vec<$t>> for NpyData {
            fn from(v: Vec<$t>) -> Self {
                Self::$variant(v)
            }
        }
    )*};
}
from_vec!(bool => Bool, u8 => U8, u16 => U16, u32 => U32, u64 => U64, i8 => I8, i16 => I16,
    i32 => I32, i64 => I64, f32 => F32, f64 => F64);

impl NpyData {
    /// The element type.
    pub fn dtype(&self) -> DType {
        match self {
            Self::Bool(_) => DType::Bool,
            Self::U8(_) => DType::U8,
            Self::U16(_) => DType::U16,
            Self::U32(_) => DType::U32,
            Self::U64(_) => DType::U64,
            Self::I8(_) => DType::I8,
            Self::I16(_) => DType::I16,
            Self::I32(_) => DType::I32,
            Self::I64(_) => DType::I64,
            Self::F32(_) => DType::F32,
            Self::F64(_) => DType::F64,
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        with_vec!(self, v => v.len())
    }

    /// Whether there are no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// All elements converted to `f64` (integers above 2⁵³ round; `bool` gives 0 or 1).
    pub fn to_f64_vec(&self) -> Vec<f64> {
        match self {
            Self::Bool(v) => v.iter().map(|&x| f64::from(u8::from(x))).collect(),
            Self::U8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::U16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::U32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::U64(v) => v.iter().map(|&x| x as f64).collect(),
            Self::I8(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::I16(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::I32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Self::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Self::F64(v) => v.clone(),
        }
    }

    /// All elements converted to `f32` (rounded to nearest; may overflow to ±∞ from `f64`).
    pub fn to_f32_vec(&self) -> Vec<f32> {
        match self {
            Self::F32(v) => v.clone(),
            Self::F64(v) => v.iter().map(|&x| x as f32).collect(),
            other => other.to_f64_vec().into_iter().map(|x| x as f32).collect(),
        }
    }
}

/// An n-dimensional array read from or to be written to a `.npy` file.
///
/// Invariant: the product of [`shape`](Self::shape) equals the number of elements (1 for the
/// 0-d shape `[]`). Data are always held in C order; Fortran-order files are transposed on read.
///
/// ```
/// use nao_npy::{NpyArray, NpyData};
/// let a = NpyArray::new(vec![2, 3], NpyData::F32(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0])).unwrap();
/// assert_eq!(a.dtype_name(), "float32");
/// assert_eq!(a.to_f64_vec()[5], 5.0);
/// // a wrong element count is an error, not a panic
/// assert!(NpyArray::new(vec![2, 3], NpyData::F64(vec![0.0; 5])).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    shape: Vec<usize>,
    data: NpyData,
}

impl NpyArray {
    /// An array of the given shape; fails if the shape does not hold exactly `data.len()` elements.
    pub fn new(shape: Vec<usize>, data: NpyData) -> Result<Self, NpyError> {
        check_shape(&shape, data.len(), IN_MEMORY)?;
        Ok(Self { shape, data })
    }

    /// A `float32` array.
    pub fn from_f32(shape: &[usize], data: Vec<f32>) -> Result<Self, NpyError> {
        Self::new(shape.to_vec(), NpyData::F32(data))
    }

    /// A `float64` array.
    pub fn from_f64(shape: &[usize], data: Vec<f64>) -> Result<Self, NpyError> {
        Self::new(shape.to_vec(), NpyData::F64(data))
    }

    /// Built by the reader, which has already checked the invariant.
    pub(crate) fn from_parts_unchecked(shape: Vec<usize>, data: NpyData) -> Self {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        Self { shape, data }
    }

    /// The shape (`[]` for a 0-d array).
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of dimensions.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements (the product of the shape).
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether the array has no elements (some axis has length 0).
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The elements, in C order.
    pub fn data(&self) -> &NpyData {
        &self.data
    }

    /// The elements, in C order, by value.
    pub fn into_data(self) -> NpyData {
        self.data
    }

    /// Shape and elements, by value.
    pub fn into_parts(self) -> (Vec<usize>, NpyData) {
        (self.shape, self.data)
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.data.dtype()
    }

    /// The NumPy name of the element type (`"float32"`, `"float64"`, `"int64"`, …).
    pub fn dtype_name(&self) -> &'static str {
        self.data.dtype().name()
    }

    /// All elements as `f64`; see [`NpyData::to_f64_vec`].
    pub fn to_f64_vec(&self) -> Vec<f64> {
        self.data.to_f64_vec()
    }

    /// All elements as `f32`; see [`NpyData::to_f32_vec`].
    pub fn to_f32_vec(&self) -> Vec<f32> {
        self.data.to_f32_vec()
    }
}

/// Number of elements of `shape`, or `None` on overflow.
pub(crate) fn element_count(shape: &[usize]) -> Option<usize> {
    shape.iter().try_fold(1usize, |acc, &n| acc.checked_mul(n))
}

/// Check that `shape` holds exactly `len` elements.
pub(crate) fn check_shape(
    shape: &[usize],
    len: usize,
    path: impl Into<PathBuf>,
) -> Result<(), NpyError> {
    match element_count(shape) {
        Some(n) if n == len => Ok(()),
        n => Err(NpyError::ShapeMismatch {
            path: path.into(),
            shape: shape.to_vec(),
            expected: n.unwrap_or(usize::MAX),
            actual: len,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descr_parsing() {
        assert_eq!(DType::parse_descr("<f4"), Some((DType::F32, false)));
        assert_eq!(DType::parse_descr(">f8"), Some((DType::F64, true)));
        assert_eq!(DType::parse_descr("|u1"), Some((DType::U8, false)));
        assert_eq!(DType::parse_descr(">u1"), Some((DType::U8, false)));
        assert_eq!(DType::parse_descr("<i8"), Some((DType::I64, false)));
        assert_eq!(DType::parse_descr("|b1"), Some((DType::Bool, false)));
        assert_eq!(DType::parse_descr("f4").map(|d| d.0), Some(DType::F32));
        for bad in [
            "", "<", "<f", "<f2", "<c8", "|f4", "<U10", "<f16", "O", "<fx",
        ] {
            assert_eq!(DType::parse_descr(bad), None, "{bad}");
        }
        for d in [DType::Bool, DType::U16, DType::I32, DType::F32, DType::F64] {
            assert_eq!(DType::parse_descr(d.descr()), Some((d, false)));
        }
    }

    #[test]
    fn conversions() {
        let d = NpyData::I64(vec![-3, 1 << 40]);
        assert_eq!(d.to_f64_vec(), vec![-3.0, (1u64 << 40) as f64]);
        assert_eq!(
            NpyData::Bool(vec![true, false]).to_f32_vec(),
            vec![1.0, 0.0]
        );
        assert_eq!(NpyData::F64(vec![1e300]).to_f32_vec(), vec![f32::INFINITY]);
    }

    #[test]
    fn shape_checks() {
        assert!(NpyArray::from_f32(&[], vec![1.0]).is_ok());
        assert!(NpyArray::from_f32(&[], vec![]).is_err());
        assert!(NpyArray::from_f32(&[0, 5], vec![]).is_ok());
        let err = NpyArray::from_f64(&[usize::MAX, 2], vec![]).unwrap_err();
        assert!(err.to_string().contains("<in-memory>"), "{err}");
    }
}
