//! `cargo xtask longtail`: the long-tail experiment end to end.
//!
//! 1. `cargo build --release -p nao-cli --bin nao -p nao-burn-train --bin nao-longtail`
//!    (unless both binaries are given);
//! 2. `nao-longtail real`: 5 real images of each rare class, drawn from the long-tailed
//!    training set the embedded model was trained on;
//! 3. `nao augment` on them, once per seed method (prompt-only, euclidean, normalized,
//!    spherical, gaussian, nao), `M` images per rare class, two methods at a time — resumable,
//!    so a killed experiment picks up where it stopped;
//! 4. `nao eval` of each method's images against the rare classes' test images;
//! 5. `nao-longtail train`: the classifier trained on each configuration over the seeds, scored
//!    on the test set; `results.json`, `longtail.png` and the markdown report (finished runs
//!    are kept in the working folder, so this resumes too).
//!
//! `--quick` checks the plumbing in CI (a tiny classifier, few images, one seed, 500 test
//! images), not the numbers.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{fmt_duration, run, run_cargo, show};
use crate::workspace::Workspace;

/// `nao augment`'s seed methods, in the report's order.
pub const METHODS: [&str; 6] = [
    "prompt-only",
    "euclidean",
    "normalized",
    "spherical",
    "gaussian",
    "nao",
];

/// `nao augment` processes run at once (it makes one image at a time, on one core).
const GENERATION_JOBS: usize = 2;

/// Options of `cargo xtask longtail`.
#[derive(Debug, Args)]
pub struct LongtailArgs {
    /// The plumbing check: 1 seed, 20 generated images per rare class made with 4 DDIM steps,
    /// a tiny classifier (4 channels, 16 hidden, 30 steps), 500 test images; written under the
    /// working folder unless --out/--markdown say otherwise.
    #[arg(long)]
    pub quick: bool,
    /// The nao binary (default: built in release mode).
    #[arg(long, value_name = "PATH", requires = "trainer")]
    pub nao: Option<PathBuf>,
    /// The nao-longtail binary (default: built in release mode).
    #[arg(long, value_name = "PATH", requires = "nao")]
    pub trainer: Option<PathBuf>,
    /// Training seeds per configuration [default: 3; 1 with --quick].
    #[arg(long)]
    pub seeds: Option<u64>,
    /// Generated images per rare class and method [default: 1000; 20 with --quick].
    #[arg(long, value_name = "M")]
    pub per_class: Option<usize>,
    /// DDIM steps of `nao augment` [default: 50; 4 with --quick].
    #[arg(long)]
    pub steps: Option<usize>,
    /// Working folder (real images, generated sets, finished runs) [default:
    /// TARGET/longtail, or TARGET/longtail-quick].
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
    /// The plumbing check as `cargo xtask ci` runs it, with the binaries its tests built.
    pub fn quick_with(nao: PathBuf, trainer: PathBuf) -> Self {
        Self {
            quick: true,
            nao: Some(nao),
            trainer: Some(trainer),
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
    if let (Some(n), Some(t)) = (&args.nao, &args.trainer) {
        s.push_str(&format!(" --nao {} --trainer {}", n.display(), t.display()));
    }
    s
}

/// Run the experiment.
pub fn command(root: &Path, args: &LongtailArgs) -> Result<()> {
    let started = Instant::now();
    let ws = Workspace::load(root)?;
    let (nao, trainer) = match (&args.nao, &args.trainer) {
        (Some(n), Some(t)) => (n.clone(), t.clone()),
        _ => {
            run_cargo(
                root,
                &ChildEnv::new(),
                &[
                    "build",
                    "--release",
                    "-p",
                    "nao-cli",
                    "--bin",
                    "nao",
                    "-p",
                    "nao-burn-train",
                    "--bin",
                    "nao-longtail",
                ],
            )?;
            let release = ws.target_dir.join("release");
            (release.join("nao"), release.join("nao-longtail"))
        }
    };
    for bin in [&nao, &trainer] {
        if !bin.is_file() {
            return Err(XtaskError::Usage(format!(
                "{}: no such binary",
                bin.display()
            )));
        }
    }
    let quick = args.quick;
    let work = args.work.clone().unwrap_or_else(|| {
        ws.target_dir
            .join(if quick { "longtail-quick" } else { "longtail" })
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
    let seeds = args.seeds.unwrap_or(if quick { 1 } else { 3 });
    let per_class = args.per_class.unwrap_or(if quick { 20 } else { 1000 });
    let steps = args.steps.unwrap_or(if quick { 4 } else { 50 });
    std::fs::create_dir_all(&work).map_err(|source| XtaskError::Io {
        path: work.clone(),
        source,
    })?;

    let real = work.join("real");
    let test_real = work.join("test-real");
    run(
        Command::new(&trainer)
            .args(["real", "--out"])
            .arg(&real)
            .arg("--test-out")
            .arg(&test_real),
        "nao-longtail real",
    )?;

    let generation = Instant::now();
    let mut generated = Vec::new();
    let mut commands = Vec::new();
    for method in METHODS {
        let dir = work.join("generated").join(method);
        let mut cmd = Command::new(&nao);
        cmd.arg("augment")
            .arg(&real)
            .arg("-o")
            .arg(&dir)
            .args(["--method", method])
            .args(["--per-class", &per_class.to_string()])
            .args(["--steps", &steps.to_string()]);
        commands.push((method, cmd));
        generated.push(format!("{method}={}", dir.display()));
    }
    // `nao augment` makes one image at a time on one core: two methods at once use both
    for pair in commands.chunks_mut(GENERATION_JOBS) {
        let mut children = Vec::new();
        for (method, cmd) in pair.iter_mut() {
            eprintln!("$ {}", show(cmd));
            let child = cmd.spawn().map_err(|source| XtaskError::Spawn {
                command: show(cmd),
                source,
                hint: String::new(),
            })?;
            children.push((*method, child));
        }
        for (method, mut child) in children {
            let status = child.wait().map_err(|source| XtaskError::Spawn {
                command: format!("nao augment --method {method}"),
                source,
                hint: String::new(),
            })?;
            if !status.success() {
                return Err(XtaskError::Exit {
                    what: format!("generating the {method} images"),
                    command: format!("nao augment --method {method}"),
                    status,
                });
            }
        }
    }

    // what the generated images are like, against the rare classes' test images
    let eval = work.join("eval");
    let mut eval_cmd = Command::new(&nao);
    eval_cmd.arg("eval");
    for method in METHODS {
        eval_cmd.arg(work.join("generated").join(method));
    }
    eval_cmd.arg("--real").arg(&test_real).arg("-o").arg(&eval);
    run(&mut eval_cmd, "nao eval of the generated images")?;
    let generation_seconds = generation.elapsed().as_secs_f64();

    let mut train = Command::new(&trainer);
    train
        .arg("train")
        .arg("--work")
        .arg(&work)
        .args(["--per-class", &per_class.to_string()])
        .args(["--seeds", &seeds.to_string()])
        .arg("--results")
        .arg(&out)
        .arg("--markdown")
        .arg(&markdown)
        .args(["--command", &command_line(args)])
        .args(["--generation-seconds", &format!("{generation_seconds:.1}")])
        .arg("--eval")
        .arg(eval.join("eval.json"));
    for g in &generated {
        train.args(["--generated", g]);
    }
    if quick {
        train.args([
            "--channels",
            "4",
            "--hidden",
            "16",
            "--steps",
            "30",
            "--test-limit",
            "500",
        ]);
    }
    run(&mut train, "nao-longtail train")?;
    check_results(&out.join("results.json"), seeds, per_class)?;
    eprintln!(
        "xtask longtail: done in {}; {} and {}",
        fmt_duration(started.elapsed()),
        markdown.display(),
        out.display()
    );
    Ok(())
}

/// The results must name every configuration with one run per seed.
fn check_results(path: &Path, seeds: u64, per_class: usize) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|source| XtaskError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| XtaskError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let names: Vec<&str> = v["configs"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["name"].as_str()).collect())
        .unwrap_or_default();
    let expected: Vec<String> = ["long-tail".to_string(), "oversample".to_string()]
        .into_iter()
        .chain(METHODS.iter().map(|m| format!("+{m}")))
        .collect();
    let runs = v["runs"].as_array().map_or(0, Vec::len);
    if names != expected
        || runs as u64 != seeds * expected.len() as u64
        || v["generated_per_rare_class"] != per_class
    {
        return Err(XtaskError::Parse {
            path: path.to_path_buf(),
            message: format!(
                "expected configurations {expected:?} with {seeds} runs each and {per_class} \
                 generated images per class; found {names:?}, {runs} runs"
            ),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_names_what_differs_from_the_defaults() {
        let mut a = LongtailArgs::quick_with("n".into(), "t".into());
        assert_eq!(
            command_line(&a),
            "cargo xtask longtail --quick --nao n --trainer t"
        );
        a.quick = false;
        a.nao = None;
        a.trainer = None;
        a.seeds = Some(5);
        a.per_class = Some(200);
        assert_eq!(
            command_line(&a),
            "cargo xtask longtail --seeds 5 --per-class 200"
        );
    }
}
