//! Merging the shards: check that the dataset is complete — every (class, index) of run.json's
//! configuration has an image whose SHA-256 matches a manifest line — and write
//! `manifest.jsonl`, sorted by class (run.json's order) and index, each line exactly as its
//! shard wrote it. When images are missing, say which (and why), and write nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use nao_fs::hash::file_sha256;
use serde::Serialize;

use crate::config::read_run_file;
use crate::generate::relative_file;
use crate::manifest::{is_locked, manifest_files, read_manifest, ReadLine, MERGED};
use crate::{AugmentError, Result};

/// How many missing images an error lists before it counts the rest.
const LISTED: usize = 20;

/// A complete, merged dataset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Merged {
    /// manifest.jsonl.
    pub manifest: PathBuf,
    /// Its lines.
    pub images: usize,
    /// Classes.
    pub classes: usize,
    /// The manifests read, with their line counts.
    pub sources: Vec<(String, usize)>,
}

/// Check the dataset in `out_dir` and write its `manifest.jsonl` (see the module docs).
pub fn merge(out_dir: &Path) -> Result<Merged> {
    let run = read_run_file(out_dir)?.ok_or_else(|| {
        AugmentError::input(format!(
            "{}: no run.json here; not a nao augment output folder (or no run has started)",
            out_dir.display()
        ))
    })?;
    let config = &run.config;
    // the images were made from the recorded seeds
    for class in &config.classes {
        if crate::seeds::is_prepared(out_dir, class) {
            crate::seeds::verify_seeds(out_dir, class, run.seeds.get(class))?;
        }
    }
    let n = config.per_class;
    let class_index: HashMap<&str, usize> = config
        .classes
        .iter()
        .enumerate()
        .map(|(i, c)| (c.as_str(), i))
        .collect();

    // Lines by (class number, index).
    let mut lines: HashMap<(usize, usize), Vec<ReadLine>> = HashMap::new();
    let mut sources = Vec::new();
    for (path, shard) in manifest_files(out_dir)? {
        if let Some(s) = shard {
            if is_locked(&path)? {
                return Err(AugmentError::input(format!(
                    "shard {} is still running ({} is locked by its process); merge once every \
                     shard has finished",
                    s.label(),
                    path.display()
                )));
            }
        }
        let content = read_manifest(&path)?;
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        sources.push((name, content.lines.len()));
        for l in content.lines {
            match class_index.get(l.line.class.as_str()).copied() {
                Some(c) if l.line.index < n => lines.entry((c, l.line.index)).or_default().push(l),
                _ => {
                    return Err(AugmentError::input(format!(
                        "{}: a line for class '{}' index {}, which run.json's configuration \
                         does not have ({} classes × {n} images); the folder mixes datasets",
                        path.display(),
                        l.line.class,
                        l.line.index,
                        config.classes.len()
                    )))
                }
            }
        }
    }

    // The manifest is streamed into its staged file while every image is checked; when one is
    // missing, the staged file is dropped and nothing is written.
    let manifest = out_dir.join(MERGED);
    let mut out = nao_fs::Outputs::new();
    out.claim_file(&manifest, "manifest.jsonl")?;
    let mut images = 0usize;
    let mut missing: Vec<String> = Vec::new();
    let mut missing_count = 0usize;
    let staged = out.write_with(&manifest, |w| -> Result<()> {
        let write = |w: &mut dyn std::io::Write, text: &str| {
            w.write_all(text.as_bytes())
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| {
                    AugmentError::input(format!("{}: cannot write it: {e}", manifest.display()))
                })
        };
        for (c, class) in config.classes.iter().enumerate() {
            for i in 0..n {
                let file = relative_file(class, i, n);
                let candidates = lines.remove(&(c, i)).unwrap_or_default();
                let path = out_dir.join(&file);
                let problem = if candidates.is_empty() {
                    Some("no manifest line".to_string())
                } else if !path.is_file() {
                    Some(match nao_fs::input::describe_non_file(&path) {
                        "does not exist" => "its manifest line is there, the file is not".into(),
                        other => format!("its manifest line is there, but the file {other}"),
                    })
                } else {
                    let actual = file_sha256(&path)?;
                    // Several lines for one image (a re-run, a shard of another split, an
                    // earlier merge) agree once the file matches; the smallest text is kept, so
                    // the result does not depend on which manifest was read first.
                    match candidates
                        .into_iter()
                        .filter(|l| l.line.sha256 == actual && l.line.file == file)
                        .map(|l| l.text)
                        .min()
                    {
                        Some(text) => {
                            write(w, &text)?;
                            images += 1;
                            None
                        }
                        None => Some("the file's SHA-256 matches no manifest line".to_string()),
                    }
                };
                if let Some(p) = problem {
                    missing_count += 1;
                    if missing.len() < LISTED {
                        missing.push(format!("{file}: {p}"));
                    }
                }
            }
        }
        Ok(())
    });
    staged?;
    if missing_count > 0 {
        let mut message = format!(
            "{}: incomplete: {missing_count} of {} images are missing; nothing written. Run the \
             shards that made them again (each skips what it has done), then merge.\n  {}",
            out_dir.display(),
            config.classes.len() * n,
            missing.join("\n  ")
        );
        if missing_count > missing.len() {
            message += &format!("\n  … and {} more", missing_count - missing.len());
        }
        return Err(AugmentError::input(message));
    }
    out.commit()?;
    Ok(Merged {
        manifest,
        images,
        classes: config.classes.len(),
        sources,
    })
}
