//! `cargo xtask bench-backends`: sampling throughput (images/s) of the embedded model on each
//! chosen device, in one criterion run of nao-conformance's `throughput` bench.

use std::path::Path;

use clap::Args;

use crate::devices::{features_args, DeviceArgs, SUITE};
use crate::error::Result;
use crate::process::run_cargo;

/// Options of `cargo xtask bench-backends`.
#[derive(Debug, Args)]
pub struct BenchBackendsArgs {
    #[command(flatten)]
    pub devices: DeviceArgs,
    /// Arguments for criterion, after `--`.
    #[arg(last = true, value_name = "CRITERION-ARGS")]
    pub criterion_args: Vec<String>,
}

/// Run the bench.
pub fn command(root: &Path, args: &BenchBackendsArgs) -> Result<()> {
    let (devices, env) = args.devices.prepare(root)?;
    let features = features_args(&devices);
    let mut cargo_args = vec!["bench", "-p", SUITE];
    cargo_args.extend(features.iter().map(String::as_str));
    cargo_args.extend(["--bench", "throughput"]);
    if !args.criterion_args.is_empty() {
        cargo_args.push("--");
        cargo_args.extend(args.criterion_args.iter().map(String::as_str));
    }
    run_cargo(root, &env, &cargo_args)
}
