//! The unsafe fix of `excessive-permissions`: narrowing workflow-level write permissions onto the
//! jobs that use them.
//!
//! The workflow-level block becomes `permissions: {}`. Every job without its own `permissions:`
//! gets a block of its own, never broader than the workflow's:
//!
//! - when every step of the job is understood (a `run:` script, or an action this module knows),
//!   the job keeps the workflow's read and none scopes, keeps each write scope it needs, and gets
//!   `read` instead of the write scopes it does not need (`id-token`, which has no read level, is
//!   dropped);
//! - otherwise (an unknown, local or Docker action, a script handed the token for commands this
//!   module does not know, an opaque `make publish`, a reusable-workflow call) the job gets the
//!   workflow's block copied verbatim.

use std::collections::BTreeSet;

use crate::finding::Edit;
use crate::models::release::{Registry, command_registry, run_commands, step_publications};
use crate::models::{Job, JobKind, Step, Workflow};
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

/// Write scopes known actions need (matched on `owner/repo`, or `owner/repo/path` first).
const ACTION_WRITES: &[(&str, &[&str])] = &[
    ("actions/attest", &["id-token", "attestations"]),
    (
        "actions/attest-build-provenance",
        &["id-token", "attestations"],
    ),
    ("actions/attest-sbom", &["id-token", "attestations"]),
    ("actions/cache", &[]),
    ("actions/checkout", &[]),
    ("actions/configure-pages", &["pages"]),
    ("actions/create-release", &["contents"]),
    ("actions/deploy-pages", &["pages", "id-token"]),
    ("actions/download-artifact", &[]),
    ("actions/labeler", &["pull-requests", "issues"]),
    ("actions/setup-dotnet", &[]),
    ("actions/setup-go", &[]),
    ("actions/setup-java", &[]),
    ("actions/setup-node", &[]),
    ("actions/setup-python", &[]),
    ("actions/stale", &["issues", "pull-requests", "actions"]),
    ("actions/upload-artifact", &[]),
    ("actions/upload-pages-artifact", &[]),
    ("actions/upload-release-asset", &["contents"]),
    ("anchore/sbom-action", &["contents"]),
    ("astral-sh/setup-uv", &[]),
    ("aws-actions/configure-aws-credentials", &["id-token"]),
    ("azure/login", &["id-token"]),
    ("cargo-bins/cargo-binstall", &[]),
    (
        "changesets/action",
        &["contents", "pull-requests", "id-token"],
    ),
    ("denoland/setup-deno", &[]),
    ("dependabot/fetch-metadata", &[]),
    (
        "dessant/lock-threads",
        &["issues", "pull-requests", "discussions"],
    ),
    ("docker/build-push-action", &[]),
    ("docker/login-action", &[]),
    ("docker/metadata-action", &[]),
    ("docker/setup-buildx-action", &[]),
    ("docker/setup-qemu-action", &[]),
    ("dorny/paths-filter", &[]),
    ("dsherret/rust-toolchain-file", &[]),
    ("dtolnay/rust-toolchain", &[]),
    ("github/codeql-action", &["security-events"]),
    ("google-github-actions/auth", &["id-token"]),
    (
        "google-github-actions/release-please-action",
        &["contents", "pull-requests"],
    ),
    (
        "googleapis/release-please-action",
        &["contents", "pull-requests"],
    ),
    ("goreleaser/goreleaser-action", &["contents"]),
    ("jdx/mise-action", &[]),
    ("jlumbroso/free-disk-space", &[]),
    ("js-devtools/npm-publish", &["id-token"]),
    ("ncipollo/release-action", &["contents"]),
    (
        "peter-evans/create-or-update-comment",
        &["issues", "pull-requests"],
    ),
    (
        "peter-evans/create-pull-request",
        &["contents", "pull-requests"],
    ),
    ("peter-evans/find-comment", &[]),
    ("pnpm/action-setup", &[]),
    ("pyo3/maturin-action", &[]),
    ("pypa/gh-action-pypi-publish", &["id-token"]),
    (
        "release-drafter/release-drafter",
        &["contents", "pull-requests"],
    ),
    ("ruby/setup-ruby", &[]),
    ("rubygems/release-gem", &["contents", "id-token"]),
    ("rust-lang/crates-io-auth-action", &["id-token"]),
    ("sigstore/cosign-installer", &[]),
    ("softprops/action-gh-release", &["contents"]),
    ("stefanzweifel/git-auto-commit-action", &["contents"]),
    ("svenstaro/upload-release-action", &["contents"]),
    ("swatinem/rust-cache", &[]),
    ("taiki-e/install-action", &[]),
];

/// What a job's token must be able to write, when the audit can tell.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Needs {
    Writes(BTreeSet<&'static str>),
    Unknown,
}

fn registry_writes(registry: Registry) -> &'static [&'static str] {
    match registry {
        Registry::GitHubRelease => &["contents"],
        Registry::Ghcr | Registry::OtherPackages => &["packages"],
        // Trusted publishing and cloud logins mint OIDC tokens.
        _ => &["id-token"],
    }
}

fn action_writes(name: &str, step: &Step<'_>) -> Option<&'static [&'static str]> {
    let repo: String = name.split('/').take(2).collect::<Vec<_>>().join("/");
    let found = ACTION_WRITES
        .iter()
        .find(|(n, _)| *n == name)
        .or_else(|| ACTION_WRITES.iter().find(|(n, _)| *n == repo))
        .map(|(_, w)| *w)?;
    if repo == "docker/login-action"
        && step
            .input("registry")
            .is_some_and(|r| r.contains("ghcr.io"))
    {
        return Some(&["packages"]);
    }
    Some(found)
}

/// Whether text hands the job's token over (`github.token`, `secrets.GITHUB_TOKEN`, `GH_TOKEN`,
/// or the whole `github`/`secrets` context).
fn mentions_token(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    [
        "github.token",
        "github_token",
        "gh_token",
        "github['token']",
        "tojson(github)",
        "tojson(secrets)",
    ]
    .iter()
    .any(|t| lower.contains(t))
}

/// What one command of a script writes with the token: `Ok(None)` for a command that does not
/// use it, `Err(())` when the audit cannot tell.
fn command_writes(words: &[String]) -> Result<Option<&'static [&'static str]>, ()> {
    let cmd = words
        .first()
        .map_or("", |w| w.rsplit('/').next().unwrap_or(w));
    let sub = words.get(1).map_or("", String::as_str);
    Ok(Some(match (cmd, sub) {
        ("gh", "release") => &["contents"],
        ("gh", "pr") => &["contents", "pull-requests"],
        ("gh", "issue" | "label") => &["issues"],
        ("gh", "workflow" | "run" | "cache") => &["actions"],
        ("gh", "auth" | "version" | "--version" | "help") => return Ok(None),
        ("gh", _) => return Err(()),
        ("git", "push") => &["contents"],
        ("cosign", s) if s.starts_with("sign") || s.starts_with("attest") => &["id-token"],
        _ => {
            // A script whose name says it publishes, but whose inside the audit cannot see.
            let opaque = words.iter().filter(|w| !w.starts_with('-')).any(|w| {
                let w = w.to_ascii_lowercase();
                ["publish", "release", "deploy", "upload"]
                    .iter()
                    .any(|k| w.contains(k))
            });
            return if opaque { Err(()) } else { Ok(None) };
        }
    }))
}

/// The write scopes a job needs, or `Unknown`.
pub(crate) fn job_needs(wf: &Workflow<'_>, job: &Job<'_>) -> Needs {
    let file = wf.file;
    let JobKind::Normal { steps } = &job.kind else {
        return Needs::Unknown;
    };
    let inherited = [wf.get("env"), job.get("env")]
        .iter()
        .flatten()
        .any(|env| mentions_token(file.slice(env.span())));
    let mut writes = BTreeSet::new();
    for step in steps {
        let publications = step_publications(file, step);
        let published = !publications.is_empty();
        for p in publications {
            writes.extend(registry_writes(p.registry));
        }
        if step.uses.is_some() {
            let Some(name) = step.action_name() else {
                return Needs::Unknown;
            };
            match action_writes(&name, step) {
                Some(w) => writes.extend(w),
                None => return Needs::Unknown,
            }
            if name == "codecov/codecov-action" && step.input("use_oidc") == Some("true") {
                writes.insert("id-token");
            }
        } else if step.run.is_some() {
            let text = file.slice(step.node.span());
            let mut token_use_known = false;
            for c in run_commands(file, step) {
                if published && command_registry(&c.words).is_some() {
                    token_use_known = true;
                    continue;
                }
                match command_writes(&c.words) {
                    Ok(Some(w)) => {
                        writes.extend(w);
                        token_use_known = true;
                    }
                    Ok(None) => {}
                    Err(()) => return Needs::Unknown,
                }
            }
            if (inherited || mentions_token(text)) && !token_use_known {
                return Needs::Unknown;
            }
            if text.contains("ACTIONS_ID_TOKEN_REQUEST") {
                writes.insert("id-token");
            }
        }
    }
    Needs::Writes(writes)
}

/// One scope of the workflow-level block.
struct Scope<'a> {
    scope: &'a str,
    level: &'a str,
    /// The key as written (quotes kept).
    key: &'a str,
    /// The entry's text on its line, trailing comment included (block style).
    line: &'a str,
    /// Comment lines just above the entry (block style).
    comments: Vec<&'a str>,
}

/// One scope of a job's new block: its flow form, and its block lines.
struct Kept {
    flow: String,
    lines: Vec<String>,
}

/// The edits narrowing the workflow-level block `perms` onto the jobs, or `None` when the block
/// or a job's layout is one this fix does not rewrite (`write-all`, anchors, flow-style workflows).
pub(crate) fn narrow(wf: &Workflow<'_>, perms: Node<'_>) -> Option<Vec<Edit>> {
    let file = wf.file;
    let text = file.text.as_str();
    if wf.root.is_flow() || !perms.is_mapping() || perms.is_alias() {
        return None;
    }
    let (key, _) = wf.root.entry("permissions")?;
    // An alias (`permissions: *base`) resolves to a block written elsewhere: not rewritten.
    if perms.span().start < key.span().end {
        return None;
    }
    let mut scopes = Vec::new();
    let mut prev_line = file.line_col(key.span().start).line;
    for (k, v) in perms.entries() {
        let (scope, level) = (k.as_str()?, v.as_str()?);
        let line = file.line_col(k.span().start).line;
        let comments = if perms.is_flow() {
            Vec::new()
        } else {
            (prev_line + 1..line)
                .map(|l| file.line_text(l).trim())
                .filter(|l| l.starts_with('#'))
                .collect()
        };
        prev_line = file.line_col(v.span().end).line;
        scopes.push(Scope {
            scope,
            level,
            key: file.slice(k.span()),
            line: text[k.span().start..file.line_span(line).end].trim_end(),
            comments,
        });
    }
    let nl = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut edits = vec![top_level_edit(file, key, perms)?];
    for job in &wf.jobs {
        if job.permissions().is_some() {
            continue;
        }
        let needs = job_needs(wf, job);
        let kept: Vec<Kept> = scopes
            .iter()
            .filter_map(|s| match &needs {
                Needs::Writes(w) if s.level == "write" && !w.contains(s.scope) => {
                    (s.scope != "id-token").then(|| Kept {
                        flow: format!("{}: read", s.key),
                        lines: vec![format!("{}: read", s.key)],
                    })
                }
                _ => Some(Kept {
                    flow: format!("{}: {}", s.key, s.level),
                    lines: s
                        .comments
                        .iter()
                        .map(|c| (*c).to_owned())
                        .chain([s.line.to_owned()])
                        .collect(),
                }),
            })
            .collect();
        edits.push(insert_job_block(file, job, &kept, perms.is_flow(), nl)?);
    }
    Some(edits)
}

/// `permissions: {}` in place of the workflow-level block, keeping a comment on its key's line.
fn top_level_edit(file: &SourceFile, key: Node<'_>, perms: Node<'_>) -> Option<Edit> {
    let text = file.text.as_str();
    if perms.is_flow() {
        // The flow node's span may run on to the end of its line: stop at its closing brace.
        let span = perms.span();
        let close = text.get(span.start..span.end)?.rfind('}')?;
        return Some(Edit::replace(
            Span::new(span.start, span.start + close + 1),
            "{}",
        ));
    }
    let colon = key.span().end + text[key.span().end..].find(':')?;
    let key_line_end = file.line_span(file.line_col(key.span().start).line).end;
    let comment = text[colon + 1..key_line_end].trim();
    let last = perms.entries().last()?.1;
    let end = file.line_span(file.line_col(last.span().end).line).end;
    let mut replacement = " {}".to_owned();
    if comment.starts_with('#') {
        replacement.push(' ');
        replacement.push_str(comment);
    }
    Some(Edit::replace(Span::new(colon + 1, end), replacement))
}

/// The job's own `permissions:`, inserted before its `steps:` (or `uses:`) key, in the style of
/// the workflow's block (flow, or block with the job's indentation).
fn insert_job_block(
    file: &SourceFile,
    job: &Job<'_>,
    kept: &[Kept],
    flow: bool,
    nl: &str,
) -> Option<Edit> {
    let text = file.text.as_str();
    let anchor = ["steps", "uses"]
        .iter()
        .find_map(|k| job.node.entry(k))
        .map(|(k, _)| k)
        .or_else(|| job.node.entries().next().map(|(k, _)| k))?;
    let flow_block = format!(
        "{{{}}}",
        kept.iter()
            .map(|k| k.flow.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    if job.node.is_flow() {
        return Some(Edit::insert(
            anchor.span().start,
            format!("permissions: {flow_block}, "),
        ));
    }
    let at = anchor.span().start;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let indent = &text[line_start..at];
    if !indent.chars().all(|c| c == ' ') {
        return None;
    }
    let id_at = job.id_node.span().start;
    let id_col = id_at - text[..id_at].rfind('\n').map_or(0, |i| i + 1);
    let step = " ".repeat(indent.len().saturating_sub(id_col).max(1));
    if flow || kept.is_empty() {
        return Some(Edit::insert(
            line_start,
            format!("{indent}permissions: {flow_block}{nl}"),
        ));
    }
    let mut block = format!("{indent}permissions:{nl}");
    for line in kept.iter().flat_map(|k| &k.lines) {
        block.push_str(&format!("{indent}{step}{line}{nl}"));
    }
    Some(Edit::insert(line_start, block))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use crate::audits::ExcessivePermissions;
    use crate::audits::online::run_with;
    use crate::facts::Facts;
    use crate::finding::Applicability;
    use crate::fix::apply_fixes;
    use crate::source::{FileKind, SourceFile};

    /// The text after applying every fix `excessive-permissions` offers.
    fn fixed(text: &str) -> String {
        let facts = Facts::default();
        let file = Arc::new(SourceFile::new(
            "t.yml",
            FileKind::Workflow,
            text.to_owned(),
        ));
        let findings = run_with(&ExcessivePermissions, &facts, text);
        let reaudit =
            |f: &Arc<SourceFile>| (true, run_with(&ExcessivePermissions, &facts, &f.text));
        let all = [Applicability::Safe, Applicability::Unsafe];
        apply_fixes(&file, &findings, &all, &reaudit).text
    }

    fn job(steps: &str) -> String {
        format!(
            "on: push\npermissions:\n  contents: write\n  id-token: write\njobs:\n  a:\n    runs-on: x\n    steps:\n{steps}"
        )
    }

    const NARROWED: &str = "    permissions:\n      contents: read\n    steps:\n";
    const COPIED: &str =
        "    permissions:\n      contents: write\n      id-token: write\n    steps:\n";
    const PUSHES: &str = "    permissions:\n      contents: write\n    steps:\n";

    #[test]
    fn what_a_job_needs_decides_its_block() {
        let cases = [
            ("      - run: make test\n", NARROWED),
            ("      - run: cargo build --release\n", NARROWED),
            (
                "      - uses: actions/checkout@v4\n      - run: git push origin v1\n",
                PUSHES,
            ),
            ("      - run: make publish\n", COPIED),
            ("      - uses: ./local-action\n", COPIED),
            ("      - uses: docker://alpine:3\n", COPIED),
            ("      - uses: unknown/action@v1\n", COPIED),
            (
                "      - run: ./ci.sh\n        env:\n          TOKEN: ${{ github.token }}\n",
                COPIED,
            ),
            (
                "      - run: gh api repos/x/y\n        env:\n          GH_TOKEN: ${{ github.token }}\n",
                COPIED,
            ),
            (
                "      - run: cosign sign-blob x\n",
                "    permissions:\n      contents: read\n      id-token: write\n    steps:\n",
            ),
        ];
        for (steps, want) in cases {
            let out = fixed(&job(steps));
            assert!(
                out.starts_with("on: push\npermissions: {}\n"),
                "{steps}: {out}"
            );
            assert!(out.contains(want), "{steps}: {out}");
        }
    }

    #[test]
    fn a_token_in_the_job_env_makes_scripts_opaque() {
        let text = job("      - run: make test\n").replace(
            "    runs-on: x\n",
            "    runs-on: x\n    env:\n      GH_TOKEN: ${{ github.token }}\n",
        );
        assert!(fixed(&text).contains(COPIED));
    }

    #[test]
    fn crlf_line_endings_are_kept() {
        let out = fixed(&job("      - run: make test\n").replace('\n', "\r\n"));
        assert_eq!(
            out,
            "on: push\r\npermissions: {}\r\njobs:\r\n  a:\r\n    runs-on: x\r\n    permissions:\r\n      contents: read\r\n    steps:\r\n      - run: make test\r\n"
        );
    }

    #[test]
    fn write_all_and_aliases_are_left_to_the_user() {
        let text = "on: push\npermissions: write-all\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: make\n";
        assert_eq!(fixed(text), text);
        let alias = "x-perms: &p\n  contents: write\non: push\npermissions: *p\njobs:\n  a:\n    runs-on: x\n    steps:\n      - run: make\n  b:\n    runs-on: x\n    steps:\n      - run: make\n";
        let facts = Facts::default();
        let findings = run_with(&ExcessivePermissions, &facts, alias);
        assert!(!findings.is_empty());
        assert!(findings.iter().all(|f| f.fixes.is_empty()), "{findings:?}");
    }
}
