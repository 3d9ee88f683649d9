//! ciguard's GitHub REST client: base URL and token from flags or the environment, bounded
//! concurrency, timeouts, retries with backoff, primary and secondary rate limits waited out within
//! a bound, one network budget for the whole run, redirects followed only on the API's own origin
//! (with the token; never elsewhere), every page of arrays and `{total_count, <list>}` envelopes,
//! an on-disk cache with conditional requests that trusts no entry it cannot verify, one recorded
//! [`Cause`] per kind of network failure, and redaction: the token never appears in output, logs
//! or errors.
//!
//! Blocking I/O on threads, no async runtime. Higher layers (`resolve`, `registry`) build on
//! [`Client::get`] and friends.

mod cache;
mod client;
mod config;
mod error;
pub mod online;
pub mod registry;
pub mod remote;
pub mod resolve;
pub mod revalidate;
pub mod transitive;

pub use client::{ApiResponse, Client, NetworkFailure};
pub use config::{ClientConfig, DEFAULT_API_URL, Token, default_cache_dir};
pub use error::{Cause, ContentProblem, Error};
pub use revalidate::Revalidation;
