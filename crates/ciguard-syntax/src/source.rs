//! Source files: their text, their kind, and byte offset to line/column conversion.

use std::fmt;

/// A byte range in a source file, `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: usize,
    pub end: usize,
}

impl Span {
    pub const fn new(start: usize, end: usize) -> Self {
        Self { start, end }
    }

    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The smallest span covering both.
    pub fn cover(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    pub fn contains(&self, other: Span) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// What a file is to ciguard; decides which audits see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    Workflow,
    Action,
    Dependabot,
    /// Lockfiles, package manifests and package-manager configurations (audited by `ciguard-deps`).
    Dependencies,
    /// A pre-commit configuration (`.pre-commit-config.yaml` at the repository root): the hook
    /// repositories it clones and runs.
    PreCommit,
}

impl FileKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FileKind::Workflow => "workflow",
            FileKind::Action => "action",
            FileKind::Dependabot => "dependabot",
            FileKind::Dependencies => "dependencies",
            FileKind::PreCommit => "pre-commit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "workflow" | "workflows" => Some(FileKind::Workflow),
            "action" | "actions" => Some(FileKind::Action),
            "dependabot" => Some(FileKind::Dependabot),
            "dependencies" | "deps" => Some(FileKind::Dependencies),
            "pre-commit" => Some(FileKind::PreCommit),
            _ => None,
        }
    }
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line and column, both 1-based; the column counts characters, not bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct LineCol {
    pub line: usize,
    pub column: usize,
}

/// One file's text, with the display path used in every message about it.
#[derive(Debug)]
pub struct SourceFile {
    /// The path as the user should see it (relative to where they pointed ciguard).
    pub path: String,
    pub kind: FileKind,
    pub text: String,
    /// Where the file lives on the web (a file of a remote repository), for outputs that link to
    /// it (SARIF); `None` for local files, whose `path` is the link.
    pub uri: Option<String>,
    line_starts: Vec<usize>,
}

impl SourceFile {
    pub fn new(path: impl Into<String>, kind: FileKind, text: String) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self {
            path: path.into(),
            kind,
            text,
            uri: None,
            line_starts,
        }
    }

    /// The file with its web address (see [`SourceFile::uri`]).
    pub fn with_uri(mut self, uri: Option<String>) -> Self {
        self.uri = uri;
        self
    }

    /// Line and column of a byte offset (clamped to the text, and to a char boundary).
    pub fn line_col(&self, offset: usize) -> LineCol {
        let offset = self.floor_char_boundary(offset);
        let line_idx = match self.line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.line_starts[line_idx];
        let column = self.text[start..offset].chars().count() + 1;
        LineCol {
            line: line_idx + 1,
            column,
        }
    }

    fn floor_char_boundary(&self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        offset
    }

    pub fn line_count(&self) -> usize {
        self.line_starts.len()
    }

    /// Byte range of a 1-based line, without its line ending.
    pub fn line_span(&self, line: usize) -> Span {
        let idx = line.saturating_sub(1).min(self.line_starts.len() - 1);
        let start = self.line_starts[idx];
        let mut end = self
            .line_starts
            .get(idx + 1)
            .map_or(self.text.len(), |next| next - 1);
        if end > start && self.text.as_bytes()[end - 1] == b'\r' {
            end -= 1;
        }
        Span::new(start, end.max(start))
    }

    pub fn line_text(&self, line: usize) -> &str {
        let span = self.line_span(line);
        &self.text[span.start..span.end]
    }

    pub fn slice(&self, span: Span) -> &str {
        let start = self.floor_char_boundary(span.start);
        let end = self.floor_char_boundary(span.end.max(start));
        &self.text[start..end]
    }

    /// The text of a `# comment` that follows `span` on its last line, without the `#`.
    pub fn trailing_comment(&self, span: Span) -> Option<&str> {
        let line = self.line_col(span.end).line;
        let line_span = self.line_span(line);
        let rest = self.slice(Span::new(span.end, line_span.end));
        let hash = rest.find('#')?;
        if !rest[..hash].trim().is_empty()
            && !rest[..hash].trim_start().starts_with(['}', ']', ','])
        {
            return None;
        }
        Some(rest[hash + 1..].trim())
    }
}
