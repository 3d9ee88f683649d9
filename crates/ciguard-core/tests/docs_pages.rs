//! `docs/audits/` is generated from the audits' declarations. This test fails when a page is
//! stale, missing, or left over from an audit that no longer exists; with `CIGUARD_BLESS=1` it
//! rewrites the directory instead.

use std::collections::BTreeSet;
use std::fs;
use std::path::PathBuf;

use ciguard_core::{audits, docs};

fn docs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/audits")
}

#[test]
fn audit_pages_are_up_to_date() {
    let dir = docs_dir();
    let expected = docs::pages(audits::all());
    let bless = std::env::var_os("CIGUARD_BLESS").is_some_and(|v| v != "0");
    let present: BTreeSet<String> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".md"))
                .collect()
        })
        .unwrap_or_default();
    let wanted: BTreeSet<String> = expected.iter().map(|(name, _)| name.clone()).collect();

    if bless {
        fs::create_dir_all(&dir).expect("create docs/audits");
        for (name, text) in &expected {
            let path = dir.join(name);
            if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                fs::write(&path, text).expect("write page");
            }
        }
        for extra in present.difference(&wanted) {
            fs::remove_file(dir.join(extra)).expect("remove stale page");
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, text) in &expected {
        match fs::read_to_string(dir.join(name)) {
            Ok(actual) if actual == *text => {}
            Ok(_) => problems.push(format!("docs/audits/{name} is stale")),
            Err(_) => problems.push(format!("docs/audits/{name} is missing")),
        }
    }
    for extra in present.difference(&wanted) {
        problems.push(format!(
            "docs/audits/{extra} belongs to no registered audit"
        ));
    }
    assert!(
        problems.is_empty(),
        "{}\nregenerate with: CIGUARD_BLESS=1 cargo test -p ciguard-core --test docs_pages",
        problems.join("\n")
    );
}
