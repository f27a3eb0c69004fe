//! `nao augment` on the embedded model: determinism, sharding and merging, resuming after a
//! kill, refusing another configuration, the manifest's content, and every bad input of the
//! issue. Small datasets and 4 DDIM steps keep the file fast; the real images are
//! tests/data/augment-real (two classes of the model's bundled held-out images).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::Work;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Copy the real images into the test's folder (so a test may add bad ones) and return it.
fn real_dir(w: &Work) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/augment-real");
    let dst = w.path("real");
    for class in ["ankle-boot", "bag"] {
        std::fs::create_dir_all(dst.join(class)).unwrap();
        for entry in std::fs::read_dir(src.join(class)).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), dst.join(class).join(entry.file_name())).unwrap();
        }
    }
    dst
}

/// The options of every run here, after REAL_DIR and OUT_DIR.
const FAST: [&str; 4] = ["--steps", "4", "--path-positions", "2"];

/// `augment REAL -o OUT --per-class N` with [`FAST`] and `more`.
fn augment_args<'a>(
    real: &'a str,
    out: &'a str,
    per_class: &'a str,
    more: &[&'a str],
) -> Vec<&'a str> {
    let mut a = vec!["augment", real, "-o", out, "--per-class", per_class];
    a.extend(FAST);
    a.extend(more);
    a
}

/// Every file under `dir` (relative path → bytes), leaving out what `skip` names.
fn tree(dir: &Path, skip: &dyn Fn(&str) -> bool) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut all = BTreeMap::new();
    walk(dir, dir, &mut all);
    all.retain(|k, _| !skip(k));
    all
}

fn shard_manifests(name: &str) -> bool {
    name.starts_with("manifest.shard-")
}

fn assert_same_dataset(a: &Path, b: &Path) {
    let (ta, tb) = (tree(a, &shard_manifests), tree(b, &shard_manifests));
    assert_eq!(
        ta.keys().collect::<Vec<_>>(),
        tb.keys().collect::<Vec<_>>(),
        "the same files"
    );
    for (name, bytes) in &ta {
        assert!(bytes == &tb[name], "{name} differs between {a:?} and {b:?}");
    }
}

fn manifest(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out.join("manifest.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn no_temporary_files(dir: &Path) {
    let leftovers: Vec<String> = tree(dir, &|_| false)
        .into_keys()
        .filter(|k| k.ends_with(".tmp") || k.contains(".nao-") && !k.ends_with(".lock"))
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
}

fn nao() -> Command {
    Command::new(env!("CARGO_BIN_EXE_nao"))
}

/// Run `nao ARGS --json` with extra environment variables; require success; the report.
fn json_with_env(w: &Work, args: &[&str], vars: &[(&str, &str)]) -> Value {
    let out = nao()
        .args(args)
        .arg("--json")
        .envs(vars.iter().copied())
        .current_dir(w.dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "nao {args:?} with {vars:?}: {stderr}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_run_is_deterministic_and_its_manifest_describes_each_image() {
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    // 4 images, 2 positions: 9 points per class; 12 images reach the perturbed round 1
    let report = w.json(&augment_args(real, "a", "12", &["--json"]));
    assert_eq!(report["generated"], 24);
    assert_eq!(report["images_total"], 24);
    assert_eq!(report["shard"], "0/1");
    w.json(&augment_args(real, "b", "12", &["--json"]));
    assert_same_dataset(&w.path("a"), &w.path("b"));
    no_temporary_files(&w.path("a"));

    let lines = manifest(&w.path("a"));
    assert_eq!(lines.len(), 24);
    let chi = nao_prior::ChiPrior::new(196).unwrap();
    for class in ["ankle-boot", "bag"] {
        let points = nao_npy::read_npy(w.path(&format!("a/seeds/{class}.npy"))).unwrap();
        assert_eq!(points.shape(), &[9, 4, 7, 7]);
        let points = points.to_f64_vec();
        let record: Value = serde_json::from_str(
            &std::fs::read_to_string(w.path(&format!("a/seeds/{class}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(record["images"].as_array().unwrap().len(), 4);
        let of_class: Vec<&Value> = lines.iter().filter(|l| l["class"] == class).collect();
        assert_eq!(of_class.len(), 12);
        for (i, line) in of_class.iter().enumerate() {
            assert_eq!(line["index"], i);
            assert_eq!(line["method"], "nao");
            assert_eq!(line["prompt"], class);
            assert_eq!(line["model"], "embedded");
            assert_eq!(line["device"], "cpu");
            let file = line["file"].as_str().unwrap();
            assert_eq!(file, format!("{class}/{i:03}.png"));
            let bytes = std::fs::read(w.path("a").join(file)).unwrap();
            assert_eq!(line["sha256"], sha256_hex(&bytes));
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (28, 28));
            // the rule: point i mod 9 (centroid, then every path at t = 1/3, then at 2/3),
            // round i / 9
            let k = i % 9;
            assert_eq!(line["round"], i / 9);
            let source = &line["source"];
            if k == 0 {
                assert_eq!(source["kind"], "centroid");
            } else {
                assert_eq!(source["kind"], "path");
                assert_eq!(source["path"], (k - 1) % 4);
                assert_eq!(source["image"], format!("{:02}.png", (k - 1) % 4));
                let t = source["t"].as_f64().unwrap();
                assert_eq!(t, if k <= 4 { 1.0 / 3.0 } else { 2.0 / 3.0 });
            }
            // the norm of the seed sampled (the float32 point; a perturbed copy keeps it)
            let point: Vec<f32> = points[k * 196..(k + 1) * 196]
                .iter()
                .map(|&v| v as f32)
                .collect();
            let norm = line["seed_norm"].as_f64().unwrap();
            let want = nao_prior::norm(&point);
            assert!((norm - want).abs() < 1e-5 * want, "{norm} vs {want}");
            let log_chi = line["log_chi"].as_f64().unwrap();
            assert!(log_chi.is_finite());
            assert!((log_chi - chi.log_pdf(norm)).abs() < 1e-12, "{log_chi}");
        }
        // perturbed copies differ from their point's image
        assert_ne!(of_class[0]["sha256"], of_class[9]["sha256"]);
    }
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("a/run.json")).unwrap()).unwrap();
    assert_eq!(run["config"]["per_class"], 12);
    assert_eq!(
        run["config"]["classes"],
        serde_json::json!(["ankle-boot", "bag"])
    );
    assert!(run["config"]["model_identity"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));
    assert_eq!(run["config"]["tool_version"], env!("CARGO_PKG_VERSION"));

    // Running the same command again makes nothing and changes nothing.
    let before = tree(&w.path("a"), &|_| false);
    let again = w.json(&augment_args(real, "a", "12", &["--json"]));
    assert_eq!(again["generated"], 0);
    assert_eq!(again["already_done"], 24);
    assert_eq!(before, tree(&w.path("a"), &|_| false));
}

#[test]
fn shards_run_together_and_merge_into_the_single_run() {
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    w.json(&augment_args(real, "single", "7", &["--json"]));

    // Three shards at once into one folder: the first to take OUT_DIR's lock inverts and
    // computes the class seeds, the others wait and read them.
    let children: Vec<_> = (0..3)
        .map(|i| {
            let shard = format!("{i}/3");
            nao()
                .args(augment_args(real, "sharded", "7", &[]))
                .args(["--shard", &shard, "--json"])
                .current_dir(w.dir.path())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut made = 0;
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        made += v["generated"].as_u64().unwrap();
        assert!(v.get("manifest").is_none(), "a shard does not merge: {v}");
    }
    assert_eq!(made, 14);
    for i in 0..3 {
        assert!(w
            .path(&format!("sharded/manifest.shard-{i}-of-3.jsonl"))
            .is_file());
    }
    assert!(!w.path("sharded/manifest.jsonl").exists());
    let merged = w.json(&["augment", "merge", "sharded", "--json"]);
    assert_eq!(merged["images"], 14);
    assert_same_dataset(&w.path("single"), &w.path("sharded"));

    // SLURM's and Kubernetes' variables give the shard too; a shard found done makes nothing.
    let slurm = [
        ("SLURM_ARRAY_TASK_ID", "2"),
        ("SLURM_ARRAY_TASK_COUNT", "3"),
        ("SLURM_ARRAY_TASK_MIN", "0"),
    ];
    let args = augment_args(real, "sharded", "7", &["--shard", "auto"]);
    let v = json_with_env(&w, &args, &slurm);
    assert_eq!(
        (v["shard"].as_str(), v["generated"].as_u64()),
        (Some("2/3"), Some(0))
    );
    let args = augment_args(real, "sharded", "7", &["--shard", "auto/3"]);
    let v = json_with_env(&w, &args, &[("JOB_COMPLETION_INDEX", "1")]);
    assert_eq!(
        (v["shard"].as_str(), v["already_done"].as_u64()),
        (Some("1/3"), Some(5))
    );
}

#[test]
fn merge_lists_what_is_missing_and_writes_nothing() {
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    // the class seeds first, as a job of their own
    let mut prepare = augment_args(real, "out", "3", &[]);
    prepare.insert(1, "prepare");
    let p = w.json(&[&prepare[..], &["--json"]].concat());
    assert_eq!(p["shard"], "prepare");
    assert_eq!(p["prepared_classes"], 2);
    assert!(w.path("out/seeds/bag.npy").is_file() && !w.path("out/bag").exists());
    let e = w.fails(&["augment", "merge", "out"]);
    assert!(e.contains("6 of 6 images are missing"), "{e}");
    let r = w.json(&augment_args(
        real,
        "out",
        "3",
        &["--shard", "0/2", "--json"],
    ));
    assert_eq!(r["prepared_classes"], 0);
    assert_eq!(r["generated"], 3);
    let e = w.fails(&["augment", "merge", "out"]);
    // shard 1 of 2 owns items 1, 3, 5 of (ankle-boot 0..3, bag 0..3)
    assert!(e.contains("3 of 6 images are missing"), "{e}");
    for file in ["ankle-boot/001.png", "bag/000.png", "bag/002.png"] {
        assert!(e.contains(&format!("{file}: no manifest line")), "{e}");
    }
    assert!(!w.path("out/manifest.jsonl").exists());

    w.json(&augment_args(
        real,
        "out",
        "3",
        &["--shard", "1/2", "--json"],
    ));
    w.json(&["augment", "merge", "out", "--json"]);
    // a file that changed after it was made no longer counts
    std::fs::write(w.path("out/bag/002.png"), b"not the image").unwrap();
    std::fs::remove_file(w.path("out/ankle-boot/000.png")).unwrap();
    std::fs::remove_file(w.path("out/manifest.jsonl")).unwrap();
    let e = w.fails(&["augment", "merge", "out", "--json"]);
    assert!(e.contains("2 of 6 images are missing"), "{e}");
    assert!(
        e.contains("bag/002.png: the file's SHA-256 matches no manifest line"),
        "{e}"
    );
    assert!(
        e.contains("ankle-boot/000.png: its manifest line is there, the file is not"),
        "{e}"
    );
    assert!(!w.path("out/manifest.jsonl").exists());
    // re-running the shards makes exactly those two again
    let a = w.json(&augment_args(
        real,
        "out",
        "3",
        &["--shard", "0/2", "--json"],
    ));
    let b = w.json(&augment_args(
        real,
        "out",
        "3",
        &["--shard", "1/2", "--json"],
    ));
    assert_eq!(
        a["generated"].as_u64().unwrap() + b["generated"].as_u64().unwrap(),
        2
    );
    w.json(&["augment", "merge", "out", "--json"]);
    let e = w.fails(&["augment", "merge", "nowhere"]);
    assert!(e.contains("no run.json"), "{e}");
}

#[test]
fn a_killed_run_resumes_into_the_same_dataset() {
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    let n = "60";
    let mut child = nao()
        .args(augment_args(real, "killed", n, &[]))
        .current_dir(w.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let manifest = w.path("killed/manifest.shard-0-of-1.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let lines = std::fs::read_to_string(&manifest)
            .map(|t| t.lines().count())
            .unwrap_or(0);
        if lines >= 10 {
            break;
        }
        assert!(Instant::now() < deadline, "the run made no progress");
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before the kill"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL: no chance to clean up
    child.wait().unwrap();
    assert!(!w.path("killed/manifest.jsonl").exists());
    // every manifest line's image is whole
    for line in std::fs::read_to_string(&manifest).unwrap().lines() {
        if let Ok(v) = serde_json::from_str::<Value>(line) {
            let bytes = std::fs::read(w.path("killed").join(v["file"].as_str().unwrap())).unwrap();
            assert_eq!(v["sha256"], sha256_hex(&bytes));
        }
    }

    let resumed = w.json(&augment_args(real, "killed", n, &["--json"]));
    let done = resumed["already_done"].as_u64().unwrap();
    assert!((10..120).contains(&done), "killed midway: {resumed}");
    assert_eq!(done + resumed["generated"].as_u64().unwrap(), 120);
    no_temporary_files(&w.path("killed"));
    w.json(&augment_args(real, "whole", n, &["--json"]));
    assert_same_dataset(&w.path("whole"), &w.path("killed"));
}

#[test]
fn another_configuration_in_the_same_folder_is_refused() {
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    w.json(&augment_args(real, "out", "2", &["--json"]));
    let before = tree(&w.path("out"), &|_| false);
    let e = w.fails(&[
        "augment",
        real,
        "-o",
        "out",
        "--per-class",
        "3",
        "--steps",
        "5",
        "--path-positions",
        "2",
    ]);
    assert!(e.contains("differs in 2 field(s)"), "{e}");
    assert!(
        e.contains("per_class (--per-class): 2 in run.json, 3 now"),
        "{e}"
    );
    assert!(e.contains("steps (--steps): 4 in run.json, 5 now"), "{e}");
    let e = w.fails(&augment_args(real, "out", "2", &["--method", "euclidean"]));
    assert!(
        e.contains("method (--method): \"nao\" in run.json, \"euclidean\" now"),
        "{e}"
    );
    // another sampler is another dataset; run.json records it
    let e = w.fails(&augment_args(real, "out", "2", &["--scheduler", "euler"]));
    assert!(
        e.contains("scheduler (--scheduler): null in run.json, \"euler\" now"),
        "{e}"
    );
    let v = w.json(&augment_args(
        real,
        "out-euler",
        "2",
        &["--scheduler", "euler_a", "--json"],
    ));
    assert_eq!(v["scheduler"], "euler-ancestral");
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("out-euler/run.json")).unwrap())
            .unwrap();
    assert_eq!(run["config"]["scheduler"], "euler-ancestral");
    // its noise is seeded per image: the same run makes the same images
    w.json(&augment_args(
        real,
        "out-euler-2",
        "2",
        &["--scheduler", "euler-ancestral", "--json"],
    ));
    assert_same_dataset(&w.path("out-euler"), &w.path("out-euler-2"));
    // other real images are another configuration too
    std::fs::copy(w.path("real/bag/00.png"), w.path("real/bag/04.png")).unwrap();
    let e = w.fails(&augment_args(real, "out", "2", &[]));
    assert!(e.contains("real_images (REAL_DIR's images)"), "{e}");
    assert_eq!(before, tree(&w.path("out"), &|_| false), "nothing changed");
}

#[test]
fn the_comparison_methods_run() {
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    let r = w.json(&augment_args(
        real,
        "prompt-only",
        "3",
        &["--method", "prompt-only", "--json"],
    ));
    assert_eq!(r["generated"], 6);
    let lines = manifest(&w.path("prompt-only"));
    assert!(lines
        .iter()
        .all(|l| l["source"]["kind"] == "random" && l["round"] == 0));
    assert!(!w.path("prompt-only/seeds/bag.npy").exists());
    let norms: Vec<f64> = lines
        .iter()
        .map(|l| l["seed_norm"].as_f64().unwrap())
        .collect();
    // fresh Gaussian seeds of d = 196 lie near the χ shell (mean ≈ 13.98)
    assert!(norms.iter().all(|n| (11.0..17.0).contains(n)), "{norms:?}");
    for method in ["euclidean", "spherical"] {
        let r = w.json(&augment_args(
            real,
            method,
            "2",
            &["--method", method, "--json"],
        ));
        assert_eq!(r["generated"], 4);
        assert_eq!(manifest(&w.path(method))[0]["method"], method);
    }
}

#[test]
fn bad_inputs_are_named_and_lose_nothing() {
    let w = Work::new();
    let real = real_dir(&w);
    let real_s = real.to_str().unwrap();
    // N = 0
    let e = w.fails(&augment_args(real_s, "fresh", "0", &[]));
    assert!(e.contains("--per-class 0"), "{e}");
    // a shard index out of range
    let e = w.fails(&augment_args(real_s, "fresh", "2", &["--shard", "3/3"]));
    assert!(e.contains("--shard 3/3") && e.contains("0 to 2"), "{e}");
    let e = w.fails(&augment_args(real_s, "fresh", "2", &["--shard", "auto"]));
    assert!(e.contains("SLURM_ARRAY_TASK_ID"), "{e}");
    assert!(!w.path("fresh").exists(), "a refused run writes nothing");

    // A dataset in progress must survive every refused run below.
    w.json(&augment_args(real_s, "out", "2", &["--json"]));
    let before = tree(&w.path("out"), &|_| false);

    // an unreadable image, named; --skip-bad-images leaves it out
    std::fs::write(real.join("bag/99.png"), b"not a png").unwrap();
    let e = w.fails(&augment_args(real_s, "other", "2", &[]));
    assert!(
        e.contains("99.png") && e.contains("--skip-bad-images"),
        "{e}"
    );
    assert!(!w.path("other").exists());
    w.json(&augment_args(
        real_s,
        "other",
        "2",
        &["--skip-bad-images", "--json"],
    ));
    let record: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("other/seeds/bag.json")).unwrap())
            .unwrap();
    assert_eq!(record["skipped"][0]["file"], "99.png");
    assert_eq!(record["images"].as_array().unwrap().len(), 4);
    std::fs::remove_file(real.join("bag/99.png")).unwrap();

    // an empty class folder
    std::fs::create_dir(real.join("sandal")).unwrap();
    let e = w.fails(&augment_args(real_s, "other2", "2", &[]));
    assert!(e.contains("'sandal' has no images"), "{e}");
    // a class the embedded model does not know
    std::fs::copy(real.join("bag/00.png"), real.join("sandal/00.png")).unwrap();
    std::fs::rename(real.join("sandal"), real.join("giraffe")).unwrap();
    let e = w.fails(&augment_args(real_s, "other2", "2", &[]));
    assert!(e.contains("giraffe") && e.contains("ankle boot"), "{e}");
    assert!(!w.path("other2").exists());
    std::fs::remove_dir_all(real.join("giraffe")).unwrap();

    // the output folder inside the real images
    let inside = real.join("out");
    let e = w.fails(&augment_args(real_s, inside.to_str().unwrap(), "2", &[]));
    assert!(e.contains("overlap"), "{e}");

    // OUT_DIR untouched by all of it
    assert_eq!(before, tree(&w.path("out"), &|_| false));

    // Two processes given the same shard: the second is refused while the first runs.
    let mut first = nao()
        .args(augment_args(real_s, "locked", "400", &[]))
        .args(["--shard", "0/2"])
        .current_dir(w.dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let manifest = w.path("locked/manifest.shard-0-of-2.jsonl");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_to_string(&manifest).map_or(true, |t| t.is_empty()) {
        assert!(Instant::now() < deadline, "the first process made no image");
        assert!(
            first.try_wait().unwrap().is_none(),
            "the first process ended early"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    let e = w.fails(&augment_args(real_s, "locked", "400", &["--shard", "0/2"]));
    assert!(
        e.contains("shard 0/2 is already being written by another process"),
        "{e}"
    );
    // and merging waits for running shards
    let e = w.fails(&["augment", "merge", "locked"]);
    assert!(e.contains("shard 0/2 is still running"), "{e}");
    first.kill().unwrap();
    first.wait().unwrap();
}

/// A file of docs/examples.
fn example(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The `command:` of a Kubernetes manifest (written as a JSON-style flow sequence), with the
/// shared volume's paths and the sizes replaced by this test's.
fn kubernetes_command(yaml: &str, real: &str, out: &str) -> Vec<String> {
    let line = yaml
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("command:"))
        .expect("a command: line");
    let mut command: Vec<String> = serde_json::from_str(line.trim()).expect("a flow sequence");
    assert_eq!(command[..2], ["nao", "augment"], "{command:?}");
    for i in 0..command.len() {
        let replaced = match command[i].as_str() {
            "/data/real" => real.to_string(),
            "/data/augmented" => out.to_string(),
            _ => match command.get(i.wrapping_sub(1)).map(String::as_str) {
                Some("--per-class") => "3".into(),
                Some("--steps") => "4".into(),
                _ => continue,
            },
        };
        command[i] = replaced;
    }
    command.remove(0);
    command
}

#[test]
fn the_job_examples_run_as_written() {
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    let out = w.path("k8s");
    let out_s = out.to_str().unwrap();

    // Kubernetes: every index of the Indexed Job, then the merge Job.
    let job = example("augment-indexed-job.yaml");
    let completions: usize = job
        .lines()
        .find_map(|l| l.trim().strip_prefix("completions:"))
        .expect("completions:")
        .trim()
        .parse()
        .unwrap();
    let command = kubernetes_command(&job, real, out_s);
    assert!(
        command.iter().any(|a| a == &format!("auto/{completions}")),
        "--shard auto/N must match completions: {command:?}"
    );
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    for index in 0..completions {
        let index = index.to_string();
        json_with_env(&w, &command, &[("JOB_COMPLETION_INDEX", &index)]);
    }
    let merge = kubernetes_command(&example("augment-merge-job.yaml"), real, out_s);
    let merge: Vec<&str> = merge.iter().map(String::as_str).collect();
    json_with_env(&w, &merge, &[]);

    // SLURM: the sbatch script as each array task runs it (sbatch's own variables set by
    // hand), then the merge it describes. `cargo xtask slurm-check` runs it on real SLURM.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/examples/augment.sbatch");
    let array: usize = example("augment.sbatch")
        .lines()
        .find_map(|l| l.strip_prefix("#SBATCH --array=0-"))
        .expect("#SBATCH --array=0-N")
        .trim()
        .parse::<usize>()
        .unwrap()
        + 1;
    for task in 0..array {
        let status = Command::new("bash")
            .arg(&script)
            .env("NAO", env!("CARGO_BIN_EXE_nao"))
            .env("REAL_DIR", real)
            .env("OUT_DIR", w.path("slurm"))
            .env("PER_CLASS", "3")
            .env("NAO_ARGS", "--steps 4")
            .env("SLURM_ARRAY_TASK_ID", task.to_string())
            .env("SLURM_ARRAY_TASK_MIN", "0")
            .env("SLURM_ARRAY_TASK_COUNT", array.to_string())
            .current_dir(w.dir.path())
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "array task {task}");
    }
    w.json(&["augment", "merge", "slurm", "--json"]);

    // Both made the dataset of one process with the same options.
    w.json(&[
        "augment",
        real,
        "-o",
        "single",
        "--per-class",
        "3",
        "--steps",
        "4",
        "--json",
    ]);
    assert_same_dataset(&w.path("single"), &out);
    assert_same_dataset(&w.path("single"), &w.path("slurm"));
}

#[test]
fn stable_diffusion_folders_make_datasets_too() {
    // The tiny Stable Diffusion fixture as an ONNX export (ONNX Runtime) and as a diffusers
    // folder (burn): the same command, RGB images of the model's size. ONNX Runtime comes from
    // ORT_DYLIB_PATH (a missing library fails here, it does not skip).
    nao_test_support::ort_library();
    let fixture = nao_test_support::shared("fixtures/tiny-sd1");
    let w = Work::new();
    let real = real_dir(&w);
    let real = real.to_str().unwrap();
    for (kind, device) in [("onnx", "onnx-cpu"), ("diffusers", "cpu")] {
        let model = fixture.join(kind).display().to_string();
        let r = w.json(&augment_args(
            real,
            kind,
            "2",
            &[
                "--model",
                &model,
                "--prompt-template",
                "a photo of a {class}",
                "--guidance",
                "2",
                "--json",
            ],
        ));
        assert_eq!(r["generated"], 4, "{r}");
        assert_eq!(r["device"], device);
        let lines = manifest(&w.path(kind));
        assert_eq!(lines.len(), 4);
        let d = 4 * 8 * 8;
        let chi = nao_prior::ChiPrior::new(d).unwrap();
        for line in &lines {
            assert_eq!(line["model"], model.as_str());
            assert_eq!(line["device"], device);
            assert!(line["prompt"]
                .as_str()
                .unwrap()
                .starts_with("a photo of a "));
            let norm = line["seed_norm"].as_f64().unwrap();
            assert!((line["log_chi"].as_f64().unwrap() - chi.log_pdf(norm)).abs() < 1e-12);
            let bytes = std::fs::read(w.path(kind).join(line["file"].as_str().unwrap())).unwrap();
            assert_eq!(line["sha256"], sha256_hex(&bytes));
            let img = image::load_from_memory(&bytes).unwrap();
            assert_eq!((img.width(), img.height()), (64, 64));
            assert_eq!(img.color(), image::ColorType::Rgb8);
        }
        let seeds = nao_npy::read_npy(w.path(kind).join("seeds/bag.npy")).unwrap();
        // the centroid and 4 paths × 2 positions, of latents [4, 8, 8]
        assert_eq!(seeds.shape(), &[9, 4, 8, 8]);
    }
    let identity = |kind: &str| -> Value {
        let run: Value =
            serde_json::from_str(&std::fs::read_to_string(w.path(kind).join("run.json")).unwrap())
                .unwrap();
        run["config"]["model_identity"].clone()
    };
    assert_ne!(identity("onnx"), identity("diffusers"));
}

/// `--shots` and `--source`: pairs and subsets drawn from a seeded choice of the real images,
/// each image's source in the manifest, the same dataset from one process or from shards, and
/// the configuration (with its new fields) recorded and compared.
#[test]
fn shots_and_sources_draw_from_pairs_and_subsets() {
    let w = Work::new();
    let real = real_dir(&w);
    let r = real.to_str().unwrap();
    let more = ["--shots", "3", "--source", "pairs:1,subsets:1"];
    w.json(&augment_args(
        r,
        "one",
        "8",
        &[&more[..], &["--json"]].concat(),
    ));
    let lines = manifest(&w.path("one"));
    assert_eq!(lines.len(), 16);
    let (mut pairs, mut subsets) = (0, 0);
    for l in &lines {
        let s = &l["source"];
        match s["kind"].as_str().unwrap() {
            "pair" => {
                pairs += 1;
                let t = s["t"].as_f64().unwrap();
                assert!(t > 0.0 && t < 1.0 && s["a"] != s["b"], "{l}");
            }
            "subset" => {
                subsets += 1;
                let members = s["members"].as_array().unwrap();
                assert!((2..=3).contains(&members.len()), "{l}");
            }
            other => panic!("source {other}: {l}"),
        }
    }
    assert!(pairs > 0 && subsets > 0, "{pairs} pairs, {subsets} subsets");
    // three real images of each class were inverted, the others left out by --shots
    let record = std::fs::read_to_string(w.path("one/seeds/ankle-boot.json")).unwrap();
    let record: Value = serde_json::from_str(&record).unwrap();
    assert_eq!(record["images"].as_array().unwrap().len(), 3);
    assert_eq!(
        record["unused"].as_array().unwrap().len(),
        1,
        "4 images, 3 shots"
    );
    assert!(w.path("one/seeds/bag.inverted.npy").is_file());
    assert!(
        !w.path("one/seeds/bag.npy").exists(),
        "no centroid-paths points needed"
    );
    let run: Value =
        serde_json::from_str(&std::fs::read_to_string(w.path("one/run.json")).unwrap()).unwrap();
    assert_eq!(run["config"]["shots"], 3);
    assert_eq!(run["config"]["source"], "pairs:0.5,subsets:0.5");
    // two shards make the same dataset
    for shard in ["0/2", "1/2"] {
        w.json(&augment_args(
            r,
            "two",
            "8",
            &[&more[..], &["--shard", shard, "--json"]].concat(),
        ));
    }
    w.json(&["augment", "merge", "two", "--json"]);
    assert_same_dataset(&w.path("one"), &w.path("two"));
    // another source in the same folder is refused, naming it
    let e = w.fails(&augment_args(
        r,
        "one",
        "8",
        &["--shots", "3", "--source", "pairs"],
    ));
    assert!(e.contains("source (--source)"), "{e}");
    // one real image is too few for pairs
    let e = w.fails(&augment_args(
        r,
        "x",
        "2",
        &["--shots", "1", "--source", "pairs"],
    ));
    assert!(e.contains("--shots 1") && e.contains("at least 2"), "{e}");
}
