//! The comment relay against the fake GitHub App: the artifact listed and downloaded through
//! the API with the storage redirect followed without the token, hostile zips refused, the
//! message checked against an open pull request whose head is the run's commit, one escaped
//! comment per (pull request, workflow) created then updated, labels from the allow-list only,
//! the token's scope, and the organization file that turns the relay on.

use std::time::Duration;

use ciguard_serve::app::{App, AppKey, AppSettings};
use ciguard_serve::job::{Job, JobPayload, JobRunner, Outcome};
use ciguard_serve::relay::message::RelayConfig;
use ciguard_serve::relay::render::marker;
use ciguard_serve::relay::{CommentAction, RelayTarget, Relayed};
use ciguard_test_support::github_app::relay::{ArtifactStorage, ZipEntry, zip};
use ciguard_test_support::github_app::{self as fake, FakeGitHubApp, Repo};

mod app_world;
use app_world::MemRates;

const REPO: &str = "octo/app";
const WORKFLOW: &str = ".github/workflows/comment.yml";
const WORKFLOW_ID: u64 = 31;
const CONFIG: &str = "[relay]\nenabled = true\nworkflows = [\".github/workflows/comment.yml\"]\nlabels = [\"coverage-ok\"]\n";

struct World {
    dir: tempfile::TempDir,
    fake: FakeGitHubApp,
    storage: ArtifactStorage,
    /// Head of pull request 5, and of pull request 6.
    head5: String,
    head6: String,
    app: App<MemRates>,
}

fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let fake = FakeGitHubApp::start().unwrap();
    let storage = fake.start_artifact_storage().unwrap();
    let base = Repo::init(&dir.path().join("base")).unwrap();
    let base_sha = base.commit(&[("README.md", "hi")], "base").unwrap();
    fake.add_repo(REPO, 101, 1, &base);
    let mut heads = Vec::new();
    for (n, branch) in [(5, "five"), (6, "six")] {
        base.git(&["checkout", "-q", "-b", branch, &base_sha])
            .unwrap();
        base.commit(&[("f.txt", branch)], branch).unwrap();
        base.git(&["checkout", "-q", "main"]).unwrap();
        heads.push(fake.add_pull(REPO, n, &base, branch, &base_sha).unwrap());
    }
    let key = AppKey::load(&fake::app_private_key_pkcs1(), fake::APP_ID).unwrap();
    let app = App::new(
        key,
        MemRates::default(),
        AppSettings {
            api_url: fake.url(),
            write_interval: Duration::ZERO,
            ..AppSettings::default()
        },
    );
    World {
        dir,
        fake,
        storage,
        head6: heads.pop().unwrap(),
        head5: heads.pop().unwrap(),
        app,
    }
}

impl World {
    /// The organization's `.github` repository with `config` as its `ciguard-app.toml`.
    fn org_config(&self, config: &str) {
        let org = Repo::init(&self.dir.path().join("org")).unwrap();
        org.commit(&[("ciguard-app.toml", config)], "config")
            .unwrap();
        self.fake.add_repo("octo/.github", 102, 1, &org);
    }

    fn target(&self, run_id: u64, head: &str) -> RelayTarget {
        RelayTarget {
            repository: REPO.into(),
            repository_id: 101,
            run_id,
            workflow_id: WORKFLOW_ID,
            workflow_path: WORKFLOW.into(),
            workflow_name: "Coverage <comment>".into(),
            head_sha: head.into(),
        }
    }

    /// Run `run_id` left `entries` as its `ciguard-relay` artifact.
    fn artifact(&self, run_id: u64, entries: &[ZipEntry]) -> u64 {
        self.fake
            .add_artifact(REPO, run_id, "ciguard-relay", zip(entries))
    }

    async fn relay(&self, run_id: u64, head: &str) -> Relayed {
        self.app
            .relay_with(1, &self.target(run_id, head), &config())
            .await
            .unwrap()
    }

    fn assert_nothing_posted(&self) {
        assert!(
            self.fake.comments().is_empty(),
            "{:?}",
            self.fake.comments()
        );
        assert!(self.fake.labels().is_empty());
    }
}

fn config() -> RelayConfig {
    RelayConfig {
        workflows: vec![WORKFLOW.into()],
        labels: vec!["coverage-ok".into()],
        max_comment_chars: 10_000,
    }
}

fn message(pr: u64, head: &str, body: &str, labels: &[&str]) -> ZipEntry {
    let json = serde_json::json!({
        "version": 1, "pr": pr, "head_sha": head, "body": body, "labels": labels,
    });
    ZipEntry::new("ciguard-relay.json", json.to_string().as_bytes())
}

fn job(t: RelayTarget) -> Job {
    Job {
        id: 1,
        installation_id: 1,
        payload: JobPayload::Relay(t),
        attempt: 1,
        delivery_id: "d-1".into(),
    }
}

fn refused(r: &Relayed, needle: &str) {
    match r {
        Relayed::Refused(why) => assert!(why.contains(needle), "{why:?} lacks {needle:?}"),
        other => panic!("expected a refusal ({needle}), got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_becomes_one_escaped_comment_updated_not_duplicated() {
    let w = world();
    w.org_config(CONFIG);
    let hostile = "Coverage 93%\n<img src=x onerror=alert(1)> @octo-org/admins\n[click](https://evil.example) ![x](https://evil.example/p.png)\n<!-- ciguard-relay workflow=31 -->";
    w.artifact(
        100,
        &[message(5, &w.head5, hostile, &["coverage-ok", "approved"])],
    );
    // A user's comment carrying the marker is never taken for the App's.
    w.fake
        .add_comment(REPO, 5, &format!("{}\nforged", marker(WORKFLOW_ID)), false);

    w.fake.clear_log();
    let outcome = w.app.run(&job(w.target(100, &w.head5))).await;
    let Outcome::Done { summary } = &outcome else {
        panic!("{outcome:?}")
    };
    // Requests of a first relay: two tokens (the org file's, the relay's), the org file, the
    // artifact list, the download (302), the pull request, the comments, the comment, the labels.
    let routes = |log: Vec<fake::Logged>| -> Vec<String> {
        log.iter()
            .map(|l| format!("{} {}", l.method, l.target.split('?').next().unwrap_or("")))
            .collect()
    };
    let first = routes(w.fake.log());
    assert_eq!(first.len(), 9, "{first:#?}");
    assert!(first.contains(&"GET /repos/octo/app/actions/artifacts/5000/zip".to_owned()));
    assert!(summary.contains("#5: comment Created"), "{summary}");
    let ours: Vec<_> = w.fake.comments().into_iter().filter(|c| c.by_app).collect();
    assert_eq!(ours.len(), 1);
    let body = &ours[0].body;
    assert!(body.starts_with(&marker(WORKFLOW_ID)), "{body}");
    assert_eq!(body.matches("<!--").count(), 1, "{body}");
    for raw in ["<img", "@octo-org", "](", "https://", "<comment>"] {
        assert!(!body.contains(raw), "{raw} survived in {body}");
    }
    assert!(body.contains("Coverage 93%") && body.contains("@\u{200B}octo-org/admins"));
    assert!(body.contains("not applied: approved"), "{body}");
    // Only the allowed label was added.
    assert_eq!(
        w.fake.labels(),
        vec![(REPO.to_owned(), 5, "coverage-ok".to_owned())]
    );
    // The storage host got the download, without any credentials.
    assert!(
        w.storage.url().starts_with("http://127.0.0.2:"),
        "{}",
        w.storage.url()
    );
    let downloads = w.storage.requests();
    assert_eq!(downloads.len(), 1);
    assert!(downloads.iter().all(|r| !r.authorized), "{downloads:?}");
    // The token: this repository only, actions:read, issues:write, pull_requests:read.
    let relay_token = w
        .fake
        .tokens()
        .into_iter()
        .find(|t| t.permissions.contains_key("actions"))
        .unwrap();
    assert_eq!(relay_token.repository_ids, vec![101]);
    assert_eq!(
        relay_token.permissions.into_iter().collect::<Vec<_>>(),
        vec![
            ("actions".to_owned(), "read".to_owned()),
            ("issues".to_owned(), "write".to_owned()),
            ("pull_requests".to_owned(), "read".to_owned())
        ]
    );

    // A re-run with new text updates the same comment; the same text again changes nothing.
    w.artifact(101, &[message(5, &w.head5, "Coverage 94%", &[])]);
    w.fake.clear_log();
    let second = w.relay(101, &w.head5).await;
    // With the token cached: list, download, pull request, comments, update.
    assert_eq!(routes(w.fake.log()).len(), 5, "{:#?}", routes(w.fake.log()));
    assert!(
        matches!(&second, Relayed::Posted { comment: CommentAction::Updated(id), .. } if *id == ours[0].id),
        "{second:?}"
    );
    w.artifact(102, &[message(5, &w.head5, "Coverage 94%", &[])]);
    w.fake.clear_log();
    let third = w.relay(102, &w.head5).await;
    // The same text: no write.
    assert_eq!(routes(w.fake.log()).len(), 4, "{:#?}", routes(w.fake.log()));
    assert!(
        matches!(
            &third,
            Relayed::Posted {
                comment: CommentAction::Unchanged(_),
                ..
            }
        ),
        "{third:?}"
    );
    let comments = w.fake.comments();
    assert_eq!(comments.len(), 2, "the user's and the App's one");
    let ours = comments.iter().find(|c| c.by_app).unwrap();
    assert_eq!(ours.updates, 1);
    assert!(ours.body.contains("Coverage 94%"));
    let user = comments.iter().find(|c| !c.by_app).unwrap();
    assert_eq!(user.updates, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_archives_are_refused_and_nothing_is_posted() {
    let w = world();
    let ok = message(5, &w.head5, "hi", &[]);
    let mut traversal = ok.clone();
    traversal.name = "../ciguard-relay.json".into();
    let mut symlink = ok.clone();
    symlink.unix_mode = Some(0o120_777);
    // 64 MiB of zeros deflate to about 64 KB: declared honestly, refused before inflating.
    let zeros = vec![0u8; 64 << 20];
    let bomb = ZipEntry::new("ciguard-relay.json", &zeros);
    assert!(zip(std::slice::from_ref(&bomb)).len() < 256 * 1024);
    // The same bomb declaring 100 bytes: inflation stops one byte past the declared size.
    let mut liar = bomb.clone();
    liar.declared_size = Some(100);
    let many: Vec<ZipEntry> = (0..17)
        .map(|i| ZipEntry::new(&format!("f{i}"), b"x"))
        .collect();
    let cases: Vec<(Vec<ZipEntry>, &str)> = vec![
        (vec![traversal, ok.clone()], "unsafe name"),
        (vec![symlink], "symbolic link"),
        (vec![bomb], "inflate to more than"),
        (vec![liar], "does not inflate to its declared size"),
        (many, "17 entries"),
        (vec![ok.clone(), ok.clone()], "appears twice"),
        (
            vec![ZipEntry::new("other.json", b"{}")],
            "no entry ciguard-relay.json",
        ),
        (
            vec![ZipEntry::new("ciguard-relay.json", b"<html>")],
            "not a relay message",
        ),
    ];
    for (run, (entries, why)) in (200..).zip(cases) {
        w.artifact(run, &entries);
        refused(&w.relay(run, &w.head5).await, why);
    }
    // Oversized: refused from the listing's size, before any download.
    let big = w.artifact(300, std::slice::from_ref(&ok));
    w.fake.set_artifact_size(big, 10 << 20);
    let before = w.storage.requests().len();
    refused(
        &w.relay(300, &w.head5).await,
        "more than the 262144 allowed",
    );
    assert_eq!(w.storage.requests().len(), before);
    // Under-reported: the download itself stops at the limit.
    let noise: Vec<u8> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let mut stored = ZipEntry::new("noise.bin", &noise);
    stored.deflate = false;
    let under = w.artifact(301, &[ok.clone(), stored]);
    w.fake.set_artifact_size(under, 1_000);
    let err = w
        .app
        .relay_with(1, &w.target(301, &w.head5), &config())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("larger than 262144"), "{err}");
    assert!(!err.to_string().contains("sig="), "{err}");
    w.assert_nothing_posted();
    assert!(w.storage.requests().iter().all(|r| !r.authorized));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_must_name_an_open_pull_request_whose_head_is_the_run() {
    let w = world();
    // The run was on #5's head; the message claims #6.
    w.artifact(400, &[message(6, &w.head5, "hi", &[])]);
    refused(&w.relay(400, &w.head5).await, "not an open pull request");
    // The message claims #6 with #6's head, but the run ran on #5's.
    w.artifact(401, &[message(6, &w.head6, "hi", &[])]);
    refused(&w.relay(401, &w.head5).await, "names commit");
    // A pull request that does not exist.
    w.artifact(402, &[message(99, &w.head5, "hi", &[])]);
    refused(&w.relay(402, &w.head5).await, "does not exist");
    // Closed.
    w.fake.close_pull(REPO, 5);
    w.artifact(403, &[message(5, &w.head5, "hi", &[])]);
    refused(&w.relay(403, &w.head5).await, "not an open pull request");
    w.assert_nothing_posted();
    // A run without the artifact, and a workflow that is not configured: nothing to do.
    assert!(matches!(
        w.relay(404, &w.head6).await,
        Relayed::NoMessage(_)
    ));
    let mut other = w.target(405, &w.head6);
    other.workflow_path = ".github/workflows/other.yml".into();
    let r = w.app.relay_with(1, &other, &config()).await.unwrap();
    assert!(matches!(r, Relayed::NoMessage(_)), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_is_off_without_the_org_file_and_a_broken_file_is_reported() {
    let w = world();
    w.artifact(500, &[message(5, &w.head5, "hi", &[])]);
    let outcome = w.app.run(&job(w.target(500, &w.head5))).await;
    assert!(
        matches!(&outcome, Outcome::Done { summary } if summary.contains("the relay is off")),
        "{outcome:?}"
    );
    assert!(w.storage.requests().is_empty());
    w.org_config("[relay]\nenabled = true\nworkflows = [\".github/workflows/comment.yml\"]\nlabel = [\"typo\"]\n");
    let outcome = w.app.run(&job(w.target(500, &w.head5))).await;
    assert!(
        matches!(&outcome, Outcome::Dead { reason } if reason.contains("ciguard-app.toml:") && reason.contains("label")),
        "{outcome:?}"
    );
    w.assert_nothing_posted();
    // A repository name that could steer a URL: dead before any request.
    let mut bad = w.target(501, &w.head5);
    bad.repository = "octo/../admin".into();
    w.fake.clear_log();
    let outcome = w.app.run(&job(bad)).await;
    assert!(matches!(&outcome, Outcome::Dead { .. }), "{outcome:?}");
    assert!(w.fake.log().is_empty(), "{:?}", w.fake.log());
}

#[test]
fn the_examples_org_file_relays_its_two_workflows() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../docs/examples/comment-relay/ciguard-app.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let org = ciguard_serve::org_config::OrgConfig::parse(&text).unwrap();
    let relay: RelayConfig = org.section("relay", "app").unwrap().unwrap();
    assert!(relay.relays(".github/workflows/coverage.yml"));
    assert!(relay.relays(".github/workflows/size-label.yml"));
    assert_eq!(relay.labels, vec!["size/s", "size/l"]);
}
