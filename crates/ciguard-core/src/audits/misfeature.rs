use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::audits::common::File;
use crate::models::run_script::step_shell;
use crate::declare_audit;
use crate::finding::{Finding, Location, Persona};
use crate::models::{Job, Step, Uses};
use crate::yaml::Node;

declare_audit! {
    /// ## What it does
    ///
    /// Reports features of GitHub Actions that work against safe, analysable workflows:
    /// `run:` steps whose shell is Windows `cmd` (and, for the pedantic persona, any shell other
    /// than `bash`, `sh`, `pwsh`, `powershell` or `python`), from the step or from
    /// `defaults.run.shell`; and the `pip-install` input of `actions/setup-python`.
    ///
    /// ## Why is this bad?
    ///
    /// `cmd` has no grammar to speak of, several line-continuation rules and surprising
    /// expansion, so neither reviewers nor tools can tell what a script does; it has not been
    /// the default on Windows runners since 2019. `pip-install` installs packages into the
    /// runner's global Python, outside any lock file, with results that vary by runner image.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: windows-latest
    ///     steps:
    ///       - run: build.bat
    ///         shell: cmd
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: windows-latest
    ///     steps:
    ///       - run: ./build.ps1
    ///         shell: pwsh
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: port the script to `pwsh` or `bash`; install Python packages into a
    /// virtual environment from a locked requirements file.
    pub struct Misfeature {
        id: "misfeature",
        summary: "use of GitHub Actions misfeatures",
        severity: Low,
        confidence: High,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for Misfeature {
    fn step(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        job: Option<&Job<'_>>,
        step: &Step<'_>,
        out: &mut Vec<Finding>,
    ) {
        let root = job.map(|_| doc.root());
        check(doc.file(), step, job.map(|j| j.node), root, out);
    }
}

/// The program a `shell:` names: its first word without a `/` directory, lowercased. A
/// Windows path (`C:\cygwin\bin\bash.exe`) names a Cygwin or MSYS shell, not the runner's.
fn shell_program(shell: &str) -> String {
    let first = shell.split_whitespace().next().unwrap_or_default();
    first
        .rsplit('/')
        .next()
        .unwrap_or(first)
        .to_ascii_lowercase()
}

fn check(
    file: &File,
    step: &Step<'_>,
    job: Option<Node<'_>>,
    root: Option<Node<'_>>,
    out: &mut Vec<Finding>,
) {
    if let Some(Uses::Repository(r)) = step.uses_ref()
        && r.slug().eq_ignore_ascii_case("actions/setup-python")
        && let Some((key, value)) = step.with.and_then(|w| w.entry("pip-install"))
    {
        out.push(Finding::new(
            &Misfeature::META,
            "`pip-install` of actions/setup-python installs packages into the global environment",
            Location::file(
                file,
                key.span().cover(value.span()),
                step.route.key("with").key("pip-install"),
                "installs packages in a brittle way",
            ),
        ));
    }
    if step.run.is_none() {
        return;
    }
    let Some(shell) = step_shell(step, job, root).node else {
        return;
    };
    let Some(text) = shell.as_str() else { return };
    let program = shell_program(text);
    let (message, persona) = match program.as_str() {
        "bash" | "sh" | "pwsh" | "powershell" | "python" => return,
        _ if text.contains("${{") => return,
        "cmd" | "cmd.exe" => (
            "step runs in Windows `cmd`, which cannot be analysed".to_owned(),
            Persona::Regular,
        ),
        other => (
            format!("step runs in `{other}`, a shell GitHub Actions does not know"),
            Persona::Pedantic,
        ),
    };
    out.push(
        Finding::new(
            &Misfeature::META,
            message,
            Location::file(
                file,
                shell.span(),
                step.route.key("shell"),
                "shell chosen here",
            ),
        )
        .persona(persona),
    );
}
