//! The conformance suite: the same checks on every device under test, each compared with its
//! model's reference within the device's tolerance — the embedded model's four against the
//! committed CPU reference, the tiny Stable Diffusion fixture's five against diffusers.
//!
//! `cargo xtask conformance --device NAME` runs it for one device (CI: cpu, wgpu on the
//! software Vulkan driver, onnx-cpu).

use nao_backend::Device;
use nao_conformance::{
    compare, devices_under_test, open, run_check, tolerance, Check, Model, Reference,
};

fn check(check: Check) {
    // a device that cannot start (no wgpu adapter, no CUDA device, no ONNX Runtime) fails here,
    // loudly, with the reason
    let devices = devices_under_test().unwrap_or_else(|e| panic!("{e}"));
    assert!(!devices.is_empty(), "no device under test");
    let model = Model::of(check);
    let reference = model.reference().unwrap_or_else(|e| panic!("{e}"));
    for device in devices {
        let backend = model.open(device).unwrap_or_else(|e| panic!("{e}"));
        let outputs = run_check(&*backend, check).unwrap_or_else(|e| panic!("{device}: {e}"));
        let diffs = compare(&outputs, &reference).unwrap_or_else(|e| panic!("{device}: {e}"));
        assert!(!diffs.is_empty());
        let tol = tolerance(device, check);
        for d in diffs {
            println!(
                "{device} {}: max |diff| {:.3e} at scale {:.2} ({:.3e}), rms {:.3e}, tolerance {tol:.0e}",
                d.name,
                d.max_abs,
                d.reference_scale,
                d.scaled(),
                d.rms
            );
            assert!(
                d.scaled() <= tol,
                "{device} {}: max |diff| {:e} at scale {} from the reference exceeds {tol:e}",
                d.name,
                d.max_abs,
                d.reference_scale
            );
        }
    }
}

#[test]
fn forward_pass() {
    check(Check::Forward);
}

#[test]
fn one_ddim_step() {
    check(Check::DdimStep);
}

#[test]
fn sampling_10_steps() {
    check(Check::Sampling);
}

#[test]
fn inversion_10_steps() {
    check(Check::Inversion);
}

#[test]
fn sd_text_encoder() {
    check(Check::SdText);
}

#[test]
fn sd_unet() {
    check(Check::SdUnet);
}

#[test]
fn sd_vae() {
    check(Check::SdVae);
}

#[test]
fn sd_sampling_10_steps() {
    check(Check::SdSampling);
}

#[test]
fn sd_inversion_10_steps() {
    check(Check::SdInversion);
}

/// The reference covers every output of every check, and nothing else.
#[test]
fn reference_is_complete() {
    let reference = Reference::load(&Reference::default_dir()).unwrap();
    let names: Vec<&str> = reference.names().collect();
    for expected in [
        "forward.noise",
        "forward.encoded",
        "forward.decoded",
        "ddim_step.prev_sample",
        "ddim_step.pred_original",
        "sampling.latents",
        "sampling.images",
        "inversion.seeds",
    ] {
        assert!(names.contains(&expected), "{expected} missing: {names:?}");
    }
    assert_eq!(names.len(), 8, "{names:?}");
}

/// The tiny-sd1 reference covers every output of its checks, and nothing else.
#[test]
fn tiny_sd1_reference_is_complete() {
    let reference = Model::TinySd1.reference().unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = reference.names().collect();
    assert_eq!(
        names,
        [
            "sd_inversion.seeds",
            "sd_sampling.gs1.0",
            "sd_sampling.gs7.5",
            "sd_text.embeddings",
            "sd_unet.t500",
            "sd_vae.decoded",
            "sd_vae.encoded"
        ]
    );
    let decoded = reference.get("sd_vae.decoded").unwrap();
    assert_eq!(decoded.shape, [2, 3, 64, 64]);
    assert!(decoded.data.iter().all(|v| (0.0..=1.0).contains(v)));
    for check in Check::TINY_SD1 {
        assert_eq!(Model::of(check), Model::TinySd1);
    }
}

/// A backend that is not compiled in is an error naming the feature to enable.
#[test]
fn missing_backend_names_its_feature() {
    for d in Device::ALL {
        if !nao_models::is_compiled_in(d) {
            let e = open(d).err().expect("not compiled in").to_string();
            assert!(e.contains(d.feature()), "{e}");
        }
    }
}

/// The comparison catches a wrong result: a perturbed output fails the tolerance.
#[test]
fn comparison_detects_a_perturbation() {
    let reference = Reference::load(&Reference::default_dir()).unwrap();
    let name = "forward.noise";
    let mut tensor = reference.get(name).unwrap().clone();
    tensor.data[17] += 1e-2;
    let out = nao_conformance::Output {
        check: Check::Forward,
        name: name.into(),
        tensor,
    };
    let d = &compare(&[out], &reference).unwrap()[0];
    assert!((d.max_abs - 1e-2).abs() < 1e-6, "{}", d.max_abs);
    for device in Device::ALL {
        assert!(d.scaled() > tolerance(device, Check::Forward), "{device}");
    }
}
