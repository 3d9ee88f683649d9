//! Online resolution against the fake GitHub answering as github.com does: impostor commits with
//! unrelated history, advisories with odd fields.

use std::path::Path;
use std::time::Duration;

use ciguard_core::facts::UsesRef;
use ciguard_github::online;
use ciguard_github::{Client, ClientConfig, Token};
use ciguard_test_support::git::action_repo;
use ciguard_test_support::github::FakeGitHub;

fn client(server: &FakeGitHub) -> Client {
    Client::new(ClientConfig {
        api_url: server.url(),
        token: Token::new("ghp_TESTSECRET0123456789"),
        cache_dir: None,
        offline: false,
        max_concurrency: 2,
        timeout: Duration::from_secs(5),
        max_wait: Duration::from_secs(5),
        ..ClientConfig::default()
    })
}

fn uses(sha: &str) -> UsesRef {
    UsesRef {
        slug: "up/act".into(),
        git_ref: sha.into(),
        name: "up/act".into(),
    }
}

/// `up/act` with two releases and a branch, and its fork `evil/act`; returns the release commits.
fn world(dir: &Path, server: &FakeGitHub) -> (ciguard_test_support::git::GitRepo, Vec<String>) {
    let (repo, shas) = action_repo(
        &dir.join("up"),
        "act",
        &[
            ("v1.0.0", "2024-01-01T00:00:00Z"),
            ("v1.1.0", "2024-02-01T00:00:00Z"),
        ],
    )
    .unwrap();
    repo.branch("next", &shas[0]).unwrap();
    server.add_repo("up/act", &repo);
    let fork = repo.fork(&dir.join("fork")).unwrap();
    server.add_repo("evil/act", &fork);
    server.link_fork("up/act", "evil/act");
    (fork, shas)
}

#[test]
fn an_orphan_commit_pushed_to_a_fork_is_an_impostor() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let (fork, _) = world(dir.path(), &server);
    fork.git(&["checkout", "-q", "--orphan", "payload"])
        .unwrap();
    let orphan = fork
        .commit("action.yml", "name: evil\n", "evil", "2024-03-01T00:00:00Z")
        .unwrap();

    let resolution = online::resolve(&client(&server), &[uses(&orphan)]);
    let facts = &resolution.facts.repos["up/act"];
    assert_eq!(
        facts.reachable.get(&orphan),
        Some(&false),
        "{:?}",
        resolution.warnings
    );
    assert_eq!(
        facts.refs[&orphan].commit.as_deref(),
        Some(orphan.as_str()),
        "the commit exists in the network"
    );
    // The default branch, then the other branch and the tagged commits were all asked.
    let compares: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.path.contains("/compare/"))
        .collect();
    assert!(compares.len() >= 3, "{compares:#?}");
    assert!(compares.iter().all(|r| r.status == 404), "{compares:#?}");
}

#[test]
fn unrelated_history_on_one_branch_does_not_hide_a_commit_another_branch_has() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let (_, _) = world(dir.path(), &server);
    // An orphan branch `docs` in the parent itself, whose head is the pinned commit's ancestor.
    let up = ciguard_test_support::git::GitRepo {
        dir: dir.path().join("up"),
    };
    up.git(&["checkout", "-q", "--orphan", "docs"]).unwrap();
    let docs = up
        .commit("index.md", "docs\n", "docs", "2024-03-01T00:00:00Z")
        .unwrap();
    let later = up
        .commit("index.md", "more\n", "more", "2024-03-02T00:00:00Z")
        .unwrap();
    up.git(&["checkout", "-q", "main"]).unwrap();
    up.branch("docs", &later).unwrap();

    let resolution = online::resolve(&client(&server), &[uses(&docs)]);
    let facts = &resolution.facts.repos["up/act"];
    assert_eq!(
        facts.reachable.get(&docs),
        Some(&true),
        "{:?}",
        resolution.warnings
    );
}

#[test]
fn a_commit_that_does_not_exist_is_not_called_an_impostor() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    world(dir.path(), &server);
    let missing = "0123456789abcdef0123456789abcdef01234567";
    let resolution = online::resolve(&client(&server), &[uses(missing)]);
    let facts = &resolution.facts.repos["up/act"];
    assert_eq!(facts.reachable.get(missing), None);
    assert_eq!(facts.refs[missing].commit, None);
}

#[test]
fn withdrawn_advisories_are_ignored_and_nullable_fields_do_not_fail_a_batch() {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let (_, shas) = world(dir.path(), &server);
    server.add_advisory("GHSA-good-0001", "up/act", "< 1.1.0", Some("1.1.0"));
    // As the OpenAPI description allows: `package.name`, `vulnerable_version_range`,
    // `first_patched_version`, `cve_id`, `cwes` and `epss` null.
    server.add_advisory_json(serde_json::json!({
        "ghsa_id": "GHSA-odd-0002", "cve_id": null, "type": "reviewed", "severity": "medium",
        "summary": "odd", "cwes": null, "epss": null, "withdrawn_at": null,
        "vulnerabilities": [
            {"package": {"ecosystem": "actions", "name": "up/act"},
             "vulnerable_version_range": "<= 1.0.0", "first_patched_version": null,
             "vulnerable_functions": null},
            {"package": {"ecosystem": "actions", "name": null},
             "vulnerable_version_range": null, "first_patched_version": null,
             "vulnerable_functions": []},
        ],
    }));
    server.add_advisory_json(serde_json::json!({
        "ghsa_id": "GHSA-gone-0003", "type": "reviewed", "severity": "high", "summary": "withdrawn",
        "withdrawn_at": "2024-05-01T00:00:00Z",
        "vulnerabilities": [{"package": {"ecosystem": "actions", "name": "up/act"},
                             "vulnerable_version_range": "< 2.0.0", "first_patched_version": "2.0.0"}],
    }));
    let resolution = online::resolve(&client(&server), &[uses(&shas[0])]);
    let mut ids: Vec<String> = resolution.facts.repos["up/act"]
        .advisories
        .as_ref()
        .unwrap_or_else(|| panic!("{:?}", resolution.warnings))
        .iter()
        .map(|a| a.id.clone())
        .collect();
    ids.sort();
    assert_eq!(ids, ["GHSA-good-0001", "GHSA-odd-0002"]);
}
