//! What a step publishes: publishing actions and `run:` commands, and the action version a step
//! pins.

use super::*;
use crate::models::version::{Version, VersionComment};
use crate::models::{Job, Step};
use crate::route::Route;
use crate::source::{SourceFile, Span};
use crate::yaml::Node;

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
}

/// Every publication of a job.
pub fn job_publications(file: &SourceFile, job: &Job<'_>) -> Vec<Publication> {
    job.steps()
        .iter()
        .flat_map(|s| cached_step_publications(file, s).iter().cloned())
        .collect()
}

/// [`step_publications`], worked out once per step (`file` must be the step's file).
pub(super) fn cached_step_publications<'s>(
    file: &SourceFile,
    step: &'s Step<'_>,
) -> &'s [Publication] {
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

/// Whether a step's `run:` script contains any of `words`: a cheap test before splitting it.
pub fn run_mentions(step: &Step<'_>, words: &[&str]) -> bool {
    step.run_str()
        .is_some_and(|s| words.iter().any(|w| s.contains(w)))
}

/// The publications of one step (workflow or composite action), worked out once per step and
/// shared (`file` must be the step's file).
pub fn step_publications(file: &SourceFile, step: &Step<'_>) -> Vec<Publication> {
    cached_step_publications(file, step).to_vec()
}

pub(super) fn find_step_publications(file: &SourceFile, step: &Step<'_>) -> Vec<Publication> {
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
            })
        })
        .collect()
}

/// `gh release create TAG` with no files: a release without assets.
pub(super) fn is_bare_release_create(words: &[String]) -> bool {
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

pub(super) const DEPLOY_ACTIONS: &[&str] = &[
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
