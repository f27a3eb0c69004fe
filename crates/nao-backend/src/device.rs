//! Where a model runs ([`Device`]) and in which floating-point precision ([`Precision`]): the
//! one table of device names that the command line, the conformance suite, the benches and
//! `cargo xtask` share.
//!
//! Which devices a program can open depends on the Cargo features it was built with; the crate
//! that opens models (`nao-models`) answers that. This table only names them.

use std::fmt;
use std::str::FromStr;

use crate::BackendError;

/// The engine that executes a model on a [`Device`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Engine {
    /// burn: the embedded model and Stable Diffusion diffusers folders.
    Burn,
    /// ONNX Runtime: ONNX exports.
    OnnxRuntime,
}

/// A device, as `nao --device` names it.
///
/// ```
/// use nao_backend::{Device, Engine};
///
/// let d: Device = "tch-cuda:1".parse().unwrap();
/// assert_eq!(d, Device::TchCuda(1));
/// assert_eq!(d.to_string(), "tch-cuda:1");
/// assert_eq!(d.feature(), "tch");
/// assert_eq!("onnx-cpu".parse::<Device>().unwrap().engine(), Engine::OnnxRuntime);
/// assert!("gpu".parse::<Device>().unwrap_err().to_string().contains("onnx-cpu"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Device {
    /// `cpu`: burn's pure-Rust CPU backend (feature `flex`).
    #[default]
    Cpu,
    /// `wgpu`: burn on the default wgpu adapter, WGSL shaders (feature `wgpu`); without a GPU,
    /// Mesa's software Vulkan driver (lavapipe) serves.
    Wgpu,
    /// `tch-cpu`: burn on LibTorch, CPU (feature `tch`).
    TchCpu,
    /// `tch-cuda[:N]`: burn on LibTorch, CUDA GPU N (feature `tch`, a CUDA build of LibTorch).
    TchCuda(usize),
    /// `cuda[:N]`: burn's native CUDA backend on GPU N (feature `cuda`).
    Cuda(usize),
    /// `onnx-cpu`: ONNX Runtime's CPU execution provider (feature `onnx`).
    OnnxCpu,
    /// `onnx-cuda[:N]`: ONNX Runtime's CUDA execution provider on GPU N (feature `onnx-cuda`).
    OnnxCuda(usize),
}

/// The device names `--device` takes, for help texts and errors.
pub const DEVICE_NAMES: &str =
    "cpu, wgpu, tch-cpu, tch-cuda[:N], cuda[:N], onnx-cpu, onnx-cuda[:N]";

impl Device {
    /// Every kind of device (GPU index 0 where there is one), in the order listings show them.
    pub const ALL: [Device; 7] = [
        Device::Cpu,
        Device::Wgpu,
        Device::TchCpu,
        Device::TchCuda(0),
        Device::Cuda(0),
        Device::OnnxCpu,
        Device::OnnxCuda(0),
    ];

    /// The Cargo feature that compiles the device in; the crates that open models (and the
    /// `nao` command) all name their backend features this way.
    pub fn feature(self) -> &'static str {
        match self {
            Device::Cpu => "flex",
            Device::Wgpu => "wgpu",
            Device::TchCpu | Device::TchCuda(_) => "tch",
            Device::Cuda(_) => "cuda",
            Device::OnnxCpu => "onnx",
            Device::OnnxCuda(_) => "onnx-cuda",
        }
    }

    /// The engine that runs models on it.
    pub fn engine(self) -> Engine {
        match self {
            Device::OnnxCpu | Device::OnnxCuda(_) => Engine::OnnxRuntime,
            _ => Engine::Burn,
        }
    }

    /// The CUDA GPU index, for CUDA devices.
    pub fn gpu(self) -> Option<usize> {
        match self {
            Device::TchCuda(n) | Device::Cuda(n) | Device::OnnxCuda(n) => Some(n),
            _ => None,
        }
    }

    /// Whether the device needs an NVIDIA GPU (a machine without one cannot open it).
    pub fn needs_gpu(self) -> bool {
        self.gpu().is_some()
    }

    /// The device's name without its GPU index (`tch-cuda`, `onnx-cpu`, …).
    pub fn kind_name(self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Wgpu => "wgpu",
            Device::TchCpu => "tch-cpu",
            Device::TchCuda(_) => "tch-cuda",
            Device::Cuda(_) => "cuda",
            Device::OnnxCpu => "onnx-cpu",
            Device::OnnxCuda(_) => "onnx-cuda",
        }
    }

    /// The same kind of device on another GPU (unchanged for devices without one).
    pub fn with_gpu(self, n: usize) -> Device {
        match self {
            Device::TchCuda(_) => Device::TchCuda(n),
            Device::Cuda(_) => Device::Cuda(n),
            Device::OnnxCuda(_) => Device::OnnxCuda(n),
            other => other,
        }
    }
}

impl fmt::Display for Device {
    /// The kind's name, with `:N` for a GPU other than 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.gpu() {
            Some(n) if n != 0 => write!(f, "{}:{n}", self.kind_name()),
            _ => f.write_str(self.kind_name()),
        }
    }
}

impl FromStr for Device {
    type Err = BackendError;

    /// A name of [`DEVICE_NAMES`] (case and surrounding space ignored; `flex` is `cpu`,
    /// `onnx` is `onnx-cpu`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let text = s.trim().to_ascii_lowercase();
        let unknown =
            || BackendError::Device(format!("unknown device '{s}' (known: {DEVICE_NAMES})"));
        let (name, index) = match text.split_once(':') {
            Some((name, i)) => {
                let n = i.parse::<usize>().map_err(|_| {
                    BackendError::Device(format!(
                        "device '{s}': '{i}' is not a GPU index (write e.g. {name}:0)"
                    ))
                })?;
                (name, Some(n))
            }
            None => (text.as_str(), None),
        };
        let kind = match name {
            "cpu" | "flex" => Device::Cpu,
            "wgpu" => Device::Wgpu,
            "tch-cpu" => Device::TchCpu,
            "tch-cuda" => Device::TchCuda(0),
            "cuda" => Device::Cuda(0),
            "onnx-cpu" | "onnx" => Device::OnnxCpu,
            "onnx-cuda" => Device::OnnxCuda(0),
            _ => return Err(unknown()),
        };
        match index {
            None => Ok(kind),
            Some(n) if kind.needs_gpu() => Ok(kind.with_gpu(n)),
            Some(_) => Err(BackendError::Device(format!(
                "device '{s}': only CUDA devices take a GPU index"
            ))),
        }
    }
}

/// The floating-point precision a model computes in (`--dtype`).
///
/// ```
/// use nao_backend::Precision;
/// assert_eq!("bf16".parse::<Precision>().unwrap(), Precision::Bf16);
/// assert_eq!(Precision::default().to_string(), "f32");
/// assert_eq!(Precision::F16.bytes(), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Precision {
    /// 32-bit IEEE floats (the default everywhere).
    #[default]
    F32,
    /// 16-bit IEEE floats.
    F16,
    /// bfloat16.
    Bf16,
}

impl Precision {
    /// Every precision.
    pub const ALL: [Precision; 3] = [Precision::F32, Precision::F16, Precision::Bf16];

    /// Bytes per value.
    pub fn bytes(self) -> usize {
        match self {
            Precision::F32 => 4,
            Precision::F16 | Precision::Bf16 => 2,
        }
    }

    /// The name `--dtype` takes.
    pub fn name(self) -> &'static str {
        match self {
            Precision::F32 => "f32",
            Precision::F16 => "f16",
            Precision::Bf16 => "bf16",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Precision {
    type Err = BackendError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "f32" | "float32" | "fp32" => Ok(Precision::F32),
            "f16" | "float16" | "fp16" | "half" => Ok(Precision::F16),
            "bf16" | "bfloat16" => Ok(Precision::Bf16),
            _ => Err(BackendError::Device(format!(
                "unknown precision '{s}' (known: f32, f16, bf16)"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for d in Device::ALL.into_iter().chain([
            Device::TchCuda(3),
            Device::Cuda(1),
            Device::OnnxCuda(2),
        ]) {
            assert_eq!(d.to_string().parse::<Device>().unwrap(), d, "{d}");
        }
        assert_eq!("cuda:0".parse::<Device>().unwrap().to_string(), "cuda");
        assert_eq!(
            " ONNX-CUDA:3 ".parse::<Device>().unwrap(),
            Device::OnnxCuda(3)
        );
        assert_eq!("flex".parse::<Device>().unwrap(), Device::Cpu);
        for p in Precision::ALL {
            assert_eq!(p.to_string().parse::<Precision>().unwrap(), p);
        }
    }

    #[test]
    fn bad_names_say_what_is_known() {
        for bad in ["gpu", "", "metal", "onnx-cudax", "tch"] {
            let e = bad.parse::<Device>().unwrap_err().to_string();
            assert!(e.contains("known: cpu, wgpu"), "{bad}: {e}");
        }
        for bad in ["cuda:x", "cuda:-1", "onnx-cuda:1.5"] {
            let e = bad.parse::<Device>().unwrap_err().to_string();
            assert!(e.contains("not a GPU index"), "{bad}: {e}");
        }
        for bad in ["cpu:1", "wgpu:0", "onnx-cpu:2"] {
            let e = bad.parse::<Device>().unwrap_err().to_string();
            assert!(e.contains("only CUDA devices"), "{bad}: {e}");
        }
        assert!("f64".parse::<Precision>().is_err());
    }

    #[test]
    fn every_device_has_a_feature_and_engine() {
        for d in Device::ALL {
            assert!(!d.feature().is_empty());
            assert_eq!(
                d.engine() == Engine::OnnxRuntime,
                d.feature().starts_with("onnx")
            );
        }
    }
}
