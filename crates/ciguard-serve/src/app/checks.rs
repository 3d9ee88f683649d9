//! The check run a job reports: conclusion from the severity threshold, annotations in batches
//! of at most 50 (GitHub's limit per request), a Markdown summary and a title within GitHub's
//! limits, and every piece of text a pull request controls (paths, quoted values) escaped so it
//! can inject no HTML, mention nobody and link nowhere.

use std::fmt::Write as _;

use ciguard_core::Severity;
use ciguard_core::output::escape;
use serde_json::{Value, json};

use super::audit::{AppFinding, Audited};

/// The check run's name: one per (repository, SHA, name).
pub const CHECK_NAME: &str = "ciguard";
/// GitHub refuses more annotations per create or update.
pub const ANNOTATIONS_PER_REQUEST: usize = 50;
/// GitHub's limit on `output.summary`.
pub const MAX_SUMMARY: usize = 65_535;
/// GitHub's limit on `output.title`.
pub const MAX_TITLE: usize = 255;
/// A quoted piece of input longer than this is cut (`…`).
const MAX_QUOTED: usize = 300;
/// Room kept at the end of the summary for the lines that say what was left out.
const SUMMARY_TAIL: usize = 2_000;
/// Zero-width space: breaks `@mention`, `#123`, `http://` and `www.` without changing the look.
const ZWSP: char = '\u{200B}';

/// What a completed check run says.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckReport {
    pub conclusion: &'static str,
    pub title: String,
    pub summary: String,
    /// The annotations, in the batches they are sent in.
    pub batches: Vec<Vec<Value>>,
}

/// How the App reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportPolicy {
    /// Findings at or above this severity fail the check.
    pub fail_on: Severity,
    /// At most this many annotations per check run; the others are counted in the summary.
    pub max_annotations: usize,
}

impl Default for ReportPolicy {
    fn default() -> Self {
        Self {
            fail_on: Severity::High,
            max_annotations: 1_000,
        }
    }
}

/// Text that a repository or pull request controls, made safe inside Markdown: control and
/// bidirectional characters written visibly, HTML metacharacters as entities, Markdown
/// punctuation backslash-escaped, mentions, issue references and autolinks broken.
pub fn markdown_text(input: &str) -> String {
    markdown_line(input, MAX_QUOTED)
}

/// [`markdown_text`] cut at `max` characters (before escaping) instead of the quoting length.
pub fn markdown_line(input: &str, max: usize) -> String {
    let visible = escape::text(input);
    let short = escape::elide(&visible, max);
    let mut out = String::with_capacity(short.len() + 8);
    let chars: Vec<char> = short.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\\' | '`' | '*' | '_' | '[' | ']' | '(' | ')' | '|' | '~' | '!' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '@' | '#' => {
                out.push(c);
                out.push(ZWSP);
            }
            ':' if chars.get(i + 1) == Some(&'/') => {
                out.push(':');
                out.push(ZWSP);
            }
            '.' if i >= 3 && chars[i - 3..i].iter().all(|c| c.eq_ignore_ascii_case(&'w')) => {
                out.push(ZWSP);
                out.push('.');
            }
            c => out.push(c),
        }
    }
    out
}

/// Text for plain-text fields (annotation messages): control characters visible, mentions
/// broken, length capped.
pub fn plain_text(input: &str, max: usize) -> String {
    let visible = escape::text(input);
    escape::elide(&visible, max).replace('@', "@\u{200B}")
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "failure",
        Severity::Medium => "warning",
        Severity::Low | Severity::Informational => "notice",
    }
}

fn severity_name(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Informational => "informational",
    }
}

fn annotation(f: &AppFinding) -> Value {
    json!({
        // The exact repository path: GitHub places the annotation by it.
        "path": f.path,
        "start_line": f.start_line,
        "end_line": f.end_line,
        "annotation_level": level(f.severity),
        "title": plain_text(&format!("{} ({})", f.audit_id, severity_name(f.severity)), MAX_TITLE - 5),
        "message": plain_text(&f.message, 4_000),
    })
}

/// Cuts `s` to at most `max` bytes on a character boundary.
fn cap(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max.saturating_sub('…'.len_utf8());
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// The check run for `audited` at `sha`; `notes` are lines the App adds (what was not
/// fetched, a changed configuration), written by the App and escaped here all the same.
pub fn report(audited: &Audited, policy: ReportPolicy, sha: &str, notes: &[String]) -> CheckReport {
    let mut findings: Vec<&AppFinding> = audited.findings.iter().collect();
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.path.cmp(&b.path))
            .then(a.start_line.cmp(&b.start_line))
    });
    let failing = findings
        .iter()
        .filter(|f| f.severity >= policy.fail_on)
        .count();
    let conclusion = if failing > 0 { "failure" } else { "success" };
    let count = |n: usize, one: &str| ciguard_core::plural::count(n, one, &format!("{one}s"));
    let title = cap(
        if findings.is_empty() {
            "no findings".to_owned()
        } else {
            format!(
                "{} ({} at {} or above)",
                count(findings.len(), "finding"),
                failing,
                severity_name(policy.fail_on)
            )
        },
        MAX_TITLE,
    );
    let mut summary = String::new();
    let _ = writeln!(
        summary,
        "ciguard audited {} at `{}`: {}. Findings at **{}** or above fail this check.\n",
        count(audited.files, "file"),
        markdown_text(sha),
        count(findings.len(), "finding"),
        severity_name(policy.fail_on)
    );
    for note in notes {
        let _ = writeln!(summary, "> {}\n", markdown_text(note));
    }
    if !findings.is_empty() {
        summary.push_str("### Findings\n\n");
    }
    let mut listed = 0;
    for f in &findings {
        let line = format!(
            "- **{}** `{}` {}:{}: {}\n",
            severity_name(f.severity),
            f.audit_id,
            markdown_text(&f.path),
            f.start_line,
            markdown_text(&f.message)
        );
        if summary.len() + line.len() > MAX_SUMMARY - SUMMARY_TAIL {
            break;
        }
        summary.push_str(&line);
        listed += 1;
    }
    if listed < findings.len() {
        let _ = writeln!(
            summary,
            "\n… and {} not listed (the summary is limited to {MAX_SUMMARY} characters).",
            count(findings.len() - listed, "more finding")
        );
    }
    let annotated = findings.len().min(policy.max_annotations);
    if annotated < findings.len() {
        let _ = writeln!(
            summary,
            "\n{} beyond the cap of {} annotations are not annotated.",
            count(findings.len() - annotated, "finding"),
            policy.max_annotations
        );
    }
    if !audited.skipped.is_empty() {
        summary.push_str("\n### Not audited\n\n");
        for s in audited.skipped.iter().take(20) {
            let line = format!(
                "- {}: {}\n",
                markdown_text(&s.path),
                markdown_text(&s.reason)
            );
            if summary.len() + line.len() > MAX_SUMMARY - 200 {
                break;
            }
            summary.push_str(&line);
        }
        if audited.skipped.len() > 20 {
            let _ = writeln!(summary, "- … and {} more", audited.skipped.len() - 20);
        }
    }
    let annotations: Vec<Value> = findings[..annotated]
        .iter()
        .map(|f| annotation(f))
        .collect();
    CheckReport {
        conclusion,
        title,
        summary: cap(summary, MAX_SUMMARY),
        batches: annotations
            .chunks(ANNOTATIONS_PER_REQUEST)
            .map(<[Value]>::to_vec)
            .collect(),
    }
}

/// The check run of a head that moved before the audit ran.
pub fn superseded(old: &str, new: &str) -> CheckReport {
    CheckReport {
        conclusion: "neutral",
        title: "superseded".into(),
        summary: format!(
            "The pull request's head moved from `{}` to `{}` before this audit ran; the new head \
             is audited in its own check run.",
            markdown_text(old),
            markdown_text(new)
        ),
        batches: Vec::new(),
    }
}

/// The check run when the repository's configuration does not parse: failing, never audited
/// with defaults instead.
pub fn bad_config(message: &str) -> CheckReport {
    CheckReport {
        conclusion: "failure",
        title: "ciguard.toml does not parse".into(),
        summary: format!(
            "The repository's configuration could not be read, so nothing was audited:\n\n> {}\n\n\
             Fix the file (`ciguard audit` locally shows the same error).",
            markdown_text(message)
        ),
        batches: Vec::new(),
    }
}

/// The check run when GitHub refused a request the audit needs: failing, so that a commit
/// that was not audited never passes.
pub fn not_audited(reason: &str) -> CheckReport {
    CheckReport {
        conclusion: "failure",
        title: "could not audit this commit".into(),
        summary: format!(
            "GitHub refused a request the audit needs, so nothing was audited:\n\n> {}\n\n\
             Re-run the check once the cause is fixed.",
            markdown_text(reason)
        ),
        batches: Vec::new(),
    }
}

/// `report` for a check run that has its annotations from an earlier audit of the same commit:
/// GitHub appends annotations and cannot replace them, so the summary says they are kept.
pub fn annotations_kept(report: &CheckReport) -> CheckReport {
    let note = "\n\nThe annotations are those of the first audit of this commit (GitHub adds \
                annotations to a check run and cannot replace them); the list above is current.";
    CheckReport {
        conclusion: report.conclusion,
        title: report.title.clone(),
        summary: cap(format!("{}{note}", report.summary), MAX_SUMMARY),
        batches: Vec::new(),
    }
}

/// The `output` object of one create or update request.
pub fn output(report: &CheckReport, annotations: &[Value]) -> Value {
    let mut out = json!({"title": report.title, "summary": report.summary});
    if !annotations.is_empty() {
        out["annotations"] = Value::Array(annotations.to_vec());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(severity: Severity, path: &str, line: usize, message: &str) -> AppFinding {
        AppFinding {
            audit_id: "template-injection".into(),
            severity,
            path: path.into(),
            start_line: line,
            end_line: line,
            message: message.into(),
        }
    }

    fn audited(findings: Vec<AppFinding>) -> Audited {
        Audited {
            findings,
            skipped: Vec::new(),
            files: 1,
        }
    }

    #[test]
    fn markdown_text_neutralises_html_mentions_links_and_markup() {
        let out = markdown_text(
            "<img src=x onerror=alert(1)> @octocat #1 [x](https://evil.example) www.evil.example **b**\n# h",
        );
        assert!(!out.contains('<') && !out.contains('>'), "{out}");
        assert!(out.contains("&lt;img"), "{out}");
        assert!(out.contains("@\u{200B}octocat"), "{out}");
        assert!(out.contains("#\u{200B}1"), "{out}");
        assert!(out.contains("\\[x\\]\\(https:\u{200B}//"), "{out}");
        assert!(out.contains("www\u{200B}.evil"), "{out}");
        assert!(out.contains("\\*\\*b\\*\\*"), "{out}");
        assert!(!out.contains('\n') && out.contains("\\\\n"), "{out}");
        assert_eq!(markdown_text("plain words 1.2"), "plain words 1.2");
    }

    #[test]
    fn conclusion_follows_the_threshold() {
        let policy = ReportPolicy::default();
        let medium = report(
            &audited(vec![finding(Severity::Medium, "a.yml", 1, "m")]),
            policy,
            "abc",
            &[],
        );
        assert_eq!(medium.conclusion, "success");
        assert_eq!(medium.title, "1 finding (0 at high or above)");
        let strict = ReportPolicy {
            fail_on: Severity::Medium,
            ..policy
        };
        assert_eq!(
            report(
                &audited(vec![finding(Severity::Medium, "a.yml", 1, "m")]),
                strict,
                "abc",
                &[]
            )
            .conclusion,
            "failure"
        );
        let clean = report(&audited(vec![]), policy, "abc", &[]);
        assert_eq!(
            (clean.conclusion, clean.title.as_str()),
            ("success", "no findings")
        );
        assert!(clean.batches.is_empty());
    }

    #[test]
    fn annotations_go_in_batches_of_fifty_and_the_overflow_is_counted() {
        let many: Vec<AppFinding> = (1..=120)
            .map(|i| finding(Severity::High, "w.yml", i, "x"))
            .collect();
        let r = report(&audited(many.clone()), ReportPolicy::default(), "abc", &[]);
        let sizes: Vec<usize> = r.batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [50, 50, 20]);
        let capped = ReportPolicy {
            max_annotations: 70,
            ..ReportPolicy::default()
        };
        let r = report(&audited(many), capped, "abc", &[]);
        let sizes: Vec<usize> = r.batches.iter().map(Vec::len).collect();
        assert_eq!(sizes, [50, 20]);
        assert!(
            r.summary
                .contains("50 findings beyond the cap of 70 annotations"),
            "{}",
            r.summary
        );
    }

    #[test]
    fn the_summary_stays_within_githubs_limit_and_counts_what_it_leaves_out() {
        let long = "@x <b> ".repeat(2_000);
        let many: Vec<AppFinding> = (1..=2_000)
            .map(|i| finding(Severity::High, "w.yml", i, &long))
            .collect();
        let r = report(
            &audited(many),
            ReportPolicy::default(),
            "abc",
            &["a note with @someone".into()],
        );
        assert!(r.summary.len() <= MAX_SUMMARY, "{}", r.summary.len());
        assert!(
            r.summary.contains("more findings not listed"),
            "tail missing"
        );
        assert!(
            !r.summary.contains("<b>")
                && !r.summary.contains("@x")
                && !r.summary.contains("@someone")
        );
        assert!(r.title.len() <= MAX_TITLE);
        for batch in &r.batches {
            for a in batch {
                assert!(a["message"].as_str().is_some_and(|m| !m.contains("@x")));
            }
        }
    }
}
