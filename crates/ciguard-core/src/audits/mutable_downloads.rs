use std::sync::Arc;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::unpinned_tools::tool_action;
use crate::declare_audit;
use crate::finding::{Confidence, Finding, Location, Severity};
use crate::models::run_script::RunScript;
use crate::models::{Action, Job, Step};
use crate::route::Route;
use crate::shell::supply::{
    extracts_stdin, moving_url, saved_file, unpinned_install, urls, uses_file, verifies,
};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Finds the immutability gaps of a job: code it fetches by a name that can change.
    ///
    /// - a download piped into an interpreter (`curl ... | sh`, `bash <(curl ...)`);
    /// - downloads from moving URLs (`releases/latest`, `/latest/download/`, a branch on
    ///   `raw.githubusercontent.com`, a branch archive);
    /// - installs without a version or hash: `go install x@latest`, `pip install pkg` without
    ///   `==` or `--require-hashes`, `uvx pkg`, `cargo install` without `--version` (or without
    ///   `--locked`), `gem install` without `-v`, global npm installs and `npx --yes` of an
    ///   unversioned package, `dotnet tool install` without `--version`;
    /// - a downloaded file executed, installed or extracted (`chmod +x`, `./tool`, `tar x`,
    ///   `unzip`, `dpkg -i`, or `curl | tar x`) when the script checks no checksum or signature
    ///   (`sha256sum -c`, `shasum -a 256 -c`, `gh attestation verify`, `cosign verify`,
    ///   `minisign`, `gpg --verify`);
    /// - action inputs set to `latest`, and in action definitions inputs whose `default:` is
    ///   `latest`.
    ///
    /// Each finding carries its chain of evidence: the download, then where it is run.
    ///
    /// ## Why is this bad?
    ///
    /// Pinning actions to commits does nothing for what their scripts fetch. A moving name
    /// resolves to whatever its owner (or whoever took over the account, the bucket or the
    /// domain) published last, so a compromised release runs in the job, with its secrets,
    /// the moment it appears; and two runs of the same commit can build different things.
    /// A checksum or signature check turns a moving download into a fixed one.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: curl -fsSL https://example.com/install.sh | sh
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   build:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: |
    ///           curl -fsSLo tool.tar.gz https://example.com/tool-1.2.3.tar.gz
    ///           echo "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae  tool.tar.gz" | sha256sum -c -
    ///           tar xzf tool.tar.gz
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic. Download a fixed version, check its published SHA-256 (or its
    /// attestation with `gh attestation verify`), then run it; install packages from a lockfile
    /// or with an exact version.
    pub struct MutableDownloads {
        id: "mutable-downloads",
        summary: "code fetched by a name that can change, with no checksum",
        severity: Medium,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
        transitive: Consumer,
    }
}

impl Audit for MutableDownloads {
    fn run_script(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        step: &Step<'_>,
        script: &RunScript<'_>,
        out: &mut Vec<Finding>,
    ) {
        check_script(doc.file(), step, script, out);
    }

    fn step(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        _job: Option<&Job<'_>>,
        step: &Step<'_>,
        out: &mut Vec<Finding>,
    ) {
        check_inputs(doc.file(), step, out);
    }

    fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
        let Some(inputs) = action.get("inputs") else {
            return;
        };
        for (name, input) in inputs.entries() {
            let Some(default) = input.get("default").filter(|d| is_latest(d.as_str())) else {
                continue;
            };
            let name = name.as_str().unwrap_or_default();
            out.push(Finding::new(
                &Self::META,
                format!("input `{name}` defaults to `latest`: callers that omit it get whatever was released last"),
                Location::file(action.file, default.span(), Route::root().key("inputs").key(name).key("default"), "a moving default"),
            ));
        }
    }
}

fn is_latest(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.trim().eq_ignore_ascii_case("latest"))
}

/// `with:` inputs set to `latest` (tool actions are left to `unpinned-tools`).
fn check_inputs(file: &Arc<SourceFile>, step: &Step<'_>, out: &mut Vec<Finding>) {
    let (Some(with), Some(uses)) = (step.with, step.uses) else {
        return;
    };
    let tool_input = tool_action(step).map(|(input, _)| input);
    let action = step
        .action_name()
        .unwrap_or_else(|| step.uses_str().unwrap_or_default().to_owned());
    for (key, value) in with.entries() {
        let key = key.as_str().unwrap_or_default();
        if !is_latest(value.as_str()) || tool_input == Some(key) {
            continue;
        }
        out.push(
            Finding::new(
                &MutableDownloads::META,
                format!(
                    "`{action}` is given `{key}: latest`, which installs whatever was released last"
                ),
                Location::file(
                    file,
                    value.span(),
                    step.route.key("with").key(key),
                    "a moving version",
                ),
            )
            .related(Location::file(
                file,
                uses.span(),
                step.route.key("uses"),
                "this action fetches it",
            )),
        );
    }
}

fn check_script(
    file: &Arc<SourceFile>,
    step: &Step<'_>,
    rs: &RunScript<'_>,
    out: &mut Vec<Finding>,
) {
    let script = &rs.script;
    let route = step.route.key("run");
    let at = |range| rs.span(file, range);
    let loc = |range, label: &str| Location::file(file, at(range), route.clone(), label);
    let mut reported = vec![false; script.commands.len()];
    for ex in script.remote_execs() {
        let (fetch, exec) = (&script.commands[ex.fetch], &script.commands[ex.exec]);
        reported[ex.fetch] = true;
        out.push(
            Finding::new(
                &MutableDownloads::META,
                format!(
                    "a download is run by `{}` as it arrives, with no checksum",
                    exec.program().unwrap_or("sh")
                ),
                loc(
                    fetch.span.cover(exec.span),
                    "downloaded code runs unverified",
                ),
            )
            .severity(Severity::High)
            .related(loc(fetch.span, "downloaded here"))
            .related(loc(exec.span, "executed here")),
        );
    }
    let verified = verifies(script);
    for (i, cmd) in script.commands.iter().enumerate() {
        if let Some(problem) = unpinned_install(cmd) {
            out.push(
                Finding::new(
                    &MutableDownloads::META,
                    problem,
                    loc(cmd.span, "installs a moving version"),
                )
                .confidence(Confidence::Medium),
            );
            continue;
        }
        if reported[i] || !(script.is_fetch(i) || is_gh_download(cmd)) {
            continue;
        }
        let moving = urls(cmd)
            .find_map(moving_url)
            .or_else(|| gh_latest(cmd).then_some("the latest release"));
        // Extracted straight from the pipe: nothing can check it.
        let piped_to = script
            .downstream(i)
            .find(|&j| extracts_stdin(&script.commands[j]));
        let used = saved_file(cmd).and_then(|f| {
            script
                .commands
                .iter()
                .enumerate()
                .skip(i + 1)
                .find_map(|(j, c)| uses_file(c, &f).map(|how| (j, how)))
        });
        let chain = piped_to
            .map(|j| (j, "extracts it"))
            .or(used)
            .filter(|_| !verified || piped_to.is_some());
        let message = match (moving, chain) {
            (Some(why), Some((_, how))) => format!(
                "a download from {why} is used with no checksum: `{}` {how}",
                script.commands[chain_index(chain)]
                    .program()
                    .unwrap_or("it")
            ),
            (Some(why), None) => format!("downloads from {why}, which changes over time"),
            (None, Some((j, how))) => format!(
                "a downloaded file is used with no checksum: `{}` {how}",
                script.commands[j].program().unwrap_or("it")
            ),
            (None, None) => continue,
        };
        let mut finding = Finding::new(
            &MutableDownloads::META,
            message,
            loc(cmd.span, "downloaded here"),
        );
        if moving.is_some() && chain.is_some() {
            finding = finding.severity(Severity::High);
        }
        if let Some((j, how)) = chain {
            finding = finding
                .related(loc(cmd.span, "downloaded here"))
                .related(loc(script.commands[j].span, how));
        }
        out.push(finding);
    }
}

fn chain_index(chain: Option<(usize, &str)>) -> usize {
    chain.map_or(0, |(j, _)| j)
}

fn is_gh_download(cmd: &crate::shell::Command) -> bool {
    cmd.program() == Some("gh")
        && cmd
            .args()
            .iter()
            .map(|w| w.value.as_str())
            .take(2)
            .eq(["release", "download"])
}

/// `gh release download` with no tag downloads the latest release.
fn gh_latest(cmd: &crate::shell::Command) -> bool {
    if !is_gh_download(cmd) {
        return false;
    }
    let mut args = cmd.args().iter().skip(2).map(|w| w.value.as_str());
    while let Some(a) = args.next() {
        if a.starts_with('-') {
            if !a.contains('=')
                && matches!(
                    a,
                    "-p" | "--pattern"
                        | "-D"
                        | "--dir"
                        | "-O"
                        | "--output"
                        | "-R"
                        | "--repo"
                        | "-A"
                        | "--archive"
                )
            {
                args.next();
            }
            continue;
        }
        return false;
    }
    true
}
