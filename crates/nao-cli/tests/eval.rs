//! `nao eval`: real images against themselves (every measure at its ideal value), an `nao
//! augment` output read through its manifest, two methods side by side, the embedded classifier
//! as an ONNX file giving the embedded classifier's numbers, and bad inputs named without an
//! output left behind. Real images are the embedded model's bundled held-out images.

mod common;

use std::path::{Path, PathBuf};

use common::{bundled_folder, Work};
use serde_json::Value;

/// The classes the tests use (slugs of the embedded model's classes).
const CLASSES: [&str; 2] = ["bag", "ankle-boot"];

fn real(w: &Work) -> PathBuf {
    let dir = w.path("real");
    bundled_folder(&dir, &CLASSES);
    dir
}

fn num(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn method<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["methods"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == name)
        .unwrap_or_else(|| panic!("no method {name} in {report}"))
}

#[test]
fn real_images_against_themselves_score_the_ideal_values() {
    let w = Work::new();
    let real = real(&w);
    let copy = w.path("copy");
    bundled_folder(&copy, &CLASSES);
    let r = w.json(&[
        "eval",
        copy.to_str().unwrap(),
        "--real",
        real.to_str().unwrap(),
        "-o",
        "out",
        "--json",
    ]);
    // the files hold what --json printed
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out/eval.json")).unwrap()).unwrap();
    assert_eq!(file, r);
    let md = std::fs::read_to_string(w.path("out/eval.md")).unwrap();
    assert!(
        md.contains("| copy |") && md.contains("Fréchet distance"),
        "{md}"
    );
    let png = image::open(w.path("out/eval.png")).unwrap();
    assert!(png.width() > 200 && png.height() > 200);

    assert_eq!(r["k"], 5);
    let m = method(&r, "copy");
    for (scope, s) in std::iter::once(("overall", &m["overall"])).chain(
        m["classes"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(c, v)| (c.as_str(), v)),
    ) {
        let images = if scope == "overall" { 40 } else { 20 };
        assert_eq!(s["images"], images, "{scope}");
        assert_eq!(s["real_images"], images, "{scope}");
        // identical sets: no distance, every point inside the other manifold
        // (to rounding, against the squared feature scale)
        let scale = num(&s["real_diversity"]).powi(2).max(1.0);
        assert!(
            num(&s["frechet_distance"]).abs() < 1e-9 * scale,
            "{scope}: {s}"
        );
        assert_eq!(num(&s["precision"]), 1.0, "{scope}");
        assert_eq!(num(&s["recall"]), 1.0, "{scope}");
        assert_eq!(num(&s["coverage"]), 1.0, "{scope}");
        assert_eq!(num(&s["diversity"]), num(&s["real_diversity"]), "{scope}");
        assert!(num(&s["diversity"]) > 0.0);
        // the held-out images are classified well, and no seeds are known
        assert!(num(&s["accuracy"]) >= 0.8, "{scope}: {s}");
        assert!((0.0..=1.0).contains(&num(&s["mean_confidence"])));
        assert!(s["mean_log_chi"].is_null());
    }
    assert_eq!(m["classes"].as_object().unwrap().len(), 2);
}

#[test]
fn augment_outputs_are_read_through_their_manifests_one_method_each() {
    let w = Work::new();
    let real = real(&w);
    let few = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/augment-real");
    for method in ["nao", "euclidean"] {
        w.json(&[
            "augment",
            few.to_str().unwrap(),
            "-o",
            method,
            "--per-class",
            "6",
            "--steps",
            "4",
            "--path-positions",
            "2",
            "--method",
            method,
            "--json",
        ]);
    }
    let r = w.json(&[
        "eval",
        "nao",
        "euclidean",
        "--real",
        real.to_str().unwrap(),
        "-o",
        "out",
        "--k",
        "3",
        "--json",
    ]);
    assert_eq!(r["k"], 3);
    assert_eq!(r["methods"].as_array().unwrap().len(), 2);
    for name in ["nao", "euclidean"] {
        let m = method(&r, name);
        // the manifest's log χ, averaged
        let lines: Vec<Value> = std::fs::read_to_string(w.path(name).join("manifest.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 12);
        let mean = lines.iter().map(|l| num(&l["log_chi"])).sum::<f64>() / 12.0;
        let overall = &m["overall"];
        assert_eq!(overall["images"], 12);
        assert_eq!(overall["real_images"], 40);
        assert!((num(&overall["mean_log_chi"]) - mean).abs() < 1e-9);
        for class in CLASSES {
            let c = &m["classes"][class];
            assert_eq!(c["images"], 6, "{name} {class}");
            let fd = num(&c["frechet_distance"]);
            assert!(fd.is_finite() && fd > 0.0, "{name} {class}: {c}");
            for key in ["precision", "recall", "coverage", "accuracy"] {
                assert!((0.0..=1.0).contains(&num(&c[key])), "{name} {class} {key}");
            }
        }
    }
    // a NAO centroid's seeds lie on the χ shell; the Euclidean mean's fall inside it, where
    // log χ is far lower
    assert!(
        num(&method(&r, "nao")["overall"]["mean_log_chi"])
            > num(&method(&r, "euclidean")["overall"]["mean_log_chi"])
    );
}

#[test]
fn an_onnx_classifier_gives_the_embedded_classifiers_numbers() {
    nao_test_support::ort_library();
    let w = Work::new();
    let real = real(&w);
    let copy = w.path("copy");
    bundled_folder(&copy, &CLASSES);
    // half the images of each class, so that the Fréchet distance is not zero
    for class in CLASSES {
        for i in 10..20 {
            std::fs::remove_file(copy.join(class).join(format!("{i:02}.png"))).unwrap();
        }
    }
    w.json(&["export-onnx", "--out", "onnx", "--json"]);
    std::fs::write(w.path("labels.txt"), nao_burn::CLASS_SLUGS.join("\n")).unwrap();
    let eval = |extra: &[&str], out: &str| {
        let mut args = vec![
            "eval",
            copy.to_str().unwrap(),
            "--real",
            real.to_str().unwrap(),
            "-o",
            out,
            "--json",
        ];
        args.extend(extra);
        w.json(&args)
    };
    let embedded = eval(&[], "embedded");
    let classifier = format!("onnx/{}", nao_burn::ONNX_CLASSIFIER_FILE);
    let onnx = eval(
        &["--classifier", &classifier, "--labels", "labels.txt"],
        "onnx-out",
    );
    assert!(onnx["classifier"]
        .as_str()
        .unwrap()
        .contains("classifier.onnx"));
    let (a, b) = (
        &method(&embedded, "copy")["overall"],
        &method(&onnx, "copy")["overall"],
    );
    assert_eq!(a["accuracy"], b["accuracy"]);
    let fd = num(&a["frechet_distance"]);
    assert!(fd > 0.0);
    assert!(
        (fd - num(&b["frechet_distance"])).abs() < 1e-3 * fd,
        "{a} {b}"
    );
    for key in ["precision", "recall", "coverage"] {
        assert_eq!(a[key], b[key], "{key}");
    }
    assert!((num(&a["mean_confidence"]) - num(&b["mean_confidence"])).abs() < 1e-4);

    // the input the model declares must agree with the options
    let e = w.fails(&[
        "eval",
        copy.to_str().unwrap(),
        "--real",
        real.to_str().unwrap(),
        "--classifier",
        &classifier,
        "--labels",
        "labels.txt",
        "--input-size",
        "32,32",
        "-o",
        "never",
    ]);
    assert!(e.contains("32") && e.contains("28"), "{e}");
    let e = w.fails(&[
        "eval",
        copy.to_str().unwrap(),
        "--real",
        real.to_str().unwrap(),
        "--classifier",
        &classifier,
        "--labels",
        "labels.txt",
        "--features-output",
        "penultimate",
        "-o",
        "never",
    ]);
    assert!(e.contains("penultimate"), "{e}");
    assert!(!w.path("never").exists());
}

#[test]
fn bad_inputs_are_named_and_leave_no_output() {
    let w = Work::new();
    let real = real(&w);
    let r = real.to_str().unwrap();
    let copy = w.path("copy");
    bundled_folder(&copy, &["bag", "sneaker"]);
    let c = copy.to_str().unwrap();
    let fails = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["-o", "never"]);
        let e = w.fails(&a);
        assert!(!w.path("never").exists(), "{args:?} left an output");
        e
    };
    // a generated class without real images
    let e = fails(&["eval", c, "--real", r]);
    assert!(e.contains("sneaker") && e.contains("real"), "{e}");
    // k = 0
    let e = fails(&["eval", r, "--real", r, "--k", "0"]);
    assert!(e.contains("--k"), "{e}");
    // two folders of one method
    std::fs::create_dir(w.path("again")).unwrap();
    bundled_folder(&w.path("again/real"), &["bag"]);
    let again = w.path("again/real");
    let e = fails(&["eval", r, again.to_str().unwrap(), "--real", r]);
    assert!(e.contains("both hold method 'real'"), "{e}");
    // no class folders, a missing folder
    std::fs::create_dir(w.path("flat")).unwrap();
    let e = fails(&["eval", r, "--real", w.path("flat").to_str().unwrap()]);
    assert!(e.contains("flat") && e.contains("ImageFolder"), "{e}");
    let e = fails(&["eval", "missing", "--real", r]);
    assert!(e.contains("missing"), "{e}");
    // a class folder no class of the classifier has
    bundled_folder(&w.path("odd"), &["bag"]);
    std::fs::rename(w.path("odd/bag"), w.path("odd/zebra")).unwrap();
    let e = fails(&[
        "eval",
        w.path("odd").to_str().unwrap(),
        "--real",
        w.path("odd").to_str().unwrap(),
    ]);
    assert!(e.contains("zebra"), "{e}");
    // a manifest line that is not one, and one naming a missing file
    std::fs::create_dir_all(w.path("gen/bag")).unwrap();
    std::fs::write(w.path("gen/manifest.jsonl"), "{not json\n").unwrap();
    let e = fails(&["eval", "gen", "--real", r]);
    assert!(e.contains("manifest.jsonl:1"), "{e}");
    std::fs::write(
        w.path("gen/manifest.jsonl"),
        concat!(
            r#"{"class":"bag","index":0,"method":"nao","prompt":"bag","source":{"kind":"centroid"},"#,
            r#""round":0,"seed_norm":14.0,"log_chi":-1.0,"file":"bag/000.png","sha256":"00","#,
            r#""model":"embedded","device":"cpu"}"#,
            "\n"
        ),
    )
    .unwrap();
    let e = fails(&["eval", "gen", "--real", r]);
    assert!(e.contains("bag/000.png") && e.contains("missing"), "{e}");
    // an image that is not one
    std::fs::write(copy.join("bag/broken.png"), b"not a png").unwrap();
    std::fs::remove_dir_all(copy.join("sneaker")).unwrap();
    let e = fails(&["eval", c, "--real", r]);
    assert!(e.contains("broken.png"), "{e}");
    // the output may not be an existing file
    std::fs::write(w.path("taken"), b"x").unwrap();
    let e = w.fails(&["eval", r, "--real", r, "-o", "taken"]);
    assert!(e.contains("taken"), "{e}");
    assert_eq!(std::fs::read(w.path("taken")).unwrap(), b"x");
}
