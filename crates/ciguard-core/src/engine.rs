//! Parse one file once and run audits over it: the pure middle of the pipeline.

use std::sync::Arc;

use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::diagnostic::{Diagnostic, Level};
use crate::facts::UsesRef;
use crate::finding::Finding;
use crate::models::run_script::RunScript;
use crate::models::{Job, Step, View};
use crate::refs::{self, UsesSite};
use crate::source::{FileKind, SourceFile};
use crate::yaml::{Document, Limits};

/// What auditing one file produced.
#[derive(Debug, Default)]
pub struct FileReport {
    pub findings: Vec<Finding>,
    pub diagnostics: Vec<Diagnostic>,
    /// Whether the file was audited (it parsed and had a valid shape).
    pub audited: bool,
}

/// Parses `file` and checks its shape; the document is `None` when it cannot be audited.
pub fn parse(file: &SourceFile, limits: &Limits) -> Result<Document, Diagnostic> {
    Document::parse(file, limits).map_err(|e| {
        let d = Diagnostic::at(Level::Error, file, e.span, e.message);
        match e.help {
            Some(h) => d.help(h),
            None => d,
        }
    })
}

/// A file parsed once and built into its typed view, with its `uses:` found by the refs stage:
/// what the audits, online resolution and the transitive lift share. The caller owns the
/// [`Document`] (from [`parse`]), which the view borrows.
pub struct ParsedFile<'a> {
    pub file: &'a Arc<SourceFile>,
    pub doc: &'a Document,
    /// `None` when the shape is invalid (see `diagnostics`) or the kind has no view here.
    pub view: Option<View<'a>>,
    /// Every `uses:` that can run, in file order.
    pub uses: Vec<UsesSite<'a>>,
    /// Shape errors, then warnings about what is too large to audit in full.
    pub diagnostics: Vec<Diagnostic>,
}

impl<'a> ParsedFile<'a> {
    pub fn build(file: &'a Arc<SourceFile>, doc: &'a Document) -> Self {
        let (view, mut diagnostics) = View::build(file, doc);
        if matches!(file.kind, FileKind::Workflow | FileKind::Action) {
            diagnostics.extend(expr_limits(file, doc));
        }
        match &view {
            Some(View::Workflow(wf)) => {
                let scripts = wf.run_scripts().map(|(_, _, rs)| rs);
                diagnostics.extend(script_limits(file, scripts));
            }
            Some(View::Action(action)) => {
                let scripts = action.run_scripts().map(|(_, rs)| rs);
                diagnostics.extend(script_limits(file, scripts));
            }
            Some(View::Dependabot(_) | View::PreCommit(_)) | None => {}
        }
        let uses = view.as_ref().map(refs::view_uses).unwrap_or_default();
        Self {
            file,
            doc,
            view,
            uses,
            diagnostics,
        }
    }

    /// What online resolution looks up for this file.
    pub fn uses_refs(&self) -> Vec<UsesRef> {
        refs::refs_of(&self.uses)
    }

    /// The repository `uses:` transitive auditing follows from this file.
    pub fn repository_sites(&self) -> Vec<refs::Site> {
        refs::repository_sites_of(&self.uses)
    }
}

/// Runs `audits` over one file. `context` gives each audit its options. See [`audit_parsed`].
pub fn audit_file<'c>(
    file: &Arc<SourceFile>,
    limits: &Limits,
    audits: &[&dyn Audit],
    context: &dyn Fn(&dyn Audit) -> AuditContext<'c>,
) -> FileReport {
    let doc = match parse(file, limits) {
        Ok(doc) => doc,
        Err(d) => {
            return FileReport {
                diagnostics: vec![d],
                ..FileReport::default()
            };
        }
    };
    let parsed = ParsedFile::build(file, &doc);
    let findings = audit_parsed(&parsed, audits, context);
    FileReport {
        findings,
        audited: parsed.view.is_some(),
        diagnostics: parsed.diagnostics,
    }
}

/// Runs `audits` over a parsed file. Each audit in turn gets the hooks of [`Audit`] from the
/// whole file down ([`Audit::workflow`] or [`Audit::action`], [`Audit::document`], then one
/// walk over jobs, steps, `uses:`, expressions and scripts), so findings stay grouped by audit
/// in registry order.
pub fn audit_parsed<'c>(
    parsed: &ParsedFile<'_>,
    audits: &[&dyn Audit],
    context: &dyn Fn(&dyn Audit) -> AuditContext<'c>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let Some(view) = &parsed.view else {
        return out;
    };
    let kind = parsed.file.kind;
    let doc = match view {
        View::Workflow(wf) => AnyDoc::Workflow(wf),
        View::Action(action) => AnyDoc::Action(action),
        View::Dependabot(config) => {
            for audit in audits.iter().filter(|a| a.meta().inputs.contains(&kind)) {
                audit.dependabot(&context(*audit), config, &mut out);
            }
            return out;
        }
        View::PreCommit(config) => {
            for audit in audits.iter().filter(|a| a.meta().inputs.contains(&kind)) {
                audit.pre_commit(&context(*audit), config, &mut out);
            }
            return out;
        }
    };
    let levels = Levels::of(doc, &parsed.uses);
    for audit in audits.iter().filter(|a| a.meta().inputs.contains(&kind)) {
        let cx = context(*audit);
        match doc {
            AnyDoc::Workflow(wf) => audit.workflow(&cx, wf, &mut out),
            AnyDoc::Action(action) => audit.action(&cx, action, &mut out),
        }
        levels.walk(*audit, &cx, &mut out);
    }
    out
}

/// What the walk visits in a workflow or action, listed once per file and walked once per
/// audit. Jobs and steps with `if: false` are not in the models, so no hook sees them.
struct Levels<'s, 'a> {
    doc: AnyDoc<'s, 'a>,
    steps: Vec<(Option<&'s Job<'a>>, &'s Step<'a>)>,
    uses: &'s [UsesSite<'a>],
    exprs: &'s [crate::expr::sites::Site<'a>],
    scripts: Vec<(&'s Step<'a>, &'s RunScript<'a>)>,
}

impl<'s, 'a> Levels<'s, 'a> {
    fn of(doc: AnyDoc<'s, 'a>, uses: &'s [UsesSite<'a>]) -> Self {
        let steps = match doc {
            AnyDoc::Workflow(wf) => wf
                .jobs
                .iter()
                .flat_map(|job| job.steps().iter().map(move |step| (Some(job), step)))
                .collect(),
            AnyDoc::Action(action) => action.steps().iter().map(|step| (None, step)).collect(),
        };
        Self {
            doc,
            steps,
            uses,
            exprs: doc.expr_sites(),
            scripts: doc.run_scripts().collect(),
        }
    }

    /// The shared hook, then each job followed by its steps, then each `uses:`, expression and
    /// script.
    fn walk(&self, audit: &dyn Audit, cx: &AuditContext<'_>, out: &mut Vec<Finding>) {
        let doc = self.doc;
        audit.document(cx, doc, out);
        let mut steps = self.steps.iter().peekable();
        if let AnyDoc::Workflow(wf) = doc {
            for job in &wf.jobs {
                audit.job(cx, wf, job, out);
                let of_job = |(j, _): &&(Option<&Job<'a>>, &Step<'a>)| {
                    j.is_some_and(|j| std::ptr::eq(j, job))
                };
                while let Some((_, step)) = steps.next_if(of_job) {
                    audit.step(cx, doc, Some(job), step, out);
                }
            }
        }
        for (job, step) in steps {
            audit.step(cx, doc, *job, step, out);
        }
        for site in self.uses {
            audit.uses(cx, doc, site, out);
        }
        for site in self.exprs {
            audit.expr(cx, doc, site, out);
        }
        for (step, script) in &self.scripts {
            audit.run_script(cx, doc, step, script, out);
        }
    }
}

/// The expressions of a workflow or action that are too large to audit.
fn expr_limits(file: &SourceFile, doc: &Document) -> Option<Diagnostic> {
    crate::expr::sites::over_limit(file, doc.root()?)
}

/// A warning for each `run:` script read only in part (see [`crate::shell::MAX_COMMANDS`]).
fn script_limits<'s, 'a: 's>(
    file: &SourceFile,
    scripts: impl Iterator<Item = &'s RunScript<'a>>,
) -> Vec<Diagnostic> {
    scripts
        .filter(|rs| rs.script.truncated)
        .map(|rs| {
            let message = format!(
                "script not fully audited: it has more than {} commands or {} words",
                crate::shell::MAX_COMMANDS,
                crate::shell::MAX_WORDS
            );
            Diagnostic::at(Level::Warning, file, rs.node.span(), message).help(
                "audits read only its beginning; move the script into a file in the repository",
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::declare_audit;
    use crate::finding::Location;
    use crate::models::{Action, Dependabot, Job, Step, Workflow};
    use crate::route::Route;

    declare_audit! {
        /// Records which hooks the engine calls, in order.
        struct Probe {
            id: "probe",
            summary: "records hook calls",
            severity: Low,
            confidence: High,
            persona: Regular,
            inputs: [Workflow, Action, Dependabot],
            needs_network: false,
            fix: None,
        }
    }

    fn note(file: &Arc<SourceFile>, what: &str, out: &mut Vec<Finding>) {
        let at = Location::file(file, Default::default(), Route::root(), "here");
        out.push(Finding::new(&Probe::META, what, at));
    }

    impl Audit for Probe {
        fn workflow(&self, _cx: &AuditContext<'_>, wf: &Workflow<'_>, out: &mut Vec<Finding>) {
            note(wf.file, "workflow", out);
        }

        fn action(&self, _cx: &AuditContext<'_>, action: &Action<'_>, out: &mut Vec<Finding>) {
            note(action.file, "action", out);
        }

        fn dependabot(&self, _cx: &AuditContext<'_>, c: &Dependabot<'_>, out: &mut Vec<Finding>) {
            note(c.file, "dependabot", out);
        }

        fn document(&self, _cx: &AuditContext<'_>, doc: AnyDoc<'_, '_>, out: &mut Vec<Finding>) {
            let kind = match doc {
                AnyDoc::Workflow(_) => "document workflow",
                AnyDoc::Action(_) => "document action",
            };
            note(doc.file(), kind, out);
        }
    }

    fn calls(kind: FileKind, text: &str) -> Vec<String> {
        let file = Arc::new(SourceFile::new("t.yml", kind, text.to_owned()));
        let report = audit_file(&file, &Limits::default(), &[&Probe, &Probe], &|_| {
            AuditContext::empty()
        });
        report.findings.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn document_hook_follows_the_specific_hook_per_audit() {
        let wf = "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: x\n";
        assert_eq!(
            calls(FileKind::Workflow, wf),
            [
                "workflow",
                "document workflow",
                "workflow",
                "document workflow"
            ]
        );
        let action = "name: a\ndescription: d\nruns:\n  using: node20\n  main: index.js\n";
        assert_eq!(
            calls(FileKind::Action, action),
            ["action", "document action", "action", "document action"]
        );
        let dependabot = "version: 2\nupdates: []\n";
        assert_eq!(
            calls(FileKind::Dependabot, dependabot),
            ["dependabot", "dependabot"]
        );
    }

    declare_audit! {
        /// Records the per-level hooks the engine's walk calls, in order.
        struct Levels {
            id: "levels",
            summary: "records per-level hook calls",
            severity: Low,
            confidence: High,
            persona: Regular,
            inputs: [Workflow, Action],
            needs_network: false,
            fix: None,
        }
    }

    fn at(file: &Arc<SourceFile>, what: String, out: &mut Vec<Finding>) {
        let at = Location::file(file, Default::default(), Route::root(), "here");
        out.push(Finding::new(&Levels::META, what, at));
    }

    impl Audit for Levels {
        fn job<'a>(
            &self,
            _: &AuditContext<'_>,
            wf: &Workflow<'a>,
            job: &Job<'a>,
            out: &mut Vec<Finding>,
        ) {
            at(wf.file, format!("job {}", job.id), out);
        }

        fn step<'a>(
            &self,
            _: &AuditContext<'_>,
            doc: AnyDoc<'_, 'a>,
            job: Option<&Job<'a>>,
            step: &Step<'a>,
            out: &mut Vec<Finding>,
        ) {
            let job = job.map_or("-", |j| j.id);
            at(doc.file(), format!("step {job} {}", step.route), out);
        }

        fn uses<'a>(
            &self,
            _: &AuditContext<'_>,
            doc: AnyDoc<'_, 'a>,
            site: &UsesSite<'a>,
            out: &mut Vec<Finding>,
        ) {
            at(
                doc.file(),
                format!("uses {}", site.node.as_str().unwrap_or("?")),
                out,
            );
        }

        fn expr<'a>(
            &self,
            _: &AuditContext<'_>,
            doc: AnyDoc<'_, 'a>,
            site: &crate::expr::sites::Site<'a>,
            out: &mut Vec<Finding>,
        ) {
            at(doc.file(), format!("expr {}", site.route), out);
        }

        fn run_script<'a>(
            &self,
            _: &AuditContext<'_>,
            doc: AnyDoc<'_, 'a>,
            _step: &Step<'a>,
            script: &RunScript<'a>,
            out: &mut Vec<Finding>,
        ) {
            at(doc.file(), format!("run {}", script.text.trim()), out);
        }
    }

    fn levels(kind: FileKind, text: &str) -> Vec<String> {
        let file = Arc::new(SourceFile::new("t.yml", kind, text.to_owned()));
        let report = audit_file(&file, &Limits::default(), &[&Levels], &|_| {
            AuditContext::empty()
        });
        report.findings.into_iter().map(|f| f.message).collect()
    }

    #[test]
    fn the_walk_calls_each_level_once_and_skips_what_never_runs() {
        let wf = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: o/r@v1\n      - if: false\n        run: off\n      - run: echo ${{ github.sha }}\n  b:\n    if: false\n    runs-on: x\n    steps:\n      - run: off\n  c:\n    uses: o/r/.github/workflows/w.yml@v1\n";
        assert_eq!(
            levels(FileKind::Workflow, wf),
            [
                "job a",
                "step a jobs.a.steps[0]",
                "step a jobs.a.steps[2]",
                "job c",
                "uses o/r@v1",
                "uses o/r/.github/workflows/w.yml@v1",
                // The condition that switches a job or step off is itself still read.
                "expr jobs.a.steps[1].if",
                "expr jobs.a.steps[2].run",
                "expr jobs.b.if",
                "run echo ${{ github.sha }}",
            ]
        );
        let action = "name: a\ndescription: d\nruns:\n  using: composite\n  steps:\n    - uses: o/r@v1\n    - if: false\n      uses: o/off@v1\n";
        assert_eq!(
            levels(FileKind::Action, action),
            [
                "step - runs.steps[0]",
                "uses o/r@v1",
                "expr runs.steps[1].if"
            ]
        );
    }
}
