//! `nao norm-sweep` and `nao sampler-sweep` at tiny sizes on the embedded model: the report
//! files hold what `--json` printed, real images come from the bundled test images or an
//! ImageFolder (`--real`), and bad options are named without an output left behind.

mod common;

use common::{bundled_folder, num, Work};
use serde_json::Value;

fn file_json(w: &Work, name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(w.path(name)).unwrap()).unwrap()
}

#[test]
fn norm_sweep_writes_its_report_from_bundled_or_folder_images() {
    let w = Work::new();
    let tiny = [
        "--min-scale",
        "0.5",
        "--max-scale",
        "1.5",
        "--scales",
        "3",
        "--seeds",
        "3",
        "--draws",
        "1",
        "--schedulers",
        "ddim,euler",
        "--steps",
        "3",
        "--groups",
        "1",
        "--per-group",
        "3",
        "--json",
    ];
    let mut args = vec!["norm-sweep", "--classes", "bag", "-o", "out"];
    args.extend(tiny);
    let r = w.json(&args);
    assert_eq!(r, file_json(&w, "out/norm-sweep.json"));
    assert_eq!(r["classes"][0][0], "bag");
    assert_eq!(r["settings"]["scales"], serde_json::json!([0.5, 1.0, 1.5]));
    let samplers = r["samplers"].as_array().unwrap();
    assert_eq!(samplers.len(), 2);
    assert_eq!(samplers[1]["sampler"], "euler");
    for p in samplers[0]["points"].as_array().unwrap() {
        assert!((num(p, "measured_scale") - num(p, "scale")).abs() < 1e-5);
        assert_eq!(p["draws"][0]["images"], 3);
    }
    assert_eq!(r["seed_norms"][0]["name"], "inverted seeds");
    let md = std::fs::read_to_string(w.path("out/norm-sweep.md")).unwrap();
    assert!(
        md.contains("Classifier accuracy") && md.contains("| ddim | euler |"),
        "{md}"
    );
    let png = image::open(w.path("out/quality-vs-norm.png")).unwrap();
    assert!(png.width() >= 900 && png.height() > 900);

    // the bundled images as an ImageFolder give the same numbers
    bundled_folder(&w.path("real"), &["bag"]);
    let mut args = vec!["norm-sweep", "--real", "real", "-o", "folder"];
    args.extend(tiny);
    let f = w.json(&args);
    assert_eq!(f["classes"][0], serde_json::json!(["bag", "bag"]));
    assert_eq!(f["samplers"], r["samplers"]);
    assert_eq!(f["seed_norms"], r["seed_norms"]);
}

/// Any model folder with any ONNX classifier: the embedded model's ONNX export and its classifier
/// as ONNX give the embedded model's numbers.
#[test]
fn norm_sweep_runs_on_a_model_folder_with_an_onnx_classifier() {
    nao_test_support::ort_library();
    let w = Work::new();
    w.json(&["export-onnx", "--out", "onnx", "--json"]);
    std::fs::write(w.path("labels.txt"), nao_burn::CLASS_SLUGS.join("\n")).unwrap();
    bundled_folder(&w.path("real"), &["bag"]);
    let tiny = [
        "--real",
        "real",
        "--scales",
        "3",
        "--seeds",
        "3",
        "--draws",
        "1",
        "--schedulers",
        "ddim",
        "--steps",
        "3",
        "--groups",
        "1",
        "--per-group",
        "3",
        "--json",
    ];
    let mut args = vec!["norm-sweep", "-o", "embedded"];
    args.extend(tiny);
    let embedded = w.json(&args);
    let classifier = format!("onnx/{}", nao_burn::ONNX_CLASSIFIER_FILE);
    let mut args = vec![
        "norm-sweep",
        "--model",
        "onnx",
        "--classifier",
        &classifier,
        "--labels",
        "labels.txt",
        "-o",
        "onnx-out",
    ];
    args.extend(tiny);
    let onnx = w.json(&args);
    assert!(
        onnx["classifier"]
            .as_str()
            .unwrap()
            .contains("classifier.onnx"),
        "{}",
        onnx["classifier"]
    );
    let (a, b) = (
        embedded["samplers"][0]["points"].as_array().unwrap(),
        onnx["samplers"][0]["points"].as_array().unwrap(),
    );
    assert_eq!(a.len(), 3);
    for (p, q) in a.iter().zip(b) {
        assert!((num(q, "measured_scale") - num(q, "scale")).abs() < 1e-5);
        assert_eq!(p["accuracy"]["mean"], q["accuracy"]["mean"], "{p} {q}");
        let (f, g) = (
            num(&p["frechet_distance"], "mean"),
            num(&q["frechet_distance"], "mean"),
        );
        assert!(
            (f - g).abs() <= 1e-2 * f.abs().max(1.0),
            "Fréchet {f} against {g}"
        );
    }
}

#[test]
fn sampler_sweep_writes_its_tables_and_picture() {
    let w = Work::new();
    let r = w.json(&[
        "sampler-sweep",
        "--schedulers",
        "ddim,dpm++2m",
        "--steps",
        "2,3",
        "--invert-steps",
        "3",
        "--groups",
        "1",
        "--per-group",
        "2",
        "--interior",
        "1",
        "--methods",
        "prompt-only,nao",
        "-o",
        "out",
        "--json",
    ]);
    assert_eq!(r, file_json(&w, "out/sampler-sweep.json"));
    // the rare classes by default
    let classes: Vec<&str> = r["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["class"].as_str().unwrap())
        .collect();
    assert_eq!(classes, ["bag", "ankle boot"]);
    let runs = r["classes"][0]["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs[3]["sampler"], "dpm++2m");
    assert_eq!(runs[3]["steps"], 3);
    assert_eq!(runs[0]["methods"][1]["method"], "nao");
    assert_eq!(runs[0]["methods"][1]["pooled"]["images"], 3);
    let md = std::fs::read_to_string(w.path("out/sampler-sweep.md")).unwrap();
    assert!(
        md.contains("| dpm++2m | 3 |") && md.contains("NAO's rank"),
        "{md}"
    );
    assert!(image::open(w.path("out/centroids-by-sampler.png")).is_ok());
}

#[test]
fn bad_options_are_named_and_leave_no_output() {
    let w = Work::new();
    let fails = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["-o", "never"]);
        let e = w.fails(&a);
        assert!(!w.path("never").exists(), "{args:?} left an output");
        e
    };
    let e = fails(&["norm-sweep", "--min-scale", "1.2", "--max-scale", "0.8"]);
    assert!(
        e.contains("--min-scale 1.2") && e.contains("--max-scale 0.8"),
        "{e}"
    );
    let e = fails(&["norm-sweep", "--max-scale", "0"]);
    assert!(e.contains("--max-scale 0"), "{e}");
    let e = fails(&["norm-sweep", "--seeds", "0"]);
    assert!(e.contains("--seeds 0"), "{e}");
    let e = fails(&["norm-sweep", "--classes", "zebra"]);
    assert!(e.contains("--classes zebra"), "{e}");
    let e = fails(&["norm-sweep", "--schedulers", "warp-drive"]);
    assert!(e.contains("warp-drive"), "{e}");
    let e = fails(&["sampler-sweep", "--steps", "10,0"]);
    assert!(e.contains("--steps 0"), "{e}");
    let e = fails(&["sampler-sweep", "--groups", "5", "--per-group", "5"]);
    assert!(
        e.contains("--groups 5") && e.contains("20 real images"),
        "{e}"
    );
    let e = fails(&["sampler-sweep", "--real", "missing"]);
    assert!(e.contains("missing"), "{e}");
    let e = fails(&["sampler-sweep", "--classifier", "c.onnx"]);
    assert!(e.contains("--labels"), "{e}");
}
