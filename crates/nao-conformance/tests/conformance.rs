//! The conformance suite: the same four checks on every backend compiled into this crate,
//! each compared with the committed CPU reference within the backend's tolerance.
//!
//! `cargo xtask conformance --backend NAME` runs it for one backend (CI: cpu, wgpu on the
//! software Vulkan driver, onnx-cpu).

use nao_conformance::{compare, run_check, tolerance, Check, Reference, Target};

fn check(target: Target, check: Check) {
    // a backend that cannot start (no wgpu adapter, no CUDA device, no ONNX Runtime) fails
    // here, loudly, with the reason
    let backend = target.open().unwrap_or_else(|e| panic!("{e}"));
    let outputs = run_check(&*backend, check).unwrap_or_else(|e| panic!("{target}: {e}"));
    let reference = Reference::load(&Reference::default_dir()).unwrap();
    let diffs = compare(&outputs, &reference).unwrap_or_else(|e| panic!("{target}: {e}"));
    assert!(!diffs.is_empty());
    let tol = tolerance(target, check);
    for d in diffs {
        println!(
            "{target} {}: max |diff| {:.3e} at scale {:.2} ({:.3e}), rms {:.3e}, tolerance {tol:.0e}",
            d.name,
            d.max_abs,
            d.reference_scale,
            d.scaled(),
            d.rms
        );
        assert!(
            d.scaled() <= tol,
            "{target} {}: max |diff| {:e} at scale {} from the reference exceeds {tol:e}",
            d.name,
            d.max_abs,
            d.reference_scale
        );
    }
}

macro_rules! suite {
    ($module:ident, $target:expr, $feature:literal) => {
        #[cfg(feature = $feature)]
        mod $module {
            use super::*;

            #[test]
            fn forward_pass() {
                check($target, Check::Forward);
            }

            #[test]
            fn one_ddim_step() {
                check($target, Check::DdimStep);
            }

            #[test]
            fn sampling_10_steps() {
                check($target, Check::Sampling);
            }

            #[test]
            fn inversion_10_steps() {
                check($target, Check::Inversion);
            }
        }
    };
}

suite!(cpu, Target::Flex, "flex");
suite!(wgpu, Target::Wgpu, "wgpu");
suite!(tch_cpu, Target::TchCpu, "tch");
suite!(tch_cuda, Target::TchCuda, "tch-cuda");
suite!(cuda, Target::Cuda, "cuda");
suite!(onnx_cpu, Target::OnnxCpu, "onnx");
suite!(onnx_cuda, Target::OnnxCuda, "onnx-cuda");

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

/// A backend that is not compiled in is an error naming the feature to enable.
#[test]
fn missing_backend_names_its_feature() {
    for t in Target::ALL {
        if !t.is_compiled_in() {
            let e = t.open().err().expect("not compiled in").to_string();
            assert!(e.contains(t.feature()), "{e}");
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
    for t in Target::ALL {
        assert!(d.scaled() > tolerance(t, Check::Forward), "{t}");
    }
}
