//! Typed views of workflows, actions, Dependabot and pre-commit configurations over a YAML [`Document`],
//! built with shape checks so that audits can trust what they read.

mod action;
mod dependabot;
pub(crate) mod disabled;
pub mod permissions;
mod pre_commit;
pub mod release;
pub mod run_script;
pub mod scope;
pub mod secrets;
mod step;
pub mod uses;
pub mod version;
mod workflow;

pub use action::{Action, ActionRuns};
pub use dependabot::{Dependabot, Update};
pub use pre_commit::{HookRepo, PreCommit};
pub use release::Registry;
pub use step::Step;
pub use uses::{DockerImage, RepositoryUses, Uses};
pub use workflow::{Job, JobKind, Trigger, Workflow};

pub(crate) use step::is_expression;

/// The typed view of a parsed file: what the engine audits and the refs stage walks.
pub enum View<'a> {
    Workflow(Workflow<'a>),
    Action(Action<'a>),
    Dependabot(Dependabot<'a>),
    PreCommit(PreCommit<'a>),
}

impl<'a> View<'a> {
    /// The view of the kind `file` has, with the shape errors that prevent it (`None` then, and
    /// always for dependency files, which `ciguard-deps` reads).
    pub fn build(
        file: &'a std::sync::Arc<crate::source::SourceFile>,
        doc: &'a crate::yaml::Document,
    ) -> (Option<Self>, Vec<crate::diagnostic::Diagnostic>) {
        use crate::source::FileKind;
        match file.kind {
            FileKind::Workflow => {
                let (wf, diags) = Workflow::build(file, doc);
                (wf.map(View::Workflow), diags)
            }
            FileKind::Action => {
                let (action, diags) = Action::build(file, doc);
                (action.map(View::Action), diags)
            }
            FileKind::Dependabot => {
                let (config, diags) = Dependabot::build(file, doc);
                (config.map(View::Dependabot), diags)
            }
            FileKind::PreCommit => {
                let (config, diags) = PreCommit::build(file, doc);
                (config.map(View::PreCommit), diags)
            }
            FileKind::Dependencies => (None, Vec::new()),
        }
    }
}
