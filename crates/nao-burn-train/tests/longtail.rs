//! `nao-longtail run` on a small synthetic Fashion-MNIST (200 training and 10 test images per
//! class, each class its own stripe pattern) with the embedded model: every configuration
//! trained, scored and reported, the generated sets measured, a second run reusing everything,
//! and bad inputs. The plan, the pool, the aggregation and the conclusion have unit tests in
//! the library; `cargo xtask longtail --quick` (a CI step) runs the experiment on the real data.
#![cfg(feature = "embedded")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nao_burn_train::encode_idx;
use serde_json::Value;

const TRAIN_PER_CLASS: usize = 200;
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

/// `run --quick` with the synthetic data, 2 real and 3 generated images per rare class (2 DDIM
/// steps), 2 seeds; `extra` adds anything else.
fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "run",
        "--quick",
        "--data",
        "data",
        "--work",
        "work",
        "--real-per-class",
        "2",
        "--per-class",
        "3",
        "--steps",
        "2",
        "--seeds",
        "2",
        "--train-steps",
        "5",
        "--command",
        "the test",
    ];
    a.extend(extra);
    a
}

fn results(w: &Work) -> Value {
    serde_json::from_str(&std::fs::read_to_string(w.path("work/results/results.json")).unwrap())
        .unwrap()
}

#[test]
fn every_configuration_is_generated_trained_scored_reported_and_resumed() {
    let w = Work::new();
    let first = w.ok(&run_args(&[]));
    assert!(first.contains("16 runs to train, 0 kept"), "{first}");
    assert!(
        first.contains("nao: 6 images (6 made now, 0 kept)"),
        "{first}"
    );
    let r = results(&w);
    assert_eq!(r["command"], "the test");
    let configs = r["configs"].as_array().unwrap();
    let names: Vec<&str> = configs
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "long-tail",
            "oversample",
            "+prompt-only",
            "+euclidean",
            "+normalized",
            "+spherical",
            "+gaussian",
            "+nao"
        ]
    );
    // 8 common classes × 200 + 2 rare × 2; oversampled to 200 each; plus 3 generated per class
    let images: Vec<u64> = configs
        .iter()
        .map(|c| c["train_images"].as_u64().unwrap())
        .collect();
    assert_eq!(images, [1604, 2000, 1610, 1610, 1610, 1610, 1610, 1610]);
    assert_eq!(r["runs"].as_array().unwrap().len(), 16);
    assert_eq!(r["test_images"], 100);
    assert_eq!(r["generated_per_rare_class"], 3);
    for c in configs {
        let s = &c["rare"];
        assert_eq!(s["values"].as_array().unwrap().len(), 2);
        assert!((0.0..=1.0).contains(&s["mean"].as_f64().unwrap()), "{c}");
    }
    let conclusion = r["conclusion"].as_array().unwrap();
    assert!(conclusion
        .iter()
        .any(|l| l.as_str().unwrap().starts_with("+nao against +gaussian: ")));
    // the generated sets, measured against the rare classes' test images
    let methods: Vec<&str> = r["eval"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(
        methods,
        [
            "prompt-only",
            "euclidean",
            "normalized",
            "spherical",
            "gaussian",
            "nao"
        ]
    );
    assert!(w.path("work/eval/eval.json").is_file());
    let md = std::fs::read_to_string(w.path("work/results.md")).unwrap();
    for part in [
        "| +nao | 1610 |",
        "results/longtail.png",
        "## What the generated images are like",
        "| nao | ",
        "```sh\nthe test\n```",
    ] {
        assert!(md.contains(part), "{part}: {md}");
    }
    let png = image::open(w.path("work/results/longtail.png")).unwrap();
    assert!(png.width() >= 1000);
    let real = std::fs::read(w.path("work/real/bag/01.png")).unwrap();

    // the same command makes no image and trains no run, and reports the same scores
    let again = w.ok(&run_args(&[]));
    assert!(again.contains("0 runs to train, 16 kept"), "{again}");
    assert!(
        again.contains("nao: 6 images (0 made now, 6 kept)"),
        "{again}"
    );
    assert_eq!(results(&w)["runs"], r["runs"]);
    assert_eq!(std::fs::read(w.path("work/real/bag/01.png")).unwrap(), real);

    // a generated set of another size is refused, naming the option; the report stays
    let e = w.fails(&run_args(&["--per-class", "4"]));
    assert!(
        e.contains("generated/prompt-only")
            && e.contains("per_class (--per-class): 3 in run.json, 4 now"),
        "{e}"
    );
    assert_eq!(results(&w)["runs"], r["runs"]);
}

#[test]
fn bad_inputs_are_named_and_write_nothing() {
    let w = Work::new();
    let e = w.fails(&run_args(&["--seeds", "0"]));
    assert!(e.contains("--seeds 0"), "{e}");
    let e = w.fails(&run_args(&["--train-steps", "0"]));
    assert!(e.contains("steps"), "{e}");
    // the long-tailed set keeps 1 % of a rare class: 2 of 200 here, so 3 cannot be drawn
    let e = w.fails(&run_args(&["--real-per-class", "3"]));
    assert!(
        e.contains("class 8 has 2 images") && e.contains("3 were asked"),
        "{e}"
    );
    let e = w.fails(&["run", "--data", "nowhere", "--work", "work"]);
    assert!(e.contains("nowhere"), "{e}");
    assert!(!w.path("work/results").exists() && !w.path("work/results.md").exists());
    assert!(!w.path("work/generated").exists());
}
