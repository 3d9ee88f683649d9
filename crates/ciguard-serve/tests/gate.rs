//! The release gate against the fake GitHub, on SQLite and on PostgreSQL: every condition
//! accepted and rejected, forged callback URLs (no token minted, no request to them), duplicate
//! deliveries, "already reviewed", the token's scope, and the hash-chained audit log (edited,
//! deleted and reordered rows are detected).

mod common;

use std::sync::Arc;
use std::time::Duration;

use ciguard_serve::app::{App, AppKey, AppSettings};
use ciguard_serve::gate::GateTarget;
use ciguard_serve::job::{Job, JobPayload, JobRunner, Outcome};
use ciguard_serve::secret::DbUrl;
use ciguard_serve::server::Roles;
use ciguard_serve::store::{Store, StoreOptions};
use ciguard_serve::wiring::Runner;
use ciguard_test_support::github_app::{self as fake, FakeGitHubApp, FakeRun, Repo};
use common::{config, deliver, eventually, guid, postgres_url, states};

const RELEASE: &str = ".github/workflows/release.yml";

const ORG_CONFIG: &str = r#"[release-gate]
enabled = true
workflow = ".github/workflows/release.yml"
tags = "v*"
exclude = ["off"]

# The library also releases from its default branch, only on workflow_dispatch, and only
# carol's approval of the gate counts.
[repositories.lib.release-gate]
default-branch = true
events = ["workflow_dispatch"]
approvers = ["carol"]
"#;

struct World {
    dir: tempfile::TempDir,
    fake: FakeGitHubApp,
    app_repo: Repo,
    org: Repo,
    /// The head of `octo/app`, tagged `v1.2.0` (annotated).
    head: String,
    /// An older commit, tagged `v0.1.0`.
    old: String,
    store: Store,
    db: DbUrl,
    runner: Runner,
    next_run: std::sync::atomic::AtomicU64,
}

async fn world(db: DbUrl) -> World {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGitHubApp::start().unwrap();
    let app_repo = Repo::init(&dir.path().join("app")).unwrap();
    let old = app_repo.commit(&[("README.md", "one")], "one").unwrap();
    app_repo.git(&["tag", "v0.1.0", &old]).unwrap();
    let head = app_repo
        .commit(&[(RELEASE, "on: push\n")], "release")
        .unwrap();
    app_repo
        .git(&["tag", "-a", "-m", "release 1.2.0", "v1.2.0", &head])
        .unwrap();
    fake.add_repo("octo/app", 101, 1, &app_repo);
    fake.add_repo("octo/lib", 103, 1, &app_repo);
    fake.add_repo("octo/off", 104, 1, &app_repo);
    let org = Repo::init(&dir.path().join("org")).unwrap();
    org.commit(&[("ciguard-app.toml", ORG_CONFIG)], "config")
        .unwrap();
    fake.add_repo("octo/.github", 102, 1, &org);
    let store = Store::open(
        &db,
        &StoreOptions {
            exclusive: false,
            ..StoreOptions::default()
        },
    )
    .await
    .unwrap();
    let key = AppKey::load(&fake::app_private_key_pkcs1(), fake::APP_ID).unwrap();
    let app = App::new(
        key,
        store.clone(),
        AppSettings {
            api_url: fake.url(),
            write_interval: Duration::ZERO,
            ..AppSettings::default()
        },
    );
    World {
        dir,
        fake,
        app_repo,
        org,
        head,
        old,
        store,
        db,
        runner: Runner::App(Arc::new(app)),
        next_run: std::sync::atomic::AtomicU64::new(1000),
    }
}

/// A run of the release workflow on tag v1.2.0 at the head, triggered by alice, whose
/// `release-gate` bob approved and whose `release` waits for the App.
struct Case {
    run: FakeRun,
    target: GateTarget,
    approvals: Vec<(&'static str, &'static str, u64, &'static str)>,
    pending: Vec<&'static str>,
}

impl World {
    fn case(&self) -> Case {
        let id = self
            .next_run
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Case {
            run: FakeRun {
                id,
                repo: "octo/app".into(),
                repository_id: 101,
                path: RELEASE.into(),
                head_sha: self.head.clone(),
                head_branch: "v1.2.0".into(),
                event: "push".into(),
                run_attempt: 1,
                triggering_actor: ("alice".into(), 1),
            },
            target: GateTarget {
                repository: "octo/app".into(),
                repository_id: 101,
                default_branch: "main".into(),
                run_id: id,
                environment: "release".into(),
                callback_url: format!(
                    "{}/repos/octo/app/actions/runs/{id}/deployment_protection_rule",
                    self.fake.url()
                ),
                deployment_id: id + 5000,
                sha: Some(self.head.clone()),
                git_ref: Some("v1.2.0".into()),
                event: Some("push".into()),
            },
            approvals: vec![("release-gate", "bob", 2, "approved")],
            pending: vec!["release"],
        }
    }

    fn install(&self, case: &Case) {
        self.fake.add_run(case.run.clone());
        for (env, login, id, state) in &case.approvals {
            self.fake.add_approval(case.run.id, env, login, *id, state);
        }
        for env in &case.pending {
            self.fake.add_pending(case.run.id, env);
        }
    }

    async fn run_job(&self, target: &GateTarget) -> Outcome {
        let job = Job {
            id: i64::try_from(target.run_id).unwrap(),
            installation_id: 1,
            payload: JobPayload::GateReview(target.clone()),
            attempt: 1,
            delivery_id: format!("delivery-{}", target.run_id),
        };
        self.runner.run(&job).await
    }

    /// Installs `case`, runs its job, and returns the outcome and the one review it sent.
    async fn review(&self, case: &Case) -> (Outcome, fake::ReviewRecord) {
        self.install(case);
        let outcome = self.run_job(&case.target).await;
        let reviews: Vec<_> = self
            .fake
            .reviews()
            .into_iter()
            .filter(|r| r.run_id == case.run.id)
            .collect();
        assert_eq!(reviews.len(), 1, "one review per run: {outcome:?}");
        (outcome, reviews[0].clone())
    }

    async fn expect_rejected(&self, case: &Case, condition: &str) {
        let (outcome, review) = self.review(case).await;
        assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
        assert_eq!(review.state, "rejected", "{}", review.comment);
        assert!(
            review
                .comment
                .starts_with("ciguard release gate: rejected: ")
                && review.comment.contains(&format!("{condition}: ")),
            "expected {condition} to fail: {}",
            review.comment
        );
    }

    async fn expect_approved(&self, case: &Case) {
        let (outcome, review) = self.review(case).await;
        assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
        assert_eq!(review.state, "approved", "{}", review.comment);
        assert_eq!(review.environment, case.target.environment);
    }

    fn review_posts(&self) -> usize {
        self.fake
            .log()
            .iter()
            .filter(|l| l.method == "POST" && l.target.ends_with("/deployment_protection_rule"))
            .count()
    }
}

macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let dir = tempfile::tempdir().unwrap();
                let db = DbUrl::new(format!("sqlite:{}", dir.path().join("gate.db").display()));
                super::$name(world(db).await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let Some(db) = postgres_url(concat!("gate_", stringify!($name))).await else {
                    return;
                };
                super::$name(world(db).await).await;
            }
        }
    )*};
}

on_both!(
    every_condition_accepted_and_rejected,
    forged_callback_urls_get_no_token_and_no_request,
    duplicate_deliveries_give_one_review,
    the_audit_log_chains_every_decision,
    signed_deliveries_through_the_server_give_one_review,
);

async fn every_condition_accepted_and_rejected(w: World) {
    // Accepted: every condition holds.
    let case = w.case();
    w.expect_approved(&case).await;
    // The token: this repository only, actions:read, contents:read, deployments:write.
    let token = w
        .fake
        .tokens()
        .into_iter()
        .find(|t| t.repository_ids == vec![101])
        .unwrap();
    let perms: Vec<(String, String)> = token.permissions.into_iter().collect();
    assert_eq!(
        perms,
        [
            ("actions", "read"),
            ("contents", "read"),
            ("deployments", "write")
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
    );

    // Another workflow file.
    let mut case = w.case();
    case.run.path = ".github/workflows/ci.yml".into();
    w.expect_rejected(&case, "workflow").await;

    // A branch, not a tag.
    let mut case = w.case();
    case.run.head_branch = "feature".into();
    case.target.git_ref = Some("feature".into());
    w.expect_rejected(&case, "ref").await;

    // A branch named like a release tag: no such tag exists.
    let mut case = w.case();
    case.run.head_branch = "v9.9.9".into();
    case.target.git_ref = Some("v9.9.9".into());
    w.expect_rejected(&case, "ref").await;

    // A matching tag that points at another commit than the run's head.
    let mut case = w.case();
    case.run.head_branch = "v0.1.0".into();
    case.target.git_ref = Some("v0.1.0".into());
    w.expect_rejected(&case, "ref").await;
    // ... and the run at that commit passes (a lightweight tag).
    let mut case = w.case();
    case.run.head_branch = "v0.1.0".into();
    case.run.head_sha = w.old.clone();
    case.target.git_ref = Some("v0.1.0".into());
    case.target.sha = Some(w.old.clone());
    w.expect_approved(&case).await;

    // The default branch is not a release ref unless configured.
    let mut case = w.case();
    case.run.head_branch = "main".into();
    case.target.git_ref = Some("main".into());
    w.expect_rejected(&case, "ref").await;

    // The deployment is for another commit than the run's head.
    let mut case = w.case();
    case.target.sha = Some(w.old.clone());
    w.expect_rejected(&case, "sha").await;

    // The delivery's event or ref disagree with the run's.
    let mut case = w.case();
    case.target.event = Some("workflow_dispatch".into());
    w.expect_rejected(&case, "delivery").await;

    // The gate approved only by the run's triggering actor.
    let mut case = w.case();
    case.approvals = vec![("release-gate", "alice", 1, "approved")];
    w.expect_rejected(&case, "gate-approval").await;
    let (_, review) = {
        let mut case = w.case();
        case.approvals = vec![("release-gate", "alice", 1, "approved")];
        w.review(&case).await
    };
    assert!(
        review
            .comment
            .contains("the triggering actor's own approval does not count"),
        "{}",
        review.comment
    );

    // Not approved at all, approved for another environment, or rejected by someone.
    let mut case = w.case();
    case.approvals.clear();
    w.expect_rejected(&case, "gate-approval").await;
    let mut case = w.case();
    case.approvals = vec![("staging", "bob", 2, "approved")];
    w.expect_rejected(&case, "gate-approval").await;
    let mut case = w.case();
    case.approvals.push(("release-gate", "dave", 4, "rejected"));
    w.expect_rejected(&case, "gate-approval").await;

    // Another environment than the configured release environment.
    let mut case = w.case();
    case.target.environment = "staging".into();
    case.pending = vec!["staging"];
    w.expect_rejected(&case, "environment").await;

    // The run cannot be read (GitHub refuses it): default reject, naming why.
    let case = w.case();
    w.fake.add_fault(fake::Fault::fail(
        &format!("GET /repos/octo/app/actions/runs/{}", case.run.id),
        404,
        1,
    ));
    w.expect_rejected(&case, "evidence").await;

    // A repository where the gate is off: default reject.
    let mut case = w.case();
    case.target.repository = "octo/off".into();
    case.target.repository_id = 104;
    case.target.callback_url = case.target.callback_url.replace("/octo/app/", "/octo/off/");
    case.run.repo = "octo/off".into();
    case.run.repository_id = 104;
    w.expect_rejected(&case, "configuration").await;

    // Extras, on octo/lib: the default branch allowed, but only on workflow_dispatch, and only
    // carol's approval counts.
    let lib = |w: &World| {
        let mut case = w.case();
        case.target.repository = "octo/lib".into();
        case.target.repository_id = 103;
        case.target.callback_url = case.target.callback_url.replace("/octo/app/", "/octo/lib/");
        case.run.repo = "octo/lib".into();
        case.run.repository_id = 103;
        case.run.head_branch = "main".into();
        case.target.git_ref = Some("main".into());
        case.run.event = "workflow_dispatch".into();
        case.target.event = Some("workflow_dispatch".into());
        case.approvals = vec![("release-gate", "carol", 3, "approved")];
        case
    };
    w.expect_approved(&lib(&w)).await;
    let mut case = lib(&w);
    case.run.event = "push".into();
    case.target.event = Some("push".into());
    w.expect_rejected(&case, "event").await;
    let mut case = lib(&w);
    case.approvals = vec![("release-gate", "bob", 2, "approved")];
    w.expect_rejected(&case, "gate-approval").await;

    // A malformed organization file is reported in the rejection, never replaced by defaults.
    w.org
        .commit(
            &[(
                "ciguard-app.toml",
                &ORG_CONFIG.replace("tags = \"v*\"", "tags = \"v*\"\ntag-pattern = 1"),
            )],
            "typo",
        )
        .unwrap();
    let case = w.case();
    w.expect_rejected(&case, "configuration").await;
    let (_, review) = {
        let case = w.case();
        w.review(&case).await
    };
    assert!(
        review.comment.contains("ciguard-app.toml:") && review.comment.contains("tag-pattern"),
        "{}",
        review.comment
    );
    let _ = (&w.app_repo, &w.dir);
}

async fn forged_callback_urls_get_no_token_and_no_request(w: World) {
    let elsewhere = ciguard_test_support::http::Listener::bind()
        .unwrap()
        .serve(Default::default(), |_| {
            ciguard_test_support::http::Reply::empty(204)
        });
    let base = w.fake.url();
    let forged = [
        // Another host.
        format!(
            "{}/repos/octo/app/actions/runs/RUN/deployment_protection_rule",
            elsewhere.url()
        ),
        // The API host, another repository.
        format!("{base}/repos/octo/lib/actions/runs/RUN/deployment_protection_rule"),
        // Another run.
        format!("{base}/repos/octo/app/actions/runs/1/deployment_protection_rule"),
        // Another endpoint.
        format!("{base}/repos/octo/app/deployments/RUN/statuses"),
        // Dot segments, user information.
        format!("{base}/repos/octo/app/actions/runs/RUN/../1/deployment_protection_rule"),
        base.replace("http://", "http://x@")
            + "/repos/octo/app/actions/runs/RUN/deployment_protection_rule",
    ];
    w.fake.clear_log();
    let minted = w.fake.tokens().len();
    let refused_before = refused_rows(&w.store).await;
    for url in &forged {
        let mut case = w.case();
        case.target.callback_url = url.replace("RUN", &case.run.id.to_string());
        w.install(&case);
        let outcome = w.run_job(&case.target).await;
        let Outcome::Dead { reason } = outcome else {
            panic!("{url}: {outcome:?}")
        };
        assert!(reason.contains("no request was sent"), "{reason}");
    }
    assert_eq!(elsewhere.request_count(), 0, "the forged host was called");
    assert!(w.fake.log().is_empty(), "{:?}", w.fake.log());
    assert_eq!(w.fake.tokens().len(), minted, "a token was minted");
    assert!(w.fake.reviews().is_empty());
    assert_eq!(
        refused_rows(&w.store).await,
        refused_before + forged.len(),
        "every refusal is in the audit log"
    );
}

async fn refused_rows(store: &Store) -> usize {
    store
        .gate_audit_rows()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.kind == "refused")
        .count()
}

async fn duplicate_deliveries_give_one_review(w: World) {
    let case = w.case();
    w.expect_approved(&case).await;
    let posts = w.review_posts();
    // A redelivery of the same (run, environment, deployment): no second review, no request.
    w.fake.clear_log();
    let again = w.run_job(&case.target).await;
    assert!(
        matches!(&again, Outcome::Done { summary } if summary.contains("already reviewed")),
        "{again:?}"
    );
    assert!(w.fake.log().is_empty(), "{:?}", w.fake.log());
    assert_eq!(w.fake.reviews().len(), 1);
    assert_eq!(posts, 1);

    // GitHub already took a review (an attempt that died after the call): 422 counts as done.
    let mut case = w.case();
    case.pending.clear();
    w.install(&case);
    let outcome = w.run_job(&case.target).await;
    assert!(
        matches!(&outcome, Outcome::Done { summary } if summary.contains("(already reviewed)")),
        "{outcome:?}"
    );
    let rows = w.store.gate_audit_rows().await.unwrap();
    let last = rows.last().unwrap();
    assert_eq!(last.kind, "outcome");
    assert!(last.record.contains("\"status\":422"), "{}", last.record);

    // A review that failed transiently is retried, and the retry sends one review.
    let case = w.case();
    w.fake.add_fault(fake::Fault::fail(
        &format!(
            "POST /repos/octo/app/actions/runs/{}/deployment_protection_rule",
            case.run.id
        ),
        502,
        1,
    ));
    w.install(&case);
    let first = w.run_job(&case.target).await;
    assert!(matches!(first, Outcome::Retry { .. }), "{first:?}");
    let second = w.run_job(&case.target).await;
    assert!(matches!(second, Outcome::Done { .. }), "{second:?}");
    let reviews: Vec<_> = w
        .fake
        .reviews()
        .into_iter()
        .filter(|r| r.run_id == case.run.id)
        .collect();
    assert_eq!(reviews.len(), 1);
    // A re-run attempt is a new deployment: it gets its own review.
    let mut rerun = w.case();
    rerun.run.id = case.run.id;
    rerun.run.run_attempt = 2;
    rerun.target = case.target.clone();
    rerun.target.deployment_id += 1;
    w.install(&rerun);
    let outcome = w.run_job(&rerun.target).await;
    assert!(matches!(outcome, Outcome::Done { .. }), "{outcome:?}");
    assert_eq!(
        w.fake
            .reviews()
            .iter()
            .filter(|r| r.run_id == case.run.id)
            .count(),
        2
    );
}

async fn the_audit_log_chains_every_decision(w: World) {
    let case = w.case();
    w.fake.clear_log();
    w.expect_approved(&case).await;
    // Requests of one decision, cold: two token mints (the organization file's, the gate's),
    // the file, the run, its approvals, the tag ref and the annotated tag, the review, the
    // pending deployments.
    let cold: Vec<String> = w
        .fake
        .log()
        .iter()
        .map(|l| format!("{} {}", l.method, l.target))
        .collect();
    eprintln!(
        "requests of one gate decision (cold): {}\n  {}",
        cold.len(),
        cold.join("\n  ")
    );
    assert_eq!(cold.len(), 9, "{cold:#?}");
    let rows = w.store.gate_audit_rows().await.unwrap();
    assert_eq!(rows.len(), 2);
    let (intent, outcome) = (&rows[0], &rows[1]);
    eprintln!("audit-log rows of one gate decision:");
    for r in &rows {
        eprintln!(
            "  seq={} kind={} repo={} run={} env={} prev={}… hash={}…\n    record={}",
            r.seq,
            r.kind,
            r.repository,
            r.run_id,
            r.environment,
            &r.prev_hash[..12],
            &r.hash[..12],
            r.record
        );
    }
    assert_eq!(intent.kind, "intent");
    assert_eq!(outcome.kind, "outcome");
    assert_eq!(intent.prev_hash, ciguard_serve::gate::audit_log::GENESIS);
    assert_eq!(outcome.prev_hash, intent.hash);
    let record: serde_json::Value = serde_json::from_str(&intent.record).unwrap();
    assert_eq!(record["run"]["head_sha"], w.head.as_str());
    assert_eq!(record["run"]["triggering_actor"]["login"], "alice");
    assert_eq!(record["approvals"][0]["login"], "bob");
    assert_eq!(record["tag_commit"], w.head.as_str());
    assert_eq!(record["decision"], "approved");
    assert!(
        outcome.record.contains("\"still_pending\":false"),
        "{}",
        outcome.record
    );
    for token in w.fake.tokens() {
        assert!(rows.iter().all(|r| !r.record.contains(&token.token)));
    }
    for _ in 0..2 {
        let case = w.case();
        w.fake.clear_log();
        w.expect_approved(&case).await;
        // Warm: both tokens come from the cache.
        assert_eq!(w.fake.log().len(), 7, "{:#?}", w.fake.log());
    }
    let intact = w.store.verify_gate_audit_log().await.unwrap();
    assert_eq!((intact.rows, intact.broken), (6, None));

    // Tampering, through another connection to the database.
    sqlx::any::install_default_drivers();
    let raw = w.db.expose();
    let url = match raw.strip_prefix("sqlite:") {
        Some(path) => format!("sqlite://{path}"),
        None => raw.to_owned(),
    };
    let mut conn = <sqlx::AnyConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let conn = tokio::sync::Mutex::new(&mut conn);
    let exec = async |sql: &str| {
        use sqlx::Executor;
        let mut conn = conn.lock().await;
        (&mut **conn)
            .execute(sqlx::AssertSqlSafe(sql.to_owned()))
            .await
            .unwrap();
    };
    let broken = async || w.store.verify_gate_audit_log().await.unwrap().broken;

    exec("UPDATE gate_audit_log SET record = REPLACE(record, 'bob', 'mallory') WHERE seq = 3")
        .await;
    let why = broken().await.unwrap();
    assert!(why.contains("row 3") && why.contains("edited"), "{why}");
    exec("UPDATE gate_audit_log SET record = REPLACE(record, 'mallory', 'bob') WHERE seq = 3")
        .await;
    assert_eq!(broken().await, None);

    // Reordered: rows 3 and 4 swap places.
    exec("UPDATE gate_audit_log SET seq = 1000 WHERE seq = 3").await;
    exec("UPDATE gate_audit_log SET seq = 3 WHERE seq = 4").await;
    exec("UPDATE gate_audit_log SET seq = 4 WHERE seq = 1000").await;
    let why = broken().await.unwrap();
    assert!(
        why.contains("row 3") && why.contains("does not follow"),
        "{why}"
    );
    exec("UPDATE gate_audit_log SET seq = 1000 WHERE seq = 4").await;
    exec("UPDATE gate_audit_log SET seq = 4 WHERE seq = 3").await;
    exec("UPDATE gate_audit_log SET seq = 3 WHERE seq = 1000").await;
    assert_eq!(broken().await, None);

    // Deleted.
    exec("DELETE FROM gate_audit_log WHERE seq = 4").await;
    let why = broken().await.unwrap();
    assert!(
        why.contains("row 5") && why.contains("does not follow"),
        "{why}"
    );
}

async fn signed_deliveries_through_the_server_give_one_review(w: World) {
    let case = w.case();
    w.install(&case);
    let Runner::App(app) = &w.runner else {
        panic!("the App runner")
    };
    let running = ciguard_serve::server::start(
        w.store.clone(),
        config(Roles::parse("all").unwrap()),
        Runner::App(Arc::clone(app)),
        Vec::new(),
    )
    .await
    .unwrap();
    let t = &case.target;
    let body = serde_json::json!({
        "action": "requested", "environment": t.environment, "event": "push",
        "ref": "v1.2.0", "sha": w.head,
        "deployment_callback_url": t.callback_url,
        "deployment": {"id": t.deployment_id, "sha": w.head, "ref": "v1.2.0"},
        "repository": {"id": 101, "full_name": "octo/app", "default_branch": "main"},
        "installation": {"id": 1},
        "sender": {"login": "alice", "id": 1},
    })
    .to_string();
    // The same delivery twice, then a second delivery of the same request.
    for n in [1, 1, 2] {
        let reply = deliver(
            running.addr,
            "deployment_protection_rule",
            &guid(n),
            body.as_bytes(),
        )
        .await;
        assert!(reply.status < 300, "{reply:?}");
    }
    eventually(Duration::from_secs(20), "the jobs finish", async || {
        let s = states(&w.store).await;
        !s.contains_key("queued") && !s.contains_key("running") && !w.fake.reviews().is_empty()
    })
    .await;
    running.stop().await;
    let reviews = w.fake.reviews();
    assert_eq!(reviews.len(), 1, "{reviews:?}");
    assert_eq!(reviews[0].state, "approved", "{}", reviews[0].comment);
    assert_eq!(w.review_posts(), 1);
}
