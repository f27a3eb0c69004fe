//! The real images of a dataset: the ImageFolder's images with the hash of each, read and
//! hashed before any work so that a missing class or an empty folder fails at once, and read
//! again (checked against the hash) when they are decoded.

use std::path::PathBuf;

use nao_fs::hash::{file_sha256, sha256_hex, FieldHasher};

use crate::{AugmentError, ImageFolder, Result};

/// The largest real image file accepted (a 512×512 PNG is well under 1 MiB).
pub const MAX_IMAGE_BYTES: u64 = 256 << 20;

/// One real image: its file and the hash of its content.
#[derive(Debug, Clone, PartialEq)]
pub struct RealImage {
    /// The file name inside its class folder.
    pub name: String,
    /// The full path.
    pub path: PathBuf,
    /// The SHA-256 of its bytes.
    pub sha256: String,
}

/// One class: its folder name and images, sorted by file name.
#[derive(Debug, Clone, PartialEq)]
pub struct RealClass {
    /// The folder name (the class name of the outputs and of `{class}` in the prompt).
    pub name: String,
    /// The images.
    pub images: Vec<RealImage>,
}

/// The classes of an ImageFolder with every image hashed.
pub fn hash_classes(folder: &ImageFolder) -> Result<Vec<RealClass>> {
    folder
        .classes
        .iter()
        .map(|c| {
            let images = c
                .images
                .iter()
                .map(|f| {
                    Ok(RealImage {
                        name: f.name.clone(),
                        path: f.path.clone(),
                        sha256: file_sha256(&f.path)?,
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            Ok(RealClass {
                name: c.name.clone(),
                images,
            })
        })
        .collect()
}

/// A fingerprint of every class's images (names and contents): a different set of real images
/// is a different configuration.
pub fn fingerprint(classes: &[RealClass]) -> String {
    let mut h = FieldHasher::new();
    for class in classes {
        h.field(class.name.as_bytes());
        h.field(&(class.images.len() as u64).to_le_bytes());
        for image in &class.images {
            h.field(image.name.as_bytes())
                .field(image.sha256.as_bytes());
        }
    }
    format!("sha256:{}", h.finish_hex())
}

impl RealImage {
    /// The file's bytes, read again and checked against its hash.
    pub fn read(&self) -> Result<Vec<u8>> {
        let bytes = nao_fs::input::read_limited(&self.path, MAX_IMAGE_BYTES)?;
        if sha256_hex(&bytes) != self.sha256 {
            return Err(AugmentError::input(format!(
                "{}: the file changed while nao augment was running; run it again",
                self.path.display()
            )));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fingerprint_follows_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bag")).unwrap();
        std::fs::write(dir.path().join("bag/a.png"), b"one").unwrap();
        let scan = || hash_classes(&ImageFolder::scan(dir.path(), "REAL_DIR").unwrap()).unwrap();
        let before = scan();
        assert_eq!(before[0].images[0].read().unwrap(), b"one");
        std::fs::write(dir.path().join("bag/a.png"), b"two").unwrap();
        assert!(before[0].images[0]
            .read()
            .unwrap_err()
            .to_string()
            .contains("changed"));
        assert_ne!(fingerprint(&before), fingerprint(&scan()));
    }
}
