//! Where a release goes: registries, and the registry a publishing command, login host or image
//! names.

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

pub(super) fn pypi_or_other(url: Option<&str>) -> Registry {
    match url {
        Some(u) if !(u.contains("pypi.org") || u == "pypi" || u == "testpypi") => {
            Registry::OtherPackages
        }
        _ => Registry::PyPI,
    }
}

pub(super) fn npm_registry(args: &[String]) -> Option<Registry> {
    match flag_value(args, &["--registry"]) {
        Some(r) if is_local(r) => None,
        Some(r) if !r.contains("registry.npmjs.org") => Some(Registry::OtherPackages),
        _ => Some(Registry::Npm),
    }
}

pub(super) fn container_command(args: &[String]) -> Option<Registry> {
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

/// The tool a command word runs: `/usr/bin/nuget.exe` is `nuget`, `twine==6.1.0` (as `pipx run`
/// takes it) is `twine`.
pub(super) fn program_name(word: &str) -> &str {
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

pub(super) fn has(words: &[String], word: &str) -> bool {
    words.iter().any(|w| w == word)
}

pub(super) fn is_local(url: &str) -> bool {
    url.contains("localhost") || url.contains("127.0.0.1") || url.contains("0.0.0.0")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::models::release::commands::tool_words;
    use crate::shell::{Dialect, Script};

    /// The words the release chain reads from a one-command script.
    fn words(s: &str) -> Vec<String> {
        let script = Script::parse(s, Dialect::Posix);
        script
            .commands
            .first()
            .and_then(tool_words)
            .unwrap_or_default()
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
        // Wrappers and runners from `shell`'s one list, nested.
        for line in [
            "nohup npx twine upload dist/*",
            "sudo env A=b poetry run twine upload d",
            "python3.12 -m twine upload d",
            "uv run twine upload d",
            "pipx run twine==6.1.0 upload d",
        ] {
            assert_eq!(
                command_registry(&words(line)).map(|r| r.0),
                Some(Registry::PyPI),
                "{line}"
            );
        }
        assert_eq!(words("cd dir"), Vec::<String>::new());
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
