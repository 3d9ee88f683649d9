//! The stages every ciguard front end runs, in the order they run:
//!
//! 1. [`collect`] (local paths, stdin) and [`remote`] (`owner/repo[@ref]`): the files to audit,
//!    each directory walked once;
//! 2. [`resolve`] (online only) with [`transitive`] dependencies and [`network`] diagnoses;
//! 3. [`run`]: every audit over each file, the fix loop, the dependency checks;
//! 4. [`filter`]: configuration, inline ignores, baseline, persona, floors, the same for `audit`,
//!    `deps` and `settings`;
//! 5. [`report`]: the report, each note once.
//!
//! [`memory`] is the entry for the server: the same stages over files given in memory.
//! The binary only parses flags, calls these, and chooses streams and the exit status.

pub mod catalogue;
pub mod collect;
pub mod filter;
pub mod memory;
pub mod network;
pub mod remote;
pub mod report;
pub mod resolve;
pub mod run;
pub mod transitive;

pub use filter::{FindingFilter, Suppressed, View};
pub use memory::{MemoryFile, MemoryOptions, audit_in_memory};
pub use run::{ConfigChoice, FixRequest, Options, Outcome, Sink, audit, audit_streamed};

/// Why a run could not be made at all (a problem with one input is a diagnostic instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] ciguard_core::config::ConfigError),
    /// A configuration given as text (in memory) that does not parse.
    #[error("ciguard.toml: {0}")]
    ConfigText(String),
    #[error("{0}")]
    Baseline(String),
    #[error("cannot write baseline {path}: {source}")]
    WriteBaseline {
        path: String,
        source: std::io::Error,
    },
    #[error(
        "--fix and --diff change local files; `{0}` is a remote repository (clone it to fix it)"
    )]
    RemoteFix(String),
}
