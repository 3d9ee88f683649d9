//! One job's calls to GitHub: the shared rate-limit budget checked before every call and
//! recorded after it, writes paced per installation, answers classified into what the queue
//! should do (done, retry, defer, dead).

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde::de::DeserializeOwned;

use super::github::{Http, Method, Response};
use super::secret::Secret;
use crate::job::{Outcome, RateLimitStore};

/// Why a call did not give a usable answer, as the queue should treat it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The installation is rate limited: run the job again after `until`, sleep on nothing.
    #[error("rate limited until {until:?}: {reason}")]
    Limited { until: SystemTime, reason: String },
    /// A server error, a dropped connection, an expired token: try again later.
    #[error("{0}")]
    Transient(String),
    /// 401: the token expired or was revoked; the next attempt mints a new one.
    #[error("{0}")]
    Unauthorized(String),
    /// The request itself was refused (404, 422, a permission 403): retrying will not help.
    #[error("{0}")]
    Rejected(String),
}

impl ApiError {
    pub fn into_outcome(self) -> Outcome {
        match self {
            ApiError::Limited { until, reason } => Outcome::Deferred { until, reason },
            ApiError::Transient(reason) | ApiError::Unauthorized(reason) => {
                Outcome::Retry { reason }
            }
            ApiError::Rejected(reason) => Outcome::Dead { reason },
        }
    }
}

/// Spaces out the writes (POST/PATCH) of each installation, as GitHub asks of integrations
/// (its secondary limits punish bursts of content creation). Per process.
#[derive(Debug, Default)]
pub struct Pacer {
    interval: Duration,
    next: Mutex<HashMap<u64, Instant>>,
}

impl Pacer {
    pub fn new(interval: Duration) -> Self {
        Self {
            interval,
            next: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for this installation's next write slot (at most one interval per queued write).
    async fn wait(&self, installation: u64) {
        if self.interval.is_zero() {
            return;
        }
        let slot = {
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            let now = Instant::now();
            let slot = next.get(&installation).copied().unwrap_or(now).max(now);
            next.insert(installation, slot + self.interval);
            slot
        };
        tokio::time::sleep_until(slot.into()).await;
    }
}

/// The pieces every call needs, shared by the jobs of one process.
#[derive(Debug)]
pub struct Api<R> {
    pub http: Http,
    pub rates: R,
    pub pacer: Pacer,
    /// Requests sent (for the request-count figures and tests).
    pub sent: AtomicUsize,
}

impl<R: RateLimitStore> Api<R> {
    pub fn new(http: Http, rates: R, write_interval: Duration) -> Self {
        Self {
            http,
            rates,
            pacer: Pacer::new(write_interval),
            sent: AtomicUsize::new(0),
        }
    }

    /// One call on behalf of `installation`: refused without a request while the installation
    /// is limited; its answer's limits recorded for every replica. Any other status is returned
    /// as it is (see [`classify`]).
    pub async fn call_raw(
        &self,
        installation: u64,
        auth: &Secret,
        method: Method,
        target: &str,
    ) -> Result<Response, ApiError> {
        self.within_budget(installation).await?;
        if method.is_write() {
            self.pacer.wait(installation).await;
        }
        let name = method.name();
        let response = self
            .http
            .send(method, target, auth)
            .await
            .map_err(|e| ApiError::Transient(e.to_string()))?;
        self.sent.fetch_add(1, Ordering::Relaxed);
        tracing::trace!(
            installation,
            status = response.status,
            "{name} {}",
            shown(target)
        );
        if let Some(state) = response.rate_state() {
            self.rates.record(installation, state).await;
        }
        if let Some(until) = response.limited_until(SystemTime::now()) {
            return Err(ApiError::Limited {
                until,
                reason: format!(
                    "{name} {}: {} {}",
                    shown(target),
                    response.status,
                    response.message()
                ),
            });
        }
        Ok(response)
    }

    /// `Limited` while the shared budget says `installation` may not make requests; checked
    /// before every call, and before work that calls GitHub through another client.
    pub async fn within_budget(&self, installation: u64) -> Result<(), ApiError> {
        if let Some(until) = self.rates.blocked_until(installation).await
            && until > SystemTime::now()
        {
            tracing::debug!(installation, "rate limited: no request sent");
            return Err(ApiError::Limited {
                until,
                reason: format!("installation {installation} is rate limited"),
            });
        }
        Ok(())
    }

    /// [`Api::call_raw`], with any status but 2xx turned into the error the queue acts on.
    pub async fn call(
        &self,
        installation: u64,
        auth: &Secret,
        method: Method,
        target: &str,
    ) -> Result<Response, ApiError> {
        let name = method.name();
        let response = self.call_raw(installation, auth, method, target).await?;
        classify(name, target, response)
    }

    /// A GET decoded as JSON.
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        installation: u64,
        auth: &Secret,
        target: &str,
    ) -> Result<(T, Response), ApiError> {
        let response = self.call(installation, auth, Method::Get, target).await?;
        let value = decode(&response, target)?;
        Ok((value, response))
    }

    /// A GET decoded as JSON, with the `Link` header's next page.
    pub async fn get_page<T: DeserializeOwned>(
        &self,
        installation: u64,
        auth: &Secret,
        target: &str,
    ) -> Result<(T, Option<String>), ApiError> {
        let (value, response) = self.get_json(installation, auth, target).await?;
        Ok((value, response.next_link()))
    }

    /// A write (POST, PATCH, …) whose answer is JSON.
    pub async fn write_json(
        &self,
        installation: u64,
        auth: &Secret,
        method: Method,
        target: &str,
    ) -> Result<serde_json::Value, ApiError> {
        let name = method.name();
        let response = self.call_raw(installation, auth, method, target).await?;
        decode(&classify(name, target, response)?, target)
    }

    pub fn sent(&self) -> usize {
        self.sent.load(Ordering::Relaxed)
    }
}

/// `response` when it succeeded; else why, as the queue should treat it.
pub fn classify(method: &str, target: &str, response: Response) -> Result<Response, ApiError> {
    let why = || {
        format!(
            "{method} {}: {} {}",
            shown(target),
            response.status,
            response.message()
        )
    };
    match response.status {
        200..=299 => Ok(response),
        401 => Err(ApiError::Unauthorized(why())),
        500..=599 => Err(ApiError::Transient(why())),
        _ => Err(ApiError::Rejected(why())),
    }
}

/// A request target for messages: its path, escaped.
fn shown(target: &str) -> String {
    let path = target.split('?').next().unwrap_or(target);
    ciguard_core::output::escape::text(path).into_owned()
}

/// The body of `response` as `T`; a body GitHub would never send is a transient fault (a proxy's
/// error page), not the job's.
pub fn decode<T: DeserializeOwned>(response: &Response, target: &str) -> Result<T, ApiError> {
    serde_json::from_slice(&response.body)
        .map_err(|e| ApiError::Transient(format!("{}: unexpected answer: {e}", shown(target))))
}

/// The JSON body of a write.
pub fn json_body(value: &serde_json::Value) -> Vec<u8> {
    value.to_string().into_bytes()
}
