//! `cargo xtask train [ARGS]`: train the embedded Fashion-MNIST model and write its weights,
//! card, report, loss curves and bundled test images into the crate.

use std::path::Path;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::Result;
use crate::process::run_cargo;

/// Options of `cargo xtask train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Arguments for nao-train (--seed S, --steps-scale F, --out DIR, --images DIR, --data DIR;
    /// the data defaults to $NAO_FASHION_MNIST_DIR, else Debian's dataset-fashion-mnist).
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ARGS"
    )]
    pub args: Vec<String>,
}

/// The trainer in release mode; without the default `embedded` feature, whose
/// `include_bytes!` needs the weights this command writes.
pub fn command(root: &Path, args: &TrainArgs) -> Result<()> {
    // the trainer is nao-train of nao-burn-train
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "nao-burn-train",
        "--no-default-features",
    ];
    cargo_args.extend(["--bin", "nao-train", "--"]);
    cargo_args.extend(args.args.iter().map(String::as_str));
    run_cargo(root, &ChildEnv::new(), &cargo_args)
}
