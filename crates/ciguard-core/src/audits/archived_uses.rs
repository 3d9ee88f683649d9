use crate::audit::{Audit, AuditContext, AuditMeta};
use crate::audits::common::{File, UsesSite, action_uses, workflow_uses};
use crate::declare_audit;
use crate::facts::Facts;
use crate::finding::{Finding, Location};
use crate::models::{Action, Workflow};

declare_audit! {
    /// ## What it does
    ///
    /// Reports actions and reusable workflows whose repository is archived: from a built-in
    /// list of archived action repositories (`actions/create-release`,
    /// `actions/upload-release-asset`, `actions-rs/*`, ...), and, when ciguard runs online,
    /// from what GitHub says about each repository used.
    ///
    /// ## Why is this bad?
    ///
    /// An archived repository gets no fixes: its vulnerabilities stay, its Node.js runtime
    /// goes out of support, and nobody answers reports. Its owner may also abandon the account
    /// name, which someone else can then register to serve code under the same `uses:`.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - uses: actions-rs/toolchain@16499b5e05bf2e26879000db0c1d13f7e13fa3af # v1.0.7
    ///         with:
    ///           toolchain: stable
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: rustup toolchain install stable --profile minimal
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: move to the maintained successor (`gh release`, `rustup`,
    /// `gradle/actions/setup-gradle`, ...) or to a `run:` step.
    pub struct ArchivedUses {
        id: "archived-uses",
        summary: "actions and reusable workflows from archived repositories",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

/// Archived action repositories, lowercase `owner/repo`, sorted (a binary search needs it).
/// Facts gathered from GitHub; the same list zizmor ships.
const ARCHIVED: &[&str] = &[
    "8398a7/action-slack",
    "actions-rs/audit-check",
    "actions-rs/cargo",
    "actions-rs/clippy-check",
    "actions-rs/components-nightly",
    "actions-rs/grcov",
    "actions-rs/install",
    "actions-rs/tarpaulin",
    "actions-rs/toolchain",
    "actions/create-release",
    "actions/setup-elixir",
    "actions/setup-haskell",
    "actions/setup-ruby",
    "actions/upload-release-asset",
    "actionstoolbox/gem-build-and-release-action",
    "allanchain/poetry-cache-action",
    "andrewmcodes-archive/rubocop-linter-action",
    "artichoke/setup-rust",
    "aslafy-z/conventional-pr-title-action",
    "azure/appconfiguration-sync",
    "azure/appservice-actions",
    "azure/azure-resource-login-action",
    "azure/container-actions",
    "azure/container-scan",
    "azure/data-factory-deploy-action",
    "azure/data-factory-export-action",
    "azure/data-factory-validate-action",
    "azure/get-keyvault-secrets",
    "azure/k8s-actions",
    "azure/manage-azure-policy",
    "azure/publish-security-assessments",
    "azure/run-sqlpackage-action",
    "azure/spring-cloud-deploy",
    "azure/webapps-container-deploy",
    "cedrickring/golang-action",
    "cirrus-actions/rebase",
    "contributor-assistant/github-action",
    "cpcloud/flake-update-action",
    "crazy-max/ghaction-docker-buildx",
    "crazy-max/ghaction-hugo",
    "decathlon/pull-request-labeler-action",
    "delaguardo/setup-graalvm",
    "dulvui/godot-android-export",
    "elstudio/actions-settings",
    "expo/expo-preview-action",
    "fabasoad/setup-zizmor-action",
    "facebook/pysa-action",
    "fregante/release-with-changelog",
    "google/mirror-branch-action",
    "google/skywater-pdk-actions",
    "gradle/gradle-build-action",
    "grafana/k6-action",
    "hashicorp/terraform-cdk-action",
    "helaili/github-graphql-action",
    "helaili/jekyll-action",
    "ilshidur/action-slack",
    "irgolic/autopr",
    "jakejarvis/backblaze-b2-action",
    "jakejarvis/cloudflare-purge-action",
    "jakejarvis/firebase-deploy-action",
    "jakejarvis/hugo-build-action",
    "jakejarvis/lighthouse-action",
    "jakejarvis/s3-sync-action",
    "jimmygchen/runner-fallback-action",
    "justinribeiro/lighthouse-action",
    "kanadgupta/glitch-sync",
    "kxxt/chatgpt-action",
    "lapras-inc/resume-sync-action",
    "liskin/gh-pipx",
    "machine-learning-apps/wandb-action",
    "mansagroup/gcs-cache-action",
    "marvinpinto/action-automatic-releases",
    "marvinpinto/actions",
    "maxheld83/ghpages",
    "meilcli/danger-action",
    "meilcli/gradle-update-check-action",
    "meilcli/npm-update-check-action",
    "meilcli/nuget-update-check-action",
    "micnncim/action-lgtm-reaction",
    "mikepenz/gradle-dependency-submission",
    "niklasmerz/github-deployment-action",
    "orf/cargo-bloat-action",
    "paambaati/codeclimate-action",
    "philips-software/docker-ci-scripts",
    "primer/figma-action",
    "reasonsoftware/action-pylint",
    "repo-sync/pull-request",
    "repo-sync/repo-sync",
    "sagebind/docker-swarm-deploy-action",
    "scottbrenner/generate-changelog-action",
    "secrethub/actions",
    "semgrep/semgrep-action",
    "shaunlwm/action-release-debugapk",
    "soichisumi/issue-copy-action",
    "sonarsource/sonarcloud-github-action",
    "stefafafan/psi-action",
    "stefanprodan/kube-tools",
    "suzuki-shunsuke/github-action-format",
    "suzuki-shunsuke/github-action-tflint",
    "suzuki-shunsuke/github-action-tfsec",
    "suzuki-shunsuke/required-status-check-action",
    "suzuki-shunsuke/trivy-config-action",
    "suzuki-shunsuke/validate-pr-review-action",
    "svenstaro/upx-action",
    "swiftdocorg/github-wiki-publish-action",
    "tachiyomiorg/issue-moderator-action",
    "technote-space/auto-cancel-redundant-workflow",
    "technote-space/get-diff-action",
    "tencentcloudbase/cloudbase-action",
    "tibdex/github-app-token",
    "trmcnvn/chrome-addon",
    "verygoodopensource/very_good_coverage",
    "whelk-io/maven-settings-xml-action",
    "yeslayla/build-godot-action",
    "youyo/aws-cdk-github-actions",
    "yumemi-inc/clean-cache-action",
    "z0al/dependent-issues",
];

impl Audit for ArchivedUses {
    fn meta(&self) -> &'static AuditMeta {
        &Self::META
    }

    fn workflow(&self, cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        check(wf.file, cx.facts, &workflow_uses(wf), out);
    }

    fn action(&self, cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        check(action.file, cx.facts, &action_uses(action), out);
    }
}

fn check(file: &File, facts: &Facts, sites: &[UsesSite<'_, '_>], out: &mut Vec<Finding>) {
    for site in sites {
        let Some(repo) = site.repo() else { continue };
        let slug = repo.slug().to_ascii_lowercase();
        let known = ARCHIVED.binary_search(&slug.as_str()).is_ok();
        if known || facts.repo(&slug).is_some_and(|r| r.archived) {
            out.push(Finding::new(
                &ArchivedUses::META,
                format!("`{slug}` is archived and gets no fixes"),
                Location::file(
                    file,
                    site.node.span(),
                    site.route.clone(),
                    "repository is archived",
                ),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_list_is_sorted_and_lowercase() {
        assert!(super::ARCHIVED.windows(2).all(|w| w[0] < w[1]));
        assert!(super::ARCHIVED.iter().all(|s| *s == s.to_ascii_lowercase()));
    }
}
