//! Findings: what an audit reports, where, how sure it is, and how to fix it.

use std::sync::Arc;

use serde::Serialize;

use crate::catalog::AuditMeta;
pub use crate::catalog::{Applicability, Confidence, Persona, Severity};
use crate::escape::elide;
use crate::route::Route;
use crate::source::{SourceFile, Span};

/// How many characters of a message or label a finding keeps. Messages quote the input (a
/// `uses:` value, a command); a hostile value must not make every finding, and the output,
/// as large as itself. Longer texts end with `…`.
pub const MAX_TEXT_CHARS: usize = 400;

/// Where a finding points: a span in a file, or a setting that has no file.
#[derive(Debug, Clone)]
pub enum Location {
    File {
        file: Arc<SourceFile>,
        span: Span,
        route: Route,
        label: String,
    },
    Setting {
        /// What the setting is, e.g. `owner/repo: ruleset "main" → bypass_actors[0]`.
        subject: String,
        /// The page where it is changed.
        url: Option<String>,
        label: String,
    },
}

impl Location {
    pub fn file(
        file: &Arc<SourceFile>,
        span: Span,
        route: Route,
        label: impl Into<String>,
    ) -> Self {
        Location::File {
            file: Arc::clone(file),
            span,
            route,
            label: capped(label.into()),
        }
    }

    pub fn setting(
        subject: impl Into<String>,
        url: Option<String>,
        label: impl Into<String>,
    ) -> Self {
        Location::Setting {
            subject: subject.into(),
            url,
            label: capped(label.into()),
        }
    }

    pub fn label(&self) -> &str {
        match self {
            Location::File { label, .. } | Location::Setting { label, .. } => label,
        }
    }

    pub fn source(&self) -> Option<&Arc<SourceFile>> {
        match self {
            Location::File { file, .. } => Some(file),
            Location::Setting { .. } => None,
        }
    }

    pub fn span(&self) -> Option<Span> {
        match self {
            Location::File { span, .. } => Some(*span),
            Location::Setting { .. } => None,
        }
    }

    /// `path` for files, the subject for settings.
    pub fn path(&self) -> &str {
        match self {
            Location::File { file, .. } => &file.path,
            Location::Setting { subject, .. } => subject,
        }
    }

    pub fn route_string(&self) -> String {
        match self {
            Location::File { route, .. } => route.to_string(),
            Location::Setting { subject, .. } => subject.clone(),
        }
    }
}

/// `text` cut to [`MAX_TEXT_CHARS`], without copying when it is short.
fn capped(text: String) -> String {
    if text.len() <= MAX_TEXT_CHARS {
        return text;
    }
    elide(&text, MAX_TEXT_CHARS).into_owned()
}

/// One byte splice in the finding's primary file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Edit {
    pub start: usize,
    pub end: usize,
    pub replacement: String,
}

impl Edit {
    pub fn replace(span: Span, replacement: impl Into<String>) -> Self {
        Self {
            start: span.start,
            end: span.end,
            replacement: replacement.into(),
        }
    }

    pub fn insert(at: usize, text: impl Into<String>) -> Self {
        Self {
            start: at,
            end: at,
            replacement: text.into(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Fix {
    pub title: String,
    pub applicability: Applicability,
    pub edits: Vec<Edit>,
}

#[derive(Debug, Clone)]
pub struct Finding {
    /// The declaration of the audit that reported it.
    pub meta: &'static AuditMeta,
    pub message: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub persona: Persona,
    pub primary: Location,
    pub related: Vec<Location>,
    pub fixes: Vec<Fix>,
    /// For findings inside a dependency: the chain of `uses` that leads to it.
    pub chain: Vec<String>,
}

impl Finding {
    /// A finding with the audit's default severity, confidence and persona.
    pub fn new(meta: &'static AuditMeta, message: impl Into<String>, primary: Location) -> Self {
        Self {
            meta,
            message: capped(message.into()),
            severity: meta.severity,
            confidence: meta.confidence,
            persona: meta.persona,
            primary,
            related: Vec::new(),
            fixes: Vec::new(),
            chain: Vec::new(),
        }
    }

    /// The id of the audit that reported it.
    pub fn audit_id(&self) -> &'static str {
        self.meta.id
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    pub fn persona(mut self, persona: Persona) -> Self {
        self.persona = persona;
        self
    }

    pub fn related(mut self, location: Location) -> Self {
        self.related.push(location);
        self
    }

    pub fn fix(
        mut self,
        title: impl Into<String>,
        applicability: Applicability,
        edits: Vec<Edit>,
    ) -> Self {
        self.fixes.push(Fix {
            title: capped(title.into()),
            applicability,
            edits,
        });
        self
    }

    /// A stable identity for baselines and SARIF fingerprints: audit, file, route, the text of
    /// the primary span (what a setting names, for settings) and the chain of a dependency's
    /// finding — never line numbers, so unrelated edits do not change it, and never the
    /// message, so rewording a message does not either.
    pub fn fingerprint(&self) -> String {
        self.fingerprint_with(None)
    }

    /// The fingerprint of ciguard 0.1 (baselines of version 1), which hashed the message too:
    /// rewording a message changed it. Read for old baselines only.
    pub fn legacy_fingerprint(&self) -> String {
        self.fingerprint_with(Some(&self.message))
    }

    fn fingerprint_with(&self, message: Option<&str>) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.audit_id().as_bytes());
        h.update([0]);
        h.update(self.primary.path().as_bytes());
        h.update([0]);
        h.update(self.primary.route_string().as_bytes());
        h.update([0]);
        match &self.primary {
            Location::File { file, span, .. } => h.update(file.slice(*span).as_bytes()),
            // A setting has no snippet: what it names stands in for it.
            Location::Setting { label, url, .. } if message.is_none() => {
                h.update(label.as_bytes());
                h.update([0]);
                h.update(url.as_deref().unwrap_or_default().as_bytes());
            }
            Location::Setting { .. } => {}
        }
        h.update([0]);
        if let Some(message) = message {
            h.update(message.as_bytes());
        }
        // Findings inside a dependency: the same issue reached through another chain is another
        // finding. Empty for the audited files themselves.
        for hop in &self.chain {
            h.update([0]);
            h.update(hop.as_bytes());
        }
        let digest = h.finalize();
        crate::hex::encode(&digest[..16])
    }
}
