//! Starting programs: cargo (the one that launched xtask) and others, echoed before they run,
//! with the [`ChildEnv`] of the command.

use std::ffi::OsString;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::env::ChildEnv;
use crate::error::{Result, XtaskError};

/// The cargo that launched xtask (so `cargo +nightly xtask` stays on nightly).
pub fn cargo_program() -> OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}

/// `cargo ARGS` in the workspace root, with `env`.
pub fn cargo<S: AsRef<str>>(root: &Path, env: &ChildEnv, args: &[S]) -> Command {
    let mut cmd = Command::new(cargo_program());
    cmd.args(args.iter().map(AsRef::as_ref)).current_dir(root);
    env.apply(&mut cmd);
    cmd
}

/// The command line of `cmd` as the user would type it (inline scripts shown as `<script>`).
pub fn show(cmd: &Command) -> String {
    // the cargo of $CARGO is a full path; `cargo` reads better and means the same
    let program = match cmd.get_program() {
        p if p == cargo_program() => "cargo".into(),
        p => p.to_string_lossy(),
    };
    let args = cmd.get_args().map(|a| match a.to_string_lossy() {
        a if a.contains('\n') => "<script>".into(),
        a => a,
    });
    let words: Vec<_> = std::iter::once(program).chain(args).collect();
    words.join(" ")
}

/// Start `cmd` (echoed first) through `start`; fail when it cannot start (the error says
/// `hint`: empty, or text starting with "; ") or exits unsuccessfully (saying `what` it did).
fn checked<T>(
    cmd: &mut Command,
    what: &str,
    hint: &str,
    start: impl FnOnce(&mut Command) -> std::io::Result<(ExitStatus, T)>,
) -> Result<T> {
    let command = show(cmd);
    eprintln!("$ {command}");
    let (status, value) = start(cmd).map_err(|source| XtaskError::Spawn {
        command: command.clone(),
        source,
        hint: hint.to_string(),
    })?;
    if !status.success() {
        let what = what.to_string();
        return Err(XtaskError::Exit {
            what,
            command,
            status,
        });
    }
    Ok(value)
}

/// Run `cmd` (echoed first), inheriting stdio; `what` says what it does, for the error, and
/// `hint` (empty, or text starting with "; ") what to do when it cannot start.
pub fn run_with_hint(cmd: &mut Command, what: &str, hint: &str) -> Result<()> {
    checked(cmd, what, hint, |c| Ok((c.status()?, ())))
}

/// Run `cmd` (echoed first), inheriting stdio.
pub fn run(cmd: &mut Command, what: &str) -> Result<()> {
    run_with_hint(cmd, what, "")
}

/// Run `cargo ARGS` in the workspace root with `env`.
pub fn run_cargo<S: AsRef<str>>(root: &Path, env: &ChildEnv, args: &[S]) -> Result<()> {
    let what = format!("cargo {}", args.first().map_or("", AsRef::as_ref));
    run(&mut cargo(root, env, args), &what)
}

/// Run `cmd` (echoed first) and return its standard output; its standard error is shown.
pub fn output(cmd: &mut Command, what: &str) -> Result<String> {
    let stdout = checked(cmd, what, "", |c| {
        let out = c.stderr(Stdio::inherit()).output()?;
        Ok((out.status, out.stdout))
    })?;
    String::from_utf8(stdout).map_err(|e| XtaskError::Parse {
        path: show(cmd).into(),
        message: format!("output is not UTF-8: {e}"),
    })
}

/// Whether `cmd` starts and succeeds, all its output discarded: for probes.
pub fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let quiet = cmd.stderr(Stdio::null());
    quiet.status().is_ok_and(|s| s.success())
}

/// Whether `cargo nextest` is installed and runs.
pub fn have_nextest(root: &Path) -> bool {
    let mut probe = cargo(root, &ChildEnv::new(), &["nextest", "--version"]);
    succeeds(&mut probe)
}

/// `1.2s` or `2m05.0s`.
pub fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:04.1}s", (s / 60.0) as u64, s % 60.0)
    }
}

/// The time of each step, then the total since `start`, one line each.
pub fn print_timings(timings: &[(&str, Duration)], start: Instant) {
    for (name, took) in timings {
        eprintln!("  {:>9}  {name}", fmt_duration(*took));
    }
    eprintln!("  {:>9}  total", fmt_duration(start.elapsed()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(fmt_duration(Duration::from_millis(1234)), "1.2s");
        assert_eq!(fmt_duration(Duration::from_secs(125)), "2m05.0s");
    }

    #[test]
    fn commands_are_shown_as_typed() {
        let mut cmd = Command::new("python3");
        cmd.args(["-c", "import sys\nprint(1)", "x y"]);
        assert_eq!(show(&cmd), "python3 -c <script> x y");
        let cmd = cargo(Path::new("."), &ChildEnv::new(), &["tree", "-p", "xtask"]);
        assert_eq!(show(&cmd), "cargo tree -p xtask");
    }

    #[test]
    fn failures_name_the_command() {
        let e = run(&mut Command::new("false"), "testing").unwrap_err();
        let e = e.to_string();
        assert!(e.starts_with("testing: `false` exited with"), "{e}");
        let mut absent = Command::new("/nonexistent/xtask-probe");
        let e = run_with_hint(&mut absent, "testing", "; install it").unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("could not start `/nonexistent/xtask-probe`"),
            "{e}"
        );
        assert!(e.ends_with("; install it"), "{e}");
        assert!(succeeds(&mut Command::new("true")) && !succeeds(&mut absent));
    }
}
