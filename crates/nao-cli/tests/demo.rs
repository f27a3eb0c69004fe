//! `nao demo --quick` end to end on the embedded model, and the model commands without
//! `--model` (the embedded default).

mod common;

use common::Work;
use serde_json::Value;

fn finite_numbers(v: &Value, path: &str, count: &mut usize) {
    match v {
        Value::Number(n) => {
            let x = n.as_f64().unwrap();
            assert!(x.is_finite(), "{path} = {x} is not finite");
            *count += 1;
        }
        Value::Null => panic!("{path} is null (a NaN or infinity in the report?)"),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .for_each(|(i, x)| finite_numbers(x, &format!("{path}[{i}]"), count)),
        Value::Object(o) => o
            .iter()
            .for_each(|(k, x)| finite_numbers(x, &format!("{path}.{k}"), count)),
        _ => {}
    }
}

#[test]
fn the_demo_samples_with_the_scheduler_it_is_given() {
    let w = Work::new();
    let v = w.json(&[
        "demo",
        "--quick",
        "--steps",
        "6",
        "--scheduler",
        "dpm++2m-karras",
        "--out",
        "demo",
        "--json",
    ]);
    assert_eq!(v["settings"]["scheduler"], "dpm++2m-karras");
    let md = std::fs::read_to_string(w.path("demo/report.md")).unwrap();
    assert!(md.contains("dpm++2m-karras sampling"), "{md}");
    let e = w.fails(&["demo", "--quick", "--scheduler", "pndm", "--steps", "3"]);
    assert!(e.contains("--steps 3") && e.contains("at least 4"), "{e}");
}

#[test]
fn quick_demo_writes_a_complete_finite_report() {
    let w = Work::new();
    let out = w.run(&["demo", "--quick", "--out", "demo", "--json"]);
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).expect("one JSON object on stdout");
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("demo/report.json")).unwrap())
            .unwrap();
    assert_eq!(printed, file);

    let rare = file["rare_concepts"].as_object().unwrap();
    assert_eq!(rare.keys().collect::<Vec<_>>(), ["ankle boot", "bag"]);
    for (class, methods) in rare {
        for m in [
            "prompt_only",
            "euclidean",
            "normalized",
            "spherical",
            "gaussian",
            "nao",
            "nao_seedselect",
        ] {
            let s = &methods[m];
            let acc = s["accuracy"]
                .as_f64()
                .unwrap_or_else(|| panic!("{class}/{m}: no accuracy"));
            assert!((0.0..=1.0).contains(&acc));
            assert!(s["mean_log_chi"].as_f64().unwrap().is_finite());
            // --quick: one group of 5 images, 2 interior points per path → 1 + 5·2 seeds.
            assert_eq!(s["n"].as_u64().unwrap(), 11, "{class}/{m}");
            // against the class's 20 bundled real images, in the classifier's features
            let fd = s["frechet_distance"].as_f64().unwrap();
            assert!(fd.is_finite() && fd > 0.0, "{class}/{m}: {s}");
            for key in ["precision", "recall"] {
                let v = s[key].as_f64().unwrap();
                assert!((0.0..=1.0).contains(&v), "{class}/{m} {key}: {v}");
            }
            assert!(s.get("relative_contrast").is_none());
        }
        // SeedSelect moved NAO's seeds (the same count, other norms)
        let norm = |m: &str| methods[m]["mean_norm"].as_f64().unwrap();
        assert_ne!(norm("nao_seedselect"), norm("nao"), "{class}");
        // The Euclidean mean of seeds falls inside the shell, the NAO centroid does not.
        let chi = |m: &str| methods[m]["mean_log_chi"].as_f64().unwrap();
        assert!(
            chi("nao") > chi("euclidean"),
            "{class}: NAO log χ {} ≤ Euclidean {}",
            chi("nao"),
            chi("euclidean")
        );
    }
    let interp = &file["interpolation"]["methods"];
    for m in ["lerp", "slerp", "nao"] {
        assert_eq!(interp[m]["norms"].as_array().unwrap().len(), 5, "{m}");
    }
    // The NAO path is the cheapest in the NAO metric.
    let cost = |m: &str| interp[m]["nao_cost"].as_f64().unwrap();
    assert!(cost("nao") <= cost("slerp") + 1e-9 && cost("nao") <= cost("lerp") + 1e-9);

    let mut numbers = 0;
    finite_numbers(&file, "report", &mut numbers);
    assert!(numbers > 100, "only {numbers} numbers in the report");
    for f in [
        "report.md",
        "interpolation.png",
        "interpolation-nao.gif",
        "norms.png",
        "rare-bag.png",
        "rare-ankle-boot.png",
    ] {
        let p = w.path(&format!("demo/{f}"));
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{f} missing or empty"
        );
    }
    // the report says a quick run cannot rank the methods, and shows the new columns
    let md = std::fs::read_to_string(w.path("demo/report.md")).unwrap();
    assert!(md.contains("too few to rank the methods"), "{md}");
    assert!(
        md.contains("| Fréchet distance | precision | recall |"),
        "{md}"
    );
    let png = image::open(w.path("demo/interpolation.png")).unwrap();
    assert!(png.width() > 5 * 84 && png.height() > 3 * 84);
    let leftovers: Vec<_> = std::fs::read_dir(w.path("demo"))
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

#[test]
fn demo_rejects_bad_options_clearly() {
    let w = Work::new();
    let err = w.fails(&["demo", "--quick", "--groups", "5"]);
    assert!(err.contains("--groups 5"), "{err}");
    let err = w.fails(&["demo", "--quick", "--interpolation-class", "giraffe"]);
    assert!(err.contains("giraffe") && err.contains("sneaker"), "{err}");
}

#[test]
fn sample_and_invert_default_to_the_embedded_model() {
    let w = Work::new();
    w.json(&[
        "seed",
        "--shape",
        "4,7,7",
        "--seed",
        "3",
        "--count",
        "2",
        "-o",
        "seeds.npy",
        "--json",
    ]);
    let v = w.json(&[
        "sample",
        "seeds.npy",
        "--prompt",
        "sneaker",
        "--steps",
        "10",
        "-o",
        "imgs",
        "--json",
    ]);
    assert_eq!(v["model"], "embedded");
    let img = image::open(w.path("imgs/000.png")).unwrap();
    assert_eq!((img.width(), img.height()), (28, 28));

    let v = w.json(&[
        "invert",
        "imgs/000.png",
        "--prompt",
        "sneaker",
        "--steps",
        "10",
        "-o",
        "back.npy",
        "--json",
    ]);
    assert_eq!(v["model"], "embedded");
    let back = nao_npy::read_npy(w.path("back.npy")).unwrap();
    assert_eq!(back.shape(), [1, 4, 7, 7]);

    let err = w.fails(&["sample", "seeds.npy", "--prompt", "giraffe", "-o", "x"]);
    assert!(
        err.contains("giraffe") && err.contains("ankle boot"),
        "{err}"
    );
}
