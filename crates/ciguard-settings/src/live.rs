//! The live source: GitHub's REST API through `ciguard-github`'s client, and the writes of
//! `recommend --apply`.

use ciguard_github::{ApiResponse, Client};
use serde_json::Value;

use crate::recommend::Change;
use crate::snapshot::{Answer, Error, Source};

/// Most pages of a list followed (100 items each).
const MAX_PAGES: usize = 50;

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

    fn fetch(&self, path: &str) -> Result<ApiResponse, Error> {
        self.client.get(path).map_err(|e| Error::Transport {
            path: path.to_owned(),
            message: e.to_string(),
        })
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
    /// GETs `api_path`; a list answer with more pages is followed and returned as one array (the
    /// only case where the recorded body is not byte-for-byte GitHub's).
    fn get(&self, api_path: &str) -> Result<Answer, Error> {
        let first = self.fetch(api_path)?;
        let mut next = if first.status == 200 {
            first.next_link()
        } else {
            None
        };
        if next.is_none() {
            return Ok(answer(&first));
        }
        let mut items = match serde_json::from_slice::<Value>(&first.body) {
            Ok(Value::Array(items)) => items,
            _ => return Ok(answer(&first)),
        };
        let mut pages = 1;
        while let Some(url) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                break;
            }
            let page = self.fetch(&url)?;
            if page.status != 200 {
                return Ok(answer(&page));
            }
            if let Ok(Value::Array(more)) = serde_json::from_slice::<Value>(&page.body) {
                items.extend(more);
            }
            next = page.next_link();
        }
        Ok(Answer::json(200, Value::Array(items)))
    }
}

/// Performs the writes of a plan, in order; stops at the first refusal.
pub fn apply(client: &Client, changes: &[Change]) -> Result<usize, String> {
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
                let perm = r
                    .header("x-accepted-github-permissions")
                    .map(|p| format!(" (needs {p})"))
                    .unwrap_or_default();
                return Err(format!(
                    "{} {}: GitHub answered {}{perm}: {msg}; {done} of {} changes applied",
                    c.method,
                    c.path,
                    r.status,
                    changes.len()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "{} {}: {e}; {done} of {} changes applied",
                    c.method,
                    c.path,
                    changes.len()
                ));
            }
        }
    }
    Ok(changes.len())
}
