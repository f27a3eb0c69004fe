//! The image sets `nao eval` compares: real images in the ImageFolder layout, generated ones as
//! an ImageFolder or an `nao augment` output (whose manifest says each image's class, method and
//! seed log χ).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::CliError;

/// The manifest `nao augment` writes beside its images.
pub const MANIFEST_FILE: &str = "manifest.jsonl";

/// The image files of a folder tree, per class.
#[derive(Debug, Clone)]
pub struct ImageSet {
    /// The method that made the images (the manifest's, or the folder's name).
    pub method: String,
    /// Image files per class name, sorted.
    pub classes: BTreeMap<String, Vec<ImageEntry>>,
}

/// One image and what is known of it.
#[derive(Debug, Clone)]
pub struct ImageEntry {
    /// The file.
    pub path: PathBuf,
    /// log χ of the seed it was sampled from (from a manifest).
    pub log_chi: Option<f64>,
}

/// The fields of a manifest line `nao eval` reads (others are ignored).
#[derive(Debug, Deserialize)]
struct ManifestEntry {
    class: String,
    method: String,
    file: String,
    log_chi: f64,
}

fn is_image(p: &Path) -> bool {
    p.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg"))
}

/// Real or generated images in the ImageFolder layout: `dir/<class>/*.png|jpg`. A folder
/// without class folders, or a class folder without images, is an error naming it.
pub fn image_folder(dir: &Path, option: &str) -> Result<ImageSet, CliError> {
    let read = |d: &Path| {
        std::fs::read_dir(d).map_err(|e| CliError::input(format!("{option} {}: {e}", d.display())))
    };
    let mut classes = BTreeMap::new();
    for entry in read(dir)? {
        let entry = entry.map_err(|e| CliError::input(format!("{}: {e}", dir.display())))?;
        let path = entry.path();
        if !path.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = read(&path)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file() && is_image(p))
            .collect();
        if files.is_empty() {
            return Err(CliError::input(format!(
                "{option}: the class folder {} holds no .png or .jpg images",
                path.display()
            )));
        }
        files.sort();
        let name = entry.file_name().to_string_lossy().into_owned();
        classes.insert(
            name,
            files
                .into_iter()
                .map(|path| ImageEntry {
                    path,
                    log_chi: None,
                })
                .collect(),
        );
    }
    if classes.is_empty() {
        return Err(CliError::input(format!(
            "{option} {}: no class folders (expected the ImageFolder layout DIR/<class>/*.png)",
            dir.display()
        )));
    }
    let method = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| dir.display().to_string());
    Ok(ImageSet { method, classes })
}

/// A generated set: an `nao augment` output when it has a manifest (class, method and log χ
/// of every image from it), else an ImageFolder named after its folder.
pub fn generated(dir: &Path) -> Result<ImageSet, CliError> {
    let manifest = dir.join(MANIFEST_FILE);
    if !manifest.is_file() {
        return image_folder(dir, "GENERATED_DIR");
    }
    let text = nao_fs::input::read_text_limited(&manifest, 1 << 30)?;
    let mut classes: BTreeMap<String, Vec<ImageEntry>> = BTreeMap::new();
    let mut method: Option<String> = None;
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let e: ManifestEntry = serde_json::from_str(line).map_err(|e| {
            CliError::input(format!(
                "{}:{}: not a manifest line: {e}",
                manifest.display(),
                i + 1
            ))
        })?;
        match &method {
            None => method = Some(e.method.clone()),
            Some(m) if *m != e.method => {
                return Err(CliError::input(format!(
                    "{}:{}: method '{}' after '{m}': one generated folder per method",
                    manifest.display(),
                    i + 1,
                    e.method
                )))
            }
            Some(_) => {}
        }
        let path = dir.join(&e.file);
        if !path.is_file() {
            return Err(CliError::input(format!(
                "{}:{}: {} is missing",
                manifest.display(),
                i + 1,
                path.display()
            )));
        }
        classes.entry(e.class).or_default().push(ImageEntry {
            path,
            log_chi: Some(e.log_chi),
        });
    }
    let method = method.ok_or_else(|| {
        CliError::input(format!(
            "{}: the manifest lists no images",
            manifest.display()
        ))
    })?;
    Ok(ImageSet { method, classes })
}
