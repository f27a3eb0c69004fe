//! SHA-256 content hashes: of files (a dataset's manifest, its seeds), of byte strings, and of
//! sequences of fields (identities, cache keys, per-image random-number seeds).

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::input::open_regular;
use crate::FsError;

/// Lower-case hexadecimal.
///
/// ```
/// assert_eq!(nao_fs::hash::hex(&[0, 171]), "00ab");
/// ```
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(2 * bytes.len());
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// The SHA-256 of `bytes`, in hexadecimal.
///
/// ```
/// // FIPS 180-2's "abc" example
/// assert_eq!(
///     nao_fs::hash::sha256_hex(b"abc"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of a file's content, in hexadecimal, read in chunks after checking that it is a
/// regular file.
pub fn file_sha256(path: &Path) -> Result<String, FsError> {
    let (mut file, _) = open_regular(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| FsError::io(path, "read", e))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// A digest of a sequence of fields, each length-prefixed so that no two different sequences
/// give the same byte stream (`["ab", "c"]` and `["a", "bc"]` differ).
///
/// ```
/// use nao_fs::hash::FieldHasher;
/// let key = |parts: &[&str]| {
///     let mut h = FieldHasher::new();
///     parts.iter().for_each(|p| { h.field(p.as_bytes()); });
///     h.finish_hex()
/// };
/// assert_ne!(key(&["ab", "c"]), key(&["a", "bc"]));
/// ```
#[derive(Debug, Clone, Default)]
pub struct FieldHasher(Sha256);

impl FieldHasher {
    /// An empty digest.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add one field.
    pub fn field(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update((bytes.len() as u64).to_le_bytes());
        self.0.update(bytes);
        self
    }

    /// The digest in hexadecimal (64 digits).
    pub fn finish_hex(self) -> String {
        hex(&self.0.finalize())
    }

    /// The first `digits` hexadecimal digits of the digest (at most 64): a key short enough for
    /// a file name.
    pub fn finish_prefix(self, digits: usize) -> String {
        let mut h = self.finish_hex();
        h.truncate(digits);
        h
    }

    /// The first 8 bytes of the digest as a little-endian `u64` (a random-number seed).
    pub fn finish_u64(self) -> u64 {
        let digest = self.0.finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_hash_as_their_bytes_and_folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![7u8; 200_000]).unwrap();
        assert_eq!(file_sha256(&p).unwrap(), sha256_hex(&vec![7u8; 200_000]));
        assert!(file_sha256(dir.path()).is_err());
        let mut h = FieldHasher::new();
        h.field(b"x");
        assert_eq!(h.clone().finish_prefix(32).len(), 32);
        assert!(h.clone().finish_hex().starts_with(&h.finish_prefix(10)));
    }
}
