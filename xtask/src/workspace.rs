//! The workspace as `cargo metadata --no-deps` describes it: its members, their targets and the
//! target directory (which honours `CARGO_TARGET_DIR` and `build.target-dir`).

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::process::{cargo, output};

/// The workspace root: the parent of this crate's directory.
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// A compilation target of a member (`lib`, `bin`, `test`, `bench`, `example`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The target's name (`nao_burn`, `nao-train`, …).
    pub name: String,
    /// Its kinds (`["lib"]`, `["bin"]`, `["proc-macro"]`, …).
    pub kinds: Vec<String>,
    /// The root source file.
    pub src_path: PathBuf,
    /// Whether `cargo doc` documents it by default.
    pub doc: bool,
}

impl Target {
    /// Whether the target is a library (of any crate type).
    pub fn is_lib(&self) -> bool {
        self.kinds.iter().any(|k| {
            matches!(
                k.as_str(),
                "lib" | "rlib" | "dylib" | "proc-macro" | "cdylib" | "staticlib"
            )
        })
    }

    /// Whether the target is a binary.
    pub fn is_bin(&self) -> bool {
        self.kinds.iter().any(|k| k == "bin")
    }

    /// The name rustc gives the crate (`-` becomes `_`).
    pub fn crate_name(&self) -> String {
        self.name.replace('-', "_")
    }
}

/// A workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The package name.
    pub name: String,
    /// The folder holding its `Cargo.toml`.
    pub dir: PathBuf,
    /// Its targets.
    pub targets: Vec<Target>,
}

/// What xtask needs to know about the workspace.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The workspace root.
    pub root: PathBuf,
    /// Where cargo builds.
    pub target_dir: PathBuf,
    /// The members, in `cargo metadata`'s order.
    pub members: Vec<Member>,
}

impl Workspace {
    /// Ask cargo.
    pub fn load(root: &Path) -> Result<Self> {
        let json = output(
            &mut cargo(
                root,
                &ChildEnv::new(),
                &["metadata", "--no-deps", "--format-version", "1"],
            ),
            "reading the workspace's metadata",
        )?;
        Self::parse(&json)
    }

    /// Read `cargo metadata --no-deps --format-version 1` output.
    pub fn parse(json: &str) -> Result<Self> {
        let bad = |message: String| XtaskError::Parse {
            path: "cargo metadata".into(),
            message,
        };
        let v: Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let text = |v: &Value, key: &str| -> Result<String> {
            v.get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
                .ok_or_else(|| bad(format!("no string '{key}' in {}", short(v))))
        };
        let mut members = Vec::new();
        for p in v
            .get("packages")
            .and_then(Value::as_array)
            .ok_or_else(|| bad("no 'packages' array".into()))?
        {
            let manifest = PathBuf::from(text(p, "manifest_path")?);
            let dir = manifest
                .parent()
                .ok_or_else(|| {
                    bad(format!(
                        "manifest path {} has no folder",
                        manifest.display()
                    ))
                })?
                .to_path_buf();
            let mut targets = Vec::new();
            for t in p
                .get("targets")
                .and_then(Value::as_array)
                .ok_or_else(|| bad(format!("no 'targets' in {}", short(p))))?
            {
                let kinds = t
                    .get("kind")
                    .and_then(Value::as_array)
                    .ok_or_else(|| bad(format!("no 'kind' in {}", short(t))))?
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect();
                targets.push(Target {
                    name: text(t, "name")?,
                    kinds,
                    src_path: PathBuf::from(text(t, "src_path")?),
                    doc: t.get("doc").and_then(Value::as_bool).unwrap_or(true),
                });
            }
            members.push(Member {
                name: text(p, "name")?,
                dir,
                targets,
            });
        }
        Ok(Workspace {
            root: PathBuf::from(text(&v, "workspace_root")?),
            target_dir: PathBuf::from(text(&v, "target_directory")?),
            members,
        })
    }

    /// `path` relative to the workspace root, when it is inside it.
    pub fn relative<'p>(&self, path: &'p Path) -> &'p Path {
        path.strip_prefix(&self.root).unwrap_or(path)
    }
}

/// The start of a JSON value, for error messages.
fn short(v: &Value) -> String {
    let s = v.to_string();
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_is_read() {
        let json = r#"{"packages":[{"name":"nao-cli","manifest_path":"/w/crates/nao-cli/Cargo.toml",
            "targets":[{"name":"nao","kind":["bin"],"src_path":"/w/crates/nao-cli/src/main.rs","doc":true},
                       {"name":"basic","kind":["test"],"src_path":"/w/crates/nao-cli/tests/basic.rs","doc":false}]}],
            "workspace_root":"/w","target_directory":"/t"}"#;
        let ws = Workspace::parse(json).unwrap();
        assert_eq!(ws.root, PathBuf::from("/w"));
        assert_eq!(ws.target_dir, PathBuf::from("/t"));
        assert_eq!(ws.members.len(), 1);
        let m = &ws.members[0];
        assert_eq!(m.dir, PathBuf::from("/w/crates/nao-cli"));
        assert!(m.targets[0].is_bin() && !m.targets[0].is_lib());
        assert_eq!(m.targets[1].kinds, ["test"]);
        assert!(!m.targets[1].doc);
        let e = Workspace::parse(r#"{"packages":[{"name":"x"}]}"#).unwrap_err();
        assert!(e.to_string().contains("manifest_path"), "{e}");
    }

    #[test]
    fn this_workspace_is_read_from_cargo() {
        let ws = Workspace::load(&root()).unwrap();
        let xtask = ws.members.iter().find(|m| m.name == "xtask").unwrap();
        assert!(xtask.targets.iter().any(Target::is_bin));
        assert!(ws.members.iter().any(|m| m.name == "nao-geodesic"));
    }
}
