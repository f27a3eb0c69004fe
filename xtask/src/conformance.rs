//! `cargo xtask conformance`: the backend conformance suite (`crates/nao-conformance`) on the
//! chosen devices in one build: the tests, then the table of differences from the CPU
//! reference (also written to `<target>/conformance.json`); or, with `--write-reference`, a
//! new reference from the cpu device.

use std::path::Path;
use std::process::Command;

use clap::Args;

use crate::devices::{features_args, DeviceArgs, SUITE};
use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{have_nextest, run, run_cargo};
use crate::workspace::Workspace;

/// Options of `cargo xtask conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    #[command(flatten)]
    pub devices: DeviceArgs,
    /// Rewrite the committed reference with the cpu device instead of testing.
    #[arg(long)]
    pub write_reference: bool,
}

/// What to ask the suite's binary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The table of differences, and its JSON.
    Table,
    /// A new reference, from the cpu device.
    WriteReference,
}

/// Run the suite's tests (the same workspace build as `ci`'s), then its table.
pub fn command(root: &Path, args: &ConformanceArgs) -> Result<()> {
    let (devices, env) = args.devices.prepare(root)?;
    let filter = format!("package({SUITE})");
    let cargo_args: &[&str] = if args.write_reference {
        &["test", "--workspace", "--no-run"]
    } else if have_nextest(root) {
        &["nextest", "run", "--workspace", "-E", &filter]
    } else {
        &["test", "--workspace", "--test", "conformance"]
    };
    let features = features_args(&devices);
    let features = features.iter().map(String::as_str);
    let cargo_args = cargo_args.iter().copied().chain(features);
    run_cargo(root, &env, &cargo_args.collect::<Vec<_>>())?;
    let what = match args.write_reference {
        true => Report::WriteReference,
        false => Report::Table,
    };
    report(root, &env, what)
}

/// Run the suite's binary that the test build made (building it apart, without the
/// dev-dependencies, would resolve other features and rebuild burn). It picks its devices
/// from `NAO_CONFORMANCE_DEVICES` in `env`.
pub fn report(root: &Path, env: &ChildEnv, what: Report) -> Result<()> {
    let target_dir = Workspace::load(root)?.target_dir;
    // the test profile builds into `debug/`
    let bin = target_dir.join("debug").join(SUITE);
    if !bin.is_file() {
        let build = "the workspace's test build makes it (cargo test --workspace --features …)";
        let message = format!("{} is missing: {build}", bin.display());
        return Err(XtaskError::Check(message));
    }
    let mut cmd = Command::new(&bin);
    match what {
        Report::WriteReference => cmd.arg("--write-reference"),
        Report::Table => cmd.arg("--json").arg(target_dir.join("conformance.json")),
    };
    env.apply(cmd.current_dir(root));
    let what = "the conformance table (a device outside its tolerance is marked FAIL above)";
    run(&mut cmd, what)
}
