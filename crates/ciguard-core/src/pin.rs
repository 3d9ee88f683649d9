//! Pinning as pure text rewriting: find every `uses:` (steps, reusable-workflow calls, composite
//! action steps) and container image (`docker://`, `container:`, `services:`), splice new values
//! and version comments at exact byte spans, and prove by re-parsing that nothing else changed.
//! No network here: `ciguard pin` resolves refs and hands the answers to [`rewrite`].
//!
//! Where the version comment goes:
//! - block style (`uses: a/b@v1  # old`): the comment after the value is replaced, keeping the
//!   whitespace before `#`; without one, ` # <tag>` is appended.
//! - flow style (`- {uses: a/b@v1, with: {x: 1}}`): a `#` comment cannot go inside the mapping on
//!   its line, so it goes after the outermost flow collection when that collection ends its line
//!   and holds no other pinned `uses:`; otherwise no comment is written (the SHA alone is still a
//!   correct pin).
//!
//! Quoting, indentation, other comments and line endings (CRLF included) survive byte for byte:
//! only the scalar's inside and the comment are touched.

use std::collections::HashMap;

use crate::route::Route;
use crate::source::{FileKind, SourceFile, Span};
use crate::yaml::{Document, Limits, Node, Style};

/// What a site names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SiteKind {
    /// A step's `uses:` of an action (`owner/repo[/path]@ref`, `./local`).
    Action,
    /// A job's `uses:` of a reusable workflow.
    ReusableWorkflow,
    /// A container image: `docker://` step, `container:`, `services.*`, a Docker action's image.
    Image,
}

/// One place a dependency is named.
#[derive(Debug, Clone)]
pub struct Site {
    pub kind: SiteKind,
    pub route: Route,
    /// The scalar, quotes included.
    pub span: Span,
    pub value: String,
    /// Where a version comment for this site lives or would go, if one can.
    comment_at: Option<CommentPlace>,
    /// The comment's current text (without `#`), if any.
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Copy)]
struct CommentPlace {
    /// Where the replaced region starts: right after the value or the flow collection.
    start: usize,
    /// End of the line's content (before `\r\n` / `\n`).
    end: usize,
}

/// A new value for a site, and the version comment to write with it (`None`: leave it alone).
#[derive(Debug, Clone)]
pub struct Replacement {
    pub site: usize,
    pub value: String,
    pub comment: Option<String>,
}

/// Every site of a workflow or action, in document order.
pub fn find_sites<'d>(file: &SourceFile, doc: &'d Document) -> Vec<Site> {
    type Raw<'d> = (Node<'d>, Route, SiteKind, String, Option<Node<'d>>);
    let mut sites: Vec<Raw<'d>> = Vec::new();
    let Some(root) = doc.root() else {
        return Vec::new();
    };
    let mut push = |node: Node<'d>, route: Route, kind: SiteKind, flow: Option<Node<'d>>| {
        if node.is_alias() {
            return;
        }
        let (Some(value), Some(style)) = (node.as_str(), node.style()) else {
            return;
        };
        if matches!(style, Style::Literal | Style::Folded) {
            return;
        }
        sites.push((node, route, kind, value.to_owned(), flow));
    };
    match file.kind {
        FileKind::Workflow => {
            let Some(jobs) = root.get("jobs") else {
                return Vec::new();
            };
            for (key, job) in jobs.entries() {
                let Some(id) = key.as_str() else { continue };
                let route = Route::root().key("jobs").key(id);
                let outer = [root, jobs, job];
                if let Some(uses) = job.get("uses") {
                    push(
                        uses,
                        route.key("uses"),
                        SiteKind::ReusableWorkflow,
                        flow_of(&outer),
                    );
                }
                if let Some(container) = job.get("container") {
                    match container.get("image") {
                        Some(image) => push(
                            image,
                            route.key("container").key("image"),
                            SiteKind::Image,
                            flow_of(&[root, jobs, job, container]),
                        ),
                        None => push(
                            container,
                            route.key("container"),
                            SiteKind::Image,
                            flow_of(&outer),
                        ),
                    }
                }
                if let Some(services) = job.get("services") {
                    for (name, service) in services.entries() {
                        let Some(name) = name.as_str() else { continue };
                        let r = route.key("services").key(name);
                        match service.get("image") {
                            Some(image) => push(
                                image,
                                r.key("image"),
                                SiteKind::Image,
                                flow_of(&[root, jobs, job, services, service]),
                            ),
                            None => push(
                                service,
                                r,
                                SiteKind::Image,
                                flow_of(&[root, jobs, job, services]),
                            ),
                        }
                    }
                }
                if let Some(steps) = job.get("steps") {
                    for (step, uses, route, kind) in step_uses(steps, route.key("steps")) {
                        push(uses, route, kind, flow_of(&[root, jobs, job, steps, step]));
                    }
                }
            }
        }
        FileKind::Action => {
            let Some(runs) = root.get("runs") else {
                return Vec::new();
            };
            if let Some(image) = runs.get("image")
                && image
                    .as_str()
                    .is_some_and(|i| i.trim_start().starts_with("docker://"))
            {
                push(
                    image,
                    Route::root().key("runs").key("image"),
                    SiteKind::Image,
                    flow_of(&[root, runs]),
                );
            }
            if let Some(steps) = runs.get("steps") {
                let steps_route = Route::root().key("runs").key("steps");
                for (step, uses, route, kind) in step_uses(steps, steps_route) {
                    push(uses, route, kind, flow_of(&[root, runs, steps, step]));
                }
            }
        }
        FileKind::Dependabot | FileKind::Dependencies | FileKind::PreCommit => {}
    }
    // A site reached again through an alias (`- *checkout_step`) is the same text: keep the
    // first, which is where the anchor is written.
    let mut seen = std::collections::HashSet::new();
    sites.retain(|(node, ..)| seen.insert(node.span()));
    // Flow collections holding more than one site cannot give each its own comment.
    let mut per_flow: HashMap<Span, usize> = HashMap::new();
    for (_, _, _, _, flow) in &sites {
        if let Some(f) = flow {
            *per_flow.entry(f.span()).or_default() += 1;
        }
    }
    sites
        .into_iter()
        .map(|(node, route, kind, value, flow)| {
            let span = node.span();
            let after_value = comment_place(&file.text, span.end);
            let comment_at = match (after_value, flow) {
                (Some(place), _) => Some(place),
                (None, Some(f)) if per_flow.get(&f.span()) == Some(&1) => {
                    flow_close(&file.text, f.span()).and_then(|end| comment_place(&file.text, end))
                }
                _ => None,
            };
            let comment = comment_at.and_then(|p| existing_comment(&file.text, p));
            Site {
                kind,
                route,
                span,
                value,
                comment_at,
                comment,
            }
        })
        .collect()
}

/// The outermost flow collection among `chain` (outermost first).
/// Each step's `uses:` under `steps` (routed from `steps_route`): the step, the value, its route,
/// and whether it names an action or a `docker://` image.
fn step_uses<'d>(
    steps: Node<'d>,
    steps_route: Route,
) -> impl Iterator<Item = (Node<'d>, Node<'d>, Route, SiteKind)> {
    steps.items().enumerate().filter_map(move |(i, step)| {
        let uses = step.get("uses")?;
        let image = uses
            .as_str()
            .is_some_and(|u| u.trim_start().starts_with("docker://"));
        let kind = if image {
            SiteKind::Image
        } else {
            SiteKind::Action
        };
        Some((step, uses, steps_route.index(i).key("uses"), kind))
    })
}

fn flow_of<'d>(chain: &[Node<'d>]) -> Option<Node<'d>> {
    chain.iter().copied().find(|n| n.is_flow())
}

/// Just after the closing bracket of a flow collection (its span may run on over blanks and a
/// trailing comment).
fn flow_close(text: &str, span: Span) -> Option<usize> {
    let end = span.end.min(text.len());
    let line_start = text[..end].rfind('\n').map_or(0, |i| i + 1);
    let line_start = line_start.max(span.start);
    // The first `#` outside quotes that starts a comment on the last line.
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    let mut cut = end;
    for (i, c) in text[line_start..end].char_indices() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '#' && (prev == ' ' || prev == '\t') => {
                cut = line_start + i;
                break;
            }
            None => {}
        }
        prev = c;
    }
    let close = text[..cut].trim_end_matches([' ', '\t', '\r', '\n']).len();
    (close > span.start && matches!(text.as_bytes()[close - 1], b'}' | b']')).then_some(close)
}

/// If only blanks and maybe a `# comment` follow `at` on its line, that region.
fn comment_place(text: &str, at: usize) -> Option<CommentPlace> {
    let rest = text.get(at..)?;
    let line_end = at + rest.find('\n').unwrap_or(rest.len());
    let mut end = line_end;
    if end > at && text.as_bytes()[end - 1] == b'\r' {
        end -= 1;
    }
    let region = &text[at..end];
    let trimmed = region.trim_start_matches([' ', '\t']);
    (trimmed.is_empty() || trimmed.starts_with('#')).then_some(CommentPlace { start: at, end })
}

fn existing_comment(text: &str, place: CommentPlace) -> Option<String> {
    let region = &text[place.start..place.end];
    let hash = region.find('#')?;
    Some(region[hash + 1..].trim().to_owned())
}

/// Why a rewrite was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PinError {
    #[error("{route}: the value is written with escapes or over several lines; pin it by hand")]
    Unsupported { route: String },
    #[error("the rewritten file does not parse: {0}")]
    Reparse(String),
    #[error("the rewritten file differs in more than the pinned values: {0}")]
    Verify(String),
}

/// Splices the replacements into `file` and verifies the result: it parses, and its tree equals
/// the original's except for the replaced values, which hold exactly the new ones.
pub fn rewrite(
    file: &SourceFile,
    sites: &[Site],
    replacements: &[Replacement],
) -> Result<String, PinError> {
    let mut edits: Vec<(Span, String)> = Vec::new();
    let mut expected: HashMap<String, String> = HashMap::new();
    for r in replacements {
        let Some(site) = sites.get(r.site) else {
            continue;
        };
        if r.value == site.value
            && r.comment
                .as_deref()
                .is_none_or(|c| site.comment.as_deref() == Some(c))
        {
            continue;
        }
        let raw = file.slice(site.span);
        let (open, inner, close) = match raw.chars().next() {
            Some(q @ ('\'' | '"')) if raw.len() >= 2 && raw.ends_with(q) => {
                (&raw[..1], &raw[1..raw.len() - 1], &raw[raw.len() - 1..])
            }
            _ => ("", raw, ""),
        };
        let quote_ok = !r.value.contains(['\'', '"', '\\', '\n', '#']) && !r.value.contains(": ");
        if inner != site.value || !quote_ok {
            return Err(PinError::Unsupported {
                route: site.route.to_string(),
            });
        }
        if r.value != site.value {
            edits.push((site.span, format!("{open}{}{close}", r.value)));
        }
        expected.insert(site.route.to_string(), r.value.clone());
        if let (Some(comment), Some(place)) = (&r.comment, site.comment_at) {
            let region = &file.text[place.start..place.end];
            let lead = match region.find('#') {
                Some(h) if h > 0 => &region[..h],
                _ => " ",
            };
            let lead = if lead.is_empty() { " " } else { lead };
            edits.push((
                Span::new(place.start, place.end),
                format!("{lead}# {comment}"),
            ));
        }
    }
    edits.sort_by_key(|(s, _)| (s.start, s.end));
    edits.dedup_by(|a, b| a.0 == b.0);
    let mut out = String::with_capacity(file.text.len() + edits.len() * 48);
    let mut at = 0;
    for (span, text) in &edits {
        if span.start < at {
            return Err(PinError::Verify("two edits overlap".into()));
        }
        out.push_str(&file.text[at..span.start]);
        out.push_str(text);
        at = span.end;
    }
    out.push_str(&file.text[at..]);
    verify(file, &out, &expected)?;
    Ok(out)
}

/// Checks that `new_text` parses to the same tree as `file`, except that the values at the routes
/// in `expected` equal the given strings.
pub fn verify(
    file: &SourceFile,
    new_text: &str,
    expected: &HashMap<String, String>,
) -> Result<(), PinError> {
    let limits = Limits::default();
    let old_doc = Document::parse(file, &limits).map_err(|e| PinError::Reparse(e.to_string()))?;
    let new_file = SourceFile::new(file.path.clone(), file.kind, new_text.to_owned());
    let new_doc =
        Document::parse(&new_file, &limits).map_err(|e| PinError::Reparse(e.to_string()))?;
    let old = shape(&old_doc);
    let new = shape(&new_doc);
    if old.len() != new.len() {
        return Err(PinError::Verify("the document's structure changed".into()));
    }
    let mut seen = 0;
    for ((r1, v1), (r2, v2)) in old.iter().zip(&new) {
        if r1 != r2 {
            return Err(PinError::Verify(format!("{r1} became {r2}")));
        }
        match expected.get(r1) {
            Some(want) => {
                seen += 1;
                if v2.as_deref() != Some(&format!("={want}")) {
                    return Err(PinError::Verify(format!("{r1} is {v2:?}, expected {want}")));
                }
            }
            None if v1 != v2 => return Err(PinError::Verify(format!("{r1} changed"))),
            None => {}
        }
    }
    if seen != expected.len() {
        return Err(PinError::Verify("a pinned value is missing".into()));
    }
    Ok(())
}

/// Every node as (route, `=scalar` | `{n` | `[n` | `*alias`), aliases not followed.
fn shape(doc: &Document) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    if let Some(root) = doc.root() {
        root.walk(&Route::root(), &mut |node, route| {
            let v = if node.is_alias() {
                Some("*".to_owned())
            } else if let Some(s) = node.as_str() {
                Some(format!("={s}"))
            } else if node.is_mapping() {
                Some(format!("{{{}", node.len()))
            } else {
                Some(format!("[{}", node.len()))
            };
            out.push((route.to_string(), v));
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pin_all(
        kind: FileKind,
        text: &str,
        value: &dyn Fn(&str) -> String,
        comment: Option<&str>,
    ) -> Result<String, PinError> {
        let file = SourceFile::new("w.yml", kind, text.to_owned());
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let sites = find_sites(&file, &doc);
        let reps: Vec<Replacement> = sites
            .iter()
            .enumerate()
            .filter(|(_, s)| s.kind != SiteKind::Image)
            .map(|(i, s)| Replacement {
                site: i,
                value: value(&s.value),
                comment: comment.map(str::to_owned),
            })
            .collect();
        rewrite(&file, &sites, &reps)
    }

    const SHA: &str = "11bd71901bbe5b1630ceea73d27597364c9af683";

    fn to_sha(v: &str) -> String {
        format!("{}@{SHA}", v.split('@').next().unwrap())
    }

    #[test]
    fn block_style_keeps_quotes_comments_and_crlf() {
        let text = "on: push # trigger\r\njobs:\r\n  a:\r\n    runs-on: x\r\n    steps:\r\n      - uses: actions/checkout@v4   # v4\r\n      - uses: 'actions/setup-go@v5'\r\n      - name: q\r\n        uses: \"o/r/p@main\"\r\n";
        let out = pin_all(FileKind::Workflow, text, &to_sha, Some("v4.2.2")).unwrap();
        assert_eq!(
            out,
            format!(
                "on: push # trigger\r\njobs:\r\n  a:\r\n    runs-on: x\r\n    steps:\r\n      - uses: actions/checkout@{SHA}   # v4.2.2\r\n      - uses: 'actions/setup-go@{SHA}' # v4.2.2\r\n      - name: q\r\n        uses: \"o/r/p@{SHA}\" # v4.2.2\r\n"
            )
        );
    }

    #[test]
    fn flow_mappings_get_the_comment_after_the_closing_brace_or_none() {
        let text = "jobs:\n  a:\n    steps:\n      - {uses: a/b@v1, with: {x: 1}}\n      - {uses: c/d@v1, with: {x: 1}}  # old\n      - {uses: e/f@v1,\n         name: n}\n  b:\n    steps: [{uses: g/h@v1}, {uses: i/j@v1}] # both\n";
        let out = pin_all(FileKind::Workflow, text, &to_sha, Some("v1.0.0")).unwrap();
        let want = format!(
            "jobs:\n  a:\n    steps:\n      - {{uses: a/b@{SHA}, with: {{x: 1}}}} # v1.0.0\n      - {{uses: c/d@{SHA}, with: {{x: 1}}}}  # v1.0.0\n      - {{uses: e/f@{SHA},\n         name: n}} # v1.0.0\n  b:\n    steps: [{{uses: g/h@{SHA}}}, {{uses: i/j@{SHA}}}] # both\n"
        );
        assert_eq!(out, want);
    }

    #[test]
    fn reusable_workflows_and_composite_actions() {
        let wf = "jobs:\n  call:\n    uses: o/r/.github/workflows/x.yml@v2\n";
        let out = pin_all(FileKind::Workflow, wf, &to_sha, Some("v2.0.1")).unwrap();
        assert_eq!(
            out,
            format!("jobs:\n  call:\n    uses: o/r/.github/workflows/x.yml@{SHA} # v2.0.1\n")
        );
        let action =
            "runs:\n  using: composite\n  steps:\n    - uses: a/b@v1\n      with: {x: 1}\n";
        let out = pin_all(FileKind::Action, action, &to_sha, Some("v1.2.3")).unwrap();
        assert_eq!(
            out,
            format!(
                "runs:\n  using: composite\n  steps:\n    - uses: a/b@{SHA} # v1.2.3\n      with: {{x: 1}}\n"
            )
        );
    }

    #[test]
    fn finds_images_and_existing_comments() {
        let text = "jobs:\n  a:\n    container: node:18\n    services:\n      db: {image: postgres:16}\n      cache:\n        image: redis:7\n    steps:\n      - uses: docker://alpine:3\n      - uses: a/b@0123456789012345678901234567890123456789 # v1.0.0\n";
        let file = SourceFile::new("w.yml", FileKind::Workflow, text.to_owned());
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let sites = find_sites(&file, &doc);
        let got: Vec<(SiteKind, String, Option<String>)> = sites
            .iter()
            .map(|s| (s.kind, s.value.clone(), s.comment.clone()))
            .collect();
        assert_eq!(
            got,
            vec![
                (SiteKind::Image, "node:18".into(), None),
                (SiteKind::Image, "postgres:16".into(), None),
                (SiteKind::Image, "redis:7".into(), None),
                (SiteKind::Image, "docker://alpine:3".into(), None),
                (
                    SiteKind::Action,
                    "a/b@0123456789012345678901234567890123456789".into(),
                    Some("v1.0.0".into())
                ),
            ]
        );
        assert_eq!(sites[1].route.to_string(), "jobs.a.services.db.image");
    }

    #[test]
    fn refuses_values_it_cannot_splice_safely() {
        let text = "jobs:\n  a:\n    steps:\n      - uses: \"a/b\\x40v1\"\n";
        assert!(matches!(
            pin_all(FileKind::Workflow, text, &to_sha, None),
            Err(PinError::Unsupported { .. })
        ));
    }

    #[test]
    fn verification_catches_collateral_changes() {
        let file = SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            "jobs:\n  a:\n    runs-on: x\n".into(),
        );
        let err = verify(&file, "jobs:\n  a:\n    runs-on: y\n", &HashMap::new()).unwrap_err();
        assert!(matches!(err, PinError::Verify(_)));
        assert!(verify(&file, "jobs:\n  a:\n    runs-on: x # c\n", &HashMap::new()).is_ok());
    }

    #[test]
    fn aliased_steps_are_pinned_once_where_the_anchor_is() {
        let text = "jobs:\n  a:\n    steps:\n      - &co\n        uses: a/b@v1\n  b:\n    steps:\n      - *co\n";
        let out = pin_all(FileKind::Workflow, text, &to_sha, Some("v1.0.0")).unwrap();
        assert_eq!(
            out,
            format!(
                "jobs:\n  a:\n    steps:\n      - &co\n        uses: a/b@{SHA} # v1.0.0\n  b:\n    steps:\n      - *co\n"
            )
        );
    }

    #[test]
    fn unchanged_pins_are_left_alone() {
        let text = format!("jobs:\n  a:\n    steps:\n      - uses: a/b@{SHA}  # v1\n");
        let out = pin_all(FileKind::Workflow, &text, &|v| v.to_owned(), Some("v1")).unwrap();
        assert_eq!(out, text);
    }
}
