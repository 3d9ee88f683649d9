use std::sync::Arc;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::finding::{Finding, Location};
use crate::models::Step;
use crate::models::run_script::{RunScript, run_key_span};
use crate::shell::{Command, Dialect};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `run:` steps that install packages by name, outside of a manifest and its
    /// lockfile: `npm install <pkg>` (and its aliases, `-g` included), `npm exec <pkg>`,
    /// `npx --yes <pkg>`, `pnpm add`, `yarn add`, `bun add`, `gem install <pkg>` and
    /// `bundle add`. `npm ci`, `npm install` without a package, `pnpm install` and
    /// `bundle install` read a lockfile and are not reported.
    ///
    /// ## Why is this bad?
    ///
    /// A package named on the command line is resolved when the step runs: without a version
    /// it is whatever was published last, and even with one its dependencies float. Nothing
    /// records what was installed, dependency update tools never see it, and a compromised
    /// release (as with the `nx` and `shai-hulud` npm worms) is installed into the job the
    /// moment it is published.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   lint:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: npm install -g markdownlint-cli2
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   lint:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: npm ci
    ///       - run: npx markdownlint-cli2
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic. Add the tool to `package.json` (or the `Gemfile`) as a development
    /// dependency, commit the lockfile, and install with `npm ci` or `bundle install`.
    pub struct AdhocPackages {
        id: "adhoc-packages",
        summary: "ad-hoc package installation outside of a lockfile",
        severity: Low,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

const NPM_INSTALL: &[&str] = &[
    "install", "i", "in", "ins", "inst", "insta", "instal", "isnt", "isnta", "isntal", "isntall",
    "add",
];

impl Audit for AdhocPackages {
    fn run_script(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        step: &Step<'_>,
        script: &RunScript<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), step, script, out);
    }
}

fn check(file: &Arc<SourceFile>, step: &Step<'_>, rs: &RunScript<'_>, out: &mut Vec<Finding>) {
    // Package managers take the same words under PowerShell (the Windows default) as under sh.
    if !matches!(rs.script.dialect, Dialect::Posix | Dialect::PowerShell) {
        return;
    }
    for cmd in &rs.script.commands {
        let Some(what) = adhoc_install(cmd) else {
            continue;
        };
        out.push(
            Finding::new(
                &AdhocPackages::META,
                format!("`{what}` installs a package outside of a lockfile"),
                Location::file(
                    file,
                    rs.span(file, cmd.span),
                    step.route.key("run"),
                    "installs a package outside of a lockfile",
                ),
            )
            .related(Location::file(
                file,
                run_key_span(step),
                step.route.key("run"),
                "in this step",
            )),
        );
    }
}

/// `npm install` style description of an ad-hoc install, if `cmd` is one.
pub(crate) fn adhoc_install(cmd: &Command) -> Option<String> {
    let prog = cmd.program()?;
    // Words that are only an expansion (`$PKG`, `${{ matrix.flags }}`) may be flags or nothing.
    let args: Vec<&str> = cmd
        .args()
        .iter()
        .filter(|w| !w.value.starts_with('$') || w.value.contains('@'))
        .map(|w| w.value.as_str())
        .collect();
    let mut positional = args.iter().copied().filter(|a| !a.starts_with('-'));
    let has_operand_after = |sub: &str| {
        args.iter()
            .skip_while(|a| **a != sub)
            .skip(1)
            .any(|a| !a.starts_with('-'))
    };
    let sub = positional.next();
    let hit = match prog {
        "npm" => match sub {
            Some(s) if NPM_INSTALL.contains(&s) => has_operand_after(s),
            Some(s @ ("exec" | "x")) => {
                has_operand_after(s)
                    || args.iter().any(|a| {
                        matches!(*a, "-p" | "--package")
                            || a.starts_with("--package=")
                            || a.starts_with("-p=")
                    })
            }
            _ => false,
        },
        "npx" => args.iter().any(|a| matches!(*a, "-y" | "--yes")) && sub.is_some(),
        "pnpm" | "bun" => sub == Some("add") && has_operand_after("add"),
        "yarn" => match sub {
            Some("add") => has_operand_after("add"),
            Some("global") => positional.next() == Some("add") && has_operand_after("add"),
            _ => false,
        },
        "gem" => match sub {
            Some(s @ ("install" | "i")) => has_operand_after(s),
            _ => false,
        },
        "bundle" => sub == Some("add") && has_operand_after("add"),
        _ => false,
    };
    hit.then(|| match sub {
        Some(s) if prog != "npx" => format!("{prog} {s}"),
        _ => prog.to_owned(),
    })
}
