//! The client: one `ureq` agent shared by worker threads, a request counter, an in-run memo,
//! the on-disk cache, retries, and rate-limit handling.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;

use crate::cache::{self, Cache, Entry};
use crate::config::ClientConfig;
use crate::error::Error;

/// Retries after a 5xx answer or a connection error, with exponential backoff.
const RETRIES: u32 = 3;
const BACKOFF_BASE: Duration = Duration::from_millis(200);
/// Rate-limit waits per request before giving up, whatever the time budget.
const MAX_RATE_LIMIT_ROUNDS: u32 = 5;
/// Largest body read (GitHub's API answers are far smaller).
const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Pages followed by [`Client::get_paginated`] at most (100 items each).
const MAX_PAGES: usize = 100;

/// One answer of the API. Header names are lowercase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl ApiResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The `rel="next"` target of the `Link` header.
    pub fn next_link(&self) -> Option<String> {
        let link = self.header("link")?;
        link.split(',').find_map(|part| {
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

    /// The body as JSON.
    pub fn json<T: DeserializeOwned>(&self, url: &str) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| Error::Decode {
            url: url.to_owned(),
            message: e.to_string(),
        })
    }

    /// GitHub's `message` field of an error answer, shortened.
    fn message(&self) -> String {
        let msg = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        let mut msg: String = msg.chars().take(200).collect();
        if msg.trim().is_empty() {
            msg = "no message".into();
        }
        msg
    }
}

/// A GitHub REST client. `Sync`: share one across threads (see [`Client::map_concurrent`]).
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    agent: ureq::Agent,
    cache: Option<Cache>,
    requests: AtomicUsize,
    memo: Mutex<HashMap<String, ApiResponse>>,
    /// When the primary rate limit resets, once GitHub said none is left.
    blocked_until: Mutex<Option<SystemTime>>,
    /// Milliseconds spent waiting out rate limits so far.
    waited_ms: AtomicU64,
}

enum Method<'a> {
    Get,
    Post(&'a [u8]),
    Put(&'a [u8]),
}

impl Method<'_> {
    fn name(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post(_) => "POST",
            Method::Put(_) => "PUT",
        }
    }
}

/// A request body as JSON bytes.
fn encode_body<B: serde::Serialize + ?Sized>(body: &B) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body)
        .map_err(|e| Error::Other(format!("cannot encode the request body: {e}")))
}

impl Client {
    pub fn new(config: ClientConfig) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(config.timeout))
            .http_status_as_error(false)
            .user_agent(format!("ciguard/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let cache = config.cache_dir.as_deref().map(Cache::new);
        Self {
            config,
            agent,
            cache,
            requests: AtomicUsize::new(0),
            memo: Mutex::new(HashMap::new()),
            blocked_until: Mutex::new(None),
            waited_ms: AtomicU64::new(0),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// HTTP requests sent so far (retries included; cache and memo hits excluded).
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// The absolute URL of `path` (a path under the API, or an absolute URL under it).
    pub fn url(&self, path: &str) -> Result<String, Error> {
        let base = &self.config.api_url;
        if path.starts_with("http://") || path.starts_with("https://") {
            if path == base
                || path.starts_with(&format!("{base}/"))
                || path.starts_with(&format!("{base}?"))
            {
                return Ok(path.to_owned());
            }
            return Err(Error::ForeignUrl {
                url: path.to_owned(),
                api_url: base.clone(),
            });
        }
        Ok(format!("{base}/{}", path.trim_start_matches('/')))
    }

    fn redact(&self, text: &str) -> String {
        match &self.config.token {
            Some(t) => t.redact(text),
            None => text.to_owned(),
        }
    }

    /// GETs `path`. Non-2xx answers are returned as they are, except rate limits (waited out
    /// within `max_wait`) and 5xx (retried), which become errors when they persist. Served from
    /// the in-run memo, then the cache (for immutable answers, or when offline), else revalidated
    /// with `If-None-Match`; a 304 returns the cached answer.
    pub fn get(&self, path: &str) -> Result<ApiResponse, Error> {
        let url = self.url(path)?;
        if let Some(hit) = self.memo.lock().ok().and_then(|m| m.get(&url).cloned()) {
            return Ok(hit);
        }
        let identity = self.config.token.as_ref().map(|t| t.identity());
        let key = Cache::key(&url, identity.as_deref());
        let cached = self.cache.as_ref().and_then(|c| c.load(&key));
        let immutable = cache::is_immutable(
            url.strip_prefix(self.config.api_url.as_str())
                .unwrap_or(&url),
        );
        if let Some(entry) = &cached
            && (self.config.offline || immutable)
        {
            let response = ApiResponse {
                status: entry.status,
                headers: entry.headers.clone(),
                body: entry.body.clone(),
            };
            self.remember(&url, &response);
            return Ok(response);
        }
        if self.config.offline {
            return Err(Error::Offline { url });
        }
        let etag = cached.as_ref().and_then(|e| e.etag()).map(str::to_owned);
        let mut response = self.send(&url, Method::Get, etag.as_deref())?;
        if response.status == 304
            && let Some(entry) = cached
        {
            // Keep fresh rate-limit headers; the rest describes the cached body.
            let mut headers = entry.headers;
            for (k, v) in &response.headers {
                if k.starts_with("x-ratelimit-") {
                    headers.retain(|(hk, _)| hk != k);
                    headers.push((k.clone(), v.clone()));
                }
            }
            response = ApiResponse {
                status: entry.status,
                headers,
                body: entry.body,
            };
        } else if (response.is_success() && (immutable || response.header("etag").is_some())
            // A file absent at a full commit SHA (transitive auditing asks for `action.yml`,
            // then `action.yaml`) stays absent: cached for good too.
            || response.status == 404 && immutable && url.contains("/contents/"))
            && let Some(cache) = &self.cache
        {
            let entry = Entry {
                url: url.clone(),
                status: response.status,
                headers: response.headers.clone(),
                body: response.body.clone(),
            };
            cache.store(&key, &entry);
        }
        if response.is_success() {
            self.remember(&url, &response);
        }
        Ok(response)
    }

    fn remember(&self, url: &str, response: &ApiResponse) {
        if let Ok(mut memo) = self.memo.lock() {
            memo.insert(url.to_owned(), response.clone());
        }
    }

    /// GETs `path` as JSON: `None` on 404, an error on any other non-2xx answer.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<Option<T>, Error> {
        let url = self.url(path)?;
        let response = self.get(&url)?;
        match response.status {
            404 => Ok(None),
            s if (200..300).contains(&s) => response.json(&url).map(Some),
            status => Err(Error::Status {
                url,
                status,
                message: self.redact(&response.message()),
            }),
        }
    }

    /// GETs every page of a list endpoint (`per_page=100`), following `Link: rel="next"`.
    pub fn get_paginated<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, Error> {
        let mut next = Some(if path.contains("per_page=") {
            path.to_owned()
        } else if path.contains('?') {
            format!("{path}&per_page=100")
        } else {
            format!("{path}?per_page=100")
        });
        let mut items = Vec::new();
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                break;
            }
            let url = self.url(&path)?;
            let response = self.get(&url)?;
            if !response.is_success() {
                return Err(Error::Status {
                    url,
                    status: response.status,
                    message: self.redact(&response.message()),
                });
            }
            let page: Vec<T> = response.json(&url)?;
            items.extend(page);
            next = response.next_link();
        }
        Ok(items)
    }

    /// POSTs a JSON body. Not cached; retried only on connection errors before an answer and
    /// rate limits, never on 5xx (a POST may have taken effect).
    pub fn post_json<B: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<ApiResponse, Error> {
        self.write(path, Method::Post(&encode_body(body)?))
    }

    /// PUTs a JSON body (idempotent, so 5xx answers are retried).
    pub fn put_json<B: serde::Serialize + ?Sized>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<ApiResponse, Error> {
        self.write(path, Method::Put(&encode_body(body)?))
    }

    fn write(&self, path: &str, method: Method<'_>) -> Result<ApiResponse, Error> {
        let url = self.url(path)?;
        if self.config.offline {
            return Err(Error::Offline { url });
        }
        self.send(&url, method, None)
    }

    /// Runs `f` on every item over at most `max_concurrency` threads; results keep the order.
    pub fn map_concurrent<T: Sync, R: Send>(
        &self,
        items: &[T],
        f: impl Fn(&T) -> R + Sync,
    ) -> Vec<R> {
        let workers = self.config.max_concurrency.max(1).min(items.len());
        if workers <= 1 {
            return items.iter().map(&f).collect();
        }
        let next = AtomicUsize::new(0);
        let results: Mutex<Vec<(usize, R)>> = Mutex::new(Vec::with_capacity(items.len()));
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break };
                        let r = f(item);
                        if let Ok(mut results) = results.lock() {
                            results.push((i, r));
                        }
                    }
                });
            }
        });
        let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        results.sort_by_key(|(i, _)| *i);
        results.into_iter().map(|(_, r)| r).collect()
    }

    /// GETs many paths concurrently (bounded by `max_concurrency`).
    pub fn get_many(&self, paths: &[String]) -> Vec<Result<ApiResponse, Error>> {
        self.map_concurrent(paths, |p| self.get(p))
    }

    /// Sends one request with retries, backoff and rate-limit waits.
    fn send(
        &self,
        url: &str,
        method: Method<'_>,
        etag: Option<&str>,
    ) -> Result<ApiResponse, Error> {
        let mut failures = 0;
        let mut rate_limit_rounds = 0;
        let retry_5xx = !matches!(method, Method::Post(_));
        loop {
            self.wait_for_primary_reset(url)?;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let response = match self.send_once(url, &method, etag) {
                Ok(r) => r,
                Err(message) => {
                    failures += 1;
                    if failures > RETRIES {
                        return Err(Error::Transport {
                            url: url.to_owned(),
                            message: self.redact(&message),
                            attempts: failures,
                        });
                    }
                    std::thread::sleep(BACKOFF_BASE * 2u32.pow(failures - 1));
                    continue;
                }
            };
            self.note_primary_limit(&response);
            if matches!(response.status, 403 | 429)
                && let Some(wait) = self.rate_limit_wait(&response)
            {
                rate_limit_rounds += 1;
                let kind = if response.header("retry-after").is_some() {
                    "secondary"
                } else {
                    "primary"
                };
                if rate_limit_rounds > MAX_RATE_LIMIT_ROUNDS {
                    return Err(self.rate_limited(
                        url,
                        kind,
                        wait,
                        "it persisted after several waits",
                    ));
                }
                self.spend_wait(url, kind, wait)?;
                continue;
            }
            if response.status >= 500 && retry_5xx {
                failures += 1;
                if failures > RETRIES {
                    return Err(Error::Server {
                        url: url.to_owned(),
                        status: response.status,
                        attempts: failures,
                    });
                }
                std::thread::sleep(BACKOFF_BASE * 2u32.pow(failures - 1));
                continue;
            }
            return Ok(response);
        }
    }

    fn send_once(
        &self,
        url: &str,
        method: &Method<'_>,
        etag: Option<&str>,
    ) -> Result<ApiResponse, String> {
        let mut builder = ureq::http::Request::builder()
            .method(method.name())
            .uri(url)
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28");
        if let Some(token) = &self.config.token {
            builder = builder.header("authorization", format!("Bearer {}", token.expose()));
        }
        if let Some(etag) = etag {
            builder = builder.header("if-none-match", etag);
        }
        let result = match method {
            Method::Get => builder
                .body(())
                .map_err(|e| e.to_string())
                .map(|r| self.agent.run(r)),
            Method::Post(b) | Method::Put(b) => builder
                .header("content-type", "application/json")
                .body(b.to_vec())
                .map_err(|e| e.to_string())
                .map(|r| self.agent.run(r)),
        }?;
        let mut response = result.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok(ApiResponse {
            status,
            headers,
            body,
        })
    }

    /// How long a 403/429 asks us to wait, if it is a rate limit at all.
    fn rate_limit_wait(&self, response: &ApiResponse) -> Option<Duration> {
        if let Some(after) = response.header("retry-after") {
            return Some(Duration::from_secs(after.trim().parse().unwrap_or(60)));
        }
        if response.header("x-ratelimit-remaining").map(str::trim) == Some("0") {
            let reset = response
                .header("x-ratelimit-reset")
                .and_then(|r| r.trim().parse::<u64>().ok());
            return Some(reset.map_or(Duration::from_secs(60), seconds_until));
        }
        None
    }

    fn note_primary_limit(&self, response: &ApiResponse) {
        if response.header("x-ratelimit-remaining").map(str::trim) != Some("0") {
            return;
        }
        if let Some(reset) = response
            .header("x-ratelimit-reset")
            .and_then(|r| r.trim().parse::<u64>().ok())
            && let Ok(mut blocked) = self.blocked_until.lock()
        {
            *blocked = Some(UNIX_EPOCH + Duration::from_secs(reset));
        }
    }

    fn wait_for_primary_reset(&self, url: &str) -> Result<(), Error> {
        let until = self.blocked_until.lock().ok().and_then(|b| *b);
        let Some(until) = until else { return Ok(()) };
        match until.duration_since(SystemTime::now()) {
            Ok(wait) if !wait.is_zero() => self.spend_wait(url, "primary", wait),
            _ => {
                if let Ok(mut blocked) = self.blocked_until.lock() {
                    *blocked = None;
                }
                Ok(())
            }
        }
    }

    /// Sleeps `wait` if the `max_wait` budget allows, else fails naming what to do.
    fn spend_wait(&self, url: &str, kind: &str, wait: Duration) -> Result<(), Error> {
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let budget = u64::try_from(self.config.max_wait.as_millis()).unwrap_or(u64::MAX);
        let spent = self.waited_ms.fetch_add(wait_ms, Ordering::Relaxed);
        if spent.saturating_add(wait_ms) > budget {
            self.waited_ms.fetch_sub(wait_ms, Ordering::Relaxed);
            return Err(self.rate_limited(url, kind, wait, "that is longer than ciguard may wait"));
        }
        let started = Instant::now();
        std::thread::sleep(wait);
        let _ = started;
        Ok(())
    }

    fn rate_limited(&self, url: &str, kind: &str, wait: Duration, why: &str) -> Error {
        let advice = if self.config.token.is_none() {
            "set GH_TOKEN (or pass --gh-token) for a higher limit, or try again later"
        } else {
            "lower the concurrency, or try again later"
        };
        Error::RateLimited {
            url: url.to_owned(),
            message: format!(
                "GitHub's {kind} rate limit asks to wait {} s and {why} (budget {} s); {advice}",
                wait.as_secs(),
                self.config.max_wait.as_secs()
            ),
        }
    }
}

fn seconds_until(epoch: u64) -> Duration {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Duration::from_secs(epoch.saturating_sub(now).max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(headers: &[(&str, &str)]) -> ApiResponse {
        ApiResponse {
            status: 200,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            body: Vec::new(),
        }
    }

    #[test]
    fn finds_the_next_link() {
        let r = response(&[(
            "link",
            "<https://api.github.com/repos/a/b/tags?per_page=100&page=2>; rel=\"next\", <https://api.github.com/repos/a/b/tags?per_page=100&page=5>; rel=\"last\"",
        )]);
        assert_eq!(
            r.next_link().as_deref(),
            Some("https://api.github.com/repos/a/b/tags?per_page=100&page=2")
        );
        assert_eq!(response(&[]).next_link(), None);
    }

    #[test]
    fn refuses_urls_outside_the_api() {
        let c = Client::new(ClientConfig {
            api_url: "https://api.github.com".into(),
            ..ClientConfig::default()
        });
        assert_eq!(
            c.url("/repos/a/b").unwrap(),
            "https://api.github.com/repos/a/b"
        );
        assert!(matches!(
            c.url("https://evil.example/repos"),
            Err(Error::ForeignUrl { .. })
        ));
        assert!(matches!(
            c.url("https://api.github.com.evil.example/x"),
            Err(Error::ForeignUrl { .. })
        ));
    }

    #[test]
    fn offline_sends_nothing() {
        let c = Client::new(ClientConfig {
            api_url: "http://127.0.0.1:9".into(),
            offline: true,
            ..ClientConfig::default()
        });
        assert!(matches!(c.get("/repos/a/b"), Err(Error::Offline { .. })));
        assert!(matches!(
            c.post_json("/repos/a/b", &serde_json::json!({})),
            Err(Error::Offline { .. })
        ));
        assert_eq!(c.request_count(), 0);
    }
}
