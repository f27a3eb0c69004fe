//! Reading `.npy` files.
//!
//! The reader never trusts the file: it looks at the file (`stat`) before opening it, reads the
//! magic string, the version and the header length first, bounds the header
//! ([`MAX_HEADER_BYTES`]), parses it with a depth limit, computes the data size with checked
//! arithmetic and compares it with the real file size, and only then allocates — with
//! `try_reserve`, so an allocation the machine cannot give is an error, not an abort.

use std::io::Read;
use std::path::Path;

use crate::array::{element_count, with_vec, IN_MEMORY};
use crate::header::parse_header;
use crate::{DType, NpyArray, NpyData, NpyError};

/// The magic string that starts every `.npy` file.
pub(crate) const MAGIC: &[u8; 6] = b"\x93NUMPY";

/// The longest header dictionary the reader accepts, in bytes (64 KiB). NumPy's own reader
/// refuses headers over 10 000 bytes by default; a header nao or NumPy writes for an array of at
/// most [`MAX_AXES`](crate::MAX_AXES) axes is well under 2 KiB.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Bytes read from the file at a time while decoding the data.
const READ_CHUNK: usize = 1 << 20;

/// Read a `.npy` file.
///
/// Supports format versions 1.0, 2.0 and 3.0, every dtype of [`DType`] in either byte order,
/// any shape (including 0-d and empty arrays) of at most [`MAX_AXES`](crate::MAX_AXES) axes,
/// C or Fortran order (Fortran-order data are transposed to C order). Errors name the file and
/// say what is wrong. Only regular files are read: a folder, a device (`/dev/zero`) or a FIFO is
/// refused before it is opened, so the reader neither hangs nor reads without end.
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
/// let device = nao_npy::read_npy("/dev/zero").unwrap_err();
/// assert!(device.to_string().contains("not a regular file"), "{device}");
/// # Ok(())
/// # }
/// ```
pub fn read_npy(path: impl AsRef<Path>) -> Result<NpyArray, NpyError> {
    read_npy_at_most(path, usize::MAX)
}

/// [`read_npy`] for callers with a budget: an array of more than `max_elements` elements is
/// refused ([`NpyError::TooLarge`]) once its header has been read, before its data are.
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let p = dir.path().join("big.npy");
/// nao_npy::write_npy_f32(&p, &[10, 10], &[0.0; 100]).unwrap();
/// let e = nao_npy::read_npy_at_most(&p, 99).unwrap_err();
/// assert!(e.to_string().contains("100 elements"), "{e}");
/// assert_eq!(nao_npy::read_npy_at_most(&p, 100).unwrap().len(), 100);
/// ```
pub fn read_npy_at_most(path: impl AsRef<Path>, max_elements: usize) -> Result<NpyArray, NpyError> {
    let path = path.as_ref();
    let (file, len) = nao_fs::input::open_regular(path).map_err(|source| NpyError::Input {
        path: path.to_path_buf(),
        source: Box::new(source),
    })?;
    read_from(std::io::BufReader::new(file), len, path, max_elements)
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
    read_from(bytes, bytes.len() as u64, Path::new(IN_MEMORY), usize::MAX)
}

/// Read a `.npy` file of `file_len` bytes from `r`, naming `path` in errors. Every length in
/// the file is checked against `file_len` before anything of that length is allocated or read.
fn read_from<R: Read>(
    mut r: R,
    file_len: u64,
    path: &Path,
    max_elements: usize,
) -> Result<NpyArray, NpyError> {
    let truncated = |what: &'static str, expected: u64| NpyError::Truncated {
        path: path.to_path_buf(),
        what,
        expected,
        actual: file_len,
    };
    let header_error = |message: String| NpyError::Header {
        path: path.to_path_buf(),
        message,
    };
    let mut read_exact = |buf: &mut [u8]| {
        r.read_exact(buf).map_err(|source| NpyError::Io {
            path: path.to_path_buf(),
            action: "read",
            source,
        })
    };

    let mut prefix = [0u8; 12];
    let head = MAGIC.len().min(file_len as usize);
    read_exact(&mut prefix[..head])?;
    if prefix[..head] != MAGIC[..head] {
        return Err(NpyError::BadMagic {
            path: path.to_path_buf(),
            found: prefix[..head].escape_ascii().to_string(),
        });
    }
    if file_len < MAGIC.len() as u64 {
        return Err(truncated("magic string", MAGIC.len() as u64));
    }
    if file_len < 8 {
        return Err(truncated("format version", 8));
    }
    read_exact(&mut prefix[6..8])?;
    let (major, minor) = (prefix[6], prefix[7]);
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
    let prefix_len = 8 + len_bytes;
    if file_len < prefix_len as u64 {
        return Err(truncated("header length", prefix_len as u64));
    }
    read_exact(&mut prefix[8..prefix_len])?;
    let header_len = if len_bytes == 2 {
        u64::from(u16::from_le_bytes([prefix[8], prefix[9]]))
    } else {
        u64::from(u32::from_le_bytes([
            prefix[8], prefix[9], prefix[10], prefix[11],
        ]))
    };
    if header_len > MAX_HEADER_BYTES as u64 {
        return Err(header_error(format!(
            "the header is {header_len} bytes long; at most {MAX_HEADER_BYTES} are accepted"
        )));
    }
    let header_end = prefix_len as u64 + header_len;
    if file_len < header_end {
        return Err(truncated("header", header_end));
    }
    let mut raw_header = vec![0u8; header_len as usize];
    read_exact(&mut raw_header)?;
    let text = if major == 3 {
        String::from_utf8(raw_header)
            .map_err(|e| header_error(format!("header is not valid UTF-8 ({e})")))?
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
    if count > max_elements {
        return Err(NpyError::TooLarge {
            path: path.to_path_buf(),
            shape: header.shape,
            elements: count,
            limit: max_elements,
        });
    }
    let data_len = (count as u64)
        .checked_mul(dtype.size() as u64)
        .ok_or_else(too_large)?;
    let data_end = header_end.checked_add(data_len).ok_or_else(too_large)?;
    if file_len < data_end {
        return Err(truncated("data", data_end));
    }
    if file_len > data_end {
        return Err(NpyError::TrailingBytes {
            path: path.to_path_buf(),
            expected: data_end,
            actual: file_len,
            extra: file_len - data_end,
        });
    }
    let mut data = decode(&mut read_exact, count, dtype, big_endian, path)?;
    if header.fortran_order && header.shape.len() > 1 {
        data = with_vec!(data, v => fortran_to_c(&v, &header.shape)
            .ok_or_else(|| out_of_memory(path, data_len))?
            .into());
    }
    Ok(NpyArray::from_parts_unchecked(header.shape, data))
}

fn out_of_memory(path: &Path, bytes: u64) -> NpyError {
    NpyError::OutOfMemory {
        path: path.to_path_buf(),
        bytes,
    }
}

/// Read `count` elements of `N` bytes in chunks, converting each, into a vector reserved once
/// with `try_reserve_exact`.
fn elements<const N: usize, T>(
    read_exact: &mut dyn FnMut(&mut [u8]) -> Result<(), NpyError>,
    count: usize,
    path: &Path,
    convert: impl Fn([u8; N]) -> T,
) -> Result<Vec<T>, NpyError> {
    let mut out: Vec<T> = Vec::new();
    out.try_reserve_exact(count)
        .map_err(|_| out_of_memory(path, (count as u64).saturating_mul(N as u64)))?;
    let mut buf = vec![0u8; READ_CHUNK.min(count * N)];
    let mut left = count * N;
    while left > 0 {
        let part = &mut buf[..left.min(READ_CHUNK)];
        read_exact(part)?;
        out.extend(part.chunks_exact(N).map(|c| {
            let mut a = [0u8; N];
            a.copy_from_slice(c);
            convert(a)
        }));
        left -= part.len();
        // A long read stops at a signal like every long loop of nao.
        nao_fs::signals::check().map_err(|source| NpyError::Input {
            path: path.to_path_buf(),
            source: Box::new(source),
        })?;
    }
    Ok(out)
}

/// Decode `count` elements of `dtype` from the reader.
fn decode(
    read_exact: &mut dyn FnMut(&mut [u8]) -> Result<(), NpyError>,
    count: usize,
    dtype: DType,
    big_endian: bool,
    path: &Path,
) -> Result<NpyData, NpyError> {
    macro_rules! num {
        ($variant:ident, $t:ty) => {
            NpyData::$variant(if big_endian {
                elements(read_exact, count, path, <$t>::from_be_bytes)?
            } else {
                elements(read_exact, count, path, <$t>::from_le_bytes)?
            })
        };
    }
    Ok(match dtype {
        DType::Bool => NpyData::Bool(elements(read_exact, count, path, |[b]: [u8; 1]| b != 0)?),
        DType::U8 => NpyData::U8(elements(read_exact, count, path, |[b]: [u8; 1]| b)?),
        DType::I8 => NpyData::I8(elements(read_exact, count, path, i8::from_le_bytes)?),
        DType::U16 => num!(U16, u16),
        DType::U32 => num!(U32, u32),
        DType::U64 => num!(U64, u64),
        DType::I16 => num!(I16, i16),
        DType::I32 => num!(I32, i32),
        DType::I64 => num!(I64, i64),
        DType::F32 => num!(F32, f32),
        DType::F64 => num!(F64, f64),
    })
}

/// Reorder Fortran-order (first axis fastest) data into C order (last axis fastest); `None`
/// when the copy cannot be allocated.
fn fortran_to_c<T: Copy>(data: &[T], shape: &[usize]) -> Option<Vec<T>> {
    let nd = shape.len();
    let mut strides = vec![0usize; nd];
    let mut s = 1usize;
    for k in 0..nd {
        strides[k] = s;
        s *= shape[k];
    }
    let mut index = vec![0usize; nd];
    let mut offset = 0usize;
    let mut out = Vec::new();
    out.try_reserve_exact(data.len()).ok()?;
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
    Some(out)
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
        let c = fortran_to_c(&fortran, &shape).unwrap();
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
