//! `cargo xtask deps`: the dependency checks, also a step of `ci`:
//!
//! - [`light`]: the device-free crates pull in no ML backend (read from `cargo metadata`'s
//!   resolve graph);
//! - [`features`]: the crates that only run models do not enable burn's training features
//!   (read from `cargo tree`, whose feature resolution is per crate).
//!
//! Both run; the failures are reported together.
//!
//! There used to be a third rule, no cycle among the modules of a crate, checked by nearly
//! 1 000 lines of a module resolver of xtask's own, blind to macros. It is gone: no maintained tool
//! checks intra-crate module cycles cheaply (cargo-modules needs rust-analyzer, minutes to
//! build in CI), and the rule that matters for the build, an acyclic crate graph, cargo itself
//! enforces.

pub mod features;
pub mod light;

use std::path::Path;

use clap::Args;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{cargo, output};
use crate::workspace::metadata;

/// Options of `cargo xtask deps`.
#[derive(Debug, Clone, Default, Args)]
pub struct DepsArgs {
    /// Check this crate for burn's training features (`autodiff`, `optim`) instead of the
    /// built-in list (several allowed).
    #[arg(long = "inference-crate", value_name = "CRATE")]
    pub inference_crates: Vec<String>,
}

/// Run the checks; fail with every problem found.
pub fn command(root: &Path, args: &DepsArgs) -> Result<()> {
    let mut problems: Vec<String> = Vec::new();
    // a check's line for the log, or its problem for the end
    let mut verdict = |outcome: Result<String, String>, found: &str| match outcome {
        Ok(line) => eprintln!("{line}"),
        Err(problem) => {
            eprintln!("{found} (listed at the end)");
            problems.push(problem);
        }
    };

    eprintln!("-- device-free crates");
    let graph = light::normal_graph(&metadata(root, true)?);
    verdict(light::check(&graph), "heavy dependencies found");

    eprintln!("-- training features");
    let crates: Vec<(&str, &[&str])> = if args.inference_crates.is_empty() {
        features::CHECKED.to_vec()
    } else {
        let named = args.inference_crates.iter().map(String::as_str);
        named.map(|krate| (krate, features::TRAINING)).collect()
    };
    for (krate, forbidden) in crates {
        let mut tree = cargo(root, &ChildEnv::new(), &features::tree_args(krate));
        let tree = output(&mut tree, &format!("listing {krate}'s features"))?;
        let found = format!("{krate}: forbidden features");
        verdict(features::check(krate, forbidden, &tree), &found);
    }

    if problems.is_empty() {
        Ok(())
    } else {
        Err(XtaskError::Check(problems.join("\n")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workspace::root;

    #[test]
    fn the_resolve_graph_of_this_workspace_is_walked() {
        let graph = light::normal_graph(&metadata(&root(), true).unwrap());
        let (reached, _) = light::heavy_chains(&graph, &["xtask"]);
        assert!(reached > 10, "{reached}");
        let (_, chains) = light::heavy_chains(&graph, &["nao-burn"]);
        let direct = chains.iter().any(|c| c[..2] == ["nao-burn", "burn"]);
        assert!(direct, "{chains:?}");
    }
}
