//! Behaviours of github.com the fake takes on when a test asks: answers that are slow, lists in
//! `{total_count, <list>}` envelopes paginated with `Link`, renamed repositories answering 301 to
//! `/repositories/{id}/…` (served only with a token, as for a private repository), redirects to
//! another host, and secondary rate limits without `retry-after`, worded as GitHub words them.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::{FakeGitHub, State, respond};
use crate::http::{Reply, Request};

/// GitHub's answer to a secondary rate limit (REST docs, "Exceeding the rate limit"); the request
/// ID varies on github.com.
pub const SECONDARY_LIMIT_MESSAGE: &str = "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID 0400:1F2E:3D4C:5B6A:78901234.";

/// A list served in an envelope: its field, its items, and the `total_count` to claim when not
/// the true one.
#[derive(Debug, Clone)]
struct Envelope {
    key: String,
    items: Vec<Value>,
    claimed: Option<u64>,
}

#[derive(Debug, Default)]
pub(super) struct Knobs {
    /// Path (no query) → the list served there.
    envelopes: Mutex<HashMap<String, Envelope>>,
    /// Old `owner/name` (lowercase) → current `owner/name`.
    renamed: Mutex<HashMap<String, String>>,
    /// Path prefix → absolute URL elsewhere, answered with a 301.
    foreign: Mutex<Vec<(String, String)>>,
}

impl FakeGitHub {
    /// Every answer from now on comes `latency` late (a slow or distant GitHub).
    pub fn set_latency(&self, latency: Duration) {
        self.server.set_latency(latency);
    }

    /// Serves `path` (no query) as GitHub serves secrets, environments or deployment branch
    /// policies: `{"total_count": n, "<key>": [...]}`, 30 a page unless `per_page` says, with
    /// `Link` to the next and last pages.
    pub fn add_envelope(&self, path: &str, key: &str, items: Vec<Value>) {
        self.add_envelope_claiming(path, key, items, None);
    }

    /// As [`FakeGitHub::add_envelope`], with a `total_count` that differs from the items served
    /// (a list that changed between pages).
    pub fn add_envelope_claiming(
        &self,
        path: &str,
        key: &str,
        items: Vec<Value>,
        total_count: Option<u64>,
    ) {
        if let Ok(mut e) = self.state.knobs.envelopes.lock() {
            e.insert(
                path.to_owned(),
                Envelope {
                    key: key.to_owned(),
                    items,
                    claimed: total_count,
                },
            );
        }
    }

    /// Renames (or transfers) the served repository `current` from `old`: requests under
    /// `/repos/{old}` answer 301 to `/repositories/{id}/…`, which answers only requests that carry
    /// a token (404 otherwise, as for a private repository).
    pub fn rename_repo(&self, old: &str, current: &str) {
        if let Ok(mut r) = self.state.knobs.renamed.lock() {
            r.insert(old.to_ascii_lowercase(), current.to_ascii_lowercase());
        }
    }

    /// Requests whose path starts with `path_prefix` answer 301 to `location` (another host).
    pub fn redirect_elsewhere(&self, path_prefix: &str, location: &str) {
        if let Ok(mut f) = self.state.knobs.foreign.lock() {
            f.push((path_prefix.to_owned(), location.to_owned()));
        }
    }

    /// The next `times` requests whose path starts with `path_prefix` answer `status` (403 or
    /// 429) with GitHub's secondary rate limit message and no `retry-after`.
    pub fn push_secondary_limit(&self, path_prefix: &str, status: u16, times: usize) {
        // No `retry-after`, and the primary limit is far from spent.
        let reply = Reply::json(
            status,
            &json!({
                "message": SECONDARY_LIMIT_MESSAGE,
                "documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
            }),
        )
        .with_header("x-ratelimit-remaining", "4321");
        self.server
            .push_fault(path_prefix, crate::http::Fault::Reply(reply), times);
    }
}

/// The answer when one of the knobs applies, else `None` (the usual dispatch answers).
pub(super) fn intercept(state: &State, req: &Request) -> Option<Reply> {
    if let Some(reply) = foreign_redirect(state, req) {
        return Some(reply);
    }
    if let Some(reply) = renamed(state, req) {
        return Some(reply);
    }
    envelope(state, req)
}

fn moved(location: String) -> Reply {
    let mut reply = Reply::json(
        301,
        &json!({"message": "Moved Permanently", "url": location, "documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"}),
    );
    reply.headers.push(("location".into(), location));
    reply
}

fn foreign_redirect(state: &State, req: &Request) -> Option<Reply> {
    let foreign = state.knobs.foreign.lock().ok()?;
    let (_, location) = foreign
        .iter()
        .find(|(prefix, _)| req.target.starts_with(prefix.as_str()))?;
    Some(moved(location.clone()))
}

fn renamed(state: &State, req: &Request) -> Option<Reply> {
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match segments.as_slice() {
        ["repos", owner, name, rest @ ..] => {
            let old = format!("{owner}/{name}").to_ascii_lowercase();
            let current = state.knobs.renamed.lock().ok()?.get(&old).cloned()?;
            let id = state.repos.lock().ok()?.get(&current)?.id;
            let mut location = format!("{}/repositories/{id}", state.base);
            for segment in rest {
                location.push('/');
                location.push_str(segment);
            }
            if let Some((_, query)) = req.target.split_once('?') {
                location.push('?');
                location.push_str(query);
            }
            Some(moved(location))
        }
        ["repositories", id, rest @ ..] => {
            if !req.headers.contains_key("authorization") {
                return Some(super::not_found());
            }
            let id: u64 = id.parse().ok()?;
            let slug = state
                .repos
                .lock()
                .ok()?
                .iter()
                .find(|(_, r)| r.id == id)
                .map(|(slug, _)| slug.clone())?;
            let mut path = format!("/repos/{slug}");
            for segment in rest {
                path.push('/');
                path.push_str(segment);
            }
            let target = match req.target.split_once('?') {
                Some((_, query)) => format!("{path}?{query}"),
                None => path.clone(),
            };
            let inner = Request {
                method: req.method.clone(),
                path,
                query: req.query.clone(),
                target,
                headers: req.headers.clone(),
                body: req.body.clone(),
            };
            Some(respond(state, &inner))
        }
        _ => None,
    }
}

fn envelope(state: &State, req: &Request) -> Option<Reply> {
    let Envelope {
        key,
        items,
        claimed,
    } = state.knobs.envelopes.lock().ok()?.get(&req.path).cloned()?;
    let total = claimed.unwrap_or(items.len() as u64);
    let url = format!("{}{}", state.base, req.path);
    // The array pagination of the fake, then the page wrapped in its envelope.
    let mut reply = super::paginate(req, &url, items);
    let page: Value = serde_json::from_slice(&reply.body).ok()?;
    reply.body = json!({ "total_count": total, key: page })
        .to_string()
        .into_bytes();
    Some(reply)
}
