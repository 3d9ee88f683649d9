//! What the dependency and settings fixture runners share: a case folder's entries in order,
//! and the check of a case's findings against its `expect.txt` (rewritten under
//! `CIGUARD_BLESS=1`), including the message convention (lowercase, no trailing period).

use std::path::{Path, PathBuf};

/// The entries of `dir`, sorted; a missing folder is a test failure naming it.
pub fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").path())
        .collect();
    paths.sort();
    paths
}

/// Whether `CIGUARD_BLESS` asks the runners to rewrite their expectations.
pub fn blessing() -> bool {
    std::env::var_os("CIGUARD_BLESS").is_some_and(|v| v != "0")
}

/// Compares the lines `actual` of case `id/name` with `case/expect.txt` (first writing them
/// there when `bless`), and checks each line's message; every problem goes to `failures`.
pub fn check_expect(
    id: &str,
    name: &str,
    case: &Path,
    actual: &[String],
    bless: bool,
    failures: &mut Vec<String>,
) {
    let expect_path = case.join("expect.txt");
    if bless {
        let text: String = actual.iter().map(|l| format!("{l}\n")).collect();
        std::fs::write(&expect_path, text).expect("write expect.txt");
    }
    let expected: Vec<String> = std::fs::read_to_string(&expect_path)
        .unwrap_or_default()
        .lines()
        .map(str::to_owned)
        .collect();
    for line in actual {
        let message = line.trim_start().splitn(2, ": ").last().unwrap_or_default();
        if message.starts_with(char::is_uppercase) || message.ends_with('.') {
            failures.push(format!(
                "{id}/{name}: messages start lowercase and have no trailing period: {line}"
            ));
        }
    }
    if actual != expected.as_slice() {
        failures.push(format!(
            "{id}/{name}: expected {expected:#?}\ngot {actual:#?}\n(bless with CIGUARD_BLESS=1)"
        ));
    }
}
