//! Reports on stdout (text or one JSON object) and progress bars on stderr.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::error::CliError;

/// Print `report` as one line of JSON, or `text()` for people.
pub fn emit<T: Serialize>(
    json: bool,
    report: &T,
    text: impl FnOnce() -> String,
) -> Result<(), CliError> {
    let out = if json {
        serde_json::to_string(report).map_err(|e| CliError::compute("JSON encoding", e))?
    } else {
        text()
    };
    let mut stdout = std::io::stdout().lock();
    match writeln!(stdout, "{}", out.trim_end()).and_then(|()| stdout.flush()) {
        // A reader that stopped early (`| head`) is not an error of ours.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(CliError::Stdout),
    }
}

/// Whether progress may be drawn: stderr is a terminal and the output is not JSON.
fn show_progress(json: bool) -> bool {
    !json && std::io::stderr().is_terminal()
}

/// A progress bar over `len` steps on stderr (hidden under `--json` or without a terminal).
pub fn bar(len: u64, json: bool, message: &str) -> ProgressBar {
    styled_bar(
        len,
        json,
        message,
        "{msg} [{bar:30}] {pos}/{len} ({elapsed})",
    )
}

/// [`bar`] with the estimated time left, for long runs.
pub fn bar_eta(len: u64, json: bool, message: &str) -> ProgressBar {
    styled_bar(
        len,
        json,
        message,
        "{msg} [{bar:30}] {pos}/{len} ({elapsed}, about {eta} left)",
    )
}

fn styled_bar(len: u64, json: bool, message: &str, template: &str) -> ProgressBar {
    if !show_progress(json) || len < 2 {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::new(len)
        .with_style(style)
        .with_message(message.to_string())
}

/// A spinner on stderr for one long step (hidden under `--json` or without a terminal).
pub fn spinner(json: bool, message: &str) -> ProgressBar {
    if !show_progress(json) {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
    let pb = ProgressBar::new_spinner()
        .with_style(style)
        .with_message(message.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// A progress callback's answer: stop once SIGINT or SIGTERM has arrived (the command then
/// unwinds and removes its staged files), go on otherwise.
pub fn interruption() -> std::ops::ControlFlow<()> {
    if nao_fs::signals::interrupted() {
        std::ops::ControlFlow::Break(())
    } else {
        std::ops::ControlFlow::Continue(())
    }
}

/// Format a float for people: plain for moderate magnitudes, scientific otherwise.
pub fn num(x: f64) -> String {
    if x == 0.0 || (1e-4..1e7).contains(&x.abs()) {
        format!("{x:.6}")
    } else {
        format!("{x:.6e}")
    }
}
