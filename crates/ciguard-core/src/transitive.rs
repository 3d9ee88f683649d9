//! Transitive auditing: the actions and reusable workflows an audited file uses are themselves
//! audited (at the commit their ref resolves to), and what is found inside them is reported at
//! the `uses:` of the audited file that leads there, with the chain of `uses` in between.
//!
//! This module holds the offline half: where the `uses:` of a dependency are
//! ([`dependency_sites`], from [`crate::refs`]), which
//! dependency file a `uses:` names ([`target`]), the graph of fetched dependency files
//! ([`Graph`]), and how a dependency's findings become findings of the audited file ([`lift`]).
//! Fetching lives in `ciguard-github`.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::sync::Arc;

use crate::catalog::Transitive;
use crate::facts::Facts;
use crate::finding::{Finding, Location, Persona};
use crate::models::View;
use crate::models::uses::is_full_sha;
use crate::refs;
pub use crate::refs::Site;
use crate::source::{FileKind, SourceFile};
use crate::yaml::{Document, Limits};

/// The default number of `uses` hops followed (`--transitive-depth`).
pub const DEFAULT_DEPTH: usize = 3;

/// The sites of a dependency file `key`: its repository `uses:`, plus, in a reusable workflow,
/// its local reusable-workflow calls (`uses: ./.github/workflows/x.yml`), which name a file of
/// the same repository at the same commit. Other local uses (`./action` in a step) name the
/// caller's workspace and are not followed.
pub fn dependency_sites(file: &Arc<SourceFile>, key: &DepKey) -> Vec<Site> {
    let Ok(doc) = Document::parse(file, &Limits::default()) else {
        return Vec::new();
    };
    let Some(view) = View::build(file, &doc).0 else {
        return Vec::new();
    };
    let uses = refs::view_uses(&view);
    let mut out = refs::repository_sites_of(&uses);
    if key.kind != DepKind::Workflow || file.kind != FileKind::Workflow {
        return out;
    }
    for s in &uses {
        let crate::models::Uses::Local(local) = s.uses else {
            continue;
        };
        let Some(path) = local.strip_prefix("./") else {
            continue;
        };
        let site = Site {
            route: s.route.clone(),
            span: s.node.span(),
            slug: key.slug.clone(),
            path: path.trim_matches('/').to_owned(),
            git_ref: key.commit.clone(),
            display: format!("{}/{}@{}", key.slug, path.trim_matches('/'), key.commit),
        };
        if site.is_workflow() {
            out.push(site);
        }
    }
    out
}

/// What a dependency is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DepKind {
    /// An action: its `action.yml` (or `action.yaml`) in `path`.
    Action,
    /// A reusable workflow: the file `path`.
    Workflow,
}

/// One dependency file: a repository, a path in it, at a commit. Cycle detection and fetching
/// are keyed on it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DepKey {
    /// Lowercase `owner/repo`.
    pub slug: String,
    /// The action's folder (empty for the repository root) or the workflow file.
    pub path: String,
    pub kind: DepKind,
    /// Lowercase commit SHA.
    pub commit: String,
}

impl std::fmt::Display for DepKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}@{}", self.slug, self.commit)
        } else {
            write!(f, "{}/{}@{}", self.slug, self.path, self.commit)
        }
    }
}

/// The dependency file `site` names: at its SHA, or at the commit online resolution found for
/// its ref; `None` when the ref is unresolved.
pub fn target(site: &Site, facts: &Facts) -> Option<DepKey> {
    let commit = if is_full_sha(&site.git_ref) {
        site.git_ref.clone()
    } else {
        facts.git_ref(&site.slug, &site.git_ref)?.commit.clone()?
    };
    Some(DepKey {
        slug: site.slug.clone(),
        path: site.path.clone(),
        kind: if site.is_workflow() {
            DepKind::Workflow
        } else {
            DepKind::Action
        },
        commit: commit.to_ascii_lowercase(),
    })
}

/// A fetched dependency file and its own repository `uses:`.
#[derive(Debug, Clone)]
pub struct DepFile {
    pub file: Arc<SourceFile>,
    pub sites: Vec<Site>,
}

/// The dependency files fetched, and the findings audits reported in each.
#[derive(Debug, Default)]
pub struct Graph {
    /// Whether transitive auditing ran (online, depth above 0).
    pub ran: bool,
    /// The most `uses` hops followed from an audited file.
    pub depth: usize,
    pub files: BTreeMap<DepKey, DepFile>,
    pub findings: BTreeMap<DepKey, Vec<Finding>>,
}

impl Graph {
    /// Whether an `unused-ignore` finding in `file` may be wrong because transitive auditing
    /// did not run: its comment sits on a repository `uses:` line, where it can silence the
    /// findings of that dependency, which only an online run sees.
    pub fn may_hide_unused_ignore(&self, file: &Arc<SourceFile>, unused: &Finding) -> bool {
        !self.ran && self.may_hide_unused_ignore_at(file, &refs::repository_sites(file), unused)
    }

    /// [`Graph::may_hide_unused_ignore`] for a file whose sites the caller already has (from
    /// its refs stage), so the file is not parsed again.
    pub fn may_hide_unused_ignore_at(
        &self,
        file: &SourceFile,
        sites: &[Site],
        unused: &Finding,
    ) -> bool {
        if self.ran || crate::suppress::names_unknown_audit(unused) {
            return false;
        }
        let Some(span) = unused.primary.span() else {
            return false;
        };
        let line = file.line_col(span.start).line;
        sites
            .iter()
            .any(|s| file.line_col(s.span.start).line == line)
    }

    /// The findings of the dependencies reachable from `root`'s `uses:`, each moved onto the
    /// `uses:` that leads to it, keeping only those of `audits` (the audits enabled for `root`).
    ///
    /// A dependency reached from one `uses:` through several paths is reported once, with the
    /// shortest chain; a cycle ends where it revisits a dependency.
    pub fn lift(&self, root: &Arc<SourceFile>, facts: &Facts, audits: &[&str]) -> Vec<Finding> {
        if self.findings.is_empty() {
            return Vec::new();
        }
        self.lift_at(root, &refs::repository_sites(root), facts, audits)
    }

    /// [`Graph::lift`] for a file whose sites the caller already has (from its refs stage), so
    /// the file is not parsed again.
    pub fn lift_at(
        &self,
        root: &Arc<SourceFile>,
        sites: &[Site],
        facts: &Facts,
        audits: &[&str],
    ) -> Vec<Finding> {
        if self.findings.is_empty() {
            return Vec::new();
        }
        let mut out = Vec::new();
        for site in sites {
            let Some(first) = target(site, facts) else {
                continue;
            };
            let mut seen = HashSet::from([first.clone()]);
            let mut queue =
                VecDeque::from([(first, vec![root.path.clone(), site.display.clone()])]);
            while let Some((key, chain)) = queue.pop_front() {
                for f in self.findings.get(&key).into_iter().flatten() {
                    if audits.contains(&f.audit_id()) {
                        out.push(lift_one(root, site, f, &chain));
                    }
                }
                // `chain` is the audited file, then one entry per hop.
                if chain.len() > self.depth {
                    continue;
                }
                let Some(dep) = self.files.get(&key) else {
                    continue;
                };
                for child in &dep.sites {
                    let Some(next) = target(child, facts) else {
                        continue;
                    };
                    if seen.insert(next.clone()) {
                        let mut chain = chain.clone();
                        chain.push(child.display.clone());
                        queue.push_back((next, chain));
                    }
                }
            }
        }
        out
    }
}

/// `f`, found in a dependency, as a finding at `site` of `root`: the dependency's location
/// becomes a related one, fixes (edits of someone else's file) are dropped.
fn lift_one(root: &Arc<SourceFile>, site: &Site, f: &Finding, chain: &[String]) -> Finding {
    let within = chain.last().map_or("", String::as_str);
    // Whom a dependency's finding concerns is declared with the audit (`transitive:`).
    let persona = if f.meta.transitive == Transitive::Consumer {
        f.persona
    } else {
        Persona::Auditor
    };
    let mut related = vec![f.primary.clone()];
    related.extend(f.related.iter().cloned());
    Finding {
        meta: f.meta,
        message: format!("in `{within}`: {}", f.message),
        severity: f.severity,
        confidence: f.confidence,
        persona,
        primary: Location::file(
            root,
            site.span,
            site.route.clone(),
            "this dependency has the finding",
        ),
        related,
        fixes: Vec::new(),
        chain: chain.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audits::UnpinnedUses;
    use crate::facts::RefFacts;
    use crate::refs::repository_sites as sites;
    use crate::route::Route;
    use crate::source::Span;

    const SHA: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    fn wf(text: &str) -> Arc<SourceFile> {
        Arc::new(SourceFile::new(
            ".github/workflows/ci.yml",
            FileKind::Workflow,
            text.into(),
        ))
    }

    #[test]
    fn sites_keep_the_path_as_written_and_skip_local_docker_and_expressions() {
        let file = wf(&format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: Owner/Repo/Sub/Dir@v1\n      - uses: ./local\n      - uses: docker://alpine:3\n      - uses: a/b@${{{{ x }}}}\n      - uses: a/b@{}\n  r:\n    uses: o/r/.github/workflows/x.yml@main\n",
            SHA.to_uppercase()
        ));
        let got: Vec<(String, String, String, String)> = sites(&file)
            .into_iter()
            .map(|s| (s.slug, s.path, s.git_ref, s.route.to_string()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    "owner/repo".into(),
                    "Sub/Dir".into(),
                    "v1".into(),
                    "jobs.a.steps[0].uses".into()
                ),
                (
                    "a/b".into(),
                    String::new(),
                    SHA.into(),
                    "jobs.a.steps[4].uses".into()
                ),
                (
                    "o/r".into(),
                    ".github/workflows/x.yml".into(),
                    "main".into(),
                    "jobs.r.uses".into()
                ),
            ]
        );
    }

    #[test]
    fn targets_resolve_refs_through_facts() {
        let file = wf(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: a/b@v1\n      - uses: a/b@v2\n  r:\n    uses: o/r/.github/workflows/x.yml@AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n",
        );
        let mut facts = Facts::default();
        facts.repos.entry("a/b".into()).or_default().refs.insert(
            "v1".into(),
            RefFacts {
                commit: Some("bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into()),
                is_tag: true,
                is_branch: false,
            },
        );
        let keys: Vec<Option<DepKey>> = sites(&file).iter().map(|s| target(s, &facts)).collect();
        assert_eq!(
            keys[2].as_ref().map(|k| (k.kind, k.commit.as_str())),
            Some((DepKind::Workflow, SHA))
        );
        assert_eq!(
            keys[0].as_ref().map(|k| k.to_string()),
            Some("a/b@bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb".into())
        );
        assert_eq!(keys[1], None, "v2 is unresolved");
    }

    #[test]
    fn lift_follows_chains_stops_at_cycles_and_depth() {
        // a/b@SHA uses c/d@SHA which uses a/b@SHA again.
        let c_sha = "cccccccccccccccccccccccccccccccccccccccc";
        let root = wf(&format!(
            "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: a/b@{SHA} # ciguard: ignore[x]\n"
        ));
        let dep = |slug: &str, uses: &str| {
            let file = Arc::new(SourceFile::new(
                format!("https://github.com/{slug}/blob/x/action.yml"),
                FileKind::Action,
                format!(
                    "name: x\nruns:\n  using: composite\n  steps:\n    - uses: {uses}\n      shell: bash\n"
                ),
            ));
            let sites = sites(&file);
            (file, sites)
        };
        let (ab, ab_sites) = dep("a/b", &format!("c/d@{c_sha}"));
        let (cd, cd_sites) = dep("c/d", &format!("a/b@{SHA}"));
        let key = |slug: &str, commit: &str| DepKey {
            slug: slug.into(),
            path: String::new(),
            kind: DepKind::Action,
            commit: commit.into(),
        };
        let finding = |file: &Arc<SourceFile>| {
            Finding::new(
                &UnpinnedUses::META,
                "x",
                Location::file(file, Span::new(0, 4), Route::root(), "here"),
            )
        };
        let mut graph = Graph {
            depth: 3,
            ..Graph::default()
        };
        graph.findings.insert(key("a/b", SHA), vec![finding(&ab)]);
        graph.findings.insert(key("c/d", c_sha), vec![finding(&cd)]);
        graph.files.insert(
            key("a/b", SHA),
            DepFile {
                file: ab,
                sites: ab_sites,
            },
        );
        graph.files.insert(
            key("c/d", c_sha),
            DepFile {
                file: cd,
                sites: cd_sites,
            },
        );
        let facts = Facts::default();
        let lifted = graph.lift(&root, &facts, &["unpinned-uses"]);
        let chains: Vec<String> = lifted.iter().map(|f| f.chain.join(" -> ")).collect();
        assert_eq!(
            chains,
            vec![
                format!(".github/workflows/ci.yml -> a/b@{SHA}"),
                format!(".github/workflows/ci.yml -> a/b@{SHA} -> c/d@{c_sha}"),
            ]
        );
        assert_eq!(lifted[1].message, format!("in `c/d@{c_sha}`: x"));
        assert_eq!(lifted[0].primary.path(), ".github/workflows/ci.yml");
        assert!(
            lifted
                .iter()
                .all(|f| f.fixes.is_empty() && f.related.len() == 1)
        );
        // Someone else's style or hardening is for auditors; what concerns the consumer keeps
        // its persona.
        let mut style = lifted[0].clone();
        style.meta = &crate::audits::ConcurrencyLimits::META;
        let site = &sites(&root)[0];
        assert_eq!(lift_one(&root, site, &style, &[]).persona, Persona::Auditor);
        assert_eq!(
            lift_one(&root, site, &lifted[0], &[]).persona,
            Persona::Regular
        );
        graph.depth = 1;
        assert_eq!(graph.lift(&root, &facts, &["unpinned-uses"]).len(), 1);
        assert!(graph.lift(&root, &facts, &["mutable-downloads"]).is_empty());
    }
}
