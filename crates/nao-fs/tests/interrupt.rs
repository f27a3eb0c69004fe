//! Interruption (its own test binary: the signal flag is process-wide).

use nao_fs::{signals, FsError, Outputs};

#[test]
fn an_interruption_stops_a_streamed_write_and_cleans_up() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.npy");
    let mut out = Outputs::new();
    out.claim_file(&big, "-o").unwrap();
    let mut chunks = 0;
    let e = out
        .write_with(&big, |w| {
            for i in 0..1000 {
                if i == 10 {
                    signals::raise();
                }
                w.write_all(&[0u8; 1 << 16]).map_err(|e| FsError::Io {
                    path: big.clone(),
                    action: "write",
                    source: e,
                })?;
                chunks += 1;
            }
            Ok::<(), FsError>(())
        })
        .unwrap_err();
    signals::reset();
    assert!(matches!(e, FsError::Interrupted), "{e}");
    assert!(chunks < 1000);
    drop(out);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn a_real_sigterm_sets_the_flag_instead_of_killing() {
    signals::install().unwrap();
    signals::install().unwrap(); // twice is fine
    let pid = std::process::id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let start = std::time::Instant::now();
    while !signals::interrupted() && start.elapsed().as_secs() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    assert!(signals::check().is_err());
    signals::reset();
}
