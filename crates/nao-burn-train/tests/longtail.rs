//! `nao-longtail run` on a small synthetic Fashion-MNIST (300 training and 10 test images per
//! class, each class its own stripe pattern; 3 real images per rare class in the long-tailed
//! set) with the embedded model: every configuration of a grid with a source, SeedSelect, two
//! shot counts and the adaptive seeds generated, trained, scored and reported, the generated
//! sets measured, a second run reusing everything, and bad inputs. The plan, the pool, the aggregation and the conclusion have unit tests in
//! the library; `cargo xtask longtail --quick` (a CI step) runs the experiment on the real data.
#![cfg(feature = "embedded")]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use nao_burn_train::encode_idx;
use serde_json::Value;

const TRAIN_PER_CLASS: usize = 300;
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

/// `run --quick` with the synthetic data: 3 generated images per rare class (2 DDIM steps) from
/// 2 real ones with every source of the quick grid (pairs) and from all 3 with the best; 2
/// seeds and a third for the rows within the spread; `extra` adds anything else.
fn run_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "run",
        "--quick",
        "--data",
        "data",
        "--work",
        "work",
        "--shots",
        "2",
        "--best-source-shots",
        "3",
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

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect()
}

#[test]
fn every_configuration_is_generated_trained_scored_reported_and_resumed() {
    let w = Work::new();
    let first = w.ok(&run_args(&[]));
    assert!(
        first.contains("8 configurations × 2 seeds: 16 runs to train, 0 kept"),
        "{first}"
    );
    assert!(
        first.contains("4 configurations × 2 seeds: 8 runs to train"),
        "{first}"
    );
    assert!(
        first.contains("nao-pairs-2shot-seedselect: 6 images (6 made now in "),
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
            "+normalized-pairs-2shot",
            "+nao-pairs-2shot",
            "+prompt-only-2shot-seedselect",
            "+normalized-pairs-2shot-seedselect",
            "+nao-pairs-2shot-seedselect",
            "+normalized-pairs-3shot",
            "+nao-pairs-3shot",
            "+normalized-pairs-3shot-seedselect",
            "+nao-pairs-3shot-seedselect",
        ]
    );
    assert_eq!(r["best_source"], "pairs");
    // 8 common classes × 300 + 2 rare × 3; every other row 300 of every class
    let images: Vec<u64> = configs
        .iter()
        .map(|c| c["train_images"].as_u64().unwrap())
        .collect();
    assert_eq!(images[0], 2406);
    assert!(images[1..].iter().all(|&n| n == 3000), "{images:?}");
    assert_eq!(
        (
            r["real_per_rare_class"].as_u64(),
            r["balanced_per_class"].as_u64()
        ),
        (Some(3), Some(300))
    );
    // the rows within the spread of a comparison have the third seed, the others two
    let more = strings(&r["more_seeds"]);
    for c in configs {
        let name = c["name"].as_str().unwrap();
        let n = if more.contains(&name) { 3 } else { 2 };
        assert_eq!(c["seeds"], n, "{name}");
        let s = &c["rare"];
        assert_eq!(s["values"].as_array().unwrap().len(), n);
        assert!((0.0..=1.0).contains(&s["mean"].as_f64().unwrap()), "{c}");
    }
    let runs = r["runs"].as_array().unwrap().len();
    assert_eq!(runs, 2 * 12 + more.len());
    assert_eq!(r["test_images"], 100);
    assert_eq!(r["generated_per_rare_class"], 3);
    let conclusion = strings(&r["conclusion"]);
    assert!(conclusion
        .iter()
        .any(|l| l.starts_with("+nao-pairs-3shot-seedselect (n = ")
            && l.contains("against +normalized-pairs-3shot-seedselect (n = ")));
    assert!(
        conclusion.iter().any(|l| l.starts_with("goal ")),
        "{conclusion:?}"
    );
    // every generated set, measured against the rare classes' test images, by its name
    let methods: Vec<&str> = r["eval"]["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, names[2..]);
    assert!(w.path("work/eval/eval.json").is_file());
    let md = std::fs::read_to_string(w.path("work/results.md")).unwrap();
    for part in [
        "| +nao-pairs-2shot | ",
        "| 3000 |",
        "results/longtail.png",
        "## What the generated images are like",
        "| +nao-pairs-3shot-seedselect | ",
        "the best source of the first rows",
        "## The grid and what it costs",
        "```sh\nthe test\n```",
    ] {
        assert!(md.contains(part), "{part}: {md}");
    }
    let png = image::open(w.path("work/results/longtail.png")).unwrap();
    assert!(png.width() >= 1000);
    let real = std::fs::read(w.path("work/real/bag/01.png")).unwrap();
    assert_eq!(
        std::fs::read_dir(w.path("work/real/bag")).unwrap().count(),
        3
    );
    // SeedSelect refined the seeds of its sets, recorded in their run.json
    let run_json =
        std::fs::read_to_string(w.path("work/generated/nao-pairs-2shot-seedselect/run.json"))
            .unwrap();
    assert!(run_json.contains("seedselect"), "{run_json}");
    let plain = std::fs::read_to_string(w.path("work/generated/nao-pairs-2shot/run.json")).unwrap();
    assert!(
        plain.contains("\"shots\": 2") && plain.contains("\"source\": \"pairs\""),
        "{plain}"
    );

    // the same command makes no image and trains no run, and reports the same scores
    let again = w.ok(&run_args(&[]));
    assert!(
        again.contains("8 configurations × 2 seeds: 0 runs to train, 16 kept"),
        "{again}"
    );
    assert!(
        again.contains("nao-pairs-2shot: 6 images (0 made now in "),
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
    // the long-tailed set keeps 1 % of a rare class: 3 of 300 here
    let e = w.fails(&run_args(&["--best-source-shots", "4"]));
    assert!(
        e.contains("--best-source-shots 4: the long-tailed set has 3 real images per rare class"),
        "{e}"
    );
    let e = w.fails(&run_args(&["--sources", "pairs,everything"]));
    assert!(
        e.contains("--sources") && e.contains("'everything' is not a seed source"),
        "{e}"
    );
    let e = w.fails(&run_args(&["--refinements", "none,select"]));
    assert!(
        e.contains("--refinements") && e.contains("'select' is not a refinement"),
        "{e}"
    );
    let e = w.fails(&run_args(&["--methods", "nao,mean"]));
    assert!(e.contains("--methods") && e.contains("mean"), "{e}");
    let e = w.fails(&run_args(&["--shots", "two"]));
    assert!(
        e.contains("--shots") && e.contains("'two' is not a count"),
        "{e}"
    );
    let e = w.fails(&run_args(&["--shots", "1"]));
    assert!(e.contains("--shots 1: give at least 2"), "{e}");
    let e = w.fails(&run_args(&["--methods", "nao,nao"]));
    assert!(e.contains("--methods: nao is listed twice"), "{e}");
    let e = w.fails(&["run", "--data", "nowhere", "--work", "work"]);
    assert!(e.contains("nowhere"), "{e}");
    assert!(!w.path("work/results").exists() && !w.path("work/results.md").exists());
    assert!(!w.path("work/generated").exists());
}
