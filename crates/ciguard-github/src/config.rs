//! Client configuration: where the API is, who we are, where the cache lives.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The public GitHub API; `GITHUB_API_URL` (set by Actions) or `--github-api-url` override it,
/// e.g. for GitHub Enterprise Server (`https://ghe.example.com/api/v3`).
pub const DEFAULT_API_URL: &str = "https://api.github.com";

pub use ciguard_http::Token;

/// How the client talks to GitHub.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL without a trailing slash.
    pub api_url: String,
    pub token: Option<Token>,
    /// `None` disables the on-disk cache (`--no-cache`).
    pub cache_dir: Option<PathBuf>,
    /// No request at all; answers come from the cache or not at all.
    pub offline: bool,
    /// Most requests in flight at once.
    pub max_concurrency: usize,
    /// Per request, connect to last byte.
    pub timeout: Duration,
    /// The longest the client waits out rate limits (and retry backoff) in total before it fails.
    pub max_wait: Duration,
    /// The whole run's network time, from the client's creation: once spent, no request is sent
    /// and the online checks that needed one are skipped (`--network-budget`).
    pub network_budget: Duration,
    /// The least wait after a secondary rate limit that names no `retry-after` (GitHub asks for
    /// at least a minute), doubled at each repeat; requests are then spaced by a sixtieth of it.
    /// Configurable so that tests need not sleep a minute.
    pub secondary_wait: Duration,
    /// Also counts every request sent here, so a front end can show progress while a run
    /// goes online (the client's own count stays per client).
    pub progress: Option<Arc<ciguard_http::RequestCounter>>,
    /// Answers kept in memory by URL and revalidated with `If-None-Match` (no disk involved).
    pub revalidation: Option<Arc<crate::Revalidation>>,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            api_url: DEFAULT_API_URL.to_owned(),
            token: None,
            cache_dir: None,
            offline: false,
            max_concurrency: 8,
            timeout: Duration::from_secs(30),
            max_wait: Duration::from_secs(120),
            network_budget: Duration::from_secs(120),
            secondary_wait: Duration::from_secs(60),
            progress: None,
            revalidation: None,
        }
    }
}

impl ClientConfig {
    /// From command-line flags, falling back to the process environment: `--github-api-url` or
    /// `GITHUB_API_URL`; `--gh-token`, `GH_TOKEN` or `GITHUB_TOKEN`; `--cache-dir` or the user
    /// cache directory unless `--no-cache`.
    pub fn from_flags(
        api_url: Option<&str>,
        token: Option<&str>,
        cache_dir: Option<PathBuf>,
        no_cache: bool,
        offline: bool,
    ) -> Self {
        Self::from_flags_and_env(api_url, token, cache_dir, no_cache, offline, &|k| {
            std::env::var(k).ok()
        })
    }

    /// As [`ClientConfig::from_flags`], with the environment given as a lookup (for tests).
    pub fn from_flags_and_env(
        api_url: Option<&str>,
        token: Option<&str>,
        cache_dir: Option<PathBuf>,
        no_cache: bool,
        offline: bool,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Self {
        let api_url = api_url
            .map(str::to_owned)
            .or_else(|| env("GITHUB_API_URL"))
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let token = token
            .and_then(Token::new)
            .or_else(|| env("GH_TOKEN").and_then(Token::new))
            .or_else(|| env("GITHUB_TOKEN").and_then(Token::new));
        let cache_dir = if no_cache {
            None
        } else {
            cache_dir.or_else(|| default_cache_dir_from(env))
        };
        Self {
            api_url: api_url.trim().trim_end_matches('/').to_owned(),
            token,
            cache_dir,
            offline,
            ..Self::default()
        }
    }
}

/// `$XDG_CACHE_HOME/ciguard`, else `~/.cache/ciguard` (`%LOCALAPPDATA%\ciguard` on Windows).
pub fn default_cache_dir() -> Option<PathBuf> {
    default_cache_dir_from(&|k| std::env::var(k).ok())
}

fn default_cache_dir_from(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let nonempty = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(xdg) = nonempty("XDG_CACHE_HOME").filter(|p| p.is_absolute()) {
        return Some(xdg.join("ciguard"));
    }
    if cfg!(windows)
        && let Some(local) = nonempty("LOCALAPPDATA")
    {
        return Some(local.join("ciguard"));
    }
    nonempty("HOME").map(|h| h.join(".cache").join("ciguard"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_win_over_environment() {
        let env = |k: &str| match k {
            "GITHUB_API_URL" => Some("https://ghe.example.com/api/v3/".to_owned()),
            "GH_TOKEN" => Some("".to_owned()),
            "GITHUB_TOKEN" => Some("from-env".to_owned()),
            "HOME" => Some("/home/u".to_owned()),
            _ => None,
        };
        let c = ClientConfig::from_flags_and_env(None, None, None, false, false, &env);
        assert_eq!(c.api_url, "https://ghe.example.com/api/v3");
        assert_eq!(c.token.as_ref().map(Token::expose), Some("from-env"));
        assert_eq!(c.cache_dir, Some(PathBuf::from("/home/u/.cache/ciguard")));
        let c = ClientConfig::from_flags_and_env(
            Some("http://x"),
            Some("flag"),
            None,
            true,
            true,
            &env,
        );
        assert_eq!(
            (c.api_url.as_str(), c.token.unwrap().expose()),
            ("http://x", "flag")
        );
        assert!(c.cache_dir.is_none() && c.offline);
        let c = ClientConfig::from_flags_and_env(None, None, None, false, false, &|_| None);
        assert_eq!(c.api_url, DEFAULT_API_URL);
    }
}
