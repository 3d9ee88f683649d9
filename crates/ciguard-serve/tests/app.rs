//! The App side of `ciguard serve` against the fake GitHub App: JWTs, token scope, check runs
//! and their limits, superseded heads, faults, shared rate limits, the missed-delivery
//! reconciler, request counts and log redaction.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ciguard_serve::app::checks::MAX_SUMMARY;
use ciguard_serve::app::github::{Http, Method};
use ciguard_serve::app::secret::Secret;
use ciguard_serve::app::{App, AppKey, AppSettings, ReconcileSettings, Reconciler};
use ciguard_serve::job::{
    Job, JobPayload, JobRunner, Outcome, PeriodicTask, PushTarget, RateLimitStore,
};
use ciguard_test_support::github_app::{self as fake, Fault, Repo};

mod app_world;
use app_world::*;

#[test]
fn the_fake_verifies_the_app_jwt_and_rejects_expired_and_forged_ones() {
    let w = world();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = Http::new(&w.fake.url());
    let mint = |jwt: &Secret| {
        let body = br#"{"repository_ids":[101],"permissions":{"contents":"read"}}"#.to_vec();
        rt.block_on(http.send(
            Method::Post(body),
            "/app/installations/1/access_tokens",
            jwt,
        ))
        .unwrap()
    };
    let now = SystemTime::now();
    for path in [fake::app_private_key_pkcs1(), fake::app_private_key_pkcs8()] {
        let key = AppKey::load(&path, fake::APP_ID).unwrap();
        let jwt = key.jwt(now).unwrap();
        assert_eq!(mint(&jwt).status, 201, "{}", path.display());
        // iat back-dated 60 s, exp 10 minutes after iat.
        use base64::Engine as _;
        let claims = jwt.expose().split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(claims)
                .unwrap(),
        )
        .unwrap();
        let unix = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        assert_eq!(claims["iat"].as_u64(), Some(unix - 60));
        assert_eq!(claims["exp"].as_u64(), Some(unix + 540));
    }
    let key = AppKey::load(&fake::app_private_key_pkcs1(), fake::APP_ID).unwrap();
    let expired = mint(&key.jwt(now - Duration::from_secs(20 * 60)).unwrap());
    assert_eq!(expired.status, 401);
    assert!(String::from_utf8_lossy(&expired.body).contains("'exp'"));
    let forger = AppKey::load(&fake::forger_private_key(), fake::APP_ID).unwrap();
    let forged = mint(&forger.jwt(now).unwrap());
    assert_eq!(forged.status, 401);
    let other_app = AppKey::load(&fake::app_private_key_pkcs1(), 7).unwrap();
    assert_eq!(mint(&other_app.jwt(now).unwrap()).status, 401);
    assert_eq!(
        w.fake.tokens().len(),
        2,
        "only the two valid JWTs minted tokens"
    );
}

#[tokio::test]
async fn pr_audit_sends_120_annotations_as_one_create_and_3_updates_and_counts_requests() {
    let w = world();
    // 130 other files put the action on the second page of the pull request's files.
    let mut files: Vec<(String, String)> = (0..130)
        .map(|i| (format!("a{i:03}.txt"), "x".into()))
        .collect();
    files.push((".github/workflows/many.yml".into(), workflow_with(120)));
    files.push(("sub/action.yml".into(), "name: a\ndescription: a\nruns:\n  using: composite\n  steps:\n    - uses: actions/setup-node@v4\n".into()));
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, c)| (p.as_str(), c.as_str()))
        .collect();
    let head = w.pull(1, "many", &refs);
    let head2 = w.pull(2, "clean", &[(".github/workflows/ci.yml", CLEAN)]);
    let app = w.app(MemRates::default());

    let cold = app.run(&pr_job(1, "octo/app", 101, 1, &head, false)).await;
    assert!(is_done(&cold), "{cold:?}");
    let cold_requests = w.fake.log().len();
    let runs = w.fake.check_runs();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(
        (run.creates, run.updates),
        (1, 3),
        "one create, then 50 + 50 + 20"
    );
    assert_eq!(run.head_sha, head);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    // 120 from the workflow, 1 from the action on page 2 of the files.
    assert_eq!(run.annotations.len(), 121);
    assert!(
        run.annotations
            .iter()
            .any(|a| a["path"] == "sub/action.yml" && a["start_line"] == 6)
    );
    let lines: HashSet<u64> = run
        .annotations
        .iter()
        .filter(|a| a["path"] == ".github/workflows/many.yml")
        .filter_map(|a| a["start_line"].as_u64())
        .collect();
    assert_eq!(
        lines,
        (0..120).map(|i| 7 + 3 * i).collect::<HashSet<u64>>(),
        "exact lines"
    );
    assert!(
        !w.fake.log().iter().any(|l| l.target.contains("/contents/")),
        "no checkout-like reads"
    );

    w.fake.clear_log();
    let warm = app.run(&pr_job(1, "octo/app", 101, 2, &head2, false)).await;
    assert!(is_done(&warm), "{warm:?}");
    let warm_requests = w.fake.log().len();
    assert_eq!(
        app.tokens.minted(),
        1,
        "the second job reuses the cached token"
    );
    let clean = w.check_run_on(&head2);
    assert_eq!(clean.conclusion.as_deref(), Some("success"));
    assert_eq!(clean.title, "no findings");
    eprintln!(
        "requests per PR audit: cold {cold_requests} (121 findings, 2 pages of files, 2 blobs), warm {warm_requests} (clean, 1 blob)"
    );
    // Cold: token, PR, check-run lookup, create, 2 pages of files, tree, 2 blobs, 3 updates.
    assert_eq!(cold_requests, 12);
    // Warm: no token, PR, lookup, create, 1 page of files, tree, 1 blob, 1 update.
    assert_eq!(warm_requests, 7);

    // The same job again: the existing check run is found and updated, never a second one.
    let again = app.run(&pr_job(1, "octo/app", 101, 2, &head2, false)).await;
    assert!(is_done(&again));
    let on_head2 = w.check_runs_on(&head2);
    assert_eq!(on_head2.len(), 1);
    assert_eq!(on_head2[0].creates, 1);

    // A re-run of the annotated commit: GitHub would append the annotations a second time, so
    // one update sends the summary and conclusion only.
    let rerun = app.run(&pr_job(1, "octo/app", 101, 1, &head, false)).await;
    assert!(is_done(&rerun), "{rerun:?}");
    let run = w.check_run_on(&head);
    assert_eq!(
        (run.creates, run.updates, run.annotations.len()),
        (1, 4, 121)
    );
    assert!(
        run.summary.contains("first audit of this commit"),
        "{}",
        run.summary
    );
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
}

#[tokio::test]
async fn a_fork_pull_request_is_read_with_a_token_for_the_base_repository_only() {
    let w = world();
    let dir = tempfile::tempdir().unwrap();
    let fork = w.base.fork(&dir.path().join("fork")).unwrap();
    fork.git(&["checkout", "-q", "-b", "evil"]).unwrap();
    fork.commit(&[(".github/workflows/x.yml", &workflow_with(2))], "fork")
        .unwrap();
    let head = w
        .fake
        .add_pull("octo/app", 7, &fork, "evil", &w.base_sha)
        .unwrap();
    // Another repository of the same installation, which the job's token must not reach.
    let other = Repo::init(&dir.path().join("other")).unwrap();
    other.commit(&[("README", "x")], "x").unwrap();
    w.fake.add_repo("octo/other", 102, 1, &other);
    let app = w.app(MemRates::default());

    let outcome = app.run(&pr_job(1, "octo/app", 101, 7, &head, true)).await;
    assert!(is_done(&outcome), "{outcome:?}");
    let tokens = w.fake.tokens();
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].repository_ids, [101]);
    let perms: Vec<(&str, &str)> = tokens[0]
        .permissions
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        perms,
        [
            ("checks", "write"),
            ("contents", "read"),
            ("pull_requests", "read")
        ]
    );
    assert!(
        w.fake
            .log()
            .iter()
            .all(|l| !l.target.contains("octo/other"))
    );
    let run = &w.fake.check_runs()[0];
    assert_eq!(
        (run.head_sha.as_str(), run.annotations.len()),
        (head.as_str(), 2)
    );

    // The fake refuses that token outside its repository, and a write it was not given.
    let http = Http::new(&w.fake.url());
    let token = Secret::new(tokens[0].token.clone());
    let outside = http
        .send(Method::Get, "/repos/octo/other/git/trees/HEAD", &token)
        .await
        .unwrap();
    assert_eq!(outside.status, 403);
    assert!(
        String::from_utf8_lossy(&outside.body).contains("Resource not accessible by integration")
    );
}

#[tokio::test]
async fn check_run_text_is_escaped_and_within_githubs_limits() {
    let w = world();
    let hostile = "on: pull_request_target\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    permissions: {}\n    steps:\n      - run: echo \"${{ github.event.pull_request.title }}\"\n";
    let mut big = workflow_with(2_000);
    big.push_str("# <script>alert(1)</script> @octocat\n");
    let head = w.pull(
        3,
        "hostile",
        &[
            (
                ".github/workflows/<img src=x onerror=alert(1)>@octocat [x](https:evil).yml",
                hostile,
            ),
            (".github/workflows/big.yml", &big),
        ],
    );
    let app = w.app(MemRates::default());
    let outcome = app.run(&pr_job(1, "octo/app", 101, 3, &head, false)).await;
    // The fake answers 422 to a summary, title or annotation batch beyond GitHub's limits,
    // which would make the job dead.
    assert!(is_done(&outcome), "{outcome:?}");
    let run = &w.fake.check_runs()[0];
    assert!(run.summary.chars().count() <= MAX_SUMMARY);
    assert!(run.title.chars().count() <= 255);
    assert!(
        run.summary.contains("not listed"),
        "the overflow is counted"
    );
    assert!(
        run.summary
            .contains("&lt;img src=x onerror=alert\\(1\\)&gt;"),
        "{}",
        &run.summary[..2000.min(run.summary.len())]
    );
    for raw in ["<img", "<script", "@octocat", "](https:", "@v1"] {
        assert!(!run.summary.contains(raw), "{raw} in the summary");
    }
    // Annotations keep the exact path (GitHub places them by it), but no live mention.
    assert!(
        run.annotations
            .iter()
            .any(|a| a["path"].as_str().unwrap().contains("<img src=x"))
    );
    assert!(
        run.annotations
            .iter()
            .all(|a| !a["message"].as_str().unwrap().contains("@octocat"))
    );
}

#[tokio::test]
async fn a_moved_head_completes_neutral_superseded() {
    let w = world();
    let old = w.pull(
        4,
        "moving",
        &[(".github/workflows/ci.yml", &workflow_with(3))],
    );
    let newer = w.base.commit(&[("new.txt", "x")], "newer").unwrap();
    w.fake.set_pull_head("octo/app", 4, &newer);
    let app = w.app(MemRates::default());
    let outcome = app.run(&pr_job(1, "octo/app", 101, 4, &old, false)).await;
    assert!(
        matches!(&outcome, Outcome::Done { summary } if summary.contains("superseded")),
        "{outcome:?}"
    );
    let runs = w.fake.check_runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].head_sha, old);
    assert_eq!(runs[0].conclusion.as_deref(), Some("neutral"));
    assert_eq!(runs[0].title, "superseded");
    assert!(runs[0].annotations.is_empty());
    assert!(
        !w.fake.log().iter().any(|l| l.target.contains("/git/")),
        "nothing audited"
    );
}

#[tokio::test]
async fn bad_gateway_twice_then_success_is_retry_retry_done_and_persistent_500_retries() {
    let w = world();
    let head = w.pull(5, "flaky", &[(".github/workflows/ci.yml", CLEAN)]);
    w.fake
        .add_fault(Fault::fail("GET /repos/octo/app/pulls/5", 502, 2));
    let app = w.app(MemRates::default());
    let job = pr_job(1, "octo/app", 101, 5, &head, false);
    for _ in 0..2 {
        let o = app.run(&job).await;
        assert!(
            matches!(&o, Outcome::Retry { reason } if reason.contains("502")),
            "{o:?}"
        );
    }
    assert!(is_done(&app.run(&job).await));

    w.fake
        .add_fault(Fault::fail("GET /repos/octo/app/pulls/5", 500, 0).always());
    for _ in 0..3 {
        let o = app.run(&job).await;
        assert!(
            matches!(&o, Outcome::Retry { reason } if reason.contains("500")),
            "{o:?}"
        );
    }
}

#[tokio::test]
async fn a_rejected_request_is_dead_with_the_reason() {
    let w = world();
    let app = w.app(MemRates::default());
    let head = "0".repeat(40);
    let o = app
        .run(&pr_job(1, "octo/app", 101, 404, &head, false))
        .await;
    assert!(
        matches!(&o, Outcome::Dead { reason } if reason.contains("404")),
        "{o:?}"
    );
    let o = app.run(&pr_job(1, "octo/../x", 101, 1, &head, false)).await;
    assert!(
        matches!(&o, Outcome::Dead { reason } if reason.contains("not a repository")),
        "{o:?}"
    );
}

#[tokio::test]
async fn a_secondary_limit_defers_that_installation_without_calls_while_another_proceeds() {
    let w = world();
    let head = w.pull(6, "limited", &[(".github/workflows/ci.yml", CLEAN)]);
    let dir = tempfile::tempdir().unwrap();
    let other = Repo::init(&dir.path().join("b")).unwrap();
    let other_base = other.commit(&[("README", "x")], "base").unwrap();
    other.git(&["checkout", "-q", "-b", "pr"]).unwrap();
    other
        .commit(&[(".github/workflows/ci.yml", CLEAN)], "pr")
        .unwrap();
    w.fake.add_repo("acme/lib", 201, 2, &other);
    let other_head = w
        .fake
        .add_pull("acme/lib", 1, &other, "pr", &other_base)
        .unwrap();
    w.fake
        .add_fault(Fault::secondary_limit("GET /repos/octo/app/pulls/6", 60, 1));
    let rates = MemRates::default();
    let app = w.app(rates.clone());
    let job = pr_job(1, "octo/app", 101, 6, &head, false);

    let before = SystemTime::now();
    let o = app.run(&job).await;
    let Outcome::Deferred { until, reason } = &o else {
        panic!("{o:?}")
    };
    assert!(reason.contains("secondary rate limit"), "{reason}");
    let wait = until.duration_since(before).unwrap();
    assert!(
        (Duration::from_secs(59)..=Duration::from_secs(61)).contains(&wait),
        "{wait:?}"
    );

    w.fake.clear_log();
    let sent = app.api.sent();
    for _ in 0..3 {
        assert!(matches!(app.run(&job).await, Outcome::Deferred { .. }));
    }
    assert_eq!(
        app.api.sent(),
        sent,
        "no request for the limited installation"
    );
    assert!(w.fake.log().is_empty());

    let o = app
        .run(&pr_job(2, "acme/lib", 201, 1, &other_head, false))
        .await;
    assert!(is_done(&o), "{o:?}");
    assert!(w.fake.log().iter().all(|l| l.installation == Some(2)));
    assert!(rates.blocked_until(2).await.is_none());
}

#[tokio::test]
async fn more_than_3000_changed_files_audits_the_whole_head_tree() {
    let w = world();
    let head = w.pull(8, "huge", &[("x.txt", "x")]);
    w.fake.set_changed_files("octo/app", 8, 3_001);
    let app = w.app(MemRates::default());
    let o = app.run(&pr_job(1, "octo/app", 101, 8, &head, false)).await;
    assert!(is_done(&o), "{o:?}");
    assert!(!w.fake.log().iter().any(|l| l.target.contains("/files")));
    let run = &w.fake.check_runs()[0];
    assert!(
        run.summary.contains("more than 3000 files"),
        "{}",
        run.summary
    );
    assert!(run.summary.contains("audited 1 file"), "{}", run.summary);
}

#[tokio::test]
async fn push_audit_reads_the_whole_tree_at_after_and_honours_ciguard_toml() {
    let w = world();
    let after = w
        .base
        .commit(
            &[
                (".github/workflows/a.yml", &workflow_with(2)),
                (
                    "ciguard.toml",
                    "[audits.unpinned-uses]\nseverity = \"low\"\n",
                ),
                ("docs/readme.md", "@someone"),
            ],
            "push",
        )
        .unwrap();
    let app = w.app(MemRates::default());
    let job = Job {
        id: 1,
        installation_id: 1,
        payload: JobPayload::PushAudit(PushTarget {
            repository: "octo/app".into(),
            repository_id: 101,
            after: after.clone(),
            git_ref: "refs/heads/main".into(),
        }),
        attempt: 1,
        delivery_id: "d".into(),
    };
    let o = app.run(&job).await;
    assert!(is_done(&o), "{o:?}");
    let run = &w.fake.check_runs()[0];
    assert_eq!(run.head_sha, after);
    // Two files audited (a.yml and ok.yml); the configuration lowered the severity.
    assert!(run.summary.contains("audited 2 files"), "{}", run.summary);
    assert_eq!(run.conclusion.as_deref(), Some("success"));
    assert!(
        run.annotations
            .iter()
            .all(|a| a["annotation_level"] == "notice")
    );
    assert!(!w.fake.log().iter().any(|l| l.target.contains("readme")));

    // A configuration that does not parse fails the check; it is never replaced by defaults.
    let broken = w
        .base
        .commit(&[("ciguard.toml", "[audits")], "broken")
        .unwrap();
    let mut job = job;
    if let JobPayload::PushAudit(t) = &mut job.payload {
        t.after = broken.clone();
    }
    assert!(is_done(&app.run(&job).await));
    let run = w.check_run_on(&broken);
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.title, "ciguard.toml does not parse");
}

#[tokio::test]
async fn the_reconciler_asks_for_exactly_the_missing_deliveries() {
    let w = world();
    let minute = Duration::from_secs(60);
    // Delivered fine: GitHub's `status=failure` leaves them out.
    for i in 0..50 {
        w.fake
            .add_delivery(1000 + i, &format!("ok-{i}"), minute, 200);
    }
    // 120 that failed (GitHub gave up waiting) although the store recorded them: the ones to
    // reconcile are on the second page.
    let mut stored: HashSet<String> = (0..120).map(|i| format!("slow-{i}")).collect();
    for i in 0..120 {
        w.fake
            .add_delivery(2000 + i, &format!("slow-{i}"), minute, 504);
    }
    w.fake.add_delivery(1, "lost", minute * 5, 503); // failed, not in the store: redeliver
    w.fake.add_delivery(2, "stored", minute * 5, 504); // failed answer, but recorded: leave
    w.fake.add_delivery(3, "retried", minute * 6, 502); // failed, then redelivered and stored
    w.fake.add_delivery(4, "retried", minute * 4, 202);
    w.fake.add_delivery(5, "twice", minute * 9, 500); // failed twice: redeliver the latest
    w.fake.add_delivery(6, "twice", minute * 8, 500);
    w.fake
        .add_delivery(7, "ancient", Duration::from_secs(7 * 3600), 500); // outside the window
    stored.extend(["stored".to_owned(), "retried".to_owned()]);
    // As on GitHub Enterprise Server, under `/api/v3`: the `Link` cursors stay under it.
    let app = Arc::new(w.app_at(MemRates::default(), &format!("{}/api/v3", w.fake.url())));
    let index = MemDeliveries(Arc::new(stored));
    let reconciler = Reconciler::new(Arc::clone(&app), index, ReconcileSettings::default());
    let summary = reconciler.tick().await.unwrap();
    let mut asked = w.fake.redeliveries();
    asked.sort_unstable();
    assert_eq!(asked, [1, 6], "{summary}");
    assert!(summary.contains("2 asked"), "{summary}");
    let pages = w
        .fake
        .log()
        .iter()
        .filter(|l| l.target.starts_with("/api/v3/app/hook/deliveries?"))
        .filter(|l| l.target.contains("status=failure"))
        .count();
    assert_eq!(
        pages, 2,
        "cursor pagination of the failed deliveries followed"
    );
}

#[tokio::test]
async fn the_fake_refuses_check_runs_beyond_githubs_limits() {
    let w = world();
    let app = w.app(MemRates::default());
    let token = app
        .tokens
        .token(
            &app.api,
            1,
            &[101],
            &ciguard_serve::app::tokens::audit_permissions(),
        )
        .await
        .unwrap();
    let http = Http::new(&w.fake.url());
    let annotation = serde_json::json!({"path": "a.yml", "start_line": 1, "end_line": 1, "annotation_level": "warning", "message": "m"});
    let create = |output: serde_json::Value| {
        let body = serde_json::json!({"name": "ciguard", "head_sha": w.base_sha, "output": output});
        http.send(
            Method::Post(body.to_string().into_bytes()),
            "/repos/octo/app/check-runs",
            &token,
        )
    };
    let ok = create(serde_json::json!({"title": "t", "summary": "s", "annotations": vec![annotation.clone(); 50]})).await.unwrap();
    assert_eq!(ok.status, 201);
    for (output, field) in [
        (
            serde_json::json!({"title": "t", "summary": "s", "annotations": vec![annotation.clone(); 51]}),
            "annotations",
        ),
        (
            serde_json::json!({"title": "t".repeat(256), "summary": "s"}),
            "title",
        ),
        (
            serde_json::json!({"title": "t", "summary": "s".repeat(65_536)}),
            "summary",
        ),
    ] {
        let refused = create(output).await.unwrap();
        assert_eq!(refused.status, 422);
        let body: serde_json::Value = serde_json::from_slice(&refused.body).unwrap();
        assert_eq!(body["errors"][0]["field"], field);
    }
    // A read-only token cannot write check runs.
    let read_only = app
        .tokens
        .token(
            &app.api,
            1,
            &[101],
            &std::collections::BTreeMap::from([("checks", "read")]),
        )
        .await
        .unwrap();
    let body = serde_json::json!({"name": "ciguard", "head_sha": w.base_sha});
    let refused = http
        .send(
            Method::Post(body.to_string().into_bytes()),
            "/repos/octo/app/check-runs",
            &read_only,
        )
        .await
        .unwrap();
    assert_eq!(refused.status, 403);
}

#[test]
fn no_secret_reaches_the_logs_debug_output_or_outcomes_at_trace_level() {
    let w = world();
    let head = w.pull(
        9,
        "logged",
        &[(".github/workflows/ci.yml", &workflow_with(1))],
    );
    let sink = Sink::default();
    let _guard = trace_into(&sink);
    // A key file readable by others is used, with a warning.
    let dir = tempfile::tempdir().unwrap();
    let loose = dir.path().join("key.pem");
    std::fs::copy(fake::app_private_key_pkcs1(), &loose).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&loose, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let key = AppKey::load(&loose, fake::APP_ID).unwrap();
    let app = App::new(
        key,
        MemRates::default(),
        AppSettings {
            api_url: w.fake.url(),
            write_interval: Duration::ZERO,
            ..AppSettings::default()
        },
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let outcome = rt.block_on(app.run(&pr_job(1, "octo/app", 101, 9, &head, false)));
    assert!(is_done(&outcome), "{outcome:?}");
    let jwt = app.tokens.jwt().unwrap();
    // Secrets that reach a log line by mistake are masked by their shape.
    let token = w.fake.tokens()[0].token.clone();
    tracing::trace!("debugging {token} with {}", jwt.expose());
    tracing::trace!(
        "{}",
        std::fs::read_to_string(fake::app_private_key_pkcs1()).unwrap()
    );
    let logs = sink.text();
    assert!(
        logs.contains("TRACE") && logs.contains("POST /app/installations/1/access_tokens"),
        "{logs}"
    );
    assert!(
        logs.contains("chmod 600"),
        "the loose key mode is warned about: {logs}"
    );
    assert!(logs.contains("debugging *** with ***"), "{logs}");
    let debug = format!("{app:?} {outcome:?}");
    for (what, text) in [("logs", &logs), ("debug", &debug)] {
        assert!(!text.contains(&token), "token in {what}");
        assert!(!text.contains(jwt.expose()), "JWT in {what}");
        assert!(!text.contains("eyJ"), "JWT-shaped text in {what}");
        assert!(
            !text.contains("PRIVATE KEY") && !text.contains("MII"),
            "key in {what}"
        );
    }
}

/// The App reads repositories through the API only: nothing under src/app spawns a process.
#[test]
fn the_app_never_spawns_a_process() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/app");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for banned in ["std::process", "Command::new", "process::Command"] {
            assert!(!text.contains(banned), "{} uses {banned}", path.display());
        }
        checked += 1;
    }
    assert!(checked >= 8);
}

#[tokio::test]
async fn a_refusal_after_the_check_run_started_completes_it_as_a_failure_and_the_job_is_dead() {
    let w = world();
    let head = w.pull(10, "gone", &[(".github/workflows/ci.yml", CLEAN)]);
    w.fake
        .add_fault(Fault::fail("GET /repos/octo/app/git/trees", 404, 1));
    let app = w.app(MemRates::default());
    let o = app.run(&pr_job(1, "octo/app", 101, 10, &head, false)).await;
    assert!(
        matches!(&o, Outcome::Dead { reason } if reason.contains("404")),
        "{o:?}"
    );
    let run = &w.fake.check_runs()[0];
    assert_eq!(run.conclusion.as_deref(), Some("failure"));
    assert_eq!(run.title, "could not audit this commit");
}

#[tokio::test]
async fn a_primary_limit_defers_until_the_reset() {
    let w = world();
    let head = w.pull(11, "primary", &[(".github/workflows/ci.yml", CLEAN)]);
    w.fake.add_fault(Fault::primary_limit(
        "GET /repos/octo/app/pulls/11",
        Duration::from_secs(600),
        1,
    ));
    let app = w.app(MemRates::default());
    let o = app.run(&pr_job(1, "octo/app", 101, 11, &head, false)).await;
    let Outcome::Deferred { until, .. } = o else {
        panic!("{o:?}")
    };
    let wait = until.duration_since(SystemTime::now()).unwrap();
    assert!(
        (Duration::from_secs(590)..=Duration::from_secs(600)).contains(&wait),
        "{wait:?}"
    );
}

#[tokio::test]
async fn a_token_is_minted_again_when_it_expires_within_the_margin() {
    let w = world();
    let one = w.pull(12, "one", &[(".github/workflows/ci.yml", CLEAN)]);
    let two = w.pull(13, "two", &[(".github/workflows/ci.yml", CLEAN)]);
    // Tokens that live 4 minutes are inside the 5-minute margin: never reused.
    w.fake.set_token_lifetime(Duration::from_secs(240));
    let app = w.app(MemRates::default());
    assert!(is_done(
        &app.run(&pr_job(1, "octo/app", 101, 12, &one, false)).await
    ));
    assert!(is_done(
        &app.run(&pr_job(1, "octo/app", 101, 13, &two, false)).await
    ));
    assert_eq!(app.tokens.minted(), 2);
    assert_eq!(w.fake.tokens().len(), 2);
}

#[tokio::test]
async fn files_beyond_the_per_job_cap_are_named_not_read() {
    let w = world();
    let head = w.pull(
        14,
        "wide",
        &[
            (".github/workflows/a.yml", CLEAN),
            (".github/workflows/b.yml", CLEAN),
            (".github/workflows/c.yml", CLEAN),
            // Read whatever the cap: never audit with defaults because of it.
            (
                "ciguard.toml",
                "[audits.unpinned-uses]\nseverity = \"low\"\n",
            ),
        ],
    );
    let key = AppKey::load(&fake::app_private_key_pkcs1(), fake::APP_ID).unwrap();
    let settings = AppSettings {
        api_url: w.fake.url(),
        write_interval: Duration::ZERO,
        max_files: 2,
        ..AppSettings::default()
    };
    let app = App::new(key, MemRates::default(), settings);
    assert!(is_done(
        &app.run(&pr_job(1, "octo/app", 101, 14, &head, false)).await
    ));
    let blobs = w.blob_reads();
    assert_eq!(blobs, 3, "two workflows and the configuration");
    let run = &w.fake.check_runs()[0];
    assert!(run.summary.contains("audited 2 files"), "{}", run.summary);
    assert!(
        run.summary
            .contains("c.yml: beyond the 2 files read per audit"),
        "{}",
        run.summary
    );
}

#[tokio::test]
async fn the_fake_serves_contents_at_a_sha_and_answers_slow_routes() {
    let w = world();
    let app = w.app(MemRates::default());
    let token = app
        .tokens
        .token(
            &app.api,
            1,
            &[101],
            &ciguard_serve::app::tokens::audit_permissions(),
        )
        .await
        .unwrap();
    let http = Http::new(&w.fake.url());
    w.fake.add_fault(Fault::slow(
        "GET /repos/octo/app/contents",
        Duration::from_millis(20),
    ));
    let target = format!(
        "/repos/octo/app/contents/.github/workflows/ok.yml?ref={}",
        w.base_sha
    );
    let file = http.send(Method::Get, &target, &token).await.unwrap();
    assert_eq!(file.status, 200);
    let body: serde_json::Value = serde_json::from_slice(&file.body).unwrap();
    use base64::Engine as _;
    let content: String = body["content"]
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(content)
        .unwrap();
    assert_eq!(decoded, CLEAN.as_bytes());
    let missing = format!("/repos/octo/app/contents/nope.yml?ref={}", w.base_sha);
    assert_eq!(
        http.send(Method::Get, &missing, &token)
            .await
            .unwrap()
            .status,
        404
    );
}

/// An npm lockfile whose package comes from a git branch (a mutable source), entry on line 6.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_org_config_is_read_from_the_dot_github_repository_with_a_token_for_it_alone() {
    use ciguard_serve::org_config::{OrgConfigError, OrgConfigLoad};
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "kebab-case")]
    struct Drift {
        ping_days: u32,
    }
    let w = world();
    let app = w.app(MemRates::default());
    // No `.github` repository installed: every automation is off, no error.
    let none = app.org_config(1, "octo").await.unwrap();
    assert!(none.section::<Drift>("drift", "app").unwrap().is_none());

    let org = Repo::init(&w._dir.path().join("org-github")).unwrap();
    org.commit(&[("README.md", "org files")], "init").unwrap();
    w.fake.add_repo("octo/.github", 102, 1, &org);
    // The repository without the file: off as well.
    let none = app.org_config(1, "octo").await.unwrap();
    assert!(none.section::<Drift>("drift", "app").unwrap().is_none());

    org.commit(
        &[(
            "ciguard-app.toml",
            "[drift]\nenabled = true\nping-days = 14\n",
        )],
        "config",
    )
    .unwrap();
    let config = app.org_config(1, "octo").await.unwrap();
    let drift: Drift = config.section("drift", "app").unwrap().unwrap();
    assert_eq!(drift.ping_days, 14);
    // Read with contents:read on the `.github` repository only.
    let token = w.fake.tokens().into_iter().last().unwrap();
    assert_eq!(token.repository_ids, vec![102]);
    assert_eq!(
        token.permissions.into_iter().collect::<Vec<_>>(),
        vec![("contents".to_owned(), "read".to_owned())]
    );

    org.commit(
        &[("ciguard-app.toml", "[drift\nenabled = true\n")],
        "broken",
    )
    .unwrap();
    match app.org_config(1, "octo").await {
        Err(OrgConfigLoad::Invalid(OrgConfigError::Malformed { line, .. })) => assert_eq!(line, 1),
        other => panic!("a malformed file must be an error, got {other:?}"),
    }
}
