//! The App side of `ciguard serve`: App authentication (JWT, installation tokens), pull request
//! and push audits read through the API and reported as check runs, the shared rate-limit
//! budget, the missed-delivery reconciler and the log redaction. Nothing here checks out or runs
//! a contribution's code, and nothing spawns a process.

pub mod api;
pub mod audit;
pub mod checks;
pub mod github;
pub mod key;
pub mod reconcile;
pub mod redact;
pub mod runner;
pub mod secret;
pub mod tokens;

pub use key::AppKey;
pub use reconcile::{ReconcileSettings, Reconciler};
pub use runner::{App, AppSettings};
