//! Provisioning of LibTorch for burn's `tch` backend (`cargo xtask setup-libtorch`).
//!
//! burn-tch 0.22 builds against PyTorch 2.9.0 exactly. The lean CPU route of
//! `../shared/BACKENDS.md` (≈ 1 GB instead of ≈ 4 GB with every NVIDIA wheel): `pip install
//! --no-deps --target .cache/libtorch/site torch==2.9.0` plus the two small NVIDIA runtime
//! wheels `libtorch_cpu.so` links against, then a "shim" folder whose `lib/` links only the CPU
//! libraries (hiding `libtorch_cuda.so`, which torch-sys would otherwise link) and whose
//! `include` is torch's. Build with `LIBTORCH=<shim>`, run with `LD_LIBRARY_PATH` on torch's
//! `lib/` and the NVIDIA wheels' `lib/` folders. With a CUDA machine, set
//! `LIBTORCH_USE_PYTORCH=1` in an environment with the full torch 2.9.0 instead.
//! `pip` honours `PIP_FIND_LINKS` / `PIP_INDEX_URL` for local mirrors.

use std::path::{Path, PathBuf};

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};
use crate::python::pip_install_target;

/// The PyTorch release burn-tch 0.22 (tch 0.22) is written against.
const TORCH_VERSION: &str = "2.9.0";
/// The NVIDIA runtime wheels `libtorch_cpu.so` of the PyPI torch wheel needs at load time.
const NVIDIA_WHEELS: [&str; 2] = [
    "nvidia-cuda-runtime-cu12==12.8.90",
    "nvidia-cuda-cupti-cu12==12.8.90",
];
/// The libraries the shim exposes (`libtorch.so` is a second name for `libtorch_cpu.so`).
const SHIM_LIBS: [(&str, &str); 5] = [
    ("libtorch_cpu.so", "libtorch_cpu.so"),
    ("libtorch.so", "libtorch_cpu.so"),
    ("libc10.so", "libc10.so"),
    ("libshm.so", "libshm.so"),
    ("libgomp.so.1", "libgomp.so.1"),
];

/// A provisioned LibTorch.
pub struct LibTorch {
    /// `LIBTORCH` for the build.
    pub shim: PathBuf,
    /// Folders for `LD_LIBRARY_PATH` at run time.
    pub lib_dirs: Vec<PathBuf>,
}

fn base(root: &Path) -> PathBuf {
    root.join(".cache").join("libtorch")
}

fn marker(root: &Path) -> PathBuf {
    base(root).join("VERSION")
}

fn describe(root: &Path) -> LibTorch {
    let site = base(root).join("site");
    LibTorch {
        shim: base(root).join("shim"),
        lib_dirs: vec![
            site.join("torch").join("lib"),
            site.join("nvidia").join("cuda_runtime").join("lib"),
            site.join("nvidia").join("cuda_cupti").join("lib"),
        ],
    }
}

/// The provisioned LibTorch, when `setup-libtorch` completed before.
pub fn provisioned(root: &Path) -> Option<LibTorch> {
    let done = std::fs::read_to_string(marker(root)).ok()?;
    (done.trim() == TORCH_VERSION).then(|| describe(root))
}

/// Install (once) and return LibTorch.
pub fn setup_libtorch(root: &Path) -> Result<LibTorch> {
    let (base, site) = (base(root), base(root).join("site"));
    if let Some(lt) = provisioned(root) {
        let base = base.display();
        eprintln!("LibTorch {TORCH_VERSION} already provisioned in {base}");
        return Ok(lt);
    }
    let into = site.display();
    eprintln!("installing PyTorch {TORCH_VERSION}'s libtorch (≈ 900 MB download) into {into}");
    let mut wheels = vec![format!("torch=={TORCH_VERSION}")];
    wheels.extend(NVIDIA_WHEELS.map(String::from));
    let wheels: Vec<&str> = wheels.iter().map(String::as_str).collect();
    pip_install_target(&site, &wheels, "setup-libtorch")?;
    let lt = describe(root);
    let shim_lib = lt.shim.join("lib");
    if lt.shim.exists() {
        std::fs::remove_dir_all(&lt.shim).map_err(|e| XtaskError::io(&lt.shim, e))?;
    }
    std::fs::create_dir_all(&shim_lib).map_err(|e| XtaskError::io(&shim_lib, e))?;
    let include = (site.join("torch").join("include"), lt.shim.join("include"));
    let libs = SHIM_LIBS.map(|(name, target)| (lt.lib_dirs[0].join(target), shim_lib.join(name)));
    for (target, link) in libs.into_iter().chain([include]) {
        if !target.exists() {
            let missing = target.display();
            let message = format!("{missing} is missing from the torch {TORCH_VERSION} wheel");
            return Err(XtaskError::Provision(message));
        }
        std::os::unix::fs::symlink(&target, &link).map_err(|e| {
            let (link, target) = (link.display(), target.display());
            XtaskError::Provision(format!("cannot link {link} to {target}: {e}"))
        })?;
    }
    std::fs::write(marker(root), TORCH_VERSION).map_err(|e| XtaskError::io(marker(root), e))?;
    Ok(lt)
}

impl LibTorch {
    /// `env` with `LIBTORCH` (for the build) and `LD_LIBRARY_PATH` (for the tests) on this
    /// LibTorch.
    pub fn child_env(&self, env: ChildEnv) -> ChildEnv {
        let env = env.with("LIBTORCH", &self.shim);
        env.with_path_prefix("LD_LIBRARY_PATH", &self.lib_dirs)
    }
}

/// `cargo xtask setup-libtorch`: provision and print the two variables.
pub fn command(root: &Path) -> Result<()> {
    let lt = setup_libtorch(root)?;
    for line in lt.child_env(ChildEnv::new()).describe() {
        println!("{line}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_find_libtorch() {
        let root = Path::new("/w");
        let env = describe(root).child_env(ChildEnv::new());
        assert_eq!(env.get("LIBTORCH").unwrap(), "/w/.cache/libtorch/shim");
        let dirs: Vec<PathBuf> =
            std::env::split_paths(env.get("LD_LIBRARY_PATH").unwrap()).collect();
        assert_eq!(dirs[0], PathBuf::from("/w/.cache/libtorch/site/torch/lib"));
        assert!(dirs.len() >= 3, "{dirs:?}");
    }
}
