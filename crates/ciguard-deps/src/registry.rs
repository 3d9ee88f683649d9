//! Publish dates and yanked status from the registries: the crates.io sparse index (`pubtime`),
//! PyPI's JSON API (upload times of a release's files) and the npm registry (`time`).
//!
//! One request per distinct package (each answer holds every version), with a bounded number in
//! flight per registry over reused, compressed connections. Answers are cached on disk (see
//! [`crate::cache`]): publish times for good, yank status revalidated with `ETag`s, negative
//! answers for a day. Offline, only the cache is read and what it lacks is reported.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use ciguard_http::{AgentOptions, Backoff, Redirects, RequestCounter, TrustRoots};

use crate::cache::{CacheEntry, DiskCache, Versions};
use crate::error::{ConfigError, DecodeError, Error};
use crate::lockfile::Ecosystem;
use crate::time::parse_timestamp;

/// What a registry says about one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    /// Unix seconds; `None` when the registry does not say.
    pub published: Option<i64>,
    /// Yanked (crates.io, PyPI) or unpublished (npm).
    pub yanked: bool,
}

/// The answer for one `name@version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Release),
    /// The registry knows the package but not this version.
    UnknownVersion,
    /// The registry does not know the package.
    UnknownPackage,
    /// Offline, and the cache has no answer.
    NotCached,
    /// The registry could not be asked; the message says why.
    Failed(String),
}

/// Registry base URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryUrls {
    pub crates_io: String,
    pub pypi: String,
    pub npm: String,
}

impl Default for RegistryUrls {
    fn default() -> Self {
        Self {
            crates_io: "https://index.crates.io".into(),
            pypi: "https://pypi.org".into(),
            npm: "https://registry.npmjs.org".into(),
        }
    }
}

impl RegistryUrls {
    pub fn get(&self, eco: Ecosystem) -> &str {
        match eco {
            Ecosystem::Cargo => &self.crates_io,
            Ecosystem::PyPI => &self.pypi,
            Ecosystem::Npm => &self.npm,
        }
    }

    /// Sets one base URL by its key (`crates-io`, `pypi`, `npm`).
    pub fn set(&mut self, key: &str, url: &str) -> Result<(), ConfigError> {
        crate::config::check_registry(key, url)?;
        let url = url.trim_end_matches('/').to_owned();
        match key {
            "crates-io" => self.crates_io = url,
            "pypi" => self.pypi = url,
            _ => self.npm = url,
        }
        Ok(())
    }

    /// The URL that describes every version of a package.
    pub fn package_url(&self, eco: Ecosystem, name: &str) -> String {
        let base = self.get(eco);
        match eco {
            Ecosystem::Cargo => {
                let n = name.to_ascii_lowercase();
                let prefix = match n.len() {
                    0 => String::new(),
                    1 => "1".into(),
                    2 => "2".into(),
                    3 => format!("3/{}", &n[..1]),
                    _ => format!("{}/{}", &n[..2], &n[2..4]),
                };
                format!("{base}/{prefix}/{n}")
            }
            Ecosystem::PyPI => format!("{base}/pypi/{}/json", normalize_pypi(name)),
            Ecosystem::Npm => format!("{base}/{}", name.replace('/', "%2F")),
        }
    }
}

/// PEP 503 name normalization.
pub fn normalize_pypi(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut sep = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            sep = true;
        } else {
            if sep && !out.is_empty() {
                out.push('-');
            }
            sep = false;
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub urls: RegistryUrls,
    /// Where answers are kept; `None` = no cache.
    pub cache_dir: Option<PathBuf>,
    /// Read the cache only; never ask a registry.
    pub offline: bool,
    /// Concurrent requests per registry.
    pub threads: usize,
    pub timeout: Duration,
    /// How long a cached yank status and version list are trusted before being revalidated
    /// (with `If-None-Match`). Publish times are trusted for good.
    pub revalidate_after: Duration,
    /// How long "no such package" or "no such version" is trusted.
    pub negative_ttl: Duration,
}

/// An hour: yanks are rare, and a conditional request per package per hour costs little.
pub const DEFAULT_REVALIDATE_AFTER: Duration = Duration::from_secs(3600);
/// A day, as the issue of private names fetched on every run asked.
pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(24 * 3600);

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            urls: RegistryUrls::default(),
            cache_dir: default_cache_dir(),
            offline: false,
            threads: 8,
            timeout: Duration::from_secs(30),
            revalidate_after: DEFAULT_REVALIDATE_AFTER,
            negative_ttl: DEFAULT_NEGATIVE_TTL,
        }
    }
}

/// `$XDG_CACHE_HOME/ciguard/registry`, else `~/.cache/ciguard/registry`.
pub fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })?;
    Some(base.join("ciguard").join("registry"))
}

/// What the registries were asked, for the summary and the benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RequestStats {
    pub requests: usize,
    /// Requests that carried `If-None-Match`.
    pub conditional: usize,
    /// Answers `304 Not Modified`.
    pub not_modified: usize,
    /// Bytes of answer bodies, after decompression.
    pub body_bytes: usize,
}

enum Fetched {
    Versions(Versions, Option<String>),
    NotModified,
    NotFound,
}

/// After this many packages in a row could not reach a registry, the rest of the run does not
/// try it again: one failed connection is retried, a dead registry is not hammered.
const DOWN_AFTER_FAILURES: usize = 3;

/// Retries of a registry that could not be reached or answered 5xx.
const BACKOFF: Backoff = Backoff {
    base: Duration::from_millis(300),
    retries: 2,
};

/// Asks registries for publish dates; counts the requests it makes.
pub struct RegistryClient {
    options: ClientOptions,
    cache: Option<DiskCache>,
    /// One agent for the run: its pool keeps a connection (and its DNS lookup) per thread.
    agent: ciguard_http::Agent,
    requests: RequestCounter,
    conditional: AtomicUsize,
    not_modified: AtomicUsize,
    body_bytes: AtomicUsize,
    /// Consecutive unreachable failures per registry; reset by any answer.
    failures: [AtomicUsize; 3],
    down_reason: Mutex<HashMap<Ecosystem, String>>,
}

fn eco_index(eco: Ecosystem) -> usize {
    match eco {
        Ecosystem::Cargo => 0,
        Ecosystem::PyPI => 1,
        Ecosystem::Npm => 2,
    }
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}

impl RegistryClient {
    pub fn new(options: ClientOptions) -> Self {
        let agent = AgentOptions {
            timeout: options.timeout,
            // The system's trust store, so mirrors and proxies with private CAs work.
            roots: TrustRoots::Platform,
            // No credentials are sent: a registry may redirect to its CDN.
            redirects: Redirects::Follow,
            idle_per_host: options.threads,
        }
        .build();
        Self {
            cache: options.cache_dir.clone().map(DiskCache::new),
            options,
            agent,
            requests: RequestCounter::default(),
            conditional: AtomicUsize::new(0),
            not_modified: AtomicUsize::new(0),
            body_bytes: AtomicUsize::new(0),
            failures: [
                AtomicUsize::new(0),
                AtomicUsize::new(0),
                AtomicUsize::new(0),
            ],
            down_reason: Mutex::new(HashMap::new()),
        }
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// HTTP requests made so far.
    pub fn requests(&self) -> usize {
        self.requests.get()
    }

    pub fn stats(&self) -> RequestStats {
        RequestStats {
            requests: self.requests(),
            conditional: self.conditional.load(Ordering::Relaxed),
            not_modified: self.not_modified.load(Ordering::Relaxed),
            body_bytes: self.body_bytes.load(Ordering::Relaxed),
        }
    }

    /// Looks up every `(ecosystem, name, version)`: at most one request per distinct package not
    /// answered by the cache, with `threads` requests in flight per registry.
    pub fn lookup(
        &self,
        wanted: &[(Ecosystem, String, String)],
    ) -> HashMap<(Ecosystem, String, String), Lookup> {
        let mut by_package: BTreeMap<(Ecosystem, String), Vec<String>> = BTreeMap::new();
        for (eco, name, version) in wanted {
            let versions = by_package.entry((*eco, name.clone())).or_default();
            if !versions.contains(version) {
                versions.push(version.clone());
            }
        }
        let mut queues: BTreeMap<Ecosystem, Vec<(String, Vec<String>)>> = BTreeMap::new();
        for ((eco, name), versions) in by_package {
            queues.entry(eco).or_default().push((name, versions));
        }
        let results = Mutex::new(HashMap::new());
        let per_registry = self.options.threads.clamp(1, 64);
        std::thread::scope(|scope| {
            for (eco, jobs) in &queues {
                let next = std::sync::Arc::new(AtomicUsize::new(0));
                for _ in 0..per_registry.min(jobs.len()) {
                    let (next, results) = (std::sync::Arc::clone(&next), &results);
                    scope.spawn(move || {
                        while let Some((name, versions)) =
                            jobs.get(next.fetch_add(1, Ordering::Relaxed))
                        {
                            let answers = self.package(*eco, name, versions);
                            if let Ok(mut r) = results.lock() {
                                for (version, answer) in versions.iter().zip(answers) {
                                    r.insert((*eco, name.clone(), version.clone()), answer);
                                }
                            }
                        }
                    });
                }
            }
        });
        results.into_inner().unwrap_or_default()
    }

    fn package(&self, eco: Ecosystem, name: &str, versions: &[String]) -> Vec<Lookup> {
        let now = crate::time::now();
        let cached = self.cache.as_ref().and_then(|c| c.read(eco, name));
        let fresh = |at: i64, ttl: Duration| now.saturating_sub(at) < secs(ttl);
        if let Some(entry) = &cached {
            let negative_fresh =
                |at: Option<&i64>| at.is_some_and(|at| fresh(*at, self.options.negative_ttl));
            if negative_fresh(entry.missing_package_at.as_ref())
                || (self.options.offline && entry.missing_package_at.is_some())
            {
                return versions.iter().map(|_| Lookup::UnknownPackage).collect();
            }
            let settled = |v: &String| {
                find_version(&entry.versions, eco, v).is_some()
                    || negative_fresh(entry.missing_versions.get(v))
            };
            if self.options.offline
                || (fresh(entry.checked_at, self.options.revalidate_after)
                    && versions.iter().all(settled))
            {
                return versions
                    .iter()
                    .map(|v| match find_version(&entry.versions, eco, v) {
                        Some(r) => Lookup::Found(r),
                        None if entry.missing_versions.contains_key(v) => Lookup::UnknownVersion,
                        None => Lookup::NotCached,
                    })
                    .collect();
            }
        } else if self.options.offline {
            return versions.iter().map(|_| Lookup::NotCached).collect();
        }
        let index = eco_index(eco);
        if self.failures[index].load(Ordering::Relaxed) >= DOWN_AFTER_FAILURES {
            let reason = self
                .down_reason
                .lock()
                .ok()
                .and_then(|r| r.get(&eco).cloned())
                .unwrap_or_default();
            return versions
                .iter()
                .map(|_| Lookup::Failed(reason.clone()))
                .collect();
        }
        let etag = cached.as_ref().and_then(|e| e.etag.as_deref());
        let mut result = self.fetch(eco, name, etag);
        // Connection errors are often passing (DNS, resets): two more tries before giving up.
        let mut failures = 0;
        while result.as_ref().is_err_and(Error::is_unreachable) {
            failures += 1;
            let Some(pause) = BACKOFF.delay(failures) else {
                break;
            };
            std::thread::sleep(pause);
            result = self.fetch(eco, name, etag);
        }
        if !result.as_ref().is_err_and(Error::is_unreachable) {
            self.failures[index].store(0, Ordering::Relaxed);
        }
        let mut entry = cached.unwrap_or_default();
        match result {
            Ok(Fetched::Versions(fresh_versions, etag)) => {
                // Publish times are immutable: an old answer's time is kept when a mirror
                // forgets it; yank status and the list come from the new answer.
                let mut merged = fresh_versions;
                for (v, old) in &entry.versions {
                    if let Some(new) = merged.get_mut(v) {
                        new.published = new.published.or(old.published);
                    }
                }
                entry.versions = merged;
                entry.etag = etag;
                entry.checked_at = now;
                entry.missing_package_at = None;
                entry.missing_versions.clear();
            }
            Ok(Fetched::NotModified) => entry.checked_at = now,
            Ok(Fetched::NotFound) => {
                entry = CacheEntry {
                    missing_package_at: Some(now),
                    ..CacheEntry::default()
                };
                self.store(eco, name, &entry);
                return versions.iter().map(|_| Lookup::UnknownPackage).collect();
            }
            Err(error) => {
                let message = error.to_string();
                if error.is_unreachable() {
                    self.failures[index].fetch_add(1, Ordering::Relaxed);
                    if let Ok(mut r) = self.down_reason.lock() {
                        r.entry(eco).or_insert_with(|| message.clone());
                    }
                }
                return versions
                    .iter()
                    .map(|_| Lookup::Failed(message.clone()))
                    .collect();
            }
        }
        let answers = versions
            .iter()
            .map(|v| answer(Some(&entry.versions), eco, v))
            .collect::<Vec<_>>();
        for (v, a) in versions.iter().zip(&answers) {
            if *a == Lookup::UnknownVersion {
                entry.missing_versions.insert(v.clone(), now);
            }
        }
        self.store(eco, name, &entry);
        answers
    }

    fn store(&self, eco: Ecosystem, name: &str, entry: &CacheEntry) {
        if let Some(cache) = &self.cache {
            cache.write(eco, name, entry);
        }
    }

    /// One GET, conditional when an `ETag` is known.
    fn fetch(&self, eco: Ecosystem, name: &str, etag: Option<&str>) -> Result<Fetched, Error> {
        let url = self.options.urls.package_url(eco, name);
        self.requests.add();
        let mut request = self.agent.get(&url).header("Accept", "application/json");
        if let Some(etag) = etag {
            self.conditional.fetch_add(1, Ordering::Relaxed);
            request = request.header("If-None-Match", etag);
        }
        let registry = eco.registry_name();
        let mut response = request.call().map_err(|e| {
            let unreachable = matches!(
                e,
                ciguard_http::Error::Io(_)
                    | ciguard_http::Error::Timeout(_)
                    | ciguard_http::Error::HostNotFound
                    | ciguard_http::Error::ConnectionFailed
                    | ciguard_http::Error::Tls(_)
            );
            if unreachable {
                Error::Unreachable {
                    registry,
                    url: self.options.urls.get(eco).to_owned(),
                    source: Box::new(e),
                }
            } else {
                Error::Request {
                    registry,
                    url: url.clone(),
                    source: Box::new(e),
                }
            }
        })?;
        let status = response.status().as_u16();
        if status == 304 && etag.is_some() {
            self.not_modified.fetch_add(1, Ordering::Relaxed);
            return Ok(Fetched::NotModified);
        }
        if status == 404 || status == 410 {
            return Ok(Fetched::NotFound);
        }
        if status != 200 {
            return Err(Error::Status {
                registry,
                url,
                status,
            });
        }
        let new_etag = response
            .headers()
            .get("etag")
            .and_then(|v| v.to_str().ok())
            .filter(|v| v.len() <= 512)
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| Error::Read {
                registry,
                url: url.clone(),
                source: Box::new(e),
            })?;
        self.body_bytes.fetch_add(body.len(), Ordering::Relaxed);
        let parsed = match eco {
            Ecosystem::Cargo => parse_crates_index(&body),
            Ecosystem::PyPI => parse_pypi(&body),
            Ecosystem::Npm => parse_npm(&body),
        };
        parsed
            .map(|v| Fetched::Versions(v, new_etag))
            .map_err(|source| Error::Decode {
                registry,
                url,
                source,
            })
    }
}

fn find_version(versions: &Versions, eco: Ecosystem, version: &str) -> Option<Release> {
    if let Some(r) = versions.get(version) {
        return Some(*r);
    }
    let v = version.trim_start_matches('v');
    match eco {
        // `1.0.0-Alpha1` in a lockfile is `1.0.0a1` on PyPI: compare as PEP 440 does.
        Ecosystem::PyPI => {
            let want = crate::pep440::parse(v)?;
            versions
                .iter()
                .find(|(k, _)| crate::pep440::parse(k).as_ref() == Some(&want))
                .map(|(_, r)| *r)
        }
        _ => versions.get(v).copied(),
    }
}

fn answer(versions: Option<&Versions>, eco: Ecosystem, version: &str) -> Lookup {
    versions
        .and_then(|vs| find_version(vs, eco, version))
        .map_or(Lookup::UnknownVersion, Lookup::Found)
}

/// A sparse-index file: one JSON object per line (`vers`, `yanked`, `pubtime`).
pub fn parse_crates_index(body: &str) -> Result<Versions, DecodeError> {
    #[derive(Deserialize)]
    struct Line {
        vers: String,
        #[serde(default)]
        yanked: bool,
        pubtime: Option<String>,
    }
    let mut out = Versions::new();
    for (i, line) in body
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let l: Line = serde_json::from_str(line).map_err(|source| DecodeError::Line {
            line: i + 1,
            source,
        })?;
        out.insert(
            l.vers,
            Release {
                published: l.pubtime.as_deref().and_then(parse_timestamp),
                yanked: l.yanked,
            },
        );
    }
    Ok(out)
}

/// `/pypi/<name>/json`: `releases` maps each version to its files; the earliest upload is the
/// publish time, and a release is yanked when all its files are.
pub fn parse_pypi(body: &str) -> Result<Versions, DecodeError> {
    #[derive(Deserialize)]
    struct File {
        upload_time_iso_8601: Option<String>,
        #[serde(default)]
        yanked: bool,
    }
    #[derive(Deserialize)]
    struct Doc {
        releases: BTreeMap<String, Vec<File>>,
    }
    let doc: Doc = serde_json::from_str(body)?;
    Ok(doc
        .releases
        .into_iter()
        .map(|(v, files)| {
            let published = files
                .iter()
                .filter_map(|f| f.upload_time_iso_8601.as_deref().and_then(parse_timestamp))
                .min();
            let yanked = !files.is_empty() && files.iter().all(|f| f.yanked);
            (v, Release { published, yanked })
        })
        .collect())
}

/// A packument: `time` maps versions to publish times; a version in `time` but not in
/// `versions` was unpublished.
pub fn parse_npm(body: &str) -> Result<Versions, DecodeError> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        time: BTreeMap<String, serde_json::Value>,
        #[serde(default)]
        versions: BTreeMap<String, serde::de::IgnoredAny>,
    }
    let doc: Doc = serde_json::from_str(body)?;
    let mut out = Versions::new();
    for (v, t) in &doc.time {
        if v == "created" || v == "modified" || v == "unpublished" {
            continue;
        }
        let published = t.as_str().and_then(parse_timestamp);
        out.insert(
            v.clone(),
            Release {
                published,
                yanked: !doc.versions.contains_key(v),
            },
        );
    }
    for v in doc.versions.keys() {
        out.entry(v.clone()).or_insert(Release {
            published: None,
            yanked: false,
        });
    }
    Ok(out)
}

/// Removes the cache directory's contents for one ecosystem (used by tests and `--no-cache`).
pub fn clear_cache(dir: &Path) -> std::io::Result<()> {
    match std::fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = RegistryUrls::default();
        assert_eq!(
            u.package_url(Ecosystem::Cargo, "Serde"),
            "https://index.crates.io/se/rd/serde"
        );
        assert_eq!(
            u.package_url(Ecosystem::Cargo, "syn"),
            "https://index.crates.io/3/s/syn"
        );
        assert_eq!(
            u.package_url(Ecosystem::Cargo, "cc"),
            "https://index.crates.io/2/cc"
        );
        assert_eq!(
            u.package_url(Ecosystem::PyPI, "Zope.Interface"),
            "https://pypi.org/pypi/zope-interface/json"
        );
        assert_eq!(
            u.package_url(Ecosystem::Npm, "@types/node"),
            "https://registry.npmjs.org/@types%2Fnode"
        );
    }

    #[test]
    fn parses_answers() {
        let idx = "{\"name\":\"a\",\"vers\":\"1.0.0\",\"yanked\":false,\"pubtime\":\"2024-01-01T00:00:00Z\"}\n{\"name\":\"a\",\"vers\":\"1.0.1\",\"yanked\":true}\n";
        let v = parse_crates_index(idx).expect("valid");
        assert_eq!(v["1.0.0"].published, parse_timestamp("2024-01-01"));
        assert!(v["1.0.1"].yanked);
        assert!(parse_crates_index("not json").is_err());
        let pypi = r#"{"releases": {"1.0": [{"upload_time_iso_8601": "2024-01-02T00:00:00.000Z", "yanked": true}, {"upload_time_iso_8601": "2024-01-01T00:00:00Z", "yanked": true}], "2.0": []}}"#;
        let v = parse_pypi(pypi).expect("valid");
        assert_eq!(
            v["1.0"],
            Release {
                published: parse_timestamp("2024-01-01"),
                yanked: true
            }
        );
        assert_eq!(
            v["2.0"],
            Release {
                published: None,
                yanked: false
            }
        );
        let npm = r#"{"time": {"created": "2020-01-01T00:00:00Z", "1.0.0": "2020-01-01T00:00:00Z", "0.9.0": "2019-01-01T00:00:00Z"}, "versions": {"1.0.0": {}}}"#;
        let v = parse_npm(npm).expect("valid");
        assert!(!v["1.0.0"].yanked);
        assert!(v["0.9.0"].yanked);
        assert!(!v.contains_key("created"));
    }
}
