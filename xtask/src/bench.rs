//! `cargo xtask bench [NAME] [-- CRITERION-ARGS]`: `cargo bench --bench NAME` for the named
//! bench of `benches/`, or for each of them.

use std::path::Path;
use std::time::Instant;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{fmt_duration, run_cargo};
use crate::setup_ort;

/// Options of `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// The bench to run (a file of `benches/` without `.rs`); all of them when left out.
    pub name: Option<String>,
    /// Arguments for criterion, after `--` (e.g. `-- --save-baseline main`).
    #[arg(last = true, value_name = "CRITERION-ARGS")]
    pub criterion_args: Vec<String>,
}

/// The bench that needs ONNX Runtime at run time.
const ONNX_BENCH: &str = "onnx_overhead";

/// Bench targets: the `.rs` files directly in `benches/`, sorted.
fn bench_names(root: &Path) -> Result<Vec<String>> {
    let dir = root.join("benches");
    let entries = std::fs::read_dir(&dir).map_err(|e| XtaskError::io(&dir, e))?;
    let files = entries.flatten().map(|e| e.path());
    let rust = files.filter(|p| p.extension().is_some_and(|x| x == "rs"));
    let stems = rust.filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    let mut names: Vec<String> = stems.collect();
    names.sort();
    Ok(names)
}

/// Run the named bench (cargo names the benches there are when it is not one), or each bench
/// one after the other.
pub fn command(root: &Path, args: &BenchArgs) -> Result<()> {
    let selected = match &args.name {
        Some(name) => vec![name.clone()],
        None => bench_names(root)?,
    };
    let mut env = ChildEnv::new();
    if selected.iter().any(|n| n == ONNX_BENCH) {
        env = env.with(setup_ort::DYLIB_VAR, setup_ort::library_for_children(root)?);
    }
    for name in &selected {
        let mut cargo_args = vec!["bench", "--bench", name.as_str()];
        if !args.criterion_args.is_empty() {
            cargo_args.push("--");
            cargo_args.extend(args.criterion_args.iter().map(String::as_str));
        }
        let start = Instant::now();
        run_cargo(root, &env, &cargo_args)?;
        eprintln!("<== bench {name} ok ({})", fmt_duration(start.elapsed()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::root;

    #[test]
    fn the_workspace_has_benches() {
        let names = bench_names(&root()).unwrap();
        assert!(names.iter().any(|n| n == "geometry"), "{names:?}");
    }
}
