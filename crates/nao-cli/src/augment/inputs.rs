//! The real images: REAL_DIR/<class>/*.png|jpg|jpeg (the ImageFolder layout), read and hashed
//! before any work so that a missing class or an empty folder fails at once.

use std::path::{Path, PathBuf};

use super::hashing::{sha256_hex, FieldHasher};
use crate::error::CliError;

/// The largest real image file accepted (a 512×512 PNG is well under 1 MiB).
pub const MAX_IMAGE_BYTES: u64 = 256 << 20;

/// The file extensions taken as images (compared without case).
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// One real image: its file and the hash of its content (the bytes are read again when the
/// image is decoded, and checked against the hash).
#[derive(Debug, Clone)]
pub struct RealImage {
    /// The file name inside its class folder.
    pub name: String,
    /// The full path.
    pub path: PathBuf,
    /// The SHA-256 of its bytes.
    pub sha256: String,
}

/// One class: its folder name and images, sorted by file name.
#[derive(Debug, Clone)]
pub struct RealClass {
    /// The folder name (the class name of the outputs and of `{class}` in the prompt).
    pub name: String,
    /// The images.
    pub images: Vec<RealImage>,
}

/// The classes of `real_dir`, sorted by name, each with at least one image.
pub fn scan(real_dir: &Path) -> Result<Vec<RealClass>, CliError> {
    let listing = |dir: &Path| {
        let mut names = Vec::new();
        let entries = std::fs::read_dir(dir).map_err(|e| {
            CliError::input(format!("REAL_DIR {}: cannot list it: {e}", dir.display()))
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| {
                CliError::input(format!("REAL_DIR {}: cannot list it: {e}", dir.display()))
            })?;
            let name = entry.file_name().into_string().map_err(|n| {
                CliError::input(format!(
                    "{}: the name is not valid UTF-8; class and image names must be",
                    dir.join(n).display()
                ))
            })?;
            // hidden entries (.DS_Store, .ipynb_checkpoints, a sync tool's folders)
            if !name.starts_with('.') {
                names.push(name);
            }
        }
        names.sort();
        Ok::<_, CliError>(names)
    };
    if !real_dir.is_dir() {
        return Err(CliError::input(format!(
            "REAL_DIR {}: {}",
            real_dir.display(),
            if real_dir.exists() {
                "not a folder (give a folder with one sub-folder of images per class)"
            } else {
                "no such folder"
            }
        )));
    }
    let mut classes = Vec::new();
    for name in listing(real_dir)? {
        let dir = real_dir.join(&name);
        if !dir.is_dir() {
            continue; // a README or a label file beside the class folders
        }
        let mut images = Vec::new();
        for file in listing(&dir)? {
            let path = dir.join(&file);
            let is_image = Path::new(&file)
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)));
            if !is_image || path.is_dir() {
                continue;
            }
            let sha256 = super::hashing::file_sha256(&path)?;
            images.push(RealImage {
                name: file,
                path,
                sha256,
            });
        }
        if images.is_empty() {
            return Err(CliError::input(format!(
                "{}: the class folder '{name}' has no images (*.png, *.jpg, *.jpeg); add a few \
                 real images of the class or remove the folder",
                dir.display()
            )));
        }
        classes.push(RealClass { name, images });
    }
    if classes.is_empty() {
        return Err(CliError::input(format!(
            "REAL_DIR {}: no class folders; expected REAL_DIR/<class>/*.png (one folder of real \
             images per class)",
            real_dir.display()
        )));
    }
    Ok(classes)
}

/// A fingerprint of every class's images (names and contents): a different set of real
/// images is a different configuration.
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
    /// The file's bytes, read again and checked against the hash taken by [`scan`].
    pub fn read(&self) -> Result<Vec<u8>, CliError> {
        let bytes = nao_fs::input::read_limited(&self.path, MAX_IMAGE_BYTES)?;
        if sha256_hex(&bytes) != self.sha256 {
            return Err(CliError::input(format!(
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
    fn classes_are_folders_of_images() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (class, files) in [("bag", &["b.png", "a.JPG"][..]), ("sneaker", &["x.jpeg"])] {
            std::fs::create_dir(root.join(class)).unwrap();
            for f in files {
                std::fs::write(root.join(class).join(f), f.as_bytes()).unwrap();
            }
        }
        std::fs::write(root.join("bag/notes.txt"), b"not an image").unwrap();
        std::fs::write(root.join("bag/.hidden.png"), b"hidden").unwrap();
        std::fs::write(root.join("labels.csv"), b"a file beside the classes").unwrap();
        let classes = scan(root).unwrap();
        let names: Vec<_> = classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["bag", "sneaker"]);
        let files: Vec<_> = classes[0].images.iter().map(|i| i.name.as_str()).collect();
        assert_eq!(files, ["a.JPG", "b.png"]);
        let before = fingerprint(&classes);
        std::fs::write(root.join("bag/b.png"), b"changed").unwrap();
        assert_ne!(before, fingerprint(&scan(root).unwrap()));
    }

    #[test]
    fn empty_class_folders_and_empty_roots_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = scan(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no class folders"), "{e}");
        std::fs::create_dir(dir.path().join("bag")).unwrap();
        std::fs::write(dir.path().join("bag/readme.txt"), b"x").unwrap();
        let e = scan(dir.path()).unwrap_err().to_string();
        assert!(e.contains("'bag' has no images"), "{e}");
        let e = scan(&dir.path().join("missing")).unwrap_err().to_string();
        assert!(e.contains("no such folder"), "{e}");
    }
}
