//! `missing-cooldown-config`: which package ecosystems the repository uses, and whether a cooldown
//! is configured for each anywhere (Dependabot, Renovate, uv, pnpm, npm, Yarn, Bun, Cargo).
//! Offline, no registry involved.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

use ciguard_core::models::Dependabot;
use ciguard_core::yaml::{Document, Limits};
use ciguard_core::{
    Diagnostic, FileKind, Finding, Level, Location, Route, SourceFile, Span, declare_audit,
};

use crate::json5;
use crate::repo::RepoFiles;
use crate::time::parse_duration;

declare_audit! {
    /// ## What it does
    ///
    /// Finds the package ecosystems a repository uses (Cargo, Python, npm, GitHub Actions) and
    /// reports each one that has no cooldown configured anywhere: a Dependabot `cooldown` on its
    /// `updates` entries (`default-days`, or all of `semver-major-days`, `semver-minor-days` and
    /// `semver-patch-days`), Renovate `minimumReleaseAge` (`renovate.json`, `renovate.json5`,
    /// `.renovaterc*`, `package.json` `renovate`), uv `exclude-newer` (`pyproject.toml`
    /// `[tool.uv]`, `uv.toml`), pnpm `minimumReleaseAge` (`pnpm-workspace.yaml`), `.npmrc`
    /// `min-release-age` / `minimum-release-age`, Yarn `npmMinimalAgeGate`, Bun
    /// `minimumReleaseAge`, or Cargo `registry.global-min-publish-age` (`.cargo/config.toml`).
    ///
    /// A cooldown shorter than the policy (7 days, `[deps] cooldown-days` in `ciguard.toml`) is
    /// reported too, as `dependabot-cooldown` does. Dependabot `include: ["*"]` covers every
    /// dependency. Renovate is read from the files Renovate reads (the root, `.github/`,
    /// `.gitlab/`), with per-manager blocks, `matchPackageNames: ["*"]` and presets whose file is
    /// in the repository; a cooldown possibly set in a preset that was not read is reported as
    /// unknown, never as missing. A package manager's setting governs its own directory and those
    /// below it. The finding points at the Dependabot entry, the setting, or the lockfile.
    ///
    /// ## Why is this bad?
    ///
    /// Without a cooldown, update tools propose (and lockfiles take) releases minutes after they
    /// are published, which is when a compromised release does its damage.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// # .github/dependabot.yml
    /// version: 2
    /// updates:
    ///   - package-ecosystem: cargo
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
    ///   - package-ecosystem: cargo
    ///     directory: /
    ///     schedule:
    ///       interval: weekly
    ///     cooldown:
    ///       default-days: 7
    /// ```
    ///
    /// ## Fix
    ///
    /// Add a cooldown where the ecosystem is updated: `cooldown: {default-days: 7}` in
    /// Dependabot, `"minimumReleaseAge": "7 days"` in Renovate, `exclude-newer = "7 days"` under
    /// `[tool.uv]`, `minimumReleaseAge: 10080` in `pnpm-workspace.yaml`, or
    /// `[registry] global-min-publish-age = "7 days"` in `.cargo/config.toml`.
    pub struct MissingCooldownConfig {
        id: "missing-cooldown-config",
        summary: "package ecosystem without any update cooldown",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Dependencies, Dependabot],
        needs_network: false,
        fix: None,
    }
}

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

/// Where a cooldown setting `what` stands in `file`: the finding to report there when it is
/// shorter than the policy for an area.
fn too_short_at(
    file: &Arc<SourceFile>,
    span: Span,
    what: String,
) -> impl Fn(Area, i64) -> Anchor + use<> {
    let file = Arc::clone(file);
    move |area: Area, minimum: i64| Anchor {
        file: Arc::clone(&file),
        span,
        route: Route::root(),
        message: format!(
            "the cooldown for {area} dependencies is too short: {what} is less than the {}-day policy",
            minimum / crate::time::DAY
        ),
        label: what.clone(),
    }
}

#[derive(Default)]
struct State<'f> {
    /// Reads presets from GitHub, when online.
    fetch: Option<PresetFetcher<'f>>,
    /// Where the repository's files are read from.
    files: Option<crate::memory::Files<'f>>,
    /// Presets already read (Renovate presets may extend each other in a cycle).
    presets_seen: std::collections::HashSet<String>,
    /// Per area, the directories (relative, `""` = everywhere) a cooldown governs.
    covered: BTreeMap<Area, Vec<String>>,
    dependabot_gap: BTreeMap<Area, Anchor>,
    /// Cooldowns set but shorter than the policy, per area (the first one seen).
    short: BTreeMap<Area, Anchor>,
    /// Areas whose cooldown may be set in a preset that could not be read, and its name.
    unknown: BTreeMap<Area, String>,
    renovate: Option<Arc<SourceFile>>,
    /// The Dependabot configuration's `updates:` key, where an ecosystem without an entry is
    /// reported.
    dependabot_updates: Option<(Arc<SourceFile>, Span)>,
    diagnostics: Vec<Diagnostic>,
    /// The policy's minimum cooldown per area, in seconds.
    minimum: BTreeMap<Area, i64>,
}

impl State<'_> {
    fn cover(&mut self, area: Area, dir: &str) {
        self.covered.entry(area).or_default().push(dir.to_owned());
    }

    fn minimum(&self, area: Area) -> i64 {
        self.minimum
            .get(&area)
            .copied()
            .unwrap_or(crate::config::DEFAULT_COOLDOWN_DAYS * crate::time::DAY)
    }

    fn is_covered(&self, area: Area, rel: &str) -> bool {
        self.covered.get(&area).is_some_and(|dirs| {
            dirs.iter()
                .any(|d| d.is_empty() || rel.starts_with(&format!("{d}/")))
        })
    }

    /// A cooldown of `seconds` for `areas`, set at `anchor`: coverage when it meets the policy,
    /// otherwise a "too short" gap. Returns whether it met the policy.
    fn cooldown(
        &mut self,
        areas: &[Area],
        dir: &str,
        seconds: i64,
        anchor: impl Fn(Area, i64) -> Anchor,
    ) -> bool {
        let mut ok = true;
        for &area in areas {
            let minimum = self.minimum(area);
            if seconds >= minimum {
                self.cover(area, dir);
            } else {
                ok = false;
                let a = anchor(area, minimum);
                self.short.entry(area).or_insert(a);
            }
        }
        ok
    }
}

/// The directory of a repository-relative file (`""` at the root).
fn dir_of(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(d, _)| d)
}

fn first_line_span(file: &SourceFile) -> Span {
    file.line_span(1)
}

fn read(repo: &RepoFiles, rel: &str, state: &mut State) -> Option<Arc<SourceFile>> {
    let files = state.files.unwrap_or(crate::memory::Files::Disk);
    match files.read_text(repo, rel) {
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

/// Dependabot: an entry covers its ecosystem when every semver level gets a cooldown at least as
/// long as the policy, for every dependency (`include: ["*"]` is every dependency).
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
    if let Some((key, _)) = config.root.entry("updates") {
        state.dependabot_updates = Some((Arc::clone(&file), key.span()));
    }
    for update in &config.updates {
        let Some(area) = Area::of_dependabot(update.ecosystem) else {
            continue;
        };
        let cooldown = update.get("cooldown");
        let days = |key: &str| {
            cooldown
                .and_then(|c| c.get_str(key))
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        let default = days("default-days");
        let levels = [
            "semver-major-days",
            "semver-minor-days",
            "semver-patch-days",
        ]
        .map(|k| (k, days(k).or(default)));
        let include_only = cooldown
            .and_then(|c| c.get("include"))
            .is_some_and(|i| !i.items().any(|p| p.as_str() == Some("*")));
        let shortest = levels.iter().filter_map(|(_, d)| *d).min();
        let all_levels = levels.iter().all(|(_, d)| d.is_some_and(|d| d > 0));
        if all_levels && !include_only {
            let shortest = shortest.unwrap_or(0);
            let (span, route) = match cooldown.and_then(|_| update.node.entry("cooldown")) {
                Some((k, _)) => (k.span(), update.route.key("cooldown")),
                None => (update.node.span(), update.route.clone()),
            };
            let eco = update.ecosystem;
            let f = Arc::clone(&file);
            state.cooldown(&[area], "", shortest * crate::time::DAY, |area, minimum| Anchor {
                file: Arc::clone(&f),
                span,
                route: route.clone(),
                message: format!("the cooldown for {area} dependencies is too short: the Dependabot entry for `{eco}` waits {}, less than the {}-day policy", if shortest == 1 { "1 day".to_owned() } else { format!("{shortest} days") }, minimum / crate::time::DAY),
                label: format!("{shortest}-day cooldown"),
            });
            continue;
        }
        let (span, route) = match update.node.entry("package-ecosystem") {
            Some((_, v)) => (v.span(), update.route.key("package-ecosystem")),
            None => (update.node.span(), update.route.clone()),
        };
        let why = if cooldown.is_none() {
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

/// The files Renovate reads its repository configuration from, in its order (Renovate's
/// "configuration options" documentation); `package.json` counts only at the root, under
/// `renovate`.
const RENOVATE_FILES: [&str; 10] = [
    "renovate.json",
    "renovate.json5",
    ".github/renovate.json",
    ".github/renovate.json5",
    ".gitlab/renovate.json",
    ".gitlab/renovate.json5",
    ".renovaterc",
    ".renovaterc.json",
    ".renovaterc.json5",
    "package.json",
];

/// Presets extended more deeply than this are not followed (Renovate itself stops cycles).
const MAX_PRESET_DEPTH: usize = 5;

/// A Renovate duration (`"7 days"`, `"3d"`, `"0"`), in seconds.
fn renovate_age(n: &json5::Node) -> Option<i64> {
    let s = n.as_str()?.trim();
    if s == "0" {
        return Some(0);
    }
    parse_duration(s)
}

/// A repository preset: its GitHub repository (`owner/repo`, when it can be fetched) and the
/// candidate files (`github>owner/repo//path/name` → `path/name.json` or `.json5`; `owner/repo`
/// alone → `default.json`; `owner/repo:name` → `name.json`).
fn preset_source(preset: &str) -> Option<(Option<String>, Vec<String>)> {
    let (kind, rest) = [
        "github>",
        "gitlab>",
        "gitea>",
        "local>",
        "forgejo>",
        "bitbucket>",
    ]
    .iter()
    .find_map(|p| preset.strip_prefix(p).map(|r| (*p, r)))?;
    let rest = rest.split('#').next().unwrap_or(rest);
    let rest = rest.split('(').next().unwrap_or(rest);
    let (slug, file) = match rest.split_once("//") {
        Some((repo, path)) => (repo, path.to_owned()),
        None => match rest.split_once(':') {
            Some((repo, name)) => (repo, name.to_owned()),
            None => (rest, "default".to_owned()),
        },
    };
    if file.split('/').any(|c| c == ".." || c.is_empty()) {
        return None;
    }
    let files = if file.ends_with(".json") || file.ends_with(".json5") {
        vec![file]
    } else {
        vec![format!("{file}.json"), format!("{file}.json5")]
    };
    let valid_slug = slug.split('/').count() == 2
        && slug
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'));
    let fetchable = (kind == "github>" && valid_slug).then(|| slug.to_owned());
    Some((fetchable, files))
}

/// Fetches a file of a GitHub repository (`owner/repo`, `path`): how presets are read online.
pub type PresetFetcher<'a> = &'a (dyn Fn(&str, &str) -> Option<String> + Sync);

/// Built-in presets that set `minimumReleaseAge`.
fn builtin_preset(preset: &str) -> Option<(&'static [Area], i64)> {
    match preset {
        "config:best-practices" | "security:minimumReleaseAgeNpm" => {
            Some((&[Area::Npm], 3 * crate::time::DAY))
        }
        _ => None,
    }
}

fn renovate(
    repo: &RepoFiles,
    file: &Arc<SourceFile>,
    config: &json5::Node,
    state: &mut State,
    depth: usize,
) {
    let fetch = state.fetch;
    if depth == 0 {
        state.renovate.get_or_insert_with(|| Arc::clone(file));
    }
    let anchor_at = |n: &json5::Node, what: String| too_short_at(file, n.span, what);
    if let Some(age) = config.get("minimumReleaseAge")
        && let Some(seconds) = renovate_age(age)
    {
        let what = format!(
            "Renovate's `minimumReleaseAge` of {}",
            age.as_str().unwrap_or_default()
        );
        state.cooldown(&Area::ALL, "", seconds, anchor_at(age, what));
    }
    // Per-manager blocks: `"cargo": {"minimumReleaseAge": "7 days"}`.
    for (key, block) in config.entries() {
        let Some(area) = Area::of_renovate_manager(&key.name) else {
            continue;
        };
        if let Some(age) = block.get("minimumReleaseAge")
            && let Some(seconds) = renovate_age(age)
        {
            let what = format!(
                "Renovate's `{}.minimumReleaseAge` of {}",
                key.name,
                age.as_str().unwrap_or_default()
            );
            state.cooldown(&[area], "", seconds, anchor_at(age, what));
        }
    }
    for preset in config
        .get("extends")
        .map(json5::Node::items)
        .unwrap_or_default()
    {
        let Some(name) = preset.as_str() else {
            continue;
        };
        if let Some((areas, seconds)) = builtin_preset(name) {
            let what = format!(
                "the preset `{name}` (a {}-day `minimumReleaseAge`)",
                seconds / crate::time::DAY
            );
            state.cooldown(areas, "", seconds, anchor_at(preset, what));
            continue;
        }
        let Some((slug, paths)) = preset_source(name) else {
            continue;
        };
        if depth >= MAX_PRESET_DEPTH || !state.presets_seen.insert(name.to_owned()) {
            continue;
        }
        // The preset is read from this repository when its file is here, else fetched from
        // GitHub when online; otherwise its cooldown is unknown.
        let local = paths
            .iter()
            .find(|p| {
                let files = state.files.unwrap_or(crate::memory::Files::Disk);
                files.is_file(repo, p)
            })
            .and_then(|rel| read(repo, rel, state));
        let fetched = || {
            let (slug, fetch) = (slug.as_deref()?, fetch?);
            paths.iter().find_map(|p| {
                let text = fetch(slug, p)?;
                Some(Arc::new(SourceFile::new(
                    name,
                    FileKind::Dependencies,
                    text,
                )))
            })
        };
        match local.or_else(fetched) {
            Some(pf) => {
                if let Some(cfg) = json_file(&pf, state) {
                    renovate(repo, &pf, &cfg, state, depth + 1);
                }
            }
            None => {
                for a in Area::ALL {
                    state.unknown.entry(a).or_insert_with(|| name.to_owned());
                }
            }
        }
    }
    for (i, rule) in config
        .get("packageRules")
        .map(json5::Node::items)
        .unwrap_or_default()
        .iter()
        .enumerate()
    {
        let Some(age) = rule.get("minimumReleaseAge") else {
            continue;
        };
        let Some(seconds) = renovate_age(age) else {
            continue;
        };
        let mut areas = Vec::new();
        let mut narrowing = false;
        let mut targeted = false;
        for (key, value) in rule.entries() {
            match key.name.as_str() {
                "matchManagers" | "matchDatasources" | "matchCategories" => {
                    targeted = true;
                    areas.extend(
                        value
                            .items()
                            .iter()
                            .filter_map(|m| m.as_str().and_then(Area::of_renovate_manager)),
                    );
                }
                // `["*"]` (or a match-everything regex) selects every package.
                "matchPackageNames" | "matchDepNames"
                    if value
                        .items()
                        .iter()
                        .all(|p| matches!(p.as_str(), Some("*" | "/.*/" | "/.+/"))) => {}
                k if k.starts_with("match") || k.starts_with("exclude") => narrowing = true,
                _ => {}
            }
        }
        if narrowing {
            continue;
        }
        let what = format!(
            "Renovate's `packageRules[{i}].minimumReleaseAge` of {}",
            age.as_str().unwrap_or_default()
        );
        let areas = if targeted { areas } else { Area::ALL.to_vec() };
        state.cooldown(&areas, "", seconds, anchor_at(age, what));
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

fn number_or_string(v: &toml::Value) -> Option<f64> {
    #[allow(clippy::cast_precision_loss)]
    v.as_integer()
        .map(|i| i as f64)
        .or_else(|| v.as_float())
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

fn inspect(repo: &RepoFiles, rel: &str, state: &mut State) {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let dir = dir_of(rel);
    let in_dot_cargo = rel == ".cargo/config.toml"
        || rel.ends_with("/.cargo/config.toml")
        || rel == ".cargo/config"
        || rel.ends_with("/.cargo/config");
    // Renovate reads its configuration from the root only (and `.github/`, `.gitlab/`).
    let renovate_file = RENOVATE_FILES.contains(&rel) && rel != "package.json";
    let relevant = matches!(
        name,
        "pyproject.toml"
            | "uv.toml"
            | "pnpm-workspace.yaml"
            | ".npmrc"
            | ".yarnrc.yml"
            | "bunfig.toml"
    ) || rel == "package.json"
        || renovate_file
        || in_dot_cargo
        || rel == ".github/dependabot.yml"
        || rel == ".github/dependabot.yaml";
    if !relevant {
        return;
    }
    let Some(file) = read(repo, rel, state) else {
        return;
    };
    // A package manager's setting governs its own directory and those below it.
    let anchor = |what: String, span: Span| too_short_at(&file, span, what);
    let whole = first_line_span(&file);
    match name {
        "dependabot.yml" | "dependabot.yaml" => dependabot(Arc::clone(&file), state),
        "package.json" => {
            if let Some(cfg) = json_file(&file, state).and_then(|n| n.get("renovate").cloned()) {
                renovate(repo, &file, &cfg, state, 0);
            }
        }
        _ if renovate_file => {
            if let Some(cfg) = json_file(&file, state) {
                renovate(repo, &file, &cfg, state, 0);
            }
        }
        "pyproject.toml" | "uv.toml" => {
            let Some(t) = toml_file(&file, state) else {
                return;
            };
            let path: &[&str] = if name == "uv.toml" {
                &["exclude-newer"]
            } else {
                &["tool", "uv", "exclude-newer"]
            };
            if let Some(value) = toml_path(&t, path).and_then(toml::Value::as_str) {
                // A fixed date is a freeze, not a cooldown: it covers.
                let seconds = if crate::time::parse_timestamp(value).is_some() {
                    Some(i64::MAX)
                } else {
                    parse_duration(value)
                };
                if let Some(seconds) = seconds {
                    let what = format!("uv's `exclude-newer` of {value}");
                    state.cooldown(&[Area::Python], dir, seconds, anchor(what, whole));
                }
            }
        }
        "bunfig.toml" => {
            if let Some(t) = toml_file(&file, state)
                && let Some(n) =
                    toml_path(&t, &["install", "minimumReleaseAge"]).and_then(number_or_string)
            {
                // Bun counts seconds.
                #[allow(clippy::cast_possible_truncation)]
                let seconds = n as i64;
                let what = format!("Bun's `install.minimumReleaseAge` of {n} seconds");
                state.cooldown(&[Area::Npm], dir, seconds, anchor(what, whole));
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
                .trim()
                .to_owned();
            // pnpm and Yarn count minutes when the value is a bare number.
            let seconds = value
                .parse::<f64>()
                .ok()
                .map(|m| (m * 60.0) as i64)
                .or_else(|| parse_duration(&value));
            if let Some(seconds) = seconds {
                let what = format!("`{key}: {value}`");
                state.cooldown(&[Area::Npm], dir, seconds, anchor(what, whole));
            }
        }
        ".npmrc" => {
            for line in file.text.lines() {
                let line = line.trim();
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                if matches!(k.trim(), "min-release-age" | "minimum-release-age")
                    && let Ok(days) = v.trim().parse::<f64>()
                {
                    // npm counts days.
                    #[allow(clippy::cast_possible_truncation)]
                    let seconds = (days * crate::time::DAY as f64) as i64;
                    let what = format!("`{}={}`", k.trim(), v.trim());
                    state.cooldown(&[Area::Npm], dir, seconds, anchor(what, whole));
                }
            }
        }
        _ if in_dot_cargo => {
            // `.cargo/config.toml` governs the directory above `.cargo`.
            let governed = dir_of(dir);
            if let Some(t) = toml_file(&file, state) {
                for key in ["global-min-publish-age", "min-publish-age"] {
                    if let Some(value) =
                        toml_path(&t, &["registry", key]).and_then(toml::Value::as_str)
                        && let Some(seconds) = parse_duration(value)
                    {
                        let what = format!("Cargo's `registry.{key}` of {value}");
                        state.cooldown(&[Area::Cargo], governed, seconds, anchor(what, whole));
                    }
                }
            }
        }
        _ => {}
    }
}

/// How strongly a file shows an ecosystem is used: lockfiles first, then manifests, then
/// workflows; the finding points at the strongest.
fn evidence_rank(rel: &str) -> u8 {
    if crate::lockfile::Format::detect_path(rel).is_some() {
        0
    } else if rel.starts_with(".github/workflows/") {
        2
    } else {
        1
    }
}

/// Checks the repository's cooldown configuration against the default policy; no network.
pub fn check(repo: &RepoFiles) -> (Vec<Finding>, Vec<Diagnostic>) {
    check_with(repo, &crate::DepsConfig::default())
}

/// Checks the repository's cooldown configuration against the policy of `config` (its
/// `cooldown-days`); no network.
pub fn check_with(repo: &RepoFiles, config: &crate::DepsConfig) -> (Vec<Finding>, Vec<Diagnostic>) {
    check_online(repo, config, None)
}

/// As [`check_with`], reading Renovate presets that are not in the repository through `fetch`.
pub fn check_online(
    repo: &RepoFiles,
    config: &crate::DepsConfig,
    fetch: Option<PresetFetcher<'_>>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    check_inner(repo, None, config, fetch)
}

/// As [`check_with`], reading the repository's files from `files`.
pub(crate) fn check_files(
    repo: &RepoFiles,
    files: crate::memory::Files<'_>,
    config: &crate::DepsConfig,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    check_inner(repo, Some(files), config, None)
}

fn check_inner<'f>(
    repo: &RepoFiles,
    files: Option<crate::memory::Files<'f>>,
    config: &crate::DepsConfig,
    fetch: Option<PresetFetcher<'f>>,
) -> (Vec<Finding>, Vec<Diagnostic>) {
    use crate::lockfile::Ecosystem;
    let mut state = State {
        fetch,
        files,
        ..State::default()
    };
    for (area, eco) in [
        (Area::Cargo, Some(Ecosystem::Cargo)),
        (Area::Python, Some(Ecosystem::PyPI)),
        (Area::Npm, Some(Ecosystem::Npm)),
        (Area::GithubActions, None),
    ] {
        let seconds = eco.map_or(config.cooldown_days * crate::time::DAY, |e| {
            config.cooldown(e)
        });
        state.minimum.insert(area, seconds);
    }
    let mut evidence: BTreeMap<Area, Vec<&str>> = BTreeMap::new();
    for rel in &repo.files {
        if let Some(area) = Area::of_file(rel) {
            evidence.entry(area).or_default().push(rel);
        }
        inspect(repo, rel, &mut state);
    }
    let mut findings = Vec::new();
    let meta = &MissingCooldownConfig::META;
    for (area, files) in evidence {
        // The strongest, shallowest evidence not governed by any cooldown setting.
        let Some(rel) = files
            .iter()
            .filter(|rel| !state.is_covered(area, rel))
            .min_by_key(|rel| (evidence_rank(rel), rel.matches('/').count(), **rel))
            .copied()
        else {
            continue;
        };
        if let Some(anchor) = state
            .short
            .remove(&area)
            .or_else(|| state.dependabot_gap.remove(&area))
        {
            findings.push(Finding::new(
                meta,
                anchor.message,
                Location::file(&anchor.file, anchor.span, anchor.route, anchor.label),
            ));
            continue;
        }
        if let Some(preset) = state.unknown.get(&area) {
            state.diagnostics.push(
                Diagnostic::file(
                    Level::Warning,
                    repo.display(rel),
                    format!("unknown: the cooldown for {area} dependencies may be set in the Renovate preset `{preset}`, which was not read"),
                )
                .help("run `ciguard deps` online with a GitHub token so the preset is fetched, or copy its `minimumReleaseAge` into the repository's Renovate configuration"),
            );
            continue;
        }
        // Actions are only evidenced by workflows: point at Dependabot, which could update them.
        if area == Area::GithubActions
            && let Some((file, span)) = &state.dependabot_updates
        {
            findings.push(Finding::new(
                meta,
                format!("no cooldown for {area} dependencies: Dependabot has no `{area}` entry with a `cooldown`, and nothing else configures one"),
                Location::file(file, *span, Route::root().key("updates"), format!("no `{area}` entry")),
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
