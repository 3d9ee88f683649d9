//! Applying fixes: byte splices, each verified by re-parsing and re-auditing before it is kept,
//! written atomically. Applying the result's fixes again changes nothing.

pub mod template_injection;
mod tree;

use std::collections::HashSet;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

use crate::finding::{Applicability, Edit, Finding};
use crate::source::SourceFile;
use crate::yaml::{Document, Limits};

/// Why a fix was refused: its edits cannot be spliced, or the result is not a faithful
/// application of them.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FixError {
    #[error("edits overlap or fall outside the file")]
    BadSpan,
    #[error("an edit splits a character")]
    SplitsCharacter,
    #[error("it would add lines ending in LF to a file written with CRLF")]
    MixedLineEndings,
    #[error("the fixed file would not parse as a valid {kind}")]
    WouldNotParse { kind: String },
    #[error("the original file could not be read back for comparison")]
    OriginalUnreadable,
    /// The document tree changed beyond the nodes the edits touch.
    #[error("{0}")]
    Unintended(String),
}

/// Line breaks not preceded by a carriage return.
fn bare_newlines(text: &str) -> usize {
    text.matches('\n').count() - text.matches("\r\n").count()
}

/// Why an edited text is not a faithful application of `edits`: a file written with CRLF that
/// gains bare LF lines, or a document tree that changed beyond the nodes the edits touch (see
/// [`tree`]).
fn check_faithful(
    old: &SourceFile,
    old_doc: Option<&Document>,
    new: &SourceFile,
    edits: &[Edit],
) -> Result<Document, FixError> {
    if old.text.contains("\r\n") && bare_newlines(&new.text) > bare_newlines(&old.text) {
        return Err(FixError::MixedLineEndings);
    }
    let new_doc =
        Document::parse(new, &Limits::default()).map_err(|_| FixError::WouldNotParse {
            kind: new.kind.to_string(),
        })?;
    let old_doc = old_doc.ok_or(FixError::OriginalUnreadable)?;
    match tree::unintended(&old.text, old_doc, &new_doc, edits) {
        Some(reason) => Err(FixError::Unintended(reason)),
        None => Ok(new_doc),
    }
}

/// `edits` with the line breaks they insert written as `text`'s are: a file written with CRLF
/// keeps CRLF on the lines a fix adds (audits write their replacements with `\n`).
fn with_line_endings_of(text: &str, edits: &[Edit]) -> Vec<Edit> {
    let crlf = text.contains("\r\n");
    edits
        .iter()
        .map(|e| {
            let mut e = e.clone();
            if crlf && bare_newlines(&e.replacement) > 0 {
                e.replacement = e.replacement.replace("\r\n", "\n").replace('\n', "\r\n");
            }
            e
        })
        .collect()
}

/// What applying fixes to one file did.
#[derive(Debug, Default)]
pub struct FixOutcome {
    pub text: String,
    /// `audit: title` of each fix kept.
    pub applied: Vec<String>,
    /// `audit: title: reason` of each fix refused.
    pub rejected: Vec<String>,
}

impl FixOutcome {
    pub fn changed(&self, original: &str) -> bool {
        self.text != original
    }
}

/// Splices `edits` into `text`; they must lie on char boundaries and not overlap.
pub fn apply_edits(text: &str, edits: &[Edit]) -> Result<String, FixError> {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort_by_key(|e| (e.start, e.end));
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for edit in sorted {
        if edit.start < at || edit.end < edit.start || edit.end > text.len() {
            return Err(FixError::BadSpan);
        }
        if !text.is_char_boundary(edit.start) || !text.is_char_boundary(edit.end) {
            return Err(FixError::SplitsCharacter);
        }
        out.push_str(&text[at..edit.start]);
        out.push_str(&edit.replacement);
        at = edit.end;
    }
    out.push_str(&text[at..]);
    Ok(out)
}

/// Identifies a finding across edits, where its span may have moved.
fn key(f: &Finding) -> (String, String, String) {
    (
        f.audit_id().to_owned(),
        f.primary.route_string(),
        f.message.clone(),
    )
}

/// A finding of `after` that `before` did not have (counting repeats), if any.
fn first_new_finding<'a>(before: &[Finding], after: &'a [Finding]) -> Option<&'a Finding> {
    let mut left: std::collections::HashMap<_, usize> = std::collections::HashMap::new();
    for f in before {
        *left.entry(key(f)).or_default() += 1;
    }
    after.iter().find(|f| match left.get_mut(&key(f)) {
        Some(n) if *n > 0 => {
            *n -= 1;
            false
        }
        _ => true,
    })
}

/// Re-audits a candidate text: whether it could be audited, and its findings.
pub type Reaudit<'a> = dyn Fn(&Arc<SourceFile>) -> (bool, Vec<Finding>) + 'a;

/// Applies, one at a time, every fix whose applicability is in `allowed`. After each, the text is
/// re-parsed and compared with the previous document (only the nodes the edits touch may
/// differ), then re-audited with `reaudit` (which returns whether
/// the file could be audited, and its findings): a fix that breaks the file, changes anything
/// else, leaves its finding in place or brings a new one is refused.
pub fn apply_fixes(
    file: &Arc<SourceFile>,
    findings: &[Finding],
    allowed: &[Applicability],
    reaudit: &Reaudit<'_>,
) -> FixOutcome {
    let mut outcome = FixOutcome {
        text: file.text.clone(),
        ..Default::default()
    };
    let mut current = Arc::clone(file);
    let mut current_doc = Document::parse(file, &Limits::default()).ok();
    let mut pending: Vec<Finding> = findings.to_vec();
    let mut refused: HashSet<(String, String, String, String)> = HashSet::new();
    // Each round keeps at most one fix, so the bound is the number of fixes offered plus slack.
    for _ in 0..(findings.len() * 2 + 8) {
        let candidate = pending.iter().find_map(|f| {
            f.fixes.iter().find_map(|fix| {
                let id = (
                    f.audit_id().to_owned(),
                    f.primary.route_string(),
                    f.message.clone(),
                    fix.title.clone(),
                );
                (allowed.contains(&fix.applicability) && !refused.contains(&id))
                    .then(|| (f.clone(), fix.clone(), id))
            })
        });
        let Some((finding, fix, id)) = candidate else {
            break;
        };
        let label = format!("{}: {}", finding.audit_id(), fix.title);
        let edits = with_line_endings_of(&current.text, &fix.edits);
        let text = match apply_edits(&current.text, &edits) {
            Ok(text) => text,
            Err(reason) => {
                outcome.rejected.push(format!("{label}: {reason}"));
                refused.insert(id);
                continue;
            }
        };
        let next = Arc::new(SourceFile::new(current.path.clone(), current.kind, text));
        let next_doc = match check_faithful(&current, current_doc.as_ref(), &next, &edits) {
            Ok(doc) => doc,
            Err(reason) => {
                outcome.rejected.push(format!("{label}: {reason}"));
                refused.insert(id);
                continue;
            }
        };
        let (audited, after) = reaudit(&next);
        if !audited {
            let reason = FixError::WouldNotParse {
                kind: current.kind.to_string(),
            };
            outcome.rejected.push(format!("{label}: {reason}"));
            refused.insert(id);
            continue;
        }
        if after.iter().any(|f| key(f) == key(&finding)) {
            outcome
                .rejected
                .push(format!("{label}: the finding would remain after the fix"));
            refused.insert(id);
            continue;
        }
        if let Some(new) = first_new_finding(&pending, &after) {
            outcome.rejected.push(format!(
                "{label}: the fix would add a finding: {}: {}",
                new.audit_id(),
                new.message
            ));
            refused.insert(id);
            continue;
        }
        outcome.applied.push(label);
        current = next;
        current_doc = Some(next_doc);
        pending = after;
    }
    outcome.text = current.text.clone();
    outcome
}

/// The fixes of a file in a message: `3 fixes: unpinned-uses: pin to a commit (3 times);
/// ...`, each title once, in the order first applied.
pub fn describe_applied(applied: &[String]) -> String {
    let mut titles: Vec<(&str, usize)> = Vec::new();
    for title in applied {
        match titles.iter_mut().find(|(t, _)| t == title) {
            Some((_, n)) => *n += 1,
            None => titles.push((title, 1)),
        }
    }
    let list: Vec<String> = titles
        .iter()
        .map(|(t, n)| match n {
            1 => (*t).to_owned(),
            n => format!("{t} ({n} times)"),
        })
        .collect();
    format!(
        "{}: {}",
        crate::plural::count(applied.len(), "fix", "fixes"),
        list.join("; ")
    )
}

/// The path a patch names for `path`: `./` components dropped, so `git apply` finds
/// `a/.github/workflows/ci.yml` rather than `a/./.github/...`. `/` separates components.
pub fn patch_path(path: &Path) -> String {
    use std::path::Component;
    let parts: Vec<String> = path
        .components()
        .filter(|c| !matches!(c, Component::CurDir))
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let joined = if path.has_root() {
        // The root component is `/`: joining it with `/` would double it.
        format!("/{}", parts[1..].join("/"))
    } else {
        parts.join("/")
    };
    // A line break in a file name must not start a line of the patch.
    crate::output::escape::text(&joined).into_owned()
}

/// A unified diff of one file, with `a/` and `b/` prefixes.
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// Replaces `path` with `text` atomically (see [`replace_file`]). A `path` that is a symbolic link
/// is refused: a repository could point it anywhere on the machine.
pub fn write_atomic(path: &Path, text: &str) -> std::io::Result<()> {
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is a symbolic link; not replaced (name the file it points to instead)",
        ));
    }
    replace_file(path, text)
}

/// As [`write_atomic`] for a path the user named on the command line: a symbolic link is
/// followed and the file it points to is replaced, so the link stays a link.
pub fn write_atomic_named(path: &Path, text: &str) -> std::io::Result<()> {
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link {
        replace_file(&std::fs::canonicalize(path)?, text)
    } else {
        replace_file(path, text)
    }
}

/// Writes `text` to a new file with a random name, created exclusively (never through an existing
/// name or link) in `path`'s folder, flushed to disk and given the original's mode (new files get
/// the usual 0666 less the umask), then renamed over `path`.
fn replace_file(path: &Path, text: &str) -> std::io::Result<()> {
    let original = match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Some(meta.permissions()),
        Ok(meta) => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "is {}, not a regular file; not replaced",
                    crate::safe_read::describe(&meta.file_type())
                ),
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".ciguard-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(text.as_bytes())?;
    if let Some(permissions) = original {
        // On the open file, not by name: nothing else can be reached through it.
        tmp.as_file().set_permissions(permissions)?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_splice_in_order_and_refuse_overlaps() {
        let e = [
            Edit::replace(crate::Span::new(4, 5), "X"),
            Edit::insert(0, ">"),
        ];
        assert_eq!(apply_edits("abcdef", &e).unwrap(), ">abcdXf");
        let overlap = [
            Edit::replace(crate::Span::new(1, 3), "x"),
            Edit::replace(crate::Span::new(2, 4), "y"),
        ];
        assert_eq!(apply_edits("abcdef", &overlap), Err(FixError::BadSpan));
        let split = [Edit::replace(crate::Span::new(1, 2), "x")];
        let err = apply_edits("é", &split).unwrap_err();
        assert_eq!(err, FixError::SplitsCharacter);
        assert_eq!(err.to_string(), "an edit splits a character");
    }

    #[test]
    fn atomic_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.yml");
        std::fs::write(&p, "old").unwrap();
        write_atomic(&p, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn atomic_write_keeps_the_mode_and_ignores_planted_temporary_names() {
        use std::os::unix::fs::{PermissionsExt, symlink};
        let outside = tempfile::tempdir().unwrap();
        let victim = outside.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::fs::set_permissions(&victim, std::fs::Permissions::from_mode(0o600)).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.yml");
        std::fs::write(&p, "old").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o751)).unwrap();
        // The names the old implementation used, planted for a range of process ids.
        let pid = std::process::id();
        for id in pid.saturating_sub(5)..pid + 5 {
            symlink(&victim, dir.path().join(format!(".w.yml.ciguard-{id}.tmp"))).unwrap();
        }
        write_atomic(&p, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "new");
        let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o751);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let victim_mode = std::fs::metadata(&victim).unwrap().permissions().mode() & 0o777;
        assert_eq!(victim_mode, 0o600);
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_targets_are_refused_unless_named() {
        let outside = tempfile::tempdir().unwrap();
        let target = outside.path().join("t.json");
        std::fs::write(&target, "old").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("l.json");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let e = write_atomic(&link, "new").unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        write_atomic_named(&link, "new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        let e = write_atomic(dir.path(), "x").unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
    }

    #[test]
    fn repeated_fix_titles_are_grouped() {
        let applied = [
            "a: pin".to_owned(),
            "b: drop".to_owned(),
            "a: pin".to_owned(),
        ];
        assert_eq!(
            describe_applied(&applied),
            "3 fixes: a: pin (2 times); b: drop"
        );
        assert_eq!(describe_applied(&applied[..1]), "1 fix: a: pin");
    }

    #[test]
    fn patch_paths_have_no_dot_components() {
        assert_eq!(
            patch_path(Path::new("./.github/workflows/ci.yml")),
            ".github/workflows/ci.yml"
        );
        assert_eq!(patch_path(Path::new("a/./b.yml")), "a/b.yml");
        assert_eq!(patch_path(Path::new("/r/./x.yml")), "/r/x.yml");
        assert_eq!(patch_path(Path::new("./a\n+++ b")), "a\\n+++ b");
    }

    #[test]
    fn inserted_lines_take_the_file_line_ending() {
        let edits = [Edit::insert(3, "\n  d: w\r\n  e: v")];
        let crlf = with_line_endings_of("a:\r\n", &edits);
        assert_eq!(crlf[0].replacement, "\r\n  d: w\r\n  e: v");
        let lf = with_line_endings_of("a:\n", &edits);
        assert_eq!(lf[0].replacement, edits[0].replacement);
    }
}
