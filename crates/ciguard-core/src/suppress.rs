//! Inline ignores (`# ciguard: ignore[audit-id] reason`, or `# ciguard:ignore[...]`) and
//! baselines.

use std::collections::HashMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::audits::{UnusedIgnore, by_id};
use crate::finding::{Finding, Location, Persona};
use crate::route::Route;
use crate::source::{SourceFile, Span};

/// One `# ciguard: ignore[...]` comment (zizmor's `# zizmor: ignore[...]` is honoured too, so a
/// project can switch tools without editing its files; only ciguard's own are checked for use).
#[derive(Debug, Clone)]
pub struct InlineIgnore {
    pub line: usize,
    pub span: Span,
    pub audits: Vec<String>,
    pub ours: bool,
}

/// Finds every inline ignore comment of a file.
pub fn inline_ignores(file: &SourceFile) -> Vec<InlineIgnore> {
    let mut out = Vec::new();
    // Every form contains this: most files have no ignore, so skip the line-by-line search.
    if !file.text.contains("ignore[") {
        return out;
    }
    for line in 1..=file.line_count() {
        let span = file.line_span(line);
        let text = file.slice(span);
        for (tool, ours) in [("ciguard:", true), ("zizmor:", false)] {
            // The ignore may follow another comment (`# v4.2.2 # ciguard: ignore[...]`), but it
            // must itself start a comment. The space after the colon is optional.
            let Some(at) = text.find(tool) else {
                continue;
            };
            let Some(hash) = text[..at].rfind('#') else {
                continue;
            };
            if !text[hash + 1..at].trim().is_empty() {
                continue;
            }
            let after = text[at + tool.len()..].trim_start_matches([' ', '\t']);
            let Some(rest) = after.strip_prefix("ignore[") else {
                continue;
            };
            let Some(close) = rest.find(']') else {
                continue;
            };
            let audits = rest[..close]
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            out.push(InlineIgnore {
                line,
                span: Span::new(span.start + hash, span.end),
                audits,
                ours,
            });
        }
    }
    out
}

/// Removes findings suppressed by inline ignores in their own file; returns how many, and the
/// `unused-ignore` findings for ciguard comments that suppressed nothing among `audits_run`.
pub fn apply_inline_ignores(
    file: &Arc<SourceFile>,
    findings: &mut Vec<Finding>,
    audits_run: &[&str],
) -> (usize, Vec<Finding>) {
    let ignores = inline_ignores(file);
    if ignores.is_empty() {
        return (0, Vec::new());
    }
    let mut used = vec![false; ignores.len()];
    let before = findings.len();
    findings.retain(|f| {
        let Some(span) = f.primary.span() else {
            return true;
        };
        // The lines of the primary span, and of related spans in the same file (a step's
        // `with:` entry, say), may carry the ignore.
        let mut ranges: Vec<(usize, usize)> = std::iter::once(span)
            .chain(
                f.related
                    .iter()
                    .filter(|r| r.path() == f.primary.path())
                    .filter_map(|r| r.span()),
            )
            .map(|s| (file.line_col(s.start).line, file.line_col(s.end).line))
            .collect();
        // As with zizmor, the block of comment lines right above the finding may carry it.
        let first = file.line_col(span.start).line;
        let above = comment_lines_above(file, first).min(item_start_above(file, first));
        if above < first {
            ranges.push((above, first - 1));
        }
        let mut suppressed = false;
        for (i, ig) in ignores.iter().enumerate() {
            let on_finding = ranges
                .iter()
                .any(|(first, last)| (*first..=*last).contains(&ig.line));
            if on_finding && ig.audits.iter().any(|a| a == f.audit_id()) {
                used[i] = true;
                suppressed = true;
            }
        }
        !suppressed
    });
    let mut unused = Vec::new();
    for (ig, used) in ignores.iter().zip(used) {
        if !ig.ours {
            continue;
        }
        for audit in &ig.audits {
            if by_id(audit).is_none() {
                unused.push(unknown_id(file, ig, audit));
            } else if !used && audits_run.contains(&audit.as_str()) {
                unused.push(Finding::new(
                    &UnusedIgnore::META,
                    format!("this ignore comment suppresses no `{audit}` finding"),
                    Location::file(file, ig.span, Route::root(), "remove this ignore comment"),
                ));
            }
        }
    }
    (before - findings.len(), unused)
}

/// A misspelt id silences nothing, whichever persona reads the report: it is shown to all,
/// with the closest audit ids.
fn unknown_id(file: &Arc<SourceFile>, ig: &InlineIgnore, audit: &str) -> Finding {
    let ids = crate::audits::all().iter().map(|a| a.meta().id);
    let hint = crate::suggest::did_you_mean(audit, ids);
    Finding::new(
        &UnusedIgnore::META,
        format!("`{audit}` in this ignore comment is not an audit{hint}"),
        Location::file(file, ig.span, Route::root(), "correct or remove this id"),
    )
    .persona(Persona::Regular)
}

/// Whether `f` is the finding of an ignore comment naming no audit (see [`unknown_id`]), which
/// no dependency's findings can make right.
pub fn names_unknown_audit(f: &Finding) -> bool {
    f.audit_id() == UnusedIgnore::META.id && f.persona == Persona::Regular
}

/// The first line of the run of comment-only lines that ends right above `line` (`line` itself
/// when the line above is not a comment).
fn comment_lines_above(file: &SourceFile, line: usize) -> usize {
    let mut first = line;
    while first > 1
        && file
            .slice(file.line_span(first - 1))
            .trim_start()
            .starts_with('#')
    {
        first -= 1;
    }
    first
}

/// When `line` is a key of a list item's mapping (a step's `uses:` or `run:`), the line that
/// starts the item (`- name: ...`), so an ignore on the step's first line covers its findings as
/// zizmor's do; `line` itself otherwise. Only sibling keys, blank and comment lines are crossed.
fn item_start_above(file: &SourceFile, line: usize) -> usize {
    let indent = |t: &str| t.len() - t.trim_start().len();
    let text = file.slice(file.line_span(line));
    let want = indent(text);
    if text.trim_start().starts_with('-') {
        return line;
    }
    let mut at = line;
    while at > 1 {
        at -= 1;
        let t = file.slice(file.line_span(at));
        let body = t.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        if body.starts_with("- ") && indent(t) + 2 == want {
            return at;
        }
        if indent(t) != want || body.starts_with('-') {
            return line;
        }
    }
    line
}

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<BaselineEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct BaselineEntry {
    audit: String,
    path: String,
    fingerprint: String,
    message: String,
}

impl BaselineEntry {
    fn of(f: &Finding) -> Self {
        BaselineEntry {
            audit: f.audit_id().to_owned(),
            path: f.primary.path().to_owned(),
            fingerprint: f.fingerprint(),
            message: f.message.clone(),
        }
    }
}

/// The version [`Baseline::write`] writes: 2 has fingerprints that do not depend on message
/// wording. Version 1 files (fingerprints with the message, [`Finding::legacy_fingerprint`])
/// are still read, so upgrading ciguard does not bring back every baselined finding; rewrite
/// them with `--write-baseline` to move on.
const BASELINE_VERSION: u32 = 2;

fn baseline_text(findings: Vec<BaselineEntry>) -> String {
    let file = BaselineFile {
        version: BASELINE_VERSION,
        findings,
    };
    let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
    text.push('\n');
    text
}

/// Why a baseline file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("not a ciguard baseline: {0}")]
    NotBaseline(#[source] serde_json::Error),
    #[error("baseline version {0} is not supported (expected 1 or {BASELINE_VERSION})")]
    Version(u32),
}

/// Known findings that a run should not report again.
#[derive(Debug, Default)]
pub struct Baseline {
    entries: Vec<BaselineEntry>,
    /// Whether the fingerprints are version 1's.
    legacy: bool,
}

impl Baseline {
    /// The JSON text of a baseline holding `findings`.
    pub fn write(findings: &[Finding]) -> String {
        baseline_text(findings.iter().map(BaselineEntry::of).collect())
    }

    pub fn parse(text: &str) -> Result<Baseline, BaselineError> {
        let file: BaselineFile = serde_json::from_str(text).map_err(BaselineError::NotBaseline)?;
        if !(1..=BASELINE_VERSION).contains(&file.version) {
            return Err(BaselineError::Version(file.version));
        }
        Ok(Baseline {
            entries: file.findings,
            legacy: file.version == 1,
        })
    }

    fn key(&self, f: &Finding) -> String {
        if self.legacy {
            f.legacy_fingerprint()
        } else {
            f.fingerprint()
        }
    }

    /// Removes findings the baseline knows (each entry absorbs one finding with its
    /// fingerprint); returns how many.
    pub fn filter(&self, findings: &mut Vec<Finding>) -> usize {
        self.remaining().filter(findings)
    }

    /// The entries not yet matched, for a run that filters its findings batch by batch.
    pub fn remaining(&self) -> Remaining<'_> {
        let mut left: HashMap<&str, Vec<usize>> = HashMap::new();
        let mut by_path: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, e) in self.entries.iter().enumerate().rev() {
            left.entry(e.fingerprint.as_str()).or_default().push(i);
            by_path.entry(e.path.as_str()).or_default().push(i);
        }
        Remaining {
            baseline: self,
            left,
            by_path,
            used: vec![false; self.entries.len()],
            audited: vec![false; self.entries.len()],
        }
    }

    /// The entries no finding of `findings` matches, among those of the files in `audited`
    /// (an entry of a file this run did not read is not known to be stale): `audit` at `path`:
    /// `message`, for a note naming what was fixed or changed.
    pub fn stale(&self, findings: &[Finding], audited: &dyn Fn(&str) -> bool) -> Vec<String> {
        let mut remaining = self.remaining();
        remaining.filter(&mut findings.to_vec());
        for (i, e) in self.entries.iter().enumerate() {
            remaining.audited[i] = audited(&e.path);
        }
        remaining.stale()
    }
}

/// A baseline's entries not yet matched by a finding of the run, and which were: the run
/// filters its findings batch by batch and learns at the end which entries are stale.
#[derive(Debug, Clone)]
pub struct Remaining<'b> {
    baseline: &'b Baseline,
    /// Per fingerprint, the entries left to absorb a finding, the first last.
    left: HashMap<&'b str, Vec<usize>>,
    /// The entries of each path.
    by_path: HashMap<&'b str, Vec<usize>>,
    used: Vec<bool>,
    /// Entries of a file the run read.
    audited: Vec<bool>,
}

impl Remaining<'_> {
    /// Removes the findings that unmatched entries absorb (one each); returns how many.
    pub fn filter(&mut self, findings: &mut Vec<Finding>) -> usize {
        let before = findings.len();
        findings.retain(|f| {
            match self
                .left
                .get_mut(self.baseline.key(f).as_str())
                .and_then(Vec::pop)
            {
                Some(i) => {
                    self.used[i] = true;
                    false
                }
                None => true,
            }
        });
        before - findings.len()
    }

    /// The run read the file at `path`: its entries no finding matches are stale.
    pub fn read(&mut self, path: &str) {
        for &i in self.by_path.get(path).into_iter().flatten() {
            self.audited[i] = true;
        }
    }

    /// The entries of files the run read that no finding matched: `audit` at `path`:
    /// `message`, for a note naming what was fixed or changed.
    pub fn stale(&self) -> Vec<String> {
        self.baseline
            .entries
            .iter()
            .enumerate()
            .filter(|(i, _)| !self.used[*i] && self.audited[*i])
            .map(|(_, e)| format!("{} at {}: {}", e.audit, e.path, e.message))
            .collect()
    }
}

/// A baseline written as findings go by: only what the file records of each is kept.
#[derive(Debug, Default)]
pub struct BaselineWriter {
    entries: Vec<BaselineEntry>,
}

impl BaselineWriter {
    pub fn add(&mut self, findings: &[Finding]) {
        self.entries.extend(findings.iter().map(BaselineEntry::of));
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The JSON text of the baseline, as [`Baseline::write`] writes it.
    pub fn text(self) -> String {
        baseline_text(self.entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;

    #[test]
    fn ignores_may_follow_another_comment_but_must_start_one() {
        let text = "a: x # v1 # ciguard: ignore[unpinned-uses] ok\nb: \"ciguard: ignore[x]\"\nc: y # zizmor: ignore[artipacked,cache-poisoning]\n";
        let file = SourceFile::new("w.yml", FileKind::Workflow, text.to_owned());
        let found = inline_ignores(&file);
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(
            (found[0].line, found[0].audits.clone(), found[0].ours),
            (1, vec!["unpinned-uses".to_owned()], true)
        );
        assert_eq!(
            (found[1].line, found[1].audits.len(), found[1].ours),
            (3, 2, false)
        );
    }

    #[test]
    fn the_comment_block_above_a_finding_may_carry_its_ignore() {
        let text = "env:\n  # why\n  # zizmor: ignore[secrets-outside-env]\n  FOO: x\n  # zizmor: ignore[secrets-outside-env]\n\n  BAR: y\n  BAZ: z\n";
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let finding = |line: usize| {
            let start = file.line_span(line).start + 2;
            Finding::new(
                &crate::audits::SecretsOutsideEnv::META,
                "secret",
                Location::file(&file, Span::new(start, start + 3), Route::root(), "here"),
            )
        };
        // FOO (line 4) has the block above; BAR (line 7) has a blank line in between; BAZ
        // (line 8) has a key above.
        let mut findings = vec![finding(4), finding(7), finding(8)];
        let (suppressed, _) = apply_inline_ignores(&file, &mut findings, &[]);
        assert_eq!(suppressed, 1);
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| file.line_col(f.primary.span().unwrap().start).line)
            .collect();
        assert_eq!(lines, [7, 8]);
    }

    #[test]
    fn an_ignore_on_the_first_line_of_a_step_covers_the_step() {
        let text = "steps:\n  - name: a # zizmor: ignore[superfluous-actions]\n    if: x\n    uses: o/r@v1\n  - name: b\n    uses: o/r@v1\n  - uses: o/r@v1 # zizmor: ignore[superfluous-actions]\n    with:\n      x: y\n";
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let finding = |line: usize| {
            let start = file.line_span(line).end - 6;
            Finding::new(
                &crate::audits::SuperfluousActions::META,
                "superfluous",
                Location::file(&file, Span::new(start, start + 6), Route::root(), "here"),
            )
        };
        // Line 4 is in the ignored step; line 6 in the next one; line 9 is nested deeper in
        // the third step, whose ignore is on its first line but covers only its own keys.
        let mut findings = vec![finding(4), finding(6), finding(9)];
        let (suppressed, _) = apply_inline_ignores(&file, &mut findings, &[]);
        assert_eq!(suppressed, 1);
        let lines: Vec<usize> = findings
            .iter()
            .map(|f| file.line_col(f.primary.span().unwrap().start).line)
            .collect();
        assert_eq!(lines, [6, 9]);
    }

    fn workflow(text: &str) -> Arc<SourceFile> {
        Arc::new(SourceFile::new(
            ".github/workflows/w.yml",
            FileKind::Workflow,
            text.to_owned(),
        ))
    }

    fn unpinned_at(file: &Arc<SourceFile>, needle: &str, message: &str) -> Finding {
        let start = file.text.find(needle).unwrap();
        Finding::new(
            &crate::audits::UnpinnedUses::META,
            message,
            Location::file(
                file,
                Span::new(start, start + needle.len()),
                Route::root(),
                "here",
            ),
        )
    }

    #[test]
    fn the_space_after_the_colon_is_optional() {
        let file = workflow(
            "a: x # ciguard:ignore[unpinned-uses]\nb: y #ciguard:  ignore[a]\nc: z # ciguard:ignored[b]\n",
        );
        let found = inline_ignores(&file);
        let ids: Vec<_> = found.iter().map(|i| (i.line, i.audits.clone())).collect();
        assert_eq!(
            ids,
            [
                (1, vec!["unpinned-uses".to_owned()]),
                (2, vec!["a".to_owned()])
            ]
        );
        let mut findings = vec![unpinned_at(&file, "x", "m")];
        let (suppressed, _) = apply_inline_ignores(&file, &mut findings, &["unpinned-uses"]);
        assert_eq!((suppressed, findings.len()), (1, 0));
    }

    #[test]
    fn unknown_ids_are_reported_to_every_persona_with_the_closest_id() {
        // On a `uses:` line, next to an id that does suppress a finding.
        let file = workflow(
            "steps:\n  - uses: a/b@v1 # ciguard: ignore[unpinned-uses,unpined-uses]\n  - run: x # ciguard:ignore[artipacked]\n",
        );
        let mut findings = vec![unpinned_at(&file, "a/b@v1", "m")];
        let (suppressed, reported) =
            apply_inline_ignores(&file, &mut findings, &["unpinned-uses", "artipacked"]);
        assert_eq!(suppressed, 1);
        let messages: Vec<(&str, Persona)> = reported
            .iter()
            .map(|f| (f.message.as_str(), f.persona))
            .collect();
        assert_eq!(
            messages,
            [
                (
                    "`unpined-uses` in this ignore comment is not an audit; did you mean `unpinned-uses`?",
                    Persona::Regular
                ),
                (
                    "this ignore comment suppresses no `artipacked` finding",
                    Persona::Pedantic
                ),
            ]
        );
        assert!(names_unknown_audit(&reported[0]));
        assert!(!names_unknown_audit(&reported[1]));
    }

    #[test]
    fn baseline_fingerprints_ignore_message_wording_and_old_baselines_still_match() {
        let file = workflow("steps:\n  - uses: a/b@v1\n  - uses: c/d@v2\n");
        let old = [
            unpinned_at(&file, "a/b@v1", "old wording"),
            unpinned_at(&file, "c/d@v2", "old wording"),
        ];
        let new = [
            unpinned_at(&file, "a/b@v1", "new wording"),
            unpinned_at(&file, "c/d@v2", "new wording"),
        ];
        // Written today, read after a message was reworded: still known.
        let baseline = Baseline::parse(&Baseline::write(&old)).unwrap();
        assert!(Baseline::write(&old).contains("\"version\": 2"));
        let mut findings = new.to_vec();
        assert_eq!(baseline.filter(&mut findings), 2);
        // A version 1 baseline (fingerprints with the message) matches the same findings.
        let v1 = serde_json::json!({"version": 1, "findings": old.iter().map(|f| serde_json::json!({
            "audit": f.audit_id(), "path": f.primary.path(), "fingerprint": f.legacy_fingerprint(), "message": f.message,
        })).collect::<Vec<_>>()});
        let baseline = Baseline::parse(&v1.to_string()).unwrap();
        let mut findings = old.to_vec();
        assert_eq!(baseline.filter(&mut findings), 2);
        assert!(Baseline::parse(r#"{"version": 3, "findings": []}"#).is_err());
    }

    #[test]
    fn baseline_entries_that_match_nothing_are_named() {
        let file = workflow("steps:\n  - uses: a/b@v1\n  - uses: c/d@v2\n");
        let both = [
            unpinned_at(&file, "a/b@v1", "a is unpinned"),
            unpinned_at(&file, "c/d@v2", "c is unpinned"),
        ];
        let baseline = Baseline::parse(&Baseline::write(&both)).unwrap();
        let all = |_: &str| true;
        assert!(baseline.stale(&both, &all).is_empty());
        // c/d was pinned since.
        let stale = baseline.stale(&both[..1], &all);
        assert_eq!(
            stale,
            ["unpinned-uses at .github/workflows/w.yml: c is unpinned"]
        );
        // A file the run did not audit says nothing about its entries.
        assert!(baseline.stale(&[], &|p| p != file.path).is_empty());
    }

    #[test]
    fn remaining_entries_filter_batch_by_batch_like_the_whole_baseline() {
        let file = workflow("steps:\n  - uses: a/b@v1\n  - uses: c/d@v2\n  - uses: e/f@v3\n");
        let a = unpinned_at(&file, "a/b@v1", "a is unpinned");
        let c = unpinned_at(&file, "c/d@v2", "c is unpinned");
        let e = unpinned_at(&file, "e/f@v3", "e is unpinned");
        // Two entries for a (each absorbs one finding), one for c, none for e.
        let baseline =
            Baseline::parse(&Baseline::write(&[a.clone(), a.clone(), c.clone()])).unwrap();
        let run = [a.clone(), e.clone(), a.clone(), a.clone()];
        let mut whole = run.to_vec();
        assert_eq!(baseline.filter(&mut whole), 2);
        let mut remaining = baseline.remaining();
        let mut shown = Vec::new();
        let mut hidden = 0;
        for batch in run.chunks(1) {
            let mut batch = batch.to_vec();
            hidden += remaining.filter(&mut batch);
            shown.extend(batch);
        }
        assert_eq!(hidden, 2);
        assert_eq!(shown.len(), whole.len());
        // c's entry matched nothing, but only a file the run read makes it stale.
        assert!(remaining.stale().is_empty());
        remaining.read("other.yml");
        assert!(remaining.stale().is_empty());
        remaining.read(&file.path);
        assert_eq!(
            remaining.stale(),
            ["unpinned-uses at .github/workflows/w.yml: c is unpinned"]
        );
        assert_eq!(remaining.stale(), baseline.stale(&run, &|_| true));
    }

    #[test]
    fn a_version_1_baseline_filters_batch_by_batch_with_its_legacy_fingerprints() {
        let file = workflow("steps:\n  - uses: a/b@v1\n");
        let a = unpinned_at(&file, "a/b@v1", "a is unpinned");
        let v1 = format!(
            "{{\"version\": 1, \"findings\": [{{\"audit\": \"unpinned-uses\", \"path\": \"{}\", \
             \"fingerprint\": \"{}\", \"message\": \"a is unpinned\"}}]}}",
            file.path,
            a.legacy_fingerprint()
        );
        let baseline = Baseline::parse(&v1).unwrap();
        let mut remaining = baseline.remaining();
        let mut batch = vec![a.clone()];
        assert_eq!(remaining.filter(&mut batch), 1);
        assert!(batch.is_empty());
        // The entry is used: a second identical finding is shown.
        let mut again = vec![a];
        assert_eq!(remaining.filter(&mut again), 0);
        remaining.read(&file.path);
        assert!(remaining.stale().is_empty());
    }
}
