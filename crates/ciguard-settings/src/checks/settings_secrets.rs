use ciguard_core::{AuditMeta, declare_audit};

use super::{Check, Cx, Outcome, finding, subject};
use crate::gather::Repo;

declare_audit! {
    /// ## What it does
    ///
    /// Looks for secrets whose names say they publish (registry tokens, signing keys and the like:
    /// `PYPI_TOKEN`, `NPM_TOKEN`, `CARGO_REGISTRY_TOKEN`, `DOCKERHUB_PASSWORD`, `GPG_PRIVATE_KEY`...)
    /// stored at repository or organization level instead of in the release environment.
    ///
    /// ## Why is this bad?
    ///
    /// A repository or organization secret is available to every workflow run on every branch; an
    /// environment secret only to jobs that deployed to the environment, after its reviewers approved.
    ///
    /// ## Example
    ///
    /// ```json
    /// { "total_count": 1, "secrets": [{ "name": "PYPI_API_TOKEN" }] }
    /// ```
    ///
    /// Use instead:
    ///
    /// ```json
    /// { "total_count": 0, "secrets": [] }
    /// ```
    ///
    /// ## Fix
    ///
    /// Move the secret to the release environment (or, better, use trusted publishing) and delete
    /// the repository or organization secret.
    pub struct SettingsSecrets {
        id: "settings-secrets",
        summary: "publishing secrets available to every workflow instead of the release environment",
        severity: High,
        confidence: Medium,
        persona: Regular,
        inputs: [],
        needs_network: true,
        fix: None,
    }
}

/// Whether a secret's name says it publishes or signs releases.
pub fn is_publishing(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    const REGISTRIES: &[&str] = &[
        "PYPI",
        "NPM",
        "CARGO",
        "CRATES",
        "RUBYGEMS",
        "GEM_HOST",
        "NUGET",
        "DOCKER",
        "GHCR",
        "QUAY",
        "MAVEN",
        "SONATYPE",
        "OSSRH",
        "GRADLE_PUBLISH",
        "VSCE",
        "OVSX",
        "HEX_API",
        "PUB_DEV",
        "COCOAPODS",
        "TWINE",
        "CHOCOLATEY",
        "SNAPCRAFT",
        "HOMEBREW",
        "JSR",
        "ANACONDA",
        "CODESIGN",
        "NOTARIZ",
    ];
    const ACTIONS: &[&str] = &[
        "PUBLISH", "RELEASE", "DEPLOY", "SIGNING", "GPG", "PGP", "COSIGN",
    ];
    let credential = [
        "TOKEN",
        "KEY",
        "PASSWORD",
        "PASS",
        "SECRET",
        "AUTH",
        "CREDENTIAL",
    ]
    .iter()
    .any(|c| n.contains(c));
    REGISTRIES.iter().any(|r| n.contains(r))
        || (credential && ACTIONS.iter().any(|a| n.contains(a)))
}

impl Check for SettingsSecrets {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn repo(&self, cx: &Cx<'_>, repo: &Repo, out: &mut Outcome) {
        for (level, list, url) in [
            (
                "repository",
                &repo.repo_secrets,
                cx.repo_url(repo, "secrets/actions"),
            ),
            (
                "organization",
                &repo.org_secrets,
                cx.org_url(&repo.owner, "secrets/actions"),
            ),
        ] {
            match list {
                Err(u) => out.unknown(u),
                Ok(names) => {
                    for name in names.iter().filter(|n| is_publishing(n)) {
                        out.findings.push(finding(
                            &Self::META,
                            format!("publishing secret {name} is a {level} secret, readable by every workflow; keep it in the release environment"),
                            subject(repo, &format!("{level} secret {name}")),
                            url.clone(),
                            "secret",
                        ));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_publishing;

    #[test]
    fn publishing_names() {
        for n in [
            "PYPI_API_TOKEN",
            "NPM_TOKEN",
            "CARGO_REGISTRY_TOKEN",
            "DOCKERHUB_PASSWORD",
            "GPG_PRIVATE_KEY",
            "RELEASE_TOKEN",
        ] {
            assert!(is_publishing(n), "{n}");
        }
        for n in [
            "CODECOV_TOKEN",
            "SLACK_WEBHOOK",
            "SENTRY_DSN",
            "RELEASE_NOTES_CHANNEL",
        ] {
            assert!(!is_publishing(n), "{n}");
        }
    }
}
