use crate::audit::{Audit, AuditContext, InvalidOption};
use crate::declare_audit;
use crate::finding::{Applicability, Confidence, Edit, Finding, Location, Persona, Severity};
use crate::models::{Dependabot, Update};

declare_audit! {
    /// ## What it does
    ///
    /// Reports Dependabot `updates` entries that open pull requests for a new version as soon as
    /// it is published: entries with no `cooldown:`, a `cooldown:` without `default-days` (which
    /// then defaults to 0) for some semver level, `default-days` or `semver-*-days` below the
    /// policy (7 days unless the `days` option says otherwise), and a cooldown whose `include:`
    /// names only some dependencies (`include: ["*"]` is every dependency). Every entry is
    /// checked; `ciguard deps` applies the same policy (`[deps] cooldown-days`).
    ///
    /// ## Why is this bad?
    ///
    /// Compromised releases of popular packages and actions are usually found and pulled within
    /// days. Without a cooldown, Dependabot proposes them within hours, and a busy maintainer
    /// merges the malicious version before anyone has noticed it.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// version: 2
    /// updates:
    ///   - package-ecosystem: github-actions
    ///     directory: /
    ///     schedule:
    ///       interval: weekly
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// version: 2
    /// updates:
    ///   - package-ecosystem: github-actions
    ///     directory: /
    ///     schedule:
    ///       interval: weekly
    ///     cooldown:
    ///       default-days: 7
    /// ```
    ///
    /// ## Fix
    ///
    /// Safe: adds `cooldown:` with `default-days: 7` to block-style entries that have none,
    /// at the entry's own indentation, and raises a day count below the policy to the policy.
    pub struct DependabotCooldown {
        id: "dependabot-cooldown",
        summary: "insufficient cooldown in Dependabot updates",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Dependabot],
        needs_network: false,
        fix: Safe,
    }
}

const SEMVER: [&str; 3] = [
    "semver-major-days",
    "semver-minor-days",
    "semver-patch-days",
];

impl Audit for DependabotCooldown {
    fn options_schema(&self) -> serde_json::Map<String, serde_json::Value> {
        let days = serde_json::json!({
            "description": "the shortest cooldown that passes, in days (default 7)",
            "type": "integer",
            "minimum": 1,
            "maximum": 90,
        });
        [("days".to_owned(), days)].into_iter().collect()
    }

    fn validate_options(&self, options: &toml::Table) -> Result<(), InvalidOption> {
        for (key, value) in options {
            match (key.as_str(), value.as_integer()) {
                ("days", Some(d)) if (1..=90).contains(&d) => {}
                ("days", _) => {
                    return Err(InvalidOption::new(
                        "`dependabot-cooldown.days` must be a number of days from 1 to 90",
                    ));
                }
                _ => {
                    return Err(InvalidOption::new(format!(
                        "`dependabot-cooldown` takes no option `{key}` (known: days)"
                    )));
                }
            }
        }
        Ok(())
    }

    fn dependabot(&self, cx: &AuditContext<'_>, config: &Dependabot<'_>, out: &mut Vec<Finding>) {
        let days = cx
            .options
            .get("days")
            .and_then(|d| d.as_integer())
            .unwrap_or(7);
        let file = config.file;
        for update in &config.updates {
            let Some((key, cooldown)) = update.node.entry("cooldown") else {
                let mut f = Finding::new(
                    &Self::META,
                    format!("`{}` updates have no cooldown", update.ecosystem),
                    Location::file(
                        file,
                        entry_head(update),
                        update.route.clone(),
                        "no `cooldown:` here",
                    ),
                );
                if let Some(edit) = add_cooldown(&file.text, update) {
                    f = f.fix(
                        "add `cooldown: {default-days: 7}`",
                        Applicability::Safe,
                        vec![edit],
                    );
                }
                out.push(f);
                continue;
            };
            let route = update.route.key("cooldown");
            if let Some((group_key, _)) = update.node.entry("multi-ecosystem-group") {
                out.push(
                    Finding::new(
                        &Self::META,
                        "a cooldown on an entry of a `multi-ecosystem-group` splits the group's batched updates",
                        Location::file(file, key.span(), route.clone(), "cooldown in a multi-ecosystem group"),
                    )
                    .severity(Severity::Low)
                    .persona(Persona::Pedantic)
                    .related(Location::file(file, group_key.span(), update.route.key("multi-ecosystem-group"), "group")),
                );
            }
            let default = cooldown.entry("default-days");
            let number =
                |n: crate::yaml::Node<'_>| n.as_str().and_then(|s| s.trim().parse::<i64>().ok());
            // Levels that fall back to `default-days` (0 when missing).
            let uncovered: Vec<&str> = SEMVER
                .iter()
                .copied()
                .filter(|k| cooldown.get(k).is_none())
                .collect();
            match default {
                None if !uncovered.is_empty() => out.push(Finding::new(
                    &Self::META,
                    format!(
                        "cooldown has no `default-days`, so {} updates have none",
                        uncovered
                            .join(", ")
                            .replace("semver-", "")
                            .replace("-days", "")
                    ),
                    Location::file(
                        file,
                        key.span(),
                        route.clone(),
                        "no `default-days` configured",
                    ),
                )),
                Some((k, v)) if number(v).is_some_and(|d| d < days) && !uncovered.is_empty() => out
                    .push(too_short(
                        file,
                        k,
                        v,
                        route.key("default-days"),
                        "default-days",
                        days,
                    )),
                _ => {}
            }
            for level in SEMVER {
                if let Some((k, v)) = cooldown.entry(level)
                    && number(v).is_some_and(|d| d < days)
                {
                    out.push(too_short(file, k, v, route.key(level), level, days));
                }
            }
            // `include:` narrows the cooldown to the dependencies it names; `"*"` names all.
            if let Some((k, include)) = cooldown.entry("include")
                && !include.items().any(|p| p.as_str() == Some("*"))
            {
                out.push(
                    Finding::new(
                        &Self::META,
                        "the cooldown applies only to the dependencies `include:` names; the others are updated as soon as they are published",
                        Location::file(file, k.span(), route.key("include"), "cooldown limited to these dependencies"),
                    )
                    .severity(Severity::Low)
                    .confidence(Confidence::Medium),
                );
            }
        }
    }
}

/// A day count below the policy, with the fix that raises it to the policy.
fn too_short(
    file: &std::sync::Arc<crate::source::SourceFile>,
    key: crate::yaml::Node<'_>,
    value: crate::yaml::Node<'_>,
    route: crate::route::Route,
    name: &str,
    days: i64,
) -> Finding {
    Finding::new(
        &DependabotCooldown::META,
        format!("`{name}` is below {days} days"),
        Location::file(
            file,
            key.span().cover(value.span()),
            route,
            "insufficient cooldown",
        ),
    )
    .severity(Severity::Low)
    .confidence(Confidence::Medium)
    .fix(
        format!("raise `{name}` to {days}"),
        Applicability::Safe,
        vec![Edit::replace(value.span(), days.to_string())],
    )
}

/// The entry's first key (where `- package-ecosystem:` is), or the whole entry.
fn entry_head(update: &Update<'_>) -> crate::source::Span {
    update
        .node
        .entries()
        .next()
        .map_or(update.node.span(), |(k, _)| k.span())
}

/// `cooldown:` with `default-days: 7` appended to a block-style entry, at its keys' indentation.
fn add_cooldown(text: &str, update: &Update<'_>) -> Option<Edit> {
    if update.node.is_flow() {
        return None;
    }
    let (first_key, _) = update.node.entries().next()?;
    let (_, last_value) = update.node.entries().last()?;
    let key_start = first_key.span().start;
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    let indent = text[line_start..key_start].chars().count();
    let pad = " ".repeat(indent);
    let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let block = format!("{pad}cooldown:{newline}{pad}  default-days: 7");
    let end = last_value.span().end.min(text.len());
    if text[..end].ends_with('\n') {
        return Some(Edit::insert(end, format!("{block}{newline}")));
    }
    match text[end..].find('\n') {
        Some(i) => {
            let at = if text[..end + i].ends_with('\r') {
                end + i - 1
            } else {
                end + i
            };
            Some(Edit::insert(at, format!("{newline}{block}")))
        }
        None => Some(Edit::insert(text.len(), format!("{newline}{block}"))),
    }
}
