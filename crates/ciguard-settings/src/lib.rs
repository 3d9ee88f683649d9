//! `ciguard settings`: audits of GitHub repository and organization settings (rulesets, bypass,
//! Actions, environments, secrets, releases, organization) against a hardened baseline, read
//! through a [`snapshot::Source`] (live API or a snapshot directory), and the recommended baseline
//! as importable rulesets.
//!
//! Every check has three outcomes: pass, fail (findings) or unknown (the token could not read what
//! the check needs; never counted as a pass).

pub mod checks;
mod error;
pub mod fnmatch;
pub mod gather;
pub mod live;
pub mod options;
pub mod options_schema;
pub mod recommend;
pub mod server;
pub mod snapshot;

use std::collections::BTreeSet;

use ciguard_core::diagnostic::{Diagnostic, Level};
use ciguard_core::{AuditMeta, Finding, Report};

pub use checks::{Check, Outcome, State};
pub use error::Error;
pub use gather::Unknown;
pub use options::Options;
pub use snapshot::{Answer, DirSource, MemorySource, Recorder, Source};

/// The outcome of one check on one repository or organization.
#[derive(Debug)]
pub struct CheckResult {
    pub check: &'static str,
    /// `owner/repo` or `org NAME`.
    pub subject: String,
    pub outcome: Outcome,
}

/// Everything a settings run found.
#[derive(Debug, Default)]
pub struct SettingsReport {
    pub results: Vec<CheckResult>,
    orgs_done: BTreeSet<String>,
}

/// Passes, failures and unknowns, counted per check and subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub unknown: usize,
}

impl SettingsReport {
    pub fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in &self.results {
            match r.outcome.state() {
                State::Pass => c.passed += 1,
                State::Fail => c.failed += 1,
                State::Unknown => c.unknown += 1,
            }
        }
        c
    }

    /// Whether no check could run at all (every one unknown): nothing was audited.
    pub fn nothing_ran(&self) -> bool {
        let c = self.counts();
        c.passed == 0 && c.failed == 0
    }

    pub fn summary(&self) -> String {
        let c = self.counts();
        if self.nothing_ran() {
            return format!(
                "settings checks: 0 of {} could run ({} unknown)",
                c.unknown, c.unknown
            );
        }
        format!(
            "settings checks: {} passed, {} failed, {} unknown",
            c.passed, c.failed, c.unknown
        )
    }

    /// One error per answer that was read but is not valid (a truncated snapshot file, a body
    /// that is not JSON): a broken input, not a setting the token may not read.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut out: Vec<Diagnostic> = Vec::new();
        for u in self.results.iter().flat_map(|r| &r.outcome.unknowns) {
            let Some(gather::Reason::Invalid(why)) = &u.reason else {
                continue;
            };
            if !out.iter().any(|d| d.path == u.what) {
                out.push(
                    Diagnostic::file(
                        Level::Error,
                        u.what.clone(),
                        format!("GitHub's answer is not valid: {why}"),
                    )
                    .help("the checks that need it are unknown, not passed"),
                );
            }
        }
        out
    }

    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.results.iter().flat_map(|r| r.outcome.findings.iter())
    }

    /// One line per unknown (what could not be read and the permission it needs), then the summary.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        for r in &self.results {
            for u in &r.outcome.unknowns {
                let line = format!("unknown: {} on {}: {}", r.check, r.subject, u.describe());
                if !notes.contains(&line) {
                    notes.push(line);
                }
            }
        }
        notes.push(self.summary());
        notes
    }

    /// The findings and notes as a core [`Report`] for the shared output formats.
    pub fn into_report(self) -> Report {
        let notes = self.notes();
        let diagnostics = self.diagnostics();
        let mut report = Report {
            diagnostics,
            findings: self
                .results
                .into_iter()
                .flat_map(|r| r.outcome.findings)
                .collect(),
            notes,
            ..Report::default()
        };
        report.sort();
        report
    }

    /// Audits one repository, and its organization once if it belongs to one.
    pub fn audit_repo(&mut self, src: &dyn Source, options: &Options, owner: &str, name: &str) {
        let full = format!("{owner}/{name}");
        let (outcomes, owner_is_org) = repo_outcomes(src, options, owner, name);
        for (meta, outcome) in outcomes {
            self.results.push(CheckResult {
                check: meta.id,
                subject: full.clone(),
                outcome,
            });
        }
        if owner_is_org {
            self.audit_org_settings(src, options, owner);
        }
    }

    /// Audits the organization's own settings (once per run).
    pub fn audit_org_settings(&mut self, src: &dyn Source, options: &Options, login: &str) {
        if !self.orgs_done.insert(login.to_ascii_lowercase()) {
            return;
        }
        for (meta, outcome) in org_outcomes(src, options, login) {
            self.results.push(CheckResult {
                check: meta.id,
                subject: format!("org {login}"),
                outcome,
            });
        }
    }

    /// Audits an organization and every non-archived repository of it; `progress(done, total, repo)`
    /// is called before each repository.
    pub fn audit_org(
        &mut self,
        src: &dyn Source,
        options: &Options,
        login: &str,
        progress: &mut dyn FnMut(usize, usize, &str),
    ) {
        self.audit_org_settings(src, options, login);
        match gather::org_repos(src, login) {
            Ok(repos) => {
                let total = repos.len();
                for (i, name) in repos.iter().enumerate() {
                    progress(i, total, name);
                    self.audit_repo(src, options, login, name);
                }
                progress(total, total, "");
            }
            Err(u) => {
                let mut outcome = Outcome::default();
                outcome.unknown(&u);
                self.results.push(CheckResult {
                    check: "settings-repositories",
                    subject: format!("org {login}"),
                    outcome,
                });
            }
        }
    }
}

/// The outcome of every repository check on `owner/name` (each unknown when the repository
/// cannot be read), and whether its owner is an organization. `ciguard settings` and the App's
/// drift job both run the checks through this.
pub fn repo_outcomes(
    src: &dyn Source,
    options: &Options,
    owner: &str,
    name: &str,
) -> (Vec<(&'static AuditMeta, Outcome)>, bool) {
    let cx = checks::Cx { options };
    let repo = gather::repo(src, owner, name);
    let outcomes = checks::all()
        .iter()
        .filter(|c| !c.is_org_check())
        .map(|check| {
            let mut outcome = Outcome::default();
            match &repo {
                Ok(repo) => check.repo(&cx, repo, &mut outcome),
                Err(u) => outcome.unknown(u),
            }
            (check.meta(), outcome)
        })
        .collect();
    (outcomes, repo.is_ok_and(|r| r.owner_is_org))
}

/// The outcome of every organization check on `login` (each unknown when it cannot be read).
pub fn org_outcomes(
    src: &dyn Source,
    options: &Options,
    login: &str,
) -> Vec<(&'static AuditMeta, Outcome)> {
    let cx = checks::Cx { options };
    let org = gather::org(src, login);
    checks::all()
        .iter()
        .filter(|c| c.is_org_check())
        .map(|check| {
            let mut outcome = Outcome::default();
            match &org {
                Ok(org) => check.org(&cx, org, &mut outcome),
                Err(u) => outcome.unknown(u),
            }
            (check.meta(), outcome)
        })
        .collect()
}

/// What `ciguard settings` was asked to audit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Repo { owner: String, name: String },
    Org(String),
}

impl Target {
    /// Parses `owner/repo` or `org:NAME`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        let valid = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        if let Some(org) = s.strip_prefix("org:") {
            return if valid(org) {
                Ok(Target::Org(org.to_owned()))
            } else {
                Err(Error::argument(s, "not a valid organization name"))
            };
        }
        match s.split_once('/') {
            Some((o, r)) if valid(o) && valid(r) => Ok(Target::Repo {
                owner: o.to_owned(),
                name: r.to_owned(),
            }),
            _ => Err(Error::argument(s, "expected `owner/repo` or `org:NAME`")),
        }
    }
}

/// The targets a snapshot directory holds: every `repos/OWNER/REPO.json`, and every
/// `orgs/NAME.json` whose repositories are not in it (for organization-only snapshots).
pub fn snapshot_targets(dir: &std::path::Path) -> Result<Vec<Target>, snapshot::Error> {
    fn io(path: &std::path::Path) -> impl Fn(std::io::Error) -> snapshot::Error + '_ {
        move |source| snapshot::Error::Io {
            path: path.to_owned(),
            source,
        }
    }
    let mut out = Vec::new();
    let repos = dir.join("repos");
    if repos.is_dir() {
        let mut owners: Vec<_> = std::fs::read_dir(&repos)
            .map_err(io(&repos))?
            .filter_map(Result::ok)
            .collect();
        owners.sort_by_key(|e| e.file_name());
        for owner in owners.iter().filter(|e| e.path().is_dir()) {
            let mut files: Vec<_> = std::fs::read_dir(owner.path())
                .map_err(io(&owner.path()))?
                .filter_map(Result::ok)
                .collect();
            files.sort_by_key(|e| e.file_name());
            for f in files {
                let name = f.file_name().to_string_lossy().into_owned();
                let stem = name
                    .strip_suffix(".json")
                    .or_else(|| name.strip_suffix(".status"));
                if let (Some(stem), Some(o)) = (stem, owner.file_name().to_str()) {
                    let t = Target::Repo {
                        owner: o.to_owned(),
                        name: stem.to_owned(),
                    };
                    if !out.contains(&t) {
                        out.push(t);
                    }
                }
            }
        }
    }
    let orgs = dir.join("orgs");
    if orgs.is_dir() {
        let mut files: Vec<_> = std::fs::read_dir(&orgs)
            .map_err(io(&orgs))?
            .filter_map(Result::ok)
            .collect();
        files.sort_by_key(|e| e.file_name());
        for f in files {
            let name = f.file_name().to_string_lossy().into_owned();
            if let Some(org) = name.strip_suffix(".json") {
                let has_repos = out.iter().any(
                    |t| matches!(t, Target::Repo { owner, .. } if owner.eq_ignore_ascii_case(org)),
                );
                if !has_repos {
                    out.push(Target::Org(org.to_owned()));
                }
            }
        }
    }
    Ok(out)
}

/// Audits targets through a source.
pub fn audit(
    src: &dyn Source,
    options: &Options,
    targets: &[Target],
    progress: &mut dyn FnMut(usize, usize, &str),
) -> SettingsReport {
    let mut report = SettingsReport::default();
    for t in targets {
        match t {
            Target::Repo { owner, name } => report.audit_repo(src, options, owner, name),
            Target::Org(login) => report.audit_org(src, options, login, progress),
        }
    }
    report
}
