//! Settings drift against the fake GitHub App and a real store: issues opened, left alone,
//! updated, closed and reopened; the ping interval and quiet days; 410; a malformed
//! organization configuration; two replicas racing (SQLite here, PostgreSQL with
//! CIGUARD_TEST_POSTGRES_URL); request counts per sweep, cold and with ETags warm.

mod common;

use std::sync::Arc;
use std::time::Duration;

use ciguard_serve::app::{App, AppKey, AppSettings};
use ciguard_serve::drift::{DriftSweep, DriftTarget, SweepSettings};
use ciguard_serve::job::JobRunner;
use ciguard_serve::job::{Job, JobPayload, Outcome};
use ciguard_serve::secret::DbUrl;
use ciguard_serve::store::{Store, StoreOptions};
use ciguard_serve::wiring::Runner;
use ciguard_test_support::github_app::{self as fake, FakeGitHubApp, Fault, IssueRecord, Repo};
use ciguard_test_support::settings_api;

const REPO: &str = "octo-org/hello-world";
const REPO_ID: u64 = 1_296_269;
const DOT_GITHUB: &str = "octo-org/.github";
const ENABLED: &str = "[drift]\nenabled = true\nping_days = 7\n";

struct World {
    dir: tempfile::TempDir,
    fake: FakeGitHubApp,
    dot_github: Repo,
    repo: Repo,
    store: Store,
}

async fn world_on(db: Option<DbUrl>, org_config: &str) -> World {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGitHubApp::start().unwrap();
    let repo = Repo::init(&dir.path().join("repo")).unwrap();
    repo.commit(&[("README.md", "hello\n")], "init").unwrap();
    let dot_github = Repo::init(&dir.path().join("dot-github")).unwrap();
    dot_github
        .commit(&[("ciguard-app.toml", org_config)], "config")
        .unwrap();
    fake.add_repo(REPO, REPO_ID, 1, &repo);
    fake.add_repo(DOT_GITHUB, 500, 1, &dot_github);
    fake.set_settings(&settings_api::defaults());
    let db = db
        .unwrap_or_else(|| DbUrl::new(format!("sqlite:{}", dir.path().join("serve.db").display())));
    let store = Store::open(&db, &StoreOptions::default()).await.unwrap();
    World {
        dir,
        fake,
        dot_github,
        repo,
        store,
    }
}

async fn world(org_config: &str) -> World {
    world_on(None, org_config).await
}

impl World {
    fn app(&self) -> App<Store> {
        self.app_with(self.store.clone())
    }

    fn app_with(&self, store: Store) -> App<Store> {
        let key = AppKey::load(&fake::app_private_key_pkcs1(), fake::APP_ID).unwrap();
        App::new(
            key,
            store,
            AppSettings {
                api_url: self.fake.url(),
                write_interval: Duration::ZERO,
                ..AppSettings::default()
            },
        )
    }

    fn issues(&self) -> Vec<IssueRecord> {
        let mut issues = self.fake.issues();
        issues.sort_by_key(|i| (i.repo.clone(), i.number));
        issues
    }

    /// Requests since the log was cleared: (all, writes, settings reads answered 304).
    fn counts(&self) -> (usize, usize, usize) {
        let log = self.fake.log();
        let writes = log
            .iter()
            .filter(|l| l.method != "GET" && !l.target.starts_with("/app/"))
            .count();
        let not_modified = log.iter().filter(|l| l.status == 304).count();
        (log.len(), writes, not_modified)
    }
}

fn job(target: DriftTarget) -> Job {
    Job {
        id: 1,
        installation_id: 1,
        payload: JobPayload::Drift(target),
        attempt: 1,
        delivery_id: "d-drift".into(),
    }
}

async fn run(app: &App<Store>) -> String {
    let target = DriftTarget::repo(REPO, REPO_ID);
    match app.drift(&job(target.clone()), &target).await {
        Outcome::Done { summary } => summary,
        other => panic!("drift job did not finish: {other:?}"),
    }
}

/// Through the runner the workers call (the queue's dispatch of a drift job).
async fn run_queued(app: Arc<App<Store>>) -> Outcome {
    Runner::App(app)
        .run(&job(DriftTarget::repo(REPO, REPO_ID)))
        .await
}

fn marker_of(issue: &IssueRecord) -> String {
    let first = issue.body.lines().next().unwrap_or_default();
    assert!(first.starts_with("<!-- ciguard-drift:"), "{}", issue.body);
    first.to_owned()
}

#[tokio::test]
async fn failing_checks_open_one_labelled_marked_issue_each_and_a_rerun_writes_nothing() {
    let w = world(ENABLED).await;
    let app = w.app();
    let summary = run(&app).await;
    let issues = w.issues();
    assert!(issues.len() >= 3, "{summary}: {issues:?}");
    let mut markers: Vec<String> = issues.iter().map(marker_of).collect();
    markers.sort();
    markers.dedup();
    assert_eq!(markers.len(), issues.len(), "one issue per check");
    for i in &issues {
        assert_eq!(i.repo, REPO);
        assert_eq!(i.labels, vec!["ciguard-drift".to_owned()]);
        assert_eq!(i.state, "open");
        assert!(i.title.starts_with("ciguard: settings-"), "{}", i.title);
    }
    assert!(
        summary.contains(&format!("{} created", issues.len())),
        "{summary}"
    );
    // The read token only reads; the issue token only writes issues.
    let tokens = w.fake.tokens();
    assert!(tokens.iter().all(|t| !t.permissions.contains_key("issues")
        || t.permissions.len() == 1 && t.permissions["issues"] == "write"));
    assert!(tokens.iter().any(|t| t.repository_ids == vec![REPO_ID]
        && t.permissions.get("administration").map(String::as_str) == Some("read")
        && t.permissions.values().all(|v| v == "read")));

    // The same result again: no write at all, and the settings reads revalidate (304).
    w.fake.clear_log();
    let summary = run(&app).await;
    let (all, writes, not_modified) = w.counts();
    assert_eq!(writes, 0, "{summary}: {:?}", w.fake.log());
    assert!(summary.ends_with("issues: unchanged"), "{summary}");
    assert!(
        not_modified > 0 && not_modified <= all,
        "{:?}",
        w.fake.log()
    );
    assert_eq!(w.issues(), issues);
}

#[tokio::test]
async fn changed_text_adds_one_comment_and_updates_the_body_then_compliance_closes_and_regression_reopens()
 {
    let w = world(ENABLED).await;
    let app = w.app();
    run(&app).await;
    let before = w.issues();

    // The repository secret is renamed: the secrets check's text changes, nothing else.
    let mut api = settings_api::defaults();
    api.ok(
        &format!("{}/actions/secrets", settings_api::BASE),
        serde_json::json!({ "total_count": 1, "secrets": [{ "name": "NPM_TOKEN", "created_at": "2024-01-10T14:59:22Z", "updated_at": "2024-01-10T14:59:22Z" }] }),
    );
    w.fake.set_settings(&api);
    let summary = run(&app).await;
    let after = w.issues();
    assert_eq!(after.len(), before.len(), "{summary}");
    let changed: Vec<(&IssueRecord, &IssueRecord)> =
        before.iter().zip(&after).filter(|(b, a)| b != a).collect();
    assert_eq!(changed.len(), 1, "{summary}: {changed:?}");
    let (b, a) = changed[0];
    assert_eq!(a.comments.len(), b.comments.len() + 1);
    assert_eq!(a.updates, b.updates + 1);
    assert!(
        a.body.contains("NPM\\_TOKEN is a repository secret"),
        "{}",
        a.body
    );
    assert!(!b.body.contains("NPM\\_TOKEN is a repository secret"));
    assert!(summary.contains("1 updated"), "{summary}");

    // Everything complies: each open issue gets a comment and is closed.
    w.fake.set_settings(&settings_api::hardened());
    let summary = run(&app).await;
    let closed = w.issues();
    assert!(
        closed.iter().all(|i| i.state == "closed"),
        "{summary}: {closed:?}"
    );
    for (a, c) in after.iter().zip(&closed) {
        assert_eq!(c.comments.len(), a.comments.len() + 1);
        assert!(c.comments.last().unwrap().contains("complies"));
    }
    assert!(
        summary.contains(&format!("{} closed", closed.len())),
        "{summary}"
    );
    // Passing again writes nothing.
    w.fake.clear_log();
    run(&app).await;
    assert_eq!(w.counts().1, 0);

    // A regression reopens the same issues (found by number and marker), with a comment.
    w.fake.set_settings(&settings_api::defaults());
    let summary = run(&app).await;
    let reopened = w.issues();
    assert_eq!(reopened.len(), closed.len(), "no new issue: {summary}");
    assert!(reopened.iter().all(|i| i.state == "open"));
    assert!(
        reopened
            .iter()
            .all(|i| i.comments.last().unwrap().contains("fails again"))
    );
    assert!(
        summary.contains(&format!("{} reopened", closed.len())),
        "{summary}"
    );
}

#[tokio::test]
async fn an_issue_without_its_marker_is_not_ours_and_a_new_one_is_opened() {
    let w = world(ENABLED).await;
    let app = w.app();
    run(&app).await;
    let first = w.issues();
    // Someone rewrites every issue's body (and the title stays): they are not found again.
    for i in &first {
        w.fake
            .edit_issue(REPO, i.number, |i| i.body = "rewritten".into());
    }
    w.fake.set_settings(&settings_api::hardened());
    run(&app).await;
    assert!(
        w.issues()
            .iter()
            .all(|i| i.state == "open" && i.comments.is_empty()),
        "an issue without the marker is never closed by drift"
    );
    let mut api = settings_api::defaults();
    api.ok(
        &format!("{}/actions/secrets", settings_api::BASE),
        serde_json::json!({ "total_count": 1, "secrets": [{ "name": "NPM_TOKEN", "created_at": "2024-01-10T14:59:22Z", "updated_at": "2024-01-10T14:59:22Z" }] }),
    );
    w.fake.set_settings(&api);
    run(&app).await;
    // The changed check's issue is not written into the rewritten one: a new issue.
    let second = w.issues();
    assert_eq!(second.len(), first.len() + 1, "{second:?}");
    let new = second.last().unwrap();
    assert!(
        new.body
            .starts_with("<!-- ciguard-drift:settings-secrets -->")
    );
    assert!(
        second[..first.len()]
            .iter()
            .all(|i| i.body == "rewritten" && i.comments.is_empty())
    );
}

#[tokio::test]
async fn the_ping_interval_and_quiet_days() {
    let w = world(ENABLED).await;
    let app = w.app();
    run(&app).await;
    let before = w.issues();
    // Eight days pass (the rows say so): one "still failing" comment per issue.
    for (subject, check, mut stored) in w.store.drift_issues().await.unwrap() {
        stored.written_at -= 8 * 86_400_000;
        w.store
            .drift_record(&subject, &check, &stored)
            .await
            .unwrap();
    }
    let summary = run(&app).await;
    let pinged = w.issues();
    for (b, p) in before.iter().zip(&pinged) {
        assert_eq!(p.comments.len(), b.comments.len() + 1, "{summary}");
        assert!(p.comments.last().unwrap().contains("still fails"));
        assert_eq!(p.body, b.body);
    }
    // Not again the same day.
    run(&app).await;
    assert_eq!(w.issues(), pinged);

    // Every day quiet: no ping however long ago.
    let quiet = "[drift]\nenabled = true\nping_days = 1\nquiet_days = [\"monday\", \"tuesday\", \"wednesday\", \"thursday\", \"friday\", \"saturday\", \"sunday\"]\n";
    w.dot_github
        .commit(&[("ciguard-app.toml", quiet)], "quiet")
        .unwrap();
    for (subject, check, mut stored) in w.store.drift_issues().await.unwrap() {
        stored.written_at -= 30 * 86_400_000;
        w.store
            .drift_record(&subject, &check, &stored)
            .await
            .unwrap();
    }
    run(&app).await;
    assert_eq!(w.issues(), pinged);
}

#[tokio::test]
async fn a_check_that_cannot_be_read_changes_nothing_and_counts_as_no_pass() {
    let w = world(ENABLED).await;
    let app = Arc::new(w.app());
    assert!(matches!(
        run_queued(Arc::clone(&app)).await,
        Outcome::Done { .. }
    ));
    let before = w.issues();
    // The App loses `administration`, `actions` and `secrets` reads (the answers say 403):
    // those checks are unknown, and their issues stay open without a word.
    w.fake.set_settings(&settings_api::metadata_only());
    w.fake.clear_log();
    let Outcome::Done { summary } = run_queued(Arc::clone(&app)).await else {
        panic!()
    };
    assert!(summary.contains("unknown"), "{summary}");
    assert!(!summary.contains(" 0 unknown"), "{summary}");
    assert_eq!(w.counts().1, 0, "no issue write: {:?}", w.fake.log());
    let after = w.issues();
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(a.state, "open", "{summary}: {a:?}");
        assert_eq!(a.comments.len(), b.comments.len());
    }
}

#[tokio::test]
async fn issues_disabled_is_a_recorded_skip_not_a_retry() {
    let w = world(ENABLED).await;
    w.fake.disable_issues(REPO);
    let app = w.app();
    let summary = run(&app).await;
    assert!(summary.contains("skipped (issues disabled)"), "{summary}");
    assert!(w.issues().is_empty());
    let rows = w.store.drift_issues().await.unwrap();
    assert!(!rows.is_empty() && rows.iter().all(|(_, _, s)| s.state == "disabled"));
    // The next run does not try again before the interval: no issue request at all.
    w.fake.clear_log();
    run(&app).await;
    assert!(
        !w.fake.log().iter().any(|l| l.target.contains("/issues")),
        "{:?}",
        w.fake.log()
    );
}

#[tokio::test]
async fn a_malformed_organization_configuration_is_reported_never_defaulted() {
    let w = world("[drift]\nenabled = true\nping_dayz = 3\n").await;
    let app = w.app();
    let summary = run(&app).await;
    assert!(summary.contains("malformed"), "{summary}");
    let issues = w.issues();
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].repo, DOT_GITHUB);
    assert!(
        issues[0].body.contains("ciguard-app-toml"),
        "{}",
        issues[0].body
    );
    assert!(issues[0].body.contains("ping\\_dayz"), "{}", issues[0].body);
    assert!(
        issues[0]
            .body
            .contains(".github/ciguard-app.toml:1: \\[drift\\]"),
        "names the file and line: {}",
        issues[0].body
    );
    // No setting was read with defaults.
    assert!(!w.fake.log().iter().any(|l| l.target.contains("/rulesets")));

    // Fixed: the report is closed, and the checks run.
    w.dot_github
        .commit(&[("ciguard-app.toml", ENABLED)], "fix")
        .unwrap();
    run(&app).await;
    let issues = w.issues();
    let report = issues.iter().find(|i| i.repo == DOT_GITHUB).unwrap();
    assert_eq!(report.state, "closed");
    assert!(issues.iter().any(|i| i.repo == REPO));
}

#[tokio::test]
async fn a_malformed_repository_configuration_is_reported_and_no_check_runs() {
    let w = world(ENABLED).await;
    w.repo
        .commit(&[("ciguard.toml", "[settings]\nmax_ownerz = 2\n")], "bad")
        .unwrap();
    let summary = run(&w.app()).await;
    let issues = w.issues();
    assert_eq!(issues.len(), 1, "{summary}: {issues:?}");
    assert!(issues[0].body.contains("ciguard-toml"));
    assert!(
        issues[0].body.contains("max\\_ownerz"),
        "{}",
        issues[0].body
    );
    assert!(!w.fake.log().iter().any(|l| l.target.contains("/rulesets")));
}

#[tokio::test]
async fn drift_is_off_unless_configured() {
    let w = world("[relay]\nenabled = true\n").await;
    let summary = run(&w.app()).await;
    assert!(summary.contains("off"), "{summary}");
    assert!(w.issues().is_empty());
    assert!(!w.fake.log().iter().any(|l| l.target.contains("/rulesets")));
}

#[tokio::test]
async fn a_central_repository_receives_the_issues_and_org_checks_run_once() {
    let central = "[drift]\nenabled = true\ncentral_repository = \"security\"\n";
    let w = world(central).await;
    let sec = Repo::init(&w.dir.path().join("security")).unwrap();
    sec.commit(&[("README.md", "s\n")], "init").unwrap();
    w.fake.add_repo("octo-org/security", 77, 1, &sec);
    let app = w.app();
    run(&app).await;
    let org = DriftTarget::org("octo-org");
    let summary = match app.drift(&job(org.clone()), &org).await {
        Outcome::Done { summary } => summary,
        other => panic!("{other:?}"),
    };
    let issues = w.issues();
    assert!(
        issues.iter().all(|i| i.repo == "octo-org/security"),
        "{issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.body.contains("on organization octo-org")),
        "{summary}: {issues:?}"
    );
    assert!(
        issues
            .iter()
            .any(|i| i.body.contains("on octo-org/hello-world"))
    );
    assert!(
        summary.contains("2 checks"),
        "the organization checks alone: {summary}"
    );
}

/// Two replicas run the same drift job at once on one store: one issue per check, and after
/// a change, one comment per changed issue.
async fn two_replicas_race(w: &World, other: Store) {
    let a = w.app();
    let b = w.app_with(other);
    // Slow issue creation widens the window in which both would find no stored issue.
    w.fake.add_fault(Fault::slow(
        "POST /repos/octo-org/hello-world/issues",
        Duration::from_millis(100),
    ));
    let (ra, rb) = tokio::join!(run(&a), run(&b));
    let issues = w.issues();
    let mut markers: Vec<String> = issues.iter().map(marker_of).collect();
    let total = markers.len();
    markers.sort();
    markers.dedup();
    assert_eq!(markers.len(), total, "{ra}\n{rb}\n{issues:?}");
    assert!(total >= 3);
    let mut api = settings_api::defaults();
    api.ok(
        &format!("{}/actions/secrets", settings_api::BASE),
        serde_json::json!({ "total_count": 1, "secrets": [{ "name": "NPM_TOKEN", "created_at": "2024-01-10T14:59:22Z", "updated_at": "2024-01-10T14:59:22Z" }] }),
    );
    w.fake.set_settings(&api);
    tokio::join!(run(&a), run(&b));
    let comments: usize = w.issues().iter().map(|i| i.comments.len()).sum();
    assert_eq!(comments, 1, "{:?}", w.issues());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_on_sqlite_give_one_issue_and_one_comment() {
    let w = world(ENABLED).await;
    let store = w.store.clone();
    two_replicas_race(&w, store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_racing_on_postgres_give_one_issue_and_one_comment() {
    let Some(url) = common::postgres_url("drift_race").await else {
        return;
    };
    let w = world_on(Some(url.clone()), ENABLED).await;
    // A second pool: the other replica's own connections.
    let other = Store::open(&url, &StoreOptions::default()).await.unwrap();
    two_replicas_race(&w, other).await;
}

#[tokio::test]
async fn the_sweep_queues_each_repository_once_per_interval_and_counts_requests() {
    let w = world(ENABLED).await;
    let app = Arc::new(w.app());
    let sweep = DriftSweep::new(Arc::clone(&app), w.store.clone(), SweepSettings::default());
    // A new leader's first tick starts the window: nothing queued for slots it did not see.
    let first = ciguard_serve::job::PeriodicTask::tick(&sweep)
        .await
        .unwrap();
    assert_eq!(first, "drift schedule starts now");
    assert!(w.store.list_jobs(None, 100).await.unwrap().is_empty());
    let day = 86_400_000;
    // A whole day's window queues every repository and the organization once…
    let queued = sweep.sweep(0, day).await.unwrap();
    assert_eq!(queued, 3, "hello-world, .github and the organization");
    // …and again over the same window nothing (the sweep's delivery ids are recorded).
    assert_eq!(sweep.sweep(0, day).await.unwrap(), 0);
    let jobs = w.store.list_jobs(None, 100).await.unwrap();
    let mut keys: Vec<String> = jobs.iter().map(|j| j.key.clone()).collect();
    keys.sort();
    assert_eq!(
        keys,
        vec!["drift-org:octo-org", "drift:1296269", "drift:500"]
    );

    // Requests per drift run of one repository: cold, then warm with ETags.
    w.fake.clear_log();
    run(&app).await;
    let cold = w.counts();
    w.fake.clear_log();
    run(&app).await;
    let warm = w.counts();
    // The next day the cached token has expired: GitHub's ETags are per token, so a new token's
    // reads all answer 200 (the fake models that), and the result still writes nothing.
    app.tokens.forget(1);
    w.fake.clear_log();
    run(&app).await;
    let next_day = w.counts();
    eprintln!(
        "drift requests per repository: cold {} ({} issue writes), warm within the token's hour {} \
         ({} answered 304 Not Modified, {} writes), next day with a new token {} ({} answered 304, {} writes)",
        cold.0, cold.1, warm.0, warm.2, warm.1, next_day.0, next_day.2, next_day.1
    );
    assert!(warm.2 > 0 && warm.1 == 0 && cold.2 == 0);
    assert_eq!((next_day.1, next_day.2), (0, 0), "{:?}", w.fake.log());
}

#[tokio::test]
async fn the_fake_refuses_issue_writes_and_settings_reads_outside_the_tokens_permissions() {
    use ciguard_serve::app::github::Method;
    use ciguard_serve::app::tokens::{
        drift_issue_permissions, drift_org_permissions, drift_read_permissions,
    };
    let w = world(ENABLED).await;
    let app = w.app();
    let read = app
        .tokens
        .token(&app.api, 1, &[REPO_ID], &drift_read_permissions())
        .await
        .unwrap();
    let write = app
        .tokens
        .token(&app.api, 1, &[REPO_ID], &drift_issue_permissions())
        .await
        .unwrap();
    let issue = br#"{"title": "t", "body": "b"}"#.to_vec();
    let status = |token, method, target: &'static str| {
        let app = &app;
        async move {
            app.api
                .call_raw(1, token, method, target)
                .await
                .unwrap()
                .status
        }
    };
    let issues = "/repos/octo-org/hello-world/issues";
    assert_eq!(
        status(&read, Method::Post(issue.clone()), issues).await,
        403
    );
    assert_eq!(status(&write, Method::Post(issue), issues).await, 201);
    let protection = "/repos/octo-org/hello-world/branches/main/protection";
    assert_eq!(status(&write, Method::Get, protection).await, 403);
    assert_eq!(
        status(&read, Method::Get, protection).await,
        404,
        "not protected"
    );
    let owners = "/orgs/octo-org/members?role=admin";
    assert_eq!(status(&read, Method::Get, owners).await, 403);
    let org = app
        .tokens
        .token_for_names(&app.api, 1, &[".github"], &drift_org_permissions())
        .await
        .unwrap();
    assert_eq!(status(&org, Method::Get, owners).await, 200);
    w.fake.disable_issues(REPO);
    assert_eq!(
        status(&write, Method::Get, "/repos/octo-org/hello-world/issues/1").await,
        410
    );
}

#[tokio::test]
async fn a_rate_limited_settings_read_defers_the_job_and_writes_nothing() {
    let w = world(ENABLED).await;
    w.fake.add_fault(
        Fault::primary_limit(
            "GET /repos/octo-org/hello-world/rulesets",
            Duration::from_secs(600),
            1,
        )
        .always(),
    );
    let app = w.app();
    let target = DriftTarget::repo(REPO, REPO_ID);
    let outcome = app.drift(&job(target.clone()), &target).await;
    let Outcome::Deferred { reason, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.contains("settings read"), "{reason}");
    assert!(w.issues().is_empty());
    // The shared budget says so: the next attempt sends nothing before the limit passes.
    w.fake.clear_log();
    let again = app.drift(&job(target.clone()), &target).await;
    assert!(matches!(again, Outcome::Deferred { .. }), "{again:?}");
    assert!(w.fake.log().is_empty(), "{:?}", w.fake.log());
}
