//! # xtask — project automation, in Rust, with no dependencies
//!
//! Run through the cargo alias in `.cargo/config.toml`:
//!
//! - `cargo xtask ci`: everything CI checks, cheapest first, stopping at the first failure:
//!   rustfmt, clippy with `-D warnings`, the test suite (cargo-nextest when installed, else
//!   `cargo test`), doc tests, and a check that the device-free crates (`nao-prior`,
//!   `nao-geodesic`, `nao-centroid`) pull in no ML backend (burn, ort, tch, wgpu).
//! - `cargo xtask bench [ARGS…]`: `cargo bench --bench NAME ARGS…` for every bench in `benches/`.
//! - `cargo xtask setup-ort`: provide the ONNX Runtime shared library that `nao-onnx` loads at run
//!   time: the `onnxruntime` wheel from PyPI (through `python3 -m pip download`), unpacked into
//!   `.cache/onnxruntime/`; prints the library's path (the value for `ORT_DYLIB_PATH`). Skips
//!   the download when the library is already there. `ci` runs it before the tests and exports
//!   `ORT_DYLIB_PATH` to them.
//! - `cargo xtask onnx-overhead`: the ONNX backend overhead comparison of `docs/benchmarks.md`:
//!   the `onnx_overhead` criterion bench, then `scripts/onnx_overhead.py` (Python's
//!   onnxruntime, installed into the virtual environment `.cache/venv-onnx`) on the same model
//!   and inputs, standalone and alternating with the bench binary in lockstep.
//! - `cargo xtask train [ARGS…]`: train the embedded Fashion-MNIST model (`nao-train` of
//!   `nao-burn`, release build, without the embedded weights so it builds before any exist)
//!   and write its weights, card, report, loss curves and bundled test images into the crate.
//! - `cargo xtask help`: usage.
#![warn(missing_docs)]

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

mod ort_setup;

/// Crates that must stay free of ML backends.
const LIGHT_CRATES: &[&str] = &[
    "nao-prior",
    "nao-geodesic",
    "nao-centroid",
    "nao-backend",
    "nao-sampling",
    "nao-inversion",
    "nao-viz",
];

const USAGE: &str = "\
usage: cargo xtask <command> [args]

commands:
  ci            format check, clippy (-D warnings), tests (nextest if installed), doc tests,
                and the dependency check of the device-free crates; stops at the first failure
  deps          only the dependency check
  bench [ARGS]  cargo bench --bench NAME [ARGS] for each bench in benches/
                (e.g. `cargo xtask bench -- --save-baseline main`); a first argument naming
                a bench runs only that one
  setup-ort     download the onnxruntime wheel from PyPI (python3 -m pip) and unpack its
                shared library into .cache/onnxruntime/; prints the path for ORT_DYLIB_PATH
                (nothing is downloaded when it is already there)
  onnx-overhead the per-UNet-call time of nao-onnx against Python's onnxruntime on the
                tiny-sd1 fixture: the criterion bench, then scripts/onnx_overhead.py (timeit,
                and blocks alternating with the bench binary in lockstep)
  train [ARGS]  train the embedded model on Fashion-MNIST (Debian's dataset-fashion-mnist
                or NAO_FASHION_MNIST_DIR) and write crates/nao-burn/weights/ and
                crates/nao-burn/assets/test-images/; ARGS go to nao-train (--seed S,
                --steps-scale F, --out DIR, --images DIR, --data DIR)
  help          this message
";

/// A failed step: what to tell the user.
pub(crate) struct Failure(pub(crate) String);

pub(crate) type Outcome = Result<(), Failure>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let root = workspace_root();
    let result = match args.first().map(String::as_str) {
        Some("ci") => ci(&root, &args[1..]),
        Some("deps") => deps_check(&root),
        Some("bench") => bench(&root, &args[1..]),
        Some("setup-ort") => ort_setup::setup_ort_command(&root, &args[1..]),
        Some("onnx-overhead") => ort_setup::onnx_overhead(&root, &args[1..]),
        Some("train") => train(&root, &args[1..]),
        Some("help" | "-h" | "--help") => {
            print!("{USAGE}");
            Ok(())
        }
        Some(other) => {
            eprint!("xtask: unknown command '{other}'\n\n{USAGE}");
            return ExitCode::from(2);
        }
        None => {
            eprint!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("\nxtask: FAILED: {message}");
            ExitCode::FAILURE
        }
    }
}

/// `cargo xtask train`: the trainer binary in release mode. `--no-default-features` leaves out
/// the `embedded` feature, whose `include_bytes!` needs the weights this command writes.
fn train(root: &Path, extra: &[String]) -> Outcome {
    let mut args = vec![
        "run",
        "--release",
        "-p",
        "nao-burn",
        "--no-default-features",
        "--features",
        "flex",
        "--bin",
        "nao-train",
        "--",
    ];
    args.extend(extra.iter().map(String::as_str));
    run_cargo(root, &args)
}

/// The workspace root: the parent of this crate's directory.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// The cargo that launched us (so `cargo +nightly xtask` stays on nightly).
pub(crate) fn cargo() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

fn cargo_cmd(root: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(cargo());
    cmd.args(args).current_dir(root);
    cmd
}

fn show(args: &[&str]) -> String {
    format!("cargo {}", args.join(" "))
}

pub(crate) fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:04.1}s", (s / 60.0) as u64, s % 60.0)
    }
}

/// Run `cargo ARGS` in the workspace root, echoing it, inheriting stdio.
pub(crate) fn run_cargo(root: &Path, args: &[&str]) -> Outcome {
    eprintln!("$ {}", show(args));
    let status = cargo_cmd(root, args)
        .status()
        .map_err(|e| Failure(format!("could not start `{}`: {e}", show(args))))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!("`{}` exited with {status}", show(args))))
    }
}

/// Whether `cargo nextest` is installed and runs.
fn have_nextest(root: &Path) -> bool {
    cargo_cmd(root, &["nextest", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// One named step of `ci`.
struct Step {
    name: &'static str,
    run: Box<dyn Fn(&Path) -> Outcome>,
}

fn cargo_step(name: &'static str, args: &'static [&'static str]) -> Step {
    Step {
        name,
        run: Box::new(move |root| run_cargo(root, args)),
    }
}

fn ci(root: &Path, extra: &[String]) -> Outcome {
    if let Some(arg) = extra.first() {
        return Err(Failure(format!("`ci` takes no arguments (got '{arg}')")));
    }
    let tests: &'static [&'static str] = if have_nextest(root) {
        &["nextest", "run", "--workspace"]
    } else {
        eprintln!("xtask: cargo-nextest not found; using cargo test");
        &["test", "--workspace", "--all-targets"]
    };
    let steps = [
        cargo_step("format", &["fmt", "--all", "--check"]),
        cargo_step(
            "clippy",
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step {
            name: "onnx runtime",
            run: Box::new(ort_setup::export_ort_dylib_path),
        },
        cargo_step("tests", tests),
        cargo_step("doc tests", &["test", "--workspace", "--doc"]),
        Step {
            name: "dependency check",
            run: Box::new(deps_check),
        },
        Step {
            // Last: RUSTDOCFLAGS stays set for the rest of this process.
            name: "api docs (broken links and rustdoc warnings are errors)",
            run: Box::new(|root| {
                std::env::set_var("RUSTDOCFLAGS", "-D warnings");
                run_cargo(root, &["doc", "--workspace", "--no-deps"])
            }),
        },
    ];
    let total = Instant::now();
    let mut timings = Vec::new();
    for (i, step) in steps.iter().enumerate() {
        eprintln!("\n==> [{}/{}] {}", i + 1, steps.len(), step.name);
        let start = Instant::now();
        let outcome = (step.run)(root);
        let took = start.elapsed();
        match outcome {
            Ok(()) => {
                eprintln!("<== {} ok ({})", step.name, fmt_duration(took));
                timings.push((step.name, took));
            }
            Err(Failure(msg)) => {
                return Err(Failure(format!(
                    "step {}/{} '{}' after {}: {msg}",
                    i + 1,
                    steps.len(),
                    step.name,
                    fmt_duration(took)
                )));
            }
        }
    }
    eprintln!("\nxtask ci: all {} steps passed", steps.len());
    for (name, took) in timings {
        eprintln!("  {name:<18} {:>9}", fmt_duration(took));
    }
    eprintln!("  {:<18} {:>9}", "total", fmt_duration(total.elapsed()));
    Ok(())
}

/// Whether a crate name is an ML backend the light crates must not depend on.
fn is_heavy(name: &str) -> bool {
    name.starts_with("burn") || name.starts_with("ort") || name == "tch" || name == "wgpu"
}

/// The heavy crates listed in `cargo tree --prefix none` output (one crate per line).
fn heavy_crates(tree: &str) -> Vec<String> {
    let mut found: Vec<String> = tree
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| is_heavy(name))
        .map(str::to_string)
        .collect();
    found.sort();
    found.dedup();
    found
}

fn deps_check(root: &Path) -> Outcome {
    let mut args = vec!["tree"];
    for c in LIGHT_CRATES {
        args.extend(["-p", c]);
    }
    args.extend(["-e", "normal", "--prefix", "none"]);
    eprintln!("$ {}", show(&args));
    let out = cargo_cmd(root, &args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure(format!("could not start `{}`: {e}", show(&args))))?;
    if !out.status.success() {
        return Err(Failure(format!(
            "`{}` exited with {}",
            show(&args),
            out.status
        )));
    }
    let tree = String::from_utf8_lossy(&out.stdout);
    let heavy = heavy_crates(&tree);
    if heavy.is_empty() {
        let count = tree.lines().filter(|l| !l.trim().is_empty()).count();
        eprintln!(
            "{} stay light: no burn*, ort*, tch or wgpu among {count} dependency lines",
            LIGHT_CRATES.join(", ")
        );
        return Ok(());
    }
    Err(Failure(format!(
        "the device-free crates {} depend on ML backend crate(s): {}\n\
         see who pulls them in with: cargo tree -e normal -i {} {}",
        LIGHT_CRATES.join(", "),
        heavy.join(", "),
        heavy[0],
        LIGHT_CRATES
            .iter()
            .map(|c| format!("-p {c}"))
            .collect::<Vec<_>>()
            .join(" ")
    )))
}

/// Bench targets: the `.rs` files directly in `benches/`, sorted.
fn bench_names(root: &Path) -> Result<Vec<String>, Failure> {
    let dir = root.join("benches");
    let entries = std::fs::read_dir(&dir)
        .map_err(|e| Failure(format!("cannot list {}: {e}", dir.display())))?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "rs"))
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    names.sort();
    Ok(names)
}

fn bench(root: &Path, extra: &[String]) -> Outcome {
    let all = bench_names(root)?;
    let (selected, rest) = match extra.first() {
        Some(first) if all.contains(first) => (vec![first.clone()], &extra[1..]),
        _ => (all, extra),
    };
    if selected.is_empty() {
        return Err(Failure(format!(
            "no benches in {}",
            root.join("benches").display()
        )));
    }
    if selected.iter().any(|n| n == "onnx_overhead") {
        // the ONNX bench loads ONNX Runtime at run time
        ort_setup::export_ort_dylib_path(root)?;
    }
    for name in &selected {
        let mut args = vec!["bench", "--bench", name.as_str()];
        args.extend(rest.iter().map(String::as_str));
        let start = Instant::now();
        run_cargo(root, &args)?;
        eprintln!("<== bench {name} ok ({})", fmt_duration(start.elapsed()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heavy_crates_are_found_by_name() {
        let tree = "nao-prior v0.1.0 (/x)\nlibm v0.2.16\nburn-core v0.22.1\nort-sys v2.0.0\n\
                    tch v0.22.0\nwgpu v25.0.0\nwgpu-core v25.0.0\nburn-core v0.22.1 (*)\n\n";
        assert_eq!(
            heavy_crates(tree),
            vec!["burn-core", "ort-sys", "tch", "wgpu"]
        );
        assert!(
            heavy_crates("nao-prior v0.1.0\nrand_chacha v0.9.0\nthiserror v2.0.0\n").is_empty()
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(fmt_duration(Duration::from_secs(125)), "2m05.0s");
    }

    #[test]
    fn the_workspace_has_benches() {
        let names = bench_names(&workspace_root()).unwrap_or_default();
        assert!(names.iter().any(|n| n == "geometry"), "{names:?}");
    }
}
