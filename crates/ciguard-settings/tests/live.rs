//! The settings audit against a fake GitHub on 127.0.0.1.

use ciguard_test_support::settings_api as common;

use ciguard_github::{Client, ClientConfig};
use ciguard_settings::live::{LiveSource, apply};
use ciguard_settings::recommend::{plan, recommend};
use ciguard_settings::{
    DirSource, Options, Recorder, SettingsReport, Target, audit, checks, snapshot_targets,
};

fn live(url: &str) -> LiveSource {
    LiveSource::new(Client::new(ClientConfig::from_flags(
        Some(url),
        Some("test-token"),
        None,
        true,
        false,
    )))
}

fn target() -> Vec<Target> {
    vec![Target::parse("octo-org/hello-world").unwrap()]
}

fn findings(r: &SettingsReport) -> Vec<String> {
    r.findings()
        .map(|f| format!("{} {}: {}", f.audit_id(), f.primary.path(), f.message))
        .collect()
}

#[test]
fn live_audit_matches_the_snapshot_and_export_reproduces_it() {
    for (api, expect) in [
        (common::defaults(), (0, 9, 0)),
        (common::hardened(), (9, 0, 0)),
        (common::metadata_only(), (0, 0, 9)),
    ] {
        let server = common::serve(api.clone());
        let src = live(&server.url);
        let recorder = Recorder::new(&src);
        let report = audit(&recorder, &Options::default(), &target(), &mut |_, _, _| {});
        let c = report.counts();
        assert_eq!(
            (c.passed, c.failed, c.unknown),
            expect,
            "{:#?}",
            report.notes()
        );

        let dir = tempfile::tempdir().unwrap();
        recorder.write(dir.path()).unwrap();
        let again = audit(
            &DirSource::new(dir.path()),
            &Options::default(),
            &snapshot_targets(dir.path()).unwrap(),
            &mut |_, _, _| {},
        );
        assert_eq!(findings(&again), findings(&report));
        assert_eq!(again.notes(), report.notes());
        if expect.2 > 0 {
            assert!(
                report
                    .notes()
                    .iter()
                    .any(|n| n.contains("needs administration=read")),
                "{:#?}",
                report.notes()
            );
        }
    }
}

#[test]
fn organization_mode_lists_repositories_through_the_api() {
    let mut api = common::defaults();
    api.ok(
        "orgs/octo-org/repos",
        serde_json::json!([{ "id": 1296269, "name": "hello-world", "archived": false }]),
    );
    let server = common::serve(api);
    let report = audit(
        &live(&server.url),
        &Options::default(),
        &[Target::parse("org:octo-org").unwrap()],
        &mut |_, _, _| {},
    );
    assert_eq!(report.counts().failed, checks::all().len());
    assert!(
        server
            .gets()
            .iter()
            .any(|p| p.starts_with("orgs/octo-org/repos?per_page=100"))
    );
}

#[test]
fn apply_writes_the_plan_in_order() {
    let server = common::serve(common::defaults());
    let src = live(&server.url);
    let rec = recommend(
        &Options::default(),
        "release",
        "main",
        &[("Team".into(), 7)],
    );
    let changes = plan(&src, &rec, "octo-org", "hello-world");
    assert_eq!(changes.len(), 10);
    assert_eq!(apply(src.client(), &changes).ok(), Some(10));
    let writes = server.writes();
    let got: Vec<_> = writes.iter().map(|(m, p, _)| format!("{m} {p}")).collect();
    let want: Vec<_> = changes
        .iter()
        .map(|c| format!("{} {}", c.method, c.path))
        .collect();
    assert_eq!(got, want);
    assert_eq!(writes[0].2["name"], "default branch");
    assert_eq!(writes[3].2["can_admins_bypass"], false);
    assert_eq!(writes[3].2["reviewers"][0]["id"], 7);
}
