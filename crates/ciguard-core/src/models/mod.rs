//! Typed views of workflows, actions and Dependabot configurations over a YAML [`Document`],
//! built with shape checks so that audits can trust what they read.

mod action;
mod dependabot;
pub mod permissions;
pub mod release;
pub mod secrets;
pub(crate) mod sites;
mod step;
pub mod uses;
pub mod version;
mod workflow;

pub use action::{Action, ActionRuns};
pub use dependabot::{Dependabot, Update};
pub use release::Registry;
pub use step::Step;
pub use uses::{DockerImage, RepositoryUses, Uses};
pub use workflow::{Job, JobKind, Trigger, Workflow};

pub(crate) use step::is_expression;
