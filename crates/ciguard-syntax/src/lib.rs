//! ciguard's syntax layer: what every other crate reads input through, and which knows nothing of
//! workflows, audits or findings. A crate of its own so nothing here can import upward: the
//! modules are listed in the order they build on each other.

/// Problems with the input itself, naming file, position and what to do.
pub mod diagnostic;
/// Escaping of input quoted in any output (controls, bidirectional overrides).
pub mod escape;
/// The GitHub Actions expression language (`${{ … }}`).
pub mod expr;
/// Lowercase hex of digests shown as text.
pub mod hex;
/// Masking of the tokens this run holds in every printed message.
pub mod redact;
/// Symbolic paths into a document (`jobs.build.steps[2].uses`).
pub mod route;
/// The shell reader for `run:` scripts.
pub mod shell;
/// Source files, byte spans and line/column positions.
pub mod source;
/// YAML with byte spans, built on `saphyr-parser` with limits.
pub mod yaml;

pub use diagnostic::{Diagnostic, Level};
pub use route::Route;
pub use source::{FileKind, SourceFile, Span};
