//! `ciguard pin`: rewrite every `uses:` to `owner/repo[/path]@<sha> # <tag>` (and, with
//! `--images`, container images to digests), check pins (`--check`), move them to the newest
//! release old enough (`--update`), or write GitHub's actions lockfile (`--lockfile`).
//!
//! Requests: one tag listing per repository (peeled to commits, paginated by 100) answers every
//! tag ref and every version comment; a commit lookup is only needed for a ref that is no tag
//! (a branch). `--update` adds the release listing and, for tags without a release, the
//! commit's date (immutable, cached for good). `--lockfile` adds the repository's metadata for
//! its ids. Everything goes through the on-disk cache with ETags.
//!
//! Exit codes: 0 done (or, with `--check`, everything pinned and every comment true); 14 with
//! `--check` when something is unpinned or a comment lies; 4 with `--check` when nothing is
//! wrong in what could be checked but some version comments could not be verified (tags not
//! listed: offline, network, rate limit); 3 when an input cannot be read or parsed; 1 when a ref
//! could not be resolved or ciguard failed.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context as _;
use ciguard_core::actions_lock::{ActionsLock, LOCKFILE_PATH, LockedDependency, workflow_key};
use ciguard_core::fix::{patch_path, unified_diff, write_atomic};
use ciguard_core::models::version::{Version, VersionComment, most_specific_tag};
use ciguard_core::models::{Uses, uses::is_full_sha};
use ciguard_core::pin::{Replacement, Site, SiteKind, find_sites, rewrite};
use ciguard_core::plural::count;
use ciguard_core::yaml::{Document, Limits};
use ciguard_core::{FileKind, SourceFile};
use ciguard_github::registry::{ImageRef, Registry};
use ciguard_github::resolve::{self, Tag};
use ciguard_github::{Client, Error};

use ciguard_pipeline::collect;

use crate::commands::exit::ExitStatus;
use crate::commands::github::GithubArgs;

/// `--check` found a problem: reported as a high finding.
const EXIT_CHECK_FAILED: ExitStatus = ExitStatus::Findings(ciguard_core::Severity::High);
/// `--check` could not verify everything (and found nothing wrong in the rest).
const EXIT_NOT_VERIFIED: ExitStatus = ExitStatus::OnlineUnavailable;

#[derive(Debug, clap::Args)]
pub struct PinArgs {
    /// Workflow and action files, or directories to search.
    #[arg(default_value = ".")]
    pub inputs: Vec<PathBuf>,

    /// Change nothing; exit non-zero listing unpinned refs and version comments that do not
    /// match their SHA.
    #[arg(long, conflicts_with_all = ["update", "dry_run", "lockfile"])]
    pub check: bool,

    /// Move pins to the newest release at least --min-age old, within the current major version
    /// unless --major.
    #[arg(long)]
    pub update: bool,

    /// How old a release must be for --update (`7d`, `36h`, `90m`, `0`).
    #[arg(long, default_value = "7d", value_parser = parse_age, requires = "update")]
    pub min_age: Duration,

    /// Let --update cross major versions.
    #[arg(long, requires = "update")]
    pub major: bool,

    /// Print a unified diff instead of writing files (`--dry-run` is another name for it).
    #[arg(long = "diff", visible_alias = "dry-run")]
    pub dry_run: bool,

    /// Output of `--check`: `plain` lines `path:line: problem`, or a `json` document.
    #[arg(long, value_enum, default_value_t = PinFormat::Plain, requires = "check")]
    pub format: PinFormat,

    /// Also pin container images (`docker://`, `container:`, `services:`) to their digest.
    #[arg(long)]
    pub images: bool,

    /// Registry to ask for every image digest instead of the image's own (a mirror).
    #[arg(long, value_name = "URL", requires = "images")]
    pub registry_url: Option<String>,

    /// Write `.github/workflows/actions.lock` (GitHub's lockfile) instead of rewriting workflows.
    #[arg(long)]
    pub lockfile: bool,

    #[command(flatten)]
    pub github: GithubArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PinFormat {
    Plain,
    Json,
}

fn parse_age(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: u64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not an age like 7d, 36h or 90m"))?;
    let secs = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" | "" => 1,
        "w" => 7 * 86_400,
        _ => return Err(format!("`{s}`: unit must be w, d, h, m or s")),
    };
    Ok(Duration::from_secs(n.saturating_mul(secs)))
}

/// One file to pin.
struct Input {
    file: SourceFile,
    root: PathBuf,
    path: PathBuf,
    sites: Vec<Site>,
}

/// A `uses:` of a repository, split up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct RepoUse {
    slug: String,
    name: String,
    git_ref: String,
}

/// The commit a use moves to, and the tag `--update` chose.
type Target = (String, Option<String>);

/// Each repository's tags, or why they could not be listed.
type TagLists = HashMap<String, Result<Vec<Tag>, TagError>>;

/// Why a tag list could not be read: the full error, and its cause without the URL, so one
/// network failure is reported once and not once per repository.
#[derive(Debug, Clone)]
struct TagError {
    full: String,
    cause: String,
}

impl TagError {
    fn new(e: &Error) -> Self {
        // A request the client did not send because an earlier one met the same cause reads
        // like that one, so one refused connection is one note.
        if let Some(cause) = e.cause() {
            return Self {
                full: e.to_string(),
                cause: cause.to_string(),
            };
        }
        let cause = match e {
            Error::Offline { .. } => {
                "ciguard runs offline (drop --offline to let it list tags)".to_owned()
            }
            Error::Transport { message, .. } => {
                format!("cannot reach GitHub ({message}); check the network or --github-api-url")
            }
            Error::Server { status, .. } => {
                format!("GitHub answered {status} (server error); try again later")
            }
            Error::RateLimited { message, .. } => {
                format!("rate limited by GitHub ({message}); give a token or try again later")
            }
            other => other.to_string(),
        };
        Self {
            full: e.to_string(),
            cause,
        }
    }
}

fn tags_in<'a>(lists: &'a TagLists, slug: &str) -> &'a [Tag] {
    match lists.get(slug) {
        Some(Ok(t)) => t.as_slice(),
        _ => &[],
    }
}

fn repo_use(site: &Site) -> Option<RepoUse> {
    if !matches!(site.kind, SiteKind::Action | SiteKind::ReusableWorkflow)
        || site.value.contains("${{")
    {
        return None;
    }
    match Uses::parse(&site.value)? {
        Uses::Repository(r) => Some(RepoUse {
            slug: r.slug().to_ascii_lowercase(),
            name: r.name(),
            git_ref: r.git_ref?.to_owned(),
        }),
        _ => None,
    }
}

/// The tag a version comment names, verified or not (a hint for choosing among tags).
fn comment_tag(comment: &str) -> Option<String> {
    VersionComment::parse(comment).map(|c| c.tag)
}

pub fn run(args: PinArgs) -> anyhow::Result<ExitCode> {
    let mut stderr = std::io::stderr().lock();
    let collected = collect::collect(&args.inputs, &[FileKind::Workflow, FileKind::Action]);
    let (candidates, diagnostics) = (collected.candidates, collected.diagnostics);
    let mut input_errors = 0usize;
    for d in &diagnostics {
        let _ = writeln!(stderr, "{}: {}", d.path, d.message);
        input_errors += 1;
    }
    let mut inputs = Vec::new();
    for c in &candidates {
        let Some(path) = c.path.clone() else {
            let _ = writeln!(
                stderr,
                "{}: pin rewrites files; stdin is not supported",
                c.display
            );
            input_errors += 1;
            continue;
        };
        let file = match collect::read(c, Limits::default().max_bytes) {
            Ok(f) => f,
            Err(d) => {
                let _ = writeln!(stderr, "{}: {}", d.path, d.message);
                input_errors += 1;
                continue;
            }
        };
        let sites = match Document::parse(&file, &Limits::default()) {
            Ok(doc) => find_sites(&file, &doc),
            Err(e) => {
                let lc = file.line_col(e.span.start);
                let _ = writeln!(stderr, "{}:{}:{}: {e}", file.path, lc.line, lc.column);
                input_errors += 1;
                continue;
            }
        };
        inputs.push(Input {
            file,
            root: c.root.clone(),
            path,
            sites,
        });
    }

    let client = Client::new(args.github.client_config());
    // Tags of every repository used, fetched concurrently.
    let slugs: Vec<String> = inputs
        .iter()
        .flat_map(|i| i.sites.iter().filter_map(repo_use))
        .map(|u| u.slug)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let tag_lists: TagLists = slugs
        .iter()
        .cloned()
        .zip(crate::terminal::with_progress(
            "listing tags on GitHub",
            ("request", "requests"),
            &|| client.request_count(),
            || {
                client.map_concurrent(&slugs, |s| {
                    resolve::tags(&client, s).map_err(|e| TagError::new(&e))
                })
            },
        ))
        .collect();
    let tags_of = |slug: &str| tags_in(&tag_lists, slug);

    let mut errors: Vec<String> = tag_lists
        .iter()
        .filter_map(|(slug, r)| {
            r.as_ref()
                .err()
                .map(|e| format!("{slug}: cannot list tags: {}", e.full))
        })
        .collect();
    let mut problems: Vec<Problem> = Vec::new();

    if args.check {
        let mut unverified = Unverified::default();
        for input in &inputs {
            check_file(input, &tag_lists, &mut problems, &mut unverified);
        }
        if args.images {
            for input in &inputs {
                for site in input.sites.iter().filter(|s| s.kind == SiteKind::Image) {
                    if ImageRef::parse(&site.value).is_some_and(|i| i.digest.is_none()) {
                        problems.push(Problem::at(
                            input,
                            site,
                            format!("image `{}` is not pinned to a digest", site.value),
                        ));
                    }
                }
            }
        }
        if args.format == PinFormat::Json {
            let _ = writeln!(
                std::io::stdout(),
                "{}",
                check_json(&problems, &unverified, client.request_count())
            );
        } else {
            for p in &problems {
                let _ = writeln!(std::io::stdout(), "{p}");
            }
        }
        // Tags that could not be listed are not problems of the pins: their comments are "not
        // verified", with each cause given once.
        for (cause, (comments, repos)) in &unverified.0 {
            let _ = writeln!(
                stderr,
                "note: {} in {} not verified: {cause}",
                count(*comments, "version comment", "version comments"),
                count(repos.len(), "repository", "repositories")
            );
        }
        let _ = writeln!(
            stderr,
            "{}, {} not verified, {}",
            count(problems.len(), "problem", "problems"),
            unverified.comments(),
            count(client.request_count(), "request", "requests")
        );
        return Ok(if input_errors > 0 {
            ExitStatus::InputError
        } else if !problems.is_empty() {
            EXIT_CHECK_FAILED
        } else if unverified.comments() > 0 {
            EXIT_NOT_VERIFIED
        } else {
            ExitStatus::Clean
        }
        .into());
    }

    // Resolve every distinct (repository, ref) once, concurrently.
    let uses: Vec<RepoUse> = inputs
        .iter()
        .flat_map(|i| i.sites.iter().filter_map(repo_use))
        .filter(|u| tag_lists.get(&u.slug).is_some_and(Result::is_ok))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let now = SystemTime::now();
    let targets: Vec<Result<Option<Target>, Error>> = client.map_concurrent(&uses, |u| {
        let tags = tags_of(&u.slug);
        if args.update {
            let current = current_version(u, tags, &inputs);
            if let Some(current) = current
                && let Some(up) = resolve::newest_aged(
                    &client,
                    &u.slug,
                    tags,
                    &current,
                    args.min_age,
                    args.major,
                    now,
                )?
            {
                return Ok(Some((up.commit, Some(up.tag))));
            }
        }
        Ok(resolve::resolve_ref(&client, &u.slug, &u.git_ref, tags)?.map(|sha| (sha, None)))
    });
    let mut resolved: HashMap<RepoUse, Target> = HashMap::new();
    for (u, t) in uses.iter().zip(targets) {
        match t {
            Ok(Some(target)) => {
                resolved.insert(u.clone(), target);
            }
            Ok(None) => errors.push(format!(
                "{}@{}: no such branch, tag or commit in {}",
                u.name, u.git_ref, u.slug
            )),
            Err(e) => errors.push(format!("{}@{}: {e}", u.name, u.git_ref)),
        }
    }

    if args.lockfile {
        return write_lockfiles(&args, &client, &inputs, &resolved, errors, input_errors);
    }

    let registry = args
        .images
        .then(|| Registry::new(args.registry_url.clone(), client.config().timeout));
    let mut digests: HashMap<String, Result<String, String>> = HashMap::new();
    if let Some(registry) = &registry {
        let images: Vec<String> = inputs
            .iter()
            .flat_map(|i| i.sites.iter())
            .filter(|s| s.kind == SiteKind::Image)
            .filter(|s| ImageRef::parse(&s.value).is_some_and(|i| i.digest.is_none()))
            .map(|s| s.value.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let found = client.map_concurrent(&images, |v| match ImageRef::parse(v) {
            Some(image) => registry.digest(&image).map_err(|e| e.to_string()),
            None => Err("not an image reference".into()),
        });
        digests = images.into_iter().zip(found).collect();
    }

    let mut changed_files = 0;
    let mut changed_refs = 0;
    for input in &inputs {
        let mut replacements = Vec::new();
        for (i, site) in input.sites.iter().enumerate() {
            if site.kind == SiteKind::Image {
                if let Some(result) = digests.get(&site.value) {
                    match result {
                        Ok(digest) => replacements.push(Replacement {
                            site: i,
                            value: format!("{}@{digest}", site.value),
                            comment: None,
                        }),
                        Err(e) => errors.push(format!(
                            "{}: {}: image `{}`: {e}",
                            input.file.path, site.route, site.value
                        )),
                    }
                }
                continue;
            }
            let Some(u) = repo_use(site) else { continue };
            let Some((sha, update_tag)) = resolved.get(&u) else {
                continue;
            };
            let tags = tags_of(&u.slug);
            let hint = if is_full_sha(&u.git_ref) {
                site.comment.as_deref().and_then(comment_tag)
            } else {
                Some(u.git_ref.clone())
            };
            let comment = update_tag
                .clone()
                .or_else(|| {
                    most_specific_tag(resolve::names_at(tags, sha), hint.as_deref())
                        .map(str::to_owned)
                })
                .or_else(|| (!is_full_sha(&u.git_ref)).then(|| u.git_ref.clone()))
                .or_else(|| site.comment.clone());
            let value = format!("{}@{sha}", u.name);
            if value != site.value
                || comment.as_deref().and_then(comment_tag)
                    != site.comment.as_deref().and_then(comment_tag)
            {
                changed_refs += 1;
                replacements.push(Replacement {
                    site: i,
                    value,
                    comment,
                });
            }
        }
        if replacements.is_empty() {
            continue;
        }
        let new_text = match rewrite(&input.file, &input.sites, &replacements) {
            Ok(t) => t,
            Err(e) => {
                errors.push(format!("{}: not rewritten: {e}", input.file.path));
                continue;
            }
        };
        if new_text == input.file.text {
            continue;
        }
        changed_files += 1;
        if args.dry_run {
            let _ = write!(
                std::io::stdout(),
                "{}",
                unified_diff(
                    &patch_path(Path::new(&input.file.path)),
                    &input.file.text,
                    &new_text
                )
            );
        } else {
            write_atomic(&input.path, &new_text)
                .with_context(|| format!("cannot write {}", input.path.display()))?;
        }
    }
    report_errors(&mut stderr, &errors);
    let verb = if args.dry_run {
        "would change"
    } else {
        "changed"
    };
    let _ = writeln!(
        stderr,
        "{verb} {} in {}; {}",
        count(changed_refs, "ref", "refs"),
        count(changed_files, "file", "files"),
        count(client.request_count(), "GitHub request", "GitHub requests")
    );
    Ok(if !errors.is_empty() {
        ExitStatus::ToolFailure
    } else if input_errors > 0 {
        ExitStatus::InputError
    } else {
        ExitStatus::Clean
    }
    .into())
}

fn report_errors(stderr: &mut impl Write, errors: &[String]) {
    for e in errors {
        let _ = writeln!(stderr, "error: {e}");
    }
}

/// The version a use is on: its ref when that is a version tag, else its comment's tag, else the
/// most specific tag on its commit.
fn current_version(u: &RepoUse, tags: &[Tag], inputs: &[Input]) -> Option<Version> {
    if let Some(v) = Version::parse(&u.git_ref) {
        return Some(v);
    }
    let from_comment = inputs
        .iter()
        .flat_map(|i| i.sites.iter())
        .filter(|s| repo_use(s).as_ref() == Some(u))
        .find_map(|s| {
            s.comment
                .as_deref()
                .and_then(VersionComment::parse)
                .and_then(|c| c.version)
        });
    from_comment.or_else(|| {
        is_full_sha(&u.git_ref)
            .then(|| most_specific_tag(resolve::names_at(tags, &u.git_ref), None))
            .flatten()
            .and_then(Version::parse)
    })
}

/// Version comments that could not be verified, per cause: how many, in which repositories.
#[derive(Default)]
struct Unverified(BTreeMap<String, (usize, BTreeSet<String>)>);

impl Unverified {
    fn comments(&self) -> usize {
        self.0.values().map(|(n, _)| n).sum()
    }
}

fn check_file(
    input: &Input,
    tag_lists: &TagLists,
    problems: &mut Vec<Problem>,
    unverified: &mut Unverified,
) {
    for site in &input.sites {
        if !matches!(site.kind, SiteKind::Action | SiteKind::ReusableWorkflow) {
            continue;
        }
        let Some(Uses::Repository(r)) = Uses::parse(&site.value) else {
            continue;
        };
        let problem = |message: String| Problem::at(input, site, message);
        let Some(git_ref) = r.git_ref else {
            problems.push(problem(format!("`{}` has no ref", site.value)));
            continue;
        };
        if !is_full_sha(git_ref) {
            problems.push(problem(format!(
                "`{}` is not pinned to a commit SHA",
                site.value
            )));
            continue;
        }
        // Only a comment naming a version is a claim (as for `ref-version-mismatch`).
        let Some(tag) = site
            .comment
            .as_deref()
            .and_then(VersionComment::version_tag)
        else {
            continue;
        };
        let slug = r.slug().to_ascii_lowercase();
        if let Some(Err(e)) = tag_lists.get(&slug) {
            let entry = unverified.0.entry(e.cause.clone()).or_default();
            entry.0 += 1;
            entry.1.insert(slug);
            continue;
        }
        let tags = tags_in(tag_lists, &slug);
        match tags.iter().find(|t| t.name == tag) {
            Some(t) if t.commit.eq_ignore_ascii_case(git_ref) => {}
            Some(t) => problems.push(problem(format!(
                "`{}`: the comment says {tag}, but {tag} is commit {}",
                site.value, t.commit
            ))),
            None => problems.push(problem(format!(
                "`{}`: the comment names {tag}, which is not a tag of {}",
                site.value,
                r.slug()
            ))),
        }
    }
}

/// What `pin --check` found wrong with one pin.
struct Problem {
    path: String,
    line: usize,
    message: String,
}

impl Problem {
    fn at(input: &Input, site: &Site, message: String) -> Problem {
        Problem {
            path: input.file.path.clone(),
            line: input.file.line_col(site.span.start).line,
            message,
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.path, self.line, self.message)
    }
}

/// `pin --check --format json`: the problems, the version comments not verified (by cause) and
/// the requests sent. Strings are JSON-escaped by serde.
fn check_json(problems: &[Problem], unverified: &Unverified, requests: usize) -> String {
    let problems: Vec<_> = problems
        .iter()
        .map(|p| serde_json::json!({"path": p.path, "line": p.line, "message": p.message}))
        .collect();
    let unverified: Vec<_> = unverified
        .0
        .iter()
        .map(|(cause, (comments, repos))| {
            serde_json::json!({"cause": cause, "comments": comments, "repositories": repos})
        })
        .collect();
    serde_json::json!({
        "version": 1,
        "problems": problems,
        "unverified": unverified,
        "requests": requests,
    })
    .to_string()
}

fn write_lockfiles(
    args: &PinArgs,
    client: &Client,
    inputs: &[Input],
    resolved: &HashMap<RepoUse, Target>,
    mut errors: Vec<String>,
    input_errors: usize,
) -> anyhow::Result<ExitCode> {
    let mut by_root: BTreeMap<PathBuf, ActionsLock> = BTreeMap::new();
    let mut slugs = BTreeSet::new();
    for input in inputs.iter().filter(|i| i.file.kind == FileKind::Workflow) {
        let lock = by_root.entry(input.root.clone()).or_default();
        let mut listed = Vec::new();
        // The lockfile locks actions; reusable-workflow calls must be pinned by SHA instead.
        for site in input.sites.iter().filter(|s| s.kind == SiteKind::Action) {
            let Some(u) = repo_use(site) else { continue };
            let Some((sha, _)) = resolved.get(&u) else {
                continue;
            };
            let key = format!("{}@{}", u.name, u.git_ref);
            listed.push(key.clone());
            slugs.insert(u.slug.clone());
            lock.dependencies.insert(
                key,
                LockedDependency {
                    reference: u.git_ref.clone(),
                    commit: Some(sha.clone()),
                    owner_id: None,
                    repo_id: None,
                    uses: Vec::new(),
                },
            );
        }
        listed.sort();
        listed.dedup();
        lock.workflows
            .insert(workflow_key(&input.file.path), listed);
    }
    let slugs: Vec<String> = slugs.into_iter().collect();
    let metas = client.map_concurrent(&slugs, |s| {
        client.get_json::<serde_json::Value>(&format!("/repos/{s}"))
    });
    let ids: HashMap<&str, (Option<u64>, Option<u64>)> = slugs
        .iter()
        .zip(metas)
        .map(|(s, m)| {
            let m = m.ok().flatten();
            let owner = m.as_ref().and_then(|m| m["owner"]["id"].as_u64());
            let repo = m.as_ref().and_then(|m| m["id"].as_u64());
            (s.as_str(), (owner, repo))
        })
        .collect();
    for (root, lock) in &mut by_root {
        for (key, dep) in lock.dependencies.iter_mut() {
            let slug = key
                .split('@')
                .next()
                .unwrap_or("")
                .splitn(3, '/')
                .take(2)
                .collect::<Vec<_>>()
                .join("/")
                .to_ascii_lowercase();
            if let Some((o, r)) = ids.get(slug.as_str()) {
                dep.owner_id = *o;
                dep.repo_id = *r;
            }
        }
        let path = root.join(LOCKFILE_PATH);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let text = lock.render();
        if args.dry_run {
            let _ = write!(
                std::io::stdout(),
                "{}",
                unified_diff(LOCKFILE_PATH, &old, &text)
            );
        } else if old != text {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            write_atomic(&path, &text)
                .with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    let mut stderr = std::io::stderr().lock();
    if inputs.is_empty() {
        errors.push("no workflow found".into());
    }
    report_errors(&mut stderr, &errors);
    let _ = writeln!(
        stderr,
        "wrote {}; {}",
        count(by_root.len(), "lockfile", "lockfiles"),
        count(client.request_count(), "GitHub request", "GitHub requests")
    );
    Ok(if !errors.is_empty() {
        ExitStatus::ToolFailure
    } else if input_errors > 0 {
        ExitStatus::InputError
    } else {
        ExitStatus::Clean
    }
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_and_comments_parse() {
        assert_eq!(parse_age("7d"), Ok(Duration::from_secs(7 * 86_400)));
        assert_eq!(parse_age("0"), Ok(Duration::ZERO));
        assert_eq!(parse_age("90m"), Ok(Duration::from_secs(5400)));
        assert!(parse_age("soon").is_err());
        assert_eq!(comment_tag("v4.2.2").as_deref(), Some("v4.2.2"));
        assert_eq!(comment_tag("tag=v1 extra").as_deref(), Some("v1"));
        assert_eq!(comment_tag(""), None);
    }
}
