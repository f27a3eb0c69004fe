//! `cargo xtask setup`: everything `ci` provisions, alone: the system packages
//! ([`crate::system`]), ONNX Runtime (`setup-ort`) and, with `--all-backends`, LibTorch
//! (`setup-libtorch`).

use std::path::Path;

use clap::Args;

use crate::error::Result;
use crate::system::{ensure, HostProbe};
use crate::{setup_libtorch, setup_ort};

/// Options of `cargo xtask setup`.
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// Say what would be installed or downloaded, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Provision LibTorch too (≈ 1 GB), for the tch-cpu device.
    #[arg(long)]
    pub all_backends: bool,
}

/// Provision the system packages, ONNX Runtime and (with `all_backends`) LibTorch.
pub fn provision(root: &Path, args: &SetupArgs) -> Result<()> {
    eprintln!("-- system packages");
    ensure(&HostProbe, args.dry_run)?;
    eprintln!("-- ONNX Runtime");
    if args.dry_run {
        match setup_ort::provisioned(root) {
            Some(lib) => eprintln!("ONNX Runtime: {} is there", lib.display()),
            None => {
                let (version, dir) = (setup_ort::ort_version()?, setup_ort::cache_dir(root));
                let dir = dir.display();
                eprintln!("ONNX Runtime: would install the onnxruntime {version} wheel into {dir}");
            }
        }
    } else {
        setup_ort::setup_ort(root)?;
    }
    if args.all_backends {
        eprintln!("-- LibTorch");
        match (setup_libtorch::provisioned(root), args.dry_run) {
            (Some(lt), _) => eprintln!("LibTorch: {} is there", lt.shim.display()),
            (None, true) => eprintln!("LibTorch: would install it with pip (≈ 1 GB)"),
            (None, false) => {
                setup_libtorch::setup_libtorch(root)?;
            }
        }
    }
    Ok(())
}
