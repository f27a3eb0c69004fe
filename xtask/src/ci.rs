//! `cargo xtask ci`: everything CI checks, stopping at the first failure, with the time of each
//! step:
//!
//! 1. provisioning: the system packages ([`crate::system`]: installed when xtask is root or has
//!    passwordless sudo, else the one `sudo apt-get install` line and a stop before any build),
//!    ONNX Runtime, and LibTorch with `--all-backends`;
//! 2. `cargo fmt --check`;
//! 3. the dependency checks (`cargo xtask deps`: light crates, training features, module
//!    cycles), which read sources and `cargo tree` and build nothing;
//! 4. clippy with `-D warnings`;
//! 5. the tests with the conformance suites (cargo-nextest when installed, else `cargo test`);
//! 6. `nao augment` as a SLURM job array (`slurm-check` with the `nao` the tests built: about
//!    20 s, plus installing slurm-wlm and munge the first time);
//! 7. the long-tail experiment's plumbing (`longtail --quick` with the `nao-longtail` the
//!    tests built: real data, a tiny classifier, one seed);
//! 8. the conformance table;
//! 9. the doc tests;
//! 10. rustdoc with warnings as errors.
//!
//! Build reuse: one feature set for the test-profile steps (5–9), so burn is built once for
//! them; and rustdoc (10) resolves features as clippy (4) does, so it reuses clippy's checked
//! dependencies instead of checking burn's stack again (see [`doc_args`]).

use std::path::Path;
use std::time::{Duration, Instant};

use clap::Args;

use crate::conformance::{self, features_args, Report};
use crate::deps::{self, DepsArgs};
use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::longtail::{self, LongtailArgs};
use crate::process::{fmt_duration, have_nextest, run_cargo};
use crate::slurm_check::{self, SlurmCheckArgs};
use crate::system::{ensure, HostProbe};
use crate::workspace::Workspace;
use crate::{backends, devices, setup_libtorch};

/// Options of `cargo xtask ci`.
#[derive(Debug, Args)]
pub struct CiArgs {
    /// Provision LibTorch (≈ 1 GB, `setup-libtorch`) so the tch-cpu device is tested too.
    #[arg(long)]
    pub all_backends: bool,
}

/// The steps' names, in order.
const STEPS: [&str; 10] = [
    "provisioning (system packages, ONNX Runtime; LibTorch with --all-backends)",
    "format",
    "dependency checks (device-free crates, training features, module cycles)",
    "clippy",
    "tests (with the conformance suites)",
    "nao augment on a SLURM job array (slurm-check)",
    "the long-tail experiment, --quick (plumbing)",
    "conformance table",
    "doc tests",
    "api docs (rustdoc warnings are errors)",
];

/// Runs the steps in order, timing each.
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
pub fn doc_args(ws: &Workspace) -> Vec<String> {
    let libs: Vec<String> = ws
        .members
        .iter()
        .flat_map(|m| &m.targets)
        .filter(|t| t.is_lib())
        .map(|t| t.crate_name())
        .collect();
    let mut args: Vec<String> = ["doc", "--workspace", "--no-deps", "--lib", "--examples"]
        .map(str::to_string)
        .to_vec();
    for target in ws.members.iter().flat_map(|m| &m.targets) {
        if target.is_bin() && target.doc && !libs.contains(&target.crate_name()) {
            args.extend(["--bin".to_string(), target.name.clone()]);
        }
    }
    args
}

/// Optional features every CI build and test run includes besides the devices': the MP4
/// encoder of `nao walk` (OpenH264 from its bundled C++ source, so CI checks that it builds).
const EXTRA_FEATURES: [&str; 2] = ["--features", "nao-cli/mp4"];

/// Run CI.
pub fn command(root: &Path, args: &CiArgs) -> Result<()> {
    let total = Instant::now();
    let mut steps = Steps {
        next: 0,
        timings: Vec::new(),
    };
    let with_tch = args.all_backends || setup_libtorch::provisioned(root).is_some();
    let devices = devices::chosen(&[], with_tch);

    let env: ChildEnv = steps.run(|| {
        ensure(&HostProbe, false)?;
        // LibTorch when tch-cpu is among the devices; ONNX Runtime always: the nao-onnx tests
        // load it whatever the devices
        backends::prepare(root, &devices, true)
    })?;
    // The property-based fuzz tests run a bounded number of cases per property (proptest's
    // default is 256); a longer fuzzing run sets PROPTEST_CASES itself.
    let env = match std::env::var_os("PROPTEST_CASES") {
        Some(_) => env,
        None => env.with("PROPTEST_CASES", "128"),
    };
    steps.run(|| run_cargo(root, &env, &["fmt", "--all", "--check"]))?;
    steps.run(|| deps::command(root, &DepsArgs::default()))?;
    steps.run(|| {
        run_cargo(
            root,
            &env,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                EXTRA_FEATURES[0],
                EXTRA_FEATURES[1],
                "--",
                "-D",
                "warnings",
            ],
        )
    })?;
    let features = features_args(&devices);
    steps.run(|| {
        let mut tests: Vec<String> = if have_nextest(root) {
            vec!["nextest".into(), "run".into(), "--workspace".into()]
        } else {
            eprintln!("xtask: cargo-nextest not found; using cargo test");
            vec!["test".into(), "--workspace".into(), "--all-targets".into()]
        };
        tests.extend(features.iter().cloned());
        tests.extend(EXTRA_FEATURES.map(String::from));
        run_cargo(root, &env, &tests)
    })?;
    steps.run(|| {
        // the nao binary the tests just built: no second build with other features
        let nao = Workspace::load(root)?.target_dir.join("debug").join("nao");
        slurm_check::command(root, &SlurmCheckArgs::with_binary(nao))
    })?;
    steps.run(|| {
        let debug = Workspace::load(root)?.target_dir.join("debug");
        longtail::command(root, &LongtailArgs::quick_with(debug.join("nao-longtail")))
    })?;
    steps.run(|| conformance::report(root, &env, Report::Table))?;
    steps.run(|| {
        let mut doctests: Vec<String> = vec!["test".into(), "--workspace".into(), "--doc".into()];
        doctests.extend(features.iter().cloned());
        doctests.extend(EXTRA_FEATURES.map(String::from));
        run_cargo(root, &env, &doctests)
    })?;
    steps.run(|| {
        let ws = Workspace::load(root)?;
        // for this step only: every other step builds without it
        let doc_env = env.clone().with("RUSTDOCFLAGS", "-D warnings");
        run_cargo(root, &doc_env, &doc_args(&ws))
    })?;

    eprintln!("\nxtask ci: all {} steps passed", STEPS.len());
    for (name, took) in &steps.timings {
        eprintln!("  {:>9}  {name}", fmt_duration(*took));
    }
    eprintln!("  {:>9}  total", fmt_duration(total.elapsed()));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::{Member, Target};

    fn target(name: &str, kind: &str, doc: bool) -> Target {
        Target {
            name: name.into(),
            kinds: vec![kind.into()],
            src_path: format!("/w/{name}.rs").into(),
            doc,
        }
    }

    #[test]
    fn rustdoc_documents_what_cargo_doc_does_by_default() {
        let ws = Workspace {
            root: "/w".into(),
            target_dir: "/w/target".into(),
            members: vec![
                Member {
                    name: "nao".into(),
                    dir: "/w".into(),
                    targets: vec![
                        target("nao", "lib", true),
                        target("geometry", "bench", false),
                    ],
                },
                Member {
                    name: "nao-cli".into(),
                    dir: "/w/crates/nao-cli".into(),
                    // takes the name of the root package's library
                    targets: vec![target("nao", "bin", true), target("basic", "test", false)],
                },
                Member {
                    name: "nao-conformance".into(),
                    dir: "/w/crates/nao-conformance".into(),
                    targets: vec![
                        target("nao_conformance", "lib", true),
                        target("nao-conformance", "bin", true),
                    ],
                },
                Member {
                    name: "nao-burn".into(),
                    dir: "/w/crates/nao-burn".into(),
                    targets: vec![
                        target("nao_burn", "lib", true),
                        target("nao-train", "bin", true),
                        target("hidden", "bin", false),
                    ],
                },
            ],
        };
        assert_eq!(
            doc_args(&ws).join(" "),
            "doc --workspace --no-deps --lib --examples --bin nao-train"
        );
    }

    #[test]
    fn the_steps_are_numbered_and_a_failure_names_its_step() {
        let mut steps = Steps {
            next: 0,
            timings: Vec::new(),
        };
        assert_eq!(steps.run(|| Ok(7)).unwrap(), 7);
        let e = steps
            .run(|| -> Result<()> { Err(XtaskError::Check("bad".into())) })
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("step 2/10 'format' failed after"), "{e}");
        assert!(e.ends_with(": bad"), "{e}");
        assert_eq!(steps.timings.len(), 1);
    }
}
