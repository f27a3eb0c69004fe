//! Reading `.npy` files.

use std::path::Path;

use crate::array::{element_count, with_vec, IN_MEMORY};
use crate::header::parse_header;
use crate::{DType, NpyArray, NpyData, NpyError};

/// The magic string that starts every `.npy` file.
pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// Read a `.npy` file.
///
/// Supports format versions 1.0, 2.0 and 3.0, every dtype of [`DType`] in either byte order,
/// any shape (including 0-d and empty arrays), C or Fortran order (Fortran-order data are
/// transposed to C order). Errors name the file and say what is wrong.
///
/// ```
/// # fn main() -> Result<(), nao_npy::NpyError> {
/// let path = std::env::temp_dir().join(format!("nao-npy-read-doc-{}.npy", std::process::id()));
/// nao_npy::write_npy_f64(&path, &[2], &[1.5, -2.0])?;
/// let a = nao_npy::read_npy(&path)?;
/// assert_eq!(a.shape(), &[2]);
/// assert_eq!(a.dtype_name(), "float64");
/// assert_eq!(a.to_f64_vec(), vec![1.5, -2.0]);
/// # std::fs::remove_file(&path).ok();
/// let missing = nao_npy::read_npy("no/such/file.npy").unwrap_err();
/// assert!(missing.to_string().contains("no/such/file.npy"));
/// # Ok(())
/// # }
/// ```
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|source| NpyError::Io {
        path: path.to_path_buf(),
        action: "read",
        source,
    })?;
    parse_npy(&bytes, path)
}

/// Parse the bytes of a `.npy` file held in memory (errors name the file `<in-memory>`).
///
/// ```
/// let a = nao_npy::NpyArray::from_f32(&[3], vec![1.0, 2.0, 3.0]).unwrap();
/// let b = nao_npy::read_npy_bytes(&a.to_bytes()).unwrap();
/// assert_eq!(a, b);
/// assert!(nao_npy::read_npy_bytes(b"PK\x03\x04 not numpy").is_err());
/// ```
pub fn read_npy_bytes(bytes: &[u8]) -> Result<NpyArray, NpyError> {
    parse_npy(bytes, Path::new(IN_MEMORY))
}

/// Parse `bytes`, naming `path` in errors.
pub(crate) fn parse_npy(bytes: &[u8], path: &Path) -> Result<NpyArray, NpyError> {
    let actual = bytes.len() as u64;
    let truncated = |what: &'static str, expected: usize| NpyError::Truncated {
        path: path.to_path_buf(),
        what,
        expected: expected as u64,
        actual,
    };
    let header_error = |message: String| NpyError::Header {
        path: path.to_path_buf(),
        message,
    };

    let head = &bytes[..bytes.len().min(MAGIC.len())];
    if head != &MAGIC[..head.len()] {
        return Err(NpyError::BadMagic {
            path: path.to_path_buf(),
            found: head.escape_ascii().to_string(),
        });
    }
    if bytes.len() < MAGIC.len() {
        return Err(truncated("magic string", MAGIC.len()));
    }
    if bytes.len() < 8 {
        return Err(truncated("format version", 8));
    }
    let (major, minor) = (bytes[6], bytes[7]);
    let len_bytes = match (major, minor) {
        (1, 0) => 2,
        (2, 0) | (3, 0) => 4,
        _ => {
            return Err(NpyError::UnsupportedVersion {
                path: path.to_path_buf(),
                major,
                minor,
            })
        }
    };
    let prefix = 8 + len_bytes;
    if bytes.len() < prefix {
        return Err(truncated("header length", prefix));
    }
    let header_len = if len_bytes == 2 {
        usize::from(u16::from_le_bytes([bytes[8], bytes[9]]))
    } else {
        // A u32 always fits in usize on the 32- and 64-bit targets Rust std supports.
        u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize
    };
    let header_end = prefix.saturating_add(header_len);
    if bytes.len() < header_end {
        return Err(truncated("header", header_end));
    }
    let raw_header = &bytes[prefix..header_end];
    let text = if major == 3 {
        std::str::from_utf8(raw_header)
            .map_err(|e| header_error(format!("header is not valid UTF-8 ({e})")))?
            .to_string()
    } else {
        // Versions 1 and 2 store the header in latin-1: each byte is one code point.
        raw_header.iter().map(|&b| char::from(b)).collect()
    };
    let header = parse_header(&text).map_err(header_error)?;
    let (dtype, big_endian) = header.dtype.ok_or_else(|| NpyError::UnsupportedDtype {
        path: path.to_path_buf(),
        descr: header.descr.clone(),
    })?;
    let too_large = || header_error(format!("shape {:?} is too large", header.shape));
    let count = element_count(&header.shape).ok_or_else(too_large)?;
    let data_len = count.checked_mul(dtype.size()).ok_or_else(too_large)?;
    let data_end = header_end.checked_add(data_len).ok_or_else(too_large)?;
    if bytes.len() < data_end {
        return Err(truncated("data", data_end));
    }
    if bytes.len() > data_end {
        return Err(NpyError::TrailingBytes {
            path: path.to_path_buf(),
            expected: data_end as u64,
            actual,
            extra: actual - data_end as u64,
        });
    }
    let mut data = decode(&bytes[header_end..data_end], dtype, big_endian);
    if header.fortran_order && header.shape.len() > 1 {
        data = with_vec!(data, v => fortran_to_c(&v, &header.shape).into());
    }
    Ok(NpyArray::from_parts_unchecked(header.shape, data))
}

/// Split `raw` into `N`-byte elements and convert each.
fn chunks<const N: usize, T>(raw: &[u8], convert: impl Fn([u8; N]) -> T) -> Vec<T> {
    raw.chunks_exact(N)
        .map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            convert(a)
        })
        .collect()
}

/// Decode raw element bytes; `raw.len()` is a multiple of the element size.
fn decode(raw: &[u8], dtype: DType, big_endian: bool) -> NpyData {
    macro_rules! num {
        ($variant:ident, $t:ty) => {
            NpyData::$variant(if big_endian {
                chunks(raw, <$t>::from_be_bytes)
            } else {
                chunks(raw, <$t>::from_le_bytes)
            })
        };
    }
    match dtype {
        DType::Bool => NpyData::Bool(raw.iter().map(|&b| b != 0).collect()),
        DType::U8 => NpyData::U8(raw.to_vec()),
        DType::I8 => NpyData::I8(raw.iter().map(|&b| i8::from_le_bytes([b])).collect()),
        DType::U16 => num!(U16, u16),
        DType::U32 => num!(U32, u32),
        DType::U64 => num!(U64, u64),
        DType::I16 => num!(I16, i16),
        DType::I32 => num!(I32, i32),
        DType::I64 => num!(I64, i64),
        DType::F32 => num!(F32, f32),
        DType::F64 => num!(F64, f64),
    }
}

/// Reorder Fortran-order (first axis fastest) data into C order (last axis fastest).
fn fortran_to_c<T: Copy>(data: &[T], shape: &[usize]) -> Vec<T> {
    let nd = shape.len();
    let mut strides = vec![0usize; nd];
    let mut s = 1usize;
    for k in 0..nd {
        strides[k] = s;
        s *= shape[k];
    }
    let mut index = vec![0usize; nd];
    let mut offset = 0usize;
    let mut out = Vec::with_capacity(data.len());
    for _ in 0..data.len() {
        out.push(data[offset]);
        // Advance the C-order multi-index, last axis fastest.
        for k in (0..nd).rev() {
            index[k] += 1;
            offset += strides[k];
            if index[k] < shape[k] {
                break;
            }
            offset -= strides[k] * shape[k];
            index[k] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fortran_transpose_3d() {
        // shape (2, 3, 2), C value at (i, j, k) = 100i + 10j + k
        let shape = [2usize, 3, 2];
        let mut fortran = Vec::new();
        for k in 0..2 {
            for j in 0..3 {
                for i in 0..2 {
                    fortran.push(100 * i + 10 * j + k);
                }
            }
        }
        let c = fortran_to_c(&fortran, &shape);
        let mut expected = Vec::new();
        for i in 0..2 {
            for j in 0..3 {
                for k in 0..2 {
                    expected.push(100 * i + 10 * j + k);
                }
            }
        }
        assert_eq!(c, expected);
    }
}
