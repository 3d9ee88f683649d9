//! Installation tokens: minted per job for exactly the repositories and permissions it needs
//! (`repository_ids`, `permissions`), cached until shortly before `expires_at`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::api::{Api, ApiError, decode, json_body};
use super::github::Method;
use super::key::AppKey;
use super::secret::Secret;
use crate::job::RateLimitStore;

/// A cached token is not used this close to its expiry (a job may run for minutes).
pub const EXPIRY_MARGIN: Duration = Duration::from_secs(5 * 60);

/// What a token may do: GitHub permission name → `read` or `write` (metadata read is implied).
pub type Permissions = BTreeMap<&'static str, &'static str>;

/// A pull request or push audit: read the files, write the check run.
pub fn audit_permissions() -> Permissions {
    BTreeMap::from([
        ("checks", "write"),
        ("contents", "read"),
        ("pull_requests", "read"),
    ])
}

/// The comment relay: read the run's artifacts, read the pull request, write its one comment
/// and labels. GitHub accepts `issues` or `pull_requests` write for both on a pull request;
/// `issues: write` is the one the App holds anyway (drift issues), while `pull_requests: write`
/// would add editing pull requests themselves (title, body, base branch, reviews).
pub fn relay_permissions() -> Permissions {
    BTreeMap::from([
        ("actions", "read"),
        ("issues", "write"),
        ("pull_requests", "read"),
    ])
}

/// Settings drift, reading one repository's settings as `ciguard settings` does (rulesets
/// and the repository itself need only metadata) and its `ciguard.toml`.
pub fn drift_read_permissions() -> Permissions {
    BTreeMap::from([
        ("actions", "read"),
        ("administration", "read"),
        ("contents", "read"),
        ("secrets", "read"),
    ])
}

/// Settings drift, reading the organization's own settings (its owners need `members`) and
/// the `.github` repository's `ciguard.toml`.
pub fn drift_org_permissions() -> Permissions {
    BTreeMap::from([("contents", "read"), ("members", "read")])
}

/// The drift sweep, listing the repositories of an installation.
pub fn drift_list_permissions() -> Permissions {
    BTreeMap::from([("metadata", "read")])
}

/// Settings drift, keeping its issues in the one repository that receives them.
pub fn drift_issue_permissions() -> Permissions {
    BTreeMap::from([("issues", "write")])
}

/// The organization's `ciguard-app.toml`, read from its `.github` repository.
pub fn org_config_permissions() -> Permissions {
    BTreeMap::from([("contents", "read")])
}

/// A release-gate review: read the run, its approvals and pending deployments (`actions`), the
/// run's tag (`contents`), and send the review (`deployments: write`).
pub fn gate_permissions() -> Permissions {
    BTreeMap::from([
        ("actions", "read"),
        ("contents", "read"),
        ("deployments", "write"),
    ])
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct TokenKey {
    installation: u64,
    repository_ids: Vec<u64>,
    /// Repositories named instead of numbered (the organization's `.github` repository, whose
    /// id no event carries).
    repository_names: Vec<String>,
    permissions: Vec<(&'static str, &'static str)>,
}

#[derive(Deserialize)]
struct Minted {
    token: String,
    expires_at: String,
}

/// Mints and caches installation tokens.
#[derive(Debug)]
pub struct Tokens {
    key: AppKey,
    cache: Mutex<HashMap<TokenKey, (Secret, SystemTime)>>,
    minted: AtomicUsize,
}

impl Tokens {
    pub fn new(key: AppKey) -> Self {
        Self {
            key,
            cache: Mutex::new(HashMap::new()),
            minted: AtomicUsize::new(0),
        }
    }

    /// A JWT to call the App's own endpoints (`/app/...`).
    pub fn jwt(&self) -> Result<Secret, ApiError> {
        self.key
            .jwt(SystemTime::now())
            .map_err(|e| ApiError::Rejected(e.to_string()))
    }

    /// Tokens minted so far (not served from the cache).
    pub fn minted(&self) -> usize {
        self.minted.load(Ordering::Relaxed)
    }

    /// A token of `installation` for `repository_ids` with `permissions`, from the cache
    /// unless it expires within [`EXPIRY_MARGIN`].
    pub async fn token<R: RateLimitStore>(
        &self,
        api: &Api<R>,
        installation: u64,
        repository_ids: &[u64],
        permissions: &Permissions,
    ) -> Result<Secret, ApiError> {
        let mut ids = repository_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        self.scoped(api, installation, ids, Vec::new(), permissions)
            .await
    }

    /// A token of `installation` for the repositories named `names` (without owner) with
    /// `permissions`; GitHub answers 422 when one is not installed or does not exist.
    pub async fn token_for_names<R: RateLimitStore>(
        &self,
        api: &Api<R>,
        installation: u64,
        names: &[&str],
        permissions: &Permissions,
    ) -> Result<Secret, ApiError> {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort_unstable();
        names.dedup();
        self.scoped(api, installation, Vec::new(), names, permissions)
            .await
    }

    async fn scoped<R: RateLimitStore>(
        &self,
        api: &Api<R>,
        installation: u64,
        ids: Vec<u64>,
        names: Vec<String>,
        permissions: &Permissions,
    ) -> Result<Secret, ApiError> {
        let key = TokenKey {
            installation,
            repository_ids: ids.clone(),
            repository_names: names.clone(),
            permissions: permissions.iter().map(|(k, v)| (*k, *v)).collect(),
        };
        let now = SystemTime::now();
        if let Ok(cache) = self.cache.lock()
            && let Some((token, expires)) = cache.get(&key)
            && *expires > now + EXPIRY_MARGIN
        {
            return Ok(token.clone());
        }
        let body = if names.is_empty() && ids.is_empty() {
            // Every repository of the installation (the drift sweep lists them).
            serde_json::json!({ "permissions": permissions })
        } else if names.is_empty() {
            serde_json::json!({ "repository_ids": ids, "permissions": permissions })
        } else {
            serde_json::json!({ "repositories": names, "permissions": permissions })
        };
        let target = format!("/app/installations/{installation}/access_tokens");
        let response = api
            .call(
                installation,
                &self.jwt()?,
                Method::Post(json_body(&body)),
                &target,
            )
            .await?;
        let minted: Minted = decode(&response, &target)?;
        self.minted.fetch_add(1, Ordering::Relaxed);
        // An unreadable expiry is treated as GitHub's documented one hour.
        let expires =
            parse_rfc3339_utc(&minted.expires_at).unwrap_or(now + Duration::from_secs(3600));
        let token = Secret::new(minted.token);
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|_, (_, exp)| *exp > now);
            cache.insert(key, (token.clone(), expires));
        }
        Ok(token)
    }

    /// Drops the cached tokens of `installation` (after a 401: revoked or expired early).
    pub fn forget(&self, installation: u64) {
        if let Ok(mut cache) = self.cache.lock() {
            cache.retain(|k, _| k.installation != installation);
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` (GitHub's timestamps) as a time.
pub fn parse_rfc3339_utc(text: &str) -> Option<SystemTime> {
    let t = text.trim().strip_suffix('Z')?;
    let (date, time) = t.split_once('T')?;
    let mut d = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let mut h = time
        .splitn(3, ':')
        .map(|p| p.split('.').next()?.parse::<i64>().ok());
    let (hh, mm, ss) = (h.next()??, h.next()??, h.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = u64::try_from(days * 86_400 + hh * 3600 + mm * 60 + ss).ok()?;
    Some(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every token the App mints asks for permissions the App was created with: a mint asking
    /// for more is refused by GitHub (422), so the manifest in the docs must cover them all.
    #[test]
    fn the_documented_manifest_grants_every_permission_a_token_asks_for() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../docs/serve-app-manifest.json"
        );
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let granted = &manifest["default_permissions"];
        let rank = |level: &str| match level {
            "read" => 1,
            "write" => 2,
            _ => 0,
        };
        for (job, asked) in [
            ("audit", audit_permissions()),
            ("relay", relay_permissions()),
            ("drift read", drift_read_permissions()),
            ("drift org", drift_org_permissions()),
            ("drift list", drift_list_permissions()),
            ("drift issue", drift_issue_permissions()),
            ("gate", gate_permissions()),
            ("org config", org_config_permissions()),
        ] {
            for (name, level) in asked {
                let has = granted[name].as_str().unwrap_or("none");
                assert!(
                    rank(has) >= rank(level),
                    "{job} asks for {name}: {level}, the manifest grants {has}"
                );
            }
        }
        // And nothing asks for more than it needs: no job writes pull requests.
        assert_eq!(granted["pull_requests"], "read");
    }

    #[test]
    fn parses_githubs_timestamps() {
        let epoch = |s| {
            parse_rfc3339_utc(s)
                .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
        };
        assert_eq!(epoch("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch("2016-07-11T22:14:10Z"), Some(1_468_275_250));
        assert_eq!(epoch("2024-02-29T12:00:00Z"), Some(1_709_208_000));
        assert_eq!(epoch("2016-07-11T22:14:10+02:00"), None);
        assert_eq!(epoch("2016-13-11T22:14:10Z"), None);
        assert_eq!(epoch("garbage"), None);
    }
}
