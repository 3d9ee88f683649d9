use crate::audit::{AnyDoc, Audit, AuditContext, InvalidOption};
use crate::audits::common::{File, RepoPattern, UsesSite};
use crate::declare_audit;
use crate::finding::Finding;

declare_audit! {
    /// ## What it does
    ///
    /// Reports actions and reusable workflows that the configuration forbids: with `allow`,
    /// every repository reference that matches none of its patterns; with `deny`, every one
    /// that matches one of them. Local (`./`, `$/`) and `docker://` uses are never forbidden.
    /// Without options the audit reports nothing.
    ///
    /// ## Why is this bad?
    ///
    /// Organisations vet the third-party code that may run with their tokens and secrets. A
    /// `uses:` of an unvetted action brings in code nobody reviewed, often through a pull
    /// request whose diff shows one innocuous line.
    ///
    /// ## Options
    ///
    /// Exactly one of `allow` or `deny`, a list of `owner/repo[/path][@ref]`, `owner/*` or `*`
    /// patterns (names case-insensitive, refs exact; a pattern without a path covers every path
    /// of the repository, one without `@ref` every ref).
    ///
    /// ## Example
    ///
    /// ```toml
    /// [audits.forbidden-uses]
    /// allow = ["actions/*", "github/codeql-action"]
    /// ```
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   lint:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: reviewdog/action-eslint@f2ee6d1a3bc1ddbdc1ded8d4ab8c1e0bb6d1e4ae # v1.33.2
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   lint:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: npx --no-install eslint .
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: replace the action with an allowed one or a `run:` step, or have it
    /// vetted and added to the allow list.
    pub struct ForbiddenUses {
        id: "forbidden-uses",
        summary: "actions the configuration forbids",
        severity: High,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

enum Policy {
    Allow(Vec<RepoPattern>),
    Deny(Vec<RepoPattern>),
}

fn patterns(value: &toml::Value) -> Result<Vec<RepoPattern>, InvalidOption> {
    let list = value
        .as_array()
        .ok_or_else(|| InvalidOption::new("`allow`/`deny` must be a list of patterns"))?;
    list.iter()
        .map(|v| {
            let s = v
                .as_str()
                .ok_or_else(|| InvalidOption::new("patterns must be strings"))?;
            RepoPattern::parse(s).ok_or_else(|| InvalidOption::new(format!("`{s}` is not a pattern: write `owner/repo`, `owner/repo/path`, `owner/repo@ref`, `owner/*` or `*`")))
        })
        .collect()
}

fn policy(options: &toml::Table) -> Result<Option<Policy>, InvalidOption> {
    match (options.get("allow"), options.get("deny")) {
        (Some(_), Some(_)) => Err(InvalidOption::new(
            "`forbidden-uses` takes `allow` or `deny`, not both",
        )),
        (Some(a), None) => Ok(Some(Policy::Allow(patterns(a)?))),
        (None, Some(d)) => Ok(Some(Policy::Deny(patterns(d)?))),
        (None, None) => Ok(None),
    }
}

impl Audit for ForbiddenUses {
    fn options_schema(&self) -> serde_json::Map<String, serde_json::Value> {
        let list = |what: &str| {
            serde_json::json!({
                "description": format!("actions to {what}: `owner/repo[/path]`, `owner/*` or `*`"),
                "type": "array",
                "items": { "type": "string" },
            })
        };
        [
            ("allow".to_owned(), list("allow (every other is reported)")),
            ("deny".to_owned(), list("report")),
        ]
        .into_iter()
        .collect()
    }

    fn validate_options(&self, options: &toml::Table) -> Result<(), InvalidOption> {
        if let Some(key) = options
            .keys()
            .find(|k| !matches!(k.as_str(), "allow" | "deny"))
        {
            return Err(InvalidOption::new(format!(
                "`forbidden-uses` has no option `{key}`; it takes `allow` or `deny`"
            )));
        }
        policy(options).map(|_| ())
    }

    fn uses(
        &self,
        cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &UsesSite<'_>,
        out: &mut Vec<Finding>,
    ) {
        if let Ok(Some(p)) = policy(cx.options) {
            check(doc.file(), &p, site, out);
        }
    }
}

fn check(file: &File, policy: &Policy, site: &UsesSite<'_>, out: &mut Vec<Finding>) {
    let Some(repo) = site.repo() else { return };
    let why = match policy {
        Policy::Allow(allow) if !allow.iter().any(|p| p.matches(repo)) => {
            "is not on the allow list"
        }
        Policy::Deny(deny) if deny.iter().any(|p| p.matches(repo)) => "is on the deny list",
        _ => return,
    };
    out.push(Finding::new(
        &ForbiddenUses::META,
        format!("`{}` {why}", repo.name()),
        site.location(file, "use of this action is forbidden"),
    ));
}
