//! The audit trait and what an audit is given. What is known of an audit without running it
//! (its `AuditMeta`, written by `declare_audit!`) is in `catalog.rs`; re-exported here so
//! `crate::audit::AuditMeta` keeps working.

use crate::actions_lock::ActionsLock;
pub use crate::catalog::{AuditMeta, Declared, FixAvailability};
use crate::facts::Facts;
use crate::finding::Finding;
use std::sync::Arc;

use crate::expr::sites::Site;
use crate::models::run_script::RunScript;
use crate::models::{Action, Dependabot, Job, PreCommit, Step, Workflow};
use crate::refs::UsesSite;
use crate::source::SourceFile;
use crate::yaml::Node;

/// What an audit is given besides the document: its options and the facts resolved online.
pub struct AuditContext<'a> {
    /// This audit's table from the configuration (`[audits.<id>]`), without the generic keys.
    pub options: &'a toml::Table,
    pub facts: &'a Facts,
    /// The repository's `.github/workflows/actions.lock`, when it has one that parses.
    pub actions_lock: Option<&'a ActionsLock>,
}

impl AuditContext<'_> {
    pub fn empty() -> AuditContext<'static> {
        static EMPTY_TABLE: std::sync::OnceLock<toml::Table> = std::sync::OnceLock::new();
        static EMPTY_FACTS: std::sync::OnceLock<Facts> = std::sync::OnceLock::new();
        AuditContext {
            options: EMPTY_TABLE.get_or_init(toml::Table::new),
            facts: EMPTY_FACTS.get_or_init(Facts::default),
            actions_lock: None,
        }
    }
}

/// Any document that is a workflow or an action, for [`Audit::document`]: what both kinds of
/// file offer, read from the same per-file caches as the typed views.
#[derive(Clone, Copy)]
pub enum AnyDoc<'s, 'a> {
    Workflow(&'s Workflow<'a>),
    Action(&'s Action<'a>),
}

impl<'s, 'a> AnyDoc<'s, 'a> {
    pub fn file(self) -> &'a Arc<SourceFile> {
        match self {
            Self::Workflow(wf) => wf.file,
            Self::Action(action) => action.file,
        }
    }

    pub fn root(self) -> Node<'a> {
        match self {
            Self::Workflow(wf) => wf.root,
            Self::Action(action) => action.root,
        }
    }

    /// Every `${{ }}` expression and bare `if:` condition, in document order.
    pub fn expr_sites(self) -> &'s [Site<'a>] {
        match self {
            Self::Workflow(wf) => wf.expr_sites(),
            Self::Action(action) => action.expr_sites(),
        }
    }

    /// Every step (of every job of a workflow, or of a composite action), in file order.
    pub fn steps(self) -> impl Iterator<Item = &'s Step<'a>> {
        let (jobs, steps): (&'s [Job<'a>], &'s [Step<'a>]) = match self {
            Self::Workflow(wf) => (&wf.jobs, &[]),
            Self::Action(action) => (&[], action.steps()),
        };
        jobs.iter().flat_map(|j| j.steps()).chain(steps)
    }

    /// Every `run:` script with its step, read in the step's dialect, in file order.
    pub fn run_scripts(self) -> impl Iterator<Item = (&'s Step<'a>, &'s RunScript<'a>)> {
        let (wf, action) = match self {
            Self::Workflow(wf) => (Some(wf), None),
            Self::Action(action) => (None, Some(action)),
        };
        let workflow_scripts = wf
            .into_iter()
            .flat_map(|wf| wf.run_scripts().map(|(_, step, rs)| (step, rs)));
        workflow_scripts.chain(action.into_iter().flat_map(|a| a.run_scripts()))
    }
}

/// An `[audits.<id>]` option that is not what the audit expects; the message names the option
/// and says what it takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidOption {
    pub message: String,
}

impl InvalidOption {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

/// An audit is a pure function of a document, its options and the facts: no I/O.
///
/// Hooks, from the whole file down: [`Audit::workflow`] or [`Audit::action`], then
/// [`Audit::document`], then the per-level hooks the engine walks to: [`Audit::job`],
/// [`Audit::step`], [`Audit::uses`], [`Audit::expr`] and [`Audit::run_script`]. An audit
/// implements the level it reads and never walks jobs or steps itself.
///
/// `if: false`: a job or step whose condition is constant-false (`if: false`, `${{ false }}`,
/// `false && …`) never runs, so no audit reports inside it. The models leave such jobs and steps
/// out after checking their shape, and the expression sites skip them, so the policy is applied
/// once for every hook and every audit (`ok-disabled.yml` in the fixtures checks it).
pub trait Audit: Declared + Send + Sync {
    /// The JSON schemas of this audit's options, by key (the keys of `[audits.<id>]` other than
    /// disable, severity and ignore), for the schema of `ciguard.toml`. Keep it next to
    /// [`Audit::validate_options`]: the schema test checks that they agree.
    fn options_schema(&self) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// Checks this audit's options; the message says what is wrong and what is expected.
    fn validate_options(&self, options: &toml::Table) -> Result<(), InvalidOption> {
        match options.keys().next() {
            None => Ok(()),
            Some(key) => Err(InvalidOption::new(format!(
                "`{}` takes no option `{key}`",
                self.meta().id
            ))),
        }
    }

    /// Audits a workflow. Called before [`Audit::document`] for the same file.
    fn workflow(&self, _cx: &AuditContext<'_>, _workflow: &Workflow<'_>, _out: &mut Vec<Finding>) {}

    /// Audits an action. Called before [`Audit::document`] for the same file.
    fn action(&self, _cx: &AuditContext<'_>, _action: &Action<'_>, _out: &mut Vec<Finding>) {}

    /// Audits a workflow or an action alike, for checks that need the whole document (state
    /// across expressions or steps); checks of one job, step, `uses:`, expression or script
    /// belong in that level's hook. The engine calls it for every workflow and action file,
    /// right after [`Audit::workflow`] or [`Audit::action`] and before the per-level hooks,
    /// with the same context.
    fn document(&self, _cx: &AuditContext<'_>, _doc: AnyDoc<'_, '_>, _out: &mut Vec<Finding>) {}

    /// Audits one job of a workflow.
    fn job<'a>(
        &self,
        _cx: &AuditContext<'_>,
        _wf: &Workflow<'a>,
        _job: &Job<'a>,
        _out: &mut Vec<Finding>,
    ) {
    }

    /// Audits one step of a workflow job (`job` is `Some`) or of a composite action.
    fn step<'a>(
        &self,
        _cx: &AuditContext<'_>,
        _doc: AnyDoc<'_, 'a>,
        _job: Option<&Job<'a>>,
        _step: &Step<'a>,
        _out: &mut Vec<Finding>,
    ) {
    }

    /// Audits one `uses:` of a step or reusable-workflow job, as the refs stage found it.
    fn uses<'a>(
        &self,
        _cx: &AuditContext<'_>,
        _doc: AnyDoc<'_, 'a>,
        _site: &UsesSite<'a>,
        _out: &mut Vec<Finding>,
    ) {
    }

    /// Audits one `${{ }}` expression or bare `if:` condition.
    fn expr<'a>(
        &self,
        _cx: &AuditContext<'_>,
        _doc: AnyDoc<'_, 'a>,
        _site: &Site<'a>,
        _out: &mut Vec<Finding>,
    ) {
    }

    /// Audits one `run:` script, read in its step's shell.
    fn run_script<'a>(
        &self,
        _cx: &AuditContext<'_>,
        _doc: AnyDoc<'_, 'a>,
        _step: &Step<'a>,
        _script: &RunScript<'a>,
        _out: &mut Vec<Finding>,
    ) {
    }

    fn dependabot(
        &self,
        _cx: &AuditContext<'_>,
        _config: &Dependabot<'_>,
        _out: &mut Vec<Finding>,
    ) {
    }

    /// Audits a pre-commit configuration's hook repositories.
    fn pre_commit(&self, _cx: &AuditContext<'_>, _config: &PreCommit<'_>, _out: &mut Vec<Finding>) {
    }
}
