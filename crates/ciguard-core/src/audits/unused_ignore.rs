use crate::audit::Audit;
use crate::declare_audit;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `# ciguard: ignore[audit-id]` comments that suppress nothing: the audit found
    /// nothing on those lines, or the id is not an audit. It is checked while suppressing, after
    /// every other audit has run, so it has no fixtures of its own; see `suppress.rs` tests.
    ///
    /// ## Why is this bad?
    ///
    /// A stale ignore outlives the problem it excused and will silently hide the next, real
    /// finding of that audit on the same line.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make test # ciguard: ignore[unpinned-uses] nothing is unpinned here
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: push
    /// permissions: {}
    /// jobs:
    ///   test:
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: make test
    /// ```
    ///
    /// ## Fix
    ///
    /// Remove the comment, or correct the audit id.
    pub struct UnusedIgnore {
        id: "unused-ignore",
        summary: "inline ignore comments that suppress nothing",
        severity: Low,
        confidence: High,
        persona: Pedantic,
        inputs: [],
        needs_network: false,
        fix: None,
    }
}

impl Audit for UnusedIgnore {}
