//! `cargo xtask deps`: the dependency checks, also a step of `ci`:
//!
//! - [`light`]: the device-free crates pull in no ML backend;
//! - [`features`]: the crates that only run models do not enable burn's training features;
//! - [`cycles`]: no crate of the workspace has a cycle among its modules ([`modules`] reads
//!   the sources).
//!
//! All three run; the failures are reported together.

pub mod cycles;
pub mod features;
pub mod light;
pub mod modules;

use std::path::Path;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{cargo, output};
use crate::workspace::{Member, Target, Workspace};

use self::cycles::{find_cycles, Cycle};
use self::modules::ModuleTree;

/// Options of `cargo xtask deps`.
#[derive(Debug, Clone, Default, Args)]
pub struct DepsArgs {
    /// Check this crate for burn's training features instead of the built-in list (several
    /// allowed).
    #[arg(long = "inference-crate", value_name = "CRATE")]
    pub inference_crates: Vec<String>,
}

/// Run the three checks; fail with every problem found.
pub fn command(root: &Path, args: &DepsArgs) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    let env = ChildEnv::new();

    eprintln!("-- device-free crates");
    let tree = output(
        &mut cargo(root, &env, &light::tree_args()),
        "listing the device-free crates' dependencies",
    )?;
    match light::check(&tree) {
        Ok(line) => eprintln!("{line}"),
        Err(problem) => {
            eprintln!("heavy dependencies found (listed at the end)");
            problems.push(problem);
        }
    }

    eprintln!("-- training features");
    let crates: Vec<&str> = if args.inference_crates.is_empty() {
        features::INFERENCE_CRATES.to_vec()
    } else {
        args.inference_crates.iter().map(String::as_str).collect()
    };
    for krate in crates {
        let tree = output(
            &mut cargo(root, &env, &features::tree_args(krate)),
            &format!("listing {krate}'s features"),
        )?;
        match features::check(krate, &tree, features::TRAINING) {
            Ok(line) => eprintln!("{line}"),
            Err(problem) => {
                eprintln!("{krate}: forbidden features (listed at the end)");
                problems.push(problem);
            }
        }
    }

    eprintln!("-- module cycles");
    let ws = Workspace::load(root)?;
    let (report, modules_read) = module_cycles(&ws)?;
    if report.is_empty() {
        eprintln!(
            "no module cycles in {} crates ({modules_read} modules)",
            ws.members.len()
        );
    } else {
        eprintln!("module cycles found (listed at the end)");
        problems.push(format!("module cycles:\n{}", report.join("\n")));
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(XtaskError::Check(problems.join("\n")))
    }
}

/// The name of a target in reports: the package for its library, `package (kind name)` else.
fn label(member: &Member, target: &Target) -> String {
    if target.is_lib() {
        member.name.clone()
    } else {
        format!(
            "{} ({} {})",
            member.name,
            target.kinds.join(","),
            target.name
        )
    }
}

/// The report lines of every module cycle in the workspace, and how many modules were read.
pub fn module_cycles(ws: &Workspace) -> Result<(Vec<String>, usize)> {
    let mut lines = Vec::new();
    let mut count = 0;
    for member in &ws.members {
        let mut seen = Vec::new();
        for target in &member.targets {
            if seen.contains(&target.src_path) {
                continue;
            }
            seen.push(target.src_path.clone());
            let tree = ModuleTree::load(&target.src_path)?;
            count += tree.modules.len();
            for cycle in find_cycles(&tree) {
                lines.extend(describe(ws, &label(member, target), &cycle));
            }
        }
    }
    Ok((lines, count))
}

/// `nao-geodesic: baseline → nao → baseline`, then why, arrow by arrow.
fn describe(ws: &Workspace, label: &str, cycle: &Cycle) -> Vec<String> {
    let mut lines = vec![format!("  {label}: {}", cycle.arrows())];
    for (pair, why) in cycle.modules.windows(2).zip(&cycle.evidence) {
        lines.push(format!(
            "      {} → {}: {} names {}",
            pair[0],
            pair[1],
            ws.relative(&why.file).display(),
            why.path
        ));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::root;

    #[test]
    fn xtask_itself_is_read_and_has_no_cycle() {
        let ws = Workspace::load(&root()).unwrap();
        let xtask = ws.members.iter().find(|m| m.name == "xtask").unwrap();
        let main = &xtask.targets[0].src_path;
        let tree = ModuleTree::load(main).unwrap();
        let names: Vec<String> = tree.modules.iter().map(|m| m.name()).collect();
        for expected in ["deps", "deps::cycles", "deps::modules", "ci", "system"] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} not in {names:?}"
            );
        }
        let found = find_cycles(&tree);
        assert!(
            found.is_empty(),
            "{:?}",
            found.iter().map(Cycle::arrows).collect::<Vec<_>>()
        );
    }

    #[test]
    fn cycles_are_described_with_their_files() {
        let ws = Workspace {
            root: "/w".into(),
            target_dir: "/w/target".into(),
            members: Vec::new(),
        };
        let cycle = Cycle {
            modules: vec!["a".into(), "b".into(), "a".into()],
            evidence: vec![
                cycles::Evidence {
                    file: "/w/crates/x/src/a.rs".into(),
                    path: "crate::b::f".into(),
                },
                cycles::Evidence {
                    file: "/w/crates/x/src/b.rs".into(),
                    path: "super::a::g".into(),
                },
            ],
        };
        assert_eq!(
            describe(&ws, "x", &cycle),
            [
                "  x: a → b → a",
                "      a → b: crates/x/src/a.rs names crate::b::f",
                "      b → a: crates/x/src/b.rs names super::a::g"
            ]
        );
    }
}
