//! The audit trait, its declaration, and what an audit is given.

use crate::actions_lock::ActionsLock;
use crate::facts::Facts;
use crate::finding::{Confidence, Finding, Persona, Severity};
use std::sync::Arc;

use crate::expr::sites::Site;
use crate::models::sites::UsesSite;
use crate::models::{Action, Dependabot, Job, Step, Workflow};
use crate::shell::map::RunScript;
use crate::source::{FileKind, SourceFile};
use crate::yaml::Node;

/// What fix an audit can offer, for the catalogue and the docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FixAvailability {
    None,
    Safe,
    Unsafe,
    DisplayOnly,
}

impl FixAvailability {
    pub fn as_str(self) -> &'static str {
        match self {
            FixAvailability::None => "none",
            FixAvailability::Safe => "safe",
            FixAvailability::Unsafe => "unsafe",
            FixAvailability::DisplayOnly => "display-only",
        }
    }
}

/// Everything known about an audit without running it.
#[derive(Debug)]
pub struct AuditMeta {
    pub id: &'static str,
    pub summary: &'static str,
    /// The user documentation: the audit's doc comment, verbatim.
    pub docs: &'static str,
    pub severity: Severity,
    pub confidence: Confidence,
    pub persona: Persona,
    pub inputs: &'static [FileKind],
    pub needs_network: bool,
    pub fix: FixAvailability,
}

impl AuditMeta {
    /// The doc comment with the one space `///` leaves at the start of each line removed.
    pub fn documentation(&self) -> String {
        let mut out = String::new();
        for line in self.docs.lines() {
            out.push_str(line.strip_prefix(' ').unwrap_or(line));
            out.push('\n');
        }
        out
    }

    /// The body of a `## Heading` section of the documentation.
    pub fn section(&self, heading: &str) -> Option<String> {
        let docs = self.documentation();
        let marker = format!("## {heading}\n");
        let start = docs.find(&marker)? + marker.len();
        let end = docs[start..]
            .find("\n## ")
            .map_or(docs.len(), |i| start + i + 1);
        Some(docs[start..end].to_owned())
    }
}

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

    /// Every `uses:` that can run (not `if: false`), in file order.
    pub(crate) fn uses_sites(self) -> &'s [UsesSite<'a, 'a>] {
        match self {
            Self::Workflow(wf) => wf.uses_sites(),
            Self::Action(action) => action.uses_sites(),
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
pub trait Audit: Send + Sync {
    fn meta(&self) -> &'static AuditMeta;

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

    /// Audits a workflow or an action alike, for checks that read only what both have (the
    /// file, the root, the expressions, the `uses:`). The engine calls it for every workflow
    /// and action file, right after [`Audit::workflow`] or [`Audit::action`] and with the same
    /// context, so an audit's findings for a file are those of the specific hook, then these.
    fn document(&self, _cx: &AuditContext<'_>, _doc: AnyDoc<'_, '_>, _out: &mut Vec<Finding>) {}

    fn dependabot(
        &self,
        _cx: &AuditContext<'_>,
        _config: &Dependabot<'_>,
        _out: &mut Vec<Finding>,
    ) {
    }
}

/// Declares an audit: its doc comment becomes its documentation, the fields its [`AuditMeta`].
#[macro_export]
macro_rules! declare_audit {
    (
        $(#[doc = $doc:literal])*
        $vis:vis struct $name:ident {
            id: $id:literal,
            summary: $summary:literal,
            severity: $severity:ident,
            confidence: $confidence:ident,
            persona: $persona:ident,
            inputs: [$($input:ident),* $(,)?],
            needs_network: $network:literal,
            fix: $fix:ident $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        $vis struct $name;

        impl $name {
            pub const META: $crate::audit::AuditMeta = $crate::audit::AuditMeta {
                id: $id,
                summary: $summary,
                docs: concat!($($doc, "\n"),*),
                severity: $crate::finding::Severity::$severity,
                confidence: $crate::finding::Confidence::$confidence,
                persona: $crate::finding::Persona::$persona,
                inputs: &[$($crate::source::FileKind::$input),*],
                needs_network: $network,
                fix: $crate::audit::FixAvailability::$fix,
            };
        }
    };
}
