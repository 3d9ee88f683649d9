//! The live source reads every page of GitHub's `{total_count, <list>}` envelopes (secrets,
//! environments, deployment branch policies), against the fake GitHub behaving like github.com.

use ciguard_github::{Client, ClientConfig, Token};
use ciguard_settings::live::LiveSource;
use ciguard_settings::snapshot::Source;
use ciguard_test_support::github::FakeGitHub;
use serde_json::{Value, json};

fn names(n: usize, last: &str) -> Vec<Value> {
    let mut items: Vec<Value> = (0..n)
        .map(|i| json!({"name": format!("CI_VAR_{i:03}")}))
        .collect();
    items.push(json!({"name": last}));
    items
}

fn live(server: &FakeGitHub) -> LiveSource {
    LiveSource::new(Client::new(ClientConfig {
        api_url: server.url(),
        token: Token::new("ghp_SETTINGSSECRET"),
        ..ClientConfig::default()
    }))
}

#[test]
fn a_publishing_secret_on_page_two_is_seen() {
    let server = FakeGitHub::start().unwrap();
    server.add_envelope(
        "/repos/octo-org/hello-world/actions/secrets",
        "secrets",
        names(120, "PYPI_API_TOKEN"),
    );
    let answer = live(&server)
        .get("repos/octo-org/hello-world/actions/secrets")
        .unwrap();
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["total_count"], 121);
    let secrets = answer.body["secrets"].as_array().unwrap();
    assert_eq!(secrets.len(), 121);
    assert_eq!(secrets[120]["name"], "PYPI_API_TOKEN");
    let log = server.requests();
    assert_eq!(log.len(), 2, "{log:?}");
    assert!(
        log.iter().all(|l| l.path.contains("per_page=100")),
        "{log:?}"
    );
}

#[test]
fn an_environment_list_that_does_not_add_up_is_an_error_not_a_short_list() {
    let server = FakeGitHub::start().unwrap();
    server.add_envelope_claiming(
        "/repos/octo-org/hello-world/environments",
        "environments",
        names(40, "release"),
        Some(45),
    );
    let err = live(&server)
        .get("repos/octo-org/hello-world/environments")
        .unwrap_err();
    assert!(err.to_string().contains("45"), "{err}");
}
