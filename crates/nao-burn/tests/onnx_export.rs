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
        nao_burn::ONNX_CLASSIFIER_FILE,
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
        nao_test_support::ort_library();
    }

    #[test]
    fn the_exported_classifier_gives_burns_features_and_verdicts() {
        ort_ready();
        let burn = BurnModel::embedded(&Device::flex()).unwrap();
        let graph = nao_onnx::OnnxGraph::from_memory(
            "classifier",
            "classifier.onnx",
            &export().classifier,
            &OnnxOptions::default(),
        )
        .unwrap();
        let images = nao_burn::bundled_images(8).unwrap(); // bags, [20, 1, 28, 28] in [0, 1]
        let (verdicts, features) = burn.classify_with_features(&images).unwrap();
        let signed: Vec<f32> = images.data.iter().map(|v| v * 2.0 - 1.0).collect();
        let input = [(
            "images",
            images.shape.as_slice(),
            nao_onnx::GraphInput::Float(&signed),
        )];
        let (shape, onnx_features) = graph.run(&input, "features").unwrap();
        assert_eq!(shape, features.shape);
        let diff = features
            .data
            .iter()
            .zip(&onnx_features)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(diff < 1e-4, "features differ by {diff}");
        let (shape, logits) = graph.run(&input, "logits").unwrap();
        assert_eq!(shape, vec![20, 10]);
        for (row, v) in logits.chunks(10).zip(&verdicts) {
            let best = (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            assert_eq!(best, v.class);
        }
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
