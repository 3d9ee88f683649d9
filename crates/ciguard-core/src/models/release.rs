//! The release chain: whether a workflow releases, which steps publish and to what registry,
//! which credentials they carry, and which action versions a step pins.
//!
//! Shared by `cache-poisoning`, `use-trusted-publishing`, `trusted-publishing`,
//! `release-isolation` and `missing-attestations`.

use crate::models::secrets::has_long_lived_secret;
use crate::models::version::{Version, VersionComment};
use crate::models::{Job, Step, Workflow};
use crate::route::Route;
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

/// Where a step publishes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registry {
    PyPI,
    CratesIo,
    Npm,
    RubyGems,
    NuGet,
    DockerHub,
    Ghcr,
    /// Another container registry (ECR, GCR, Quay, a variable host, ...).
    Container,
    GitHubRelease,
    /// Maven, GitHub Packages, extension marketplaces, custom indexes, ...
    OtherPackages,
    /// A cloud deployment (ECS, Cloud Run, Workers, ...).
    Deployment,
}

impl Registry {
    pub fn name(self) -> &'static str {
        match self {
            Registry::PyPI => "PyPI",
            Registry::CratesIo => "crates.io",
            Registry::Npm => "npm",
            Registry::RubyGems => "RubyGems",
            Registry::NuGet => "NuGet",
            Registry::DockerHub => "Docker Hub",
            Registry::Ghcr => "GHCR",
            Registry::Container => "a container registry",
            Registry::GitHubRelease => "a GitHub release",
            Registry::OtherPackages => "a package registry",
            Registry::Deployment => "a deployment target",
        }
    }

    /// Registries that accept short-lived OIDC credentials from GitHub Actions (GHCR: the
    /// job's own `GITHUB_TOKEN`).
    pub fn supports_trusted_publishing(self) -> bool {
        matches!(
            self,
            Registry::PyPI
                | Registry::CratesIo
                | Registry::Npm
                | Registry::RubyGems
                | Registry::NuGet
                | Registry::DockerHub
                | Registry::Ghcr
        )
    }
}

/// One publishing step (or one publishing command of a `run:` step).
#[derive(Debug, Clone)]
pub struct Publication {
    pub registry: Registry,
    /// The `uses:` value or the command line that publishes.
    pub span: Span,
    pub route: Route,
    /// What publishes, for messages: `` `cargo publish` `` or `` `pypa/gh-action-pypi-publish` ``.
    pub via: String,
    /// Whether it ships artifacts (packages, images, release assets) worth attesting.
    pub artifacts: bool,
    /// Whether the publication signs its own provenance (PEP 740, `npm publish --provenance`).
    pub self_attesting: bool,
    /// For `run:` publications: the command line, for credential flags.
    pub command: Option<std::sync::Arc<str>>,
}

/// The triggers that usually start releases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseTrigger {
    ReleaseEvent,
    TagPush,
    ReleaseBranchPush,
    /// `workflow_dispatch` in a workflow named or with inputs named like a release.
    Dispatch,
}

/// The release triggers of a workflow with the node that names them. `Dispatch` is reported only
/// when `wide` is set (zizmor's scope leaves it out).
pub fn release_triggers<'a>(wf: &Workflow<'a>, wide: bool) -> Vec<(ReleaseTrigger, Node<'a>)> {
    let mut out = Vec::new();
    for t in &wf.triggers {
        match t.event {
            "release" => out.push((ReleaseTrigger::ReleaseEvent, t.name_node)),
            "push" => {
                let Some(cfg) = t.config else { continue };
                if cfg.get("tags").is_some() || cfg.get("tags-ignore").is_some() {
                    out.push((ReleaseTrigger::TagPush, t.name_node));
                }
                let release_branch = cfg
                    .get("branches")
                    .map(|b| {
                        b.as_str()
                            .is_some_and(|s| s.to_ascii_lowercase().contains("release"))
                            || b.items().any(|i| {
                                i.as_str()
                                    .is_some_and(|s| s.to_ascii_lowercase().contains("release"))
                            })
                    })
                    .unwrap_or(false);
                if release_branch {
                    out.push((ReleaseTrigger::ReleaseBranchPush, t.name_node));
                }
            }
            "workflow_dispatch" if wide => {
                let named = |s: &str| {
                    let s = s.to_ascii_lowercase();
                    s.contains("release") || s.contains("publish") || s.contains("deploy")
                };
                let wf_named = wf.get("name").and_then(|n| n.as_str()).is_some_and(named)
                    || wf.file.path.rsplit('/').next().is_some_and(named);
                let inputs_named = t
                    .config
                    .and_then(|c| c.get("inputs"))
                    .is_some_and(|i| i.entries().any(|(k, _)| k.as_str().is_some_and(named)));
                if wf_named || inputs_named {
                    out.push((ReleaseTrigger::Dispatch, t.name_node));
                }
            }
            _ => {}
        }
    }
    out
}

/// A release workflow: started by a release trigger, or with a job that publishes.
pub fn is_release_workflow(wf: &Workflow<'_>) -> bool {
    !release_triggers(wf, true).is_empty()
        || wf
            .jobs
            .iter()
            .any(|j| !job_publications(wf.file, j).is_empty())
}

/// Every publication of a job.
pub fn job_publications(file: &SourceFile, job: &Job<'_>) -> Vec<Publication> {
    job.steps()
        .iter()
        .flat_map(|s| cached_step_publications(file, s).iter().cloned())
        .collect()
}

/// [`step_publications`], worked out once per step (`file` must be the step's file).
fn cached_step_publications<'s>(file: &SourceFile, step: &'s Step<'_>) -> &'s [Publication] {
    step.publications
        .get_or_init(|| find_step_publications(file, step))
}

/// The major and minor version a step's action is pinned to: from the ref (`v4`, `v4.2.1`), or
/// from the version comment after a SHA pin (`# v4.2.1`, `# ratchet:owner/repo@v4`). `None` when
/// unknown.
pub fn action_version(file: &SourceFile, step: &Step<'_>) -> Option<(u64, u64)> {
    let uses = step.uses?;
    let git_ref = uses.as_str()?.rsplit_once('@').map(|(_, r)| r)?;
    let version = Version::parse(git_ref).or_else(|| {
        let comment = file.trailing_comment(uses.span())?;
        VersionComment::parse(comment)?.version
    })?;
    Some((version.major(), version.minor()))
}

/// One command of a `run:` script: its words and where its line is in the file.
#[derive(Debug, Clone)]
pub struct Command {
    pub words: Vec<String>,
    /// The logical line the command is on, shared by its segments: a line of thousands of
    /// `|`-separated segments must not be copied once per segment.
    pub line: std::sync::Arc<str>,
    pub span: Span,
}

/// The commands of a `run:` step, split on `&&`, `||`, `;`, `|` and parentheses, with leading
/// `VAR=value` assignments and wrappers (`sudo`, `npx`, `python -m`, `poetry run`, ...) removed.
/// Split once per step and shared (`file` must be the step's file).
pub fn run_commands<'s>(file: &SourceFile, step: &'s Step<'_>) -> &'s [Command] {
    step.commands.get_or_init(|| split_commands(file, step))
}

fn split_commands(file: &SourceFile, step: &Step<'_>) -> Vec<Command> {
    let (Some(run), Some(script)) = (step.run, step.run_str()) else {
        return Vec::new();
    };
    let node_span = run.span();
    let raw = file.slice(node_span);
    let mut cursor = 0;
    let mut out = Vec::new();
    let mut logical = String::new();
    let mut first_line: Option<&str> = None;
    for line in script.lines() {
        let trimmed = line.trim();
        if first_line.is_none() {
            first_line = Some(trimmed);
        }
        // `\` continues a POSIX line, a trailing `` ` `` a PowerShell one.
        if let Some(cont) = trimmed
            .strip_suffix('\\')
            .or_else(|| trimmed.strip_suffix(" `"))
        {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(trimmed);
        let anchor = first_line.take().unwrap_or(trimmed);
        let span = match (!anchor.is_empty())
            .then(|| raw[cursor..].find(anchor))
            .flatten()
        {
            Some(i) => {
                let start = node_span.start + cursor + i;
                cursor += i + anchor.len();
                Span::new(start, start + anchor.len())
            }
            None => node_span,
        };
        let text = std::mem::take(&mut logical);
        if text.trim_start().starts_with('#') {
            continue;
        }
        let line: std::sync::Arc<str> = text.as_str().into();
        for segment in split_segments(&text) {
            let words = strip_wrappers(shell_words(segment));
            if !words.is_empty() {
                out.push(Command {
                    words,
                    line: line.clone(),
                    span,
                });
            }
        }
    }
    out
}

fn split_segments(line: &str) -> Vec<&str> {
    line.split(['|', ';', '&', '(', ')', '`'])
        .filter(|s| !s.trim().is_empty())
        .collect()
}

fn shell_words(segment: &str) -> Vec<String> {
    segment
        .split_whitespace()
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'').to_owned())
        .filter(|w| !w.is_empty())
        .collect()
}

fn strip_wrappers(mut words: Vec<String>) -> Vec<String> {
    loop {
        let Some(first) = words.first().map(String::as_str) else {
            return words;
        };
        let skip = if is_assignment(first)
            || matches!(
                first,
                "sudo" | "exec" | "time" | "env" | "npx" | "bunx" | "uvx" | "command"
            ) {
            1
        } else if (is_python(first) && words.get(1).is_some_and(|w| w == "-m"))
            || (first == "bundle" && words.get(1).is_some_and(|w| w == "exec"))
            || (matches!(first, "poetry" | "uv" | "pipx" | "hatch" | "pdm")
                && words.get(1).is_some_and(|w| w == "run"))
            || (matches!(first, "pnpm" | "yarn" | "npm" | "bun")
                && words
                    .get(1)
                    .is_some_and(|w| matches!(w.as_str(), "exec" | "dlx" | "x")))
        {
            2
        } else if first == "cd" {
            return Vec::new();
        } else {
            return words;
        };
        words.drain(..skip.min(words.len()));
    }
}

/// A leading `NAME=value` environment assignment (not `twine==6.1.0`, not a `--flag=value`).
fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, value)| {
        !name.is_empty()
            && !value.starts_with('=')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
    })
}

/// `python`, `python3`, `python3.12`, `py`: the interpreters `-m` runs a module with.
fn is_python(word: &str) -> bool {
    word == "py"
        || word
            .strip_prefix("python")
            .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'))
}

/// The tool a command word runs: `/usr/bin/nuget.exe` is `nuget`, `twine==6.1.0` (as `pipx run`
/// takes it) is `twine`.
fn program_name(word: &str) -> &str {
    let base = word.rsplit(['/', '\\']).next().unwrap_or(word);
    let base = base.split("==").next().unwrap_or(base);
    base.strip_suffix(".exe").unwrap_or(base)
}

/// The value of a `--flag value` or `--flag=value` option.
pub fn flag_value<'w>(words: &'w [String], names: &[&str]) -> Option<&'w str> {
    for (i, w) in words.iter().enumerate() {
        for name in names {
            if w == name {
                return words.get(i + 1).map(String::as_str);
            }
            if let Some(v) = w.strip_prefix(name).and_then(|r| r.strip_prefix('=')) {
                return Some(v);
            }
        }
    }
    None
}

fn has(words: &[String], word: &str) -> bool {
    words.iter().any(|w| w == word)
}

fn is_local(url: &str) -> bool {
    url.contains("localhost") || url.contains("127.0.0.1") || url.contains("0.0.0.0")
}

/// Words one of which every publishing command contains (`cargo publish`, `twine upload`,
/// `docker push`, `gh release`, `goreleaser`, `mvn deploy`, `type=registry`, ...): a script
/// without any of them has no command [`command_registry`] recognises.
pub const PUBLISH_WORDS: &[&str] = &[
    "publish",
    "upload",
    "push",
    "deploy",
    "release",
    "type=registry",
];

/// Whether a step's `run:` script contains any of `words`: a cheap test before splitting it.
pub fn run_mentions(step: &Step<'_>, words: &[&str]) -> bool {
    step.run_str()
        .is_some_and(|s| words.iter().any(|w| s.contains(w)))
}

/// The registry of a publishing command, `None` when the command does not publish (or publishes
/// only to a local test registry).
pub fn command_registry(words: &[String]) -> Option<(Registry, bool)> {
    let cmd = program_name(words.first()?);
    let args = &words[1..];
    let dry = has(args, "--dry-run") || has(args, "-n");
    let reg = match cmd {
        "cargo" if has(args, "publish") && !dry => {
            match flag_value(args, &["--registry", "--index"]) {
                Some(_) => Registry::OtherPackages,
                None => Registry::CratesIo,
            }
        }
        "twine" if has(args, "upload") => pypi_or_other(flag_value(args, &["--repository-url"])),
        "uv" if has(args, "publish") && !has(args, "--dry-run") => {
            pypi_or_other(flag_value(args, &["--publish-url"]))
        }
        "hatch" | "pdm" | "flit" if has(args, "publish") => {
            pypi_or_other(flag_value(args, &["--repo", "-r", "--repository"]))
        }
        "poetry" if has(args, "publish") && !has(args, "--dry-run") => {
            match flag_value(args, &["-r", "--repository"]) {
                Some(r) if r != "pypi" && r != "testpypi" => Registry::OtherPackages,
                _ => Registry::PyPI,
            }
        }
        "gem" if has(args, "push") => match flag_value(args, &["--host"]) {
            Some(h) if !h.contains("rubygems.org") => Registry::OtherPackages,
            _ => Registry::RubyGems,
        },
        "npm" | "pnpm" | "lerna" | "bun" if has(args, "publish") && !has(args, "--dry-run") => {
            npm_registry(args)?
        }
        "yarn"
            if (args.first().is_some_and(|a| a == "publish")
                || (has(args, "npm") && has(args, "publish")))
                && !dry =>
        {
            npm_registry(args)?
        }
        "dotnet" | "nuget" if has(args, "push") => {
            match flag_value(args, &["--source", "-s", "-Source"]) {
                Some(s) if !s.contains("nuget.org") => Registry::OtherPackages,
                _ => Registry::NuGet,
            }
        }
        "docker" | "podman" | "buildah" => container_command(args)?,
        "gh" if args.first().is_some_and(|a| a == "release")
            && args.get(1).is_some_and(|a| a == "create" || a == "upload") =>
        {
            Registry::GitHubRelease
        }
        "goreleaser"
            if !has(args, "--snapshot")
                && !args.first().is_some_and(|a| {
                    matches!(a.as_str(), "build" | "check" | "healthcheck" | "init")
                }) =>
        {
            Registry::GitHubRelease
        }
        "mvn" | "mvnw" | "./mvnw" if has(args, "deploy") => Registry::OtherPackages,
        "gradle" | "gradlew"
            if args
                .iter()
                .any(|a| a.starts_with("publish") && !a.ends_with("MavenLocal")) =>
        {
            Registry::OtherPackages
        }
        "vsce" | "ovsx" if has(args, "publish") => Registry::OtherPackages,
        _ => return None,
    };
    let self_attesting = matches!(reg, Registry::Npm) && has(args, "--provenance");
    Some((reg, self_attesting))
}

fn pypi_or_other(url: Option<&str>) -> Registry {
    match url {
        Some(u) if !(u.contains("pypi.org") || u == "pypi" || u == "testpypi") => {
            Registry::OtherPackages
        }
        _ => Registry::PyPI,
    }
}

fn npm_registry(args: &[String]) -> Option<Registry> {
    match flag_value(args, &["--registry"]) {
        Some(r) if is_local(r) => None,
        Some(r) if !r.contains("registry.npmjs.org") => Some(Registry::OtherPackages),
        _ => Some(Registry::Npm),
    }
}

fn container_command(args: &[String]) -> Option<Registry> {
    let image: Option<&str> = match args.first().map(String::as_str) {
        Some("push") => args.get(1).map(String::as_str),
        Some("image" | "manifest") if args.get(1).is_some_and(|a| a == "push") => {
            args.get(2).map(String::as_str)
        }
        Some("buildx")
            if has(args, "--push")
                || args
                    .iter()
                    .any(|a| a.contains("type=registry") || a.contains("push=true")) =>
        {
            flag_value(args, &["-t", "--tag"])
        }
        _ => return None,
    };
    let image = image.unwrap_or("");
    if is_local(image) {
        return None;
    }
    Some(image_registry(image))
}

/// The registry a login host names (`ghcr.io`, `docker.io`, ...); Docker Hub when empty.
pub fn host_registry(host: &str) -> Registry {
    let host = host
        .trim()
        .trim_start_matches("https://")
        .trim_end_matches('/');
    match host {
        "" | "docker.io" | "index.docker.io" | "registry-1.docker.io" => Registry::DockerHub,
        h if h.starts_with("ghcr.io") => Registry::Ghcr,
        _ => Registry::Container,
    }
}

/// The registry an image reference points at.
pub fn image_registry(image: &str) -> Registry {
    let image = image.trim();
    let first = image.split('/').next().unwrap_or("");
    if image.contains("${{") || image.starts_with('$') || image.is_empty() {
        if image.contains("ghcr.io") {
            return Registry::Ghcr;
        }
        return Registry::Container;
    }
    if !image.contains('/') || !(first.contains('.') || first.contains(':') || first == "localhost")
    {
        return Registry::DockerHub;
    }
    match first {
        "ghcr.io" => Registry::Ghcr,
        "docker.io" | "index.docker.io" | "registry-1.docker.io" => Registry::DockerHub,
        _ => Registry::Container,
    }
}

/// The publications of one step (workflow or composite action), worked out once per step and
/// shared (`file` must be the step's file).
pub fn step_publications(file: &SourceFile, step: &Step<'_>) -> Vec<Publication> {
    cached_step_publications(file, step).to_vec()
}

fn find_step_publications(file: &SourceFile, step: &Step<'_>) -> Vec<Publication> {
    if let Some(name) = step.action_name() {
        let Some(uses) = step.uses else {
            return Vec::new();
        };
        let pub_of = |registry, artifacts, self_attesting| {
            vec![Publication {
                registry,
                span: uses.span(),
                route: step.route.key("uses"),
                via: format!("`{name}`"),
                artifacts,
                self_attesting,
                command: None,
            }]
        };
        let input = |k: &str| step.input(k);
        let on = |k: &str| input(k).is_some_and(|v| v != "false");
        return match name.as_str() {
            "pypa/gh-action-pypi-publish" => {
                let registry =
                    pypi_or_other(input("repository-url").or_else(|| input("repository_url")));
                let attests = input("password").is_none()
                    && input("attestations").is_none_or(|v| v != "false")
                    && action_version(file, step)
                        .is_none_or(|(ma, mi)| ma > 1 || (ma == 1 && mi >= 11));
                pub_of(registry, true, attests)
            }
            "pyo3/maturin-action" if matches!(input("command"), Some("upload" | "publish")) => {
                pub_of(Registry::PyPI, true, false)
            }
            "rubygems/release-gem" => pub_of(Registry::RubyGems, true, false),
            "js-devtools/npm-publish" => pub_of(
                Registry::Npm,
                true,
                input("provenance").is_some_and(|v| v == "true"),
            ),
            "changesets/action" if input("publish").is_some() => pub_of(Registry::Npm, true, false),
            "katyo/publish-crates" => pub_of(Registry::CratesIo, true, false),
            "docker/build-push-action" | "docker/bake-action" if on("push") => {
                let tags = input("tags").or_else(|| input("targets")).unwrap_or("");
                pub_of(
                    tags.lines()
                        .map(image_registry)
                        .next()
                        .unwrap_or(Registry::Container),
                    true,
                    false,
                )
            }
            "redhat-actions/push-to-registry" => {
                pub_of(image_registry(input("registry").unwrap_or("")), true, false)
            }
            "goreleaser/goreleaser-action" => {
                let args = input("args").unwrap_or("release");
                if args.contains("--snapshot")
                    || args.trim_start().starts_with("build")
                    || args.trim_start().starts_with("check")
                {
                    Vec::new()
                } else {
                    pub_of(Registry::GitHubRelease, true, false)
                }
            }
            "softprops/action-gh-release" => {
                pub_of(Registry::GitHubRelease, input("files").is_some(), false)
            }
            "ncipollo/release-action" => {
                pub_of(Registry::GitHubRelease, input("artifacts").is_some(), false)
            }
            "svenstaro/upload-release-action"
            | "actions/upload-release-asset"
            | "shogo82148/actions-upload-release-asset"
            | "xresloader/upload-to-github-release"
            | "jreleaser/release-action" => pub_of(Registry::GitHubRelease, true, false),
            "release-drafter/release-drafter"
            | "googleapis/release-please-action"
            | "google-github-actions/release-please-action" => {
                pub_of(Registry::GitHubRelease, false, false)
            }
            n if DEPLOY_ACTIONS.contains(&n) => pub_of(Registry::Deployment, false, false),
            _ => Vec::new(),
        };
    }
    if !run_mentions(step, PUBLISH_WORDS) {
        return Vec::new();
    }
    let provenance_env = step
        .env
        .and_then(|e| e.get_str("NPM_CONFIG_PROVENANCE"))
        .is_some_and(|v| v == "true");
    run_commands(file, step)
        .iter()
        .filter_map(|c| {
            let (registry, self_attesting) = command_registry(&c.words)?;
            Some(Publication {
                registry,
                span: c.span,
                route: step.route.key("run"),
                via: format!(
                    "`{}`",
                    c.words
                        .iter()
                        .take(3)
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(" ")
                ),
                artifacts: !is_bare_release_create(&c.words),
                self_attesting: self_attesting || (registry == Registry::Npm && provenance_env),
                command: Some(c.line.clone()),
            })
        })
        .collect()
}

/// `gh release create TAG` with no files: a release without assets.
fn is_bare_release_create(words: &[String]) -> bool {
    if words.first().is_none_or(|w| w != "gh") || words.get(2).is_none_or(|w| w != "create") {
        return false;
    }
    let with_value = [
        "-t",
        "--title",
        "-n",
        "--notes",
        "-F",
        "--notes-file",
        "--target",
        "-R",
        "--repo",
        "--discussion-category",
        "--notes-start-tag",
    ];
    let mut positional = 0;
    let mut skip = false;
    for w in &words[3..] {
        if skip {
            skip = false;
        } else if with_value.contains(&w.as_str()) {
            skip = true;
        } else if !w.starts_with('-') {
            positional += 1;
        }
    }
    positional < 2
}

const DEPLOY_ACTIONS: &[&str] = &[
    "aws-actions/amazon-ecs-deploy-task-definition",
    "aws-actions/aws-cloudformation-github-deploy",
    "azure/aci-deploy",
    "azure/container-apps-deploy-action",
    "azure/functions-action",
    "azure/sql-action",
    "cloudflare/wrangler-action",
    "google-github-actions/deploy-appengine",
    "google-github-actions/deploy-cloudrun",
    "google-github-actions/deploy-cloud-functions",
];

/// zizmor's `use-trusted-publishing` action matches: a publishing action configured with a manual
/// credential for a registry that supports trusted publishing. Returns the `uses:` node and the
/// input that carries (or turns on) the credential.
pub fn trusted_publishing_action<'a>(step: &Step<'a>) -> Option<(Node<'a>, Node<'a>)> {
    let uses = step.uses?;
    let name = step.action_name()?;
    let with = step.with?;
    let entry = |k: &str| with.entry(k);
    let input = match name.as_str() {
        "pypa/gh-action-pypi-publish" => {
            let url = step
                .input("repository-url")
                .or_else(|| step.input("repository_url"));
            let pypi = url.is_none_or(|u| {
                matches!(
                    u,
                    "https://upload.pypi.org/legacy/" | "https://test.pypi.org/legacy/"
                )
            });
            entry("password").filter(|_| pypi)?
        }
        "rubygems/release-gem" => {
            entry("setup-trusted-publisher").filter(|(_, v)| v.as_str() == Some("false"))?
        }
        "rubygems/configure-rubygems-credentials" => {
            let rubygems = step
                .input("gem-server")
                .is_none_or(|s| s == "https://rubygems.org");
            entry("api-token").filter(|_| rubygems)?
        }
        "actions/setup-node" => {
            let npmjs = step.input("registry-url").is_some_and(|u| {
                matches!(
                    u,
                    "https://registry.npmjs.org" | "https://registry.npmjs.org/"
                )
            });
            entry("always-auth").filter(|(_, v)| npmjs && v.as_str() == Some("true"))?
        }
        _ => return None,
    };
    Some((uses, input.0))
}

/// Whether the job's token can mint OIDC tokens (`id-token: write`, on the job or inherited).
pub fn job_has_id_token(wf: &Workflow<'_>, job: &Job<'_>) -> bool {
    let grants =
        |p: Node<'_>| p.as_str() == Some("write-all") || p.get_str("id-token") == Some("write");
    match job.permissions() {
        Some(p) => grants(p),
        None => wf.permissions().is_some_and(grants),
    }
}

/// Environment variables that carry registry credentials.
pub const CREDENTIAL_ENV: &[(&str, Registry)] = &[
    ("TWINE_PASSWORD", Registry::PyPI),
    ("UV_PUBLISH_TOKEN", Registry::PyPI),
    ("UV_PUBLISH_PASSWORD", Registry::PyPI),
    ("POETRY_PYPI_TOKEN_PYPI", Registry::PyPI),
    ("HATCH_INDEX_AUTH", Registry::PyPI),
    ("PDM_PUBLISH_PASSWORD", Registry::PyPI),
    ("FLIT_PASSWORD", Registry::PyPI),
    ("MATURIN_PYPI_TOKEN", Registry::PyPI),
    ("MATURIN_PASSWORD", Registry::PyPI),
    ("PYPI_TOKEN", Registry::PyPI),
    ("PYPI_API_TOKEN", Registry::PyPI),
    ("CARGO_REGISTRY_TOKEN", Registry::CratesIo),
    ("CARGO_REGISTRIES_CRATES_IO_TOKEN", Registry::CratesIo),
    ("NODE_AUTH_TOKEN", Registry::Npm),
    ("NPM_TOKEN", Registry::Npm),
    ("NPM_AUTH_TOKEN", Registry::Npm),
    ("GEM_HOST_API_KEY", Registry::RubyGems),
    ("RUBYGEMS_API_KEY", Registry::RubyGems),
    ("NUGET_API_KEY", Registry::NuGet),
    ("NUGET_AUTH_TOKEN", Registry::NuGet),
    ("DOCKER_PASSWORD", Registry::DockerHub),
    ("DOCKERHUB_TOKEN", Registry::DockerHub),
    ("DOCKERHUB_PASSWORD", Registry::DockerHub),
];

/// Credential inputs of publishing and login actions: (action, input, default registry).
pub const CREDENTIAL_INPUTS: &[(&str, &str, Registry)] = &[
    ("pypa/gh-action-pypi-publish", "password", Registry::PyPI),
    (
        "rubygems/configure-rubygems-credentials",
        "api-token",
        Registry::RubyGems,
    ),
    ("js-devtools/npm-publish", "token", Registry::Npm),
    ("katyo/publish-crates", "registry-token", Registry::CratesIo),
    ("docker/login-action", "password", Registry::DockerHub),
    (
        "redhat-actions/podman-login",
        "password",
        Registry::Container,
    ),
    (
        "redhat-actions/push-to-registry",
        "password",
        Registry::Container,
    ),
];

/// A long-lived registry credential passed to a step: where, and for which registry.
#[derive(Debug, Clone)]
pub struct Credential {
    pub registry: Registry,
    pub span: Span,
    pub route: Route,
    /// `TWINE_PASSWORD`, `password`, `--token`, ...
    pub what: String,
}

/// The long-lived registry credentials a step receives: credential inputs of publishing or login
/// actions, credential environment variables (step, job or workflow level) set from secrets, and
/// `--token`/`-p`/`--api-key` flags (or `docker login --password-stdin` fed a secret) in `run:`.
pub fn step_credentials(
    file: &SourceFile,
    step: &Step<'_>,
    inherited_env: &[(Node<'_>, Route)],
) -> Vec<Credential> {
    let mut out = Vec::new();
    if let Some(name) = step.action_name() {
        for (action, input, default) in CREDENTIAL_INPUTS {
            if name != *action {
                continue;
            }
            let Some((k, v)) = step.with.and_then(|w| w.entry(input)) else {
                continue;
            };
            let value = v.as_str().unwrap_or("");
            if !has_long_lived_secret(value) {
                continue;
            }
            let registry = match step.input("registry").map(host_registry) {
                Some(r) if *action == "docker/login-action" => r,
                _ => *default,
            };
            out.push(Credential {
                registry,
                span: k.span().cover(v.span()),
                route: step.route.key("with").key(input),
                what: format!("`{input}`"),
            });
        }
    }
    let mut envs: Vec<(Node<'_>, Route)> = inherited_env.to_vec();
    if let Some(env) = step.env {
        envs.push((env, step.route.key("env")));
    }
    for (env, route) in &envs {
        for (k, v) in env.entries() {
            let Some(key) = k.as_str() else { continue };
            let Some((_, registry)) = CREDENTIAL_ENV
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(key))
            else {
                continue;
            };
            if has_long_lived_secret(v.as_str().unwrap_or("")) {
                out.push(Credential {
                    registry: *registry,
                    span: k.span().cover(v.span()),
                    route: route.key(key),
                    what: format!("`{key}`"),
                });
            }
        }
    }
    for c in run_commands(file, step) {
        if !has_long_lived_secret(&c.line) {
            continue;
        }
        let registry = if let Some((r, _)) = command_registry(&c.words) {
            r
        } else if c
            .words
            .first()
            .is_some_and(|w| w == "docker" || w == "podman")
            && c.words.get(1).is_some_and(|w| w == "login")
        {
            host_registry(
                c.words
                    .iter()
                    .skip(2)
                    .find(|w| {
                        !w.starts_with('-')
                            && (w.contains('.') || w.contains(':'))
                            && !w.contains("${{")
                    })
                    .map_or("", String::as_str),
            )
        } else {
            continue;
        };
        let flags = [
            "--token",
            "-p",
            "--password",
            "--api-key",
            "-k",
            "--password-stdin",
            "-P",
        ];
        if let Some(flag) = c.words.iter().find(|w| {
            flags
                .iter()
                .any(|f| w == f || w.starts_with(&format!("{f}=")))
        }) {
            let what = format!("`{}`", flag.split('=').next().unwrap_or(flag));
            if out.iter().any(|o: &Credential| o.span == c.span) {
                continue;
            }
            out.push(Credential {
                registry,
                span: c.span,
                route: step.route.key("run"),
                what,
            });
        }
    }
    out
}

/// Workflow- and job-level `env:` blocks a job's steps inherit.
pub fn inherited_env<'a>(wf: &Workflow<'a>, job: &Job<'a>) -> Vec<(Node<'a>, Route)> {
    let mut v = Vec::new();
    if let Some(e) = wf.get("env").filter(|e| e.is_mapping()) {
        v.push((e, Route::root().key("env")));
    }
    if let Some(e) = job.get("env").filter(|e| e.is_mapping()) {
        v.push((e, job.route.key("env")));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<String> {
        strip_wrappers(shell_words(s))
    }

    #[test]
    fn recognises_publishing_commands() {
        assert_eq!(
            command_registry(&words("cargo publish --token x")).map(|r| r.0),
            Some(Registry::CratesIo)
        );
        assert_eq!(command_registry(&words("cargo publish --dry-run")), None);
        assert_eq!(
            command_registry(&words("python -m twine upload dist/*")).map(|r| r.0),
            Some(Registry::PyPI)
        );
        assert_eq!(
            command_registry(&words("npm publish --registry http://localhost:4873/")),
            None
        );
        assert_eq!(
            command_registry(&words("yarn dlx pkg-pr-new publish './packages/*'")),
            None
        );
        assert_eq!(
            command_registry(&words("yarn npm publish")).map(|r| r.0),
            Some(Registry::Npm)
        );
        assert_eq!(
            command_registry(&words("npm publish --provenance")),
            Some((Registry::Npm, true))
        );
        assert_eq!(
            command_registry(&words("docker push ghcr.io/o/r:1")).map(|r| r.0),
            Some(Registry::Ghcr)
        );
        assert_eq!(
            command_registry(&words("docker push o/r:1")).map(|r| r.0),
            Some(Registry::DockerHub)
        );
        assert_eq!(
            command_registry(&words("dotnet nuget push x.nupkg -k k")).map(|r| r.0),
            Some(Registry::NuGet)
        );
        assert_eq!(
            command_registry(&words("gh release upload v1 a.tgz --clobber")).map(|r| r.0),
            Some(Registry::GitHubRelease)
        );
    }
}
