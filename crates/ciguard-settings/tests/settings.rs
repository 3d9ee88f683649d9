//! The settings checks on snapshot directories written from realistic GitHub answers.

use ciguard_test_support::settings_api as common;

use ciguard_core::Location;
use ciguard_settings::recommend::{as_snapshot, recommend};
use ciguard_settings::{
    DirSource, Options, Recorder, SettingsReport, Source, State, Target, audit, checks,
    snapshot_targets,
};
use common::{Api, BASE, OWNER, REPO};
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
    let mut states = report
        .results
        .iter()
        .filter(|r| r.check == check)
        .map(|r| r.outcome.state());
    let s = states
        .next()
        .unwrap_or_else(|| panic!("{check} did not run"));
    assert!(states.next().is_none(), "{check} ran twice");
    s
}

fn messages(report: &SettingsReport, check: &str) -> Vec<String> {
    report
        .findings()
        .filter(|f| f.audit_id() == check)
        .map(|f| f.message.clone())
        .collect()
}

#[test]
fn hardened_repository_passes_everything() {
    let report = run(&common::hardened());
    let findings: Vec<_> = report
        .findings()
        .map(|f| format!("{}: {}", f.audit_id(), f.message))
        .collect();
    assert!(findings.is_empty(), "{findings:#?}");
    let c = report.counts();
    assert_eq!(
        (c.passed, c.failed, c.unknown),
        (checks::all().len(), 0, 0),
        "{:#?}",
        report.notes()
    );
}

#[test]
fn repository_at_defaults_fails_every_check() {
    let report = run(&common::defaults());
    for check in checks::all() {
        assert_eq!(
            state(&report, check.meta().id),
            State::Fail,
            "{}",
            check.meta().id
        );
    }
    let c = report.counts();
    assert_eq!((c.passed, c.failed, c.unknown), (0, checks::all().len(), 0));
    assert_eq!(
        messages(&report, "settings-default-branch"),
        [
            "default branch \"main\" allows force pushes, deletion and changes without an approved pull request"
        ]
    );
    assert_eq!(messages(&report, "settings-secrets").len(), 1);
    assert_eq!(messages(&report, "settings-actions").len(), 4);
    let f = report
        .findings()
        .find(|f| f.audit_id() == "settings-actions")
        .unwrap();
    match &f.primary {
        Location::Setting { subject, url, .. } => {
            assert_eq!(
                subject,
                "octo-org/hello-world: actions → default_workflow_permissions"
            );
            assert_eq!(
                url.as_deref(),
                Some("https://github.com/octo-org/hello-world/settings/actions")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn token_without_admin_rights_gives_unknowns_never_passes() {
    let report = run(&common::metadata_only());
    let c = report.counts();
    assert_eq!(c.passed, 0, "{:#?}", report.notes());
    assert_eq!(
        c.failed,
        0,
        "{:#?}",
        report.findings().map(|f| &f.message).collect::<Vec<_>>()
    );
    assert_eq!(c.unknown, checks::all().len());
    let notes = report.notes().join("\n");
    assert!(notes.contains("repos/octo-org/hello-world/actions/permissions/workflow not readable (HTTP 403); needs administration=read"), "{notes}");
    assert!(
        notes.contains("ruleset \"main\" → bypass_actors not readable"),
        "{notes}"
    );
    assert!(
        notes.contains("settings checks: 0 of 9 could run (9 unknown)"),
        "{notes}"
    );
    for r in &report.results {
        for u in &r.outcome.unknowns {
            assert!(u.permission.is_some(), "{u:?}");
        }
    }
}

#[test]
fn organization_rulesets_inherited_through_includes_parents_count() {
    let mut api = common::hardened();
    let mut rulesets = common::hardened_rulesets();
    let org_rs = &mut rulesets[0];
    org_rs["id"] = json!(9001);
    org_rs["name"] = json!("org default branches");
    org_rs["source_type"] = json!("Organization");
    org_rs["source"] = json!(OWNER);
    org_rs["conditions"] = json!({ "ref_name": { "include": ["~DEFAULT_BRANCH"], "exclude": [] },
                                   "repository_name": { "include": ["~ALL"], "exclude": [], "protected": true } });
    common::set_rulesets(&mut api, &rulesets);
    let report = run(&api);
    assert_eq!(
        state(&report, "settings-default-branch"),
        State::Pass,
        "{:#?}",
        report.notes()
    );
    assert_eq!(report.counts().failed, 0);

    // An organization admin bypass on it is reported with the organization's settings page.
    rulesets[0]["bypass_actors"] =
        json!([{ "actor_id": 1, "actor_type": "OrganizationAdmin", "bypass_mode": "always" }]);
    common::set_rulesets(&mut api, &rulesets);
    let report = run(&api);
    let f: Vec<_> = report.findings().collect();
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(
        f[0].message,
        "organization admins can bypass ruleset \"org default branches\" (`always` mode)"
    );
    match &f[0].primary {
        Location::Setting { subject, url, .. } => {
            assert_eq!(
                subject,
                "octo-org/hello-world: ruleset \"org default branches\" → bypass_actors[0]"
            );
            assert_eq!(
                url.as_deref(),
                Some("https://github.com/organizations/octo-org/settings/rules/9001")
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn ruleset_in_evaluate_mode_does_not_protect() {
    let mut api = common::hardened();
    let mut rulesets = common::hardened_rulesets();
    rulesets[0]["enforcement"] = json!("evaluate");
    common::set_rulesets(&mut api, &rulesets);
    let report = run(&api);
    assert_eq!(
        messages(&report, "settings-default-branch"),
        [
            "default branch \"main\" allows force pushes, deletion and changes without an approved pull request (ruleset \"main\" is in `evaluate` mode and enforces nothing)"
        ]
    );
    assert_eq!(
        messages(&report, "settings-bypass"),
        ["repository admins can push anything to default branch \"main\": nothing protects it"]
    );
    assert_eq!(report.counts().failed, 2);
}

#[test]
fn tag_ruleset_without_required_deployments_fails() {
    let mut api = common::hardened();
    let mut rulesets = common::hardened_rulesets();
    rulesets[2]["rules"] = json!([{ "type": "deletion" }, { "type": "update" }]);
    common::set_rulesets(&mut api, &rulesets);
    let report = run(&api);
    assert_eq!(
        messages(&report, "settings-release-tags"),
        ["release tags \"v*\" allow creation without a deployment to the release environment"]
    );
    assert_eq!(report.counts().failed, 1);

    rulesets[2]["rules"] = json!([{ "type": "deletion" }, { "type": "update" },
        { "type": "required_deployments", "parameters": { "required_deployment_environments": ["staging"] } }]);
    common::set_rulesets(&mut api, &rulesets);
    let report = run(&api);
    assert_eq!(
        messages(&report, "settings-release-tags"),
        [
            "release tags \"v*\" allow creation without a deployment to the release environment (required_deployments does not name environment \"release\")"
        ]
    );
}

#[test]
fn admin_role_and_exempt_bypass_are_flagged() {
    let mut api = common::hardened();
    let mut rulesets = common::hardened_rulesets();
    rulesets[0]["bypass_actors"] = json!([
        { "actor_id": 5, "actor_type": "RepositoryRole", "bypass_mode": "always" },
        { "actor_id": 287, "actor_type": "Integration", "bypass_mode": "exempt" }
    ]);
    common::set_rulesets(&mut api, &rulesets);
    let report = run(&api);
    let f: Vec<_> = report
        .findings()
        .map(|f| (f.primary.path().to_owned(), f.message.clone()))
        .collect();
    assert_eq!(
        f,
        [
            (
                "octo-org/hello-world: ruleset \"main\" → bypass_actors[0]".to_owned(),
                "repository admins can bypass ruleset \"main\" (`always` mode)".to_owned()
            ),
            (
                "octo-org/hello-world: ruleset \"main\" → bypass_actors[1]".to_owned(),
                "Integration 287 can bypass ruleset \"main\" silently (`exempt` mode)".to_owned()
            ),
        ]
    );
}

#[test]
fn classic_protection_counts_only_with_enforce_admins() {
    let mut api = common::hardened();
    let mut rulesets = common::hardened_rulesets();
    rulesets.remove(0);
    common::set_rulesets(&mut api, &rulesets);
    let protection = json!({
        "url": format!("https://api.github.com/{BASE}/branches/main/protection"),
        "required_pull_request_reviews": { "dismiss_stale_reviews": true, "require_code_owner_reviews": false, "required_approving_review_count": 1 },
        "enforce_admins": { "url": "", "enabled": true },
        "allow_force_pushes": { "enabled": false }, "allow_deletions": { "enabled": false }
    });
    api.ok(
        &format!("{BASE}/branches/main/protection"),
        protection.clone(),
    );
    let report = run(&api);
    assert_eq!(
        report.counts().failed,
        0,
        "{:#?}",
        report.findings().map(|f| &f.message).collect::<Vec<_>>()
    );

    let mut weak = protection;
    weak["enforce_admins"]["enabled"] = json!(false);
    api.ok(&format!("{BASE}/branches/main/protection"), weak);
    let report = run(&api);
    assert_eq!(state(&report, "settings-default-branch"), State::Fail);
    assert_eq!(
        messages(&report, "settings-bypass"),
        [
            "repository admins can push anything to default branch \"main\": branch protection does not include administrators"
        ]
    );
}

#[test]
fn recommendation_round_trips_to_no_findings() {
    let options = Options::default();
    let rec = recommend(&options, "release", "main", &[("Team".into(), 7)]);
    let src = as_snapshot(&rec, "octocat", "widget", "main");
    let report = audit(
        &src,
        &options,
        &[Target::parse("octocat/widget").unwrap()],
        &mut |_, _, _| {},
    );
    assert!(
        report.findings().next().is_none(),
        "{:#?}",
        report.findings().map(|f| &f.message).collect::<Vec<_>>()
    );
    let c = report.counts();
    assert_eq!((c.failed, c.unknown), (0, 0), "{:#?}", report.notes());
    assert_eq!(
        c.passed,
        checks::all().len() - 1,
        "every repository check passes"
    );

    // The same through an exported snapshot directory.
    let recorder = Recorder::new(&src);
    let _ = audit(
        &recorder,
        &options,
        &[Target::parse("octocat/widget").unwrap()],
        &mut |_, _, _| {},
    );
    let dir = tempfile::tempdir().unwrap();
    assert!(recorder.write(dir.path()).unwrap() > 10);
    let again = run_dir(dir.path());
    assert_eq!(again.counts(), report.counts());
    // Rulesets in the import format: no ids, every one active with no bypass.
    for rs in rec["rulesets"].as_array().unwrap() {
        assert!(rs.get("id").is_none());
        assert_eq!(rs["enforcement"], "active");
        assert_eq!(rs["bypass_actors"], json!([]));
    }
}

#[test]
fn export_writes_exactly_what_was_read() {
    let dir = tempfile::tempdir().unwrap();
    common::metadata_only().write(dir.path());
    let src = DirSource::new(dir.path());
    let recorder = Recorder::new(&src);
    let _ = audit(
        &recorder,
        &Options::default(),
        &[Target::parse("octo-org/hello-world").unwrap()],
        &mut |_, _, _| {},
    );
    let out = tempfile::tempdir().unwrap();
    recorder.write(out.path()).unwrap();
    for path in [
        BASE.to_owned(),
        format!("{BASE}/rulesets/42"),
        format!("{BASE}/actions/permissions/workflow"),
    ] {
        let a = src.get(&path).unwrap();
        let b = DirSource::new(out.path()).get(&path).unwrap();
        assert_eq!(a, b, "{path}");
    }
    let status =
        std::fs::read_to_string(out.path().join(format!("{BASE}/immutable-releases.status")))
            .unwrap();
    assert_eq!(
        status,
        "403\nx-accepted-github-permissions: administration=read\n"
    );
}

#[test]
fn missing_and_corrupt_snapshot_files_are_unknown_not_errors() {
    let dir = tempfile::tempdir().unwrap();
    let mut api = common::hardened();
    api.0.remove(&format!("{BASE}/immutable-releases"));
    api.write(dir.path());
    std::fs::write(
        dir.path()
            .join(format!("{BASE}/actions/permissions/workflow.status")),
        "garbage",
    )
    .unwrap();
    let report = run_dir(dir.path());
    assert_eq!(
        state(&report, "settings-immutable-releases"),
        State::Unknown
    );
    assert_eq!(state(&report, "settings-actions"), State::Unknown);
    assert_eq!(report.counts().failed, 0);
    let _ = REPO;
}

#[test]
fn organization_snapshot_audits_every_repository_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut api = common::defaults();
    api.ok(&format!("orgs/{OWNER}/repos"), json!([{ "id": 1296269, "name": REPO, "full_name": format!("{OWNER}/{REPO}"), "archived": false },
                                                  { "id": 2, "name": "old", "full_name": format!("{OWNER}/old"), "archived": true }]));
    api.write(dir.path());
    let mut seen = Vec::new();
    let report = audit(
        &DirSource::new(dir.path()),
        &Options::default(),
        &[Target::parse("org:octo-org").unwrap()],
        &mut |i, n, r| seen.push((i, n, r.to_owned())),
    );
    assert_eq!(seen, [(0, 1, REPO.to_owned()), (1, 1, String::new())]);
    assert_eq!(
        report
            .results
            .iter()
            .filter(|r| r.check == "settings-organization")
            .count(),
        1
    );
    assert_eq!(report.counts().failed, checks::all().len());
}

#[test]
fn every_check_is_documented() {
    for check in checks::all() {
        let meta = check.meta();
        for heading in ["What it does", "Why is this bad?", "Example", "Fix"] {
            assert!(meta.section(heading).is_some(), "{}: no {heading}", meta.id);
        }
        let example = meta.section("Example").unwrap();
        assert!(example.contains("Use instead:"), "{}", meta.id);
        assert!(meta.id.starts_with("settings-"));
    }
}

#[test]
fn plan_lists_only_what_differs() {
    use ciguard_settings::recommend::plan;
    let options = Options::default();
    let rec = recommend(&options, "release", "main", &[("Team".into(), 7)]);
    // Applied already: nothing to do.
    let src = as_snapshot(&rec, "octocat", "widget", "main");
    assert_eq!(plan(&src, &rec, "octocat", "widget"), []);
    // At defaults: every ruleset, the environment, its policies and the settings are written.
    let dir = tempfile::tempdir().unwrap();
    common::defaults().write(dir.path());
    let changes = plan(&DirSource::new(dir.path()), &rec, OWNER, REPO);
    let summary: Vec<_> = changes
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(
        summary,
        [
            format!("POST {BASE}/rulesets"),
            format!("POST {BASE}/rulesets"),
            format!("POST {BASE}/rulesets"),
            format!("PUT {BASE}/environments/release"),
            format!("POST {BASE}/environments/release/deployment-branch-policies"),
            format!("POST {BASE}/environments/release/deployment-branch-policies"),
            format!("PUT {BASE}/actions/permissions"),
            format!("PUT {BASE}/actions/permissions/selected-actions"),
            format!("PUT {BASE}/actions/permissions/workflow"),
            format!("PUT {BASE}/immutable-releases"),
        ]
    );
    let workflow = &changes[8].diff;
    assert!(
        workflow.contains("-  \"default_workflow_permissions\": \"write\""),
        "{workflow}"
    );
    assert!(
        workflow.contains("+  \"default_workflow_permissions\": \"read\""),
        "{workflow}"
    );
}

/// Writes the fixtures to $CIGUARD_SETTINGS_FIXTURES_OUT for manual runs (no-op otherwise).
#[test]
fn write_fixtures_for_manual_runs() {
    if let Some(dir) = std::env::var_os("CIGUARD_SETTINGS_FIXTURES_OUT") {
        let dir = std::path::PathBuf::from(dir);
        common::hardened().write(&dir.join("hardened"));
        common::defaults().write(&dir.join("defaults"));
        common::metadata_only().write(&dir.join("metadata-only"));
    }
}

#[test]
fn junk_answers_never_panic_nor_pass_what_they_replace() {
    let hardened = common::hardened();
    for path in hardened.0.keys() {
        for junk in [
            json!(null),
            json!([]),
            json!({}),
            json!("x"),
            json!(1),
            json!([{ "id": "x" }]),
            json!({ "environments": [{ "name": 3 }] }),
        ] {
            let mut api = hardened.clone();
            api.ok(path, junk.clone());
            let report = run(&api);
            let c = report.counts();
            // Without the repository's own answer its owner is unknown, so the organization is not read.
            let expected = if path == BASE {
                checks::all().len() - 1
            } else {
                checks::all().len()
            };
            assert_eq!(c.passed + c.failed + c.unknown, expected, "{path} = {junk}");
            if path == BASE {
                assert_eq!(c.unknown, expected, "{path} = {junk}");
            }
        }
    }
    // A snapshot of nothing: every check is unknown.
    let dir = tempfile::tempdir().unwrap();
    let report = audit(
        &DirSource::new(dir.path()),
        &Options::default(),
        &[Target::parse("a/b").unwrap()],
        &mut |_, _, _| {},
    );
    assert_eq!(report.counts().unknown, checks::all().len() - 1);
}
