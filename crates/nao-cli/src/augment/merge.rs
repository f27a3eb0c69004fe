//! `nao augment merge OUT_DIR`: check that the dataset is complete — every (class, index) of
//! run.json's configuration has an image whose SHA-256 matches a manifest line — and write
//! `manifest.jsonl`, sorted by class (run.json's order) and index, each line exactly as its
//! shard wrote it. When images are missing, say which (and why), and write nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use clap::Args;
use serde::Serialize;

use super::config::read_run_file;
use super::generate::relative_file;
use super::hashing::file_sha256;
use super::manifest::{is_locked, manifest_files, read_file, ReadLine, MERGED};
use crate::error::CliError;
use crate::output::emit;

/// Arguments of `nao augment merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// The output folder the shards wrote into.
    #[arg(value_name = "OUT_DIR")]
    out_dir: PathBuf,
}

/// How many missing images an error lists before it counts the rest.
const LISTED: usize = 20;

/// A complete, merged dataset.
#[derive(Debug, Serialize)]
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

/// Run `nao augment merge`.
pub fn command(args: &MergeArgs, json: bool) -> Result<(), CliError> {
    let m = merge(&args.out_dir)?;
    emit(json, &m, || {
        format!(
            "complete: {} images of {} classes, every hash checked; wrote {} (from {})",
            m.images,
            m.classes,
            m.manifest.display(),
            m.sources
                .iter()
                .map(|(f, n)| format!("{f}: {n} lines"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

/// Check OUT_DIR's dataset and write its manifest.jsonl.
pub fn merge(out_dir: &Path) -> Result<Merged, CliError> {
    let run = read_run_file(out_dir)?.ok_or_else(|| {
        CliError::input(format!(
            "{}: no run.json here; not a nao augment output folder (or no run has started)",
            out_dir.display()
        ))
    })?;
    let config = &run.config;
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
                return Err(CliError::input(format!(
                    "shard {} is still running ({} is locked by its process); merge once every \
                     shard has finished",
                    s.label(),
                    path.display()
                )));
            }
        }
        let content = read_file(&path)?;
        let name = path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        sources.push((name.clone(), content.lines.len()));
        for l in content.lines {
            let c = class_index.get(l.line.class.as_str()).copied();
            match c {
                Some(c) if l.line.index < n => lines.entry((c, l.line.index)).or_default().push(l),
                _ => {
                    return Err(CliError::input(format!(
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

    let mut merged = Vec::with_capacity(config.classes.len() * n);
    let mut missing: Vec<String> = Vec::new();
    for (c, class) in config.classes.iter().enumerate() {
        for i in 0..n {
            let file = relative_file(class, i, n);
            let candidates = lines.remove(&(c, i)).unwrap_or_default();
            let path = out_dir.join(&file);
            let problem = if candidates.is_empty() {
                Some("no manifest line")
            } else if !path.is_file() {
                Some("its manifest line is there, the file is not")
            } else {
                let actual = file_sha256(&path)?;
                // Several lines for one image (a re-run, a shard of another split, an earlier
                // merge) agree once the file matches; the smallest text is kept, so the result
                // does not depend on which manifest was read first.
                match candidates
                    .into_iter()
                    .filter(|l| l.line.sha256 == actual && l.line.file == file)
                    .map(|l| l.text)
                    .min()
                {
                    Some(text) => {
                        merged.push(text);
                        None
                    }
                    None => Some("the file's SHA-256 matches no manifest line"),
                }
            };
            if let Some(p) = problem {
                missing.push(format!("{file}: {p}"));
            }
        }
    }
    if !missing.is_empty() {
        let shown = missing.len().min(LISTED);
        let mut message = format!(
            "{}: incomplete: {} of {} images are missing; nothing written. Run the shards \
             that made them again (each skips what it has done), then merge.\n  {}",
            out_dir.display(),
            missing.len(),
            config.classes.len() * n,
            missing[..shown].join("\n  ")
        );
        if missing.len() > shown {
            message += &format!("\n  … and {} more", missing.len() - shown);
        }
        return Err(CliError::input(message));
    }
    let mut text = merged.join("\n");
    text.push('\n');
    let manifest = out_dir.join(MERGED);
    nao_fs::write_file(&manifest, "manifest.jsonl", text.as_bytes())?;
    Ok(Merged {
        manifest,
        images: merged.len(),
        classes: config.classes.len(),
        sources,
    })
}
