//! Picking a burn device by name at run time, among the backends compiled in.
//!
//! Each burn backend is a Cargo feature of this crate: `flex` (pure-Rust CPU, the default),
//! `wgpu` (Vulkan/Metal/DX12 through wgpu's WGSL path), `tch` (LibTorch, CPU and CUDA) and
//! `cuda` (burn's native CUDA backend). Asking for a device whose feature is off, or whose
//! hardware or driver is missing, is an error that says which.

use std::fmt;
use std::str::FromStr;

use burn::tensor::Device;

use crate::error::BurnModelError;

/// A burn device, as `nao --device` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BurnDevice {
    /// `cpu`: burn's pure-Rust CPU backend (feature `flex`).
    Flex,
    /// `wgpu`: the default wgpu adapter (feature `wgpu`); on machines without a GPU, the
    /// software Vulkan driver (Mesa's lavapipe) serves.
    Wgpu,
    /// `tch-cpu`: LibTorch on the CPU (feature `tch`).
    TchCpu,
    /// `tch-cuda[:N]`: LibTorch on CUDA GPU N (feature `tch`, a CUDA build of LibTorch).
    TchCuda(usize),
    /// `cuda[:N]`: burn's native CUDA backend on GPU N (feature `cuda`).
    Cuda(usize),
}

impl BurnDevice {
    /// Every device kind, for listings.
    pub const ALL: [BurnDevice; 5] = [
        BurnDevice::Flex,
        BurnDevice::Wgpu,
        BurnDevice::TchCpu,
        BurnDevice::TchCuda(0),
        BurnDevice::Cuda(0),
    ];

    /// The Cargo feature (of nao-burn and of the `nao` command) that compiles it in.
    pub fn feature(self) -> &'static str {
        match self {
            BurnDevice::Flex => "flex",
            BurnDevice::Wgpu => "wgpu",
            BurnDevice::TchCpu | BurnDevice::TchCuda(_) => "tch",
            BurnDevice::Cuda(_) => "cuda",
        }
    }

    /// Whether this build has the backend.
    pub fn is_compiled_in(self) -> bool {
        match self {
            BurnDevice::Flex => cfg!(feature = "flex"),
            BurnDevice::Wgpu => cfg!(feature = "wgpu"),
            BurnDevice::TchCpu | BurnDevice::TchCuda(_) => cfg!(feature = "tch"),
            BurnDevice::Cuda(_) => cfg!(feature = "cuda"),
        }
    }

    /// The burn device, checked to work: a wgpu adapter must be found, a CUDA device must
    /// answer a tiny computation. The same device is returned on every call.
    pub fn open(self) -> Result<Device, BurnModelError> {
        if !self.is_compiled_in() {
            return Err(BurnModelError::Device(format!(
                "device '{self}' is not compiled in: build with the Cargo feature '{}' \
                 (e.g. `cargo run --release -p nao-cli --features {}`)",
                self.feature(),
                self.feature()
            )));
        }
        open_compiled(self)
    }
}

#[allow(unreachable_code, unused_variables)]
fn open_compiled(device: BurnDevice) -> Result<Device, BurnModelError> {
    match device {
        BurnDevice::Flex => {
            #[cfg(feature = "flex")]
            return Ok(Device::flex());
        }
        BurnDevice::Wgpu => {
            #[cfg(feature = "wgpu")]
            return wgpu::device();
        }
        BurnDevice::TchCpu => {
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            // burn-tch is deprecated upstream; it is still the LibTorch route
            return probe(device, Device::libtorch());
        }
        BurnDevice::TchCuda(n) => {
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            return probe(device, Device::libtorch_cuda(n));
        }
        BurnDevice::Cuda(n) => {
            #[cfg(feature = "cuda")]
            return probe(device, Device::cuda(n));
        }
    }
    unreachable!("open() checked that {device} is compiled in")
}

/// Run a tiny computation on a fresh device: backends report a missing GPU or driver by
/// panicking on first use, which becomes an error here.
#[allow(dead_code)]
fn probe(name: BurnDevice, device: Device) -> Result<Device, BurnModelError> {
    use burn::tensor::{Tensor, TensorData};
    let d = device.clone();
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let t = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0], [2]), &d);
        t.sum().into_data().try_into_vec_as::<f32>()
    }));
    match answer {
        Ok(Ok(v)) if v == [3.0] => Ok(device),
        Ok(Ok(v)) => Err(BurnModelError::Device(format!(
            "device '{name}' computed 1 + 2 = {v:?}"
        ))),
        Ok(Err(e)) => Err(BurnModelError::Device(format!(
            "device '{name}' cannot return a result: {e:?}"
        ))),
        Err(panic) => Err(BurnModelError::Device(format!(
            "device '{name}' is not usable on this machine: {}",
            panic_message(&panic)
        ))),
    }
}

#[allow(dead_code)]
fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "the backend panicked".into())
}

#[cfg(feature = "wgpu")]
mod wgpu {
    use std::sync::OnceLock;

    use burn::tensor::Device;

    use crate::error::BurnModelError;

    /// wgpu's runtime can be initialised once per process: keep its answer.
    static DEVICE: OnceLock<Result<Device, String>> = OnceLock::new();

    pub(super) fn device() -> Result<Device, BurnModelError> {
        DEVICE
            .get_or_init(|| {
                Device::wgpu_options().init().map_err(|e| {
                    format!(
                        "no wgpu adapter: {e}. Without a GPU, install the software Vulkan \
                         driver (Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)"
                    )
                })
            })
            .clone()
            .map_err(BurnModelError::Device)
    }
}

impl fmt::Display for BurnDevice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BurnDevice::Flex => f.write_str("cpu"),
            BurnDevice::Wgpu => f.write_str("wgpu"),
            BurnDevice::TchCpu => f.write_str("tch-cpu"),
            BurnDevice::TchCuda(n) => write!(f, "tch-cuda:{n}"),
            BurnDevice::Cuda(n) => write!(f, "cuda:{n}"),
        }
    }
}

impl FromStr for BurnDevice {
    type Err = BurnModelError;

    /// `cpu` (or `flex`), `wgpu`, `tch-cpu`, `tch-cuda[:N]`, `cuda[:N]`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (name, index) = match s.split_once(':') {
            Some((n, i)) => {
                let i = i.parse::<usize>().map_err(|_| {
                    BurnModelError::Device(format!(
                        "device '{s}': '{i}' is not a device index (write e.g. cuda:0)"
                    ))
                })?;
                (n, Some(i))
            }
            None => (s, None),
        };
        let device = match name {
            "cpu" | "flex" => BurnDevice::Flex,
            "wgpu" => BurnDevice::Wgpu,
            "tch-cpu" => BurnDevice::TchCpu,
            "tch-cuda" => BurnDevice::TchCuda(index.unwrap_or(0)),
            "cuda" => BurnDevice::Cuda(index.unwrap_or(0)),
            _ => {
                return Err(BurnModelError::Device(format!(
                    "unknown burn device '{s}' (known: cpu, wgpu, tch-cpu, tch-cuda[:N], cuda[:N])"
                )))
            }
        };
        if index.is_some() && !matches!(device, BurnDevice::TchCuda(_) | BurnDevice::Cuda(_)) {
            return Err(BurnModelError::Device(format!(
                "device '{s}': only CUDA devices take an index"
            )));
        }
        Ok(device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in [
            BurnDevice::Flex,
            BurnDevice::Wgpu,
            BurnDevice::TchCpu,
            BurnDevice::TchCuda(1),
            BurnDevice::Cuda(2),
        ] {
            assert_eq!(d.to_string().parse::<BurnDevice>().unwrap(), d);
        }
        assert_eq!("cuda".parse::<BurnDevice>().unwrap(), BurnDevice::Cuda(0));
        assert_eq!("flex".parse::<BurnDevice>().unwrap(), BurnDevice::Flex);
        for bad in ["gpu", "cuda:x", "cpu:1", "wgpu:0", ""] {
            assert!(bad.parse::<BurnDevice>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_device_not_compiled_in_names_its_feature() {
        for d in BurnDevice::ALL {
            if !d.is_compiled_in() {
                let e = d.open().unwrap_err().to_string();
                assert!(e.contains(&format!("feature '{}'", d.feature())), "{e}");
            }
        }
    }

    #[cfg(feature = "flex")]
    #[test]
    fn flex_opens() {
        assert!(BurnDevice::Flex.open().is_ok());
    }
}
