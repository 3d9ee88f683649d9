//! Lockfiles: what each one pins, where (byte spans), and from which source.

mod cargo;
mod npm;
mod python;

use std::fmt;
use std::sync::Arc;

use ciguard_core::{Diagnostic, FileKind, Level, Route, SourceFile, Span};

/// A package registry ecosystem whose publish dates ciguard can look up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Ecosystem {
    Cargo,
    PyPI,
    Npm,
}

impl Source {
    /// The registry behind `url`: the default one, or another index.
    pub(crate) fn index(url: &str, default: bool) -> Source {
        if default {
            Source::Registry
        } else {
            Source::Index {
                url: url.to_owned(),
            }
        }
    }
}

impl Ecosystem {
    pub const ALL: [Ecosystem; 3] = [Ecosystem::Cargo, Ecosystem::PyPI, Ecosystem::Npm];

    /// The key used in `ciguard.toml` (`[deps.cargo]`, `[deps.pypi]`, `[deps.npm]`).
    pub fn as_str(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "cargo",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
        }
    }

    /// The key used by `--registry-url` and `[deps.registries]`.
    pub fn registry_key(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "crates-io",
            Ecosystem::PyPI => "pypi",
            Ecosystem::Npm => "npm",
        }
    }

    /// The registry's name for people.
    pub fn registry_name(self) -> &'static str {
        match self {
            Ecosystem::Cargo => "crates.io",
            Ecosystem::PyPI => "PyPI",
            Ecosystem::Npm => "the npm registry",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "cargo" | "crates-io" | "crates.io" => Some(Ecosystem::Cargo),
            "pypi" | "python" | "pip" => Some(Ecosystem::PyPI),
            "npm" => Some(Ecosystem::Npm),
            _ => None,
        }
    }
}

impl fmt::Display for Ecosystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a locked package comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The ecosystem's public registry (crates.io, PyPI, npm).
    Registry,
    /// Another package index or a mirror, by the URL the lockfile records (index or tarball).
    /// Checked when `--registry-url` points at it; otherwise counted as not checked.
    Index { url: String },
    /// A git repository, at a commit when the lockfile records one.
    Git { url: String, commit: Option<String> },
    /// A direct URL to an archive, with or without a hash that pins its content.
    Url { url: String, hashed: bool },
    /// A local path, relative to the lockfile's directory (or absolute).
    Path { path: String },
    /// The project itself (workspace members, virtual roots, patches): nothing to check.
    Local,
}

/// One locked package.
#[derive(Debug, Clone)]
pub struct Package {
    pub name: String,
    pub version: Option<String>,
    pub source: Source,
    /// Where the entry is in the lockfile (the name or the whole line).
    pub span: Span,
    pub route: Route,
}

/// The lockfile formats ciguard reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    CargoLock,
    UvLock,
    PyLock,
    PoetryLock,
    Requirements,
    PackageLock,
    PnpmLock,
    YarnLock,
}

impl Format {
    /// Recognises a lockfile by its file name.
    pub fn detect(file_name: &str) -> Option<Format> {
        Some(match file_name {
            "Cargo.lock" => Format::CargoLock,
            "uv.lock" => Format::UvLock,
            "pylock.toml" => Format::PyLock,
            "poetry.lock" => Format::PoetryLock,
            "package-lock.json" | "npm-shrinkwrap.json" => Format::PackageLock,
            "pnpm-lock.yaml" => Format::PnpmLock,
            "yarn.lock" => Format::YarnLock,
            n if n.starts_with("pylock.") && n.ends_with(".toml") => Format::PyLock,
            n if n.starts_with("requirements") && n.ends_with(".txt") => Format::Requirements,
            _ => return None,
        })
    }

    /// Recognises a lockfile by its path: [`Format::detect`], plus pinned requirements files
    /// named otherwise (`requirements/main.txt`, `build-requirements.txt`, `constraints.txt`).
    pub fn detect_path(rel: &str) -> Option<Format> {
        let (dir, name) = rel.rsplit_once('/').unwrap_or(("", rel));
        if let Some(f) = Format::detect(name) {
            return Some(f);
        }
        let stem = name.strip_suffix(".txt")?;
        let in_requirements_dir = dir.rsplit('/').next().is_some_and(|d| d == "requirements");
        (in_requirements_dir || stem.ends_with("requirements") || stem.starts_with("constraints"))
            .then_some(Format::Requirements)
    }

    pub fn ecosystem(self) -> Ecosystem {
        match self {
            Format::CargoLock => Ecosystem::Cargo,
            Format::UvLock | Format::PyLock | Format::PoetryLock | Format::Requirements => {
                Ecosystem::PyPI
            }
            Format::PackageLock | Format::PnpmLock | Format::YarnLock => Ecosystem::Npm,
        }
    }
}

/// A parsed lockfile.
#[derive(Debug)]
pub struct Lockfile {
    pub file: Arc<SourceFile>,
    pub format: Format,
    pub packages: Vec<Package>,
    /// Things worth saying that are not findings (e.g. unpinned requirements were not checked).
    pub notes: Vec<String>,
    /// Files this one includes (`-r`/`-c` of requirements files), as written, and where.
    pub includes: Vec<(String, Span)>,
}

impl Lockfile {
    pub fn ecosystem(&self) -> Ecosystem {
        self.format.ecosystem()
    }
}

/// Why a lockfile could not be read: where, what, and what to do.
#[derive(Debug, Clone)]
pub(crate) struct ParseError {
    pub span: Span,
    pub message: String,
    pub help: String,
}

impl ParseError {
    pub fn new(span: Span, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self {
            span,
            message: message.into(),
            help: help.into(),
        }
    }

    pub fn toml(err: &toml::de::Error, what: &str, regenerate: &str) -> Self {
        let span = err
            .span()
            .map_or(Span::default(), |r| Span::new(r.start, r.end));
        let message = err.message().trim().replace('\n', " ");
        Self::new(
            span,
            format!("invalid {what}: {message}"),
            format!("fix the file or regenerate it with `{regenerate}`"),
        )
    }
}

/// Parses a lockfile's text. A file that cannot be read is an error diagnostic naming the file,
/// the line, what is wrong and what to do.
pub fn parse(path: &str, format: Format, text: String) -> Result<Lockfile, Diagnostic> {
    let file = Arc::new(SourceFile::new(path, FileKind::Dependencies, text));
    let mut notes = Vec::new();
    let mut includes = Vec::new();
    let result = match format {
        Format::CargoLock => cargo::parse_lock(&file),
        Format::UvLock => python::parse_uv(&file),
        Format::PyLock => python::parse_pylock(&file),
        Format::PoetryLock => python::parse_poetry(&file),
        Format::Requirements => python::parse_requirements(&file, &mut notes, &mut includes),
        Format::PackageLock => npm::parse_package_lock(&file),
        Format::PnpmLock => npm::parse_pnpm(&file),
        Format::YarnLock => npm::parse_yarn(&file),
    };
    match result {
        Ok(packages) => Ok(Lockfile {
            file,
            format,
            packages,
            notes,
            includes,
        }),
        Err(e) => Err(Diagnostic::at(Level::Error, &file, e.span, e.message).help(e.help)),
    }
}

/// Whether `s` is a full git commit id (SHA-1 or SHA-256).
pub fn is_commit(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

pub(crate) use cargo::manifest_path_dependencies;
pub(crate) use npm::is_github_packages;
