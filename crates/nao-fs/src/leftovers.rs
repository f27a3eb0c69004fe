//! The temporary files of a killed process. Every file nao writes is staged as
//! `.NAME.nao-PID-N.tmp` beside its target and removed on any error or signal, but SIGKILL (or
//! a power cut) leaves it. The next process that owns NAME removes it.

use std::path::Path;

use crate::FsError;

/// The target name of one of nao's temporary file names (`.000.png.nao-12-3.tmp` → `000.png`).
///
/// ```
/// use nao_fs::leftovers::target_of;
/// assert_eq!(target_of(".000.png.nao-4711-0.tmp"), Some("000.png"));
/// assert_eq!(target_of("000.png"), None);
/// ```
pub fn target_of(name: &str) -> Option<&str> {
    let rest = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, marker) = rest.rsplit_once(".nao-")?;
    let (pid, n) = marker.split_once('-')?;
    let numeric = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (numeric(pid) && numeric(n) && !target.is_empty()).then_some(target)
}

/// Remove the temporary files in `dir` whose target `mine` accepts; nothing when `dir` does
/// not exist. The caller must own those targets (hold the lock that covers them): a running
/// process's temporary files look the same.
pub fn remove(dir: &Path, mine: impl Fn(&str) -> bool) -> Result<(), FsError> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if target_of(&name).is_some_and(&mine) {
            std::fs::remove_file(entry.path()).map_err(|e| {
                FsError::io(
                    &entry.path(),
                    "remove this leftover of an interrupted run",
                    e,
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temporary_names_are_recognised() {
        assert_eq!(target_of(".000.png.nao-4711-0.tmp"), Some("000.png"));
        assert_eq!(target_of(".bag.json.nao-1-22.tmp"), Some("bag.json"));
        assert_eq!(target_of("000.png"), None);
        assert_eq!(target_of(".000.png.nao-x-0.tmp"), None);
        assert_eq!(target_of(".000.png.tmp"), None);
        assert_eq!(target_of(".nao-1-2.tmp"), None);
    }

    #[test]
    fn only_the_accepted_leftovers_go() {
        let dir = tempfile::tempdir().unwrap();
        for name in [".000.png.nao-1-0.tmp", ".001.png.nao-1-1.tmp", "000.png"] {
            std::fs::write(dir.path().join(name), b"x").unwrap();
        }
        remove(dir.path(), |t| t == "000.png").unwrap();
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, [".001.png.nao-1-1.tmp", "000.png"]);
        remove(&dir.path().join("missing"), |_| true).unwrap();
    }
}
