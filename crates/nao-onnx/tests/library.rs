//! Loading ONNX Runtime: clear errors for a missing, invalid or unconfigured library, and one
//! library per process. One test, so that the steps run in order in this process.

mod common;

use common::onnx_dir;
use nao_onnx::{OnnxBackend, OnnxError, OnnxOptions};
use nao_test_support::ort_library;

#[test]
fn library_errors_name_the_path_and_the_version() {
    let real = ort_library();
    let tmp = tempfile::tempdir().unwrap();

    // a path that does not exist
    let missing = tmp.path().join("libonnxruntime.so.1.31.1");
    let e = OnnxBackend::load(
        onnx_dir(),
        &OnnxOptions::default().with_library_path(&missing),
    )
    .unwrap_err();
    assert!(matches!(e, OnnxError::Library { .. }), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains(&missing.display().to_string())
            && m.contains("no such file")
            && m.contains(">= 1.31"),
        "{m}"
    );

    // a file that is not a library
    let bogus = tmp.path().join("libonnxruntime.so");
    std::fs::write(&bogus, b"not a shared library").unwrap();
    let e = OnnxBackend::load(
        onnx_dir(),
        &OnnxOptions::default().with_library_path(&bogus),
    )
    .unwrap_err();
    let m = e.to_string();
    assert!(
        m.contains("libonnxruntime.so") && m.contains("cannot load the ONNX Runtime library"),
        "{m}"
    );

    // neither an option nor ORT_DYLIB_PATH (this test is alone in its process)
    std::env::remove_var("ORT_DYLIB_PATH");
    let e = OnnxBackend::load(onnx_dir(), &OnnxOptions::default()).unwrap_err();
    std::env::set_var("ORT_DYLIB_PATH", &real);
    assert!(matches!(e, OnnxError::LibraryNotConfigured), "{e:?}");
    let m = e.to_string();
    assert!(
        m.contains("ORT_DYLIB_PATH") && m.contains("cargo xtask setup-ort"),
        "{m}"
    );
    assert_eq!(nao_onnx::loaded_library(), None);

    // the real one, through ORT_DYLIB_PATH
    let model = OnnxBackend::load(onnx_dir(), &OnnxOptions::default().with_threads(1)).unwrap();
    assert_eq!(
        nao_onnx::loaded_library(),
        Some(real.canonicalize().unwrap())
    );
    // the same library named explicitly is fine; another one is refused
    OnnxBackend::load(onnx_dir(), &OnnxOptions::default().with_library_path(&real)).unwrap();
    let e = OnnxBackend::load(
        onnx_dir(),
        &OnnxOptions::default().with_library_path(&bogus),
    )
    .unwrap_err();
    assert!(e.to_string().contains("only one library"), "{e}");
    drop(model);
}
