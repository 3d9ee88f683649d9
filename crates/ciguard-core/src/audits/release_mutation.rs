use std::sync::Arc;

use crate::audit::{Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location, Severity};
use crate::models::run_script::{RunScript, action_scripts, workflow_scripts};
use crate::models::{Action, Step, Workflow};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports assets added to or replaced on a release that is already published:
    /// `gh release upload --clobber`; `gh release upload` in a workflow triggered when a
    /// release is published or created, or after a non-draft `gh release create` in the same
    /// job; and upload-to-release actions (`svenstaro/upload-release-action`,
    /// `actions/upload-release-asset`, `shogo82148/actions-upload-release-asset`, ...), or
    /// release-creating actions given files (`softprops/action-gh-release`,
    /// `ncipollo/release-action`) without `draft: true`.
    ///
    /// ## Why is this bad?
    ///
    /// A published release is what users download and what attestations and checksums refer
    /// to. Adding or replacing its assets afterwards means a download made a minute earlier
    /// differs from one made now, and a stolen token can swap a binary without a new tag.
    /// GitHub's immutable releases forbid exactly this; they work with the order draft →
    /// upload every asset → publish, which these steps break (and, once immutability is on,
    /// their uploads fail).
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on:
    ///   release:
    ///     types: [published]
    /// permissions: {}
    /// jobs:
    ///   assets:
    ///     runs-on: ubuntu-latest
    ///     permissions:
    ///       contents: write
    ///     steps:
    ///       - run: gh release upload "$TAG" dist/* --clobber
    ///         env:
    ///           TAG: ${{ github.event.release.tag_name }}
    ///           GH_TOKEN: ${{ github.token }}
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
    ///     environment: release
    ///     permissions:
    ///       contents: write
    ///       id-token: write
    ///       attestations: write
    ///     steps:
    ///       - uses: actions/attest-build-provenance@e8998f949152b193b063cb0ec769d69d929409be # v2.4.0
    ///         with:
    ///           subject-path: dist/*
    ///       - run: |
    ///           gh release create "$TAG" --draft --verify-tag dist/*
    ///           gh release edit "$TAG" --draft=false
    ///         env:
    ///           TAG: ${{ github.ref_name }}
    ///           GH_TOKEN: ${{ github.token }}
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic. Create the release as a draft, upload every asset, then publish it
    /// (`gh release edit --draft=false`), and enable immutable releases for the repository.
    pub struct ReleaseMutation {
        id: "release-mutation",
        summary: "assets added to or replaced on a published release",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

/// Actions that upload assets to an existing release.
const UPLOADERS: &[&str] = &[
    "svenstaro/upload-release-action",
    "actions/upload-release-asset",
    "shogo82148/actions-upload-release-asset",
    "abutler/upload-release-assets",
    "xresloader/upload-to-github-release",
    "skx/github-action-publish-binaries",
    "jasonetco/upload-to-release",
    "alexellis/upload-assets",
    "csexton/release-asset-action",
    "wangyoucao577/go-release-action",
];
/// Actions that create a release and then upload files to it: (action, files input).
const CREATORS: &[(&str, &str)] = &[
    ("softprops/action-gh-release", "files"),
    ("ncipollo/release-action", "artifacts"),
];

impl Audit for ReleaseMutation {
    fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
        let published = wf.triggers.iter().any(|t| {
            t.event == "release"
                && t.config.and_then(|c| c.get("types")).is_none_or(|types| {
                    let mut names: Vec<&str> = types.items().filter_map(|i| i.as_str()).collect();
                    names.extend(types.as_str());
                    names
                        .iter()
                        .any(|n| matches!(*n, "published" | "created" | "released" | "edited"))
                })
        });
        let scripts = workflow_scripts(wf);
        for job in &wf.jobs {
            let mut created = false;
            for step in job.steps() {
                if let Some((_, _, rs)) = scripts.iter().find(|(_, s, _)| s.route == step.route) {
                    check_script(wf.file, step, rs, published, &mut created, out);
                } else {
                    check_uses(wf.file, step, published, out);
                }
            }
        }
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        let mut created = false;
        let scripts = action_scripts(action);
        for step in action.steps() {
            match scripts.iter().find(|(s, _)| s.route == step.route) {
                Some((_, rs)) => check_script(action.file, step, rs, false, &mut created, out),
                None => check_uses(action.file, step, false, out),
            }
        }
    }
}

fn check_script(
    file: &Arc<SourceFile>,
    step: &Step<'_>,
    rs: &RunScript<'_>,
    published: bool,
    created: &mut bool,
    out: &mut Vec<Finding>,
) {
    for cmd in &rs.script.commands {
        let args: Vec<&str> = cmd.args().iter().map(|w| w.value.as_str()).collect();
        if cmd.program() != Some("gh") || args.first() != Some(&"release") {
            continue;
        }
        match args.get(1).copied() {
            Some("create")
                if !args
                    .iter()
                    .any(|a| matches!(*a, "--draft" | "-d" | "--draft=true")) =>
            {
                *created = true
            }
            Some("upload") => {
                let clobber = args.contains(&"--clobber");
                let why = if clobber {
                    "replaces assets of an existing release (`--clobber`)"
                } else if published {
                    "adds assets to a release that is already published (the workflow runs on `release`)"
                } else if *created {
                    "adds assets to a release created earlier in this job without `--draft`"
                } else {
                    continue;
                };
                let mut f = Finding::new(
                    &ReleaseMutation::META,
                    format!("`gh release upload` {why}"),
                    Location::file(
                        file,
                        rs.span(file, cmd.span),
                        step.route.key("run"),
                        "mutates a published release",
                    ),
                );
                if clobber {
                    f = f.severity(Severity::High);
                }
                out.push(f);
            }
            _ => {}
        }
    }
}

fn check_uses(file: &Arc<SourceFile>, step: &Step<'_>, published: bool, out: &mut Vec<Finding>) {
    let (Some(name), Some(uses)) = (step.action_name(), step.uses) else {
        return;
    };
    let draft = step.input("draft").is_some_and(|d| d.trim() == "true");
    let why = if UPLOADERS.contains(&name.as_str()) {
        let overwrite = ["overwrite", "allow_override", "overwrite_assets"]
            .iter()
            .any(|k| step.input(k).is_some_and(|v| v.trim() == "true"));
        if overwrite {
            "replaces assets of an existing release"
        } else {
            "uploads assets to an existing release"
        }
    } else if let Some((_, files)) = CREATORS.iter().find(|(a, _)| *a == name) {
        if draft || step.input(files).is_none_or(|f| f.trim().is_empty()) {
            return;
        }
        if published {
            "adds files to the release whose publication started the workflow"
        } else {
            "publishes the release first and uploads its files after, without `draft: true`"
        }
    } else {
        return;
    };
    let mut f = Finding::new(
        &ReleaseMutation::META,
        format!("`{name}` {why}"),
        Location::file(
            file,
            uses.span(),
            step.route.key("uses"),
            "mutates a published release",
        ),
    );
    if !published && UPLOADERS.contains(&name.as_str()) {
        f = f.confidence(Confidence::Medium);
    }
    if step.input("draft").is_some_and(|d| d.contains("${{")) {
        // Draft or not is decided when the workflow runs.
        f = f.confidence(Confidence::Low);
    }
    out.push(f);
}
