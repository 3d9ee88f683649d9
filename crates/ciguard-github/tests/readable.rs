//! A 404 from the contents API at a commit SHA is cached for good only when the repository
//! itself was readable: a repository the token briefly could not see must not lose its files.

use std::time::Duration;

use ciguard_github::remote;
use ciguard_github::{Client, ClientConfig, Token};
use ciguard_test_support::git::GitRepo;
use ciguard_test_support::github::{FakeGitHub, Fault};

fn client(server: &FakeGitHub, cache: &std::path::Path) -> Client {
    Client::new(ClientConfig {
        api_url: server.url(),
        token: Token::new("ghp_TESTSECRET0123456789"),
        cache_dir: Some(cache.to_path_buf()),
        offline: false,
        max_concurrency: 2,
        timeout: Duration::from_secs(5),
        max_wait: Duration::from_secs(5),
        ..ClientConfig::default()
    })
}

#[test]
fn contents_404_while_the_repository_was_unreadable_is_not_cached() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("cache");
    let server = FakeGitHub::start().unwrap();
    let repo = GitRepo::init(&dir.path().join("r")).unwrap();
    repo.commit("README.md", "hi\n", "one", "2024-01-01T00:00:00Z")
        .unwrap();
    let sha = repo
        .commit(
            ".github/workflows/ci.yml",
            "on: push\n",
            "two",
            "2024-01-02T00:00:00Z",
        )
        .unwrap();
    server.add_repo("o/r", &repo);
    // Huge trees are truncated: the workflows directory is listed through the contents API.
    server.set_tree_limit(Some(1));

    // Readable, but the contents API refuses once: the commit and its (truncated) tree are
    // cached for good, the directory listings are not.
    server.push_fault("/repos/o/r/contents", Fault::Status(403));
    assert!(remote::snapshot(&client(&server, &cache), "o/r", Some(&sha)).is_err());

    // Unreadable for a while (a token without access): an error, not "no workflows".
    server.set_hidden("o/r", true);
    let err = remote::snapshot(&client(&server, &cache), "o/r", Some(&sha)).unwrap_err();
    assert!(
        matches!(err, remote::RemoteError::NoRepository { .. }),
        "{err}"
    );

    // Readable again: the files are there, not a 404 remembered for good.
    server.set_hidden("o/r", false);
    let again = remote::snapshot(&client(&server, &cache), "o/r", Some(&sha)).unwrap();
    assert!(again.truncated);
    assert!(
        again
            .entries
            .iter()
            .any(|e| e.path == ".github/workflows/ci.yml"),
        "{again:?}"
    );
}
