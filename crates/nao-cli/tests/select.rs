//! `nao select` (SeedSelect) on the embedded model and on the tiny Stable Diffusion fixture,
//! and `nao augment --refine seedselect`: the outputs and report, the same result twice, and
//! bad input named.

mod common;

use std::path::{Path, PathBuf};

use common::{read, Work};
use nao_test_support::shared;
use serde_json::Value;

fn bags() -> String {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/augment-real/bag");
    dir.display().to_string()
}

/// The fast SeedSelect options of these tests.
const FAST: [&str; 6] = [
    "--select-iterations",
    "4",
    "--select-steps",
    "6",
    "--steps",
    "6",
];

fn select<'a>(real: &'a str, out: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec!["select", "--real", real, "-o", out, "--json"];
    a.extend(FAST);
    a.extend(more);
    a
}

#[test]
fn random_seeds_are_refined_sampled_and_reported() {
    let w = Work::new();
    let real = bags();
    let args = select(
        &real,
        "out",
        &["--random", "3", "--prompt", "bag", "--plot", "loss.png"],
    );
    let report = w.json(&args);
    assert_eq!(report["seeds"], 3);
    assert_eq!(report["real_images"], 4);
    let refined = report["refined"].as_array().unwrap();
    assert_eq!(refined.len(), 3);
    for r in refined {
        let losses: Vec<f64> = r["losses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        assert_eq!(losses.len(), 5, "before each of 4 updates, and after");
        assert!(losses[4] < losses[0], "{losses:?}");
        for key in [
            "norm_before",
            "norm_after",
            "log_chi_before",
            "log_chi_after",
        ] {
            assert!(r[key].as_f64().unwrap().is_finite(), "{key}");
        }
    }
    let seeds = read(&w.path("out/seeds.npy"));
    assert_eq!(seeds.shape(), [3, 4, 7, 7]);
    for f in ["000.png", "001.png", "002.png", "sheet.png", "report.json"] {
        assert!(w.path("out").join(f).is_file(), "{f}");
    }
    assert!(w.path("loss.png").is_file());
    let on_disk: Value =
        serde_json::from_slice(&std::fs::read(w.path("out/report.json")).unwrap()).unwrap();
    assert_eq!(on_disk["refined"], report["refined"]);
    assert_eq!(
        report["sampler"], "ddim",
        "DDIM by default: the sampler SeedSelect differentiates"
    );
    let euler = w.json(&select(
        &real,
        "euler",
        &["--random", "1", "--prompt", "bag", "--scheduler", "euler"],
    ));
    assert_eq!(euler["sampler"], "euler");
    // the same input and configuration, the same seeds and images
    w.json(&select(
        &real,
        "again",
        &["--random", "3", "--prompt", "bag"],
    ));
    for f in ["seeds.npy", "000.png", "002.png"] {
        let a = std::fs::read(w.path("out").join(f)).unwrap();
        let b = std::fs::read(w.path("again").join(f)).unwrap();
        assert!(a == b, "{f} differs between two equal runs");
    }
    // the whole graph instead of checkpointed calls: the same gradients, the same seeds
    w.json(&select(
        &real,
        "whole",
        &["--random", "3", "--prompt", "bag", "--select-whole-graph"],
    ));
    let (a, b) = (
        read(&w.path("out/seeds.npy")).to_f32_vec(),
        read(&w.path("whole/seeds.npy")).to_f32_vec(),
    );
    let diff = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    assert!(
        diff < 1e-4,
        "whole graph and checkpointed seeds differ by {diff}"
    );
}

#[test]
fn inverted_seeds_keep_their_shape() {
    let w = Work::new();
    let real = bags();
    let files: Vec<String> = (0..3).map(|i| format!("{real}/0{i}.png")).collect();
    let mut invert = vec![
        "invert", "-o", "inv.npy", "--prompt", "bag", "--steps", "6", "--json",
    ];
    invert.extend(files.iter().map(String::as_str));
    assert!(w.json(&invert).is_object());
    let shape = read(&w.path("inv.npy")).shape().to_vec();
    let report = w.json(&select(&real, "out", &["inv.npy", "--prompt", "bag"]));
    assert_eq!(report["seeds"].as_u64().unwrap() as usize, shape[0]);
    assert_eq!(read(&w.path("out/seeds.npy")).shape(), shape);
    // the defaults for seeds from real images: 5 iterations, lr 0.05, guidance 1
    let w2 = Work::new();
    let inv = w.path("inv.npy");
    let report = w2.json(&[
        "select",
        inv.to_str().unwrap(),
        "--real",
        &real,
        "--prompt",
        "bag",
        "-o",
        "o",
        "--select-steps",
        "4",
        "--steps",
        "4",
        "--json",
    ]);
    assert_eq!(report["config"]["iterations"], 5);
    assert_eq!(report["config"]["lr"], 0.05);
    assert_eq!(report["config"]["guidance"], 1.0);
}

/// The tiny SD fixture with the tiny CLIP vision tower as its image_encoder/.
fn tiny_sd(w: &Work) -> PathBuf {
    let dir = w.path("tiny-sd");
    std::fs::create_dir(&dir).unwrap();
    for entry in std::fs::read_dir(shared("fixtures/tiny-sd1/diffusers")).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let clip = shared("fixtures/tiny-clip-vision");
    for part in ["image_encoder", "feature_extractor"] {
        std::os::unix::fs::symlink(clip.join(part), dir.join(part)).unwrap();
    }
    dir
}

/// Two RGB pictures (the CLIP fixture's input, twice).
fn rgb_real(w: &Work) -> PathBuf {
    let dir = w.path("real-rgb");
    std::fs::create_dir(&dir).unwrap();
    let png = shared("fixtures/tiny-clip-vision/reference/input.png");
    for name in ["a.png", "b.png"] {
        std::fs::copy(&png, dir.join(name)).unwrap();
    }
    dir
}

#[test]
fn stable_diffusion_with_its_image_encoder() {
    let w = Work::new();
    let model = tiny_sd(&w);
    let real = rgb_real(&w);
    let (model, real) = (model.to_str().unwrap(), real.to_str().unwrap());
    let report = w.json(&select(
        real,
        "out",
        &["--random", "2", "--prompt", "a red bag", "--model", model],
    ));
    assert_eq!(report["seeds"], 2);
    let seeds = read(&w.path("out/seeds.npy"));
    assert_eq!(seeds.shape()[..2], [2, 4]);
    for r in report["refined"].as_array().unwrap() {
        let l = r["losses"].as_array().unwrap();
        assert!(l.last().unwrap().as_f64() < l[0].as_f64(), "{l:?}");
    }
    // seeds of another size than the model's default: the images and real images follow
    let wide: Vec<f32> = (0..4 * 8 * 12)
        .map(|i| ((i * 37 % 101) as f32 / 50.0) - 1.0)
        .collect();
    w.f32_seed("wide.npy", &[1, 4, 8, 12], &wide);
    w.json(&select(
        real,
        "wide",
        &["wide.npy", "--prompt", "a red bag", "--model", model],
    ));
    assert_eq!(read(&w.path("wide/seeds.npy")).shape(), [1, 4, 8, 12]);
    let png = std::fs::read(w.path("wide/000.png")).unwrap();
    // the PNG header's width and height (big-endian, after the IHDR tag)
    let side = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap()) as usize;
    assert_eq!(
        (side(16), side(20)),
        (12 * 8, 8 * 8),
        "width × height of 000.png"
    );
    // the encoder named apart, on a folder without one
    let bare = w.path("bare");
    std::fs::create_dir(&bare).unwrap();
    for entry in std::fs::read_dir(shared("fixtures/tiny-sd1/diffusers")).unwrap() {
        let entry = entry.unwrap();
        std::os::unix::fs::symlink(entry.path(), bare.join(entry.file_name())).unwrap();
    }
    let bare = bare.to_str().unwrap();
    let e = w.fails(&select(
        real,
        "o2",
        &["--random", "1", "--prompt", "x", "--model", bare],
    ));
    assert!(
        e.contains("no image_encoder/") && e.contains("--image-encoder"),
        "{e}"
    );
    let encoder = shared("fixtures/tiny-clip-vision/image_encoder");
    let encoder = encoder.to_str().unwrap();
    w.json(&select(
        real,
        "o3",
        &[
            "--random",
            "1",
            "--prompt",
            "x",
            "--model",
            bare,
            "--image-encoder",
            encoder,
        ],
    ));
}

#[test]
fn bad_input_is_named() {
    let w = Work::new();
    let real = bags();
    std::fs::create_dir(w.path("empty")).unwrap();
    let e = w.fails(&select("empty", "o", &["--random", "2", "--prompt", "bag"]));
    assert!(e.contains("--real") && e.contains("no images"), "{e}");
    let e = w.fails(&select(
        &real,
        "o",
        &["--random", "2", "--prompt", "no such class"],
    ));
    assert!(e.contains("no such class"), "{e}");
    w.f32_seed("wrong.npy", &[2, 4, 8, 8], &[0.5; 512]);
    let e = w.fails(&select(&real, "o", &["wrong.npy", "--prompt", "bag"]));
    assert!(
        e.contains("wrong.npy") && e.contains("8×8") && e.contains("7×7"),
        "{e}"
    );
    w.f32_seed("channels.npy", &[2, 3, 7, 7], &[0.5; 294]);
    let e = w.fails(&select(&real, "o", &["channels.npy", "--prompt", "bag"]));
    assert!(
        e.contains("channels.npy") && e.contains("4 channels"),
        "{e}"
    );
    let mut nan = vec![0.5f32; 196];
    nan[3] = f32::NAN;
    w.f32_seed("nan.npy", &[4, 7, 7], &nan);
    let e = w.fails(&select(&real, "o", &["nan.npy", "--prompt", "bag"]));
    assert!(e.contains("nan.npy"), "{e}");
    let e = w.fails(&select(
        &real,
        "o",
        &["--random", "2", "--prompt", "bag", "--select-lr=-1"],
    ));
    assert!(e.contains("--select-lr"), "{e}");
    let e = w.fails(&select(&real, "o", &["--random", "0", "--prompt", "bag"]));
    assert!(e.contains("--random 0"), "{e}");
    let onnx = shared("fixtures/tiny-sd1/onnx");
    let e = w.fails(&select(
        &real,
        "o",
        &[
            "--random",
            "1",
            "--prompt",
            "bag",
            "--model",
            onnx.to_str().unwrap(),
        ],
    ));
    assert!(
        e.contains("cannot be differentiated") && e.contains("diffusers folder"),
        "{e}"
    );
    let e = w.fails(&select(
        &real,
        "o",
        &["--random", "1", "--prompt", "bag", "--device", "onnx-cpu"],
    ));
    assert!(
        e.contains("--device onnx-cpu") && e.contains("cannot be differentiated"),
        "{e}"
    );
    let enc = shared("fixtures/tiny-clip-vision/image_encoder");
    let e = w.fails(&select(
        &real,
        "o",
        &[
            "--random",
            "1",
            "--prompt",
            "bag",
            "--image-encoder",
            enc.to_str().unwrap(),
        ],
    ));
    assert!(
        e.contains("--image-encoder") && e.contains("embedded"),
        "{e}"
    );
    assert!(!w.path("o").exists(), "no output after a refusal");
}

fn manifest(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn augment_refines_each_seed_before_it_is_sampled() {
    let w = Work::new();
    let real = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/augment-real");
    let real = real.to_str().unwrap();
    let base = [
        "augment",
        real,
        "--per-class",
        "2",
        "--steps",
        "4",
        "--path-positions",
        "2",
        "--json",
    ];
    let run = |out: &str, more: &[&str]| {
        let mut a: Vec<&str> = base.to_vec();
        a.extend(["-o", out]);
        a.extend(more);
        w.json(&a)
    };
    let refine = [
        "--refine",
        "seedselect",
        "--select-iterations",
        "2",
        "--select-steps",
        "4",
    ];
    run("plain", &[]);
    run("refined", &refine);
    let (plain, refined) = (manifest(&w.path("plain")), manifest(&w.path("refined")));
    assert_eq!(plain.len(), 4);
    assert_eq!(refined.len(), 4);
    for (p, r) in plain.iter().zip(&refined) {
        assert!(p["refinement"].is_null());
        let how = &r["refinement"];
        assert!(
            how["loss_after"].as_f64() <= how["loss_before"].as_f64(),
            "{how}"
        );
        // the seed as drawn is the unrefined run's
        assert_eq!(how["norm_before"], p["seed_norm"]);
        assert_ne!(r["seed_norm"], p["seed_norm"]);
        assert_ne!(r["sha256"], p["sha256"]);
    }
    // a refined seed is sampled with SeedSelect's own sampler (DDIM at its steps and
    // guidance), the one its image was optimised through, whatever the dataset's sampling
    let mut other = refine.to_vec();
    other.extend(["--guidance", "4", "--scheduler", "euler"]);
    run("refined-other-sampling", &other);
    let plain_other = run(
        "plain-other-sampling",
        &["--guidance", "4", "--scheduler", "euler"],
    );
    assert!(plain_other.is_object());
    let (refined_other, plain_other) = (
        manifest(&w.path("refined-other-sampling")),
        manifest(&w.path("plain-other-sampling")),
    );
    for ((r, ro), (p, po)) in refined
        .iter()
        .zip(&refined_other)
        .zip(plain.iter().zip(&plain_other))
    {
        assert_eq!(r["sha256"], ro["sha256"], "{r} {ro}");
        assert_ne!(
            p["sha256"], po["sha256"],
            "the dataset's sampling changes unrefined images"
        );
    }
    // refined under guidance while the dataset samples without: the images follow SeedSelect's
    let mut guided = refine.to_vec();
    guided.extend(["--select-guidance", "3"]);
    run("refined-guided", &guided);
    for (r, g) in refined.iter().zip(&manifest(&w.path("refined-guided"))) {
        assert_ne!(r["sha256"], g["sha256"]);
    }
    let config: Value =
        serde_json::from_slice(&std::fs::read(w.path("refined/run.json")).unwrap()).unwrap();
    let id = config["config"]["refine"].as_str().unwrap();
    assert!(
        id.starts_with("seedselect") && id.contains("\"iterations\":2"),
        "{id}"
    );
    // the same folder with another refinement is another dataset
    let e = w.fails(&[
        "augment",
        real,
        "-o",
        "refined",
        "--per-class",
        "2",
        "--steps",
        "4",
        "--path-positions",
        "2",
        "--refine",
        "seedselect",
        "--select-iterations",
        "3",
        "--select-steps",
        "4",
    ]);
    assert!(e.contains("--refine"), "{e}");
    // the same refinement again resumes: nothing to do, the same files
    let again = run("refined", &refine);
    assert_eq!(manifest(&w.path("refined")), refined);
    assert!(again.is_object());
}
