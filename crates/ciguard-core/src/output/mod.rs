//! Output formats: how a [`Report`] is shown to people (plain), programs (json), code scanning
//! (sarif) and GitHub Actions logs (github).

pub use ciguard_syntax::escape;
mod github;
mod json;
mod plain;
mod sarif;

pub use github::{StepSummary, step_summary};

use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

use crate::finding::{Finding, Location, Severity};
use crate::report::Report;
use crate::source::{LineCol, SourceFile, Span};

/// The name tools and outputs use for ciguard.
pub const TOOL_NAME: &str = "ciguard";
/// The version written into machine-readable outputs.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");
/// Where people learn about ciguard.
pub const INFORMATION_URI: &str = "https://github.com/ciguard/ciguard";

/// The page documenting an audit.
pub fn audit_docs_url(id: &str) -> String {
    format!("{INFORMATION_URI}/blob/main/docs/audits/{id}.md")
}

/// An output format, as chosen with `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Annotated source snippets for people (the default).
    #[default]
    Plain,
    /// A versioned JSON document (see `docs/json-output.md`).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning and other SARIF consumers.
    Sarif,
    /// GitHub Actions workflow commands, which become annotations on the run and the pull request.
    Github,
}

impl Format {
    pub const ALL: &'static [Format] =
        &[Format::Plain, Format::Json, Format::Sarif, Format::Github];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Github => "github",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == wanted)
            .ok_or_else(|| {
                format!("unknown format `{s}`; expected one of plain, json, sarif, github")
            })
    }
}

/// How to render; the binary decides colour from `--color`, `NO_COLOR` and whether stdout is a tty.
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    /// Use ANSI colours (plain format only).
    pub color: bool,
    /// The terminal's width in columns, when stdout is one: long source lines are elided to
    /// it. `None` elides at a fixed width, so output to files and pipes is the same everywhere.
    pub width: Option<usize>,
    /// Make documentation links OSC 8 hyperlinks (a terminal that supports them; plain only).
    pub hyperlinks: bool,
    /// Findings only: no notes and no summary line (plain only; `-q`).
    pub quiet: bool,
}

/// Writes `report` to `out` in `format`: the [`Stream`] of its findings. SARIF lists every audit
/// of `catalogue` (the front end's) as a rule, and any audit of a finding besides.
pub fn render(
    format: Format,
    report: &Report,
    opts: &RenderOptions,
    catalogue: &crate::catalog::Catalogue,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Plain => plain::render(report, opts, out),
        Format::Json => json::render(report, out),
        Format::Sarif => sarif::render(report, catalogue, out),
        Format::Github => github::render(report, out),
    }
}

/// How many findings a streamed report showed, by severity: what its summary says once the
/// findings themselves are gone.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub findings: usize,
    /// `[high, medium, low, informational]`.
    pub by_severity: [usize; 4],
}

impl Tally {
    pub fn of(findings: &[Finding]) -> Self {
        let mut tally = Tally::default();
        tally.add(findings);
        tally
    }

    pub fn add(&mut self, findings: &[Finding]) {
        self.findings += findings.len();
        for f in findings {
            self.by_severity[Self::index(f.severity)] += 1;
        }
    }

    fn index(severity: Severity) -> usize {
        match severity {
            Severity::High => 0,
            Severity::Medium => 1,
            Severity::Low => 2,
            Severity::Informational => 3,
        }
    }

    /// The highest severity shown, if any finding was.
    pub fn max_severity(&self) -> Option<Severity> {
        [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Informational,
        ]
        .into_iter()
        .find(|s| self.by_severity[Self::index(*s)] > 0)
    }
}

/// A report written as it is produced: findings in report order, batch by batch, each batch
/// written and forgotten; then [`Stream::finish`] with the rest of the report (its `findings`
/// are not read). Memory does not grow with the number of findings.
///
/// Against rendering a whole [`Report`] before streaming existed: JSON writes `findings` before
/// the other members, and SARIF lists every audit of the catalogue as a rule and writes
/// `invocations` and `tool` after `results`. GitHub annotations are the same: the findings'
/// are held (in a temporary file once large) until the limits note that precedes them can count
/// them.
pub struct Stream<'a> {
    format: Format,
    opts: RenderOptions,
    out: &'a mut dyn Write,
    tally: Tally,
    json: json::Stream,
    sarif: sarif::Stream,
    github: github::Stream,
    /// Diagnostics so far: SARIF's root may come from them when no finding names one.
    diagnostics: Vec<crate::diagnostic::Diagnostic>,
}

impl<'a> Stream<'a> {
    /// A stream whose SARIF rules are every audit of `catalogue` (the front end's, with the
    /// audits of every crate), so each result's `ruleIndex` is known before it is written.
    pub fn new(
        format: Format,
        opts: RenderOptions,
        out: &'a mut dyn Write,
        catalogue: &crate::catalog::Catalogue,
    ) -> Self {
        Stream {
            format,
            opts,
            out,
            tally: Tally::default(),
            json: json::Stream::default(),
            github: github::Stream::default(),
            sarif: sarif::Stream::new(catalogue.iter()),
            diagnostics: Vec::new(),
        }
    }

    /// Writes the next findings (sorted as [`Report::sort`] sorts, after every earlier batch).
    pub fn findings(&mut self, findings: &[Finding]) -> io::Result<()> {
        self.tally.add(findings);
        match self.format {
            Format::Plain => plain::write_findings(&self.opts, findings, self.out),
            Format::Json => self.json.findings(findings, self.out),
            Format::Sarif => self.sarif.findings(findings, &self.diagnostics, self.out),
            Format::Github => self.github.findings(findings),
        }
    }

    /// A diagnostic as it arises (SARIF may take its root from one; the formats write them
    /// from the report at the end).
    pub fn diagnostic(&mut self, diagnostic: &crate::diagnostic::Diagnostic) -> io::Result<()> {
        if self.format == Format::Sarif {
            self.diagnostics.push(diagnostic.clone());
        }
        Ok(())
    }

    /// What has been written so far.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Ends the document with what `report` says besides findings: diagnostics, notes, counts.
    pub fn finish(self, report: &Report) -> io::Result<Tally> {
        match self.format {
            Format::Plain => plain::finish(&self.opts, report, &self.tally, self.out)?,
            Format::Json => self.json.finish(report, &self.tally, self.out)?,
            Format::Sarif => self.sarif.finish(report, self.out)?,
            Format::Github => self.github.finish(report, self.out)?,
        }
        Ok(self.tally)
    }
}

/// `text` (pretty-printed JSON) nested in a document: `indent` before each of its lines, copied a
/// line at a time.
pub(crate) fn push_indented(out: &mut Vec<u8>, text: &[u8], indent: &[u8]) {
    for (n, line) in text.split(|&b| b == b'\n').enumerate() {
        if n > 0 {
            out.push(b'\n');
        }
        out.extend_from_slice(indent);
        out.extend_from_slice(line);
    }
}

/// Where a span starts and ends as lines and columns (1-based, columns in characters). `end` is
/// the position just after the last character; trailing whitespace and line breaks of the span
/// are not counted, so a block that ends with a newline ends on its last line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Region {
    pub start: LineCol,
    pub end: LineCol,
}

/// The span without trailing whitespace (unless that would leave nothing).
pub(crate) fn trimmed_span(file: &SourceFile, span: Span) -> Span {
    let text = file.slice(span);
    let trimmed = text.trim_end();
    if trimmed.is_empty() {
        span
    } else {
        Span::new(span.start, span.start + trimmed.len())
    }
}

pub(crate) fn region(file: &SourceFile, span: Span) -> Region {
    let span = trimmed_span(file, span);
    Region {
        start: file.line_col(span.start),
        end: file.line_col(span.end),
    }
}

/// The region of a location in a file, if it is in one.
pub(crate) fn location_region(location: &Location) -> Option<(&SourceFile, Region)> {
    match location {
        Location::File { file, span, .. } => Some((file, region(file, *span))),
        Location::Setting { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileKind;

    #[test]
    fn push_indented_indents_every_line_and_only_lines() {
        let mut out = b"[".to_vec();
        push_indented(&mut out, b"{\n  \"a\": 1\n}", b"  ");
        assert_eq!(out, b"[  {\n    \"a\": 1\n  }");
        let mut out = Vec::new();
        push_indented(&mut out, b"x\n", b"--");
        assert_eq!(out, b"--x\n--");
    }

    #[test]
    fn formats_parse_and_display() {
        for f in Format::ALL {
            assert_eq!(f.as_str().parse::<Format>(), Ok(*f));
            assert_eq!(f.to_string(), f.as_str());
        }
        assert_eq!(" SARIF ".parse::<Format>(), Ok(Format::Sarif));
        let err = "xml".parse::<Format>().unwrap_err();
        assert!(err.contains("`xml`") && err.contains("github"), "{err}");
        assert_eq!(Format::default(), Format::Plain);
    }

    #[test]
    fn regions_count_characters_and_ignore_trailing_newlines() {
        let file = SourceFile::new(
            "a.yml",
            FileKind::Workflow,
            "a: é\r\nb: |\n  x\n\nc: 1\n".to_owned(),
        );
        let e = file.text.find('é').unwrap();
        let r = region(&file, Span::new(e, e + 'é'.len_utf8()));
        assert_eq!(
            (r.start.line, r.start.column, r.end.line, r.end.column),
            (1, 4, 1, 5)
        );
        let bar = file.text.find('|').unwrap();
        let c = file.text.find("c:").unwrap();
        let r = region(&file, Span::new(bar, c));
        assert_eq!(
            (r.start.line, r.start.column, r.end.line, r.end.column),
            (2, 4, 3, 4)
        );
    }
}

#[cfg(test)]
mod robustness {
    use std::sync::Arc;

    use super::*;
    use crate::finding::Finding;
    use crate::route::Route;
    use crate::source::FileKind;

    /// Every span of some awkward texts, including spans that end past the text or inside a
    /// multi-byte character, renders in every format without a panic.
    #[test]
    fn any_span_renders_in_every_format() {
        let meta = crate::audits::all()[0].meta();
        let texts = [
            "",
            "\n",
            "a: b",
            "a:\tb\r\n\r\nc: 'é☕'\n",
            "x: |\n  one\n\n  two\n",
            "\u{feff}k: v\u{7}\n",
        ];
        for text in texts {
            let file = Arc::new(SourceFile::new(
                "p q/é.yml",
                FileKind::Workflow,
                text.to_owned(),
            ));
            for start in 0..=text.len() + 2 {
                for end in start..=text.len() + 3 {
                    let loc = Location::file(&file, Span::new(start, end), Route::root(), "l");
                    let related = Location::file(&file, Span::new(end, end), Route::root(), "");
                    let report = Report {
                        findings: vec![Finding::new(meta, "m", loc).related(related)],
                        ..Default::default()
                    };
                    for format in Format::ALL {
                        let mut out = Vec::new();
                        render(
                            *format,
                            &report,
                            &RenderOptions {
                                color: true,
                                width: Some(30),
                                hyperlinks: true,
                                quiet: false,
                            },
                            &crate::audits::catalogue(),
                            &mut out,
                        )
                        .expect("render");
                        assert!(String::from_utf8(out).is_ok());
                    }
                }
            }
        }
    }
}
