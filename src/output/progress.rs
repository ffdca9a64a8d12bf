//! Progress bars for a person watching: on stderr, only when stderr is a terminal, never in
//! CI or with `NO_COLOR`/`TERM=dumb` (then the caller prints plain lines instead).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Whether to draw bars: a terminal on stderr, not CI, not a dumb terminal.
pub fn enabled() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && !std::env::var("TERM").is_ok_and(|t| t == "dumb")
}

/// A bar of `len` steps with a message, or `None` when bars are off.
pub fn bar(len: u64, prefix: &str) -> Option<ProgressBar> {
    if !enabled() {
        return None;
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    let style = ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
        .expect("static template")
        .progress_chars("=> ");
    pb.set_style(style);
    pb.set_prefix(prefix.to_string());
    pb.enable_steady_tick(Duration::from_millis(200));
    Some(pb)
}
