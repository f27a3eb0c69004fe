//! The workspace as `cargo metadata` describes it, read into the `cargo_metadata` crate's types:
//! its members and their targets, the target directory (which honours `CARGO_TARGET_DIR` and
//! `build.target-dir`), and for the dependency checks the resolved dependency graph.

use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::{Metadata, MetadataCommand, Package};

use crate::error::{Result, XtaskError};
use crate::process::{cargo_program, output};

/// The workspace root: the parent of this crate's directory.
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// What most commands need to know about the workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// Where cargo builds.
    pub target_dir: PathBuf,
    /// The members, in `cargo metadata`'s order.
    pub members: Vec<Package>,
}

impl Workspace {
    /// Ask cargo (`cargo metadata --no-deps`).
    pub fn load(root: &Path) -> Result<Self> {
        let metadata = metadata(root, false)?;
        Ok(Workspace {
            target_dir: metadata.target_directory.into(),
            members: metadata.packages,
        })
    }
}

/// `cargo metadata` of the workspace: with `resolve`, the dependency graph resolved for this
/// machine's platform (as `cargo tree` shows it; other platforms' packages are not
/// downloaded); without, the members alone.
pub fn metadata(root: &Path, resolve: bool) -> Result<Metadata> {
    let mut command = MetadataCommand::new();
    command.cargo_path(cargo_program()).current_dir(root);
    if resolve {
        command.other_options(vec!["--filter-platform".into(), host_tuple()?]);
    } else {
        command.no_deps();
    }
    let what = "reading the workspace's metadata";
    let json = output(&mut command.cargo_command(), what)?;
    MetadataCommand::parse(json).map_err(|e| XtaskError::Parse {
        path: "cargo metadata".into(),
        message: e.to_string(),
    })
}

/// The platform rustc compiles for by default (`rustc --print host-tuple`, Rust ≥ 1.84).
fn host_tuple() -> Result<String> {
    let rustc = std::env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let mut print = Command::new(rustc);
    print.args(["--print", "host-tuple"]);
    let out = output(&mut print, "asking rustc for its platform")?;
    Ok(out.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_workspace_is_read_from_cargo() {
        let ws = Workspace::load(&root()).unwrap();
        let xtask = ws.members.iter().find(|m| m.name == "xtask").unwrap();
        assert!(xtask.targets.iter().any(|t| t.is_bin()));
        assert!(ws.members.iter().any(|m| m.name == "nao-geodesic"));
        assert!(ws.target_dir.is_absolute());
        assert!(host_tuple().unwrap().contains('-'));
    }
}
