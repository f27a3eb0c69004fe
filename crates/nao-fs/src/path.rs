//! Normalising output paths so that two spellings of one file compare equal.

use std::path::{Component, Path, PathBuf};

/// `path` made absolute and free of `.` and `..`, with symbolic links resolved in the part of
/// it that exists (the deepest existing ancestor is canonicalised; the rest, which does not exist
/// yet, cannot hold links and is normalised lexically).
///
/// ```
/// let dir = tempfile::tempdir().unwrap();
/// let a = nao_fs::normalise(&dir.path().join("new/../x.npy"));
/// let b = nao_fs::normalise(&dir.path().join("./x.npy"));
/// assert_eq!(a, b);
/// ```
pub fn normalise(path: &Path) -> PathBuf {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("/"))
            .join(path)
    };
    let lexical = lexical(&absolute);
    // Canonicalise the deepest ancestor that exists, keep the rest.
    let mut rest = Vec::new();
    let mut base = lexical.as_path();
    loop {
        if let Ok(real) = base.canonicalize() {
            let mut out = real;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return out;
        }
        match (base.parent(), base.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                base = parent;
            }
            _ => return lexical,
        }
    }
}

/// Remove `.` and resolve `..` against the preceding component, without touching the disk.
fn lexical(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether `inner` lies strictly inside the folder `outer` (both normalised).
pub(crate) fn is_inside(inner: &Path, outer: &Path) -> bool {
    inner != outer && inner.starts_with(outer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexical_parts_are_resolved() {
        assert_eq!(lexical(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(lexical(Path::new("/../a")), PathBuf::from("/a"));
    }

    #[test]
    fn links_in_the_existing_part_are_resolved() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real");
        std::fs::create_dir(&real).unwrap();
        #[cfg(unix)]
        {
            let link = dir.path().join("link");
            std::os::unix::fs::symlink(&real, &link).unwrap();
            assert_eq!(
                normalise(&link.join("x.npy")),
                normalise(&real.join("x.npy"))
            );
        }
        assert!(is_inside(&real.join("a"), &real));
        assert!(!is_inside(&real, &real));
    }
}
