//! What the terminal ciguard writes to can do, and how chatty to be: `-q`/`-v`, the width long
//! source lines are elided to, OSC 8 hyperlinks, and progress of network work on stderr.
//!
//! Output that is not a terminal never changes with the terminal: no width, no links, no
//! progress, unless forced (`FORCE_HYPERLINK=1`, `CIGUARD_PROGRESS=1`) for tests and for
//! people who pipe through a pager that understands them.

use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `-q` and `-v`, for every subcommand.
#[derive(Debug, Clone, Copy, Default, clap::Args)]
pub struct Verbosity {
    /// Print only findings and errors: no notes, summary, hints or progress.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Say more about the run on stderr (files read, requests sent).
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();

/// Records the command line's choice; called once, before the subcommand runs.
pub fn set_verbosity(v: Verbosity) {
    let _ = VERBOSITY.set(v);
}

pub fn quiet() -> bool {
    VERBOSITY.get().is_some_and(|v| v.quiet)
}

pub fn verbose() -> bool {
    VERBOSITY.get().is_some_and(|v| v.verbose)
}

/// The width of the terminal on stdout, when stdout is one: `COLUMNS` if set, else what the
/// terminal reports.
pub fn stdout_width() -> Option<usize> {
    if !std::io::stdout().is_terminal() {
        return None;
    }
    let from_env = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.trim().parse().ok());
    from_env.filter(|w: &usize| *w > 0).or_else(window_columns)
}

fn window_columns() -> Option<usize> {
    let (terminal_size::Width(w), _) = terminal_size::terminal_size_of(std::io::stdout())?;
    (w > 0).then_some(usize::from(w))
}

/// Whether to write OSC 8 hyperlinks: only with colour on, to a terminal known to support them
/// (`FORCE_HYPERLINK=1` forces them, `FORCE_HYPERLINK=0` turns them off).
pub fn hyperlinks(color: bool) -> bool {
    let env = |k: &str| std::env::var(k).ok();
    color && supports_hyperlinks(&env, std::io::stdout().is_terminal())
}

/// The decision of [`hyperlinks`], from the environment `env` and whether stdout is a terminal.
fn supports_hyperlinks(env: &dyn Fn(&str) -> Option<String>, terminal: bool) -> bool {
    if let Some(force) = env("FORCE_HYPERLINK") {
        return force.trim() != "0";
    }
    // CI logs are not terminals that follow links, whatever they claim.
    if !terminal || env("CI").is_some() {
        return false;
    }
    let program = env("TERM_PROGRAM").unwrap_or_default();
    let term = env("TERM").unwrap_or_default();
    matches!(
        program.as_str(),
        "iTerm.app" | "WezTerm" | "vscode" | "ghostty" | "Hyper"
    ) || matches!(
        term.as_str(),
        "xterm-kitty" | "alacritty" | "foot" | "xterm-ghostty" | "wezterm"
    ) || env("WT_SESSION").is_some()
        || env("KONSOLE_VERSION").is_some()
        || env("DOMTERM").is_some()
        || env("VTE_VERSION")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .is_some_and(|v| v >= 5000)
}

/// Whether progress goes to stderr: a terminal, not `-q`, or `CIGUARD_PROGRESS=1`.
fn progress_enabled() -> bool {
    match std::env::var("CIGUARD_PROGRESS")
        .ok()
        .as_deref()
        .map(str::trim)
    {
        Some("1") => true,
        Some("0") => false,
        _ => !quiet() && std::io::stderr().is_terminal(),
    }
}

/// How often the progress line is redrawn.
const TICK: Duration = Duration::from_millis(150);

/// Runs `work`, showing `label` and the count `done()` reports (requests sent, say) on one
/// stderr line that is redrawn while it runs and erased when it ends.
pub fn with_progress<R>(
    label: &str,
    unit: (&str, &str),
    done: &(dyn Fn() -> usize + Sync),
    work: impl FnOnce() -> R,
) -> R {
    if !progress_enabled() {
        return work();
    }
    // The commands hold `std::io::stderr().lock()` while they work: the progress line goes
    // to a duplicate of the descriptor, never waiting on that lock.
    let Ok(mut err) = std::io::stderr()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
    else {
        return work();
    };
    let finished = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let ticker = scope.spawn(|| {
            let mut shown = false;
            let mut frame = 0;
            while !finished.load(Ordering::Relaxed) {
                let line = progress_line(label, unit, done(), frame);
                let _ = write!(err, "\r\x1b[K{line}");
                shown = true;
                frame += 1;
                std::thread::park_timeout(TICK);
            }
            if shown {
                let _ = write!(err, "\r\x1b[K");
            }
        });
        let result = work();
        finished.store(true, Ordering::Relaxed);
        ticker.thread().unpark();
        result
    })
}

fn progress_line(label: &str, (one, many): (&str, &str), n: usize, frame: usize) -> String {
    const SPINNER: [char; 4] = ['|', '/', '-', '\\'];
    let spin = SPINNER[frame % SPINNER.len()];
    format!(
        "{spin} {label}: {}",
        ciguard_core::plural::count(n, one, many)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
    }

    #[test]
    fn hyperlinks_only_on_terminals_that_follow_them() {
        let yes = |pairs: &[(&str, &str)], terminal| supports_hyperlinks(&env_of(pairs), terminal);
        assert!(yes(&[("TERM_PROGRAM", "WezTerm")], true));
        assert!(yes(&[("VTE_VERSION", "7200")], true));
        assert!(!yes(&[("VTE_VERSION", "4800")], true));
        assert!(
            !yes(&[("TERM_PROGRAM", "WezTerm")], false),
            "not a terminal"
        );
        assert!(!yes(&[("TERM_PROGRAM", "vscode"), ("CI", "true")], true));
        assert!(
            !yes(&[("TERM", "xterm-256color")], true),
            "unknown terminal"
        );
        assert!(yes(&[("FORCE_HYPERLINK", "1")], false), "forced");
        assert!(!yes(
            &[("FORCE_HYPERLINK", "0"), ("TERM", "xterm-kitty")],
            true
        ));
    }

    #[test]
    fn progress_lines_count_with_plurals() {
        assert_eq!(
            progress_line("resolving actions", ("request", "requests"), 1, 0),
            "| resolving actions: 1 request"
        );
        assert_eq!(
            progress_line("x", ("request", "requests"), 3, 1),
            "/ x: 3 requests"
        );
    }
}
