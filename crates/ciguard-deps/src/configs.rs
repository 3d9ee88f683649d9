//! `missing-cooldown-config`: which package ecosystems the repository uses, and whether a cooldown
//! is configured for each anywhere (Dependabot, Renovate, uv, pnpm, npm, Yarn, Bun, Cargo).
//! Offline, no registry involved.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use ciguard_core::models::Dependabot;
use ciguard_core::yaml::{Document, Limits};
use ciguard_core::{Diagnostic, FileKind, Finding, Level, Location, Route, SourceFile, Span};

use crate::audits::MissingCooldownConfig;
use crate::json5;
use crate::repo::RepoFiles;
use crate::time::parse_duration;

/// What update tools call an ecosystem, as far as cooldowns go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Area {
    Cargo,
    Python,
    Npm,
    GithubActions,
}

impl Area {
    const ALL: [Area; 4] = [Area::Cargo, Area::Python, Area::Npm, Area::GithubActions];

    pub fn as_str(self) -> &'static str {
        match self {
            Area::Cargo => "cargo",
            Area::Python => "python",
            Area::Npm => "npm",
            Area::GithubActions => "github-actions",
        }
    }

    /// The area a file is evidence of.
    fn of_file(rel: &str) -> Option<Area> {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        if rel.starts_with(".github/workflows/")
            && (name.ends_with(".yml") || name.ends_with(".yaml"))
        {
            return Some(Area::GithubActions);
        }
        match name {
            "Cargo.toml" | "Cargo.lock" => Some(Area::Cargo),
            "pyproject.toml" | "setup.py" | "setup.cfg" | "Pipfile" | "Pipfile.lock"
            | "uv.lock" | "poetry.lock" | "pylock.toml" => Some(Area::Python),
            "package.json"
            | "package-lock.json"
            | "npm-shrinkwrap.json"
            | "pnpm-lock.yaml"
            | "yarn.lock"
            | "bun.lock" => Some(Area::Npm),
            n if n.starts_with("requirements") && n.ends_with(".txt") => Some(Area::Python),
            n if n.starts_with("pylock.") && n.ends_with(".toml") => Some(Area::Python),
            _ => None,
        }
    }

    fn of_dependabot(ecosystem: &str) -> Option<Area> {
        match ecosystem {
            "cargo" => Some(Area::Cargo),
            "pip" | "uv" | "pipenv" | "poetry" => Some(Area::Python),
            "npm" | "bun" | "yarn" | "pnpm" => Some(Area::Npm),
            "github-actions" => Some(Area::GithubActions),
            _ => None,
        }
    }

    fn of_renovate_manager(m: &str) -> Option<Area> {
        match m {
            "cargo" | "crate" | "rust" => Some(Area::Cargo),
            "pip_requirements" | "pip_setup" | "pip-compile" | "pipenv" | "poetry" | "pep621"
            | "pep723" | "setup-cfg" | "pypi" | "python" => Some(Area::Python),
            "npm" | "bun" | "js" | "node" => Some(Area::Npm),
            "github-actions" | "github-tags" | "github-releases" | "github-digest" | "ci" => {
                Some(Area::GithubActions)
            }
            _ => None,
        }
    }
}

impl fmt::Display for Area {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A place a finding can point at.
struct Anchor {
    file: Arc<SourceFile>,
    span: Span,
    route: Route,
    message: String,
    label: String,
}

#[derive(Default)]
struct State {
    covered: BTreeMap<Area, String>,
    dependabot_gap: BTreeMap<Area, Anchor>,
    renovate: Option<Arc<SourceFile>>,
    diagnostics: Vec<Diagnostic>,
}

impl State {
    fn cover(&mut self, area: Area, how: String) {
        self.covered.entry(area).or_insert(how);
    }

    fn cover_all(&mut self, how: &str) {
        for a in Area::ALL {
            self.cover(a, how.to_owned());
        }
    }
}

fn first_line_span(file: &SourceFile) -> Span {
    file.line_span(1)
}

fn read(repo: &RepoFiles, rel: &str, state: &mut State) -> Option<Arc<SourceFile>> {
    match std::fs::read_to_string(repo.root.join(rel)) {
        Ok(text) => Some(Arc::new(SourceFile::new(
            repo.display(rel),
            FileKind::Dependencies,
            text,
        ))),
        Err(e) => {
            state.diagnostics.push(
                Diagnostic::file(
                    Level::Error,
                    repo.display(rel),
                    format!("cannot read the file: {e}"),
                )
                .help("check its permissions"),
            );
            None
        }
    }
}

fn positive(duration: Option<i64>) -> bool {
    duration.is_some_and(|d| d > 0)
}

/// Dependabot: an entry covers its ecosystem when every semver level gets a cooldown.
fn dependabot(file: Arc<SourceFile>, state: &mut State) {
    let file = Arc::new(SourceFile::new(
        file.path.clone(),
        FileKind::Dependabot,
        file.text.clone(),
    ));
    let Ok(doc) = Document::parse(&file, &Limits::default()) else {
        return;
    };
    let (Some(config), _) = Dependabot::build(&file, &doc) else {
        return;
    };
    for update in &config.updates {
        let Some(area) = Area::of_dependabot(update.ecosystem) else {
            continue;
        };
        let days = |key: &str| {
            update
                .get("cooldown")
                .and_then(|c| c.get_str(key))
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let default = days("default-days");
        let levels = [
            "semver-major-days",
            "semver-minor-days",
            "semver-patch-days",
        ]
        .map(|k| days(k).or(default));
        let include_only = update
            .get("cooldown")
            .and_then(|c| c.get("include"))
            .is_some();
        if levels.iter().all(|d| d.is_some_and(|d| d > 0)) && !include_only {
            state.cover(area, format!("{}: {}", file.path, update.route));
            continue;
        }
        let (span, route) = match update.node.entry("package-ecosystem") {
            Some((_, v)) => (v.span(), update.route.key("package-ecosystem")),
            None => (update.node.span(), update.route.clone()),
        };
        let why = if update.get("cooldown").is_none() {
            "has no `cooldown`".to_owned()
        } else if include_only {
            "has a `cooldown` limited to `include`d dependencies".to_owned()
        } else {
            "has a `cooldown` that leaves some semver levels without delay".to_owned()
        };
        state.dependabot_gap.entry(area).or_insert(Anchor {
            file: Arc::clone(&file),
            span,
            route,
            message: format!("no cooldown for {area} dependencies: the Dependabot entry for `{}` {why}, and nothing else configures one", update.ecosystem),
            label: format!("updates {} {why}", update.ecosystem),
        });
    }
}

fn renovate(file: &Arc<SourceFile>, config: &json5::Node, state: &mut State) {
    state.renovate.get_or_insert_with(|| Arc::clone(file));
    let non_zero = |n: &json5::Node| {
        n.as_str().is_some_and(|s| {
            positive(parse_duration(s))
                || (parse_duration(s).is_none() && !s.trim().is_empty() && s.trim() != "0")
        })
    };
    if config.get("minimumReleaseAge").is_some_and(non_zero) {
        state.cover_all(&format!("{}: minimumReleaseAge", file.path));
    }
    for preset in config
        .get("extends")
        .map(json5::Node::items)
        .unwrap_or_default()
    {
        if matches!(
            preset.as_str(),
            Some("config:best-practices" | "security:minimumReleaseAgeNpm")
        ) {
            state.cover(
                Area::Npm,
                format!(
                    "{}: extends {}",
                    file.path,
                    preset.as_str().unwrap_or_default()
                ),
            );
        }
    }
    for (i, rule) in config
        .get("packageRules")
        .map(json5::Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        if !rule.get("minimumReleaseAge").is_some_and(non_zero) {
            continue;
        }
        let how = format!("{}: packageRules[{i}].minimumReleaseAge", file.path);
        let mut areas = Vec::new();
        let mut narrowing = false;
        for (key, value) in rule.entries() {
            match key.name.as_str() {
                "matchManagers" | "matchDatasources" | "matchCategories" => {
                    areas.extend(
                        value
                            .items()
                            .iter()
                            .filter_map(|m| m.as_str().and_then(Area::of_renovate_manager)),
                    );
                }
                k if k.starts_with("match") || k.starts_with("exclude") => narrowing = true,
                _ => {}
            }
        }
        let targeted = rule.entries().iter().any(|(k, _)| {
            matches!(
                k.name.as_str(),
                "matchManagers" | "matchDatasources" | "matchCategories"
            )
        });
        if narrowing {
            continue;
        }
        if targeted {
            for a in areas {
                state.cover(a, how.clone());
            }
        } else {
            state.cover_all(&how);
        }
    }
}

fn json_file(file: &Arc<SourceFile>, state: &mut State) -> Option<json5::Node> {
    match json5::parse(&file.text) {
        Ok(node) => Some(node),
        Err(e) => {
            let span = Span::new(e.offset, e.offset);
            state.diagnostics.push(
                Diagnostic::at(
                    Level::Error,
                    file,
                    span,
                    format!("invalid JSON: {}", e.message),
                )
                .help("fix the syntax; the cooldown settings in this file were not read"),
            );
            None
        }
    }
}

fn toml_file(file: &Arc<SourceFile>, state: &mut State) -> Option<toml::Table> {
    match toml::from_str::<toml::Table>(&file.text) {
        Ok(t) => Some(t),
        Err(e) => {
            let span = e
                .span()
                .map_or(Span::default(), |r| Span::new(r.start, r.end));
            state.diagnostics.push(
                Diagnostic::at(
                    Level::Error,
                    file,
                    span,
                    format!("invalid TOML: {}", e.message().trim()),
                )
                .help("fix the syntax; the cooldown settings in this file were not read"),
            );
            None
        }
    }
}

fn toml_path<'a>(t: &'a toml::Table, path: &[&str]) -> Option<&'a toml::Value> {
    let (last, parents) = path.split_last()?;
    let mut table = t;
    for p in parents {
        table = table.get(*p)?.as_table()?;
    }
    table.get(*last)
}

/// uv's `exclude-newer`: a timestamp, a date, or a relative duration (`7 days`, `P7D`).
fn uv_exclude_newer(value: Option<&toml::Value>) -> bool {
    value
        .and_then(toml::Value::as_str)
        .is_some_and(|s| crate::time::parse_timestamp(s).is_some() || positive(parse_duration(s)))
}

fn number_or_string(v: &toml::Value) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    v.as_integer()
        .map(|i| i as f64)
        .or_else(|| v.as_float())
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn inspect(repo: &RepoFiles, rel: &str, state: &mut State) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let in_dot_cargo = rel == ".cargo/config.toml"
        || rel.ends_with("/.cargo/config.toml")
        || rel == ".cargo/config"
        || rel.ends_with("/.cargo/config");
    let renovate_names = [
        "renovate.json",
        "renovate.json5",
        ".renovaterc",
        ".renovaterc.json",
        ".renovaterc.json5",
    ];
    let relevant = matches!(
        name,
        "package.json"
            | "pyproject.toml"
            | "uv.toml"
            | "pnpm-workspace.yaml"
            | ".npmrc"
            | ".yarnrc.yml"
            | "bunfig.toml"
    ) || renovate_names.contains(&name)
        || in_dot_cargo
        || rel == ".github/dependabot.yml"
        || rel == ".github/dependabot.yaml";
    if !relevant {
        return;
    }
    let Some(file) = read(repo, rel, state) else {
        return;
    };
    match name {
        "dependabot.yml" | "dependabot.yaml" => dependabot(file, state),
        "package.json" => {
            if let Some(cfg) = json_file(&file, state).and_then(|n| n.get("renovate").cloned()) {
                renovate(&file, &cfg, state);
            }
        }
        n if renovate_names.contains(&n) => {
            if let Some(cfg) = json_file(&file, state) {
                renovate(&file, &cfg, state);
            }
        }
        "pyproject.toml" => {
            if let Some(t) = toml_file(&file, state)
                && uv_exclude_newer(toml_path(&t, &["tool", "uv", "exclude-newer"]))
            {
                state.cover(
                    Area::Python,
                    format!("{}: tool.uv.exclude-newer", file.path),
                );
            }
        }
        "uv.toml" => {
            if let Some(t) = toml_file(&file, state)
                && uv_exclude_newer(t.get("exclude-newer"))
            {
                state.cover(Area::Python, format!("{}: exclude-newer", file.path));
            }
        }
        "bunfig.toml" => {
            if let Some(t) = toml_file(&file, state)
                && toml_path(&t, &["install", "minimumReleaseAge"])
                    .and_then(number_or_string)
                    .is_some_and(|n| n > 0.0)
            {
                state.cover(
                    Area::Npm,
                    format!("{}: install.minimumReleaseAge", file.path),
                );
            }
        }
        "pnpm-workspace.yaml" | ".yarnrc.yml" => {
            let key = if name == ".yarnrc.yml" {
                "npmMinimalAgeGate"
            } else {
                "minimumReleaseAge"
            };
            let Ok(doc) = Document::parse(&file, &Limits::default()) else {
                state.diagnostics.push(
                    Diagnostic::file(Level::Error, &file.path, "invalid YAML")
                        .help("fix the syntax; the cooldown settings in this file were not read"),
                );
                return;
            };
            let value = doc
                .root()
                .and_then(|r| r.get_str(key))
                .unwrap_or_default()
                .trim();
            if value.parse::<f64>().is_ok_and(|n| n > 0.0) || positive(parse_duration(value)) {
                state.cover(Area::Npm, format!("{}: {key}", file.path));
            }
        }
        ".npmrc" => {
            for line in file.text.lines() {
                let line = line.trim();
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                if matches!(k.trim(), "min-release-age" | "minimum-release-age")
                    && v.trim().parse::<f64>().is_ok_and(|n| n > 0.0)
                {
                    state.cover(Area::Npm, format!("{}: {}", file.path, k.trim()));
                }
            }
        }
        _ if in_dot_cargo => {
            if let Some(t) = toml_file(&file, state) {
                for key in ["global-min-publish-age", "min-publish-age"] {
                    if toml_path(&t, &["registry", key])
                        .and_then(toml::Value::as_str)
                        .is_some_and(|s| positive(parse_duration(s)))
                    {
                        state.cover(Area::Cargo, format!("{}: registry.{key}", file.path));
                    }
                }
            }
        }
        _ => {}
    }
}

/// Checks the repository's cooldown configuration; no network.
pub fn check(repo: &RepoFiles) -> (Vec<Finding>, Vec<Diagnostic>) {
    let mut state = State::default();
    let mut evidence: BTreeMap<Area, &str> = BTreeMap::new();
    for rel in &repo.files {
        if let Some(area) = Area::of_file(rel) {
            let e = evidence.entry(area).or_insert(rel);
            // Prefer the shallowest file as the evidence shown.
            if rel.matches('/').count() < e.matches('/').count() {
                *e = rel;
            }
        }
        inspect(repo, rel, &mut state);
    }
    let mut findings = Vec::new();
    for (area, rel) in evidence {
        if state.covered.contains_key(&area) {
            continue;
        }
        let meta = &MissingCooldownConfig::META;
        if let Some(anchor) = state.dependabot_gap.remove(&area) {
            findings.push(Finding::new(
                meta,
                anchor.message,
                Location::file(&anchor.file, anchor.span, anchor.route, anchor.label),
            ));
            continue;
        }
        let Some(file) = read(repo, rel, &mut state) else {
            continue;
        };
        let mut finding = Finding::new(
            meta,
            format!(
                "no cooldown for {area} dependencies: no Dependabot `cooldown`, Renovate `minimumReleaseAge` or package-manager setting delays new releases"
            ),
            Location::file(
                &file,
                first_line_span(&file),
                Route::root(),
                format!("{area} dependencies are declared here"),
            ),
        );
        if let Some(r) = &state.renovate {
            finding = finding.related(Location::file(
                r,
                first_line_span(r),
                Route::root(),
                "Renovate is configured here without `minimumReleaseAge`",
            ));
        }
        findings.push(finding);
    }
    (findings, state.diagnostics)
}
