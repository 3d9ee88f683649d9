//! Problems with the input itself (not findings): unreadable files, invalid YAML, invalid
//! workflows. Each names the file, the position, what is wrong and what to do.

use std::fmt;

use crate::escape::text as esc;
use crate::source::{SourceFile, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// The file was still audited (or, for YAML that is not what its place says, skipped).
    Warning,
    /// The file could not be audited.
    Error,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Diagnostic {
    pub level: Level,
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic at a span of a file's text.
    pub fn at(level: Level, file: &SourceFile, span: Span, message: impl Into<String>) -> Self {
        let lc = file.line_col(span.start);
        Self {
            level,
            path: file.path.clone(),
            line: Some(lc.line),
            column: Some(lc.column),
            message: message.into(),
            help: None,
        }
    }

    /// A diagnostic about a whole file (or path) with no position.
    pub fn file(level: Level, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            level,
            path: path.into(),
            line: None,
            column: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// The diagnostic with every known token masked (see [`crate::redact`]): a file's text or
    /// an error may carry one, and diagnostics are printed.
    pub fn redacted(mut self) -> Self {
        self.path = crate::redact::redact(&self.path);
        self.message = crate::redact::redact(&self.message);
        self.help = self.help.map(|h| crate::redact::redact(&h));
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Warning => "warning",
            Level::Error => "error",
        };
        // Paths and messages quote the input; stderr is a terminal too.
        write!(f, "{level}: {}", esc(&self.path))?;
        if let (Some(l), Some(c)) = (self.line, self.column) {
            write!(f, ":{l}:{c}")?;
        }
        write!(f, ": {}", esc(&self.message))?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {}", esc(help))?;
        }
        Ok(())
    }
}

/// Collects shape errors while a model is built from a document.
pub struct Checker<'f> {
    pub file: &'f SourceFile,
    pub diagnostics: Vec<Diagnostic>,
}

impl<'f> Checker<'f> {
    pub fn new(file: &'f SourceFile) -> Self {
        Self {
            file,
            diagnostics: Vec::new(),
        }
    }

    pub fn error(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::at(Level::Error, self.file, span, message).help(help));
    }

    pub fn warning(&mut self, span: Span, message: impl Into<String>, help: impl Into<String>) {
        self.diagnostics
            .push(Diagnostic::at(Level::Warning, self.file, span, message).help(help));
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(|d| d.level == Level::Error)
    }
}
