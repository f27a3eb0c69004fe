//! `cargo xtask ci`: everything CI checks, stopping at the first failure, with the time of each
//! step:
//!
//! 1. provisioning: the system packages ([`crate::system`]: installed when xtask is root or has
//!    passwordless sudo, else the one `sudo apt-get install` line and a stop before any build),
//!    ONNX Runtime, and LibTorch with `--all-backends`;
//! 2. `cargo fmt --check`;
//! 3. the dependency checks (`cargo xtask deps`: device-free crates, training features), which
//!    read `cargo metadata` and `cargo tree` and build nothing;
//! 4. clippy with `-D warnings`;
//! 5. the tests with the conformance suites (cargo-nextest when installed, else `cargo test`);
//! 6. `nao augment` as a SLURM job array (`slurm-check` with the `nao` the tests built: about
//!    20 s, plus installing slurm-wlm and munge the first time);
//! 7. the runnable `examples/` on the embedded model (the binaries the tests built);
//! 8. the long-tail experiment's plumbing (`longtail --quick` with the `nao-longtail` the
//!    tests built: real data, a source, a tiny SeedSelect, two shot counts, the second pass of
//!    seeds; a tiny classifier; about a minute);
//! 9. the conformance table;
//! 10. the doc tests;
//! 11. rustdoc with warnings as errors.
//!
//! Build reuse: one feature set for the test-profile steps (5–10), so burn is built once for
//! them; and rustdoc (10) resolves features as clippy (4) does, so it reuses clippy's checked
//! dependencies instead of checking burn's stack again (see [`doc_args`]).

use std::path::Path;
use std::time::{Duration, Instant};

use cargo_metadata::{Target, TargetKind};
use clap::Args;

use crate::conformance::{self, Report};
use crate::deps::{self, DepsArgs};
use crate::devices::{self, features_args};
use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::examples::{self, ExamplesArgs};
use crate::longtail::{self, LongtailArgs};
use crate::process::{fmt_duration, have_nextest, print_timings, run_cargo};
use crate::setup_libtorch;
use crate::slurm_check::{self, SlurmCheckArgs};
use crate::system::{ensure, HostProbe};
use crate::workspace::Workspace;

/// Options of `cargo xtask ci`.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// Provision LibTorch (≈ 1 GB, `setup-libtorch`) so the tch-cpu device is tested too.
    #[arg(long)]
    pub all_backends: bool,
}

/// The steps' names, in order.
const STEPS: [&str; 11] = [
    "provisioning (system packages, ONNX Runtime; LibTorch with --all-backends)",
    "format",
    "dependency checks (device-free crates, training features)",
    "clippy",
    "tests (with the conformance suites)",
    "nao augment on a SLURM job array (slurm-check)",
    "the examples on the embedded model",
    "the long-tail experiment, --quick (plumbing)",
    "conformance table",
    "doc tests",
    "api docs (rustdoc warnings are errors)",
];

/// Runs the steps in order, timing each.
#[derive(Default)]
struct Steps {
    next: usize,
    timings: Vec<(&'static str, Duration)>,
}

impl Steps {
    fn run<T>(&mut self, f: impl FnOnce() -> Result<T>) -> Result<T> {
        let name = STEPS[self.next];
        self.next += 1;
        eprintln!("\n==> [{}/{}] {name}", self.next, STEPS.len());
        let start = Instant::now();
        let outcome = f();
        let took = start.elapsed();
        match outcome {
            Ok(value) => {
                eprintln!("<== {name} ok ({})", fmt_duration(took));
                self.timings.push((name, took));
                Ok(value)
            }
            Err(e) => Err(XtaskError::Step {
                index: self.next,
                total: STEPS.len(),
                name,
                after: fmt_duration(took),
                source: Box::new(e),
            }),
        }
    }
}

/// The target selection of the rustdoc step: what `cargo doc` documents by default (libraries,
/// and binaries whose name no library takes), plus `--examples`. Selecting examples makes cargo
/// resolve features with the dev-dependencies, as clippy `--all-targets` does; without it the
/// dev-dependencies' features drop out (today `either/use_std`, through rayon), and cargo
/// checks rayon, gemm and burn's whole stack a second time for rustdoc.
pub fn doc_args(targets: &[&Target]) -> Vec<String> {
    // the name rustc gives a crate: `-` becomes `_`
    let crate_name = |t: &Target| t.name.replace('-', "_");
    use TargetKind::{CDyLib, DyLib, Lib, ProcMacro, RLib, StaticLib};
    let lib = |k: &TargetKind| matches!(k, Lib | RLib | DyLib | ProcMacro | CDyLib | StaticLib);
    let libs = targets.iter().filter(|t| t.kind.iter().any(lib));
    let libs: Vec<String> = libs.map(|t| crate_name(t)).collect();
    let args = ["doc", "--workspace", "--no-deps", "--lib", "--examples"];
    let mut args: Vec<String> = args.map(str::to_string).to_vec();
    for target in targets {
        if target.is_bin() && target.doc && !libs.contains(&crate_name(target)) {
            args.extend(["--bin".to_string(), target.name.clone()]);
        }
    }
    args
}

/// Optional features every CI build and test run includes besides the devices': the MP4
/// encoder of `nao walk` (OpenH264 from its bundled C++ source, so CI checks that it builds),
/// and the facade's `full`, which the runnable examples need (the test step builds them).
const EXTRA_FEATURES: [&str; 4] = ["--features", "nao-cli/mp4", "--features", "nao/full"];

/// Run CI.
pub fn command(root: &Path, args: &CiArgs) -> Result<()> {
    let total = Instant::now();
    let mut steps = Steps::default();
    let with_tch = args.all_backends || setup_libtorch::provisioned(root).is_some();
    let devices = devices::chosen(&[], with_tch);

    let env: ChildEnv = steps.run(|| {
        ensure(&HostProbe, false)?;
        // LibTorch when tch-cpu is among the devices; ONNX Runtime always: the nao-onnx tests
        // load it whatever the devices
        devices::prepare(root, &devices, true)
    })?;
    // The property-based fuzz tests run a bounded number of cases per property (proptest's
    // default is 256); a longer fuzzing run sets PROPTEST_CASES itself.
    let env = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => env,
        None => env.with("PROPTEST_CASES", "128"),
    };
    steps.run(|| run_cargo(root, &env, &["fmt", "--all", "--check"]))?;
    steps.run(|| deps::command(root, &DepsArgs::default()))?;
    let mut clippy = vec!["clippy", "--workspace", "--all-targets"];
    clippy.extend(EXTRA_FEATURES.into_iter().chain(["--", "-D", "warnings"]));
    steps.run(|| run_cargo(root, &env, &clippy))?;
    let features = features_args(&devices);
    // the feature set of the test-profile steps
    let with_features = |args: &[&str]| -> Vec<String> {
        let extra = features.iter().map(String::as_str).chain(EXTRA_FEATURES);
        let all = args.iter().copied().chain(extra);
        all.map(String::from).collect()
    };
    steps.run(|| {
        let tests: &[&str] = if have_nextest(root) {
            &["nextest", "run", "--workspace"]
        } else {
            eprintln!("xtask: cargo-nextest not found; using cargo test");
            &["test", "--workspace", "--all-targets"]
        };
        run_cargo(root, &env, &with_features(tests))
    })?;
    steps.run(|| {
        // the nao binary the tests just built: no second build with other features
        let nao = Workspace::load(root)?.target_dir.join("debug").join("nao");
        slurm_check::command(root, &SlurmCheckArgs::with_binary(nao))
    })?;
    steps.run(|| {
        // the examples the tests just built
        let built = Workspace::load(root)?
            .target_dir
            .join("debug")
            .join("examples");
        examples::command(root, &ExamplesArgs { built: Some(built) })
    })?;
    steps.run(|| {
        let debug = Workspace::load(root)?.target_dir.join("debug");
        longtail::command(root, &LongtailArgs::quick_with(debug.join("nao-longtail")))
    })?;
    steps.run(|| conformance::report(root, &env, Report::Table))?;
    let doctests = with_features(&["test", "--workspace", "--doc"]);
    steps.run(|| run_cargo(root, &env, &doctests))?;
    steps.run(|| {
        let ws = Workspace::load(root)?;
        let targets: Vec<&Target> = ws.members.iter().flat_map(|m| &m.targets).collect();
        // for this step only: every other step builds without it
        let doc_env = env.clone().with("RUSTDOCFLAGS", "-D warnings");
        run_cargo(root, &doc_env, &doc_args(&targets))
    })?;

    eprintln!("\nxtask ci: all {} steps passed", STEPS.len());
    print_timings(&steps.timings, total);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(name: &str, kind: &str, doc: bool) -> Target {
        serde_json::from_value(serde_json::json!({
            "name": name, "kind": [kind], "src_path": format!("/w/{name}.rs"), "doc": doc
        }))
        .unwrap()
    }

    #[test]
    fn rustdoc_documents_what_cargo_doc_does_by_default() {
        let targets = [
            // the root package
            target("nao", "lib", true),
            target("geometry", "bench", false),
            // nao-cli: takes the name of the root package's library
            target("nao", "bin", true),
            target("basic", "test", false),
            // nao-conformance
            target("nao_conformance", "lib", true),
            target("nao-conformance", "bin", true),
            // nao-burn
            target("nao_burn", "lib", true),
            target("nao-train", "bin", true),
            target("hidden", "bin", false),
        ];
        let args = doc_args(&targets.iter().collect::<Vec<_>>()).join(" ");
        assert_eq!(
            args,
            "doc --workspace --no-deps --lib --examples --bin nao-train"
        );
    }

    #[test]
    fn the_steps_are_numbered_and_a_failure_names_its_step() {
        let mut steps = Steps::default();
        assert_eq!(steps.run(|| Ok(7)).unwrap(), 7);
        let e = steps.run(|| -> Result<()> { Err(XtaskError::Check("bad".into())) });
        let e = e.unwrap_err().to_string();
        assert!(e.starts_with("step 2/11 'format' failed after"), "{e}");
        assert!(e.ends_with(": bad"), "{e}");
        assert_eq!(steps.timings.len(), 1);
    }
}
