//! `ciguard deps`: lockfiles against their registries (cooldowns, yanked versions), mutable
//! dependency sources, and cooldown settings of update bots and package managers.

use std::path::PathBuf;
use std::process::ExitCode;

use std::io::Write;

use ciguard_core::Report;
use ciguard_deps::{ClientOptions, DepsConfig, DepsOptions, RegistryClient, RepoFiles};

use crate::commands::exit;
use crate::commands::render::{ColorChoice, OutputFormat, render_report};

const CONFIG_HELP: &str = r#"Configuration (`ciguard.toml` or `.github/ciguard.toml`):

  [deps]
  cooldown-days = 7            # every ecosystem; 0 turns the cooldown check off
  exempt = ["acme-*"]          # first-party packages (`*` at the end = prefix); never looked up

  [deps.cargo]                 # also [deps.pypi] and [deps.npm]
  cooldown-days = 3
  exempt = ["my-crate"]

  [deps.registries]            # base URLs, same keys as --registry-url
  crates-io = "https://index.crates.io"
  pypi = "https://pypi.org"
  npm = "https://registry.npmjs.org""#;

#[derive(Debug, clap::Args)]
#[command(after_long_help = CONFIG_HELP)]
pub struct DepsArgs {
    /// The repository (or one lockfile) to check.
    #[arg(default_value = ".")]
    pub path: PathBuf,

    /// Use only the cache; never ask a registry. Versions the cache does not know are listed.
    #[arg(long)]
    pub offline: bool,

    /// Neither read nor write the on-disk cache of publish dates.
    #[arg(long)]
    pub no_cache: bool,

    /// Where publish dates are cached (default: `$XDG_CACHE_HOME/ciguard/registry`).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// A registry base URL, `crates-io=URL`, `pypi=URL` or `npm=URL` (repeatable); also
    /// `[deps.registries]` in `ciguard.toml`.
    #[arg(long, value_name = "KEY=URL")]
    pub registry_url: Vec<String>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Plain)]
    pub format: OutputFormat,

    /// When to colour plain output (`auto` honours NO_COLOR and whether stdout is a terminal).
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// The cooldown in days for every ecosystem (overrides `[deps] cooldown-days`).
    #[arg(long, value_name = "DAYS")]
    pub cooldown_days: Option<u32>,
}

pub fn run(args: DepsArgs) -> anyhow::Result<ExitCode> {
    let (repo, walk_diagnostics) = RepoFiles::discover(&args.path);
    let mut config = match DepsConfig::load(&repo.root) {
        Ok(c) => c,
        Err(d) => {
            eprintln!("{d}");
            return Ok(ExitCode::from(super::EXIT_TOOL_FAILURE));
        }
    };
    if let Some(days) = args.cooldown_days {
        config.cooldown_days = i64::from(days);
        config
            .ecosystems
            .values_mut()
            .for_each(|e| e.cooldown_days = None);
    }
    let mut options = ClientOptions::default();
    for (key, url) in &config.registries {
        options.urls.set(key, url).map_err(anyhow::Error::msg)?;
    }
    for spec in &args.registry_url {
        let (key, url) = spec.split_once('=').ok_or_else(|| {
            anyhow::anyhow!(
                "`--registry-url {spec}`: expected KEY=URL, e.g. crates-io=https://index.crates.io"
            )
        })?;
        options
            .urls
            .set(key.trim(), url.trim())
            .map_err(anyhow::Error::msg)?;
    }
    options.offline = args.offline;
    options.cache_dir = if args.no_cache {
        None
    } else {
        args.cache_dir.clone().or(options.cache_dir)
    };
    let client = RegistryClient::new(options);
    let deps_options = DepsOptions {
        config,
        ..DepsOptions::default()
    };

    let lockfiles = ciguard_deps::check_lockfiles(&repo, Some(&client), &deps_options);
    // One lockfile given: the repository's configuration was not looked at, so no config checks.
    let (config_findings, config_diagnostics) = if args.path.is_file() {
        (Vec::new(), Vec::new())
    } else {
        ciguard_deps::configs::check(&repo)
    };

    let mut report = Report {
        files_audited: repo.files.len(),
        ..Report::default()
    };
    report.findings.extend(lockfiles.findings);
    report.findings.extend(config_findings);
    report.diagnostics.extend(walk_diagnostics);
    report.diagnostics.extend(lockfiles.diagnostics);
    report.diagnostics.extend(config_diagnostics);
    report.notes.extend(lockfiles.notes);
    report.notes.push(format!(
        "{} lockfile(s), {} locked package(s), {} registry version(s) checked, {} registry request(s)",
        lockfiles.lockfiles,
        lockfiles.packages,
        lockfiles.checked,
        client.requests()
    ));
    report.sort();
    render(&args, &report)?;
    Ok(ExitCode::from(exit::code_for(&report)))
}

/// Renders the report with the shared renderer; diagnostics and notes go to stderr.
fn render(args: &DepsArgs, report: &Report) -> anyhow::Result<()> {
    let mut stderr = std::io::stderr();
    for d in &report.diagnostics {
        let _ = writeln!(stderr, "{d}");
    }
    for n in &report.notes {
        let _ = writeln!(stderr, "note: {n}");
    }
    let mut stdout = std::io::stdout().lock();
    render_report(args.format, args.color, report, &mut stdout)?;
    let _ = stdout.flush();
    Ok(())
}
