//! `ciguard settings`: audit repository and organization settings, export them as a snapshot, and
//! write (or apply) the recommended baseline.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use ciguard_core::Report;
use ciguard_core::config::Config;
use ciguard_settings::live::LiveSource;
use ciguard_settings::recommend::{self, Reviewer};
use ciguard_settings::{DirSource, Options, Recorder, Source, Target};

use crate::commands::render::{ColorChoice, OutputFormat, render_report};
use ciguard_pipeline::network;

use crate::commands::exit::ExitStatus;
use crate::commands::filter_args::{FilterArgs, config_choice};

#[derive(Debug, clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct SettingsArgs {
    #[command(subcommand)]
    pub command: Option<SettingsCommand>,

    /// `owner/repo` or `org:NAME` (every repository of the organization). With `--from`, defaults
    /// to everything in the snapshot.
    pub targets: Vec<String>,

    #[command(flatten)]
    pub read: ReadArgs,

    #[command(flatten)]
    pub options: OptionArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Plain)]
    pub format: OutputFormat,

    /// When to colour plain output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    #[command(flatten)]
    pub filter: FilterArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum SettingsCommand {
    /// Write every API answer the audit reads into a snapshot directory.
    Export {
        /// `owner/repo` or `org:NAME`.
        targets: Vec<String>,
        /// The snapshot directory to write.
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        options: OptionArgs,
    },
    /// Write the hardened baseline: rulesets in GitHub's import format, the release environment and
    /// the Actions and release settings. With `owner/repo`, show what would change.
    Recommend {
        /// Compare with (and with `--apply`, change) this repository.
        target: Option<String>,
        /// Write `recommend.json` and one importable file per ruleset into this directory.
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// After printing the dry-run diff, create the rulesets and change the settings through the API.
        #[arg(long, requires = "target")]
        apply: bool,
        /// A required reviewer of the release environment: `team:ID` or `user:ID`.
        #[arg(long, value_parser = recommend::parse_reviewer)]
        reviewer: Vec<Reviewer>,
        /// The default branch allowed to deploy (read from the repository when one is given).
        #[arg(long)]
        default_branch: Option<String>,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        options: OptionArgs,
    },
}

#[derive(Debug, Clone, clap::Args)]
pub struct ReadArgs {
    /// Read a snapshot directory (written by `settings export` or by hand) instead of the API.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// GitHub API base URL (default: $GITHUB_API_URL, else https://api.github.com).
    #[arg(long)]
    pub github_api_url: Option<String>,
    /// GitHub token (default: $GH_TOKEN, then $GITHUB_TOKEN).
    #[arg(long)]
    pub gh_token: Option<String>,
}

#[derive(Debug, Clone, clap::Args)]
pub struct OptionArgs {
    /// Configuration file whose `[settings]` table holds the options (default: ./ciguard.toml).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A branch name pattern whose creation must be forbidden (repeatable; replaces the default
    /// `advisory-*`, `internal-*`).
    #[arg(long = "forbid-branch")]
    pub forbid_branch: Vec<String>,
    /// A release tag pattern (repeatable; default `v*`).
    #[arg(long = "release-tag")]
    pub release_tag: Vec<String>,
    /// The environment releases deploy to.
    #[arg(long)]
    pub release_environment: Option<String>,
    /// The most organization owners that pass.
    #[arg(long)]
    pub max_owners: Option<usize>,
}

impl OptionArgs {
    fn options(&self) -> anyhow::Result<Options> {
        let config = match &self.config {
            Some(p) => Some(Config::load(p, super::catalogue())?),
            None => Config::load_discovered(Path::new("."), super::catalogue())?,
        };
        let mut options = match config {
            Some(config) => {
                let path = config.path.clone().unwrap_or_default();
                match config.raw.get("settings") {
                    Some(toml::Value::Table(t)) => Options::from_toml(t)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
                    Some(_) => bail!("{}: `settings` must be a table", path.display()),
                    None => Options::default(),
                }
            }
            None => Options::default(),
        };
        if !self.forbid_branch.is_empty() {
            options.forbidden_branches = self.forbid_branch.clone();
        }
        if !self.release_tag.is_empty() {
            options.release_tags = self.release_tag.clone();
        }
        if let Some(e) = &self.release_environment {
            options.release_environment = Some(e.clone());
        }
        if let Some(n) = self.max_owners {
            options.max_owners = n;
        }
        Ok(options)
    }
}

fn parse_targets(raw: &[String]) -> anyhow::Result<Vec<Target>> {
    raw.iter()
        .map(|t| Target::parse(t).map_err(anyhow::Error::msg))
        .collect()
}

/// The source settings are read from: the snapshot, or the live API.
fn source(read: &ReadArgs) -> anyhow::Result<Box<dyn Source>> {
    match &read.from {
        Some(dir) => {
            if !dir.is_dir() {
                bail!("{}: not a snapshot directory", dir.display());
            }
            Ok(Box::new(DirSource::new(dir)))
        }
        None => live_source(read),
    }
}

/// The GitHub client: no disk cache, since settings answers (secret names, bypass lists) are
/// sensitive and change; ETag revalidation would save little.
fn client(read: &ReadArgs) -> ciguard_github::Client {
    let config = ciguard_github::ClientConfig::from_flags(
        read.github_api_url.as_deref(),
        read.gh_token.as_deref(),
        None,
        true,
        false,
    );
    if config.token.is_none() {
        eprintln!(
            "note: no token (--gh-token, GH_TOKEN or GITHUB_TOKEN); most settings need one and will be unknown"
        );
    }
    ciguard_github::Client::new(config)
}

fn live_source(read: &ReadArgs) -> anyhow::Result<Box<dyn Source>> {
    Ok(Box::new(LiveSource::new(client(read))))
}

/// Progress on stderr, only when it is a terminal and `-q` was not given.
fn progress() -> impl FnMut(usize, usize, &str) {
    let tty = std::io::stderr().is_terminal() && !crate::terminal::quiet();
    move |done, total, repo| {
        if !tty {
            return;
        }
        let mut err = std::io::stderr();
        if repo.is_empty() {
            let _ = write!(err, "\r\x1b[2K");
        } else {
            let width = 30;
            let filled = (done * width).checked_div(total).unwrap_or(width);
            let _ = write!(
                err,
                "\r\x1b[2K[{}{}] {done}/{total} {repo}",
                "#".repeat(filled),
                "-".repeat(width - filled)
            );
        }
        let _ = err.flush();
    }
}

fn web_url(read: &ReadArgs) -> Option<String> {
    let api = read
        .github_api_url
        .clone()
        .or_else(|| std::env::var("GITHUB_API_URL").ok())?;
    let api = api.trim_end_matches('/');
    if api == "https://api.github.com" {
        return None;
    }
    // GitHub Enterprise Server: https://HOST/api/v3 → https://HOST
    api.strip_suffix("/api/v3").map(str::to_owned)
}

pub fn run(args: SettingsArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        Some(SettingsCommand::Export {
            targets,
            output,
            read,
            options,
        }) => export(&targets, &output, &read, &options),
        Some(SettingsCommand::Recommend {
            target,
            output,
            apply,
            reviewer,
            default_branch,
            read,
            options,
        }) => run_recommend(
            target.as_deref(),
            output.as_deref(),
            apply,
            &reviewer,
            default_branch,
            &read,
            &options,
        ),
        None => audit(&args),
    }
}

fn audit(args: &SettingsArgs) -> anyhow::Result<ExitCode> {
    let (raw, read, opt, format, color) = (
        &args.targets,
        &args.read,
        &args.options,
        args.format,
        args.color,
    );
    // The `[audits.<id>]` tables of the configuration whose `[settings]` table is read.
    let filter = ciguard_pipeline::FindingFilter {
        config: config_choice(opt.config.clone(), false).for_root(Path::new("."))?,
        baseline: ciguard_pipeline::run::load_baseline_opt(args.filter.baseline.as_deref())?,
        view: args.filter.view(),
    };
    let mut options = opt.options()?;
    if let Some(web) = web_url(read) {
        options.web_url = web;
    }
    let mut targets = parse_targets(raw)?;
    if targets.is_empty() {
        match &read.from {
            Some(dir) => targets = ciguard_settings::snapshot_targets(dir)?,
            None => bail!("name a repository (`owner/repo`) or an organization (`org:NAME`)"),
        }
        if targets.is_empty() {
            bail!(
                "{}: the snapshot holds no repos/OWNER/REPO.json or orgs/NAME.json",
                read.from.as_deref().unwrap_or(Path::new(".")).display()
            );
        }
    }
    // Live, the client is kept to say once why requests failed.
    let live = read.from.is_none().then(|| LiveSource::new(client(read)));
    let snapshot = match &read.from {
        Some(_) => Some(source(read)?),
        None => None,
    };
    let src: &dyn Source = match (&live, &snapshot) {
        (Some(live), _) => live,
        (None, Some(snapshot)) => snapshot.as_ref(),
        (None, None) => bail!("no settings source"),
    };
    let report = ciguard_settings::audit(src, &options, &targets, &mut progress());
    let counts = report.counts();
    let nothing_ran = report.nothing_ran();
    let found = report.into_report();
    let (findings, suppressed) = filter.apply_all(found.findings);
    let mut report = ciguard_pipeline::report::assemble(
        findings,
        found.diagnostics,
        found.notes,
        found.files_audited,
        &ciguard_pipeline::Suppressed {
            ignored: suppressed.ignored + found.suppressed,
            ..suppressed
        },
    );
    for d in &report.diagnostics {
        eprintln!("{d}");
    }
    let mut network_failed = false;
    if let Some(live) = &live {
        let client = live.client();
        report.notes = network::explain(client, std::mem::take(&mut report.notes));
        network_failed =
            nothing_ran && client.config().token.is_some() && !client.network_failures().is_empty();
    }
    if nothing_ran && format == OutputFormat::Plain {
        render_nothing_ran(color, &report, counts.unknown)?;
    } else {
        if nothing_ran {
            report.notes.push(format!(
                "settings: 0 of {} checks could run; no finding means nothing was checked",
                counts.unknown
            ));
        }
        render(format, color, &report)?;
    }
    // Nothing could run for a network cause: 4. Otherwise an incomplete audit must not pass as
    // clean: unknowns without findings are "input could not be read".
    let status = ExitStatus::for_report(&report, args.filter.no_exit_codes)
        .with_online_failure(network_failed);
    Ok(if status == ExitStatus::Clean && counts.unknown > 0 {
        ExitStatus::InputError
    } else {
        status
    }
    .into())
}

/// Plain output when no check could run: the notes (what could not be read and why), then
/// "0 of N checks could run" in place of the file audit's "no findings" summary line.
fn render_nothing_ran(color: ColorChoice, report: &Report, checks: usize) -> anyhow::Result<()> {
    let mut text = Vec::new();
    render_report(OutputFormat::Plain, color, report, &mut text)?;
    let text = String::from_utf8_lossy(&text);
    let body = text
        .trim_end()
        .rsplit_once('\n')
        .map_or("", |(body, _)| body);
    let mut out = std::io::stdout().lock();
    if !body.is_empty() {
        writeln!(out, "{body}")?;
    }
    writeln!(
        out,
        "0 of {checks} settings checks could run: nothing was audited (see the notes above)"
    )?;
    Ok(())
}

fn render(format: OutputFormat, color: ColorChoice, report: &Report) -> anyhow::Result<()> {
    render_report(format, color, report, &mut std::io::stdout().lock())
}

fn export(
    raw: &[String],
    output: &Path,
    read: &ReadArgs,
    opt: &OptionArgs,
) -> anyhow::Result<ExitCode> {
    let targets = parse_targets(raw)?;
    if targets.is_empty() {
        bail!("name a repository (`owner/repo`) or an organization (`org:NAME`) to export");
    }
    let options = opt.options()?;
    let src = source(read)?;
    let recorder = Recorder::new(src.as_ref());
    let report = ciguard_settings::audit(&recorder, &options, &targets, &mut progress());
    std::fs::create_dir_all(output)
        .with_context(|| format!("cannot create {}", output.display()))?;
    let files = recorder.write(output)?;
    eprintln!(
        "wrote {files} files to {}; {}",
        output.display(),
        report.summary()
    );
    Ok(ExitCode::SUCCESS)
}

fn run_recommend(
    target: Option<&str>,
    output: Option<&Path>,
    apply: bool,
    reviewers: &[Reviewer],
    default_branch: Option<String>,
    read: &ReadArgs,
    opt: &OptionArgs,
) -> anyhow::Result<ExitCode> {
    let options = opt.options()?;
    let env = options
        .release_environment
        .clone()
        .unwrap_or_else(|| "release".to_owned());
    let target = target
        .map(Target::parse)
        .transpose()
        .map_err(anyhow::Error::msg)?;
    let repo = match &target {
        Some(Target::Repo { owner, name }) => Some((owner.clone(), name.clone())),
        Some(Target::Org(_)) => bail!("`recommend` works on one repository (`owner/repo`)"),
        None => None,
    };
    let src = match &repo {
        Some(_) => Some(source(read)?),
        None => None,
    };
    let branch = match (&default_branch, &repo, &src) {
        (Some(b), _, _) => b.clone(),
        (None, Some((o, n)), Some(src)) => src
            .get(&format!("repos/{o}/{n}"))
            .ok()
            .and_then(|a| {
                a.body
                    .get("default_branch")
                    .and_then(|b| b.as_str())
                    .map(str::to_owned)
            })
            .unwrap_or_else(|| "main".to_owned()),
        _ => "main".to_owned(),
    };
    if reviewers.is_empty() {
        eprintln!(
            "note: no `--reviewer team:ID` given; the release environment needs at least one required reviewer"
        );
    }
    let rec = recommend::recommend(&options, &env, &branch, reviewers);
    if let Some(dir) = output {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let write = |name: String, v: &serde_json::Value| -> anyhow::Result<()> {
            let path = dir.join(name);
            let mut text = serde_json::to_string_pretty(v)?;
            text.push('\n');
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
        };
        write("recommend.json".into(), &rec)?;
        for rs in rec["rulesets"].as_array().into_iter().flatten() {
            let name = rs["name"].as_str().unwrap_or("ruleset").replace(' ', "-");
            write(format!("ruleset-{name}.json"), rs)?;
        }
        eprintln!(
            "wrote {} (import the ruleset-*.json files under Settings → Rules → Import a ruleset)",
            dir.display()
        );
    }
    let (Some((owner, name)), Some(src)) = (repo, src) else {
        if output.is_none() {
            println!("{}", serde_json::to_string_pretty(&rec)?);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let changes = recommend::plan(src.as_ref(), &rec, &owner, &name);
    let mut out = std::io::stdout().lock();
    for c in &changes {
        writeln!(out, "{} {}", c.method, c.path)?;
        write!(out, "{}", c.diff)?;
    }
    writeln!(out, "{} changes", changes.len())?;
    if apply {
        if read.from.is_some() {
            bail!("`--apply` writes through the API; it cannot apply to a snapshot (`--from`)");
        }
        apply_changes(read, &changes)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn apply_changes(read: &ReadArgs, changes: &[recommend::Change]) -> anyhow::Result<()> {
    let n = ciguard_settings::live::apply(&client(read), changes).map_err(anyhow::Error::msg)?;
    eprintln!("applied {n} changes");
    Ok(())
}
