//! `cargo xtask conformance`: the backend conformance suite (`crates/nao-conformance`) on the
//! chosen devices in one build: the tests, then the table of differences from the CPU
//! reference (also written to `<target>/conformance.json`); or, with `--write-reference`, a
//! new reference from the cpu device.

use std::path::Path;
use std::process::Command;

use clap::Args;
use nao_backend::Device;

use crate::devices::{self, suite_features, SUITE};
use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{have_nextest, run, run_cargo};
use crate::workspace::Workspace;
use crate::{backends, setup_libtorch};

/// Options of `cargo xtask conformance`.
#[derive(Debug, Args)]
pub struct ConformanceArgs {
    #[arg(
        long = "device",
        visible_alias = "backend",
        value_name = "DEVICE",
        value_parser = devices::parse,
        help = devices::help() + "; default: cpu, wgpu, onnx-cpu, and tch-cpu when LibTorch is provisioned"
    )]
    pub devices: Vec<Device>,
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

/// `--features` for a workspace build with `devices` (empty: the suite's default, cpu only).
pub fn features_args(devices: &[Device]) -> Vec<String> {
    let features = suite_features(devices);
    if features.is_empty() {
        Vec::new()
    } else {
        vec!["--features".to_string(), features.join(",")]
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// Run the suite's tests (the same workspace build as `ci`'s), then its table.
pub fn command(root: &Path, args: &ConformanceArgs) -> Result<()> {
    let devices = devices::chosen(&args.devices, setup_libtorch::provisioned(root).is_some());
    let env = backends::prepare(root, &devices, false)?;
    let features = features_args(&devices);
    if args.write_reference {
        let mut build = strings(&["test", "--workspace", "--no-run"]);
        build.extend(features);
        run_cargo(root, &env, &build)?;
        return report(root, &env, Report::WriteReference);
    }
    let filter = format!("package({SUITE})");
    let mut tests = if have_nextest(root) {
        strings(&["nextest", "run", "--workspace", "-E", &filter])
    } else {
        strings(&["test", "--workspace", "--test", "conformance"])
    };
    tests.extend(features);
    run_cargo(root, &env, &tests)?;
    report(root, &env, Report::Table)
}

/// Run the suite's binary that the test build made (building it apart, without the
/// dev-dependencies, would resolve other features and rebuild burn). It picks its devices
/// from `NAO_CONFORMANCE_DEVICES` in `env`.
pub fn report(root: &Path, env: &ChildEnv, what: Report) -> Result<()> {
    let target_dir = Workspace::load(root)?.target_dir;
    // the test profile builds into `debug/`
    let bin = target_dir.join("debug").join(SUITE);
    if !bin.is_file() {
        return Err(XtaskError::Check(format!(
            "{} is missing: the workspace's test build makes it (cargo test --workspace --features …)",
            bin.display()
        )));
    }
    let mut cmd = Command::new(&bin);
    match what {
        Report::WriteReference => {
            cmd.arg("--write-reference");
        }
        Report::Table => {
            cmd.arg("--json").arg(target_dir.join("conformance.json"));
        }
    }
    cmd.current_dir(root);
    env.apply(&mut cmd);
    run(
        &mut cmd,
        "the conformance table (a device outside its tolerance is marked FAIL above)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_build_gets_one_feature_per_device_family() {
        assert!(features_args(&[Device::Cpu]).is_empty());
        assert_eq!(
            features_args(&[Device::Cpu, Device::Wgpu, Device::OnnxCpu, Device::TchCpu]),
            [
                "--features",
                "nao-conformance/wgpu,nao-conformance/onnx,nao-conformance/tch"
            ]
        );
    }
}
