//! `ciguard deps`: lockfiles against their registries (cooldowns, yanked versions), mutable
//! dependency sources, and cooldown settings of update bots and package managers.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use std::io::Write;

use ciguard_core::Report;
use ciguard_deps::{ClientOptions, DepsConfig, DepsOptions, RegistryClient};

use ciguard_pipeline::collect;

use crate::commands::exit::ExitStatus;
use crate::commands::filter_args::{FilterArgs, config_choice};
use crate::commands::render::{ColorChoice, OutputFormat, render_report};

const CONFIG_HELP: &str = r#"Configuration (`ciguard.toml` or `.github/ciguard.toml`):

  [deps]
  cooldown-days = 7            # every ecosystem; 0 turns the cooldown check off
  exempt = ["acme-*"]          # first-party packages (`*` at the end = prefix); never looked up
  exclude = ["tests/fixtures/"] # paths not read at all (gitignore syntax, from the root)
  negative-cache-hours = 24    # how long "no such package/version" answers are cached

  [deps.cargo]                 # also [deps.pypi] and [deps.npm]
  cooldown-days = 3
  exempt = ["my-crate"]

  [deps.registries]            # base URLs, same keys as --registry-url
  crates-io = "https://index.crates.io"
  pypi = "https://pypi.org"
  npm = "https://registry.npmjs.org"

  [audits.dependency-cooldown] # as for `ciguard audit`: disable, severity, ignore
  ignore = ["Cargo.lock:12"]   # (--config FILE uses another file, --no-config none)"#;

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

    /// Use this configuration file (its `[deps]` and `[audits.<id>]` tables: disable, severity,
    /// ignore) instead of discovering `ciguard.toml` at the repository root, as `ciguard audit`
    /// does.
    #[arg(long, conflicts_with = "no_config")]
    pub config: Option<PathBuf>,

    /// Ignore configuration files.
    #[arg(long)]
    pub no_config: bool,

    #[command(flatten)]
    pub filter: FilterArgs,
}

pub fn run(args: DepsArgs) -> anyhow::Result<ExitCode> {
    let (mut repo, walk_diagnostics) = collect::dependency_files(&args.path);
    // The `[audits.<id>]` settings `ciguard audit` applies to its dependency checks, found the
    // same way; `--config`/`--no-config` choose the `[deps]` table too.
    let root = collect::repository_root(&args.path);
    let audits_config = config_choice(args.config.clone(), args.no_config).for_root(&root)?;
    let filter = ciguard_pipeline::FindingFilter {
        config: Arc::clone(&audits_config),
        baseline: ciguard_pipeline::run::load_baseline_opt(args.filter.baseline.as_deref())?,
        view: args.filter.view(),
    };
    let loaded = if args.config.is_some() || args.no_config {
        match audits_config.raw.get("deps") {
            None => Ok(DepsConfig::default()),
            Some(toml::Value::Table(t)) => DepsConfig::from_table(t).map_err(|m| {
                format!(
                    "{}: {m}",
                    args.config.as_deref().unwrap_or(root.as_path()).display()
                )
            }),
            Some(_) => Err("`deps` must be a table: write it as `[deps]`".to_owned()),
        }
    } else {
        DepsConfig::load(&repo.root).map_err(|d| d.to_string())
    };
    let mut config = match loaded {
        Ok(c) => c,
        Err(d) => {
            eprintln!("{}", ciguard_core::redact::redact(&d));
            return Ok(ExitStatus::ToolFailure.into());
        }
    };
    if let Some(days) = args.cooldown_days {
        config.cooldown_days = i64::from(days);
        config
            .ecosystems
            .values_mut()
            .for_each(|e| e.cooldown_days = None);
    }
    if let Err(message) = repo.exclude(&config.exclude) {
        eprintln!("error: {message}");
        return Ok(ExitStatus::ToolFailure.into());
    }
    let mut options = ClientOptions {
        negative_ttl: std::time::Duration::from_secs(
            u64::try_from(config.negative_cache_hours).unwrap_or(0) * 3600,
        ),
        ..ClientOptions::default()
    };
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

    let lockfiles = crate::terminal::with_progress(
        "checking lockfiles against registries",
        ("request", "requests"),
        &|| client.requests(),
        || ciguard_deps::check_lockfiles(&repo, Some(&client), &deps_options),
    );
    // One lockfile given: the repository's configuration was not looked at, so no config checks.
    let (config_findings, config_diagnostics) = if args.path.is_file() {
        (Vec::new(), Vec::new())
    } else {
        let github = (!args.offline).then(|| preset_client(&args));
        let fetch = |slug: &str, path: &str| fetch_preset(github.as_ref()?, slug, path);
        let fetch: ciguard_deps::configs::PresetFetcher<'_> = &fetch;
        ciguard_deps::configs::check_online(&repo, &deps_options.config, Some(fetch))
    };

    let mut found = lockfiles.findings;
    found.extend(config_findings);
    let (findings, suppressed) = filter.apply_all(found);
    let mut diagnostics = walk_diagnostics;
    diagnostics.extend(lockfiles.diagnostics);
    diagnostics.extend(config_diagnostics);
    let mut notes = lockfiles.notes;
    notes.push(format!(
        "{}, {}, {} checked, {}",
        ciguard_core::plural::count(lockfiles.lockfiles, "lockfile", "lockfiles"),
        ciguard_core::plural::count(lockfiles.packages, "locked package", "locked packages"),
        ciguard_core::plural::count(lockfiles.checked, "registry version", "registry versions"),
        ciguard_core::plural::count(client.requests(), "registry request", "registry requests")
    ));
    let report = ciguard_pipeline::report::assemble(
        findings,
        diagnostics,
        notes,
        repo.files.len(),
        &suppressed,
    );
    render(&args, &report)?;
    Ok(ExitStatus::for_report(&report, args.filter.no_exit_codes).into())
}

/// The GitHub client that reads Renovate presets of other repositories (public ones without a
/// token; `GH_TOKEN`/`GITHUB_TOKEN` and `GITHUB_API_URL` as for `ciguard audit`), with its
/// ETag-revalidated disk cache unless `--no-cache`.
fn preset_client(args: &DepsArgs) -> ciguard_github::Client {
    ciguard_github::Client::new(ciguard_github::ClientConfig::from_flags(
        None,
        None,
        None,
        args.no_cache,
        false,
    ))
}

/// A file of a GitHub repository through the contents API; `None` when it cannot be read.
/// `slug` and `path` come from a repository's Renovate configuration: a slug that is not
/// `owner/name` or a path that climbs (`..`) is not asked for, and each piece is encoded so it
/// cannot reach another API route.
fn fetch_preset(client: &ciguard_github::Client, slug: &str, path: &str) -> Option<String> {
    let name_ok = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b))
    };
    let (owner, repo) = slug.split_once('/')?;
    if !name_ok(owner) || !name_ok(repo) {
        return None;
    }
    if path
        .split('/')
        .any(|seg| seg.is_empty() || seg == "." || seg == "..")
    {
        return None;
    }
    let path = ciguard_core::percent::encode(path, ciguard_core::percent::PATH);
    let response = client
        .get(&format!("/repos/{owner}/{repo}/contents/{path}"))
        .ok()
        .filter(ciguard_github::ApiResponse::is_success)?;
    let body: serde_json::Value = serde_json::from_slice(&response.body).ok()?;
    let bytes = ciguard_github::remote::decode_base64(body.get("content")?.as_str()?)?;
    String::from_utf8(bytes).ok()
}

/// Renders the report with the shared renderer; diagnostics go to stderr. The renderer places
/// the notes (in the output for plain and JSON, on stderr otherwise): each is said once.
fn render(args: &DepsArgs, report: &Report) -> anyhow::Result<()> {
    let mut stderr = std::io::stderr();
    for d in &report.diagnostics {
        let _ = writeln!(stderr, "{d}");
    }
    let mut stdout = std::io::stdout().lock();
    render_report(args.format, args.color, report, &mut stdout)?;
    let _ = stdout.flush();
    Ok(())
}
