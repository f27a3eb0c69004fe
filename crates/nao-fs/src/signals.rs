//! Interruption: SIGINT and SIGTERM set a flag that long operations check, so a command
//! unwinds through its error path and removes its temporary files instead of dying mid-write.
//!
//! [`install`] is called once by a program's `main`. The first signal sets the flag; a second
//! one ends the process at once (exit status 130), for a user who does not want to wait.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::sync::OnceLock;

use crate::FsError;

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

fn flag() -> &'static Arc<AtomicBool> {
    FLAG.get_or_init(|| Arc::new(AtomicBool::new(false)))
}

/// Route SIGINT and SIGTERM to the interruption flag (on Unix; elsewhere nothing happens).
/// Safe to call more than once.
pub fn install() -> Result<(), FsError> {
    #[cfg(unix)]
    {
        use signal_hook::consts::{SIGINT, SIGTERM};
        static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
        let result = INSTALLED.get_or_init(|| {
            let f = flag();
            for sig in [SIGINT, SIGTERM] {
                // Order matters: the conditional shutdown sees the flag as it was before this
                // signal, so only a second signal exits.
                signal_hook::flag::register_conditional_shutdown(sig, 130, Arc::clone(f))
                    .and_then(|_| signal_hook::flag::register(sig, Arc::clone(f)))
                    .map_err(|e| e.to_string())?;
            }
            Ok(())
        });
        if let Err(e) = result {
            return Err(FsError::Io {
                path: "<signal handlers>".into(),
                action: "install",
                source: std::io::Error::other(e.clone()),
            });
        }
    }
    Ok(())
}

/// Whether a signal has arrived.
pub fn interrupted() -> bool {
    flag().load(Ordering::SeqCst)
}

/// [`FsError::Interrupted`] once a signal has arrived: call it in long loops.
pub fn check() -> Result<(), FsError> {
    if interrupted() {
        Err(FsError::Interrupted)
    } else {
        Ok(())
    }
}

/// Set the flag as a signal would (for tests of the interruption paths, and for callers that
/// cancel for their own reasons).
pub fn raise() {
    flag().store(true, Ordering::SeqCst);
}

/// Clear the flag (tests only need this; a command that was interrupted should end).
pub fn reset() {
    flag().store(false, Ordering::SeqCst);
}
