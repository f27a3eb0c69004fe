//! SHA-256 digests: of files (the manifest's `sha256`), of the real images (the configuration's
//! fingerprint), of the model (its identity), and of (seed, class, index) for per-image random
//! numbers.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::CliError;

/// Lower-case hexadecimal.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The SHA-256 of `bytes`, in hexadecimal.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of a file's content, in hexadecimal, read in chunks (checked to be a regular
/// file first).
pub fn file_sha256(path: &Path) -> Result<String, CliError> {
    let (mut file, _) = nao_fs::input::open_regular(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file
            .read(&mut buf)
            .map_err(|e| CliError::input(format!("{}: cannot read it: {e}", path.display())))?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex(&hasher.finalize()))
}

/// A digest of a sequence of fields, each length-prefixed so that no two different sequences
/// give the same byte stream.
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

    /// The digest in hexadecimal.
    pub fn finish_hex(self) -> String {
        hex(&self.0.finalize())
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
    fn known_digests() {
        // FIPS 180-2's "abc" example
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("f");
        std::fs::write(&p, vec![7u8; 200_000]).unwrap();
        assert_eq!(file_sha256(&p).unwrap(), sha256_hex(&vec![7u8; 200_000]));
        assert!(file_sha256(dir.path()).is_err());
    }

    #[test]
    fn fields_are_delimited() {
        let ab = {
            let mut h = FieldHasher::new();
            h.field(b"ab").field(b"c");
            h.finish_hex()
        };
        let a_bc = {
            let mut h = FieldHasher::new();
            h.field(b"a").field(b"bc");
            h.finish_hex()
        };
        assert_ne!(ab, a_bc);
    }
}
