//! The backends under test and their tolerances.

use std::fmt;

use nao_backend::Backend;
use nao_burn::{BurnDevice, BurnModel};

use crate::checks::Check;
use crate::ConformanceError;

/// A backend of the embedded model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// burn's pure-Rust CPU backend: the reference (`cpu`).
    Flex,
    /// burn on wgpu (WGSL; lavapipe on machines without a GPU).
    Wgpu,
    /// burn on LibTorch, CPU.
    TchCpu,
    /// burn on LibTorch, CUDA GPU 0.
    TchCuda,
    /// burn's native CUDA backend, GPU 0.
    Cuda,
    /// The ONNX export on ONNX Runtime's CPU provider.
    OnnxCpu,
    /// The ONNX export on ONNX Runtime's CUDA provider, GPU 0.
    OnnxCuda,
}

impl Target {
    /// Every target, compiled in or not.
    pub const ALL: [Target; 7] = [
        Target::Flex,
        Target::Wgpu,
        Target::TchCpu,
        Target::TchCuda,
        Target::Cuda,
        Target::OnnxCpu,
        Target::OnnxCuda,
    ];

    /// The feature of this crate that compiles the target in.
    pub fn feature(self) -> &'static str {
        match self {
            Target::Flex => "flex",
            Target::Wgpu => "wgpu",
            Target::TchCpu => "tch",
            Target::TchCuda => "tch-cuda",
            Target::Cuda => "cuda",
            Target::OnnxCpu => "onnx",
            Target::OnnxCuda => "onnx-cuda",
        }
    }

    /// Whether this build has the target.
    pub fn is_compiled_in(self) -> bool {
        match self {
            Target::Flex => cfg!(feature = "flex"),
            Target::Wgpu => cfg!(feature = "wgpu"),
            Target::TchCpu => cfg!(feature = "tch"),
            Target::TchCuda => cfg!(feature = "tch-cuda"),
            Target::Cuda => cfg!(feature = "cuda"),
            Target::OnnxCpu => cfg!(feature = "onnx"),
            Target::OnnxCuda => cfg!(feature = "onnx-cuda"),
        }
    }

    /// The compiled-in targets.
    pub fn compiled() -> Vec<Target> {
        Self::ALL
            .into_iter()
            .filter(|t| t.is_compiled_in())
            .collect()
    }

    /// The `nao --device` name.
    pub fn device_name(self) -> &'static str {
        match self {
            Target::Flex => "cpu",
            Target::Wgpu => "wgpu",
            Target::TchCpu => "tch-cpu",
            Target::TchCuda => "tch-cuda",
            Target::Cuda => "cuda",
            Target::OnnxCpu => "onnx-cpu",
            Target::OnnxCuda => "onnx-cuda",
        }
    }

    fn burn_device(self) -> Option<BurnDevice> {
        Some(match self {
            Target::Flex => BurnDevice::Flex,
            Target::Wgpu => BurnDevice::Wgpu,
            Target::TchCpu => BurnDevice::TchCpu,
            Target::TchCuda => BurnDevice::TchCuda(0),
            Target::Cuda => BurnDevice::Cuda(0),
            Target::OnnxCpu | Target::OnnxCuda => return None,
        })
    }

    /// The embedded model on this backend. A backend that is not compiled in, or whose
    /// device or library is missing, is an error saying so (never a silent fallback).
    pub fn open(self) -> Result<Box<dyn Backend>, ConformanceError> {
        let fail = |message: String| ConformanceError::Backend {
            target: self.to_string(),
            message,
        };
        if !self.is_compiled_in() {
            return Err(fail(format!(
                "not compiled in: enable the feature '{}' of nao-conformance",
                self.feature()
            )));
        }
        if let Some(device) = self.burn_device() {
            let device = device.open().map_err(|e| fail(e.to_string()))?;
            let model = BurnModel::embedded(&device).map_err(|e| fail(e.to_string()))?;
            return Ok(Box::new(model));
        }
        open_onnx(self).map_err(fail)
    }
}

#[cfg(feature = "onnx")]
fn open_onnx(target: Target) -> Result<Box<dyn Backend>, String> {
    let mut options = nao_onnx::OnnxOptions::default();
    if target == Target::OnnxCuda {
        options =
            options.with_execution_provider(nao_onnx::ExecutionProvider::Cuda { device_id: 0 });
    }
    let model = nao_burn::OnnxModel::embedded(&options).map_err(|e| e.to_string())?;
    Ok(Box::new(model))
}

#[cfg(not(feature = "onnx"))]
fn open_onnx(target: Target) -> Result<Box<dyn Backend>, String> {
    Err(format!("{target} needs the feature 'onnx'"))
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.device_name())
    }
}

/// The largest difference from the reference a check's outputs may show on a backend,
/// compared with [`Diff::scaled`](crate::Diff::scaled) (absolute for unit-scale outputs).
///
/// CPU-class backends in fp32 (flex, wgpu, tch-cpu, onnx-cpu) differ from the reference only
/// by summation order: measured at most 1.1e-6 (forward), 2.2e-5 (the DDIM step's x̂₀, which
/// amplifies ε's rounding by √((1−ᾱ)/ᾱ) ≈ 14 at t = 901), 4.9e-6 (10-step sampling) and
/// 2.2e-6 (10-step inversion) on the machine of docs/backends.md; the tolerances are about
/// 10× those, so another CPU's SIMD path or a GPU's fp32 kernels pass while a wrong kernel
/// (1e-3 and more) does not. CUDA backends may use TF32 convolutions (cuDNN's default): 100×
/// more room, not yet measured on a GPU.
pub fn tolerance(target: Target, check: Check) -> f32 {
    let cpu_class = match check {
        Check::Forward => 1e-5,
        Check::DdimStep => 2e-4,
        Check::Sampling => 5e-5,
        Check::Inversion => 2e-5,
    };
    match target {
        Target::Flex | Target::Wgpu | Target::TchCpu | Target::OnnxCpu => cpu_class,
        Target::TchCuda | Target::Cuda | Target::OnnxCuda => 100.0 * cpu_class,
    }
}
