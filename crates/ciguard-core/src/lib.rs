//! ciguard's core: span-exact parsing of workflows, actions and Dependabot files, the audits, the
//! findings they report, suppression, outputs and fixes. No network access happens here.

pub mod actions_lock;
pub mod audit;
pub mod audits;
pub mod catalog;
pub mod config;
pub mod config_schema;
pub mod docs;
pub mod engine;
pub mod facts;
pub mod finding;
pub mod fix;
pub mod models;
pub mod output;
pub mod percent;
pub mod pin;
pub mod plural;
pub mod refs;
pub mod report;
pub mod safe_read;
pub mod suggest;
pub mod suppress;
pub mod transitive;

/// The syntax layer, re-exported so `crate::yaml::…` and `ciguard_core::yaml::…` keep working.
pub use ciguard_syntax::{diagnostic, escape, expr, hex, redact, route, shell, source, yaml};

pub use audit::{Audit, AuditContext};
pub use catalog::{AuditMeta, Catalogue};
pub use diagnostic::{Diagnostic, Level};
pub use finding::{Applicability, Confidence, Edit, Finding, Fix, Location, Persona, Severity};
pub use report::Report;
pub use route::Route;
pub use source::{FileKind, SourceFile, Span};
