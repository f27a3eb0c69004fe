//! The devices under test and their tolerances.

use nao_backend::{Backend, Device};
use nao_models::is_compiled_in;

use crate::checks::Check;
use crate::{ConformanceError, Model};

/// The environment variable that picks the devices to test: comma-separated `--device` names
/// (`cpu,wgpu,onnx-cpu`); `cargo xtask conformance` and `cargo xtask ci` set it.
pub const DEVICES_VAR: &str = "NAO_CONFORMANCE_DEVICES";

/// The devices to test: those named by [`DEVICES_VAR`], each of which must be compiled in, or
/// else every compiled-in device, but for GPU devices whose feature also compiles a CPU device
/// (`tch-cuda` beside `tch-cpu`: building with `tch` does not mean a GPU is there; building with
/// `cuda` or `onnx-cuda` does).
///
/// ```
/// let devices = nao_conformance::devices_under_test().unwrap();
/// assert!(devices.contains(&nao_backend::Device::Cpu));
/// ```
pub fn devices_under_test() -> Result<Vec<Device>, ConformanceError> {
    let named = std::env::var(DEVICES_VAR).unwrap_or_default();
    parse_devices(&named)
}

/// [`devices_under_test`] for the value of [`DEVICES_VAR`].
pub fn parse_devices(named: &str) -> Result<Vec<Device>, ConformanceError> {
    if named.trim().is_empty() {
        let shares_a_cpu_feature = |d: &Device| {
            Device::ALL
                .iter()
                .any(|o| !o.needs_gpu() && o.feature() == d.feature())
        };
        return Ok(nao_models::compiled_devices()
            .into_iter()
            .filter(|d| !(d.needs_gpu() && shares_a_cpu_feature(d)))
            .collect());
    }
    let mut devices = Vec::new();
    for name in named.split(',').filter(|n| !n.trim().is_empty()) {
        let device: Device = name.parse().map_err(|e| ConformanceError::Backend {
            target: name.trim().to_string(),
            message: format!("{DEVICES_VAR}: {e}"),
        })?;
        if !is_compiled_in(device) {
            return Err(ConformanceError::Backend {
                target: device.to_string(),
                message: format!(
                    "not compiled in: enable the feature '{}' of nao-conformance",
                    device.feature()
                ),
            });
        }
        if !devices.contains(&device) {
            devices.push(device);
        }
    }
    Ok(devices)
}

/// The embedded model on `device` ([`Model::open`] opens the others). A device that is not
/// compiled in, or whose hardware or library is missing, is an error saying so (never a
/// silent fallback).
pub fn open(device: Device) -> Result<Box<dyn Backend>, ConformanceError> {
    Model::Embedded.open(device)
}

/// The largest difference from the reference a check's outputs may show on a device,
/// compared with [`Diff::scaled`](crate::Diff::scaled) (absolute for unit-scale outputs).
///
/// CPU-class devices in fp32 (cpu, wgpu, tch-cpu, onnx-cpu) differ from the reference only by
/// summation order: measured at most 1.1e-6 (forward), 2.2e-5 (the DDIM step's x̂₀, which
/// amplifies ε's rounding by √((1−ᾱ)/ᾱ) ≈ 14 at t = 901), 4.9e-6 (10-step sampling) and
/// 2.2e-6 (10-step inversion) on the machine of docs/backends.md; the tolerances are about
/// 10× those, so another CPU's SIMD path or a GPU's fp32 kernels pass while a wrong kernel
/// (1e-3 and more) does not. CUDA devices may use TF32 convolutions (cuDNN's default): 100×
/// more room, not yet measured on a GPU.
pub fn tolerance(device: Device, check: Check) -> f32 {
    let cpu_class = match check {
        Check::Forward => 1e-5,
        Check::DdimStep => 2e-4,
        Check::Sampling => 5e-5,
        Check::Inversion => 2e-5,
        // placeholders until measured
        Check::SdText | Check::SdUnet | Check::SdVae => 1e-4,
        Check::SdSampling | Check::SdInversion => 1e-4,
    };
    if device.needs_gpu() {
        100.0 * cpu_class
    } else {
        cpu_class
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_are_read_from_the_variable() {
        assert_eq!(parse_devices("cpu, cpu").unwrap(), [Device::Cpu]);
        let default = parse_devices("").unwrap();
        assert!(default.contains(&Device::Cpu));
        assert!(!default.contains(&Device::TchCuda(0)));
        for d in default {
            assert!(is_compiled_in(d));
        }
        let e = parse_devices("cpu,gpu").unwrap_err().to_string();
        assert!(e.contains(DEVICES_VAR) && e.contains("known"), "{e}");
        for d in Device::ALL {
            if !is_compiled_in(d) {
                let e = parse_devices(&d.to_string()).unwrap_err().to_string();
                assert!(e.contains(d.feature()), "{e}");
            }
        }
    }
}
