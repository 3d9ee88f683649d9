//! Answers that are not what GitHub sends (truncated, not JSON, incomplete lists) and servers
//! that lack what github.com has (GHES): unknown with a reason, never an empty list, never a
//! finding.

use ciguard_test_support::settings_api as common;

use ciguard_settings::{DirSource, Options, SettingsReport, State, audit, snapshot_targets};
use common::{Api, BASE};
use serde_json::json;

fn run_dir(dir: &std::path::Path) -> SettingsReport {
    let targets = snapshot_targets(dir).unwrap();
    audit(
        &DirSource::new(dir),
        &Options::default(),
        &targets,
        &mut |_, _, _| {},
    )
}

fn run(api: &Api) -> SettingsReport {
    let dir = tempfile::tempdir().unwrap();
    api.write(dir.path());
    run_dir(dir.path())
}

fn state(report: &SettingsReport, check: &str) -> State {
    report
        .results
        .iter()
        .find(|r| r.check == check)
        .map(|r| r.outcome.state())
        .unwrap_or_else(|| panic!("{check} did not run"))
}

/// Writes `api`, then cuts the snapshot file of `path` to half its length.
fn run_truncated(api: &Api, path: &str) -> SettingsReport {
    let dir = tempfile::tempdir().unwrap();
    api.write(dir.path());
    let file = dir.path().join(format!("{path}.json"));
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    run_dir(dir.path())
}

#[test]
fn a_truncated_secrets_answer_is_unknown_with_a_diagnostic_not_a_pass() {
    // The control: read whole, the repository-level PYPI_API_TOKEN fails the check.
    let api = common::defaults();
    assert_eq!(state(&run(&api), "settings-secrets"), State::Fail);

    let report = run_truncated(&api, &format!("{BASE}/actions/secrets"));
    assert_eq!(state(&report, "settings-secrets"), State::Unknown);
    let notes = report.notes().join("\n");
    assert!(
        notes.contains("actions/secrets: the answer is not valid"),
        "{notes}"
    );
    let report = report.into_report();
    assert!(
        report
            .diagnostics
            .iter()
            .any(|d| d.path == format!("{BASE}/actions/secrets")),
        "{:?}",
        report.diagnostics
    );
}

#[test]
fn an_invalid_rulesets_answer_is_not_read_as_no_rulesets() {
    let api = common::hardened();
    assert_eq!(
        state(&run(&api), "settings-default-branch"),
        State::Pass,
        "control"
    );
    let report = run_truncated(&api, &format!("{BASE}/rulesets"));
    for check in [
        "settings-default-branch",
        "settings-bypass",
        "settings-release-tags",
    ] {
        assert_eq!(state(&report, check), State::Unknown, "{check}");
    }
    // Valid JSON of the wrong shape, and a ruleset without an id, are invalid too.
    let mut api = common::hardened();
    api.ok(&format!("{BASE}/rulesets"), json!({"rulesets": []}));
    assert_eq!(state(&run(&api), "settings-default-branch"), State::Unknown);
    api.ok(&format!("{BASE}/rulesets"), json!([{"name": "main"}]));
    assert_eq!(state(&run(&api), "settings-default-branch"), State::Unknown);
}

#[test]
fn a_list_shorter_than_its_total_count_is_unknown() {
    // Page 1 of 2: the publishing secret may be on the page that was not read.
    let mut api = common::hardened();
    api.ok(
        &format!("{BASE}/actions/secrets"),
        json!({ "total_count": 31, "secrets": [{ "name": "CODECOV_TOKEN" }] }),
    );
    let report = run(&api);
    assert_eq!(state(&report, "settings-secrets"), State::Unknown);
    assert!(
        report.notes().join("\n").contains("lists 1 of 31 entries"),
        "{:?}",
        report.notes()
    );
    // A secret entry without a name is not silently skipped.
    api.ok(
        &format!("{BASE}/actions/secrets"),
        json!({ "total_count": 1, "secrets": [{ "created_at": "2024-01-10T14:59:22Z" }] }),
    );
    assert_eq!(state(&run(&api), "settings-secrets"), State::Unknown);
}

#[test]
fn nothing_readable_says_no_check_could_run() {
    let dir = tempfile::tempdir().unwrap();
    let api = common::hardened();
    api.write(dir.path());
    let repo_file = dir.path().join(format!("{BASE}.json"));
    std::fs::write(&repo_file, b"{\"id\": 1296269, \"name\": \"hel").unwrap();
    let report = run_dir(dir.path());
    assert!(report.nothing_ran());
    assert!(
        report.summary().contains("0 of 8 could run"),
        "{}",
        report.summary()
    );
    assert!(!report.into_report().diagnostics.is_empty());
}

/// The hardened repository on GitHub Enterprise Server 3.17: no immutable-releases endpoint
/// (404 even for an admin), no `sha_pinning_required` field.
fn ghes_317() -> Api {
    let mut api = common::hardened();
    api.ok(
        "meta",
        json!({ "verifiable_password_authentication": true, "installed_version": "3.17.3" }),
    );
    api.status(
        &format!("{BASE}/immutable-releases"),
        404,
        None,
        json!({ "message": "Not Found", "documentation_url": "https://docs.github.com/enterprise-server@3.17/rest", "status": "404" }),
    );
    api.ok(
        &format!("{BASE}/actions/permissions"),
        json!({ "enabled": true, "allowed_actions": "selected" }),
    );
    api
}

#[test]
fn ghes_without_an_endpoint_or_field_is_unknown_not_available_never_a_finding() {
    let report = run(&ghes_317());
    assert_eq!(
        state(&report, "settings-immutable-releases"),
        State::Unknown
    );
    assert_eq!(state(&report, "settings-actions"), State::Unknown);
    assert_eq!(report.counts().failed, 0, "{:?}", report.notes());
    let notes = report.notes().join("\n");
    assert!(
        notes.contains("immutable-releases: not available on this server"),
        "{notes}"
    );
    assert!(
        notes.contains("sha_pinning_required: not available on this server"),
        "{notes}"
    );

    // The same answers from github.com: a 404 to an admin means "not enabled", a finding.
    let mut cloud = ghes_317();
    cloud.0.remove("meta");
    let report = run(&cloud);
    assert_eq!(state(&report, "settings-immutable-releases"), State::Fail);
}

#[test]
fn can_admins_bypass_absent_is_unknown_and_environment_names_ignore_case() {
    let mut api = common::hardened();
    let envs = api.body_mut(&format!("{BASE}/environments"));
    envs["environments"][0]["name"] = json!("Release");
    envs["environments"][0]
        .as_object_mut()
        .unwrap()
        .remove("can_admins_bypass");
    // GitHub answers the environment's own paths under either spelling.
    for leaf in ["deployment-branch-policies", "secrets"] {
        let (status, perm, body) = api.0[&format!("{BASE}/environments/release/{leaf}")].clone();
        api.status(
            &format!("{BASE}/environments/Release/{leaf}"),
            status,
            perm.as_deref(),
            body,
        );
    }
    let report = run(&api);
    assert_eq!(
        state(&report, "settings-release-environment"),
        State::Unknown,
        "{:?}",
        report.notes()
    );
    assert!(
        report
            .findings()
            .all(|f| !f.message.contains("no release environment")),
        "`Release` is the release environment"
    );
    assert!(
        report
            .notes()
            .join("\n")
            .contains("can_admins_bypass not readable"),
        "{:?}",
        report.notes()
    );
}

#[test]
fn live_answers_of_the_wrong_shape_and_ghes_gaps_are_unknown_too() {
    let mut api = ghes_317();
    // Not the documented `{total_count, secrets}` envelope.
    api.ok(
        &format!("{BASE}/actions/secrets"),
        json!("{\"total_count\": 1, \"secr"),
    );
    let server = common::serve(api);
    let src = ciguard_settings::live::LiveSource::new(ciguard_github::Client::new(
        ciguard_github::ClientConfig::from_flags(
            Some(&server.url),
            Some("test-token"),
            None,
            true,
            false,
        ),
    ));
    let targets = vec![ciguard_settings::Target::parse("octo-org/hello-world").unwrap()];
    let report = audit(&src, &Options::default(), &targets, &mut |_, _, _| {});
    for check in [
        "settings-secrets",
        "settings-immutable-releases",
        "settings-actions",
    ] {
        assert_eq!(state(&report, check), State::Unknown, "{check}");
    }
    assert_eq!(report.counts().failed, 0, "{:?}", report.notes());
    assert!(
        server
            .gets()
            .iter()
            .any(|p| p.split('?').next() == Some("meta"))
    );
}

#[test]
fn the_project_fake_in_ghes_mode_makes_immutable_releases_not_available() {
    use ciguard_test_support::git::GitRepo;
    use ciguard_test_support::github::FakeGitHub;
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let repo = GitRepo::init(&dir.path().join("r")).unwrap();
    repo.commit("README.md", "hi\n", "one", "2024-01-01T00:00:00Z")
        .unwrap();
    server.add_repo("octo-org/hello-world", &repo);
    let run = || {
        let src = ciguard_settings::live::LiveSource::new(ciguard_github::Client::new(
            ciguard_github::ClientConfig::from_flags(
                Some(&server.url()),
                Some("test-token"),
                None,
                true,
                false,
            ),
        ));
        let targets = vec![ciguard_settings::Target::parse("octo-org/hello-world").unwrap()];
        audit(&src, &Options::default(), &targets, &mut |_, _, _| {})
    };
    let immutable = |report: &SettingsReport| {
        report
            .results
            .iter()
            .find(|r| r.check == "settings-immutable-releases")
            .map(|r| {
                r.outcome
                    .unknowns
                    .iter()
                    .map(|u| u.describe())
                    .collect::<Vec<_>>()
            })
            .unwrap()
    };
    // github.com: the 404 is a permission question (the token is not known to be an admin).
    let cloud = immutable(&run());
    assert!(
        cloud
            .iter()
            .all(|u| !u.contains("not available on this server")),
        "{cloud:?}"
    );
    server.set_enterprise(Some("3.18.2"));
    let ghes = immutable(&run());
    assert!(
        ghes.iter()
            .any(|u| u.contains("immutable-releases: not available on this server")),
        "{ghes:?}"
    );
}
