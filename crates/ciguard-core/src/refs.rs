//! The refs stage: one walk over a parsed workflow or composite action finds its `uses:`. The
//! engine hands each to the audits ([`Audit::uses`](crate::audit::Audit::uses)), online
//! resolution looks up their [`UsesRef`]s, and transitive auditing follows their repository
//! [`Site`]s. All of them come from one walk, [`document_refs`]: the audits get its live
//! `uses:` (jobs and steps with `if: false` never run), pinning ([`crate::pin`]) all of it, as it
//! rewrites every `uses:` and image, those of disabled jobs included.

mod document;

pub use document::{DocRef, RefKind, document_refs};

use std::sync::Arc;

use crate::facts::UsesRef;
use crate::finding::Location;
use crate::models::uses::is_full_sha;
use crate::models::{Action, RepositoryUses, Uses, View, Workflow};
use crate::route::{Route, Segment};
use crate::source::{FileKind, SourceFile, Span};
use crate::yaml::{Document, Limits, Node};

/// One `uses:` of a step or a reusable-workflow job.
pub struct UsesSite<'a> {
    /// The `uses:` value.
    pub node: Node<'a>,
    /// The route of the `uses:` value.
    pub route: Route,
    pub uses: Uses<'a>,
}

impl<'a> UsesSite<'a> {
    /// The repository reference, unless it is local, Docker, or GitHub's `$/` self syntax.
    pub fn repo(&self) -> Option<&RepositoryUses<'a>> {
        match &self.uses {
            Uses::Repository(r) if r.owner != "$" => Some(r),
            _ => None,
        }
    }

    /// Whether this is a step's `uses:` (not a reusable-workflow job's).
    pub fn is_step(&self) -> bool {
        let segments = self.route.segments();
        matches!(segments.iter().rev().nth(1), Some(Segment::Index(_)))
    }

    /// A finding's location at this `uses:` value of `file`.
    pub fn location(&self, file: &Arc<SourceFile>, label: impl Into<String>) -> Location {
        Location::file(file, self.node.span(), self.route.clone(), label)
    }

    /// What online resolution looks up: repository uses with a literal ref (full SHAs
    /// lowercase), names lowercase.
    pub fn uses_ref(&self) -> Option<UsesRef> {
        let repo = self.repo()?;
        let git_ref = literal_ref(repo)?;
        Some(UsesRef {
            slug: repo.slug().to_ascii_lowercase(),
            git_ref,
            name: repo.name().to_ascii_lowercase(),
        })
    }

    /// The repository site transitive auditing follows from here.
    pub fn repository_site(&self) -> Option<Site> {
        let repo = self.repo()?;
        let git_ref = literal_ref(repo)?;
        let name = repo.name();
        let slug = repo.slug();
        let path = name
            .get(slug.len()..)
            .unwrap_or_default()
            .trim_matches('/')
            .to_owned();
        Some(Site {
            route: self.route.clone(),
            span: self.node.span(),
            slug: slug.to_ascii_lowercase(),
            path,
            display: format!("{name}@{git_ref}"),
            git_ref,
        })
    }
}

/// The ref as written (full SHAs lowercase); `None` when missing, empty or an expression.
fn literal_ref(repo: &RepositoryUses<'_>) -> Option<String> {
    let git_ref = repo.git_ref?;
    if git_ref.is_empty() || git_ref.contains("${{") {
        return None;
    }
    Some(if is_full_sha(git_ref) {
        git_ref.to_ascii_lowercase()
    } else {
        git_ref.to_owned()
    })
}

/// One repository `uses:` of a file (not local, not Docker), with its ref: what transitive
/// auditing follows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub route: Route,
    /// The span of the `uses:` value.
    pub span: Span,
    /// Lowercase `owner/repo`.
    pub slug: String,
    /// The path inside the repository as written (no leading or trailing `/`), or empty.
    pub path: String,
    /// The ref as written (full SHAs lowercase).
    pub git_ref: String,
    /// `owner/repo[/path]@ref` as written, for chains.
    pub display: String,
}

impl Site {
    /// What online resolution looks up for this site.
    pub fn uses_ref(&self) -> UsesRef {
        let name = if self.path.is_empty() {
            self.slug.clone()
        } else {
            format!("{}/{}", self.slug, self.path.to_ascii_lowercase())
        };
        UsesRef {
            slug: self.slug.clone(),
            git_ref: self.git_ref.clone(),
            name,
        }
    }

    /// Whether the path names a reusable workflow.
    pub fn is_workflow(&self) -> bool {
        let p = self.path.to_ascii_lowercase();
        p.starts_with(".github/workflows/") && (p.ends_with(".yml") || p.ends_with(".yaml"))
    }
}

/// The live `uses:` of a document: not switched off by `if: false`, and parsed.
fn live_uses<'a>(kind: FileKind, root: Node<'a>) -> Vec<UsesSite<'a>> {
    document_refs(kind, root)
        .into_iter()
        .filter(|r| r.kind.is_uses() && !r.disabled)
        .filter_map(|r| {
            Some(UsesSite {
                uses: Uses::parse(r.node.as_str()?)?,
                node: r.node,
                route: r.route,
            })
        })
        .collect()
}

/// Every `uses:` of a workflow that can run: reusable-workflow jobs and steps, in file order
/// per job.
pub fn workflow_uses<'a>(wf: &Workflow<'a>) -> Vec<UsesSite<'a>> {
    live_uses(FileKind::Workflow, wf.root)
}

/// Every `uses:` of a composite action's steps that can run (other actions run no steps).
pub fn action_uses<'a>(action: &Action<'a>) -> Vec<UsesSite<'a>> {
    if action.steps().is_empty() {
        return Vec::new();
    }
    live_uses(FileKind::Action, action.root)
}

/// Every `uses:` of a view; none for Dependabot and pre-commit configurations.
pub fn view_uses<'a>(view: &View<'a>) -> Vec<UsesSite<'a>> {
    match view {
        View::Workflow(wf) => workflow_uses(wf),
        View::Action(action) => action_uses(action),
        View::Dependabot(_) | View::PreCommit(_) => Vec::new(),
    }
}

/// The distinct [`UsesRef`]s of `sites`, sorted.
pub fn refs_of(sites: &[UsesSite<'_>]) -> Vec<UsesRef> {
    let mut out: Vec<UsesRef> = sites.iter().filter_map(UsesSite::uses_ref).collect();
    out.sort();
    out.dedup();
    out
}

/// The repository [`Site`]s of `sites`, in order.
pub fn repository_sites_of(sites: &[UsesSite<'_>]) -> Vec<Site> {
    sites.iter().filter_map(UsesSite::repository_site).collect()
}

/// Parses `file` and walks its `uses:` with `f`; `T::default()` for files that do not parse or
/// have no valid shape. For callers that do not hold the parsed file.
fn with_uses<T: Default>(file: &Arc<SourceFile>, f: impl FnOnce(&[UsesSite<'_>]) -> T) -> T {
    let Ok(doc) = Document::parse(file, &Limits::default()) else {
        return T::default();
    };
    match View::build(file, &doc).0 {
        Some(view) => f(&view_uses(&view)),
        None => T::default(),
    }
}

/// The distinct [`UsesRef`]s of a workflow or composite action file, sorted.
pub fn uses_refs(file: &Arc<SourceFile>) -> Vec<UsesRef> {
    with_uses(file, refs_of)
}

/// The repository [`Site`]s of a workflow or composite action file, in file order; nothing
/// for other kinds, files that do not parse, and refs with expressions.
pub fn repository_sites(file: &Arc<SourceFile>) -> Vec<Site> {
    with_uses(file, repository_sites_of)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;

    #[test]
    fn gathers_repository_uses_with_refs() {
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: Actions/Checkout@v4\n      - uses: ./local\n      - uses: a/b/sub@AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n      - uses: a/b@${{ x }}\n      - uses: actions/checkout@v4\n  r:\n    uses: o/r/.github/workflows/x.yml@main\n"
                .into(),
        ));
        let refs = uses_refs(&file);
        let got: Vec<(&str, &str, &str)> = refs
            .iter()
            .map(|r| (r.slug.as_str(), r.git_ref.as_str(), r.name.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("a/b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a/b/sub"),
                ("actions/checkout", "v4", "actions/checkout"),
                ("o/r", "main", "o/r/.github/workflows/x.yml"),
            ]
        );
    }

    #[test]
    fn disabled_jobs_and_steps_have_no_refs() {
        let file = Arc::new(SourceFile::new(
            "w.yml",
            FileKind::Workflow,
            "on: push\njobs:\n  a:\n    if: false\n    runs-on: x\n    steps:\n      - uses: a/off@v1\n  b:\n    runs-on: x\n    steps:\n      - if: ${{ false }}\n        uses: b/off@v1\n      - uses: c/on@v1\n  r:\n    if: false\n    uses: o/r/.github/workflows/x.yml@main\n"
                .into(),
        ));
        let slugs: Vec<String> = uses_refs(&file).into_iter().map(|r| r.slug).collect();
        assert_eq!(slugs, ["c/on"]);
        assert_eq!(repository_sites(&file).len(), 1);
    }

    #[test]
    fn one_walk_serves_pinning_and_the_audits() {
        let text = "on: push\njobs:\n  a:\n    if: false\n    runs-on: x\n    steps:\n      - uses: a/off@v1\n  b:\n    runs-on: x\n    container: node:20\n    services:\n      db: {image: postgres:16}\n    steps:\n      - uses: docker://alpine:3\n      - parallel:\n          - uses: p/q@v1\n      - if: false\n        uses: b/off@v1\n      - uses: c/on@v1\n  r:\n    uses: o/r/.github/workflows/x.yml@main\n";
        let file = Arc::new(SourceFile::new("w.yml", FileKind::Workflow, text.into()));
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let all: Vec<(String, RefKind, bool)> =
            document_refs(FileKind::Workflow, doc.root().unwrap())
                .into_iter()
                .map(|r| (r.route.to_string(), r.kind, r.disabled))
                .collect();
        let expected = [
            ("jobs.a.steps[0].uses", RefKind::Action, true),
            ("jobs.b.container", RefKind::Image, false),
            ("jobs.b.services.db.image", RefKind::Image, false),
            ("jobs.b.steps[0].uses", RefKind::DockerStep, false),
            ("jobs.b.steps[1].parallel[0].uses", RefKind::Action, false),
            ("jobs.b.steps[2].uses", RefKind::Action, true),
            ("jobs.b.steps[3].uses", RefKind::Action, false),
            ("jobs.r.uses", RefKind::ReusableWorkflow, false),
        ];
        let expected: Vec<(String, RefKind, bool)> = expected
            .iter()
            .map(|(r, k, d)| (r.to_string(), *k, *d))
            .collect();
        assert_eq!(all, expected);
        // The audits see the live `uses:` of the same walk.
        let (view, _) = View::build(&file, &doc);
        let live: Vec<String> = view_uses(&view.unwrap())
            .iter()
            .map(|s| s.route.to_string())
            .collect();
        assert_eq!(
            live,
            [
                "jobs.b.steps[0].uses",
                "jobs.b.steps[1].parallel[0].uses",
                "jobs.b.steps[3].uses",
                "jobs.r.uses"
            ]
        );
    }
}
