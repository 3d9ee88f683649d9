//! The one HTTP layer of ciguard, shared by the GitHub client (`ciguard-github`) and the
//! registry clients (`ciguard-deps`): the only place a `ureq` agent is configured (user agent,
//! timeouts, trust roots, connection pool, redirects), the same-origin redirect rule that keeps a
//! token on its own host, bounded retry backoff, a request counter, and [`Token`], a secret that
//! never prints.
//!
//! Blocking I/O on threads, no async runtime: callers run requests from worker threads.

mod redirect;
mod retry;
mod token;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

pub use redirect::{ForeignRedirect, origin, same_origin_target};
pub use retry::Backoff;
pub use token::Token;
pub use ureq::{Body, Error, http};

/// The agent type every client holds; build it with [`AgentOptions::build`].
pub type Agent = ureq::Agent;

/// `ciguard/VERSION (supply-chain audit)`, sent with every request.
pub const USER_AGENT: &str = concat!(
    "ciguard/",
    env!("CARGO_PKG_VERSION"),
    " (supply-chain audit)"
);

/// Which certificates a TLS connection trusts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrustRoots {
    /// The Mozilla roots compiled in (the same everywhere).
    Bundled,
    /// The system's trust store, so mirrors and proxies with private CAs work.
    Platform,
}

/// How redirects are handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Redirects {
    /// Never followed by the agent: the caller follows them itself with
    /// [`same_origin_target`], so a token never leaves its host.
    Caller,
    /// Followed by the agent, for requests that carry no credentials.
    Follow,
}

/// What differs between ciguard's clients; everything else is the same for all.
#[derive(Debug, Clone)]
pub struct AgentOptions {
    /// For the whole request, connection to last body byte.
    pub timeout: Duration,
    pub roots: TrustRoots,
    pub redirects: Redirects,
    /// Idle connections kept per host: as many as the threads that share the agent, or each
    /// further request opens a connection (and looks the host up) again.
    pub idle_per_host: usize,
}

impl Default for AgentOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            roots: TrustRoots::Bundled,
            redirects: Redirects::Caller,
            idle_per_host: 3,
        }
    }
}

impl AgentOptions {
    /// The agent. HTTP error statuses are answers, not errors: callers read their bodies.
    pub fn build(&self) -> Agent {
        let per_host = self.idle_per_host.clamp(1, 64);
        let roots = match self.roots {
            TrustRoots::Bundled => ureq::tls::RootCerts::WebPki,
            TrustRoots::Platform => ureq::tls::RootCerts::PlatformVerifier,
        };
        let mut config = ureq::Agent::config_builder()
            .timeout_global(Some(self.timeout))
            .http_status_as_error(false)
            .max_idle_connections_per_host(per_host)
            .max_idle_connections(per_host * 3)
            .max_idle_age(Duration::from_secs(60))
            .user_agent(USER_AGENT)
            .tls_config(ureq::tls::TlsConfig::builder().root_certs(roots).build());
        if self.redirects == Redirects::Caller {
            config = config.max_redirects(0);
        }
        config.build().into()
    }
}

/// An answer read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    /// Lowercase names; values decoded lossily.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Reads `response` whole; a body beyond `max_body` bytes is an error, so a hostile server
/// cannot make the client allocate without bound.
pub fn read_response(response: &mut http::Response<Body>, max_body: u64) -> Result<Answer, Error> {
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
        .limit(max_body)
        .read_to_vec()?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

/// Requests sent so far (retries included), shared by a client's threads.
#[derive(Debug, Default)]
pub struct RequestCounter(AtomicUsize);

impl RequestCounter {
    /// Counts one request.
    pub fn add(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> usize {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_requests() {
        let c = RequestCounter::default();
        c.add();
        c.add();
        assert_eq!(c.get(), 2);
    }

    #[test]
    fn the_user_agent_names_ciguard_and_its_version() {
        assert!(USER_AGENT.starts_with(&format!("ciguard/{} ", env!("CARGO_PKG_VERSION"))));
    }
}
