//! `cargo xtask inversion-table`: the measured table of `docs/inversion.md` — every inversion
//! method's round-trip error against its network calls on the embedded model and the shared
//! tiny SD fixture. The measurement is the example `examples/inversion_table.rs` (library
//! calls of `nao-inversion`); this command only builds it (dev profile) and runs it with the documented
//! arguments, writing `docs/inversion/inversion.json` and `docs/inversion/inversion.md`.

use std::path::{Path, PathBuf};
use std::process::Command;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{run, run_cargo};
use crate::workspace::Workspace;

/// Options of `cargo xtask inversion-table`.
#[derive(Debug, Args)]
pub struct InversionTableArgs {
    /// Inversion and sampling steps.
    #[arg(long, default_value_t = 50)]
    pub steps: usize,
    /// Bundled test images of the embedded model (one per class, at most 10).
    #[arg(long, default_value_t = 10)]
    pub images: usize,
    /// The shared reference folder [default: $NAO_SHARED_DIR, else ../shared beside the
    /// checkout].
    #[arg(long, value_name = "DIR")]
    pub shared: Option<PathBuf>,
    /// Where the JSON and Markdown go.
    #[arg(long, value_name = "DIR", default_value = "docs/inversion")]
    pub out: PathBuf,
}

/// Build the example and run it.
pub fn command(root: &Path, args: &InversionTableArgs) -> Result<()> {
    let shared = args
        .shared
        .clone()
        .or_else(|| std::env::var_os("NAO_SHARED_DIR").map(PathBuf::from))
        .unwrap_or_else(|| root.join("..").join("shared"));
    let sd = shared.join("fixtures/tiny-sd1/diffusers");
    if !sd.is_dir() {
        return Err(XtaskError::Check(format!(
            "{} is missing: the table measures the shared tiny SD fixture (give --shared DIR)",
            sd.display()
        )));
    }
    // the dev profile optimises every dependency (opt-level 3) and builds in a fraction of a
    // release build's time; the table takes under a minute either way
    let build = [
        "build",
        "-p",
        "nao",
        "--features",
        "full",
        "--example",
        "inversion_table",
    ];
    run_cargo(root, &ChildEnv::new(), &build)?;
    let ws = Workspace::load(root)?;
    let example = ws.target_dir.join("debug/examples/inversion_table");
    run(
        Command::new(example)
            .args(["--steps", &args.steps.to_string()])
            .args(["--images", &args.images.to_string()])
            .arg("--sd")
            .arg(&sd)
            .arg("--out")
            .arg(root.join(&args.out))
            .current_dir(root),
        "the inversion table",
    )
}
