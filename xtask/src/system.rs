//! The system packages the tests need, installed when xtask may, asked for when it may not.
//!
//! - Fashion-MNIST: the embedded model's tests check the committed networks on its test set.
//!   They read the folder in `$NAO_FASHION_MNIST_DIR`, else Debian's `dataset-fashion-mnist`
//!   folder (`nao_burn::FashionMnist::default_dir`), each file gzipped or not.
//! - Mesa's software Vulkan driver (lavapipe) and the Vulkan loader: the conformance suite runs
//!   burn's wgpu backend on them on a machine without a GPU.
//!
//! [`missing`] and [`via`] decide from [`Probe`]s (injected, so the decision is unit-tested
//! without apt): nothing to do; install (as root, or through passwordless `sudo -n`); or stop
//! before any build with the one command the user has to run.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

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
    /// Whether dpkg reports the package installed.
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

/// The packages the tests need that the machine lacks, with notes for the log (where the data
/// is, what could not be checked); `Err` says what apt cannot fix (a wrong
/// `$NAO_FASHION_MNIST_DIR`, no dpkg and no data) and what to do.
pub fn missing(probe: &dyn Probe) -> Result<(Vec<&'static str>, Vec<String>), String> {
    let mut notes = Vec::new();
    let mut missing: Vec<&'static str> = Vec::new();
    let dpkg = probe.has_dpkg();
    let (dir, from_var) = match probe.var(DATASET_DIR_VAR) {
        Some(dir) => (PathBuf::from(dir), true),
        None => (PathBuf::from(DEBIAN_DATASET_DIR), false),
    };
    let present =
        |f: &&str| probe.is_file(&dir.join(format!("{f}.gz"))) || probe.is_file(&dir.join(f));
    let absent: Vec<&str> = DATASET_FILES.into_iter().filter(|f| !present(f)).collect();
    let lacks = format!("{} lacks {}", dir.display(), absent.join(", "));
    if absent.is_empty() {
        notes.push(format!("Fashion-MNIST: {}", dir.display()));
    } else if from_var {
        // the tests read this folder, whatever apt installs elsewhere
        return Err(format!(
            "{DATASET_DIR_VAR}={lacks} (each may be gzipped): point it at a folder with the four \
             Fashion-MNIST IDX files, or unset it to use Debian's {DATASET_PACKAGE} in \
             {DEBIAN_DATASET_DIR}"
        ));
    } else if !dpkg {
        return Err(format!(
            "Fashion-MNIST is missing ({lacks}) and this is not a Debian system (no dpkg): put \
             the four IDX files in a folder and set {DATASET_DIR_VAR} to it"
        ));
    } else {
        missing.push(DATASET_PACKAGE);
    }
    if dpkg {
        let installed = |p: &&str| probe.package_installed(p);
        missing.extend(VULKAN_PACKAGES.iter().filter(|p| !installed(p)));
        notes.push(format!("installed: {}", VULKAN_PACKAGES.join(", ")));
    } else {
        notes.push(format!(
            "no dpkg: {} not checked; the wgpu conformance tests need a Vulkan driver and the \
             Vulkan loader (Mesa's lavapipe serves without a GPU)",
            VULKAN_PACKAGES.join(" and ")
        ));
    }
    Ok((missing, notes))
}

/// How packages get installed here: as root, through passwordless sudo, or (`None`) by the
/// user.
pub fn via(probe: &dyn Probe) -> Option<Via> {
    if probe.is_root() {
        Some(Via::Root)
    } else {
        probe.passwordless_sudo().then_some(Via::Sudo)
    }
}

/// The commands that install `packages`: `apt-get update`, then a noninteractive
/// `apt-get install` (through `sudo -n` unless root).
pub fn install_commands(packages: &[&str], via: Via) -> [Command; 2] {
    let apt = |args: &[&str]| {
        let mut cmd = Command::new(if via == Via::Root { "env" } else { "sudo" });
        if via == Via::Sudo {
            cmd.args(["-n", "env"]);
        }
        // sudo resets the environment: the variable goes through `env` on the command line
        cmd.args(["DEBIAN_FRONTEND=noninteractive", "apt-get"]);
        cmd.args(args);
        cmd
    };
    let mut install = vec!["install", "-y", "-qq"];
    install.extend(packages);
    [apt(&["update", "-qq"]), apt(&install)]
}

/// Install `packages` as root or through sudo (with `dry_run`, only say how); when xtask may
/// not, print the one line the user must run and fail.
fn install(probe: &dyn Probe, packages: &[&str], dry_run: bool) -> Result<()> {
    let names = packages.join(", ");
    let Some(via) = via(probe) else {
        let command = format!("sudo apt-get install -y {}", packages.join(" "));
        // stdout: the line to copy
        println!("{command}");
        return Err(XtaskError::Provision(format!(
            "missing system packages: {names}; xtask is not root and cannot use sudo without a \
             password, so run this first, then run xtask again:\n    {command}"
        )));
    };
    let [mut update, mut install] = install_commands(packages, via);
    if dry_run {
        eprintln!("missing: {names} (dry run: nothing installed)");
        let (update, install) = (show(&update), show(&install));
        eprintln!("would run: {update}\nwould run: {install}");
        return Ok(());
    }
    eprintln!("installing the missing system packages: {names}");
    if let Err(e) = run(&mut update, "updating apt's package lists") {
        // the lists already there may do
        eprintln!("xtask: {e}; installing from the current package lists");
    }
    run(&mut install, "installing the system packages")
}

/// Bring the machine to what the tests need, or fail saying what the user must do. With
/// `dry_run`, say what would run and change nothing.
pub fn ensure(probe: &dyn Probe, dry_run: bool) -> Result<()> {
    let (packages, mut notes) = missing(probe).map_err(XtaskError::Provision)?;
    if !packages.is_empty() {
        install(probe, &packages, dry_run)?;
        if dry_run {
            return Ok(());
        }
        notes = match missing(probe) {
            Ok((still, notes)) if still.is_empty() => notes,
            other => {
                let names = packages.join(", ");
                let message =
                    format!("apt-get installed {names} but the machine is still not ready");
                return Err(XtaskError::Provision(format!("{message}: {other:?}")));
            }
        };
    }
    eprintln!("{}", notes.join("\n"));
    Ok(())
}

/// Install the Debian `packages` that are missing (a command's own needs, such as
/// slurm-check's SLURM), or fail saying what the user must do.
pub fn ensure_packages(probe: &dyn Probe, packages: &[&str]) -> Result<()> {
    let missing = packages.iter().filter(|p| !probe.package_installed(p));
    let missing: Vec<&str> = missing.copied().collect();
    if missing.is_empty() {
        return Ok(());
    }
    if !probe.has_dpkg() {
        let packages = packages.join(", ");
        let message =
            "xtask installs them only with apt, and this is not a Debian system (no dpkg)";
        return Err(XtaskError::Provision(format!("{packages}: {message}")));
    }
    install(probe, &missing, false)
}

/// The real machine.
pub struct HostProbe;

impl Probe for HostProbe {
    fn is_root(&self) -> bool {
        let id = Command::new("id").arg("-u").output();
        id.is_ok_and(|o| o.status.success() && o.stdout.trim_ascii() == b"0")
    }

    fn passwordless_sudo(&self) -> bool {
        succeeds(Command::new("sudo").args(["-n", "true"]))
    }

    fn has_dpkg(&self) -> bool {
        succeeds(Command::new("dpkg").arg("--version"))
    }

    fn package_installed(&self, name: &str) -> bool {
        // a package removed but for its configuration files is "deinstall ok config-files"
        let mut query = Command::new("dpkg-query");
        query.args(["-W", "-f=${Status}", name]);
        query.stderr(Stdio::null());
        let status = query.output();
        status.is_ok_and(|o| o.status.success() && o.stdout == b"install ok installed")
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
        let name = |f: &str| if gz { format!("{f}.gz") } else { f.to_string() };
        let path = |f: &&str| Path::new(dir).join(name(f));
        DATASET_FILES.iter().map(path).collect()
    }

    /// Nothing installed, not root, no sudo.
    fn bare() -> Fake {
        Fake::default()
    }

    /// Everything installed: Debian's dataset package and the Vulkan packages.
    fn complete() -> Fake {
        let mut m = bare();
        m.packages = VULKAN_PACKAGES.into_iter().collect();
        m.packages.insert(DATASET_PACKAGE);
        m.files = dataset_in(DEBIAN_DATASET_DIR, true);
        m
    }

    const ALL_MISSING: [&str; 3] = [DATASET_PACKAGE, "mesa-vulkan-drivers", "libvulkan1"];

    #[test]
    fn root_sudo_or_neither_with_everything_present() {
        for (root, sudo) in [(true, false), (false, true), (false, false)] {
            let mut m = complete();
            (m.root, m.sudo) = (root, sudo);
            let (packages, notes) = missing(&m).unwrap();
            assert!(packages.is_empty() && notes[0].contains(DEBIAN_DATASET_DIR));
            assert!(ensure(&m, false).is_ok());
            assert_eq!(m.sudo_probes.get(), 0, "sudo probed for nothing");
        }
    }

    #[test]
    fn root_or_passwordless_sudo_installs_what_is_missing() {
        let mut m = bare();
        m.root = true;
        assert_eq!(missing(&m).unwrap().0, ALL_MISSING);
        assert_eq!(via(&m), Some(Via::Root));
        // a dry run says what it would do and changes nothing
        assert!(ensure(&m, true).is_ok());
        assert_eq!(m.sudo_probes.get(), 0);

        let mut m = complete();
        m.sudo = true;
        m.packages.remove("libvulkan1");
        assert_eq!(missing(&m).unwrap().0, ["libvulkan1"]);
        assert_eq!(via(&m), Some(Via::Sudo));
    }

    #[test]
    fn without_root_or_sudo_the_user_gets_one_command() {
        let e = ensure(&bare(), false).unwrap_err().to_string();
        let command = format!("sudo apt-get install -y {}", ALL_MISSING.join(" "));
        assert!(e.contains(&command), "{e}");
        // only the dataset missing
        let mut m = complete();
        m.files.clear();
        let e = ensure(&m, false).unwrap_err().to_string();
        let command = format!("\n    sudo apt-get install -y {DATASET_PACKAGE}");
        assert!(e.ends_with(&command), "{e}");
    }

    #[test]
    fn the_dataset_folder_follows_the_tests_rule() {
        // the variable wins over Debian's folder; plain (not gzipped) files count
        let mut m = complete();
        m.dataset_var = Some("/data/fmnist");
        m.files = dataset_in("/data/fmnist", false);
        assert_eq!(missing(&m).unwrap().1[0], "Fashion-MNIST: /data/fmnist");
        // a variable naming a folder without the files: apt cannot help, even as root
        let mut m = complete();
        (m.root, m.dataset_var) = (true, Some("/data/empty"));
        let reason = missing(&m).unwrap_err();
        let expected = "NAO_FASHION_MNIST_DIR=/data/empty lacks train-images-idx3-ubyte";
        assert!(reason.contains(expected), "{reason}");
        // one file missing is missing data
        let mut m = complete();
        let file = Path::new(DEBIAN_DATASET_DIR).join("t10k-labels-idx1-ubyte.gz");
        m.files.remove(&file);
        assert_eq!(missing(&m).unwrap().0, [DATASET_PACKAGE]);
    }

    #[test]
    fn without_dpkg_only_the_data_is_checked() {
        let mut m = bare();
        (m.no_dpkg, m.dataset_var, m.files) = (true, Some("/d"), dataset_in("/d", true));
        let (packages, notes) = missing(&m).unwrap();
        assert!(packages.is_empty(), "{packages:?}");
        assert!(notes[1].contains("not checked"), "{notes:?}");
        let mut m = bare();
        (m.no_dpkg, m.root) = (true, true);
        assert!(missing(&m).unwrap_err().contains("not a Debian system"));
    }

    #[test]
    fn a_command_s_own_packages_are_installed_or_asked_for() {
        const SLURM: [&str; 2] = ["slurm-wlm", "munge"];
        let mut m = bare();
        let e = ensure_packages(&m, &SLURM).unwrap_err().to_string();
        assert!(e.contains("sudo apt-get install -y slurm-wlm munge"), "{e}");
        m.packages.extend(SLURM);
        assert!(ensure_packages(&m, &SLURM).is_ok());
    }

    #[test]
    fn this_machine_can_be_probed() {
        // whatever the answers, asking must not fail or hang (sudo -n never prompts)
        let host = HostProbe;
        let _ = (host.is_root(), host.passwordless_sudo(), host.has_dpkg());
        if host.has_dpkg() {
            assert!(!host.package_installed("nao-xtask-no-such-package"));
        }
        assert!(host.is_file(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")));
    }

    #[test]
    fn apt_runs_noninteractive_as_root_or_through_sudo() {
        let apt = "env DEBIAN_FRONTEND=noninteractive apt-get";
        let packages = ["libvulkan1", "mesa-vulkan-drivers"];
        let [update, install] = install_commands(&packages, Via::Root);
        assert_eq!(show(&update), format!("{apt} update -qq"));
        let expected = format!("{apt} install -y -qq libvulkan1 mesa-vulkan-drivers");
        assert_eq!(show(&install), expected);
        let [update, install] = install_commands(&packages[..1], Via::Sudo);
        assert_eq!(show(&update), format!("sudo -n {apt} update -qq"));
        let expected = format!("sudo -n {apt} install -y -qq libvulkan1");
        assert_eq!(show(&install), expected);
    }
}
