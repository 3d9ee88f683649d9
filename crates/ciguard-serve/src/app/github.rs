//! Every GitHub call of the App goes through here: one agent (built in [`agent`]), a base URL
//! (`--github-api-url`, `…/api/v3` on GitHub Enterprise Server), blocking `ureq` calls moved to
//! tokio's blocking pool, and the rate-limit headers read from every answer.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use super::secret::Secret;
use crate::job::RateState;

/// Largest answer read: GitHub's largest relevant answers (a 100-item page, a blob the audit
/// accepts) are far smaller.
const MAX_BODY: u64 = 16 * 1024 * 1024;
/// One request, connect to last byte.
const TIMEOUT: Duration = Duration::from_secs(30);
/// A secondary limit without `retry-after`: GitHub asks to wait at least a minute.
pub const SECONDARY_DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// The one place that builds the App's HTTP agent, through the shared `ciguard-http`
/// constructor: status codes are answers, not errors; redirects are never followed (a token
/// must not follow one to another host); the system's trust store, for GitHub Enterprise
/// Server behind a private CA; idle connections for the workers that share it.
pub fn agent() -> ureq::Agent {
    ciguard_http::AgentOptions {
        timeout: TIMEOUT,
        roots: ciguard_http::TrustRoots::Platform,
        redirects: ciguard_http::Redirects::Caller,
        idle_per_host: 16,
    }
    .build()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Get,
    Post(Vec<u8>),
    Patch(Vec<u8>),
}

impl Method {
    pub fn name(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post(_) => "POST",
            Method::Patch(_) => "PATCH",
        }
    }

    pub fn is_write(&self) -> bool {
        !matches!(self, Method::Get)
    }
}

/// One answer. Header names are lowercase.
#[derive(Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Without the body: a token request's answer carries the token.
impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `rel="next"` target of the `Link` header.
    pub fn next_link(&self) -> Option<String> {
        self.header("link")?.split(',').find_map(|part| {
            let (target, params) = part.split_once(';')?;
            params
                .split(';')
                .any(|p| p.trim() == "rel=\"next\"")
                .then(|| {
                    target
                        .trim()
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned()
                })
        })
    }

    /// GitHub's `message` of an error answer, shortened, control characters escaped.
    pub fn message(&self) -> String {
        let value: Option<serde_json::Value> = serde_json::from_slice(&self.body).ok();
        let message = value
            .as_ref()
            .and_then(|v| v.get("message"))
            .and_then(|m| m.as_str())
            .unwrap_or("no message");
        let short: String = message.chars().take(200).collect();
        ciguard_core::output::escape::text(&short).into_owned()
    }

    /// The rate-limit state this answer reports, if it says anything that limits later calls:
    /// a 403/429 limit (primary, secondary, `retry-after`) or an exhausted primary budget.
    pub fn rate_state(&self) -> Option<RateState> {
        let number = |name: &str| self.header(name).and_then(|v| v.trim().parse::<u64>().ok());
        let remaining = number("x-ratelimit-remaining");
        let reset = number("x-ratelimit-reset")
            .map(|epoch| SystemTime::UNIX_EPOCH + Duration::from_secs(epoch));
        let retry_after = number("retry-after").map(Duration::from_secs);
        let limited_status = matches!(self.status, 403 | 429);
        let secondary = limited_status && {
            let m = self.message().to_ascii_lowercase();
            m.contains("secondary rate limit") || m.contains("abuse")
        };
        let primary_exhausted = remaining == Some(0);
        // A 429 is always a limit; a 403 only when it says so (else it is a permission refusal).
        let limited = self.status == 429
            || (limited_status && (secondary || retry_after.is_some() || primary_exhausted));
        (limited || primary_exhausted).then_some(RateState {
            remaining,
            reset,
            retry_after,
            secondary,
        })
    }

    /// When a limited answer allows the next call: `retry-after`, else the primary reset, else
    /// a minute for a secondary limit (GitHub's documented order).
    pub fn limited_until(&self, now: SystemTime) -> Option<SystemTime> {
        let state = self.rate_state()?;
        if !matches!(self.status, 403 | 429) {
            return None;
        }
        Some(blocked_until(&state, now))
    }
}

/// When an installation with `state`, recorded at `recorded`, may call again.
pub fn blocked_until(state: &RateState, recorded: SystemTime) -> SystemTime {
    if let Some(after) = state.retry_after {
        recorded + after
    } else if state.remaining == Some(0)
        && let Some(reset) = state.reset
    {
        reset
    } else {
        recorded + SECONDARY_DEFAULT_WAIT
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    /// Connection refused, reset, timed out, DNS: worth a retry.
    #[error("{method} {path}: {message}")]
    Transport {
        method: &'static str,
        path: String,
        message: String,
    },
    /// A `Link` target or URL outside the configured API base: never sent (it would carry the
    /// token elsewhere).
    #[error("refusing to send a request outside the API base: {0}")]
    OutsideBase(String),
}

/// The GitHub API at one base URL. Cheap to clone.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    base: Arc<str>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http").field("base", &self.base).finish()
    }
}

impl Http {
    /// `base` is the API root, e.g. `https://api.github.com` or `https://ghe.example/api/v3`.
    pub fn new(base: &str) -> Self {
        Self {
            agent: agent(),
            base: Arc::from(base.trim_end_matches('/')),
        }
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    /// The full URL of `target`: a path (`/repos/…`) under the base, or an absolute URL (a
    /// `Link` target) that must be under the base too.
    pub fn url(&self, target: &str) -> Result<String, HttpError> {
        if target.starts_with('/') {
            return Ok(format!("{}{target}", self.base));
        }
        let under_base = target
            .strip_prefix(&*self.base)
            .is_some_and(|rest| rest.starts_with('/') || rest.starts_with('?'));
        if under_base {
            Ok(target.to_owned())
        } else {
            Err(HttpError::OutsideBase(
                ciguard_core::output::escape::text(target).into_owned(),
            ))
        }
    }

    /// Sends one request with `auth` as bearer, on the blocking pool.
    pub async fn send(
        &self,
        method: Method,
        target: &str,
        auth: &Secret,
    ) -> Result<Response, HttpError> {
        let url = self.url(target)?;
        let agent = self.agent.clone();
        let auth = auth.clone();
        let name = method.name();
        let path = path_of(&url, &self.base);
        let joined = tokio::task::spawn_blocking(move || {
            send_blocking(&agent, &method, &url, Some(&auth), MAX_BODY)
        })
        .await;
        let result = joined.unwrap_or_else(|e| Err(format!("the request task failed: {e}")));
        result.map_err(|message| HttpError::Transport {
            method: name,
            path,
            message,
        })
    }

    /// GETs the absolute `url` with no credentials at all, reading at most `max_body` bytes.
    /// For the storage URL GitHub redirects an artifact download to: another host, which must
    /// never see the token, so this takes none.
    pub async fn get_without_credentials(
        &self,
        url: &str,
        max_body: u64,
    ) -> Result<Response, HttpError> {
        let agent = self.agent.clone();
        let owned = url.to_owned();
        let joined = tokio::task::spawn_blocking(move || {
            send_blocking(&agent, &Method::Get, &owned, None, max_body)
        })
        .await;
        let result = joined.unwrap_or_else(|e| Err(format!("the request task failed: {e}")));
        // The storage URL carries a signature in its query: only its origin is ever shown.
        let origin = ciguard_http::origin(url).map_or_else(
            || "the storage host".to_owned(),
            |o| ciguard_core::output::escape::text(o).into_owned(),
        );
        result.map_err(|message| HttpError::Transport {
            method: "GET",
            message: message.replace(url, &origin),
            path: origin,
        })
    }
}

/// The path part of `url` for messages (no query: it could carry a cursor, never a secret, but
/// short messages read better).
fn path_of(url: &str, base: &str) -> String {
    let rest = url.strip_prefix(base).unwrap_or(url);
    let path = rest.split('?').next().unwrap_or(rest);
    ciguard_core::output::escape::text(path).into_owned()
}

fn send_blocking(
    agent: &ureq::Agent,
    method: &Method,
    url: &str,
    auth: Option<&Secret>,
    max_body: u64,
) -> Result<Response, String> {
    let mut builder = ureq::http::Request::builder()
        .method(method.name())
        .uri(url)
        .header("accept", "application/vnd.github+json")
        .header("x-github-api-version", "2022-11-28");
    if let Some(auth) = auth {
        builder = builder.header("authorization", format!("Bearer {}", auth.expose()));
    }
    let request = match method {
        Method::Get => builder.body(Vec::new()),
        Method::Post(body) | Method::Patch(body) => builder
            .header("content-type", "application/json")
            .body(body.clone()),
    }
    .map_err(|e| e.to_string())?;
    // ureq's error text names the URL at most, never headers: no token in it.
    let mut response = agent.run(request).map_err(|e| e.to_string())?;
    let ciguard_http::Answer {
        status,
        headers,
        body,
    } = ciguard_http::read_response(&mut response, max_body).map_err(|e| e.to_string())?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn debug_leaves_the_body_out() {
        let r = response(201, &[], r#"{"token":"ghs_abcdefghijklmnop"}"#);
        let shown = format!("{r:?}");
        assert!(!shown.contains("ghs_") && shown.contains("201"), "{shown}");
    }

    #[test]
    fn urls_stay_under_the_base() {
        let http = Http::new("https://ghe.example/api/v3/");
        assert_eq!(
            http.url("/app/hook/deliveries").unwrap(),
            "https://ghe.example/api/v3/app/hook/deliveries"
        );
        assert!(
            http.url("https://ghe.example/api/v3/app/hook/deliveries?cursor=x")
                .is_ok()
        );
        assert!(http.url("https://ghe.example/api/v3evil/x").is_err());
        assert!(http.url("https://evil.example/api/v3/x").is_err());
    }

    #[test]
    fn next_link_is_found_among_others() {
        let r = response(
            200,
            &[(
                "link",
                "<https://x/a?page=1>; rel=\"prev\", <https://x/a?page=3>; rel=\"next\"",
            )],
            "",
        );
        assert_eq!(r.next_link().as_deref(), Some("https://x/a?page=3"));
        assert_eq!(response(200, &[], "").next_link(), None);
    }

    #[test]
    fn rate_states_in_githubs_order() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000);
        let secondary = response(
            403,
            &[("retry-after", "60")],
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        );
        let state = secondary.rate_state().unwrap();
        assert!(state.secondary);
        assert_eq!(
            secondary.limited_until(now),
            Some(now + Duration::from_secs(60))
        );
        let primary = response(
            403,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "5000"),
            ],
            r#"{"message":"API rate limit exceeded"}"#,
        );
        assert_eq!(
            primary.limited_until(now),
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(5000))
        );
        let bare_429 = response(429, &[], "");
        assert_eq!(
            bare_429.limited_until(now),
            Some(now + SECONDARY_DEFAULT_WAIT)
        );
        let no_retry_after = response(429, &[], r#"{"message":"secondary rate limit"}"#);
        assert_eq!(
            no_retry_after.limited_until(now),
            Some(now + SECONDARY_DEFAULT_WAIT)
        );
        // A plain permission 403 is no limit; a healthy budget records nothing.
        let forbidden = response(
            403,
            &[("x-ratelimit-remaining", "4000")],
            r#"{"message":"Resource not accessible by integration"}"#,
        );
        assert_eq!(forbidden.rate_state(), None);
        assert_eq!(forbidden.limited_until(now), None);
        let ok = response(200, &[("x-ratelimit-remaining", "4999")], "{}");
        assert_eq!(ok.rate_state(), None);
        // The last call of the budget succeeds but blocks the next ones until the reset.
        let last = response(
            200,
            &[
                ("x-ratelimit-remaining", "0"),
                ("x-ratelimit-reset", "5000"),
            ],
            "{}",
        );
        assert_eq!(last.rate_state().unwrap().remaining, Some(0));
    }
}
