//! The client: one `ureq` agent shared by worker threads, a request counter, an in-run memo,
//! the on-disk cache, retries, rate-limit handling, same-host redirects, and the whole run's
//! network budget.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde_json::Value;

use ciguard_http::{AgentOptions, Backoff, Redirects, RequestCounter, TrustRoots};

use crate::cache::{self, Cache, Entry};
use crate::config::ClientConfig;
use crate::error::{self, Cause, Error};

/// Retries after a 5xx answer or a connection error, with exponential backoff.
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(200),
    retries: 3,
};
/// Rate-limit waits per request before giving up, whatever the time budget.
const MAX_RATE_LIMIT_ROUNDS: u32 = 5;
/// Largest body read (GitHub's API answers are far smaller).
pub(crate) const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Pages followed by [`Client::get_paginated`] at most (100 items each).
const MAX_PAGES: usize = 100;
/// Redirects followed per request (GitHub answers one for a renamed or transferred repository).
const MAX_REDIRECTS: u32 = 5;

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
        let msg = serde_json::from_slice::<Value>(&self.body)
            .ok()
            .and_then(|v| v.get("message").and_then(|m| m.as_str()).map(str::to_owned))
            .unwrap_or_else(|| String::from_utf8_lossy(&self.body).into_owned());
        let mut msg: String = msg.chars().take(200).collect();
        if msg.trim().is_empty() {
            msg = "no message".into();
        }
        msg
    }

    /// A 403/429 that GitHub's message calls a secondary rate limit (older servers say "abuse
    /// detection"), with or without `retry-after`.
    fn is_secondary_limit(&self) -> bool {
        if !matches!(self.status, 403 | 429) {
            return false;
        }
        let message = self.message().to_ascii_lowercase();
        message.contains("secondary rate limit") || message.contains("abuse detection")
    }
}

/// One cause of failed requests seen during the run, for a single diagnosis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkFailure {
    pub cause: Cause,
    /// Requests that failed with it.
    pub count: usize,
    /// The first of those errors, as printed.
    pub first: String,
    /// The URL of the first.
    pub url: String,
}

#[derive(Debug, Default)]
struct Failures {
    by_cause: BTreeMap<Cause, NetworkFailure>,
    /// Every message returned for a failure with a cause, so that notes built from them can be
    /// told apart from notes about one request.
    messages: HashSet<String>,
    /// A cause that fails every later request (DNS, refused, TLS, bad credentials, a rate limit
    /// not waited out, the deadline): GitHub asks clients not to go on while limited.
    halted: Option<Cause>,
}

/// A GitHub REST client. `Sync`: share one across threads (see [`Client::map_concurrent`]).
#[derive(Debug)]
pub struct Client {
    config: ClientConfig,
    agent: ciguard_http::Agent,
    cache: Option<Cache>,
    requests: RequestCounter,
    memo: Mutex<HashMap<String, ApiResponse>>,
    /// When the primary rate limit resets, once GitHub said none is left.
    blocked_until: Mutex<Option<SystemTime>>,
    /// Milliseconds spent waiting out rate limits so far.
    waited_ms: AtomicU64,
    /// When the run's network budget started.
    started: Instant,
    /// Secondary rate limits without `retry-after` met so far: each doubles the next wait.
    secondary_hits: AtomicU32,
    /// Once a secondary rate limit was met: when the next request may start.
    next_slot: Mutex<Option<Instant>>,
    failures: Mutex<Failures>,
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

/// A transport failure of one attempt, before retries.
struct AttemptError {
    message: String,
    cause: Option<Cause>,
}

/// A request body as JSON bytes.
fn encode_body<B: serde::Serialize + ?Sized>(body: &B) -> Result<Vec<u8>, Error> {
    serde_json::to_vec(body).map_err(Error::Encode)
}

impl Client {
    pub fn new(config: ClientConfig) -> Self {
        let agent = AgentOptions {
            timeout: config.timeout,
            roots: TrustRoots::Bundled,
            // Followed by `send`, which keeps the token on the API's own origin.
            redirects: Redirects::Caller,
            idle_per_host: config.max_concurrency,
        }
        .build();
        let cache = config.cache_dir.as_deref().map(Cache::new);
        Self {
            config,
            agent,
            cache,
            requests: RequestCounter::default(),
            memo: Mutex::new(HashMap::new()),
            blocked_until: Mutex::new(None),
            waited_ms: AtomicU64::new(0),
            started: Instant::now(),
            secondary_hits: AtomicU32::new(0),
            next_slot: Mutex::new(None),
            failures: Mutex::new(Failures::default()),
        }
    }

    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// HTTP requests sent so far (retries included; cache and memo hits excluded).
    pub fn request_count(&self) -> usize {
        self.requests.get()
    }

    /// The causes of failed requests so far, one entry each, in a stable order.
    pub fn network_failures(&self) -> Vec<NetworkFailure> {
        self.failures
            .lock()
            .map(|f| f.by_cause.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Whether `text` (a note built from an error of this client) reports a request that failed
    /// for one of [`Client::network_failures`], so that the cause can be said once instead.
    pub fn is_network_failure_note(&self, text: &str) -> bool {
        self.failures
            .lock()
            .is_ok_and(|f| f.messages.iter().any(|m| text.contains(m.as_str())))
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

    /// Notes the cause of `e`, if it has one; a cause that every later request would meet
    /// stops them before they are sent.
    fn record(&self, e: Error) -> Error {
        let Some(cause) = e.cause() else { return e };
        if let Ok(mut failures) = self.failures.lock() {
            let text = e.to_string();
            failures
                .by_cause
                .entry(cause)
                .and_modify(|f| f.count += 1)
                .or_insert_with(|| NetworkFailure {
                    cause,
                    count: 1,
                    first: text.clone(),
                    url: e.url().unwrap_or_default().to_owned(),
                });
            failures.messages.insert(text);
            if matches!(
                cause,
                Cause::Dns
                    | Cause::ConnectionRefused
                    | Cause::Tls
                    | Cause::BadCredentials
                    | Cause::RateLimit
                    | Cause::Deadline
            ) {
                failures.halted.get_or_insert(cause);
            }
        }
        e
    }

    /// The error for a non-2xx answer. Not recorded again: a 401, the only status with a cause,
    /// was recorded by [`Client::get`] with this same message.
    fn status_error(&self, url: String, response: &ApiResponse) -> Error {
        Error::Status {
            url,
            status: response.status,
            message: self.redact(&response.message()),
        }
    }

    /// GETs `path`. Non-2xx answers are returned as they are, except rate limits (waited out
    /// within `max_wait`) and 5xx (retried), which become errors when they persist. Served from
    /// the in-run memo, then the cache (for immutable answers, or when offline), else revalidated
    /// with `If-None-Match`; a 304 returns the cached answer. A cached body that is not JSON
    /// (every API answer is) is a miss, fetched again without `If-None-Match`.
    pub fn get(&self, path: &str) -> Result<ApiResponse, Error> {
        let url = self.url(path)?;
        if let Some(hit) = self.memo.lock().ok().and_then(|m| m.get(&url).cloned()) {
            return Ok(hit);
        }
        let identity = self.config.token.as_ref().map(|t| t.identity());
        let key = Cache::key(&url, identity.as_deref());
        let cached = self
            .cache
            .as_ref()
            .and_then(|c| c.load(&key))
            .filter(|e| serde_json::from_slice::<serde::de::IgnoredAny>(&e.body).is_ok());
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
        // Without a disk entry, an answer kept in memory is revalidated (never served unasked).
        let cached =
            cached.or_else(|| self.config.revalidation.as_ref().and_then(|r| r.load(&url)));
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
            let entry = Entry::new(
                url.clone(),
                response.status,
                response.headers.clone(),
                response.body.clone(),
            );
            cache.store(&key, &entry);
        }
        if response.is_success() {
            self.remember(&url, &response);
            if let Some(r) = &self.config.revalidation
                && response.header("etag").is_some()
            {
                r.store(&url, response.status, &response.headers, &response.body);
            }
        }
        if response.status == 401 && self.config.token.is_some() {
            // Every later request would be refused too: say it once, send no more.
            self.record(self.status_error(url, &response));
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
            _ => Err(self.status_error(url, &response)),
        }
    }

    /// GETs every page of a list endpoint (`per_page=100`), following `Link: rel="next"`.
    /// Arrays and `{total_count, <list>}` envelopes alike; see [`Client::get_all_pages`].
    pub fn get_paginated<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, Error> {
        let url = self.url(path)?;
        let response = self.get_all_pages(path)?;
        if !response.is_success() {
            return Err(self.status_error(url, &response));
        }
        let items = match response.json::<Value>(&url)? {
            Value::Array(items) => items,
            Value::Object(fields) => match list_field(&fields) {
                Some((_, items)) => items.clone(),
                None => {
                    return Err(Error::Decode {
                        url,
                        message: "expected a list".into(),
                    });
                }
            },
            _ => {
                return Err(Error::Decode {
                    url,
                    message: "expected a list".into(),
                });
            }
        };
        items
            .into_iter()
            .map(|item| {
                serde_json::from_value(item).map_err(|e| Error::Decode {
                    url: url.clone(),
                    message: e.to_string(),
                })
            })
            .collect()
    }

    /// GETs `path` with `per_page=100` and, when the answer is a list (an array, or an envelope
    /// `{"total_count": n, "<list>": [...]}` as for secrets and environments), every further
    /// page its `Link` header names. The answer holds all items in the first page's shape (an
    /// envelope's `total_count` is kept). A non-2xx page is returned as it is. When an envelope's
    /// `total_count` differs from the items read, or the pages exceed the bound, the list is
    /// incomplete: an error, never a silently partial list.
    pub fn get_all_pages(&self, path: &str) -> Result<ApiResponse, Error> {
        let first_path = with_per_page(path);
        let first_url = self.url(&first_path)?;
        let first = self.get(&first_url)?;
        if !first.is_success() {
            return Ok(first);
        }
        let Ok(mut body) = serde_json::from_slice::<Value>(&first.body) else {
            return Ok(first);
        };
        let (key, total) = match &body {
            Value::Array(_) => (None, None),
            Value::Object(fields) => match list_field(fields) {
                Some((key, _)) => (
                    Some(key.to_owned()),
                    fields.get("total_count").and_then(Value::as_u64),
                ),
                None => return Ok(first),
            },
            _ => return Ok(first),
        };
        let mut items = match take_items(&mut body, key.as_deref()) {
            Some(items) => items,
            None => return Ok(first),
        };
        let mut next = first.next_link();
        let mut pages = 1;
        while let Some(link) = next.take() {
            pages += 1;
            if pages > MAX_PAGES {
                return Err(self.record(Error::Incomplete {
                    url: first_url,
                    message: format!(
                        "the list has more than {MAX_PAGES} pages; ciguard reads at most {MAX_PAGES}, so it is treated as unknown"
                    ),
                }));
            }
            let url = self.url(&link)?;
            let page = self.get(&url)?;
            if !page.is_success() {
                return Ok(page);
            }
            let mut value = page.json::<Value>(&url)?;
            let more = take_items(&mut value, key.as_deref()).ok_or_else(|| Error::Decode {
                url: url.clone(),
                message: "a later page is not a list like the first".into(),
            })?;
            items.extend(more);
            next = page.next_link();
        }
        if let Some(total) = total
            && total != items.len() as u64
        {
            return Err(Error::Incomplete {
                url: first_url,
                message: format!(
                    "GitHub counts {} but its pages listed {}; the list is incomplete, so what depends on it is unknown (try again)",
                    ciguard_core::plural::count(total as usize, "item", "items"),
                    items.len()
                ),
            });
        }
        match (&key, &mut body) {
            (Some(key), Value::Object(fields)) => {
                fields.insert(key.clone(), Value::Array(items));
            }
            _ => body = Value::Array(items),
        }
        Ok(ApiResponse {
            status: first.status,
            headers: first
                .headers
                .into_iter()
                .filter(|(k, _)| k != "link")
                .collect(),
            body: body.to_string().into_bytes(),
        })
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

    /// Sends one request with retries, backoff, rate-limit waits and same-origin redirects,
    /// within the run's network budget. Errors with a cause are recorded.
    fn send(
        &self,
        url: &str,
        method: Method<'_>,
        etag: Option<&str>,
    ) -> Result<ApiResponse, Error> {
        self.send_unrecorded(url, method, etag)
            .map_err(|e| self.record(e))
    }

    fn send_unrecorded(
        &self,
        url: &str,
        method: Method<'_>,
        etag: Option<&str>,
    ) -> Result<ApiResponse, Error> {
        let mut current = url.to_owned();
        let mut redirects = 0;
        let mut failures = 0;
        let mut rate_limit_rounds = 0;
        let retry_5xx = !matches!(method, Method::Post(_));
        loop {
            self.check_halted(&current)?;
            self.wait_for_primary_reset(&current)?;
            self.wait_for_pace(&current)?;
            let timeout = self.attempt_timeout(&current)?;
            self.requests.add();
            if let Some(progress) = &self.config.progress {
                progress.add();
            }
            let response = match self.send_once(&current, &method, etag, timeout) {
                Ok(r) => r,
                Err(failure) => {
                    failures += 1;
                    if self.remaining().is_zero() {
                        return Err(self.deadline(&current));
                    }
                    let Some(pause) = BACKOFF.delay(failures) else {
                        return Err(Error::Transport {
                            url: current,
                            message: self.redact(&failure.message),
                            attempts: failures,
                            cause: failure.cause,
                        });
                    };
                    self.sleep_within_budget(&current, pause)?;
                    continue;
                }
            };
            self.note_primary_limit(&response);
            if let Some((wait, kind)) = self.rate_limit_wait(&response) {
                rate_limit_rounds += 1;
                if rate_limit_rounds > MAX_RATE_LIMIT_ROUNDS {
                    return Err(self.rate_limited(
                        &current,
                        kind,
                        wait,
                        "it persisted after several waits",
                    ));
                }
                self.spend_wait(&current, kind, wait)?;
                continue;
            }
            if response.status >= 500 && retry_5xx {
                failures += 1;
                let Some(pause) = BACKOFF.delay(failures) else {
                    return Err(Error::Server {
                        url: current,
                        status: response.status,
                        attempts: failures,
                    });
                };
                self.sleep_within_budget(&current, pause)?;
                continue;
            }
            if let Some(target) = redirect_location(&response, &method) {
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return Err(Error::TooManyRedirects {
                        url: url.to_owned(),
                        max: MAX_REDIRECTS,
                    });
                }
                current = self.same_origin_target(&current, target)?;
                failures = 0;
                continue;
            }
            return Ok(response);
        }
    }

    /// The absolute URL a redirect names, when it keeps the scheme, host and port of the API:
    /// only there may the token go.
    fn same_origin_target(&self, current: &str, location: &str) -> Result<String, Error> {
        ciguard_http::same_origin_target(&self.config.api_url, location).map_err(|foreign| {
            Error::ForeignRedirect {
                url: current.to_owned(),
                target: self.redact(
                    foreign
                        .origin
                        .as_deref()
                        .unwrap_or("an unreadable location"),
                ),
                api_url: self.config.api_url.clone(),
            }
        })
    }

    fn send_once(
        &self,
        url: &str,
        method: &Method<'_>,
        etag: Option<&str>,
        timeout: Duration,
    ) -> Result<ApiResponse, AttemptError> {
        let failed = |e: ciguard_http::Error| AttemptError {
            cause: error::classify(&e),
            message: e.to_string(),
        };
        let unsent = |e: ciguard_http::http::Error| AttemptError {
            message: e.to_string(),
            cause: None,
        };
        let mut builder = ciguard_http::http::Request::builder()
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
            Method::Get => builder.body(()).map_err(unsent).map(|r| {
                let r = self
                    .agent
                    .configure_request(r)
                    .timeout_global(Some(timeout))
                    .build();
                self.agent.run(r)
            }),
            Method::Post(b) | Method::Put(b) => builder
                .header("content-type", "application/json")
                .body(b.to_vec())
                .map_err(unsent)
                .map(|r| {
                    let r = self
                        .agent
                        .configure_request(r)
                        .timeout_global(Some(timeout))
                        .build();
                    self.agent.run(r)
                }),
        }?;
        let mut response = result.map_err(failed)?;
        let ciguard_http::Answer {
            status,
            headers,
            body,
        } = ciguard_http::read_response(&mut response, MAX_BODY).map_err(failed)?;
        Ok(ApiResponse {
            status,
            headers,
            body,
        })
    }

    /// How long a 403/429 asks us to wait, if it is a rate limit at all, and which kind. In
    /// GitHub's documented order: `retry-after`; else `x-ratelimit-remaining: 0` until the reset;
    /// else, for a secondary limit, at least a minute, doubled each time it comes back.
    fn rate_limit_wait(&self, response: &ApiResponse) -> Option<(Duration, &'static str)> {
        if !matches!(response.status, 403 | 429) {
            return None;
        }
        let secondary = response.is_secondary_limit();
        if let Some(after) = response.header("retry-after") {
            if secondary {
                self.start_pacing();
            }
            let secs = after.trim().parse().unwrap_or(60);
            return Some((Duration::from_secs(secs), "secondary"));
        }
        if response.header("x-ratelimit-remaining").map(str::trim) == Some("0") {
            let reset = response
                .header("x-ratelimit-reset")
                .and_then(|r| r.trim().parse::<u64>().ok());
            let kind = if secondary { "secondary" } else { "primary" };
            return Some((reset.map_or(Duration::from_secs(60), seconds_until), kind));
        }
        if secondary || response.status == 429 {
            self.start_pacing();
            let hits = self.secondary_hits.fetch_add(1, Ordering::Relaxed);
            let wait = self
                .config
                .secondary_wait
                .saturating_mul(2u32.saturating_pow(hits.min(16)));
            return Some((wait, "secondary"));
        }
        None
    }

    /// After a secondary rate limit, requests are spaced out (GitHub asks clients to slow down).
    fn start_pacing(&self) {
        if let Ok(mut slot) = self.next_slot.lock() {
            slot.get_or_insert_with(Instant::now);
        }
    }

    /// Waits for this request's turn when pacing is on: one start per `secondary_wait / 60`.
    fn wait_for_pace(&self, url: &str) -> Result<(), Error> {
        let gap = self.config.secondary_wait / 60;
        let turn = match self.next_slot.lock() {
            Ok(mut slot) => match slot.as_mut() {
                Some(next) => {
                    let turn = (*next).max(Instant::now());
                    *next = turn + gap;
                    turn
                }
                None => return Ok(()),
            },
            Err(_) => return Ok(()),
        };
        self.sleep_within_budget(url, turn.saturating_duration_since(Instant::now()))
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

    /// What is left of the run's network budget.
    fn remaining(&self) -> Duration {
        self.config
            .network_budget
            .saturating_sub(self.started.elapsed())
    }

    fn deadline(&self, url: &str) -> Error {
        Error::Deadline {
            url: url.to_owned(),
            budget_secs: self.config.network_budget.as_secs(),
        }
    }

    /// The next attempt's timeout: the per-request one, cut to what is left of the budget.
    fn attempt_timeout(&self, url: &str) -> Result<Duration, Error> {
        let remaining = self.remaining();
        if remaining.is_zero() {
            return Err(self.deadline(url));
        }
        Ok(self.config.timeout.min(remaining))
    }

    /// A request not to send, because an earlier one met a cause that fails them all.
    fn check_halted(&self, url: &str) -> Result<(), Error> {
        match self.failures.lock().ok().and_then(|f| f.halted) {
            Some(Cause::Deadline) => Err(self.deadline(url)),
            Some(cause) => Err(Error::Halted {
                url: url.to_owned(),
                cause,
            }),
            None => Ok(()),
        }
    }

    /// Sleeps `wait` unless that would pass the end of the network budget.
    fn sleep_within_budget(&self, url: &str, wait: Duration) -> Result<(), Error> {
        if wait >= self.remaining() {
            return Err(self.deadline(url));
        }
        std::thread::sleep(wait);
        Ok(())
    }

    /// Sleeps `wait` if the `max_wait` budget and the network budget allow, else fails naming
    /// what to do.
    fn spend_wait(&self, url: &str, kind: &str, wait: Duration) -> Result<(), Error> {
        if wait >= self.remaining() {
            return Err(self.rate_limited(
                url,
                kind,
                wait,
                &format!(
                    "that would pass the run's network budget of {} s (--network-budget)",
                    self.config.network_budget.as_secs()
                ),
            ));
        }
        let wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX);
        let budget = u64::try_from(self.config.max_wait.as_millis()).unwrap_or(u64::MAX);
        let spent = self.waited_ms.fetch_add(wait_ms, Ordering::Relaxed);
        if spent.saturating_add(wait_ms) > budget {
            self.waited_ms.fetch_sub(wait_ms, Ordering::Relaxed);
            return Err(self.rate_limited(
                url,
                kind,
                wait,
                &format!(
                    "that is longer than ciguard may wait (--max-wait {} s)",
                    self.config.max_wait.as_secs()
                ),
            ));
        }
        std::thread::sleep(wait);
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
                "GitHub's {kind} rate limit asks to wait {} s and {why}; {advice}",
                wait.as_secs(),
            ),
        }
    }
}

/// The `Location` of a redirect the client follows itself: any for GET; for a write only 307
/// and 308, which keep the method and body.
fn redirect_location<'r>(response: &'r ApiResponse, method: &Method<'_>) -> Option<&'r str> {
    let follow = match method {
        Method::Get => matches!(response.status, 301 | 302 | 303 | 307 | 308),
        Method::Post(_) | Method::Put(_) => matches!(response.status, 307 | 308),
    };
    follow.then(|| response.header("location")).flatten()
}

/// `path` with `per_page=100` unless it names a page size.
fn with_per_page(path: &str) -> String {
    let query = path.split_once('?').map_or("", |(_, q)| q);
    if query.split('&').any(|kv| kv.starts_with("per_page=")) {
        path.to_owned()
    } else if path.contains('?') {
        format!("{path}&per_page=100")
    } else {
        format!("{path}?per_page=100")
    }
}

/// The one array field of an envelope (`secrets`, `environments`, `branch_policies`, ...).
fn list_field(fields: &serde_json::Map<String, Value>) -> Option<(&str, &Vec<Value>)> {
    let mut lists = fields
        .iter()
        .filter_map(|(k, v)| v.as_array().map(|a| (k.as_str(), a)));
    let first = lists.next()?;
    lists.next().is_none().then_some(first)
}

/// A page's items: the array itself, or the envelope's `key` field.
fn take_items(page: &mut Value, key: Option<&str>) -> Option<Vec<Value>> {
    let list = match key {
        None => page,
        Some(key) => page.get_mut(key)?,
    };
    match list.take() {
        Value::Array(items) => Some(items),
        _ => None,
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
    fn page_sizes() {
        assert_eq!(with_per_page("/a"), "/a?per_page=100");
        assert_eq!(with_per_page("/a?b=1"), "/a?b=1&per_page=100");
        assert_eq!(with_per_page("/a?per_page=5"), "/a?per_page=5");
        assert_eq!(
            with_per_page("/a?xper_page=5"),
            "/a?xper_page=5&per_page=100"
        );
    }

    #[test]
    fn a_cached_body_that_is_not_json_is_a_miss() {
        use ciguard_test_support::git::action_repo;
        use ciguard_test_support::github::FakeGitHub;
        let dir = tempfile::tempdir().unwrap();
        let server = FakeGitHub::start().unwrap();
        let (repo, _) = action_repo(
            &dir.path().join("r"),
            "r",
            &[("v1.0.0", "2024-01-01T00:00:00Z")],
        )
        .unwrap();
        server.add_repo("a/r", &repo);
        let config = ClientConfig {
            api_url: server.url(),
            cache_dir: Some(dir.path().join("cache")),
            ..ClientConfig::default()
        };
        // A consistent entry (its digest matches) whose body is cut JSON, with an ETag.
        let url = format!("{}/repos/a/r", server.url());
        let cache = Cache::new(&dir.path().join("cache"));
        let entry = Entry::new(
            url.clone(),
            200,
            vec![("etag".into(), "W/\"x\"".into())],
            b"{\"default_branch\": \"ma".to_vec(),
        );
        cache.store(&Cache::key(&url, None), &entry);
        let client = Client::new(config);
        let answer = client.get_json::<serde_json::Value>("/repos/a/r").unwrap();
        assert_eq!(answer.unwrap()["default_branch"], "main");
        let log = server.requests();
        assert!(log.len() == 1 && !log[0].conditional, "{log:?}");
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
