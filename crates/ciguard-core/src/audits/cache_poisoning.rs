use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::expr::constant::{TagRun, is_false_in_tag_run};
use crate::finding::{Confidence, Finding, Location};
use crate::models::release::{ReleaseTrigger, action_version, job_publications, release_triggers};
use crate::models::{Step, Workflow};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports steps that restore a GitHub Actions cache in jobs that build releases: jobs of
    /// workflows started by a `release` event, a tag push or a push to a release branch, and
    /// jobs that publish (to PyPI, crates.io, npm, a container registry, a GitHub release, ...).
    ///
    /// Caches turned on implicitly count, with each action's defaults per major version:
    /// `actions/setup-go` from v4, `actions/setup-node` from v5 (automatic npm caching when
    /// `package.json` names a `packageManager`), `astral-sh/setup-uv` v5 to v9 (`enable-cache:
    /// auto`; from v10 `auto` is off only for `release`, `pull_request_target` and
    /// `workflow_run` events), `Swatinem/rust-cache`, `actions/cache`, `gradle/actions/setup-gradle`,
    /// `golangci/golangci-lint-action`, `aquasecurity/trivy-action`, Docker `type=gha` caches,
    /// and more. `cache: false`, `enable-cache: false`, `lookup-only: true`, `cache-disabled: true`
    /// and `ACTIONS_CACHE_MODE: none` (step, job or workflow `env:`) turn a cache off, and so does
    /// an input that is false in every run a tag starts (`sccache: ${{ !startsWith(github.ref,
    /// 'refs/tags/') }}`) when tags are the job's only release triggers. The finding points at
    /// the input that turns the cache on (`cache: npm`) when the step has one, else at `uses:`.
    ///
    /// Unlike zizmor 1.32, versions from before a default changed are not reported
    /// (`actions/setup-node@v4` without `cache:`, `actions/setup-go@v3`), and `goreleaser` runs
    /// with `--snapshot` do not make a job a publishing one. Versions are read from the ref or
    /// from the comment after a SHA pin; an unknown version is treated as the latest.
    ///
    /// ## Why is this bad?
    ///
    /// Every workflow run of a repository shares one cache scope per branch, and pull request
    /// runs can read the default branch's entries — a workflow that runs untrusted code can
    /// write an entry that a later release job restores. The poisoned dependencies or build
    /// outputs then ship inside the signed, published release.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on:
    ///   push:
    ///     tags: ["v*"]
    /// jobs:
    ///   release:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/setup-go@v5
    ///       - run: go build ./...
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on:
    ///   push:
    ///     tags: ["v*"]
    /// permissions: {}
    /// jobs:
    ///   release:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions/setup-go@d35c59abb061a4a6fb18e82ac0862c26744d6ab5 # v5.5.0
    ///         with:
    ///           cache: false
    ///       - run: go build ./...
    /// ```
    ///
    /// ## Fix
    ///
    /// None offered: turn the cache off with the action's own input (shown in the message), or
    /// build releases in a workflow that never restores caches.
    pub struct CachePoisoning {
        id: "cache-poisoning",
        summary: "runtime artifacts potentially vulnerable to a cache poisoning attack",
        severity: High,
        confidence: Low,
        persona: Regular,
        inputs: [Workflow],
        needs_network: false,
        fix: None,
    }
}

/// Whether a step restores a cache: `Some((how, confidence))`.
enum Cache {
    /// Enabled explicitly or by the version's default.
    On(&'static str),
    /// Possibly enabled (an expression, or a default that depends on files we cannot see).
    Maybe(&'static str),
}

impl Audit for CachePoisoning {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        let triggers = release_triggers(wf, false);
        let workflow_off = env_disables(wf.get("env"));
        for job in &wf.jobs {
            let publications = job_publications(wf.file, job);
            if (triggers.is_empty() && publications.is_empty())
                || workflow_off
                || env_disables(job.get("env"))
            {
                continue;
            }
            for step in job.steps() {
                if env_disables(step.env) {
                    continue;
                }
                let Some(cache) = cache_usage(wf, step) else {
                    continue;
                };
                let Some(uses) = step.uses else { continue };
                let name = step.action_name().unwrap_or_default();
                let input = enabling_input(&name).and_then(|k| step.with?.entry(k));
                if publications.is_empty()
                    && input.is_some_and(|(_, v)| off_in_release_runs(v, &triggers))
                {
                    continue;
                }
                let (how, confidence) = match cache {
                    Cache::On(how) => (
                        how,
                        if publications.is_empty() {
                            Confidence::Low
                        } else {
                            Confidence::Medium
                        },
                    ),
                    Cache::Maybe(how) => (how, Confidence::Low),
                };
                let context = match publications.first() {
                    Some(p) => format!(
                        "job `{}` publishes to {} with {}",
                        job.id,
                        p.registry.name(),
                        p.via
                    ),
                    None => format!("job `{}` runs on release triggers", job.id),
                };
                let at_uses = Location::file(
                    wf.file,
                    uses.span(),
                    step.route.key("uses"),
                    "restores a cache",
                );
                // Point at the input that turns the cache on, when the step writes one.
                let at = match input {
                    Some((k, v)) => Location::file(
                        wf.file,
                        k.span().cover(v.span()),
                        step.route.key("with").key(k.as_str().unwrap_or_default()),
                        "enables the cache",
                    ),
                    None => at_uses.clone(),
                };
                let mut f = Finding::new(
                    &Self::META,
                    format!("`{name}` {how} in a release job; {context}"),
                    at,
                )
                .confidence(confidence);
                if input.is_some() {
                    f = f.related(at_uses);
                }
                if let Some(p) = publications.first() {
                    f = f.related(Location::file(
                        wf.file,
                        p.span,
                        p.route.clone(),
                        "publishes here",
                    ));
                } else if let Some((_, node)) = triggers.first() {
                    f = f.related(Location::file(
                        wf.file,
                        node.span(),
                        crate::route::Route::root().key("on"),
                        "release trigger",
                    ));
                }
                out.push(f);
            }
        }
    }
}

/// The `with:` input that turns an action's cache on (or off, for opt-out inputs).
fn enabling_input(action: &str) -> Option<&'static str> {
    Some(match action {
        "actions/setup-go"
        | "actions/setup-node"
        | "actions/setup-python"
        | "actions/setup-java"
        | "graalvm/setup-graalvm"
        | "actions/setup-dotnet"
        | "actions-rust-lang/setup-rust-toolchain"
        | "jdx/mise-action"
        | "aquasecurity/trivy-action" => "cache",
        "astral-sh/setup-uv" => "enable-cache",
        "ruby/setup-ruby" => "bundler-cache",
        "pyo3/maturin-action" => "sccache",
        "mlugg/setup-zig" => "use-cache",
        "determinatesystems/magic-nix-cache-action" => "use-gha-cache",
        "docker/setup-buildx-action" => "cache-binary",
        "docker/build-push-action" => "cache-from",
        _ => return None,
    })
}

/// Whether every release trigger of the workflow is started by a tag (a tag push, a `release`
/// event) and the cache input is off in such runs (`${{ !startsWith(github.ref, 'refs/tags/') }}`).
fn off_in_release_runs(
    value: crate::yaml::Node<'_>,
    triggers: &[(ReleaseTrigger, crate::yaml::Node<'_>)],
) -> bool {
    let Some(text) = value.as_str() else {
        return false;
    };
    !triggers.is_empty()
        && triggers.iter().all(|(t, _)| {
            let event_name = match t {
                ReleaseTrigger::TagPush => "push",
                ReleaseTrigger::ReleaseEvent => "release",
                _ => return false,
            };
            is_false_in_tag_run(text, TagRun { event_name })
        })
}

fn env_disables(env: Option<crate::yaml::Node<'_>>) -> bool {
    env.and_then(|e| e.get_str("ACTIONS_CACHE_MODE"))
        .is_some_and(|v| v.eq_ignore_ascii_case("none"))
}

/// A `with:` input: `Some(Some(true|false))` for literals, `Some(None)` for expressions.
fn flag(step: &Step<'_>, key: &str) -> Option<Option<bool>> {
    let node = step.input_node(key)?;
    let v = node.as_str()?.trim();
    Some(match v.to_ascii_lowercase().as_str() {
        "true" | "${{ true }}" => Some(true),
        "false" | "${{ false }}" | "" => Some(false),
        _ if v.contains("${{") => None,
        _ => Some(true),
    })
}

/// Cache on unless `key` is literally false (`default_on`), or only when `key` is set truthy.
fn opt(step: &Step<'_>, key: &str, default_on: bool, how: &'static str) -> Option<Cache> {
    match flag(step, key) {
        None if default_on => Some(Cache::On("caches by default")),
        None => None,
        Some(Some(true)) => Some(Cache::On(how)),
        Some(Some(false)) => None,
        Some(None) => Some(Cache::Maybe("may cache (expression)")),
    }
}

/// Cache on unless the opt-out `key` is literally true.
fn opt_out(step: &Step<'_>, key: &str) -> Option<Cache> {
    match flag(step, key) {
        None | Some(Some(false)) => Some(Cache::On("caches by default")),
        Some(Some(true)) => None,
        Some(None) => Some(Cache::Maybe("may cache (expression)")),
    }
}

fn cache_usage(wf: &Workflow<'_>, step: &Step<'_>) -> Option<Cache> {
    let file: &SourceFile = wf.file;
    let name = step.action_name()?;
    let major = action_version(file, step).map(|(m, _)| m);
    // Unknown versions are treated as the latest.
    let at_least = |v: u64| major.is_none_or(|m| m >= v);
    if step
        .input("cache-mode")
        .is_some_and(|m| matches!(m, "none" | "off" | "disabled"))
    {
        return None;
    }
    match name.as_str() {
        "actions/cache" | "actions/cache/restore" => opt_out(step, "lookup-only"),
        "swatinem/rust-cache" => opt_out(step, "lookup-only"),
        "actions/setup-go" => opt(step, "cache", at_least(4), "caches with `cache: true`"),
        "actions/setup-node" => match step.input("cache") {
            Some(c) if matches!(c.trim(), "npm" | "yarn" | "pnpm") => {
                Some(Cache::On("caches with `cache:`"))
            }
            Some(c) if c.contains("${{") => Some(Cache::Maybe("may cache (expression)")),
            _ if at_least(5) => match flag(step, "package-manager-cache") {
                Some(Some(false)) => None,
                _ => Some(Cache::Maybe(
                    "caches npm by default when `package.json` names a `packageManager`",
                )),
            },
            _ => None,
        },
        "actions/setup-python" | "actions/setup-java" | "graalvm/setup-graalvm" => {
            match step.input("cache") {
                Some(c) if c.trim().is_empty() || c == "false" => None,
                Some(c) if c.contains("${{") => Some(Cache::Maybe("may cache (expression)")),
                Some(_) => Some(Cache::On("caches with `cache:`")),
                None => None,
            }
        }
        "actions/setup-dotnet" => opt(step, "cache", false, "caches with `cache: true`"),
        "astral-sh/setup-uv" => match step.input("enable-cache").map(str::trim) {
            Some("true") => Some(Cache::On("caches with `enable-cache: true`")),
            Some("false") => None,
            Some(v) if v.contains("${{") => Some(Cache::Maybe("may cache (expression)")),
            // `auto` (the default from v5): on GitHub-hosted runners; from v10, off for events
            // that are themselves sensitive.
            _ if !at_least(5) => None,
            _ if major.is_some_and(|m| m < 10) => {
                Some(Cache::On("caches by default (`enable-cache: auto`)"))
            }
            _ => {
                let sensitive = ["release", "pull_request_target", "workflow_run"];
                wf.triggers
                    .iter()
                    .any(|t| !sensitive.contains(&t.event))
                    .then_some(Cache::On("caches by default (`enable-cache: auto`) on this workflow's other triggers"))
            }
        },
        "ruby/setup-ruby" => opt(
            step,
            "bundler-cache",
            false,
            "caches with `bundler-cache: true`",
        ),
        "pyo3/maturin-action" => opt(step, "sccache", false, "caches with `sccache: true`"),
        "mlugg/setup-zig" => opt(step, "use-cache", true, "caches with `use-cache: true`"),
        "oven-sh/setup-bun" => opt_out(step, "no-cache"),
        "determinatesystems/magic-nix-cache-action" => opt(
            step,
            "use-gha-cache",
            true,
            "caches with `use-gha-cache: true`",
        ),
        "gradle/actions/setup-gradle" | "gradle/gradle-build-action" => {
            opt_out(step, "cache-disabled")
        }
        "docker/setup-buildx-action" if step.input("version").is_some() => {
            opt(step, "cache-binary", true, "caches the buildx binary")
        }
        "actions-rust-lang/setup-rust-toolchain" | "jdx/mise-action" => {
            opt(step, "cache", true, "caches with `cache: true`")
        }
        "golangci/golangci-lint-action" => opt_out(step, "skip-cache"),
        "aquasecurity/trivy-action" => opt(step, "cache", true, "caches with `cache: true`"),
        "ramsey/composer-install" => match step.input("ignore-cache") {
            Some("yes" | "true" | "1") => None,
            _ => Some(Cache::On("caches by default")),
        },
        "mozilla-actions/sccache-action"
        | "nix-community/cache-nix-action"
        | "awalsh128/cache-apt-pkgs-action" => Some(Cache::On("always caches")),
        "docker/build-push-action" | "docker/bake-action" => {
            let from =
                step.input("cache-from").unwrap_or("").to_owned() + step.input("set").unwrap_or("");
            (from.contains("type=gha") || from.contains("cache-from=type=gha"))
                .then_some(Cache::On("restores a `type=gha` build cache"))
        }
        _ => None,
    }
}
