//! The HTTP side: `POST /webhook`, `GET /healthz`, `GET /readyz`. A delivery's signature is
//! verified before anything reads, logs or stores its body; 2xx is sent only after the commit.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{Notify, Semaphore};

use crate::events::{self, Routed};
use crate::secret::Secret;
use crate::signature;
use crate::store::{Recorded, Store};

/// GitHub caps webhook payloads at 25 MiB.
pub const MAX_BODY: usize = 25 * 1024 * 1024;

/// What ingress did, for tests and operators.
#[derive(Debug, Default)]
pub struct Counters {
    pub accepted: AtomicU64,
    pub duplicates: AtomicU64,
    pub ignored: AtomicU64,
    pub unauthorized: AtomicU64,
    pub too_large: AtomicU64,
    pub bad_request: AtomicU64,
    pub unavailable: AtomicU64,
    /// Bodies handed to the JSON parser (only ever after a valid signature).
    pub json_parses: AtomicU64,
}

impl Counters {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

pub struct Ingress {
    pub store: Store,
    pub secrets: Vec<Secret>,
    pub max_attempts: u32,
    pub counters: Arc<Counters>,
    /// Wakes this process's workers when jobs were queued.
    pub jobs_queued: Arc<Notify>,
    /// False for replicas without the ingress role: `/webhook` is 404 there.
    pub accepts_webhooks: bool,
    /// Set at shutdown: `/readyz` says 503 so a balancer stops sending.
    pub draining: Arc<AtomicBool>,
    /// Bounds the body bytes buffered at once: one permit per started MiB of declared length,
    /// [`MAX_BODY`]'s worth for a body of unknown length.
    pub body_permits: Semaphore,
    pub body_timeout: Duration,
}

type Reply = Response<Full<Bytes>>;

pub async fn handle(
    ingress: Arc<Ingress>,
    request: Request<Incoming>,
) -> Result<Reply, Infallible> {
    let reply = match (request.method(), request.uri().path()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok"),
        (&Method::GET, "/readyz") => ingress.ready().await,
        (&Method::POST, "/webhook") if ingress.accepts_webhooks => ingress.webhook(request).await,
        (_, "/webhook") if ingress.accepts_webhooks => {
            text(StatusCode::METHOD_NOT_ALLOWED, "use POST")
        }
        _ => text(StatusCode::NOT_FOUND, "not found"),
    };
    Ok(reply)
}

impl Ingress {
    async fn ready(&self) -> Reply {
        if self.draining.load(Ordering::Relaxed) {
            return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
        }
        match tokio::time::timeout(Duration::from_secs(2), self.store.ping()).await {
            Ok(Ok(())) => text(StatusCode::OK, "ready"),
            _ => text(StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
        }
    }

    async fn webhook(&self, request: Request<Incoming>) -> Reply {
        let (parts, body) = request.into_parts();
        let declared = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY as u64) {
            return self.too_large();
        }
        let Some(signature) = parts
            .headers
            .get("x-hub-signature-256")
            .map(|v| v.as_bytes().to_vec())
        else {
            return self.unauthorized(signature::SignatureError::Missing);
        };
        let mib = declared
            .map_or(MAX_BODY as u64, |n| n.max(1))
            .div_ceil(1024 * 1024);
        let Ok(_permit) = self.body_permits.acquire_many(mib as u32).await else {
            return text(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
        };
        let body =
            match tokio::time::timeout(self.body_timeout, Limited::new(body, MAX_BODY).collect())
                .await
            {
                Ok(Ok(collected)) => collected.to_bytes(),
                Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    return self.too_large();
                }
                Ok(Err(_)) | Err(_) => {
                    self.counters.bad_request.fetch_add(1, Ordering::Relaxed);
                    return text(StatusCode::BAD_REQUEST, "could not read the body");
                }
            };
        if let Err(e) = signature::verify(&self.secrets, Some(&signature), &body) {
            return self.unauthorized(e);
        }
        // Authentic from here on.
        let event = header(&parts.headers, "x-github-event").filter(|e| is_event_name(e));
        let delivery = header(&parts.headers, "x-github-delivery").filter(|d| is_uuid(d));
        let (Some(event), Some(delivery)) = (event, delivery) else {
            self.counters.bad_request.fetch_add(1, Ordering::Relaxed);
            return text(
                StatusCode::BAD_REQUEST,
                "X-GitHub-Event and X-GitHub-Delivery (a UUID) are required",
            );
        };
        self.counters.json_parses.fetch_add(1, Ordering::Relaxed);
        let routed = match events::route(event, &body) {
            Ok(routed) => routed,
            Err(e) => {
                tracing::warn!(delivery, event, reason = %e.0, "signed delivery rejected");
                self.counters.bad_request.fetch_add(1, Ordering::Relaxed);
                return text(
                    StatusCode::BAD_REQUEST,
                    "the payload lacks a field ciguard needs",
                );
            }
        };
        let (outcome, installation_id, jobs) = match &routed {
            Routed::Ping => ("ping", 0, &[][..]),
            Routed::Ignored(_) => ("ignored", 0, &[][..]),
            Routed::Jobs {
                installation_id,
                jobs,
            } => ("queued", *installation_id, jobs.as_slice()),
        };
        let recorded = self
            .store
            .record_delivery(
                delivery,
                event,
                outcome,
                installation_id,
                jobs,
                self.max_attempts,
            )
            .await;
        match (recorded, &routed) {
            (Err(e), _) => {
                tracing::warn!(delivery, event, error = %e, "delivery not recorded");
                self.counters.unavailable.fetch_add(1, Ordering::Relaxed);
                text(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "the store is unavailable: GitHub can redeliver",
                )
            }
            (Ok(Recorded::Duplicate), _) => {
                self.counters.duplicates.fetch_add(1, Ordering::Relaxed);
                text(StatusCode::OK, "duplicate delivery")
            }
            (Ok(Recorded::New { .. }), Routed::Ping) => text(StatusCode::OK, "pong"),
            (Ok(Recorded::New { .. }), Routed::Ignored(why)) => {
                tracing::debug!(delivery, event, why = %why, "delivery ignored");
                self.counters.ignored.fetch_add(1, Ordering::Relaxed);
                text(StatusCode::OK, "ignored")
            }
            (Ok(Recorded::New { jobs }), Routed::Jobs { .. }) => {
                tracing::info!(delivery, event, jobs, "delivery accepted");
                self.counters.accepted.fetch_add(1, Ordering::Relaxed);
                self.jobs_queued.notify_waiters();
                text(StatusCode::ACCEPTED, "accepted")
            }
        }
    }

    fn unauthorized(&self, error: signature::SignatureError) -> Reply {
        self.counters.unauthorized.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(reason = error.message(), "webhook rejected");
        text(StatusCode::UNAUTHORIZED, error.message())
    }

    fn too_large(&self) -> Reply {
        self.counters.too_large.fetch_add(1, Ordering::Relaxed);
        text(StatusCode::PAYLOAD_TOO_LARGE, "the body exceeds 25 MiB")
    }
}

fn header<'a>(headers: &'a hyper::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn is_event_name(event: &str) -> bool {
    !event.is_empty()
        && event.len() <= 64
        && event.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
}

/// `8-4-4-4-12` hexadecimal digits, as GitHub's delivery GUIDs are.
pub fn is_uuid(value: &str) -> bool {
    let bytes = value.as_bytes();
    bytes.len() == 36
        && bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        })
}

fn text(status: StatusCode, message: &'static str) -> Reply {
    let mut reply = Response::new(Full::new(Bytes::from_static(message.as_bytes())));
    *reply.status_mut() = status;
    reply.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain"),
    );
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_ids_must_be_uuids() {
        assert!(is_uuid("72d3162e-cc78-11e3-81ab-4c9367dc0958"));
        for bad in [
            "",
            "72d3162e",
            "72d3162e-cc78-11e3-81ab-4c9367dc095g",
            "72d3162e-cc78-11e3-81ab_4c9367dc0958",
            "../../../../../../../../../../etc/pas",
        ] {
            assert!(!is_uuid(bad), "{bad}");
        }
    }

    #[test]
    fn event_names_are_lowercase_words() {
        assert!(is_event_name("pull_request"));
        assert!(!is_event_name("Pull Request"));
        assert!(!is_event_name(""));
        assert!(!is_event_name(&"a".repeat(65)));
    }
}
