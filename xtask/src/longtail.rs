//! `cargo xtask longtail`: the long-tail experiment end to end.
//!
//! Builds `nao-longtail` in release mode (unless a binary is given) and runs `nao-longtail run`,
//! which does everything in-process (`nao_burn_train::longtail`): the fair protocol (every
//! configuration trains on the same number of images per class; the 60 real rare images and
//! `M` generated ones oversampled together), the generated sets of its grid (seed method ×
//! source × refinement at 5 shots, the best source at 60), their measures against the rare
//! classes' test images, the classifier trained on each configuration over 3 seeds and 5 for
//! the rows within the spread of a comparison, and the report (docs/results.md,
//! docs/results/). The working folder keeps the generated sets and the finished runs, so a
//! killed experiment resumes. The binary checks its own results (every configuration, the
//! seeds the rule gives it, the best source the first pass chose) and fails when they are
//! incomplete. About 50 minutes on 2 cores (docs/results.md has the measured costs).
//!
//! `--quick` checks the plumbing in CI (every code path: a source, a tiny SeedSelect, two shot
//! counts, the second pass of seeds; a tiny classifier, few images, 500 test images; about a
//! minute), not the numbers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{fmt_duration, run, run_cargo};
use crate::workspace::Workspace;

/// Options of `cargo xtask longtail`.
#[derive(Debug, Args)]
pub struct LongtailArgs {
    /// The plumbing check: 1 seed (2 for the rows within the spread), 8 generated images per
    /// rare class made with 4 DDIM steps, pairs, a tiny SeedSelect, 5 and 60 shots, a tiny
    /// classifier (4 channels, 16 hidden, 30 steps), 500 test images; written under the
    /// working folder unless --out/--markdown say otherwise.
    #[arg(long)]
    pub quick: bool,
    /// The nao-longtail binary (default: built in release mode).
    #[arg(long, value_name = "PATH")]
    pub nao_longtail: Option<PathBuf>,
    /// Training seeds of every configuration [default: 3; 1 with --quick].
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Generated images per rare class in every generated set [default: 100; 8 with --quick].
    #[arg(long, value_name = "M")]
    pub per_class: Option<usize>,
    /// DDIM steps of the generation [default: 20; 4 with --quick].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Working folder (real images, generated sets, finished runs) [default:
    /// TARGET/longtail-fair, or TARGET/longtail-fair-quick: the fair protocol's sets differ
    /// from those an older working folder holds].
    #[arg(long, value_name = "DIR")]
    pub work: Option<PathBuf>,
    /// Folder of results.json and longtail.png [default: docs/results; WORK/results with
    /// --quick].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The markdown report [default: docs/results.md; WORK/results.md with --quick].
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
}

impl LongtailArgs {
    /// The plumbing check as `cargo xtask ci` runs it, with the `nao-longtail` its tests built.
    pub fn quick_with(nao_longtail: PathBuf) -> Self {
        Self {
            quick: true,
            nao_longtail: Some(nao_longtail),
            seeds: None,
            per_class: None,
            steps: None,
            work: None,
            out: None,
            markdown: None,
        }
    }
}

/// The command line this run stands for, for the report.
fn command_line(args: &LongtailArgs) -> String {
    let mut s = String::from("cargo xtask longtail");
    if args.quick {
        s.push_str(" --quick");
    }
    if let Some(v) = args.seeds {
        s.push_str(&format!(" --seeds {v}"));
    }
    if let Some(v) = args.per_class {
        s.push_str(&format!(" --per-class {v}"));
    }
    if let Some(v) = args.steps {
        s.push_str(&format!(" --steps {v}"));
    }
    if let Some(b) = &args.nao_longtail {
        s.push_str(&format!(" --nao-longtail {}", b.display()));
    }
    s
}

/// Run the experiment.
pub fn command(root: &Path, args: &LongtailArgs) -> Result<()> {
    let started = Instant::now();
    let ws = Workspace::load(root)?;
    let binary = match &args.nao_longtail {
        Some(b) => b.clone(),
        None => {
            run_cargo(
                root,
                &ChildEnv::new(),
                &[
                    "build",
                    "--release",
                    "-p",
                    "nao-burn-train",
                    "--bin",
                    "nao-longtail",
                ],
            )?;
            ws.target_dir.join("release").join("nao-longtail")
        }
    };
    if !binary.is_file() {
        return Err(XtaskError::Usage(format!(
            "{}: no such binary",
            binary.display()
        )));
    }
    let quick = args.quick;
    let work = args.work.clone().unwrap_or_else(|| {
        ws.target_dir.join(if quick {
            "longtail-fair-quick"
        } else {
            "longtail-fair"
        })
    });
    let out = args.out.clone().unwrap_or_else(|| {
        if quick {
            work.join("results")
        } else {
            root.join("docs/results")
        }
    });
    let markdown = args.markdown.clone().unwrap_or_else(|| {
        if quick {
            work.join("results.md")
        } else {
            root.join("docs/results.md")
        }
    });

    let mut cmd = Command::new(&binary);
    cmd.arg("run")
        .arg("--work")
        .arg(&work)
        .arg("--out")
        .arg(&out)
        .arg("--markdown")
        .arg(&markdown)
        .args(["--command", &command_line(args)]);
    if quick {
        cmd.arg("--quick");
    }
    for (option, value) in [
        ("--seeds", args.seeds.map(|v| v.to_string())),
        ("--per-class", args.per_class.map(|v| v.to_string())),
        ("--steps", args.steps.map(|v| v.to_string())),
    ] {
        if let Some(v) = value {
            cmd.args([option, &v]);
        }
    }
    run(&mut cmd, "nao-longtail run")?;
    eprintln!(
        "xtask longtail: done in {}; {} and {}",
        fmt_duration(started.elapsed()),
        markdown.display(),
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_names_what_differs_from_the_defaults() {
        let mut a = LongtailArgs::quick_with("t".into());
        assert_eq!(
            command_line(&a),
            "cargo xtask longtail --quick --nao-longtail t"
        );
        a.quick = false;
        a.nao_longtail = None;
        a.seeds = Some(5);
        a.per_class = Some(200);
        assert_eq!(
            command_line(&a),
            "cargo xtask longtail --seeds 5 --per-class 200"
        );
    }
}
