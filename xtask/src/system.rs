//! The system packages the tests need, installed when xtask may, asked for when it may not.
//!
//! - Fashion-MNIST: the embedded model's tests check the committed networks on its test set.
//!   They read the folder in `$NAO_FASHION_MNIST_DIR`, else Debian's `dataset-fashion-mnist`
//!   folder (`nao_burn::FashionMnist::default_dir`), each file gzipped or not.
//! - Mesa's software Vulkan driver (lavapipe) and the Vulkan loader: the conformance suite runs
//!   burn's wgpu backend on them on a machine without a GPU.
//!
//! [`plan`] decides from [`Probe`]s (injected, so the decision is unit-tested without apt):
//! nothing to do; install (as root, or through passwordless `sudo -n`); or stop before any
//! build with the one command the user has to run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Result, XtaskError};
use crate::process::{run, show, succeeds};

/// Debian's Fashion-MNIST package.
pub const DATASET_PACKAGE: &str = "dataset-fashion-mnist";
/// Where [`DATASET_PACKAGE`] puts the files.
pub const DEBIAN_DATASET_DIR: &str = "/usr/share/datasets/fashion-mnist";
/// The variable that points the tests at another Fashion-MNIST folder.
pub const DATASET_DIR_VAR: &str = "NAO_FASHION_MNIST_DIR";
/// The four IDX files the tests read, each as `NAME.gz` or `NAME`.
pub const DATASET_FILES: [&str; 4] = [
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
];
/// Mesa's Vulkan drivers (lavapipe) and the Vulkan loader.
pub const VULKAN_PACKAGES: [&str; 2] = ["mesa-vulkan-drivers", "libvulkan1"];

/// What xtask asks the machine.
pub trait Probe {
    /// Whether xtask runs as root.
    fn is_root(&self) -> bool;
    /// Whether `sudo -n true` succeeds (sudo without a password prompt).
    fn passwordless_sudo(&self) -> bool;
    /// Whether `dpkg` is there (a Debian-like system).
    fn has_dpkg(&self) -> bool;
    /// Whether `dpkg -s NAME` reports the package installed.
    fn package_installed(&self, name: &str) -> bool;
    /// Whether `path` is a file.
    fn is_file(&self, path: &Path) -> bool;
    /// An environment variable of xtask's process.
    fn var(&self, name: &str) -> Option<OsString>;
}

/// How packages get installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// xtask runs as root.
    Root,
    /// `sudo -n` works without a password.
    Sudo,
}

/// What to do about the system packages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Everything is there; `notes` say where (and what could not be checked).
    Ready {
        /// lines for the log
        notes: Vec<String>,
    },
    /// Install `packages` with apt-get.
    Install {
        /// the missing packages
        packages: Vec<&'static str>,
        /// as root or through sudo
        via: Via,
    },
    /// xtask may not install: the user must run `command` (and nothing is built before).
    AskUser {
        /// the missing packages
        packages: Vec<&'static str>,
        /// the one command line to run
        command: String,
    },
    /// Something apt cannot fix (a wrong `$NAO_FASHION_MNIST_DIR`, no dpkg and no data).
    Blocked {
        /// what is wrong and what to do
        reason: String,
    },
}

/// The Fashion-MNIST folder the tests read: `$NAO_FASHION_MNIST_DIR`, else Debian's.
pub fn dataset_dir(probe: &dyn Probe) -> (PathBuf, bool) {
    match probe.var(DATASET_DIR_VAR) {
        Some(dir) => (PathBuf::from(dir), true),
        None => (PathBuf::from(DEBIAN_DATASET_DIR), false),
    }
}

/// The dataset files missing from `dir` (each may be gzipped or not).
fn missing_dataset_files(probe: &dyn Probe, dir: &Path) -> Vec<&'static str> {
    DATASET_FILES
        .into_iter()
        .filter(|name| {
            !probe.is_file(&dir.join(format!("{name}.gz"))) && !probe.is_file(&dir.join(name))
        })
        .collect()
}

/// Decide what the machine needs.
pub fn plan(probe: &dyn Probe) -> Plan {
    let mut notes = Vec::new();
    let mut missing: Vec<&'static str> = Vec::new();
    let dpkg = probe.has_dpkg();

    let (dir, from_var) = dataset_dir(probe);
    let absent = missing_dataset_files(probe, &dir);
    if absent.is_empty() {
        notes.push(format!("Fashion-MNIST: {}", dir.display()));
    } else if from_var {
        // the tests read this folder, whatever apt installs elsewhere
        return Plan::Blocked {
            reason: format!(
                "{DATASET_DIR_VAR}={} lacks {} (each may be gzipped): point it at a folder \
                 with the four Fashion-MNIST IDX files, or unset it to use Debian's \
                 {DATASET_PACKAGE} in {DEBIAN_DATASET_DIR}",
                dir.display(),
                absent.join(", ")
            ),
        };
    } else if !dpkg {
        return Plan::Blocked {
            reason: format!(
                "Fashion-MNIST is missing ({} lacks {}) and this is not a Debian system \
                 (no dpkg): put the four IDX files in a folder and set {DATASET_DIR_VAR} to it",
                dir.display(),
                absent.join(", ")
            ),
        };
    } else {
        missing.push(DATASET_PACKAGE);
    }

    if dpkg {
        missing.extend(
            VULKAN_PACKAGES
                .into_iter()
                .filter(|p| !probe.package_installed(p)),
        );
    } else {
        notes.push(format!(
            "no dpkg: {} not checked; the wgpu conformance tests need a Vulkan driver and the \
             Vulkan loader (Mesa's lavapipe serves without a GPU)",
            VULKAN_PACKAGES.join(" and ")
        ));
    }
    if missing.is_empty() {
        notes.push(format!("installed: {}", VULKAN_PACKAGES.join(", ")));
        return Plan::Ready { notes };
    }
    if probe.is_root() {
        Plan::Install {
            packages: missing,
            via: Via::Root,
        }
    } else if probe.passwordless_sudo() {
        Plan::Install {
            packages: missing,
            via: Via::Sudo,
        }
    } else {
        let command = format!("sudo apt-get install -y {}", missing.join(" "));
        Plan::AskUser {
            packages: missing,
            command,
        }
    }
}

/// The commands that install `packages`: `apt-get update`, then a noninteractive
/// `apt-get install` (through `sudo -n` unless root).
pub fn install_commands(packages: &[&str], via: Via) -> [Command; 2] {
    let apt = |args: &[&str]| {
        let mut cmd = match via {
            Via::Root => Command::new("env"),
            Via::Sudo => {
                let mut c = Command::new("sudo");
                c.args(["-n", "env"]);
                c
            }
        };
        // sudo resets the environment: the variable goes through `env` on the command line
        cmd.arg("DEBIAN_FRONTEND=noninteractive")
            .arg("apt-get")
            .args(args);
        cmd
    };
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(packages);
    [apt(&["update", "-qq"]), apt(&install)]
}

/// Bring the machine to [`Plan::Ready`], or fail saying what the user must do. With `dry_run`,
/// say what would run and change nothing.
pub fn ensure(probe: &dyn Probe, dry_run: bool) -> Result<()> {
    match plan(probe) {
        Plan::Ready { notes } => {
            for n in notes {
                eprintln!("{n}");
            }
            Ok(())
        }
        Plan::Blocked { reason } => Err(XtaskError::Provision(reason)),
        Plan::AskUser { packages, command } => {
            // stdout: the line to copy
            println!("{command}");
            Err(XtaskError::Provision(format!(
                "missing system packages: {}; xtask is not root and cannot use sudo without a password, \
                 so run this first, then run xtask again:\n    {command}",
                packages.join(", ")
            )))
        }
        Plan::Install { packages, via } => {
            let [mut update, mut install] = install_commands(&packages, via);
            if dry_run {
                eprintln!(
                    "missing: {} (dry run: nothing installed)",
                    packages.join(", ")
                );
                eprintln!("would run: {}", show(&update));
                eprintln!("would run: {}", show(&install));
                return Ok(());
            }
            eprintln!(
                "installing the missing system packages: {}",
                packages.join(", ")
            );
            if let Err(e) = run(&mut update, "updating apt's package lists") {
                // the lists already there may do
                eprintln!("xtask: {e}; installing from the current package lists");
            }
            run(&mut install, "installing the system packages")?;
            match plan(probe) {
                Plan::Ready { notes } => {
                    for n in notes {
                        eprintln!("{n}");
                    }
                    Ok(())
                }
                other => Err(XtaskError::Provision(format!(
                    "apt-get installed {} but the machine is still not ready: {other:?}",
                    packages.join(", ")
                ))),
            }
        }
    }
}

/// Whether `dpkg -s` output describes an installed package (`dpkg -s` also succeeds for a
/// removed package whose configuration files remain).
fn dpkg_says_installed(status: &str) -> bool {
    status.lines().any(|l| {
        l.strip_prefix("Status:")
            .is_some_and(|s| s.trim().ends_with("ok installed"))
    })
}

/// The real machine.
pub struct HostProbe;

impl Probe for HostProbe {
    fn is_root(&self) -> bool {
        Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"0")
    }

    fn passwordless_sudo(&self) -> bool {
        succeeds(Command::new("sudo").args(["-n", "true"]))
    }

    fn has_dpkg(&self) -> bool {
        succeeds(Command::new("dpkg").arg("--version"))
    }

    fn package_installed(&self, name: &str) -> bool {
        Command::new("dpkg")
            .args(["-s", name])
            .stderr(std::process::Stdio::null())
            .output()
            .is_ok_and(|o| {
                o.status.success() && dpkg_says_installed(&String::from_utf8_lossy(&o.stdout))
            })
    }

    fn is_file(&self, path: &Path) -> bool {
        path.is_file()
    }

    fn var(&self, name: &str) -> Option<OsString> {
        std::env::var_os(name)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::collections::BTreeSet;

    use super::*;

    /// A machine described by its answers; counts the sudo probes.
    #[derive(Default)]
    struct Fake {
        root: bool,
        sudo: bool,
        no_dpkg: bool,
        packages: BTreeSet<&'static str>,
        files: BTreeSet<PathBuf>,
        dataset_var: Option<&'static str>,
        sudo_probes: Cell<usize>,
    }

    impl Probe for Fake {
        fn is_root(&self) -> bool {
            self.root
        }
        fn passwordless_sudo(&self) -> bool {
            self.sudo_probes.set(self.sudo_probes.get() + 1);
            self.sudo
        }
        fn has_dpkg(&self) -> bool {
            !self.no_dpkg
        }
        fn package_installed(&self, name: &str) -> bool {
            assert!(!self.no_dpkg, "dpkg asked on a machine without it");
            self.packages.contains(name)
        }
        fn is_file(&self, path: &Path) -> bool {
            self.files.contains(path)
        }
        fn var(&self, name: &str) -> Option<OsString> {
            assert_eq!(name, DATASET_DIR_VAR);
            self.dataset_var.map(OsString::from)
        }
    }

    fn dataset_in(dir: &str, gz: bool) -> BTreeSet<PathBuf> {
        DATASET_FILES
            .iter()
            .map(|f| Path::new(dir).join(if gz { format!("{f}.gz") } else { f.to_string() }))
            .collect()
    }

    /// Everything installed: Debian's dataset package and the Vulkan packages.
    fn complete() -> Fake {
        let mut packages: BTreeSet<&'static str> = VULKAN_PACKAGES.into_iter().collect();
        packages.insert(DATASET_PACKAGE);
        Fake {
            packages,
            files: dataset_in(DEBIAN_DATASET_DIR, true),
            ..Fake::default()
        }
    }

    /// Nothing installed.
    fn bare() -> Fake {
        Fake::default()
    }

    const ALL_MISSING: [&str; 3] = [DATASET_PACKAGE, "mesa-vulkan-drivers", "libvulkan1"];

    #[test]
    fn root_sudo_or_neither_with_everything_present() {
        for (root, sudo) in [(true, false), (false, true), (false, false)] {
            let m = Fake {
                root,
                sudo,
                ..complete()
            };
            let Plan::Ready { notes } = plan(&m) else {
                panic!("root={root} sudo={sudo}: {:?}", plan(&m));
            };
            assert!(notes[0].contains(DEBIAN_DATASET_DIR), "{notes:?}");
            assert_eq!(
                m.sudo_probes.get(),
                0,
                "sudo probed with nothing to install"
            );
            assert!(ensure(&m, false).is_ok());
        }
    }

    #[test]
    fn root_installs_what_is_missing() {
        let m = Fake {
            root: true,
            ..bare()
        };
        assert_eq!(
            plan(&m),
            Plan::Install {
                packages: ALL_MISSING.to_vec(),
                via: Via::Root
            }
        );
        assert_eq!(m.sudo_probes.get(), 0);
        // a dry run says what it would do and changes nothing
        assert!(ensure(&m, true).is_ok());
    }

    #[test]
    fn passwordless_sudo_installs_what_is_missing() {
        let mut m = Fake {
            sudo: true,
            ..complete()
        };
        m.packages.remove("libvulkan1");
        assert_eq!(
            plan(&m),
            Plan::Install {
                packages: vec!["libvulkan1"],
                via: Via::Sudo
            }
        );
    }

    #[test]
    fn without_root_or_sudo_the_user_gets_one_command() {
        let m = bare();
        let p = plan(&m);
        assert_eq!(
            p,
            Plan::AskUser {
                packages: ALL_MISSING.to_vec(),
                command: "sudo apt-get install -y dataset-fashion-mnist mesa-vulkan-drivers \
                          libvulkan1"
                    .into()
            }
        );
        let e = ensure(&m, false).unwrap_err().to_string();
        assert!(
            e.contains(
                "sudo apt-get install -y dataset-fashion-mnist mesa-vulkan-drivers libvulkan1"
            ),
            "{e}"
        );
        // only the dataset missing
        let mut m = complete();
        m.files.clear();
        assert_eq!(
            plan(&m),
            Plan::AskUser {
                packages: vec![DATASET_PACKAGE],
                command: "sudo apt-get install -y dataset-fashion-mnist".into()
            }
        );
    }

    #[test]
    fn the_dataset_folder_follows_the_tests_rule() {
        // the variable wins over Debian's folder; plain (not gzipped) files count
        let m = Fake {
            dataset_var: Some("/data/fmnist"),
            files: dataset_in("/data/fmnist", false),
            ..complete()
        };
        let Plan::Ready { notes } = plan(&m) else {
            panic!("{:?}", plan(&m));
        };
        assert_eq!(notes[0], "Fashion-MNIST: /data/fmnist");
        // a variable naming a folder without the files: apt cannot help, even as root
        let m = Fake {
            root: true,
            dataset_var: Some("/data/empty"),
            ..complete()
        };
        let Plan::Blocked { reason } = plan(&m) else {
            panic!("{:?}", plan(&m));
        };
        assert!(
            reason.contains("NAO_FASHION_MNIST_DIR=/data/empty lacks train-images-idx3-ubyte"),
            "{reason}"
        );
        // one file missing is missing data
        let mut m = complete();
        m.files
            .remove(&Path::new(DEBIAN_DATASET_DIR).join("t10k-labels-idx1-ubyte.gz"));
        assert!(
            matches!(plan(&m), Plan::AskUser { packages, .. } if packages == [DATASET_PACKAGE])
        );
    }

    #[test]
    fn without_dpkg_only_the_data_is_checked() {
        let m = Fake {
            no_dpkg: true,
            dataset_var: Some("/d"),
            files: dataset_in("/d", true),
            ..bare()
        };
        let Plan::Ready { notes } = plan(&m) else {
            panic!("{:?}", plan(&m));
        };
        assert!(notes[1].contains("not checked"), "{notes:?}");
        let m = Fake {
            no_dpkg: true,
            root: true,
            ..bare()
        };
        assert!(
            matches!(plan(&m), Plan::Blocked { reason } if reason.contains("not a Debian system"))
        );
    }

    #[test]
    fn dpkg_status_is_read() {
        let installed = "Package: libvulkan1\nStatus: install ok installed\nPriority: optional\n";
        let removed =
            "Package: libvulkan1\nStatus: deinstall ok config-files\nPriority: optional\n";
        assert!(dpkg_says_installed(installed));
        assert!(!dpkg_says_installed(removed));
        assert!(!dpkg_says_installed(""));
    }

    #[test]
    fn this_machine_can_be_probed() {
        // whatever the answers, asking must not fail or hang (sudo -n never prompts)
        let host = HostProbe;
        let _ = (host.is_root(), host.passwordless_sudo(), host.has_dpkg());
        if host.has_dpkg() {
            assert!(!host.package_installed("nao-xtask-no-such-package"));
        }
        assert!(host.is_file(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("Cargo.toml")
                .as_path()
        ));
    }

    #[test]
    fn apt_runs_noninteractive_as_root_or_through_sudo() {
        let [update, install] = install_commands(&["libvulkan1", "mesa-vulkan-drivers"], Via::Root);
        assert_eq!(
            show(&update),
            "env DEBIAN_FRONTEND=noninteractive apt-get update -qq"
        );
        assert_eq!(
            show(&install),
            "env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1 mesa-vulkan-drivers"
        );
        let [update, install] = install_commands(&["libvulkan1"], Via::Sudo);
        assert_eq!(
            show(&update),
            "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get update -qq"
        );
        assert_eq!(
            show(&install),
            "sudo -n env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libvulkan1"
        );
    }
}
