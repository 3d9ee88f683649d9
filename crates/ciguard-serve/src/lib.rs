//! `ciguard serve`: the GitHub App. Ingress verifies and records webhook deliveries and their
//! jobs in one transaction; workers claim jobs with leases and run them through a [`job::JobRunner`];
//! a scheduler (one leader) runs periodic tasks. The App side (tokens, pull request audits, check
//! runs) implements the runner. Nothing here runs a contribution's code or spawns a process.

pub mod app;
pub mod drift;
pub mod events;
pub mod gate;
pub mod ingress;
pub mod job;
pub mod ops;
pub mod org_config;
pub mod relay;
pub mod scheduler;
pub mod secret;
pub mod server;
pub mod signature;
pub mod store;
pub mod wiring;
pub mod worker;
