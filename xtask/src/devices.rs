//! Which devices the conformance suite and the throughput bench run on, and how a build gets
//! them: the names, the Cargo features and their kinds come from `nao_backend::Device`, the one
//! table of devices; xtask only decides which of them a machine without a GPU tests, and
//! provisions the libraries they load ([`prepare`]).

use std::path::Path;

use nao_backend::{Device, Engine, DEVICE_NAMES};

use crate::env::ChildEnv;
use crate::error::Result;
use crate::{setup_libtorch, setup_ort};

/// The crate whose features compile devices in, and whose suite reads [`DEVICES_VAR`].
pub const SUITE: &str = "nao-conformance";

/// The variable the conformance suite (tests, bin and bench) picks its devices from.
pub const DEVICES_VAR: &str = "NAO_CONFORMANCE_DEVICES";

/// Parse a `--device` value (clap's value parser).
pub fn parse(name: &str) -> Result<Device, String> {
    name.parse::<Device>().map_err(|e| e.to_string())
}

/// The `--device` option (alias `--backend`) of the commands that run the conformance suite's
/// devices.
#[derive(Debug, Clone, clap::Args)]
pub struct DeviceArgs {
    #[arg(
        long = "device",
        visible_alias = "backend",
        value_name = "DEVICE",
        value_parser = parse,
        help = format!("A device to run on (several allowed): {DEVICE_NAMES}; default: cpu, \
                        wgpu, onnx-cpu, and tch-cpu when LibTorch is provisioned")
    )]
    pub devices: Vec<Device>,
}

impl DeviceArgs {
    /// The devices asked for ([`chosen`]), their libraries provisioned, and the environment of
    /// the children ([`prepare`]).
    pub fn prepare(&self, root: &Path) -> Result<(Vec<Device>, ChildEnv)> {
        let devices = chosen(&self.devices, setup_libtorch::provisioned(root).is_some());
        let env = prepare(root, &devices, false)?;
        Ok((devices, env))
    }
}

/// What CI tests: every device that needs no GPU (`cpu`, `wgpu` on Mesa's software Vulkan
/// driver, `onnx-cpu`), LibTorch's only when it is provisioned (a ≈ 1 GB download CI does not
/// make by itself).
pub fn default_set(libtorch_provisioned: bool) -> Vec<Device> {
    let no_gpu = Device::ALL.into_iter().filter(|d| !d.needs_gpu());
    let tch = |d: &Device| libtorch_provisioned || !needs_libtorch(*d);
    no_gpu.filter(tch).collect()
}

/// The requested devices, or [`default_set`] when none were named; repeated names count once.
pub fn chosen(requested: &[Device], libtorch_provisioned: bool) -> Vec<Device> {
    if requested.is_empty() && !libtorch_provisioned {
        eprintln!(
            "xtask: LibTorch is not provisioned (cargo xtask setup-libtorch): tch-cpu is not tested"
        );
    }
    match requested {
        [] => default_set(libtorch_provisioned),
        _ => once_each(requested.iter().copied()),
    }
}

/// `items` without repetitions, in order.
fn once_each<T: PartialEq>(items: impl IntoIterator<Item = T>) -> Vec<T> {
    let mut out = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Whether the device runs on ONNX Runtime (which needs `ORT_DYLIB_PATH`).
pub fn needs_ort(d: Device) -> bool {
    d.engine() == Engine::OnnxRuntime
}

/// Whether the device runs on LibTorch (which needs `LIBTORCH` to build).
pub fn needs_libtorch(d: Device) -> bool {
    d.feature() == "tch"
}

/// `--features` for a workspace build with `devices`: `nao-conformance/<feature>` for each
/// device's feature, once each, without `flex` (which the suite always has); nothing for the
/// cpu device alone.
pub fn features_args(devices: &[Device]) -> Vec<String> {
    let features = devices.iter().filter(|d| d.feature() != "flex");
    let features = once_each(features.map(|d| format!("{SUITE}/{}", d.feature())));
    match features.is_empty() {
        true => Vec::new(),
        false => vec!["--features".to_string(), features.join(",")],
    }
}

/// The value of [`DEVICES_VAR`]: the device names, comma-separated.
pub fn devices_value(devices: &[Device]) -> String {
    let names: Vec<String> = devices.iter().map(Device::to_string).collect();
    names.join(",")
}

/// Provision what `devices` need (ONNX Runtime for the ONNX devices, LibTorch for the tch
/// ones; `always_ort` for commands whose other tests load ONNX Runtime too) and return the
/// environment of the children: `ORT_DYLIB_PATH`, `LIBTORCH`, `LD_LIBRARY_PATH` and
/// `NAO_CONFORMANCE_DEVICES`.
pub fn prepare(root: &Path, devices: &[Device], always_ort: bool) -> Result<ChildEnv> {
    let mut env = ChildEnv::new().with(DEVICES_VAR, devices_value(devices));
    if always_ort || devices.iter().any(|d| needs_ort(*d)) {
        env = env.with(setup_ort::DYLIB_VAR, setup_ort::library_for_children(root)?);
    }
    if devices.iter().any(|d| needs_libtorch(*d)) {
        let lt = match setup_libtorch::provisioned(root) {
            Some(lt) => lt,
            None => setup_libtorch::setup_libtorch(root)?,
        };
        env = lt.child_env(env);
    }
    for line in env.describe() {
        eprintln!("{line}");
    }
    Ok(env)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ci_tests_the_devices_without_a_gpu() {
        let with_tch = [Device::Cpu, Device::Wgpu, Device::TchCpu, Device::OnnxCpu];
        assert_eq!(default_set(true), with_tch);
        assert_eq!(default_set(false), [with_tch[0], with_tch[1], with_tch[3]]);
        assert_eq!(devices_value(&default_set(false)), "cpu,wgpu,onnx-cpu");
        // the suite build gets one feature per device family
        let expected = "nao-conformance/wgpu,nao-conformance/tch,nao-conformance/onnx";
        assert_eq!(features_args(&with_tch), ["--features", expected]);
        assert!(features_args(&[Device::Cpu]).is_empty());
    }

    #[test]
    fn features_follow_the_device_table() {
        let names = "cpu,wgpu,tch-cpu,tch-cuda:1,onnx-cpu,onnx-cuda,cuda";
        let devices: Vec<Device> = names.split(',').map(|d| parse(d).unwrap()).collect();
        let features = "nao-conformance/wgpu,nao-conformance/tch,nao-conformance/onnx,\
                        nao-conformance/onnx-cuda,nao-conformance/cuda";
        assert_eq!(features_args(&devices), ["--features", features]);
        assert_eq!(devices_value(&devices), names);
        assert_eq!(devices[3], Device::TchCuda(1));
        assert!(needs_ort(Device::OnnxCuda(0)) && !needs_ort(Device::Wgpu));
        assert!(needs_libtorch(Device::TchCuda(0)) && !needs_libtorch(Device::Cuda(0)));
    }

    #[test]
    fn named_devices_replace_the_default_once_each() {
        let asked = [Device::Wgpu, Device::Wgpu, Device::Cpu];
        assert_eq!(chosen(&asked, false), [Device::Wgpu, Device::Cpu]);
        assert_eq!(chosen(&[], true), default_set(true));
        assert_eq!(parse("onnx").unwrap(), Device::OnnxCpu);
        let e = parse("gpu").unwrap_err();
        assert!(e.contains("unknown device 'gpu'"), "{e}");
        assert!(e.contains("onnx-cpu"), "{e}");
    }
}
