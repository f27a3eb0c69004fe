//! The real Fashion-MNIST files (Debian's `dataset-fashion-mnist`, installed by `.ci/run`):
//! the IDX reader on them, the long-tailed split, and the committed classifier and autoencoder
//! against the numbers in the committed training report.

use nao_burn::{BurnModel, Device, RARE_CLASSES};
use nao_burn_train::{long_tail_indices, FashionMnist};

fn load() -> FashionMnist {
    let dir = FashionMnist::default_dir();
    FashionMnist::load(&dir).unwrap_or_else(|e| {
        panic!("Fashion-MNIST is needed by this test (apt-get install dataset-fashion-mnist): {e}")
    })
}

fn report() -> serde_json::Value {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../nao-burn/weights/training-report.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap()
}

#[test]
fn dataset_sizes_and_long_tail() {
    let data = load();
    assert_eq!(data.train.len(), 60_000);
    assert_eq!(data.test.len(), 10_000);
    assert_eq!(data.train.class_counts(), [6000; 10]);
    assert_eq!(data.test.class_counts(), [1000; 10]);
    let r = report();
    let seed = r["config"]["seed"].as_u64().unwrap();
    let idx = long_tail_indices(&data.train.labels, &RARE_CLASSES, 0.01, seed).unwrap();
    let lt = data.train.subset(&idx);
    let counts = lt.class_counts();
    assert_eq!(counts[RARE_CLASSES[0]], 60);
    assert_eq!(counts[RARE_CLASSES[1]], 60);
    assert_eq!(lt.len(), 48_120);
    assert_eq!(r["data"]["long_tail_images"].as_u64().unwrap(), 48_120);
}

#[test]
fn committed_networks_match_the_training_report() {
    let data = load();
    let device = Device::flex();
    let model = BurnModel::embedded(&device).unwrap();
    let r = report();
    // The classifier, through the public API, on the whole test set.
    let x = nao_backend::Tensor::new(
        vec![data.test.len(), 1, 28, 28],
        data.test.pixels.iter().map(|&p| p as f32 / 255.0).collect(),
    )
    .unwrap();
    let pred = model.classify(&x).unwrap();
    let right = pred
        .iter()
        .zip(&data.test.labels)
        .filter(|(p, &l)| p.class == l as usize)
        .count();
    let acc = right as f64 / data.test.len() as f64;
    let reported = r["classifier"]["test_accuracy"].as_f64().unwrap();
    assert!(acc >= 0.90, "test accuracy {acc} < 0.90");
    assert!(
        (acc - reported).abs() <= 0.002,
        "test accuracy {acc} vs reported {reported}"
    );

    // The autoencoder round trip through the Backend API (pixels in [0, 1], clamped): its MSE
    // is the report's ([−1, 1], unclamped) divided by 4, or a little less for the clamping.
    use nao_backend::Backend;
    let signed = nao_backend::Tensor::new(
        x.shape.clone(),
        x.data.iter().map(|v| v * 2.0 - 1.0).collect(),
    )
    .unwrap();
    let back = model
        .decode_latents(&model.encode_image(&signed).unwrap())
        .unwrap();
    let mse01 = back
        .data
        .iter()
        .zip(&x.data)
        .map(|(a, b)| ((a - b) as f64).powi(2))
        .sum::<f64>()
        / x.data.len() as f64;
    let reported = r["autoencoder"]["test_reconstruction_mse"]
        .as_f64()
        .unwrap();
    assert!(
        4.0 * mse01 <= reported * 1.001 + 1e-6,
        "4·MSE {} vs reported {reported}",
        4.0 * mse01
    );
    assert!(
        4.0 * mse01 >= 0.8 * reported,
        "4·MSE {} vs reported {reported}",
        4.0 * mse01
    );
}
