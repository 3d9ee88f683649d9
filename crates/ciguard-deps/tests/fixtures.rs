//! The fixture runner of the dependency audits: `tests/fixtures/<audit-id>/<case>/`, one small
//! repository per case.
//!
//! - `repo/` holds the repository's files, each with a `.in` suffix (so that ciguard run on this
//!   project does not report them); they are copied to a temporary directory without it.
//! - `registry/` (optional) holds recorded registry answers, at their URL path: `registry/3/l/log`
//!   answers `GET /3/l/log` (crates.io's sparse index), `registry/pypi/idna/json` PyPI's JSON
//!   API. With it, the lockfiles are checked against a local registry serving them; without it,
//!   only the offline checks run.
//! - `expect.txt` lists the case's findings of that audit, one `path:line: message` a line.
//!   `ok-*` cases must be clean, `bad-*` must have findings, `mixed-*` is both. With
//!   `CIGUARD_BLESS=1` the runner rewrites `expect.txt` from what the audit found.
//!
//! Every dependency audit has a folder, and every folder names one.

use ciguard_test_support::fixtures::{blessing, check_expect, sorted_entries};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ciguard_deps::time::parse_timestamp;
use ciguard_deps::{
    ClientOptions, DepsConfig, DepsOptions, RegistryClient, RegistryUrls, RepoFiles, audits,
    configs,
};
use ciguard_test_support::registry::FakeRegistry;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Copies `from/**/*.in` into `to`, without the `.in`.
fn copy_repo(from: &Path, to: &Path) {
    for path in sorted_entries(from) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            let dir = to.join(&name);
            std::fs::create_dir_all(&dir).expect("mkdir");
            copy_repo(&path, &dir);
        } else if let Some(stripped) = name.strip_suffix(".in") {
            std::fs::copy(&path, to.join(stripped)).expect("copy");
        }
    }
}

/// Every file under `dir` as (`/relative/path`, (200, body)).
fn routes(dir: &Path, prefix: &str, out: &mut HashMap<String, (u16, String)>) {
    for path in sorted_entries(dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let route = format!("{prefix}/{name}");
        if path.is_dir() {
            routes(&path, &route, out);
        } else {
            let body = std::fs::read_to_string(&path).expect("recorded answer");
            out.insert(route, (200, body));
        }
    }
}

fn client(url: &str) -> RegistryClient {
    let mut urls = RegistryUrls::default();
    for key in ["crates-io", "pypi", "npm"] {
        urls.set(key, url).expect("url");
    }
    RegistryClient::new(ClientOptions {
        urls,
        cache_dir: None,
        offline: false,
        threads: 1,
        timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    })
}

/// The findings of audit `id` on one case, as `path:line: message`, sorted.
fn run_case(id: &str, case: &Path) -> Vec<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_repo(&case.join("repo"), dir.path());
    let (repo, _) = RepoFiles::discover(dir.path());
    let config = DepsConfig::load(dir.path()).expect("[deps] of the case");
    let (mut findings, _) = configs::check_with(&repo, &config);
    let options = DepsOptions {
        config,
        // Two days after `log 0.4.35` was published.
        now: parse_timestamp("2026-11-01T21:36:19Z").expect("now"),
    };
    let registry_dir = case.join("registry");
    let registry = registry_dir.is_dir().then(|| {
        let mut table = HashMap::new();
        routes(&registry_dir, "", &mut table);
        FakeRegistry::start(table).expect("fake registry")
    });
    let client = registry.as_ref().map(|r| client(&r.url));
    let report = ciguard_deps::check_lockfiles(&repo, client.as_ref(), &options);
    // A case with recorded answers must really be checked against them, or `ok-` proves nothing.
    assert!(
        registry.is_none() || report.checked == report.packages && report.checked > 0,
        "{}: {} of {} packages checked: {:?}",
        case.display(),
        report.checked,
        report.packages,
        report.diagnostics
    );
    findings.extend(report.findings);
    let root = format!("{}/", dir.path().display());
    let mut lines: Vec<String> = findings
        .iter()
        .filter(|f| f.audit_id() == id)
        .map(|f| {
            let line = match (f.primary.source(), f.primary.span()) {
                (Some(file), Some(span)) => file.line_col(span.start).line,
                _ => 0,
            };
            let path = f.primary.path();
            let path = path.strip_prefix(&root).unwrap_or(path);
            format!("{path}:{line}: {}", f.message)
        })
        .collect();
    lines.sort();
    lines
}

#[test]
fn every_dependency_audit_matches_its_fixtures() {
    let bless = blessing();
    let mut failures = Vec::new();
    for meta in audits::all() {
        let id = meta.id;
        for case in sorted_entries(&fixtures().join(id)) {
            let name = case.file_name().unwrap().to_string_lossy().into_owned();
            let actual = run_case(id, &case);
            check_expect(id, &name, &case, &actual, bless, &mut failures);
            if name.starts_with("ok-") && !actual.is_empty() {
                failures.push(format!("{id}/{name}: an ok- case must be clean"));
            }
            if (name.starts_with("bad-") || name.starts_with("mixed-")) && actual.is_empty() {
                failures.push(format!(
                    "{id}/{name}: a bad- or mixed- case must have findings"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_dependency_audit_has_a_fixture_folder_and_every_folder_an_audit() {
    let ids: Vec<&str> = audits::all().iter().map(|m| m.id).collect();
    let mut problems = Vec::new();
    for path in sorted_entries(&fixtures()) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !ids.contains(&name.as_str()) {
            problems.push(format!("tests/fixtures/{name} names no dependency audit"));
        }
    }
    for id in ids {
        let cases = std::fs::read_dir(fixtures().join(id)).map_or(0, |d| d.count());
        if cases == 0 {
            problems.push(format!("{id} has no case in tests/fixtures/{id}/"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
