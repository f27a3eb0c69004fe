//! Opening models: every kind of folder, the devices that do and do not run them, and the
//! errors that say what to do.

use nao_models::{open_model, Device, ModelKind, ModelSource, ModelsError, Needs, OpenOptions};
use nao_test_support::{ort_library, shared};

fn onnx_options() -> OpenOptions {
    OpenOptions::default().with_ort_library(ort_library())
}

#[test]
fn the_embedded_model_opens_on_cpu_by_default() {
    let opened = open_model(&ModelSource::Embedded, None, &OpenOptions::default()).unwrap();
    assert_eq!(
        (opened.kind, opened.device),
        (ModelKind::Embedded, Device::Cpu)
    );
    assert!(opened.model.capabilities().vae_encoder);
}

#[test]
fn an_optimum_export_is_detected_and_runs_on_onnx_devices_only() {
    let dir = shared("fixtures/tiny-sd1/onnx");
    assert_eq!(ModelKind::detect(&dir).unwrap(), ModelKind::OnnxExport);
    let source = ModelSource::Folder(dir.clone());
    let opened = open_model(&source, None, &onnx_options()).unwrap();
    assert_eq!(opened.device, Device::OnnxCpu);
    let e = open_model(&source, Some(Device::Cpu), &onnx_options()).unwrap_err();
    assert!(matches!(e, ModelsError::WrongEngine { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("onnx-cpu") && text.contains("Stable Diffusion ONNX"),
        "{text}"
    );
}

#[test]
fn trained_weights_and_their_onnx_export_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let model =
        nao_burn::BurnModel::embedded(&nao_models::open_burn_device(Device::Cpu).unwrap()).unwrap();
    let export = dir.path().join("export");
    model.to_onnx().unwrap().save(&export).unwrap();
    assert_eq!(ModelKind::detect(&export).unwrap(), ModelKind::EmbeddedOnnx);
    let opened = open_model(&ModelSource::Folder(export.clone()), None, &onnx_options()).unwrap();
    assert_eq!(opened.device, Device::OnnxCpu);
    let e = open_model(
        &ModelSource::Folder(export),
        Some(Device::Wgpu),
        &onnx_options(),
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("onnx-cpu"), "{e}");
}

#[test]
fn a_missing_component_names_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let src = shared("fixtures/tiny-sd1/onnx");
    // a copy of the export without its VAE encoder
    copy_dir(&src, dir.path());
    std::fs::remove_dir_all(dir.path().join("vae_encoder")).unwrap();
    let needs = Needs {
        vae_encoder: true,
        ..Needs::default()
    };
    let e = open_model(
        &ModelSource::Folder(dir.path().to_path_buf()),
        None,
        &onnx_options().needing(needs),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("vae_encoder/model.onnx") && e.contains("VAE encoder"),
        "{e}"
    );
}

#[test]
fn folders_that_hold_no_model_say_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let e = open_model(
        &ModelSource::Folder(dir.path().to_path_buf()),
        None,
        &OpenOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("holds no model") && e.contains("unet/model.onnx"),
        "{e}"
    );
    let file = dir.path().join("file");
    std::fs::write(&file, b"").unwrap();
    let e = open_model(&ModelSource::Folder(file), None, &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("not a folder"), "{e}");
}

#[test]
fn options_out_of_range_are_refused_before_loading() {
    for (options, expect) in [
        (OpenOptions::default().with_threads(0), "--threads 0"),
        (OpenOptions::default().with_ort_library(""), "--ort-lib"),
        (
            OpenOptions::default().with_precision(nao_models::Precision::F16),
            "f32 only",
        ),
        (
            OpenOptions::default().with_variant("fp16"),
            "no weight variants",
        ),
    ] {
        let e = open_model(&ModelSource::Embedded, None, &options)
            .unwrap_err()
            .to_string();
        assert!(e.contains(expect), "{e}");
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_diffusers_folder_runs_on_burn_devices_with_its_dtype_and_variant() {
    let dir = shared("fixtures/tiny-sd1/diffusers");
    assert_eq!(ModelKind::detect(&dir).unwrap(), ModelKind::Diffusers);
    let source = ModelSource::Folder(dir);
    let opened = open_model(&source, None, &OpenOptions::default()).unwrap();
    assert_eq!(
        (opened.kind, opened.device),
        (ModelKind::Diffusers, Device::Cpu)
    );
    let e = open_model(&source, Some(Device::OnnxCpu), &OpenOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("diffusers") && e.contains("wgpu"), "{e}");
    let f16 = OpenOptions::default().with_precision(nao_models::Precision::F16);
    assert!(open_model(&source, None, &f16).is_ok());
    // the fixture has no fp16 files: asking for the variant names what is there
    let e = open_model(&source, None, &OpenOptions::default().with_variant("fp16"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("fp16"), "{e}");
}

#[test]
fn a_model_index_of_another_pipeline_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("model_index.json"),
        r#"{"_class_name": "StableDiffusionXLPipeline"}"#,
    )
    .unwrap();
    let e = ModelKind::detect(dir.path()).unwrap_err().to_string();
    assert!(e.contains("StableDiffusionPipeline"), "{e}");
}
