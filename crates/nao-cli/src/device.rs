//! `--device`: where the model runs, among the backends compiled into this `nao`.

use std::fmt;
use std::str::FromStr;

use nao_backend::Backend;
use nao_burn::{BurnDevice, BurnModel};
use nao_onnx::{ExecutionProvider, OnnxOptions};

use crate::error::CliError;

/// A device named by `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceArg {
    /// A burn backend: `cpu`, `wgpu`, `tch-cpu`, `tch-cuda[:N]`, `cuda[:N]`.
    Burn(BurnDevice),
    /// ONNX Runtime: `onnx-cpu`, or `onnx-cuda[:N]` (its CUDA execution provider).
    Onnx {
        /// The CUDA GPU, for `onnx-cuda`.
        cuda: Option<i32>,
    },
}

/// The names `--device` takes, for help and errors.
pub const DEVICE_NAMES: &str =
    "cpu, wgpu, tch-cpu, tch-cuda[:N], cuda[:N], onnx-cpu, onnx-cuda[:N]";

impl Default for DeviceArg {
    fn default() -> Self {
        DeviceArg::Burn(BurnDevice::Flex)
    }
}

impl FromStr for DeviceArg {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        if s == "onnx-cpu" || s == "onnx" {
            return Ok(DeviceArg::Onnx { cuda: None });
        }
        if let Some(rest) = s.strip_prefix("onnx-cuda") {
            let id = match rest.strip_prefix(':') {
                None if rest.is_empty() => 0,
                Some(n) => n
                    .parse::<i32>()
                    .ok()
                    .filter(|&n| n >= 0)
                    .ok_or_else(|| format!("'{s}': '{n}' is not a GPU index"))?,
                None => return Err(format!("unknown device '{s}' (known: {DEVICE_NAMES})")),
            };
            return Ok(DeviceArg::Onnx { cuda: Some(id) });
        }
        s.parse::<BurnDevice>()
            .map(DeviceArg::Burn)
            .map_err(|_| format!("unknown device '{s}' (known: {DEVICE_NAMES})"))
    }
}

impl fmt::Display for DeviceArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DeviceArg::Burn(d) => d.fmt(f),
            DeviceArg::Onnx { cuda: None } => f.write_str("onnx-cpu"),
            DeviceArg::Onnx { cuda: Some(n) } => write!(f, "onnx-cuda:{n}"),
        }
    }
}

impl DeviceArg {
    /// The Cargo feature of nao-cli that compiles the device in.
    pub fn feature(self) -> &'static str {
        match self {
            DeviceArg::Burn(d) => d.feature(),
            DeviceArg::Onnx { cuda: None } => "onnx",
            DeviceArg::Onnx { cuda: Some(_) } => "onnx-cuda",
        }
    }

    /// Whether this build has the device.
    pub fn is_compiled_in(self) -> bool {
        match self {
            DeviceArg::Burn(d) => d.is_compiled_in(),
            DeviceArg::Onnx { cuda: None } => cfg!(feature = "onnx"),
            DeviceArg::Onnx { cuda: Some(_) } => {
                cfg!(feature = "onnx") && ExecutionProvider::Cuda { device_id: 0 }.is_compiled_in()
            }
        }
    }

    /// An error when this build lacks the device, naming the feature to enable.
    pub fn check_compiled(self) -> Result<(), CliError> {
        if self.is_compiled_in() {
            Ok(())
        } else {
            Err(CliError::input(format!(
                "--device {self}: not compiled into this nao; rebuild with the Cargo feature \
                 '{}' (cargo build --release -p nao-cli --features {})",
                self.feature(),
                self.feature()
            )))
        }
    }

    /// The ONNX Runtime provider of an `onnx-*` device.
    pub fn provider(self) -> Option<ExecutionProvider> {
        match self {
            DeviceArg::Onnx { cuda: None } => Some(ExecutionProvider::Cpu),
            DeviceArg::Onnx { cuda: Some(id) } => Some(ExecutionProvider::Cuda { device_id: id }),
            DeviceArg::Burn(_) => None,
        }
    }

    /// The burn device of a burn `--device`, opened (a missing adapter or GPU is an error).
    pub fn open_burn(self) -> Result<Option<nao_burn::Device>, CliError> {
        match self {
            DeviceArg::Burn(d) => {
                self.check_compiled()?;
                d.open()
                    .map(Some)
                    .map_err(|e| CliError::input(format!("--device {self}: {e}")))
            }
            DeviceArg::Onnx { .. } => Ok(None),
        }
    }

    /// The embedded model on this device.
    pub fn embedded(self, options: &OnnxOptions) -> Result<Box<dyn Backend>, CliError> {
        self.check_compiled()?;
        if let Some(device) = self.open_burn()? {
            let model = BurnModel::embedded(&device)
                .map_err(|e| CliError::compute("loading the embedded model", e))?;
            return Ok(Box::new(model));
        }
        embedded_onnx(self, options)
    }
}

#[cfg(feature = "onnx")]
fn embedded_onnx(device: DeviceArg, options: &OnnxOptions) -> Result<Box<dyn Backend>, CliError> {
    let options = options.clone().with_execution_provider(
        device
            .provider()
            .expect("an onnx device has an execution provider"),
    );
    let model = nao_burn::OnnxModel::embedded(&options)
        .map_err(|e| CliError::input(format!("--device {device}: {e}")))?;
    Ok(Box::new(model))
}

#[cfg(not(feature = "onnx"))]
fn embedded_onnx(device: DeviceArg, _: &OnnxOptions) -> Result<Box<dyn Backend>, CliError> {
    device.check_compiled()?;
    unreachable!("check_compiled fails without the onnx feature")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_name() {
        for (s, d) in [
            ("cpu", DeviceArg::Burn(BurnDevice::Flex)),
            ("wgpu", DeviceArg::Burn(BurnDevice::Wgpu)),
            ("tch-cpu", DeviceArg::Burn(BurnDevice::TchCpu)),
            ("tch-cuda", DeviceArg::Burn(BurnDevice::TchCuda(0))),
            ("tch-cuda:1", DeviceArg::Burn(BurnDevice::TchCuda(1))),
            ("cuda:2", DeviceArg::Burn(BurnDevice::Cuda(2))),
            ("onnx-cpu", DeviceArg::Onnx { cuda: None }),
            ("onnx-cuda", DeviceArg::Onnx { cuda: Some(0) }),
            ("ONNX-CUDA:3", DeviceArg::Onnx { cuda: Some(3) }),
        ] {
            assert_eq!(s.parse::<DeviceArg>().unwrap(), d, "{s}");
        }
        for bad in ["gpu", "onnx-cudax", "onnx-cuda:-1", "cuda:a", "metal"] {
            let e = bad.parse::<DeviceArg>().unwrap_err();
            assert!(e.contains("onnx-cpu") || e.contains("index"), "{e}");
        }
    }
}
