//! Writing `.npy` files: little-endian, C order, format 1.0 (2.0 when the header needs it),
//! always through a temporary file renamed into place.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::array::{check_shape, with_vec};
use crate::header::format_header;
use crate::read::MAGIC;
use crate::{DType, NpyArray, NpyError};

/// A type that can be stored as `.npy` elements.
trait Element: Copy {
    const DTYPE: DType;
    fn put_le(self, out: &mut Vec<u8>);
}

macro_rules! element {
    ($t:ty, $d:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$d;
            fn put_le(self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.to_le_bytes());
            }
        }
    };
}
element!(u8, U8);
element!(u16, U16);
element!(u32, U32);
element!(u64, U64);
element!(i8, I8);
element!(i16, I16);
element!(i32, I32);
element!(i64, I64);
element!(f32, F32);
element!(f64, F64);

impl Element for bool {
    const DTYPE: DType = DType::Bool;
    fn put_le(self, out: &mut Vec<u8>) {
        out.push(u8::from(self));
    }
}

/// The whole file for `data` of `shape`; the caller has checked that they agree.
fn encode<T: Element>(shape: &[usize], data: &[T]) -> Vec<u8> {
    let mut out = header_bytes(T::DTYPE, shape);
    out.reserve_exact(data.len() * T::DTYPE.size());
    for &x in data {
        x.put_le(&mut out);
    }
    out
}

/// The magic string, version, length field and padded header of a file of `dtype` and `shape`.
fn header_bytes(dtype: DType, shape: &[usize]) -> Vec<u8> {
    let dict = format_header(dtype, shape);
    // magic + version + length field + dict + '\n', padded with spaces to a multiple of 64
    // so the data are aligned, as NumPy does.
    let unpadded_v1 = MAGIC.len() + 2 + 2 + dict.len() + 1;
    let (version, len_bytes) = if unpadded_v1.next_multiple_of(64) - 10 <= usize::from(u16::MAX) {
        (1u8, 2usize)
    } else {
        (2u8, 4usize)
    };
    let prefix = MAGIC.len() + 2 + len_bytes;
    let total_header = (prefix + dict.len() + 1).next_multiple_of(64);
    let header_len = total_header - prefix;
    let mut out = Vec::with_capacity(total_header);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[version, 0]);
    if len_bytes == 2 {
        out.extend_from_slice(&(header_len as u16).to_le_bytes());
    } else {
        out.extend_from_slice(&(header_len as u32).to_le_bytes());
    }
    out.extend_from_slice(dict.as_bytes());
    out.resize(total_header - 1, b' ');
    out.push(b'\n');
    out
}

impl NpyArray {
    /// The bytes of a `.npy` file holding this array (little-endian, C order, format 1.0, or
    /// 2.0 if the header would not fit in 1.0).
    ///
    /// ```
    /// let a = nao_npy::NpyArray::from_f64(&[], vec![42.0]).unwrap(); // 0-d
    /// let bytes = a.to_bytes();
    /// assert_eq!(&bytes[..6], b"\x93NUMPY");
    /// assert_eq!(bytes.len(), 128 + 8); // header padded to a multiple of 64 bytes
    /// ```
    pub fn to_bytes(&self) -> Vec<u8> {
        with_vec!(self.data(), v => encode(self.shape(), v))
    }
}

/// Write `array` to `path` atomically, through `nao-fs`: the bytes go to a temporary file in
/// the same directory, which is renamed over `path` only once complete, so `path` never holds a
/// partial file (and a device, FIFO or link at `path` is refused, not replaced).
///
/// ```
/// # fn main() -> Result<(), nao_npy::NpyError> {
/// use nao_npy::{NpyArray, NpyData};
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("a.npy");
/// let a = NpyArray::new(vec![2, 2], NpyData::I64(vec![1, 2, 3, 4]))?;
/// nao_npy::write_npy(&path, &a)?;
/// assert_eq!(nao_npy::read_npy(&path)?, a);
/// # Ok(())
/// # }
/// ```
pub fn write_npy(path: impl AsRef<Path>, array: &NpyArray) -> Result<(), NpyError> {
    write_file(path.as_ref(), &array.to_bytes())
}

/// Write `float32` data of `shape` to `path` atomically (see [`write_npy`]).
///
/// Fails, without touching `path`, if `shape` does not hold exactly `data.len()` elements.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("nao-npy-f32-doc.npy");
/// nao_npy::write_npy_f32(&path, &[2, 3], &[0.0; 6]).unwrap();
/// assert_eq!(nao_npy::read_npy(&path).unwrap().shape(), &[2, 3]);
/// // wrong element count: an error naming the file
/// let err = nao_npy::write_npy_f32(&path, &[2, 3], &[0.0; 5]).unwrap_err();
/// assert!(err.to_string().contains("nao-npy-f32-doc"));
/// ```
pub fn write_npy_f32(
    path: impl AsRef<Path>,
    shape: &[usize],
    data: &[f32],
) -> Result<(), NpyError> {
    write_slice(path.as_ref(), shape, data)
}

/// Write `float64` data of `shape` to `path` atomically (see [`write_npy`]).
///
/// Fails, without touching `path`, if `shape` does not hold exactly `data.len()` elements.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("b.npy");
/// nao_npy::write_npy_f64(&path, &[3], &[1.0, 2.0, 3.0]).unwrap();
/// assert_eq!(nao_npy::read_npy(&path).unwrap().dtype_name(), "float64");
/// ```
pub fn write_npy_f64(
    path: impl AsRef<Path>,
    shape: &[usize],
    data: &[f64],
) -> Result<(), NpyError> {
    write_slice(path.as_ref(), shape, data)
}

fn write_slice<T: Element>(path: &Path, shape: &[usize], data: &[T]) -> Result<(), NpyError> {
    check_shape(shape, data.len(), path)?;
    write_file(path, &encode(shape, data))
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), NpyError> {
    nao_fs::write_file(path, "output", bytes).map_err(|source| NpyError::Output {
        path: path.to_path_buf(),
        source: Box::new(source),
    })
}

/// A `.npy` file written in pieces, for outputs too large to hold in memory twice: the header
/// for `dtype` and `shape` first, then the values in C order, chunk by chunk (converted to the
/// file's dtype); [`NpyStream::finish`] checks that exactly the announced count arrived.
///
/// ```
/// use nao_npy::{DType, NpyStream};
/// let mut bytes = Vec::new();
/// let mut s = NpyStream::new(&mut bytes, DType::F32, &[2, 3], "mem.npy")?;
/// s.push_f64(&[1.0, 2.0])?;
/// s.push_f64(&[3.0, 4.0, 5.0, 6.0])?;
/// s.finish()?;
/// let a = nao_npy::read_npy_bytes(&bytes)?;
/// assert_eq!(a.to_f64_vec(), vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
///
/// let mut s = NpyStream::new(Vec::new(), DType::F64, &[3], "short.npy")?;
/// s.push_f64(&[1.0])?;
/// assert!(s.finish().unwrap_err().to_string().contains("short.npy"));
/// # Ok::<(), nao_npy::NpyError>(())
/// ```
pub struct NpyStream<W: Write> {
    w: W,
    dtype: DType,
    shape: Vec<usize>,
    remaining: usize,
    path: PathBuf,
    buf: Vec<u8>,
}

impl<W: Write> NpyStream<W> {
    /// Start a file of `dtype` (`float32` or `float64`) and `shape` on `w`; `path` names it in
    /// errors.
    pub fn new(
        mut w: W,
        dtype: DType,
        shape: &[usize],
        path: impl Into<PathBuf>,
    ) -> Result<Self, NpyError> {
        let path = path.into();
        if !matches!(dtype, DType::F32 | DType::F64) {
            return Err(NpyError::UnsupportedDtype {
                path,
                descr: format!("{} (streams write float32 or float64)", dtype.name()),
            });
        }
        let Some(count) = crate::array::element_count(shape) else {
            return Err(NpyError::ShapeMismatch {
                path,
                shape: shape.to_vec(),
                expected: usize::MAX,
                actual: 0,
            });
        };
        let io = |source| NpyError::Io {
            path: path.clone(),
            action: "write",
            source,
        };
        w.write_all(&header_bytes(dtype, shape)).map_err(io)?;
        Ok(Self {
            w,
            dtype,
            shape: shape.to_vec(),
            remaining: count,
            path,
            buf: Vec::new(),
        })
    }

    /// Append values, converted to the file's dtype.
    pub fn push_f64(&mut self, values: &[f64]) -> Result<(), NpyError> {
        self.reserve(values.len())?;
        self.buf.clear();
        match self.dtype {
            DType::F32 => values
                .iter()
                .for_each(|&v| (v as f32).put_le(&mut self.buf)),
            _ => values.iter().for_each(|&v| v.put_le(&mut self.buf)),
        }
        self.flush_buf()
    }

    /// Append `float32` values, converted to the file's dtype.
    pub fn push_f32(&mut self, values: &[f32]) -> Result<(), NpyError> {
        self.reserve(values.len())?;
        self.buf.clear();
        match self.dtype {
            DType::F32 => values.iter().for_each(|&v| v.put_le(&mut self.buf)),
            _ => values
                .iter()
                .for_each(|&v| f64::from(v).put_le(&mut self.buf)),
        }
        self.flush_buf()
    }

    fn reserve(&mut self, n: usize) -> Result<(), NpyError> {
        if n > self.remaining {
            return Err(NpyError::ShapeMismatch {
                path: self.path.clone(),
                shape: self.shape.clone(),
                expected: crate::array::element_count(&self.shape).unwrap_or(usize::MAX),
                actual: crate::array::element_count(&self.shape).unwrap_or(usize::MAX)
                    - self.remaining
                    + n,
            });
        }
        self.remaining -= n;
        Ok(())
    }

    fn flush_buf(&mut self) -> Result<(), NpyError> {
        self.w.write_all(&self.buf).map_err(|source| NpyError::Io {
            path: self.path.clone(),
            action: "write",
            source,
        })
    }

    /// End the file: an error when fewer values arrived than the shape holds.
    pub fn finish(mut self) -> Result<W, NpyError> {
        if self.remaining != 0 {
            let expected = crate::array::element_count(&self.shape).unwrap_or(usize::MAX);
            return Err(NpyError::ShapeMismatch {
                path: self.path,
                shape: self.shape,
                expected,
                actual: expected - self.remaining,
            });
        }
        self.w.flush().map_err(|source| NpyError::Io {
            path: self.path.clone(),
            action: "write",
            source,
        })?;
        Ok(self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_is_64_aligned_and_newline_terminated() {
        for shape in [vec![], vec![0], vec![5], vec![48, 64], vec![1, 4, 8, 8]] {
            let n: usize = shape.iter().product();
            let bytes = encode(&shape, &vec![0f32; n]);
            let hlen = usize::from(u16::from_le_bytes([bytes[8], bytes[9]]));
            assert_eq!((10 + hlen) % 64, 0);
            assert_eq!(bytes[10 + hlen - 1], b'\n');
            assert_eq!(bytes.len(), 10 + hlen + 4 * n);
        }
    }

    #[test]
    fn huge_header_switches_to_version_2() {
        // 30 000 axes of length 1: the header no longer fits a u16 length.
        let shape = vec![1usize; 30_000];
        let bytes = encode(&shape, &[7.0f64]);
        assert_eq!(bytes[6], 2);
        let hlen = u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize;
        assert_eq!((12 + hlen) % 64, 0);
        // The reader keeps its bounds: such a header is refused, with the reason.
        let e = crate::read_npy_bytes(&bytes).unwrap_err().to_string();
        assert!(e.contains("at most 65536"), "{e}");
    }
}
