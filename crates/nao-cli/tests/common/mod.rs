//! Helpers for running the built `nao` binary in a temporary directory.
#![allow(dead_code)] // each test file uses a different subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// A temporary working directory for one test.
pub struct Work {
    pub dir: tempfile::TempDir,
}

impl Work {
    pub fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Run `nao ARGS` in the directory.
    pub fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nao"))
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run nao")
    }

    /// Run `nao ARGS` with the environment variable `remove` unset.
    pub fn run_without_env(&self, args: &[&str], remove: &str) -> Output {
        Command::new(env!("CARGO_BIN_EXE_nao"))
            .args(args)
            .env_remove(remove)
            .current_dir(self.dir.path())
            .output()
            .expect("run nao")
    }

    /// Run `nao ARGS`, require success and exactly one JSON object on stdout.
    pub fn json(&self, args: &[&str]) -> Value {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "nao {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        one_json_object(&out)
    }

    /// Run `nao ARGS`, require failure (non-zero exit, no panic; nothing on stdout, or with
    /// `--json` exactly one object `{"error": MESSAGE}` whose message is stderr's); return stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(
            !out.status.success(),
            "nao {args:?} succeeded: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            !stderr.contains("panicked"),
            "nao {args:?} panicked: {stderr}"
        );
        assert_ne!(out.status.code(), Some(101), "nao {args:?}: {stderr}");
        check_failure_stdout(args, &out, &stderr);
        stderr
    }

    /// Write a float32 seed.
    pub fn f32_seed(&self, name: &str, shape: &[usize], data: &[f32]) -> PathBuf {
        let p = self.path(name);
        nao_npy::write_npy_f32(&p, shape, data).unwrap();
        p
    }

    /// Write a float64 seed.
    pub fn f64_seed(&self, name: &str, shape: &[usize], data: &[f64]) -> PathBuf {
        let p = self.path(name);
        nao_npy::write_npy_f64(&p, shape, data).unwrap();
        p
    }

    /// Files in the directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }
}

/// Parse stdout as exactly one JSON object.
/// What a failed `nao` prints on stdout: nothing, or with `--json` one `{"error": …}` object
/// carrying the message stderr shows.
pub fn check_failure_stdout(args: &[&str], out: &Output, stderr: &str) {
    if args.contains(&"--json") {
        let v = one_json_object(out);
        let message = v["error"]
            .as_str()
            .unwrap_or_else(|| panic!("nao {args:?}: no error message in {v}"));
        assert!(
            !message.is_empty() && stderr.contains(message),
            "nao {args:?}: the JSON error {message:?} is not the one on stderr: {stderr}"
        );
        assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
    } else {
        assert!(
            out.stdout.is_empty(),
            "nao {args:?} printed on stdout: {}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

pub fn one_json_object(out: &Output) -> Value {
    let text = String::from_utf8(out.stdout.clone()).expect("utf-8 stdout");
    let mut stream = serde_json::Deserializer::from_str(&text).into_iter::<Value>();
    let first = stream
        .next()
        .expect("no JSON on stdout")
        .expect("stdout is not JSON");
    assert!(
        stream.next().is_none(),
        "more than one JSON value on stdout: {text}"
    );
    assert!(first.is_object(), "stdout JSON is not an object: {text}");
    first
}

/// A number field of a JSON object.
pub fn num(v: &Value, field: &str) -> f64 {
    v.get(field)
        .and_then(Value::as_f64)
        .unwrap_or_else(|| panic!("field {field} missing or not a number in {v}"))
}

/// Deterministic pseudo-Gaussian-ish values for test seeds (no RNG dependency).
pub fn wavy(n: usize, phase: f64) -> Vec<f64> {
    (0..n)
        .map(|i| {
            let x = i as f64 * 0.7 + phase;
            x.sin() * 1.3 + (2.1 * x).cos() * 0.4
        })
        .collect()
}

/// Read an output file.
pub fn read(path: &Path) -> nao_npy::NpyArray {
    nao_npy::read_npy(path).unwrap_or_else(|e| panic!("{e}"))
}

/// Three Gaussian seeds of shape (4, 4, 4) (d = 64) in float32: a.npy, b.npy, c.npy.
pub fn three_seeds(w: &Work) {
    for (name, seed) in [("a.npy", "1"), ("b.npy", "2"), ("c.npy", "3")] {
        w.json(&[
            "seed", "--shape", "4,4,4", "--seed", seed, "-o", name, "--json",
        ]);
    }
}

/// Write the bundled held-out images of `classes` as `DIR/<class>/NN.png`.
pub fn bundled_folder(dir: &Path, classes: &[&str]) {
    for class in classes {
        let index = nao_burn::CLASS_SLUGS
            .iter()
            .position(|s| s == class)
            .unwrap();
        let strip = image::load_from_memory(nao_burn::bundled_strip_png(index).unwrap())
            .unwrap()
            .into_luma8();
        std::fs::create_dir_all(dir.join(class)).unwrap();
        for i in 0..nao_burn::BUNDLED_PER_CLASS as u32 {
            let tile = image::imageops::crop_imm(&strip, 28 * i, 0, 28, 28).to_image();
            tile.save(dir.join(class).join(format!("{i:02}.png")))
                .unwrap();
        }
    }
}
