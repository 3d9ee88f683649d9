//! A pre-commit configuration (`.pre-commit-config.yaml` at a repository root): the hook
//! repositories that `pre-commit` clones and whose code it runs on every commit and in CI.

use std::sync::Arc;

use crate::diagnostic::{Checker, Diagnostic};
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::{Document, Node};

/// One entry of `repos:` that names a repository to clone (not `local` or `meta`, whose hooks
/// come from the repository itself and from pre-commit).
#[derive(Debug, Clone)]
pub struct HookRepo<'a> {
    pub route: Route,
    /// The `repo:` value: a URL or a path that git clones.
    pub repo: Node<'a>,
    pub url: &'a str,
    /// The `rev:` value, when written.
    pub rev: Option<Node<'a>>,
}

impl HookRepo<'_> {
    /// `owner/repo` when the repository is on github.com (lowercase, without `.git`).
    pub fn github_slug(&self) -> Option<String> {
        let rest = self
            .url
            .split_once("://")
            .map_or(self.url, |(_, rest)| rest);
        let rest = rest.strip_prefix("www.").unwrap_or(rest);
        let path = rest
            .strip_prefix("github.com/")
            .or_else(|| rest.strip_prefix("git@github.com:"))?;
        let path = path.trim_end_matches('/');
        let path = path.strip_suffix(".git").unwrap_or(path);
        let (owner, repo) = path.split_once('/')?;
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        };
        (valid(owner) && valid(repo)).then(|| format!("{owner}/{repo}").to_ascii_lowercase())
    }
}

pub struct PreCommit<'a> {
    pub file: &'a Arc<SourceFile>,
    pub doc: &'a Document,
    pub repos: Vec<HookRepo<'a>>,
}

impl<'a> PreCommit<'a> {
    pub fn build(
        file: &'a Arc<SourceFile>,
        doc: &'a Document,
    ) -> (Option<PreCommit<'a>>, Vec<Diagnostic>) {
        let mut ck = Checker::new(file);
        let Some(root) = doc.root().filter(|r| r.is_mapping()) else {
            let span = doc.root().map(|r| r.span()).unwrap_or_default();
            ck.error(
                span,
                "a pre-commit configuration must be a mapping",
                "start with `repos:` and one entry per hook repository",
            );
            return (None, ck.diagnostics);
        };
        let mut repos = Vec::new();
        match root.get("repos") {
            Some(list) if list.is_sequence() => {
                for (index, node) in list.items().enumerate() {
                    let route = Route::root().key("repos").index(index);
                    let Some(repo) = node.get("repo") else {
                        ck.error(
                            node.span(),
                            format!("`{route}` has no `repo:`"),
                            "give each entry `repo:` (a URL, `local` or `meta`) and `hooks:`",
                        );
                        continue;
                    };
                    let Some(url) = repo.as_str() else {
                        ck.error(
                            repo.span(),
                            format!("`{route}.repo` must be a string"),
                            "write the repository's URL, `local` or `meta`",
                        );
                        continue;
                    };
                    if matches!(url, "local" | "meta") {
                        continue;
                    }
                    repos.push(HookRepo {
                        route,
                        repo,
                        url,
                        rev: node.get("rev"),
                    });
                }
            }
            Some(other) => ck.error(
                other.span(),
                "`repos` must be a list",
                "write each hook repository as a `- repo:` item",
            ),
            None => ck.error(
                root.span(),
                "pre-commit configuration has no `repos:`",
                "add a `repos:` list",
            ),
        }
        if ck.has_errors() {
            return (None, ck.diagnostics);
        }
        (Some(PreCommit { file, doc, repos }), ck.diagnostics)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileKind;
    use crate::yaml::Limits;

    fn slugs(text: &str) -> Vec<Option<String>> {
        let file = Arc::new(SourceFile::new(
            "c.yaml",
            FileKind::PreCommit,
            text.to_owned(),
        ));
        let doc = Document::parse(&file, &Limits::default()).unwrap();
        let (config, diags) = PreCommit::build(&file, &doc);
        assert!(diags.is_empty(), "{diags:?}");
        config
            .unwrap()
            .repos
            .iter()
            .map(HookRepo::github_slug)
            .collect()
    }

    #[test]
    fn hook_repositories_on_github_are_named_by_slug() {
        let text = "repos:\n- repo: https://github.com/Pre-Commit/hooks.git\n  rev: v1\n\
                    - repo: local\n  hooks: []\n- repo: git@github.com:a/b\n\
                    - repo: https://gitlab.com/a/b\n- repo: https://github.com/a\n";
        assert_eq!(
            slugs(text),
            [
                Some("pre-commit/hooks".into()),
                Some("a/b".into()),
                None,
                None
            ]
        );
    }

    #[test]
    fn a_config_without_repos_is_an_error_naming_what_to_write() {
        for text in [
            "- a\n",
            "repos: x\n",
            "default_stages: []\n",
            "repos:\n- hooks: []\n",
        ] {
            let file = Arc::new(SourceFile::new(
                "c.yaml",
                FileKind::PreCommit,
                text.to_owned(),
            ));
            let doc = Document::parse(&file, &Limits::default()).unwrap();
            let (config, diags) = PreCommit::build(&file, &doc);
            assert!(config.is_none() && !diags.is_empty(), "{text}");
        }
    }
}
