//! The live source: GitHub's REST API through `ciguard-github`'s client, and the writes of
//! `recommend --apply`.

use ciguard_github::{ApiResponse, Client};
use serde_json::Value;

use crate::recommend::Change;
use crate::snapshot::{Answer, Error, Source};

pub struct LiveSource {
    client: Client,
}

impl LiveSource {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }
}

fn answer(r: &ApiResponse) -> Answer {
    Answer::new(
        r.status,
        r.body.clone(),
        r.header("x-accepted-github-permissions").map(str::to_owned),
    )
}

impl Source for LiveSource {
    /// GETs `api_path` with `per_page=100`; a list answer (an array or a `{total_count, <list>}`
    /// envelope) with more pages is followed and returned as one answer of the first page's
    /// shape (the only case where the recorded body is not byte-for-byte GitHub's). A list whose
    /// pages do not add up to its `total_count` is an error, so what depends on it is unknown.
    fn get(&self, api_path: &str) -> Result<Answer, Error> {
        self.client
            .get_all_pages(api_path)
            .map(|r| answer(&r))
            .map_err(|e| Error::Transport {
                path: api_path.to_owned(),
                message: e.to_string(),
            })
    }
}

/// Performs the writes of a plan, in order; stops at the first refusal.
pub fn apply(client: &Client, changes: &[Change]) -> Result<usize, crate::Error> {
    for (done, c) in changes.iter().enumerate() {
        let result = match c.method {
            "POST" => client.post_json(&c.path, &c.body),
            _ => client.put_json(&c.path, &c.body),
        };
        match result {
            Ok(r) if r.is_success() => {}
            Ok(r) => {
                let msg = serde_json::from_slice::<Value>(&r.body)
                    .ok()
                    .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
                    .unwrap_or_default();
                return Err(crate::Error::Refused {
                    method: c.method,
                    path: c.path.clone(),
                    status: r.status,
                    needs: r.header("x-accepted-github-permissions").map(str::to_owned),
                    message: msg,
                    done,
                    total: changes.len(),
                });
            }
            Err(source) => {
                return Err(crate::Error::Write {
                    method: c.method,
                    path: c.path.clone(),
                    source: Box::new(source),
                    done,
                    total: changes.len(),
                });
            }
        }
    }
    Ok(changes.len())
}
