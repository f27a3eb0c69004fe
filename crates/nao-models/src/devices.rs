//! Which devices this build has, and starting burn's.

use nao_backend::Device;

use crate::ModelsError;

/// Whether this build has `device` (its Cargo feature, [`Device::feature`], is on).
pub fn is_compiled_in(device: Device) -> bool {
    match device {
        Device::Cpu => cfg!(feature = "flex"),
        Device::Wgpu => cfg!(feature = "wgpu"),
        Device::TchCpu | Device::TchCuda(_) => cfg!(feature = "tch"),
        Device::Cuda(_) => cfg!(feature = "cuda"),
        Device::OnnxCpu => cfg!(feature = "onnx"),
        Device::OnnxCuda(_) => cfg!(feature = "onnx-cuda"),
    }
}

/// The device kinds of this build, in [`Device::ALL`]'s order.
pub fn compiled_devices() -> Vec<Device> {
    Device::ALL
        .into_iter()
        .filter(|&d| is_compiled_in(d))
        .collect()
}

/// An error naming the feature to enable when this build lacks `device`.
pub fn check_compiled(device: Device) -> Result<(), ModelsError> {
    if is_compiled_in(device) {
        Ok(())
    } else {
        Err(ModelsError::NotCompiled {
            device: device.to_string(),
            feature: device.feature(),
        })
    }
}

/// The burn device for a burn `device`, started and checked: a wgpu adapter must be found, a
/// LibTorch or CUDA device must answer a tiny computation. ONNX Runtime devices are an error.
///
/// ```
/// let d = nao_models::open_burn_device(nao_models::Device::Cpu).unwrap();
/// assert!(nao_models::open_burn_device(nao_models::Device::OnnxCpu).is_err());
/// # let _ = d;
/// ```
pub fn open_burn_device(device: Device) -> Result<burn::tensor::Device, ModelsError> {
    check_compiled(device)?;
    if device.engine() != nao_backend::Engine::Burn {
        return Err(ModelsError::Invalid(format!(
            "'{device}' is an ONNX Runtime device, not a burn one"
        )));
    }
    open_compiled(device)
}

#[allow(unreachable_code, unused_variables)]
fn open_compiled(device: Device) -> Result<burn::tensor::Device, ModelsError> {
    use burn::tensor::Device as BurnDevice;
    match device {
        Device::Cpu => {
            #[cfg(feature = "flex")]
            return Ok(BurnDevice::flex());
        }
        Device::Wgpu => {
            #[cfg(feature = "wgpu")]
            return wgpu::device();
        }
        Device::TchCpu => {
            // burn-tch is deprecated upstream; it is still burn's LibTorch route
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            return probe(device, BurnDevice::libtorch());
        }
        Device::TchCuda(n) => {
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            return probe(device, BurnDevice::libtorch_cuda(n));
        }
        Device::Cuda(n) => {
            #[cfg(feature = "cuda")]
            return probe(device, BurnDevice::cuda(n));
        }
        Device::OnnxCpu | Device::OnnxCuda(_) => {}
    }
    unreachable!("open_burn_device checked that {device} is a compiled-in burn device")
}

/// Run a tiny computation on a fresh device: backends report a missing GPU or driver by
/// panicking on first use, which becomes an error here.
#[allow(dead_code)]
fn probe(name: Device, device: burn::tensor::Device) -> Result<burn::tensor::Device, ModelsError> {
    use burn::tensor::{Tensor, TensorData};
    let d = device.clone();
    let answer = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let t = Tensor::<1>::from_data(TensorData::new(vec![1.0f32, 2.0], [2]), &d);
        t.sum().into_data().try_into_vec_as::<f32>()
    }));
    let unusable = |message: String| ModelsError::Unusable {
        device: name.to_string(),
        message,
    };
    match answer {
        Ok(Ok(v)) if v == [3.0] => Ok(device),
        Ok(Ok(v)) => Err(unusable(format!("it computed 1 + 2 = {v:?}"))),
        Ok(Err(e)) => Err(unusable(format!("it cannot return a result: {e:?}"))),
        Err(panic) => Err(unusable(panic_message(&panic))),
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

    use crate::ModelsError;

    /// wgpu's runtime can be initialised once per process: keep its answer.
    static DEVICE: OnceLock<Result<burn::tensor::Device, String>> = OnceLock::new();

    pub(super) fn device() -> Result<burn::tensor::Device, ModelsError> {
        DEVICE
            .get_or_init(|| {
                burn::tensor::Device::wgpu_options().init().map_err(|e| {
                    format!(
                        "no wgpu adapter: {e}. Without a GPU, install the software Vulkan \
                         driver (Debian/Ubuntu: apt-get install mesa-vulkan-drivers libvulkan1)"
                    )
                })
            })
            .clone()
            .map_err(|message| ModelsError::Unusable {
                device: "wgpu".into(),
                message,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_device_not_compiled_in_names_its_feature() {
        for d in Device::ALL {
            if !is_compiled_in(d) {
                let e = check_compiled(d).unwrap_err().to_string();
                assert!(e.contains(&format!("feature '{}'", d.feature())), "{e}");
                assert!(!compiled_devices().contains(&d));
            } else {
                assert!(compiled_devices().contains(&d));
            }
        }
    }

    #[cfg(feature = "flex")]
    #[test]
    fn cpu_opens() {
        assert!(open_burn_device(Device::Cpu).is_ok());
    }
}
