//! Lockfiles of every kind against recorded registry answers served on 127.0.0.1.
//!
//! The fixture repository is stored as `tests/data/repo/**/*.in` (so that running ciguard on this
//! project does not report the fixtures) and copied to a temporary directory without the suffix.
//! The registry answers in `tests/data/registry/` were recorded from crates.io's sparse index,
//! PyPI's JSON API and the npm registry, and trimmed to a few versions.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use ciguard_core::Level;
use ciguard_deps::time::parse_timestamp;
use ciguard_deps::{
    ClientOptions, DepsConfig, DepsOptions, RegistryClient, RegistryUrls, RepoFiles,
};
use ciguard_test_support::registry::FakeRegistry;

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

/// Copies `tests/data/repo/**/*.in` into a fresh directory, without the `.in`.
fn fixture_repo() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).expect("fixture dir") {
            let entry = entry.expect("entry");
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                let dir = to.join(&name);
                std::fs::create_dir_all(&dir).expect("mkdir");
                copy(&path, &dir);
            } else if let Some(stripped) = name.strip_suffix(".in") {
                std::fs::copy(&path, to.join(stripped)).expect("copy");
            }
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    copy(&data().join("repo"), dir.path());
    dir
}

fn recorded(path: &str) -> String {
    std::fs::read_to_string(data().join("registry").join(path)).expect("recorded answer")
}

fn fake_registry() -> FakeRegistry {
    let mut routes = HashMap::new();
    routes.insert("/se/rd/serde".to_owned(), (200, recorded("crates/serde")));
    routes.insert("/3/l/log".to_owned(), (200, recorded("crates/log")));
    routes.insert(
        "/pypi/requests/json".to_owned(),
        (200, recorded("pypi/requests.json")),
    );
    routes.insert(
        "/pypi/idna/json".to_owned(),
        (200, recorded("pypi/idna.json")),
    );
    routes.insert("/left-pad".to_owned(), (200, recorded("npm/left-pad.json")));
    FakeRegistry::start(routes).expect("fake registry")
}

fn client(url: &str, cache: Option<&Path>, offline: bool) -> RegistryClient {
    let mut urls = RegistryUrls::default();
    for key in ["crates-io", "pypi", "npm"] {
        urls.set(key, url).expect("url");
    }
    RegistryClient::new(ClientOptions {
        urls,
        cache_dir: cache.map(Path::to_path_buf),
        offline,
        threads: 4,
        timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    })
}

/// Two days after `log 0.4.35` was published.
fn options(root: &Path) -> DepsOptions {
    DepsOptions {
        config: DepsConfig::load(root).expect("config"),
        now: parse_timestamp("2026-11-01T21:36:19Z").expect("now"),
    }
}

fn summary(report: &ciguard_deps::LockfileReport) -> BTreeSet<(String, usize, String)> {
    report
        .findings
        .iter()
        .map(|f| {
            let file = f.primary.source().expect("file location");
            let line = file.line_col(f.primary.span().expect("span").start).line;
            (f.primary.path().to_owned(), line, f.audit_id().to_owned())
        })
        .collect()
}

fn expected() -> BTreeSet<(String, usize, String)> {
    [
        ("Cargo.toml", 10, "mutable-dependency-source"),
        ("Cargo.lock", 9, "dependency-cooldown"),
        ("Cargo.lock", 14, "yanked-dependency"),
        ("Cargo.lock", 34, "mutable-dependency-source"),
        ("python/uv.lock", 16, "yanked-dependency"),
        ("python/uv.lock", 21, "mutable-dependency-source"),
        ("python/pylock.toml", 11, "mutable-dependency-source"),
        ("python/requirements.txt", 6, "mutable-dependency-source"),
        ("web/package-lock.json", 12, "dependency-cooldown"),
        ("web/package-lock.json", 26, "mutable-dependency-source"),
        ("web/package-lock.json", 30, "mutable-dependency-source"),
        ("pnpm/pnpm-lock.yaml", 13, "mutable-dependency-source"),
        ("pnpm/pnpm-lock.yaml", 19, "dependency-cooldown"),
        ("yarn/yarn.lock", 8, "dependency-cooldown"),
        ("yarn/yarn.lock", 15, "mutable-dependency-source"),
    ]
    .into_iter()
    .map(|(p, l, a)| (p.to_owned(), l, a.to_owned()))
    .collect()
}

#[test]
fn every_lockfile_kind_against_recorded_answers() {
    let repo = fixture_repo();
    let fake = fake_registry();
    let cache = tempfile::tempdir().expect("cache");
    let client = client(&fake.url, Some(cache.path()), false);
    let (files, _) = RepoFiles::discover(repo.path());
    let files = RepoFiles {
        shown_root: String::new(),
        ..files
    };
    let report = ciguard_deps::check_lockfiles(&files, Some(&client), &options(repo.path()));

    assert_eq!(
        summary(&report),
        expected(),
        "findings: {:#?}",
        report
            .findings
            .iter()
            .map(|f| &f.message)
            .collect::<Vec<_>>()
    );

    let message = |needle: &str| report.findings.iter().any(|f| f.message.contains(needle));
    assert!(message(
        "`log 0.4.35` was published 2 days ago (2026-10-30), within the 7-day cooldown for cargo"
    ));
    assert!(message("`serde 0.7.6` is yanked on crates.io"));
    assert!(message("`requests 2.32.0` is yanked on PyPI"));
    assert!(
        message("within the 5000-day cooldown for npm"),
        "per-ecosystem cooldown from ciguard.toml"
    );
    assert!(message(
        "`outside` is a path dependency outside the repository (`../../outside`)"
    ));
    assert!(message(
        "`floating-git` comes from git `https://github.com/example/floating?branch=main` without a pinned commit"
    ));
    assert!(message(
        "`tarball` is downloaded from `https://example.test/tarball.tgz` without a hash"
    ));
    assert!(
        !message("first-party-ui"),
        "exempt packages are not checked"
    );

    // Malformed lockfiles: an error naming the file and line, and the run went on.
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.level == Level::Error)
        .collect();
    assert_eq!(errors.len(), 2, "{errors:#?}");
    assert!(errors.iter().any(|d| d.path == "broken/Cargo.lock"
        && d.line == Some(3)
        && d.message.starts_with("invalid Cargo.lock")));
    assert!(errors.iter().any(|d| d.path == "broken/package-lock.json"
        && d.line == Some(5)
        && d.help.as_deref().is_some_and(|h| h.contains("npm install"))));
    // A crate the registry does not know is a warning, not a crash.
    assert!(report.diagnostics.iter().any(|d| {
        d.level == Level::Warning
            && d.message
                .contains("there is no package `ghost` on crates.io")
    }));
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("1 package comes from registries other than"))
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("python/requirements.txt: 1 requirement is not pinned"))
    );

    // One request per distinct package: serde, log, ghost, requests, idna, left-pad.
    assert_eq!(client.requests(), 6);
    assert_eq!(fake.hits(), 6);

    // Warm cache: the same answers, no request (`ghost`'s "not found" is cached for a day too).
    let warm = client_with(&fake.url, cache.path());
    let again = ciguard_deps::check_lockfiles(&files, Some(&warm), &options(repo.path()));
    assert_eq!(summary(&again), expected());
    assert_eq!(warm.requests(), 0, "negative answers are cached too");
}

fn client_with(url: &str, cache: &Path) -> RegistryClient {
    client(url, Some(cache), false)
}

#[test]
fn offline_uses_the_cache_and_says_what_it_could_not_check() {
    let repo = fixture_repo();
    let cache = tempfile::tempdir().expect("cache");
    let offline = client("http://127.0.0.1:9", Some(cache.path()), true);
    let (files, _) = RepoFiles::discover(repo.path());
    let report = ciguard_deps::check_lockfiles(&files, Some(&offline), &options(repo.path()));
    assert_eq!(offline.requests(), 0);
    assert!(
        report
            .findings
            .iter()
            .all(|f| f.audit_id() == "mutable-dependency-source")
    );
    let note = report
        .notes
        .iter()
        .find(|n| n.starts_with("offline: 4 cargo versions are"))
        .expect("offline note");
    assert!(
        note.contains("log 0.4.35") && note.contains("run without --offline"),
        "{note}"
    );

    // Fill the cache online, then offline finds the same as online.
    let fake = fake_registry();
    let online = client(&fake.url, Some(cache.path()), false);
    let first = ciguard_deps::check_lockfiles(&files, Some(&online), &options(repo.path()));
    let offline = client("http://127.0.0.1:9", Some(cache.path()), true);
    let second = ciguard_deps::check_lockfiles(&files, Some(&offline), &options(repo.path()));
    assert_eq!(summary(&first), summary(&second));
    assert_eq!(offline.requests(), 0);
}

#[test]
fn unreachable_registry_is_one_clear_error() {
    let repo = fixture_repo();
    // A port nobody listens on.
    let port = ciguard_test_support::http::refused_port();
    let url = format!("http://127.0.0.1:{port}");
    let client = client(&url, None, false);
    let (files, _) = RepoFiles::discover(repo.path());
    let report = ciguard_deps::check_lockfiles(&files, Some(&client), &options(repo.path()));
    let errors: Vec<_> = report
        .diagnostics
        .iter()
        .filter(|d| d.message.starts_with("cannot reach"))
        .collect();
    assert_eq!(errors.len(), 3, "one per registry: {errors:#?}");
    assert!(errors.iter().any(|d| {
        d.message
            .contains(&format!("cannot reach crates.io at {url}"))
            && d.message.contains("were not checked")
    }));
    assert!(
        errors[0]
            .help
            .as_deref()
            .is_some_and(|h| h.contains("--offline"))
    );
    // Mutable sources are still reported.
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.audit_id() == "mutable-dependency-source")
    );
}

#[test]
fn registry_errors_per_package_are_reported() {
    let repo = fixture_repo();
    let fake = fake_registry();
    fake.set("/3/l/log", 503, "busy");
    fake.set("/se/rd/serde", 200, "this is not an index");
    let client = client(&fake.url, None, false);
    let (files, _) = RepoFiles::discover(repo.path());
    let report = ciguard_deps::check_lockfiles(&files, Some(&client), &options(repo.path()));
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.message.contains("crates.io answered HTTP 503")),
        "{:#?}",
        report.diagnostics
    );
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.message.contains("unexpected answer from crates.io"))
    );
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.audit_id() == "dependency-cooldown" && f.message.contains("log"))
    );
}

/// The live registries. Run with `cargo test -p ciguard-deps --test lockfiles -- --ignored live`.
#[test]
#[ignore = "needs the internet"]
fn live_registries() {
    let client = RegistryClient::new(ClientOptions {
        cache_dir: None,
        ..ClientOptions::default()
    });
    let wanted = vec![
        (
            ciguard_deps::Ecosystem::Cargo,
            "serde".to_owned(),
            "1.0.0".to_owned(),
        ),
        (
            ciguard_deps::Ecosystem::PyPI,
            "requests".to_owned(),
            "2.32.0".to_owned(),
        ),
        (
            ciguard_deps::Ecosystem::Npm,
            "left-pad".to_owned(),
            "1.3.0".to_owned(),
        ),
    ];
    let answers = client.lookup(&wanted);
    for w in &wanted {
        match answers.get(w) {
            Some(ciguard_deps::Lookup::Found(r)) => assert!(r.published.is_some(), "{w:?}: {r:?}"),
            other => panic!("{w:?}: {other:?}"),
        }
    }
    assert!(matches!(answers.get(&wanted[1]), Some(ciguard_deps::Lookup::Found(r)) if r.yanked));
}

/// Every prefix (and a few byte-flipped versions) of every fixture lockfile parses or fails
/// cleanly: never a panic.
#[test]
fn truncated_and_mangled_lockfiles_never_panic() {
    let repo = fixture_repo();
    let (files, _) = RepoFiles::discover(repo.path());
    for rel in &files.files {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let Some(format) = ciguard_deps::Format::detect(name) else {
            continue;
        };
        let text = std::fs::read_to_string(repo.path().join(rel)).expect("read");
        for end in (0..=text.len()).filter(|i| text.is_char_boundary(*i)) {
            let _ = ciguard_deps::lockfile::parse(rel, format, text[..end].to_owned());
        }
        for (i, replacement) in [(1, "\u{e9}"), (7, "\""), (13, "{"), (21, "\n"), (3, "\\")] {
            let mut mangled = String::new();
            for (n, line) in text.lines().enumerate() {
                mangled.push_str(if n % i == 0 { replacement } else { line });
                mangled.push('\n');
            }
            let _ = ciguard_deps::lockfile::parse(rel, format, mangled);
        }
    }
}
