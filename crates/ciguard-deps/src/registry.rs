//! Publish dates and yanked status from the registries: the crates.io sparse index (`pubtime`),
//! PyPI's JSON API (upload times of a release's files) and the npm registry (`time`).
//!
//! One request per distinct package (each answer holds every version), made concurrently, cached
//! on disk per package forever: a publish time never changes once known. (A yank can come later:
//! `--no-cache` checks again.) Offline, only the cache is read and what it lacks is reported.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

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
    pub fn set(&mut self, key: &str, url: &str) -> Result<(), String> {
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
    pub threads: usize,
    pub timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            urls: RegistryUrls::default(),
            cache_dir: default_cache_dir(),
            offline: false,
            threads: 8,
            timeout: Duration::from_secs(30),
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

type Versions = BTreeMap<String, Release>;

#[derive(Serialize, Deserialize)]
struct CacheEntry {
    versions: Versions,
}

enum Fetched {
    Versions(Versions),
    NotFound,
}

/// Asks registries for publish dates; counts the requests it makes.
pub struct RegistryClient {
    options: ClientOptions,
    agent: ureq::Agent,
    requests: AtomicUsize,
    down: [AtomicBool; 3],
    down_reason: Mutex<HashMap<Ecosystem, String>>,
}

fn eco_index(eco: Ecosystem) -> usize {
    match eco {
        Ecosystem::Cargo => 0,
        Ecosystem::PyPI => 1,
        Ecosystem::Npm => 2,
    }
}

impl RegistryClient {
    pub fn new(options: ClientOptions) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(options.timeout))
            .http_status_as_error(false)
            .user_agent(concat!(
                "ciguard/",
                env!("CARGO_PKG_VERSION"),
                " (supply-chain audit)"
            ))
            // The system's trust store, so mirrors and proxies with private CAs work.
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
            .build()
            .into();
        Self {
            options,
            agent,
            requests: AtomicUsize::new(0),
            down: [
                AtomicBool::new(false),
                AtomicBool::new(false),
                AtomicBool::new(false),
            ],
            down_reason: Mutex::new(HashMap::new()),
        }
    }

    pub fn options(&self) -> &ClientOptions {
        &self.options
    }

    /// HTTP requests made so far.
    pub fn requests(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Looks up every `(ecosystem, name, version)`: one request per distinct package not fully
    /// answered by the cache, spread over threads.
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
        let jobs: Vec<_> = by_package.into_iter().collect();
        let next = AtomicUsize::new(0);
        let results = Mutex::new(HashMap::new());
        let threads = self.options.threads.clamp(1, 64).min(jobs.len().max(1));
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(((eco, name), versions)) = jobs.get(i) else {
                            break;
                        };
                        let answers = self.package(*eco, name, versions);
                        if let Ok(mut r) = results.lock() {
                            for (version, answer) in versions.iter().zip(answers) {
                                r.insert((*eco, name.clone(), version.clone()), answer);
                            }
                        }
                    }
                });
            }
        });
        results.into_inner().unwrap_or_default()
    }

    fn cache_path(&self, eco: Ecosystem, name: &str) -> Option<PathBuf> {
        let dir = self.options.cache_dir.as_ref()?;
        let key = match eco {
            Ecosystem::Cargo => name.to_ascii_lowercase(),
            Ecosystem::PyPI => normalize_pypi(name),
            Ecosystem::Npm => name.to_owned(),
        };
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@') {
                    c.to_string()
                } else {
                    format!("%{:02x}", u32::from(c))
                }
            })
            .collect();
        Some(dir.join(eco.as_str()).join(format!("{safe}.json")))
    }

    fn read_cache(&self, eco: Ecosystem, name: &str) -> Option<Versions> {
        let text = std::fs::read_to_string(self.cache_path(eco, name)?).ok()?;
        serde_json::from_str::<CacheEntry>(&text)
            .ok()
            .map(|e| e.versions)
    }

    fn write_cache(&self, eco: Ecosystem, name: &str, versions: &Versions) {
        let Some(path) = self.cache_path(eco, name) else {
            return;
        };
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let Ok(text) = serde_json::to_string(&CacheEntry {
            versions: versions.clone(),
        }) else {
            return;
        };
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    fn package(&self, eco: Ecosystem, name: &str, versions: &[String]) -> Vec<Lookup> {
        let cached = self.read_cache(eco, name);
        if let Some(cached) = &cached
            && versions
                .iter()
                .all(|v| find_version(cached, eco, v).is_some())
        {
            return versions
                .iter()
                .map(|v| answer(Some(cached), eco, v))
                .collect();
        }
        if self.options.offline {
            return versions
                .iter()
                .map(|v| {
                    cached
                        .as_ref()
                        .and_then(|c| find_version(c, eco, v))
                        .map_or(Lookup::NotCached, Lookup::Found)
                })
                .collect();
        }
        if self.down[eco_index(eco)].load(Ordering::Relaxed) {
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
        let mut result = self.fetch(eco, name);
        // Connection errors are often passing (DNS, resets): two more tries before giving up.
        for pause in [300, 1000] {
            if !matches!(result, Err((_, true))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(pause));
            result = self.fetch(eco, name);
        }
        match result {
            Ok(Fetched::Versions(mut fresh)) => {
                if let Some(old) = cached {
                    for (v, r) in old {
                        fresh.entry(v).or_insert(r);
                    }
                }
                self.write_cache(eco, name, &fresh);
                versions
                    .iter()
                    .map(|v| answer(Some(&fresh), eco, v))
                    .collect()
            }
            Ok(Fetched::NotFound) => versions.iter().map(|_| Lookup::UnknownPackage).collect(),
            Err((message, unreachable)) => {
                if unreachable {
                    self.down[eco_index(eco)].store(true, Ordering::Relaxed);
                    if let Ok(mut r) = self.down_reason.lock() {
                        r.entry(eco).or_insert_with(|| message.clone());
                    }
                }
                versions
                    .iter()
                    .map(|_| Lookup::Failed(message.clone()))
                    .collect()
            }
        }
    }

    /// One GET; the error is a message and whether the registry looks unreachable.
    fn fetch(&self, eco: Ecosystem, name: &str) -> Result<Fetched, (String, bool)> {
        let url = self.options.urls.package_url(eco, name);
        self.requests.fetch_add(1, Ordering::Relaxed);
        let mut response = self
            .agent
            .get(&url)
            .header("Accept", "application/json")
            .call()
            .map_err(|e| {
                let unreachable = matches!(
                    e,
                    ureq::Error::Io(_)
                        | ureq::Error::Timeout(_)
                        | ureq::Error::HostNotFound
                        | ureq::Error::ConnectionFailed
                        | ureq::Error::Tls(_)
                );
                if unreachable {
                    // Said once per registry, not once per package.
                    let base = self.options.urls.get(eco);
                    (
                        format!("cannot reach {} at {base}: {e}", eco.registry_name()),
                        true,
                    )
                } else {
                    (
                        format!("request to {} failed for {url}: {e}", eco.registry_name()),
                        false,
                    )
                }
            })?;
        let status = response.status().as_u16();
        if status == 404 || status == 410 {
            return Ok(Fetched::NotFound);
        }
        if status != 200 {
            return Err((
                format!("{} answered HTTP {status} for {url}", eco.registry_name()),
                status >= 500,
            ));
        }
        let body = response
            .body_mut()
            .with_config()
            .limit(256 * 1024 * 1024)
            .read_to_string()
            .map_err(|e| {
                (
                    format!(
                        "cannot read the answer of {} for {url}: {e}",
                        eco.registry_name()
                    ),
                    false,
                )
            })?;
        let parsed = match eco {
            Ecosystem::Cargo => parse_crates_index(&body),
            Ecosystem::PyPI => parse_pypi(&body),
            Ecosystem::Npm => parse_npm(&body),
        };
        parsed.map(Fetched::Versions).map_err(|e| {
            (
                format!(
                    "unexpected answer from {} for {url}: {e}",
                    eco.registry_name()
                ),
                false,
            )
        })
    }
}

fn find_version(versions: &Versions, eco: Ecosystem, version: &str) -> Option<Release> {
    if let Some(r) = versions.get(version) {
        return Some(*r);
    }
    let v = version.trim_start_matches('v');
    match eco {
        Ecosystem::PyPI => versions
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(v))
            .map(|(_, r)| *r),
        _ => versions.get(v).copied(),
    }
}

fn answer(versions: Option<&Versions>, eco: Ecosystem, version: &str) -> Lookup {
    versions
        .and_then(|vs| find_version(vs, eco, version))
        .map_or(Lookup::UnknownVersion, Lookup::Found)
}

/// A sparse-index file: one JSON object per line (`vers`, `yanked`, `pubtime`).
pub fn parse_crates_index(body: &str) -> Result<Versions, String> {
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
        let l: Line = serde_json::from_str(line).map_err(|e| format!("line {}: {e}", i + 1))?;
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
pub fn parse_pypi(body: &str) -> Result<Versions, String> {
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
    let doc: Doc = serde_json::from_str(body).map_err(|e| e.to_string())?;
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
pub fn parse_npm(body: &str) -> Result<Versions, String> {
    #[derive(Deserialize)]
    struct Doc {
        #[serde(default)]
        time: BTreeMap<String, serde_json::Value>,
        #[serde(default)]
        versions: BTreeMap<String, serde::de::IgnoredAny>,
    }
    let doc: Doc = serde_json::from_str(body).map_err(|e| e.to_string())?;
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
