//! `nao-longtail` on a small synthetic Fashion-MNIST (20 training and 10 test images per class,
//! each class its own stripe pattern): the real images it picks, the configurations and their
//! training sets, the report files, resuming from finished runs, retraining when the recipe
//! changes, and bad inputs. `cargo xtask longtail --quick` (a CI step) runs the whole
//! experiment on the real data with `nao augment`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nao_burn_train::encode_idx;
use serde_json::Value;

const TRAIN_PER_CLASS: usize = 20;
const TEST_PER_CLASS: usize = 10;

/// Class `c`'s image `i`: a horizontal stripe at row 2c, with a little per-image variation.
fn image(c: usize, i: usize) -> Vec<u8> {
    let mut px = vec![0u8; 784];
    for x in 0..28 {
        px[(2 * c + 2) * 28 + x] = 200 + (i % 50) as u8;
        px[(2 * c + 3) * 28 + (x + i) % 28] = 120;
    }
    px
}

fn write_split(dir: &Path, split: &str, per_class: usize) {
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for i in 0..per_class {
        for c in 0..10 {
            pixels.extend(image(c, i));
            labels.push(c as u8);
        }
    }
    let n = labels.len();
    std::fs::write(
        dir.join(format!("{split}-images-idx3-ubyte")),
        encode_idx(&[n, 28, 28], &pixels),
    )
    .unwrap();
    std::fs::write(
        dir.join(format!("{split}-labels-idx1-ubyte")),
        encode_idx(&[n], &labels),
    )
    .unwrap();
}

struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Self {
        let w = Self {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir(w.path("data")).unwrap();
        write_split(&w.path("data"), "train", TRAIN_PER_CLASS);
        write_split(&w.path("data"), "t10k", TEST_PER_CLASS);
        // generated images: 3 per rare class
        for class in ["bag", "ankle-boot"] {
            let dir = w.path("gen").join(class);
            std::fs::create_dir_all(&dir).unwrap();
            let c = if class == "bag" { 8 } else { 9 };
            for i in 0..3 {
                image::GrayImage::from_raw(28, 28, image(c, i + 7))
                    .unwrap()
                    .save(dir.join(format!("{i:03}.png")))
                    .unwrap();
            }
        }
        w
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nao-longtail"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{args:?}: {stderr}");
        stderr
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(!stderr.contains("panicked"), "{stderr}");
        stderr
    }
}

/// `train` with a tiny recipe; `extra` adds --steps and --per-class (and anything else).
fn train_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "train",
        "--data",
        "data",
        "--real-per-class",
        "1",
        "--work",
        "work",
        "--generated",
        "nao=gen",
        "--seeds",
        "2",
        "--channels",
        "2",
        "--hidden",
        "8",
        "--batch",
        "8",
        "--results",
        "results",
        "--markdown",
        "results.md",
    ];
    a.extend(extra);
    a
}

fn results(w: &Work) -> Value {
    serde_json::from_str(&std::fs::read_to_string(w.path("results/results.json")).unwrap()).unwrap()
}

#[test]
fn real_images_are_drawn_from_the_long_tailed_set_deterministically() {
    let w = Work::new();
    for out in ["a", "b"] {
        w.ok(&[
            "real",
            "--data",
            "data",
            "--real-per-class",
            "1",
            "--out",
            out,
        ]);
    }
    // every test image of the rare classes, for `nao eval`
    w.ok(&[
        "real",
        "--data",
        "data",
        "--real-per-class",
        "1",
        "--out",
        "a",
        "--test-out",
        "t",
    ]);
    for class in ["bag", "ankle-boot"] {
        assert_eq!(
            std::fs::read_dir(w.path("t").join(class)).unwrap().count(),
            TEST_PER_CLASS
        );
    }
    for class in ["bag", "ankle-boot"] {
        let a = std::fs::read(w.path("a").join(class).join("00.png")).unwrap();
        assert_eq!(
            a,
            std::fs::read(w.path("b").join(class).join("00.png")).unwrap()
        );
        let img = image::load_from_memory(&a).unwrap().into_luma8();
        // the stripe of its class (bag: row 18, ankle boot: row 20)
        let row = if class == "bag" { 18 } else { 20 };
        assert!(img.get_pixel(5, row).0[0] >= 200, "{class}");
    }
    // the long-tailed set keeps 1 % of a rare class: 1 of 20 here, so 2 cannot be drawn
    let e = w.fails(&[
        "real",
        "--data",
        "data",
        "--real-per-class",
        "2",
        "--out",
        "c",
    ]);
    assert!(
        e.contains("class 8 has 1 images") && e.contains("2 were asked"),
        "{e}"
    );
    assert!(!w.path("c").exists());
}

#[test]
fn every_configuration_is_trained_scored_reported_and_resumed() {
    let w = Work::new();
    let first = w.ok(&train_args(&["--steps", "5", "--per-class", "3"]));
    assert!(first.contains("6 runs to train, 0 kept"), "{first}");
    let r = results(&w);
    let configs = r["configs"].as_array().unwrap();
    let names: Vec<&str> = configs
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["long-tail", "oversample", "+nao"]);
    // 8 common classes × 20 + 2 rare × 1; oversampled to 20 each; plus 3 generated per class
    let images: Vec<u64> = configs
        .iter()
        .map(|c| c["train_images"].as_u64().unwrap())
        .collect();
    assert_eq!(images, [162, 200, 168]);
    assert_eq!(r["runs"].as_array().unwrap().len(), 6);
    assert_eq!(r["test_images"], 100);
    for c in configs {
        for key in ["rare", "overall", "balanced"] {
            let s = &c[key];
            assert_eq!(s["values"].as_array().unwrap().len(), 2);
            let mean = s["mean"].as_f64().unwrap();
            assert!((0.0..=1.0).contains(&mean), "{c}");
        }
    }
    assert!(!r["conclusion"].as_array().unwrap().is_empty());
    let md = std::fs::read_to_string(w.path("results.md")).unwrap();
    assert!(
        md.contains("| +nao |") && md.contains("results/longtail.png"),
        "{md}"
    );
    let png = image::open(w.path("results/longtail.png")).unwrap();
    assert!(png.width() >= 1000);

    // the same command keeps every finished run and reports the same scores
    let again = w.ok(&train_args(&["--steps", "5", "--per-class", "3"]));
    assert!(again.contains("0 runs to train, 6 kept"), "{again}");
    assert_eq!(results(&w)["runs"], r["runs"]);
    // another recipe retrains
    let other = w.ok(&train_args(&["--steps", "6", "--per-class", "3"]));
    assert!(other.contains("6 runs to train, 0 kept"), "{other}");
    // `nao eval`'s measures of the generated sets join the report
    let eval = serde_json::json!({"classifier": "c", "k": 5, "methods": [{"method": "nao",
        "overall": {"accuracy": 0.5, "frechet_distance": 12.5, "precision": 0.25,
        "recall": 0.125, "coverage": 0.5, "diversity": 3.0, "real_diversity": 4.0,
        "mean_log_chi": -0.5}}]});
    std::fs::write(w.path("eval.json"), eval.to_string()).unwrap();
    w.ok(&train_args(&[
        "--steps",
        "6",
        "--per-class",
        "3",
        "--eval",
        "eval.json",
    ]));
    let md = std::fs::read_to_string(w.path("results.md")).unwrap();
    assert!(
        md.contains("| nao | 50.0 % | 12.50 | 0.250 | 0.125 | 0.500 | 3.00 | -0.50 |"),
        "{md}"
    );
    assert_eq!(results(&w)["eval"], eval);
}

#[test]
fn bad_inputs_are_named_and_write_nothing() {
    let w = Work::new();
    let e = w.fails(&train_args(&["--steps", "5", "--per-class", "4"]));
    assert!(
        e.contains("gen") && e.contains("3 images of bag, 4 needed"),
        "{e}"
    );
    std::fs::remove_dir_all(w.path("gen/ankle-boot")).unwrap();
    let e = w.fails(&train_args(&["--steps", "5", "--per-class", "3"]));
    assert!(e.contains("ankle-boot"), "{e}");
    let e = w.fails(&train_args(&[
        "--steps",
        "5",
        "--per-class",
        "3",
        "--generated",
        "nao",
    ]));
    assert!(e.contains("METHOD=DIR"), "{e}");
    let e = w.fails(&train_args(&["--steps", "0", "--per-class", "3"]));
    assert!(e.contains("steps"), "{e}");
    let e = w.fails(&[
        "train",
        "--data",
        "nowhere",
        "--work",
        "work",
        "--per-class",
        "1",
        "--results",
        "results",
        "--markdown",
        "results.md",
    ]);
    assert!(e.contains("nowhere"), "{e}");
    assert!(!w.path("results").exists() && !w.path("results.md").exists());
}
