//! The ImageFolder layout: one folder per class, images inside (`DIR/<class>/*.png|jpg|jpeg`),
//! as torchvision's `ImageFolder` reads it. Real images come in this layout, and every dataset
//! `nao augment` writes is one too.

use std::path::{Path, PathBuf};

use crate::{AugmentError, Result};

/// The file extensions taken as images (compared without case).
pub const IMAGE_EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// A folder of class folders of images.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFolder {
    /// The folder.
    pub dir: PathBuf,
    /// The classes, sorted by name, each with at least one image.
    pub classes: Vec<ImageClass>,
}

/// One class: its folder's name and its images, sorted by file name.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageClass {
    /// The folder's name: the class name.
    pub name: String,
    /// The images.
    pub images: Vec<ImageFile>,
}

/// One image file of a class.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageFile {
    /// Its name in the class folder.
    pub name: String,
    /// The full path.
    pub path: PathBuf,
}

/// Whether a file name has an image extension.
pub fn is_image_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// The names in `dir` that are not hidden (`.DS_Store`, `.ipynb_checkpoints`, a sync tool's
/// folders), sorted.
fn listing(dir: &Path, role: &str) -> Result<Vec<String>> {
    let fail = |e: std::io::Error| {
        AugmentError::input(format!("{role} {}: cannot list it: {e}", dir.display()))
    };
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(fail)? {
        let entry = entry.map_err(fail)?;
        let name = entry.file_name().into_string().map_err(|n| {
            AugmentError::input(format!(
                "{}: the name is not valid UTF-8; class and image names must be",
                dir.join(n).display()
            ))
        })?;
        if !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

impl ImageFolder {
    /// Scan `dir`; `role` names it in errors (`REAL_DIR`, `--real`). Files beside the class
    /// folders (a README, a manifest) and files that are not images are left out; a class
    /// folder without images, or a folder without class folders, is an error naming it.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir(dir.path().join("bag"))?;
    /// std::fs::write(dir.path().join("bag/1.png"), b"")?;
    /// std::fs::write(dir.path().join("labels.csv"), b"")?;
    /// let set = nao_augment::ImageFolder::scan(dir.path(), "REAL_DIR")?;
    /// assert_eq!(set.classes[0].name, "bag");
    /// assert_eq!(set.classes[0].images[0].name, "1.png");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn scan(dir: &Path, role: &str) -> Result<Self> {
        if !dir.is_dir() {
            return Err(AugmentError::input(format!(
                "{role} {}: {}",
                dir.display(),
                if dir.exists() {
                    "not a folder (give a folder with one sub-folder of images per class)"
                } else {
                    "no such folder"
                }
            )));
        }
        let mut classes = Vec::new();
        for name in listing(dir, role)? {
            let class_dir = dir.join(&name);
            if !class_dir.is_dir() {
                continue;
            }
            let mut images = Vec::new();
            for file in listing(&class_dir, role)? {
                let path = class_dir.join(&file);
                if is_image_name(&file) && !path.is_dir() {
                    images.push(ImageFile { name: file, path });
                }
            }
            if images.is_empty() {
                return Err(AugmentError::input(format!(
                    "{}: the class folder '{name}' has no images (*.png, *.jpg, *.jpeg); add a \
                     few images of the class or remove the folder",
                    class_dir.display()
                )));
            }
            classes.push(ImageClass { name, images });
        }
        if classes.is_empty() {
            return Err(AugmentError::input(format!(
                "{role} {}: no class folders; expected the ImageFolder layout \
                 {role}/<class>/*.png (one folder of images per class)",
                dir.display()
            )));
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            classes,
        })
    }

    /// The class called `name`.
    pub fn class(&self, name: &str) -> Option<&ImageClass> {
        self.classes.iter().find(|c| c.name == name)
    }

    /// Images in all classes.
    pub fn len(&self) -> usize {
        self.classes.iter().map(|c| c.images.len()).sum()
    }

    /// Whether there are no images (never, for a scanned folder).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
        let set = ImageFolder::scan(root, "REAL_DIR").unwrap();
        let names: Vec<_> = set.classes.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["bag", "sneaker"]);
        let files: Vec<_> = set.classes[0]
            .images
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(files, ["a.JPG", "b.png"]);
        assert_eq!(set.len(), 3);
    }

    #[test]
    fn empty_class_folders_and_empty_roots_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let e = ImageFolder::scan(dir.path(), "--real")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no class folders") && e.contains("ImageFolder"),
            "{e}"
        );
        std::fs::create_dir(dir.path().join("bag")).unwrap();
        std::fs::write(dir.path().join("bag/readme.txt"), b"x").unwrap();
        let e = ImageFolder::scan(dir.path(), "--real")
            .unwrap_err()
            .to_string();
        assert!(e.contains("'bag' has no images"), "{e}");
        let e = ImageFolder::scan(&dir.path().join("missing"), "--real")
            .unwrap_err()
            .to_string();
        assert!(e.contains("no such folder"), "{e}");
    }
}
