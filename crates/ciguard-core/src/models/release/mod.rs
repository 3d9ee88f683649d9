//! The release chain: whether a workflow releases, which steps publish and to what registry,
//! which credentials they carry, and which action versions a step pins.
//!
//! Shared by `cache-poisoning`, `use-trusted-publishing`, `trusted-publishing`,
//! `release-isolation` and `missing-attestations`.
//!
//! By topic: `registry` (where), `triggers` (when), `publications` (what publishes),
//! `credentials` (with which long-lived secret); `commands` names the tools `run:` scripts run.

mod commands;
mod credentials;
mod publications;
mod registry;
mod triggers;

pub use commands::*;
pub use credentials::*;
pub use publications::*;
pub use registry::*;
pub use triggers::*;
