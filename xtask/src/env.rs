//! [`ChildEnv`]: the environment variables xtask gives the programs it starts.
//!
//! xtask never changes its own environment (`std::env::set_var` is process-global and unsound
//! next to threads); a command builds one `ChildEnv` after provisioning (ONNX Runtime, LibTorch,
//! the conformance devices) and hands it to every child process, which gets it through
//! [`Command::envs`]. A step that needs more (rustdoc's `RUSTDOCFLAGS`) extends a copy.

use std::collections::BTreeMap;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::process::Command;

/// Variables set on every child process, on top of xtask's own environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChildEnv {
    vars: BTreeMap<&'static str, OsString>,
}

impl ChildEnv {
    /// No variables beyond the inherited ones.
    pub fn new() -> Self {
        Self::default()
    }

    /// This environment with `name` set to `value` (replacing an earlier value).
    pub fn with(mut self, name: &'static str, value: impl Into<OsString>) -> Self {
        self.vars.insert(name, value.into());
        self
    }

    /// This environment with `dirs` put in front of the search path `name` (e.g.
    /// `LD_LIBRARY_PATH`), before this environment's value of it or else xtask's own.
    pub fn with_path_prefix(self, name: &'static str, dirs: &[PathBuf]) -> Self {
        let own = self.get(name).map(OsStr::to_os_string);
        let inherited = own.or_else(|| std::env::var_os(name)).unwrap_or_default();
        let mut all: Vec<PathBuf> = dirs.to_vec();
        // an empty entry would mean the current directory
        all.extend(std::env::split_paths(&inherited).filter(|p| !p.as_os_str().is_empty()));
        let joined = std::env::join_paths(all).unwrap_or_default();
        self.with(name, joined)
    }

    /// The value set for `name`, if any.
    pub fn get(&self, name: &str) -> Option<&OsStr> {
        self.vars.get(name).map(OsString::as_os_str)
    }

    /// Give these variables to `cmd`.
    pub fn apply<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.envs(self.vars.iter().map(|(k, v)| (*k, v)))
    }

    /// `NAME=value` lines, for the log.
    pub fn describe(&self) -> Vec<String> {
        let line = |(k, v): (&&str, &OsString)| format!("{k}={}", v.to_string_lossy());
        self.vars.iter().map(line).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_get_the_variables_and_xtask_keeps_its_own() {
        let env = ChildEnv::new().with("NAO_XTASK_TEST_A", "1");
        let env = env.with("NAO_XTASK_TEST_A", "2");
        let env = env.with("NAO_XTASK_TEST_B", "x y");
        let mut cmd = Command::new("env");
        env.apply(&mut cmd);
        let line = |(k, v): (&OsStr, Option<&OsStr>)| {
            format!("{}={}", k.to_string_lossy(), v.unwrap().to_string_lossy())
        };
        let set: Vec<String> = cmd.get_envs().map(line).collect();
        assert_eq!(set, ["NAO_XTASK_TEST_A=2", "NAO_XTASK_TEST_B=x y"]);
        assert_eq!(env.describe(), set);
        assert!(std::env::var_os("NAO_XTASK_TEST_A").is_none());
    }

    #[test]
    fn search_paths_are_prefixed() {
        const VAR: &str = "NAO_XTASK_TEST_PATH";
        let dirs = ["/a", "/b"].map(PathBuf::from);
        let env = ChildEnv::new().with(VAR, "/old");
        let env = env.with_path_prefix(VAR, &dirs);
        let parts: Vec<PathBuf> = std::env::split_paths(env.get(VAR).unwrap()).collect();
        assert_eq!(parts, ["/a", "/b", "/old"].map(PathBuf::from));
        // an empty value adds no entry
        let fresh = ChildEnv::new().with(VAR, "");
        let fresh = fresh.with_path_prefix(VAR, &dirs[..1]);
        assert_eq!(fresh.get(VAR).unwrap(), "/a");
    }
}
