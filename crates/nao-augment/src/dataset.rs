//! A finished dataset read back: its merged `manifest.jsonl` says each image's class, method,
//! seed and file.

use std::path::{Path, PathBuf};

use crate::manifest::{read_manifest, ManifestLine, MERGED};
use crate::{AugmentError, Result};

/// A dataset `nao augment` made (and merged).
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Its folder.
    pub dir: PathBuf,
    /// One line per image, in manifest order.
    pub lines: Vec<ManifestLine>,
    /// Each line's number in the manifest, for messages.
    numbers: Vec<usize>,
}

/// One image of a dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct DatasetImage<'a> {
    /// Its manifest line.
    pub line: &'a ManifestLine,
    /// Its file (inside the dataset's folder).
    pub path: PathBuf,
}

impl Dataset {
    /// Whether `dir` holds a merged dataset (a `manifest.jsonl`).
    pub fn is_dataset(dir: &Path) -> bool {
        dir.join(MERGED).is_file()
    }

    /// Read the dataset in `dir`: its manifest must list at least one image of one method.
    pub fn open(dir: &Path) -> Result<Self> {
        let manifest = dir.join(MERGED);
        let content = read_manifest(&manifest)?;
        let Some(first) = content.lines.first() else {
            return Err(AugmentError::input(format!(
                "{}: the manifest lists no images",
                manifest.display()
            )));
        };
        let method = first.line.method.clone();
        if let Some(other) = content.lines.iter().find(|l| l.line.method != method) {
            return Err(AugmentError::input(format!(
                "{}:{}: method '{}' after '{method}': one dataset holds one method",
                manifest.display(),
                other.number,
                other.line.method
            )));
        }
        let numbers = content.lines.iter().map(|l| l.number).collect();
        Ok(Self {
            dir: dir.to_path_buf(),
            lines: content.lines.into_iter().map(|l| l.line).collect(),
            numbers,
        })
    }

    /// The seed method that made the images.
    pub fn method(&self) -> &str {
        &self.lines[0].method
    }

    /// Every image with its file, checked to lie inside the dataset's folder and to exist.
    pub fn images(&self) -> Result<Vec<DatasetImage<'_>>> {
        let manifest = self.dir.join(MERGED);
        self.lines
            .iter()
            .zip(&self.numbers)
            .map(|(line, number)| {
                let path = line.path_in(&self.dir).map_err(|e| {
                    AugmentError::input(format!("{}:{number}: {e}", manifest.display()))
                })?;
                if !path.is_file() {
                    let what = match nao_fs::input::describe_non_file(&path) {
                        "does not exist" => "is missing",
                        other => other,
                    };
                    return Err(AugmentError::input(format!(
                        "{}:{number}: {} {what}",
                        manifest.display(),
                        path.display()
                    )));
                }
                Ok(DatasetImage { line, path })
            })
            .collect()
    }
}
