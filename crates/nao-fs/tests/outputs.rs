//! The promises of `Outputs`, each checked on a real folder.

use std::path::Path;

use nao_fs::{FsError, Outputs};

/// Every entry of a folder (recursively), sorted, as paths relative to it.
fn listing(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

#[test]
fn files_appear_only_at_the_commit() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.npy");
    let b = dir.path().join("sub/deeper/b.png");
    let mut out = Outputs::new();
    out.claim_file(&a, "-o").unwrap();
    out.claim_folder(&dir.path().join("sub"), "--pictures")
        .unwrap();
    out.write(&a, b"A").unwrap();
    out.write(&b, b"B").unwrap();
    assert_eq!(out.staged(), 2);
    assert!(!a.exists() && !b.exists());
    out.commit().unwrap();
    assert_eq!(std::fs::read(&a).unwrap(), b"A");
    assert_eq!(std::fs::read(&b).unwrap(), b"B");
    assert_eq!(
        listing(dir.path()),
        ["a.npy", "sub", "sub/deeper", "sub/deeper/b.png"]
    );
}

#[test]
fn a_dropped_set_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("keep.npy"), b"old").unwrap();
    let mut out = Outputs::new();
    out.claim_file(&dir.path().join("keep.npy"), "-o").unwrap();
    out.claim_folder(&dir.path().join("new/images"), "--out")
        .unwrap();
    out.write(&dir.path().join("keep.npy"), b"new").unwrap();
    out.write(&dir.path().join("new/images/000.png"), b"png")
        .unwrap();
    drop(out);
    assert_eq!(listing(dir.path()), ["keep.npy"]);
    assert_eq!(std::fs::read(dir.path().join("keep.npy")).unwrap(), b"old");
}

#[test]
fn a_failed_fill_removes_its_temporary_file() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.npy");
    let mut out = Outputs::new();
    out.claim_file(&a, "-o").unwrap();
    let e = out
        .write_with(&a, |w| {
            w.write_all(b"half").map_err(|e| FsError::Io {
                path: a.clone(),
                action: "write",
                source: e,
            })?;
            Err(FsError::Input {
                path: a.clone(),
                reason: "the encoder failed".into(),
            })
        })
        .unwrap_err();
    assert!(e.to_string().contains("the encoder failed"));
    assert_eq!(listing(dir.path()), Vec::<String>::new());
}

#[cfg(unix)]
#[test]
fn only_regular_files_are_replaced() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let mut out = Outputs::new();
    for (path, expect) in [
        (Path::new("/dev/null").to_path_buf(), "a device"),
        (dir.path().to_path_buf(), "is a folder"),
    ] {
        let e = out.claim_file(&path, "-o").unwrap_err().to_string();
        assert!(e.contains(expect) && e.starts_with("-o "), "{e}");
    }
    let fifo = dir.path().join("fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let e = out.claim_file(&fifo, "-o").unwrap_err().to_string();
    assert!(e.contains("FIFO"), "{e}");
    let target = dir.path().join("target.npy");
    std::fs::write(&target, b"precious").unwrap();
    let link = dir.path().join("link.npy");
    symlink(&target, &link).unwrap();
    let e = out.claim_file(&link, "-o").unwrap_err().to_string();
    assert!(e.contains("symbolic link"), "{e}");
    let e = out
        .claim_file(&dir.path().join("new/"), "-o")
        .unwrap_err()
        .to_string();
    assert!(e.contains("names a folder"), "{e}");
    let e = out
        .claim_file(&dir.path().join("no/such/x.npy"), "-o")
        .unwrap_err()
        .to_string();
    assert!(e.contains("does not exist") && e.contains("no/such"), "{e}");
    let e = out.claim_folder(&target, "--out").unwrap_err().to_string();
    assert!(e.contains("is a file"), "{e}");
    assert_eq!(std::fs::read(&target).unwrap(), b"precious");
}

#[cfg(unix)]
#[test]
fn a_replaced_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let private = dir.path().join("private.npy");
    std::fs::write(&private, b"old").unwrap();
    std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o600)).unwrap();
    let fresh = dir.path().join("fresh.npy");
    let mut out = Outputs::new();
    out.claim_file(&private, "-o").unwrap();
    out.claim_file(&fresh, "--other").unwrap();
    out.write(&private, b"new").unwrap();
    out.write(&fresh, b"new").unwrap();
    out.commit().unwrap();
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&private), 0o600);
    // a new file gets the process's usual mode (0666 minus the umask), like any other program's
    let probe = dir.path().join("probe");
    std::fs::write(&probe, b"").unwrap();
    assert_eq!(mode(&fresh), mode(&probe));
}

#[test]
fn two_spellings_of_one_file_collide() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("out")).unwrap();
    let mut out = Outputs::new();
    out.claim_file(&dir.path().join("out/x.npy"), "-o").unwrap();
    let e = out
        .claim_file(&dir.path().join("out/./sub/../x.npy"), "--paths-out")
        .unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, FsError::Collision { .. }), "{text}");
    assert!(
        text.contains("-o") && text.contains("--paths-out") && text.contains("same file"),
        "{text}"
    );
}

#[cfg(unix)]
#[test]
fn hard_links_and_linked_folders_collide() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.npy");
    std::fs::write(&a, b"x").unwrap();
    std::fs::hard_link(&a, dir.path().join("b.npy")).unwrap();
    let mut out = Outputs::new();
    out.claim_file(&a, "-o").unwrap();
    assert!(out
        .claim_file(&dir.path().join("b.npy"), "--paths-out")
        .is_err());
    std::fs::create_dir(dir.path().join("real")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("real"), dir.path().join("alias")).unwrap();
    out.claim_file(&dir.path().join("real/c.npy"), "--c")
        .unwrap();
    assert!(out
        .claim_file(&dir.path().join("alias/c.npy"), "--d")
        .is_err());
}

#[test]
fn a_file_inside_an_output_folder_collides() {
    let dir = tempfile::tempdir().unwrap();
    let images = dir.path().join("d");
    let mut out = Outputs::new();
    out.claim_folder(&images, "-o").unwrap();
    let e = out
        .claim_file(&images.join("000.png"), "--save-latents")
        .unwrap_err();
    assert!(e.to_string().contains("inside"), "{e}");
    std::fs::create_dir_all(images.join("x")).unwrap();
    let mut out = Outputs::new();
    out.claim_file(&images.join("x/000.npy"), "--save-latents")
        .unwrap();
    assert!(out.claim_folder(&images, "-o").is_err());
}

#[test]
fn only_claimed_paths_are_written_and_each_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut out = Outputs::new();
    out.claim_folder(&dir.path().join("d"), "-o").unwrap();
    let e = out
        .write(&dir.path().join("elsewhere.png"), b"x")
        .unwrap_err();
    assert!(e.to_string().contains("not among"), "{e}");
    out.write(&dir.path().join("d/1.png"), b"x").unwrap();
    let e = out.write(&dir.path().join("d/./1.png"), b"y").unwrap_err();
    assert!(e.to_string().contains("twice"), "{e}");
}

#[test]
fn a_failed_rename_puts_back_what_was_already_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.npy");
    let b = dir.path().join("b.npy");
    let c = dir.path().join("c.npy");
    std::fs::write(&a, b"old a").unwrap();
    let mut out = Outputs::new();
    for (p, o) in [(&a, "-a"), (&b, "-b"), (&c, "-c")] {
        out.claim_file(p, o).unwrap();
        out.write(p, b"new").unwrap();
    }
    // Something puts a non-empty folder where c goes after staging: its rename fails.
    std::fs::create_dir(&c).unwrap();
    std::fs::write(c.join("in-the-way"), b"").unwrap();
    let e = out.commit().unwrap_err();
    assert!(e.to_string().contains("c.npy"), "{e}");
    assert_eq!(std::fs::read(&a).unwrap(), b"old a");
    assert!(!b.exists());
    assert_eq!(listing(dir.path()), ["a.npy", "c.npy", "c.npy/in-the-way"]);
}
