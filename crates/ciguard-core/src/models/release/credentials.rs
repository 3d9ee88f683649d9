//! The long-lived registry credentials a step receives (inputs, environment, command flags).

use super::*;
use crate::models::secrets::has_long_lived_secret;
use crate::models::{Job, Step, Workflow};
use crate::route::Route;
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

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
        if !has_long_lived_secret(c.line) {
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
