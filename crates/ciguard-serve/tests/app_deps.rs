//! The App's pull-request audit of dependency files: a changed lockfile is checked offline
//! against the repository's whole cooldown configuration, and a pull request that changes only
//! workflows reads no dependency file.

use ciguard_serve::job::JobRunner;

mod app_world;
use app_world::*;

const MUTABLE_LOCK: &str = r#"{
  "name": "web",
  "lockfileVersion": 3,
  "packages": {
    "": {"name": "web", "dependencies": {"left-pad": "github:someone/left-pad"}},
    "node_modules/left-pad": {
      "version": "1.3.0",
      "resolved": "git+ssh://git@github.com/someone/left-pad.git#main"
    }
  }
}
"#;

const NPM_COOLDOWN: &str = "version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n";

/// The audit ids (from the annotation titles) and paths of a check run's annotations, sorted.
fn annotated(w: &World, head: &str) -> Vec<(String, String)> {
    let runs = w.check_runs_on(head);
    assert_eq!(runs.len(), 1, "{runs:?}");
    assert_eq!(runs[0].status, "completed");
    let mut out: Vec<(String, String)> = runs[0]
        .annotations
        .iter()
        .map(|a| {
            let title = a["title"].as_str().unwrap_or_default();
            let id = title.split(' ').next().unwrap_or_default().to_owned();
            (id, a["path"].as_str().unwrap_or_default().to_owned())
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn a_changed_lockfile_is_audited_offline_against_the_whole_cooldown_configuration() {
    let w = world();
    let app = w.app(MemRates::default());

    // No cooldown anywhere: the lockfile is reported for its mutable source and as npm
    // dependencies without a cooldown.
    let bare = w.pull_from(
        &w.base_sha,
        30,
        "deps-30",
        &[("package-lock.json", MUTABLE_LOCK)],
    );
    let outcome = app.run(&pr_job(1, "octo/app", 101, 30, &bare, false)).await;
    assert!(is_done(&outcome), "{outcome:?}");
    assert_eq!(
        annotated(&w, &bare),
        [
            ("missing-cooldown-config".into(), "package-lock.json".into()),
            (
                "mutable-dependency-source".into(),
                "package-lock.json".into()
            ),
        ]
    );
    let run = w.check_run_on(&bare);
    let entry_line = MUTABLE_LOCK
        .lines()
        .position(|l| l.contains("\"node_modules/left-pad\""))
        .unwrap() as u64
        + 1;
    assert!(
        run.annotations.iter().any(|a| {
            a["title"]
                .as_str()
                .is_some_and(|t| t.starts_with("mutable-dependency-source"))
                && a["start_line"] == entry_line
        }),
        "{:?}",
        run.annotations
    );

    // main configures an npm cooldown in a file the next pull request does not touch: the App
    // reads it from the tree, so only the mutable source is left.
    let configured = w
        .base
        .commit(&[(".github/dependabot.yml", NPM_COOLDOWN)], "dependabot")
        .unwrap();
    let covered = w.pull_from(
        &configured,
        31,
        "deps-31",
        &[("package-lock.json", MUTABLE_LOCK)],
    );
    let outcome = app
        .run(&pr_job(1, "octo/app", 101, 31, &covered, false))
        .await;
    assert!(is_done(&outcome), "{outcome:?}");
    assert_eq!(
        annotated(&w, &covered),
        [(
            "mutable-dependency-source".into(),
            "package-lock.json".into()
        )]
    );

    // The repository's ciguard.toml applies as it does for `ciguard audit`.
    let quiet = w.pull_from(
        &configured,
        32,
        "deps-32",
        &[
            ("package-lock.json", MUTABLE_LOCK),
            (
                "ciguard.toml",
                "[audits.mutable-dependency-source]\ndisable = true\n",
            ),
        ],
    );
    let outcome = app
        .run(&pr_job(1, "octo/app", 101, 32, &quiet, false))
        .await;
    assert!(is_done(&outcome), "{outcome:?}");
    assert_eq!(annotated(&w, &quiet), Vec::<(String, String)>::new());
    // Everything went to the (fake) GitHub API: no registry was asked.
    assert!(
        w.fake
            .log()
            .iter()
            .all(|l| l.target.starts_with("/repos/") || l.target.starts_with("/app/")),
        "{:?}",
        w.fake.log()
    );
}

#[tokio::test]
async fn a_workflow_only_pull_request_reads_no_dependency_file() {
    let w = world();
    let configured = w
        .base
        .commit(&[(".github/dependabot.yml", NPM_COOLDOWN)], "dependabot")
        .unwrap();
    let head = w.pull_from(
        &configured,
        33,
        "deps-33",
        &[(".github/workflows/x.yml", &workflow_with(1))],
    );
    let app = w.app(MemRates::default());
    let outcome = app.run(&pr_job(1, "octo/app", 101, 33, &head, false)).await;
    assert!(is_done(&outcome), "{outcome:?}");
    assert_eq!(
        annotated(&w, &head),
        [("unpinned-uses".into(), ".github/workflows/x.yml".into())]
    );
    // Only the changed workflow's blob was read: not the unchanged Dependabot configuration.
    let blobs = w.blob_reads();
    assert_eq!(blobs, 1, "{:?}", w.fake.log());
}
