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

mod libtorch_setup;
mod ort_setup;

/// Crates that must stay free of ML backends.
const LIGHT_CRATES: &[&str] = &[
    "nao-prior",
    "nao-optim",
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
  ci [--all-backends]
                format check, clippy (-D warnings), tests (nextest if installed), the
                backend conformance suite (cpu, wgpu, onnx-cpu; tch-cpu when LibTorch is
                provisioned), doc tests, the dependency check of the device-free crates and
                rustdoc; stops at the first failure. --all-backends provisions LibTorch
                first (setup-libtorch) so tch-cpu runs too
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
  conformance [--backend NAME]... [--write-reference]
                the backend conformance suite (crates/nao-conformance) for the named
                backends (cpu, wgpu, onnx-cpu, tch-cpu, tch-cuda, cuda, onnx-cuda) in one
                build: the table of differences from the CPU reference (also written to
                target/conformance.json), then the tests; default: cpu, wgpu, onnx-cpu and
                tch-cpu when LibTorch is provisioned. --write-reference rewrites the
                reference with the cpu backend
  setup-libtorch
                install PyTorch 2.9.0's libtorch (CPU part, ≈ 1 GB) into .cache/libtorch/
                for burn's tch backend; prints LIBTORCH and LD_LIBRARY_PATH
  bench-backends [--backend NAME]... [ARGS]
                sampling throughput (images/s) of the embedded model on each named backend
                in one criterion run (default: cpu, wgpu, onnx-cpu, + tch-cpu when
                provisioned)
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
        Some("conformance") => conformance_command(&root, &args[1..]),
        Some("setup-libtorch") => libtorch_setup::setup_libtorch_command(&root, &args[1..]),
        Some("bench-backends") => bench_backends(&root, &args[1..]),
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
    let all_backends = match extra.first().map(String::as_str) {
        None => false,
        Some("--all-backends") if extra.len() == 1 => true,
        Some(arg) => {
            return Err(Failure(format!(
                "`ci` takes only --all-backends (got '{arg}')"
            )))
        }
    };
    // One feature set for every test-profile step, so burn is built once: the workspace
    // tests include the conformance suite for wgpu and ONNX Runtime (and LibTorch when
    // provisioned) beside the cpu one.
    let with_tch = all_backends || libtorch_setup::provisioned(root).is_some();
    let mut backends = vec!["cpu", "wgpu", "onnx-cpu"];
    if with_tch {
        backends.push("tch-cpu");
    } else {
        eprintln!("xtask: LibTorch not provisioned (cargo xtask setup-libtorch): tch-cpu skipped");
    }
    let features = backends
        .iter()
        .filter_map(|b| BACKENDS.iter().find(|(n, _)| n == b))
        .filter(|(_, f)| *f != "flex")
        .map(|(_, f)| format!("nao-conformance/{f}"))
        .collect::<Vec<_>>()
        .join(",");
    let tests: Vec<String> = if have_nextest(root) {
        vec!["nextest".into(), "run".into(), "--workspace".into()]
    } else {
        eprintln!("xtask: cargo-nextest not found; using cargo test");
        vec!["test".into(), "--workspace".into(), "--all-targets".into()]
    };
    let owned_step = |name: &'static str, mut args: Vec<String>, with_features: bool| {
        if with_features {
            args.extend(["--features".to_string(), features.clone()]);
        }
        Step {
            name,
            run: Box::new(move |root: &Path| {
                run_cargo(root, &args.iter().map(String::as_str).collect::<Vec<_>>())
            }),
        }
    };
    let report_backends: Vec<String> = backends.iter().map(|b| b.to_string()).collect();
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
            name: "backends (ONNX Runtime; LibTorch when provisioned or --all-backends)",
            run: Box::new(move |root| {
                ort_setup::export_ort_dylib_path(root)?;
                if with_tch {
                    libtorch_setup::export_env(&libtorch_setup::setup_libtorch(root)?);
                }
                Ok(())
            }),
        },
        owned_step("tests (with the conformance suites)", tests, true),
        Step {
            name: "backend conformance table",
            run: Box::new(move |root| conformance_report(root, &report_backends)),
        },
        owned_step(
            "doc tests",
            vec!["test".into(), "--workspace".into(), "--doc".into()],
            true,
        ),
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

/// A backend of the conformance suite: its `--target` name and the feature of
/// `nao-conformance` that compiles it in.
const BACKENDS: [(&str, &str); 7] = [
    ("cpu", "flex"),
    ("wgpu", "wgpu"),
    ("onnx-cpu", "onnx"),
    ("tch-cpu", "tch"),
    ("tch-cuda", "tch-cuda"),
    ("cuda", "cuda"),
    ("onnx-cuda", "onnx-cuda"),
];

/// What CI runs: cpu, wgpu (lavapipe on this machine), onnx-cpu, and tch-cpu when LibTorch
/// has been provisioned (`setup-libtorch`; a ≈ 1 GB download CI does not make by itself).
fn default_backends(root: &Path) -> Vec<String> {
    let mut names = vec!["cpu", "wgpu", "onnx-cpu"];
    if libtorch_setup::provisioned(root).is_some() {
        names.push("tch-cpu");
    } else {
        eprintln!("xtask: LibTorch not provisioned (cargo xtask setup-libtorch): tch-cpu skipped");
    }
    names.into_iter().map(str::to_string).collect()
}

/// `--backend NAME` options (several allowed) and the rest of the arguments.
fn backend_args(extra: &[String]) -> Result<(Vec<String>, Vec<String>), Failure> {
    let mut backends = Vec::new();
    let mut rest = Vec::new();
    let mut args = extra.iter();
    while let Some(a) = args.next() {
        if a == "--backend" {
            let name = args
                .next()
                .ok_or_else(|| Failure("--backend needs a name".into()))?;
            if !BACKENDS.iter().any(|(b, _)| b == name) {
                return Err(Failure(format!(
                    "unknown backend '{name}' (known: {})",
                    BACKENDS.map(|(b, _)| b).join(", ")
                )));
            }
            backends.push(name.clone());
        } else {
            rest.push(a.clone());
        }
    }
    Ok((backends, rest))
}

/// The feature list for backends, and the environment they need (ONNX Runtime, LibTorch).
fn prepare_backends(root: &Path, backends: &[String]) -> Result<String, Failure> {
    if backends.iter().any(|b| b.starts_with("onnx")) {
        ort_setup::export_ort_dylib_path(root)?;
    }
    if backends.iter().any(|b| b.starts_with("tch")) {
        let lt = match libtorch_setup::provisioned(root) {
            Some(lt) => lt,
            None => libtorch_setup::setup_libtorch(root)?,
        };
        libtorch_setup::export_env(&lt);
    }
    Ok(backends
        .iter()
        .filter_map(|b| BACKENDS.iter().find(|(n, _)| n == b).map(|(_, f)| *f))
        .collect::<Vec<_>>()
        .join(","))
}

fn conformance_command(root: &Path, extra: &[String]) -> Outcome {
    let (mut backends, rest) = backend_args(extra)?;
    let write_reference = match rest.as_slice() {
        [] => false,
        [flag] if flag == "--write-reference" => true,
        other => {
            return Err(Failure(format!(
                "unknown argument(s) {other:?} (conformance takes --backend NAME and \
                 --write-reference)"
            )))
        }
    };
    if backends.is_empty() {
        backends = default_backends(root);
    }
    conformance(root, &backends, write_reference)
}

/// The table of differences from the reference, also written to `target/conformance.json`:
/// runs the `nao-conformance` binary the test build just made (building it apart, without the
/// dev-dependencies, would resolve other features and rebuild burn).
fn conformance_report(root: &Path, backends: &[String]) -> Outcome {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    // the test profile builds into `debug/`
    let bin = target_dir.join("debug").join("nao-conformance");
    if !bin.is_file() {
        return Err(Failure(format!(
            "{} is missing: the tests build it (cargo nextest run --workspace --features …)",
            bin.display()
        )));
    }
    let json = target_dir.join("conformance.json");
    let mut cmd = Command::new(&bin);
    if backends == ["--write-reference"] {
        cmd.arg("--write-reference");
    } else {
        for b in backends {
            cmd.args(["--target", b]);
        }
        cmd.arg("--json").arg(&json);
    }
    cmd.current_dir(root);
    eprintln!("$ {} … --json {}", bin.display(), json.display());
    let status = cmd
        .status()
        .map_err(|e| Failure(format!("could not start {}: {e}", bin.display())))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure(format!(
            "{} exited with {status}: a backend is outside its tolerance (table above)",
            bin.display()
        )))
    }
}

/// Build the suite once with every backend's feature, print the table of differences, then
/// run the tests.
fn conformance(root: &Path, backends: &[String], write_reference: bool) -> Outcome {
    let features = prepare_backends(root, backends)?;
    // `nao-conformance/F` at the workspace level: the same build as `cargo xtask ci`'s
    let features = features
        .split(',')
        .filter(|f| !f.is_empty() && *f != "flex")
        .map(|f| format!("nao-conformance/{f}"))
        .collect::<Vec<_>>()
        .join(",");
    let mut tests = if have_nextest(root) {
        vec![
            "nextest",
            "run",
            "--workspace",
            "-E",
            "package(nao-conformance)",
        ]
    } else {
        vec!["test", "--workspace", "--test", "conformance"]
    };
    if !features.is_empty() {
        tests.extend(["--features", features.as_str()]);
    }
    if write_reference {
        // build only, then write the reference with the cpu backend
        let mut build = vec!["test", "--workspace", "--no-run"];
        if !features.is_empty() {
            build.extend(["--features", features.as_str()]);
        }
        run_cargo(root, &build)?;
        return conformance_report(root, &["--write-reference".to_string()]);
    }
    run_cargo(root, &tests)?;
    conformance_report(root, backends)
}

/// `cargo xtask bench-backends`: the throughput bench of nao-conformance with the backends'
/// features, one criterion run over all of them.
fn bench_backends(root: &Path, extra: &[String]) -> Outcome {
    let (mut backends, rest) = backend_args(extra)?;
    if backends.is_empty() {
        backends = default_backends(root);
    }
    let features = prepare_backends(root, &backends)?;
    let mut args = vec![
        "bench",
        "-p",
        "nao-conformance",
        "--features",
        &features,
        "--bench",
        "throughput",
    ];
    if !rest.is_empty() {
        args.push("--");
        args.extend(rest.iter().map(String::as_str));
    }
    run_cargo(root, &args)
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
