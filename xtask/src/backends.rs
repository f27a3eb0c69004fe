//! The libraries the chosen devices need, provisioned once per command, and the
//! [`ChildEnv`] that points the builds and tests at them.

use std::path::Path;

use nao_backend::Device;

use crate::devices::{devices_value, needs_libtorch, needs_ort, DEVICES_VAR};
use crate::env::ChildEnv;
use crate::error::Result;
use crate::{setup_libtorch, setup_ort};

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
