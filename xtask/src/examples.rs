//! `cargo xtask examples`: run every example of `examples/` on the embedded model, each with
//! its default arguments and its own empty temporary folder (`TMPDIR`, where the examples
//! write), so that CI checks they run, not only that they build.
//!
//! CI passes the binaries the test step built (`target/debug/examples/`, with the `full`
//! feature); alone, the command builds them in release mode first.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{fmt_duration, run, run_cargo};
use crate::workspace::Workspace;

/// Options of `cargo xtask examples`.
#[derive(Debug, Default, Args)]
pub struct ExamplesArgs {
    /// The folder of built examples [default: build them in release mode, into
    /// target/release/examples].
    #[arg(long, value_name = "DIR")]
    pub built: Option<PathBuf>,
}

/// Run every example.
pub fn command(root: &Path, args: &ExamplesArgs) -> Result<()> {
    let ws = Workspace::load(root)?;
    let names: Vec<String> = ws
        .members
        .iter()
        .filter(|p| p.name == "nao")
        .flat_map(|p| &p.targets)
        .filter(|t| t.is_example())
        .map(|t| t.name.clone())
        .collect();
    if names.is_empty() {
        return Err(XtaskError::Check("the nao package has no examples".into()));
    }
    let dir = match &args.built {
        Some(dir) => dir.clone(),
        None => {
            let build = [
                "build",
                "--release",
                "-p",
                "nao",
                "--features",
                "full",
                "--examples",
            ];
            run_cargo(root, &ChildEnv::new(), &build)?;
            ws.target_dir.join("release").join("examples")
        }
    };
    for name in &names {
        let tmp = ws.target_dir.join("examples-run").join(name);
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|source| XtaskError::Io {
            path: tmp.clone(),
            source,
        })?;
        let start = Instant::now();
        run(
            Command::new(dir.join(name))
                .env("TMPDIR", &tmp)
                .current_dir(root),
            &format!("the example {name}"),
        )?;
        eprintln!("example {name}: ok ({})", fmt_duration(start.elapsed()));
    }
    Ok(())
}
