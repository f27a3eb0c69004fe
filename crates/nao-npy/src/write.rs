//! Writing `.npy` files: little-endian, C order, format 1.0 (2.0 when the header needs it),
//! always through a temporary file renamed into place.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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
    let dict = format_header(T::DTYPE, shape);
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
    let mut out = Vec::with_capacity(total_header + data.len() * T::DTYPE.size());
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
    for &x in data {
        x.put_le(&mut out);
    }
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

/// Write `array` to `path` atomically: the bytes go to a temporary file in the same directory,
/// which is renamed over `path` only once complete, so `path` never holds a partial file.
///
/// ```
/// # fn main() -> Result<(), nao_npy::NpyError> {
/// use nao_npy::{NpyArray, NpyData};
/// let path = std::env::temp_dir().join(format!("nao-npy-write-doc-{}.npy", std::process::id()));
/// let a = NpyArray::new(vec![2, 2], NpyData::I64(vec![1, 2, 3, 4]))?;
/// nao_npy::write_npy(&path, &a)?;
/// assert_eq!(nao_npy::read_npy(&path)?, a);
/// # std::fs::remove_file(&path).ok();
/// # Ok(())
/// # }
/// ```
pub fn write_npy(path: impl AsRef<Path>, array: &NpyArray) -> Result<(), NpyError> {
    write_atomic(path.as_ref(), &array.to_bytes())
}

/// Write `float32` data of `shape` to `path` atomically (see [`write_npy`]).
///
/// Fails, without touching `path`, if `shape` does not hold exactly `data.len()` elements.
///
/// ```
/// let path = std::env::temp_dir().join(format!("nao-npy-f32-doc-{}.npy", std::process::id()));
/// nao_npy::write_npy_f32(&path, &[2, 3], &[0.0; 6]).unwrap();
/// assert_eq!(nao_npy::read_npy(&path).unwrap().shape(), &[2, 3]);
/// // wrong element count: an error naming the file
/// let err = nao_npy::write_npy_f32(&path, &[2, 3], &[0.0; 5]).unwrap_err();
/// assert!(err.to_string().contains("nao-npy-f32-doc"));
/// # std::fs::remove_file(&path).ok();
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
/// let path = std::env::temp_dir().join(format!("nao-npy-f64-doc-{}.npy", std::process::id()));
/// nao_npy::write_npy_f64(&path, &[3], &[1.0, 2.0, 3.0]).unwrap();
/// assert_eq!(nao_npy::read_npy(&path).unwrap().dtype_name(), "float64");
/// # std::fs::remove_file(&path).ok();
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
    write_atomic(path, &encode(shape, data))
}

/// Distinguishes temporary files of concurrent writers in one process.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `bytes` to a temporary file beside `path`, then rename it to `path`.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), NpyError> {
    let io_error = |action: &'static str| {
        move |source: std::io::Error| NpyError::Io {
            path: path.to_path_buf(),
            action,
            source,
        }
    };
    let Some(name) = path.file_name() else {
        return Err(io_error("write")(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the path does not name a file",
        )));
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let tmp = dir.join(format!(
        ".{}.{}-{}.tmp",
        name.to_string_lossy(),
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .map_err(io_error("create a temporary file in its directory"))?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(io_error("write"));
    drop(file);
    let result = written.and_then(|()| {
        std::fs::rename(&tmp, path).map_err(io_error("rename the temporary file into place"))
    });
    if result.is_err() {
        // Best effort: the error being reported matters more than a failed cleanup.
        let _ = std::fs::remove_file(&tmp);
    }
    result
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
        let back = crate::read_npy_bytes(&bytes).unwrap();
        assert_eq!(back.shape().len(), 30_000);
        assert_eq!(back.to_f64_vec(), vec![7.0]);
    }
}
