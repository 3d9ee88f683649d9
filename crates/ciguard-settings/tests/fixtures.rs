//! The fixture runner of the settings checks: `tests/fixtures/<check-id>/<case>/`.
//!
//! - `snapshot/` is a snapshot directory of GitHub answers, as `ciguard settings export` writes
//!   it (`repos/OWNER/REPO.json`, a `.status` file beside an answer that was not 200): only the
//!   answers the check reads.
//! - `expect.txt` is what the check concluded on each subject: a `subject: pass|fail|unknown`
//!   line, then its findings' messages, sorted. `ok-*` cases must pass, `bad-*` must fail.
//!   With `CIGUARD_BLESS=1` the runner rewrites `expect.txt`.
//!
//! Every settings check has a folder, and every folder names one.

use ciguard_test_support::fixtures::{blessing, check_expect, sorted_entries};
use std::path::{Path, PathBuf};

use ciguard_settings::{DirSource, Options, State, audit, checks, snapshot_targets};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn state_name(state: State) -> &'static str {
    match state {
        State::Pass => "pass",
        State::Fail => "fail",
        State::Unknown => "unknown",
    }
}

/// What check `id` concluded on the snapshot of `case`, in the format of `expect.txt`.
fn run_case(id: &str, case: &Path) -> Vec<String> {
    let snapshot = case.join("snapshot");
    let targets = snapshot_targets(&snapshot).expect("snapshot targets");
    let report = audit(
        &DirSource::new(&snapshot),
        &Options::default(),
        &targets,
        &mut |_, _, _| {},
    );
    let mut lines = Vec::new();
    for result in report.results.iter().filter(|r| r.check == id) {
        let state = state_name(result.outcome.state());
        lines.push(format!("{}: {state}", result.subject));
        let mut messages: Vec<String> = result
            .outcome
            .findings
            .iter()
            .map(|f| format!("  {}", f.message))
            .collect();
        messages.sort();
        lines.extend(messages);
    }
    lines
}

#[test]
fn every_settings_check_matches_its_fixtures() {
    let bless = blessing();
    let mut failures = Vec::new();
    for check in checks::all() {
        let id = check.meta().id;
        for case in sorted_entries(&fixtures().join(id)) {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let actual = run_case(id, &case);
            check_expect(id, &name, &case, &actual, bless, &mut failures);
            let states: Vec<&str> = actual
                .iter()
                .filter(|l| !l.starts_with(' '))
                .filter_map(|l| l.rsplit(": ").next())
                .collect();
            let want = if name.starts_with("ok-") {
                "pass"
            } else if name.starts_with("bad-") {
                "fail"
            } else {
                continue;
            };
            if states.is_empty() || states.iter().any(|s| *s != want) {
                failures.push(format!(
                    "{id}/{name}: every subject must {want}: {states:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_settings_check_has_a_fixture_folder_and_every_folder_a_check() {
    let ids: Vec<&str> = checks::all().iter().map(|c| c.meta().id).collect();
    let mut problems = Vec::new();
    for path in sorted_entries(&fixtures()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !ids.contains(&name.as_str()) {
            problems.push(format!("tests/fixtures/{name} names no settings check"));
        }
    }
    for id in ids {
        let names: Vec<String> = std::fs::read_dir(fixtures().join(id))
            .map(|d| {
                d.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        for prefix in ["ok-", "bad-"] {
            if !names.iter().any(|n| n.starts_with(prefix)) {
                problems.push(format!("{id}: no {prefix}* case in tests/fixtures/{id}/"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
