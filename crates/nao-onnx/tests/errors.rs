//! Broken and partial model folders: every error names the file, partial folders load with
//! the capabilities they have.

mod common;

use std::path::{Path, PathBuf};

use common::{onnx_dir, reference};
use nao_backend::{Backend, BackendError, Tensor};
use nao_onnx::{ExecutionProvider, OnnxBackend, OnnxError, OnnxOptions};
use nao_test_support::ort_library;

fn options() -> OnnxOptions {
    OnnxOptions::default()
        .with_threads(1)
        .with_library_path(ort_library())
}

fn copy_dir(from: &Path, to: &Path, skip: &[&str], root: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let rel = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if skip.contains(&rel.as_str()) {
            continue;
        }
        let dest = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &dest, skip, root);
        } else {
            std::fs::copy(&path, &dest).unwrap();
        }
    }
}

/// A copy of the fixture's ONNX folder without the paths in `skip` (relative, `/`-separated).
fn partial_copy(skip: &[&str]) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("model");
    let src = onnx_dir();
    copy_dir(&src, &dir, skip, &src);
    (tmp, dir)
}

fn load_err(dir: &Path) -> String {
    match OnnxBackend::load(dir, &options()) {
        Ok(_) => panic!("{} loaded", dir.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn missing_folders_and_files_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let nowhere = tmp.path().join("no-such-model");
    let m = load_err(&nowhere);
    assert!(
        m.contains("no-such-model") && m.contains("no such model folder"),
        "{m}"
    );
    let file = tmp.path().join("model.onnx");
    std::fs::write(&file, b"x").unwrap();
    assert!(load_err(&file).contains("not a folder"));

    for (skip, needle) in [
        ("unet/model.onnx", "unet/model.onnx"),
        ("unet/config.json", "unet/config.json"),
        ("scheduler", "scheduler_config.json"),
        ("tokenizer", "tokenizer"),
        ("tokenizer/vocab.json", "vocab.json"),
        ("tokenizer/merges.txt", "merges.txt"),
        ("vae_encoder/model.onnx", "vae_encoder/model.onnx"),
        ("vae_decoder/model.onnx", "vae_decoder/model.onnx"),
        ("text_encoder/model.onnx", "text_encoder/model.onnx"),
    ] {
        let (_tmp, dir) = partial_copy(&[skip]);
        let m = load_err(&dir);
        assert!(m.contains(needle), "without {skip}: {m}");
    }
    let (_tmp, dir) = partial_copy(&["vae_encoder/config.json", "vae_decoder/config.json"]);
    let m = load_err(&dir);
    assert!(
        m.contains("no VAE config") && m.contains("vae_decoder/config.json"),
        "{m}"
    );
}

#[test]
fn corrupt_models_and_configs_are_named() {
    let (_tmp, dir) = partial_copy(&[]);
    std::fs::write(dir.join("unet/model.onnx"), b"not an onnx model").unwrap();
    let m = load_err(&dir);
    assert!(
        m.contains("unet/model.onnx") && m.contains("unet session"),
        "{m}"
    );

    let (_tmp, dir) = partial_copy(&[]);
    std::fs::write(
        dir.join("unet/config.json"),
        r#"{"sample_size": 8, "in_channels": 9}"#,
    )
    .unwrap();
    let m = load_err(&dir);
    assert!(
        m.contains("unet/config.json") && m.contains("in_channels = 9"),
        "{m}"
    );

    let (_tmp, dir) = partial_copy(&[]);
    std::fs::write(
        dir.join("scheduler/scheduler_config.json"),
        r#"{"beta_schedule": "x"}"#,
    )
    .unwrap();
    let m = load_err(&dir);
    assert!(
        m.contains("scheduler_config.json") && m.contains("beta_schedule"),
        "{m}"
    );

    // the text encoder given where the UNet belongs: its inputs are named
    let (_tmp, dir) = partial_copy(&[]);
    std::fs::copy(
        dir.join("text_encoder/model.onnx"),
        dir.join("unet/model.onnx"),
    )
    .unwrap();
    let m = load_err(&dir);
    assert!(
        m.contains("unet/model.onnx") && m.contains("input_ids"),
        "{m}"
    );
}

#[test]
fn a_folder_without_vae_encoder_still_samples() {
    let (_tmp, dir) = partial_copy(&["vae_encoder"]);
    let model = OnnxBackend::load(&dir, &options()).unwrap();
    let caps = model.capabilities();
    assert!(caps.text_encoder && caps.vae_decoder && !caps.vae_encoder);
    // the facts come from vae_decoder/config.json
    assert_eq!(model.info().vae_scaling_factor, 0.18215);
    match model.encode_image(&reference("inversion_input_image.npy")) {
        Err(e @ BackendError::Unsupported(_)) => {
            assert_eq!(e.to_string(), "this model has no VAE encoder")
        }
        other => panic!("{other:?}"),
    }
    let c = model.encode_prompt("a cat", "", true).unwrap();
    let noise = model
        .predict_noise(&Tensor::zeros(vec![1, 4, 8, 8]), &[10], &c.cond)
        .unwrap();
    assert_eq!(noise.shape, vec![1, 4, 8, 8]);
    assert_eq!(
        model.decode_latents(&noise).unwrap().shape,
        vec![1, 3, 64, 64]
    );
}

#[test]
fn a_folder_without_text_encoder_or_decoder_reports_it() {
    let (_tmp, dir) = partial_copy(&["text_encoder", "tokenizer", "vae_decoder"]);
    let model = OnnxBackend::load(&dir, &options()).unwrap();
    let caps = model.capabilities();
    assert!(!caps.text_encoder && caps.vae_encoder && !caps.vae_decoder);
    assert!(model.tokenizer().is_none());
    assert!(matches!(
        model.encode_prompt("a cat", "", false),
        Err(BackendError::Unsupported("text encoder"))
    ));
    assert!(matches!(
        model.decode_latents(&Tensor::zeros(vec![1, 4, 8, 8])),
        Err(BackendError::Unsupported("VAE decoder"))
    ));
    // the UNet runs on given embeddings
    let context = reference("text_embeddings.npy").item(0).unwrap();
    let out = model
        .predict_noise(&reference("initial_latents.npy"), &[500], &context)
        .unwrap();
    assert!(nao_test_support::max_abs_diff(&out, &reference("unet_t500_prompt0.npy")) <= 1e-5);
}

#[test]
fn invalid_options_are_refused_before_loading() {
    let e = OnnxBackend::load(onnx_dir(), &options().with_threads(0)).unwrap_err();
    assert!(matches!(e, OnnxError::Options(_)), "{e:?}");
    assert!(e.to_string().contains("threads"));
    let cuda = options().with_execution_provider(ExecutionProvider::Cuda { device_id: 0 });
    if !cfg!(feature = "cuda") {
        let e = OnnxBackend::load(onnx_dir(), &cuda).unwrap_err();
        assert!(e.to_string().contains("`cuda` feature"), "{e}");
    }
    let e = OnnxBackend::load(
        onnx_dir(),
        &options().with_execution_provider(ExecutionProvider::Cuda { device_id: -1 }),
    )
    .unwrap_err();
    assert!(matches!(e, OnnxError::Options(_)), "{e:?}");
}
