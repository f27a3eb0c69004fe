//! The ONNX export: files, round trip, and clear errors. (Its numbers against burn are the
//! conformance suite's `onnx-cpu` checks, crates/nao-conformance.)

use nao_burn::{BurnModel, Device, OnnxExport};

fn export() -> OnnxExport {
    BurnModel::embedded(&Device::flex())
        .unwrap()
        .to_onnx()
        .unwrap()
}

#[test]
fn export_is_deterministic_and_round_trips_through_files() {
    let a = export();
    let b = export();
    assert_eq!(a, b, "the same weights give the same bytes");
    // every float weight travels: the autoencoder has 127 k parameters (3×3 convolutions,
    // 16/32/64 channels), the noise predictor 2.9 M (512-wide MLP, 3 blocks)
    assert!(a.vae_encoder.len() + a.vae_decoder.len() > 4 * 127_000);
    assert!(a.denoiser.len() > 4 * 2_900_000);
    let dir = tempfile::tempdir().unwrap();
    a.save(dir.path()).unwrap();
    for f in [
        nao_burn::ONNX_ENCODER_FILE,
        nao_burn::ONNX_DECODER_FILE,
        nao_burn::ONNX_DENOISER_FILE,
        nao_burn::CARD_FILE,
    ] {
        assert!(dir.path().join(f).is_file(), "{f}");
    }
    assert_eq!(OnnxExport::load(dir.path()).unwrap(), a);
    // no temporary files left
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
}

#[test]
fn loading_an_incomplete_export_names_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let e = OnnxExport::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("model.json"), "{e}");
    export().save(dir.path()).unwrap();
    std::fs::remove_file(dir.path().join(nao_burn::ONNX_DECODER_FILE)).unwrap();
    let e = OnnxExport::load(dir.path()).unwrap_err().to_string();
    assert!(e.contains("vae_decoder.onnx"), "{e}");
}

#[cfg(feature = "onnx")]
mod onnx_runtime {
    use super::*;
    use nao_backend::Backend;
    use nao_burn::OnnxModel;
    use nao_onnx::OnnxOptions;

    fn ort_ready() {
        let p = std::env::var_os("ORT_DYLIB_PATH").unwrap_or_default();
        assert!(
            std::path::Path::new(&p).is_file(),
            "ORT_DYLIB_PATH must name libonnxruntime (cargo xtask setup-ort)"
        );
    }

    #[test]
    fn a_corrupt_graph_is_an_error_naming_it() {
        ort_ready();
        let mut e = export();
        e.denoiser.truncate(e.denoiser.len() / 2);
        let err = OnnxModel::from_export(&e, "somewhere", &OnnxOptions::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("somewhere/denoiser.onnx"), "{err}");
    }

    #[test]
    fn onnx_model_checks_inputs_like_burn() {
        ort_ready();
        let onnx = OnnxModel::embedded(&OnnxOptions::default()).unwrap();
        let burn = BurnModel::embedded(&Device::flex()).unwrap();
        assert_eq!(onnx.info().latent_shape(28, 28).unwrap(), [4, 7, 7]);
        let bad = nao_backend::Tensor::zeros(vec![1, 4, 8, 8]);
        let ctx = nao_backend::Tensor {
            shape: vec![1, 1],
            data: vec![3.0],
        };
        let a = onnx
            .predict_noise(&bad, &[10], &ctx)
            .unwrap_err()
            .to_string();
        let b = burn
            .predict_noise(&bad, &[10], &ctx)
            .unwrap_err()
            .to_string();
        assert_eq!(a, b);
        let a = onnx
            .encode_prompt("giraffe", "", false)
            .unwrap_err()
            .to_string();
        assert!(a.contains("giraffe"), "{a}");
    }
}
