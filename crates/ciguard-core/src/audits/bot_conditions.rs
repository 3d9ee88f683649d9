use crate::audit::{AnyDoc, Audit, AuditContext};
use crate::declare_audit;
use crate::expr::sites::Site;
use crate::expr::{BinOp, Expr, ExprKind};
use crate::finding::{Finding, Location};
use crate::source::SourceFile;

declare_audit! {
    /// ## What it does
    ///
    /// Reports `if:` conditions that decide that a bot triggered the run by comparing
    /// `github.actor`, `github.triggering_actor` or `github.event.sender.login` with a bot's name
    /// (`github.actor == 'dependabot[bot]'`, `endsWith(github.actor, '[bot]')`), or
    /// `github.actor_id`, `github.triggering_actor_id` or `github.event.sender.id` with the
    /// account id of a well-known bot (`github.actor_id == 49699333`). Checks that
    /// exclude a bot (`github.actor != 'dependabot[bot]'`) are not reported: spoofing them
    /// only skips the step.
    ///
    /// ## Why is this bad?
    ///
    /// The actor is whoever caused the latest event of the run, not who wrote the change. Anyone
    /// who gets a bot to act on their pull request (for example with a `@dependabot rebase`
    /// comment) makes the bot the actor of a run on code they control, and the job meant for
    /// the bot's own changes (auto-merge, privileged updates) then runs for them. Check who
    /// opened the pull request instead: `github.event.pull_request.user.login`.
    ///
    /// ## Example
    ///
    /// ```yaml
    /// on: pull_request
    /// permissions: {}
    /// jobs:
    ///   merge:
    ///     if: github.actor == 'dependabot[bot]'
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: echo merging
    /// ```
    ///
    /// Use instead:
    ///
    /// ```yaml
    /// on: pull_request
    /// permissions: {}
    /// jobs:
    ///   merge:
    ///     if: github.event.pull_request.user.login == 'dependabot[bot]'
    ///     runs-on: ubuntu-latest
    ///     steps:
    ///       - run: echo merging
    /// ```
    ///
    /// ## Fix
    ///
    /// None automatic: replace the actor with `github.event.pull_request.user.login` (the pull
    /// request's author) where that is what the condition means.
    pub struct BotConditions {
        id: "bot-conditions",
        summary: "spoofable bot actor check",
        severity: High,
        confidence: Medium,
        persona: Regular,
        inputs: [Workflow, Action],
        needs_network: false,
        fix: None,
    }
}

impl Audit for BotConditions {
    fn expr(
        &self,
        _cx: &AuditContext<'_>,
        doc: AnyDoc<'_, '_>,
        site: &Site<'_>,
        out: &mut Vec<Finding>,
    ) {
        check(doc.file(), site, out);
    }
}

const SPOOFABLE: &[&str] = &[
    "github.actor",
    "github.triggering_actor",
    "github.event.sender.login",
];

/// The id contexts of the same actors, compared with a bot's account id.
const SPOOFABLE_IDS: &[&str] = &[
    "github.actor_id",
    "github.triggering_actor_id",
    "github.event.sender.id",
];

/// Account ids of dependabot[bot], renovate[bot], github-actions[bot] and dependabot-preview[bot].
const BOT_IDS: &[&str] = &["49699333", "29139614", "41898282", "27856297"];

fn check(file: &std::sync::Arc<SourceFile>, site: &Site<'_>, out: &mut Vec<Finding>) {
    if !site.is_condition {
        return;
    }
    site.expr.walk(&mut |e| {
        let (ctx, lit) = match &e.kind {
            // `!=` only excludes the bot: spoofing it makes the check skip, not pass.
            ExprKind::Binary { op: BinOp::Eq, lhs, rhs } => match (lhs.ungroup(), rhs.ungroup()) {
                (c, Expr { kind: ExprKind::String(s), .. }) | (Expr { kind: ExprKind::String(s), .. }, c) => (c, s.clone()),
                (c, Expr { kind: ExprKind::Number(n), .. }) | (Expr { kind: ExprKind::Number(n), .. }, c) => (c, n.to_string()),
                _ => return,
            },
            ExprKind::Call { name, args } if matches!(name.to_ascii_lowercase().as_str(), "contains" | "startswith" | "endswith") => match args.as_slice() {
                [c, Expr { kind: ExprKind::String(s), .. }] => (c, s.clone()),
                _ => return,
            },
            _ => return,
        };
        let Some(path) = ctx.context_path() else { return };
        let shown = path.to_string();
        let lit = lit.to_ascii_lowercase();
        let names_bot = SPOOFABLE.contains(&shown.as_str())
            && (lit.contains("[bot]") || lit.contains("dependabot") || lit.contains("renovate") || lit.ends_with("-bot"));
        let ids_bot = SPOOFABLE_IDS.contains(&shown.as_str()) && BOT_IDS.contains(&lit.trim());
        if !(names_bot || ids_bot) {
            return;
        }
        let at = site.file_span(file, ctx.span);
        let msg = format!("`{shown}` is whoever caused the latest event, not who wrote the change; a bot can be made to act on someone else's pull request");
        out.push(Finding::new(&BotConditions::META, msg, Location::file(file, at, site.route.clone(), "spoofable actor check")));
    });
}
