//! Python lockfiles: `uv.lock`, `pylock.toml` (PEP 751), `poetry.lock` and `requirements*.txt`.

use std::sync::Arc;

use ciguard_core::{Route, SourceFile, Span};
use serde::Deserialize;
use toml::Spanned;

use super::{Package, ParseError, Source, is_commit};

fn is_default_index(url: &str) -> bool {
    let u = url.trim_end_matches('/');
    u == "https://pypi.org/simple"
        || u == "https://pypi.python.org/simple"
        || u == "https://files.pythonhosted.org"
}

fn str_of<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(toml::Value::as_str)
}

/// A git URL whose commit follows `#` (uv) or `@` (pip): the commit when it is a full id.
/// A package of a TOML lockfile, spanning its name through its version.
fn spanned_package(
    name: Spanned<String>,
    version: Option<Spanned<String>>,
    source: Source,
    route: Route,
) -> Package {
    let end = version.as_ref().map_or(name.span().end, |v| v.span().end);
    Package {
        span: Span::new(name.span().start, end),
        name: name.into_inner(),
        version: version.map(Spanned::into_inner),
        source,
        route,
    }
}

fn git_source(url: &str, commit: Option<&str>) -> Source {
    Source::Git {
        url: url.to_owned(),
        commit: commit.filter(|c| is_commit(c)).map(str::to_owned),
    }
}

// ---------------------------------------------------------------------------------------- uv.lock

#[derive(Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<UvPackage>,
}

#[derive(Deserialize)]
struct UvPackage {
    name: Spanned<String>,
    version: Option<Spanned<String>>,
    source: Option<toml::Table>,
    sdist: Option<toml::Table>,
    #[serde(default)]
    wheels: Vec<toml::Table>,
}

pub(super) fn parse_uv(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    let lock: UvLock =
        toml::from_str(&file.text).map_err(|e| ParseError::toml(&e, "uv.lock", "uv lock"))?;
    let mut out = Vec::new();
    for (i, p) in lock.package.into_iter().enumerate() {
        let hashed = p
            .sdist
            .iter()
            .chain(p.wheels.iter())
            .any(|f| f.contains_key("hash"));
        let source = match &p.source {
            None => Source::Registry,
            Some(s) => {
                if let Some(url) = str_of(s, "registry") {
                    Source::index(url, is_default_index(url))
                } else if let Some(git) = str_of(s, "git") {
                    let (url, commit) = git
                        .split_once('#')
                        .map_or((git, None), |(u, c)| (u, Some(c)));
                    git_source(url, commit)
                } else if let Some(url) = str_of(s, "url") {
                    Source::Url {
                        url: url.to_owned(),
                        hashed,
                    }
                } else if let Some(path) = str_of(s, "path")
                    .or_else(|| str_of(s, "directory"))
                    .or_else(|| str_of(s, "editable"))
                {
                    Source::Path {
                        path: path.to_owned(),
                    }
                } else {
                    // `virtual = "."` and anything newer: the project itself.
                    Source::Local
                }
            }
        };
        out.push(spanned_package(
            p.name,
            p.version,
            source,
            Route::root().key("package").index(i),
        ));
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------ pylock.toml

#[derive(Deserialize)]
struct PyLock {
    #[serde(default)]
    packages: Vec<PyLockPackage>,
}

#[derive(Deserialize)]
struct PyLockPackage {
    name: Spanned<String>,
    version: Option<Spanned<String>>,
    index: Option<String>,
    vcs: Option<toml::Table>,
    directory: Option<toml::Table>,
    archive: Option<toml::Table>,
}

pub(super) fn parse_pylock(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    let lock: PyLock = toml::from_str(&file.text).map_err(|e| {
        ParseError::toml(
            &e,
            "pylock.toml",
            "pip lock or uv export --format pylock.toml",
        )
    })?;
    let mut out = Vec::new();
    for (i, p) in lock.packages.into_iter().enumerate() {
        let source = if let Some(vcs) = &p.vcs {
            let url = str_of(vcs, "url")
                .or_else(|| str_of(vcs, "path"))
                .unwrap_or_default();
            git_source(url, str_of(vcs, "commit-id"))
        } else if let Some(dir) = &p.directory {
            Source::Path {
                path: str_of(dir, "path").unwrap_or_default().to_owned(),
            }
        } else if let Some(archive) = &p.archive {
            let hashed = archive
                .get("hashes")
                .and_then(toml::Value::as_table)
                .is_some_and(|h| !h.is_empty());
            match (str_of(archive, "url"), str_of(archive, "path")) {
                (Some(url), _) => Source::Url {
                    url: url.to_owned(),
                    hashed,
                },
                (None, Some(path)) => Source::Path {
                    path: path.to_owned(),
                },
                (None, None) => Source::Url {
                    url: String::new(),
                    hashed,
                },
            }
        } else {
            match p.index.as_deref() {
                Some(url) => Source::index(url, is_default_index(url)),
                None => Source::Registry,
            }
        };
        out.push(spanned_package(
            p.name,
            p.version,
            source,
            Route::root().key("packages").index(i),
        ));
    }
    Ok(out)
}

// ------------------------------------------------------------------------------------ poetry.lock

#[derive(Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<PoetryPackage>,
}

#[derive(Deserialize)]
struct PoetryPackage {
    name: Spanned<String>,
    version: Spanned<String>,
    #[serde(default)]
    files: Vec<toml::Table>,
    source: Option<toml::Table>,
}

pub(super) fn parse_poetry(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    let lock: PoetryLock = toml::from_str(&file.text)
        .map_err(|e| ParseError::toml(&e, "poetry.lock", "poetry lock"))?;
    let mut out = Vec::new();
    for (i, p) in lock.package.into_iter().enumerate() {
        let hashed = p.files.iter().any(|f| f.contains_key("hash"));
        let source = match &p.source {
            None => Source::Registry,
            Some(s) => {
                let url = str_of(s, "url").unwrap_or_default();
                match str_of(s, "type").unwrap_or_default() {
                    "git" => git_source(url, str_of(s, "resolved_reference")),
                    "url" => Source::Url {
                        url: url.to_owned(),
                        hashed,
                    },
                    "file" | "directory" => Source::Path {
                        path: url.to_owned(),
                    },
                    _ => Source::index(url, is_default_index(url)),
                }
            }
        };
        let route = Route::root().key("package").index(i);
        out.push(spanned_package(p.name, Some(p.version), source, route));
    }
    Ok(out)
}

// ------------------------------------------------------------------------------ requirements.txt

/// One logical requirement line (continuations joined) and the span of its first physical line.
fn logical_lines(text: &str) -> Vec<(String, Span, usize)> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut start = None;
    let mut line_no = 0;
    let mut first_line = 0;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        line_no += 1;
        let line = raw.trim_end_matches(['\n', '\r']);
        let begin = *start.get_or_insert(offset);
        if current.is_empty() {
            first_line = line_no;
        }
        let (body, continued) = match line.strip_suffix('\\') {
            Some(b) => (b, true),
            None => (line, false),
        };
        current.push_str(body);
        current.push(' ');
        if !continued {
            let first_end = text[begin..]
                .find(['\n', '\r'])
                .map_or(text.len(), |i| begin + i);
            out.push((
                std::mem::take(&mut current),
                Span::new(begin, first_end),
                first_line,
            ));
            start = None;
        }
        offset += raw.len();
    }
    if !current.trim().is_empty()
        && let Some(begin) = start
    {
        out.push((current, Span::new(begin, text.len()), first_line));
    }
    out
}

fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    match line.find(" #").or_else(|| line.find("\t#")) {
        Some(i) => &line[..i],
        None => line,
    }
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// A direct reference (`git+…`, `https://…`, `file:…`, a path): its source.
fn direct_reference(target: &str, hashed: bool) -> Source {
    let (target, fragment) = target.split_once('#').unwrap_or((target, ""));
    if let Some(url) = target.strip_prefix("git+") {
        // `git+https://host/repo.git@<ref>`: the ref follows the last `@` after the host.
        let after_scheme = url.find("://").map_or(0, |i| i + 3);
        let (repo, reference) = match url[after_scheme..].rfind('@') {
            Some(i)
                if !url[after_scheme..after_scheme + i].is_empty()
                    && url[after_scheme + i..].contains('/') =>
            {
                (url, None)
            }
            Some(i) => (&url[..after_scheme + i], Some(&url[after_scheme + i + 1..])),
            None => (url, None),
        };
        return git_source(repo, reference);
    }
    if target.starts_with("http://") || target.starts_with("https://") {
        let fragment_hash = fragment.split('&').any(|kv| {
            kv.starts_with("sha256=") || kv.starts_with("sha384=") || kv.starts_with("sha512=")
        });
        return Source::Url {
            url: target.to_owned(),
            hashed: hashed || fragment_hash,
        };
    }
    let path = target
        .strip_prefix("file://")
        .or_else(|| target.strip_prefix("file:"))
        .unwrap_or(target);
    Source::Path {
        path: path.to_owned(),
    }
}

/// The file an include line names (`-r base.txt`, `--constraint=c.txt`), if it is one.
fn include_target<'a>(first: &'a str, second: Option<&'a str>) -> Option<&'a str> {
    for flag in ["--requirement", "--constraint", "-r", "-c"] {
        let Some(rest) = first.strip_prefix(flag) else {
            continue;
        };
        let rest = rest.strip_prefix('=').unwrap_or(rest);
        if rest.is_empty() {
            return second;
        }
        // `-rfile` is an include; `--requirementsx` is not a flag of this family.
        if flag.len() == 2 || first.contains('=') {
            return Some(rest);
        }
    }
    None
}

pub(super) fn parse_requirements(
    file: &Arc<SourceFile>,
    notes: &mut Vec<String>,
    includes: &mut Vec<(String, Span)>,
) -> Result<Vec<Package>, ParseError> {
    let mut out = Vec::new();
    let mut unpinned = 0;
    for (index, (line, span, line_no)) in logical_lines(&file.text).into_iter().enumerate() {
        let line = strip_comment(&line);
        let mut tokens = line.split_whitespace().peekable();
        let Some(first) = tokens.peek().copied() else {
            continue;
        };
        let route = Route::root().key(&format!("line {line_no}")).index(index);
        let hashed = line.contains("--hash");
        if first.starts_with('-') {
            let mut rest = line.split_whitespace();
            rest.next();
            if let Some(target) = include_target(first, rest.next()) {
                includes.push((target.to_owned(), span));
                continue;
            }
            let target = match first {
                "-e" | "--editable" => {
                    tokens.next();
                    tokens.next()
                }
                f => f
                    .strip_prefix("--editable=")
                    .or_else(|| f.strip_prefix("-e"))
                    .filter(|t| !t.is_empty()),
            };
            if let Some(target) = target {
                let name = target
                    .split_once("#egg=")
                    .map_or(target, |(_, n)| n)
                    .to_owned();
                out.push(Package {
                    name,
                    version: None,
                    source: direct_reference(target, hashed),
                    span,
                    route,
                });
            }
            continue;
        }
        // The requirement proper ends at the first option or environment marker.
        let spec = line.split(" --").next().unwrap_or_default();
        let spec = spec.split(';').next().unwrap_or_default().trim();
        if let Some((name, target)) = spec.split_once(" @ ").or_else(|| {
            spec.split_once('@')
                .filter(|(n, _)| is_name(n.split('[').next().unwrap_or(n).trim()))
        }) {
            let name = name.split('[').next().unwrap_or(name).trim().to_owned();
            out.push(Package {
                name,
                version: None,
                source: direct_reference(target.trim(), hashed),
                span,
                route,
            });
            continue;
        }
        if spec.contains("://")
            || spec.starts_with('.')
            || spec.starts_with('/')
            || spec.starts_with("file:")
        {
            let name = spec.split_once("#egg=").map_or(spec, |(_, n)| n).to_owned();
            out.push(Package {
                name,
                version: None,
                source: direct_reference(spec, hashed),
                span,
                route,
            });
            continue;
        }
        let pinned = spec.split_once("===").or_else(|| spec.split_once("=="));
        match pinned {
            Some((name, version)) if !version.contains([',', '*', '<', '>', '!', '~']) => {
                let name = name.split('[').next().unwrap_or(name).trim();
                if !is_name(name) {
                    return Err(ParseError::new(
                        span,
                        format!("cannot read the requirement `{}`", spec.trim()),
                        "write one `name==version` requirement per line (see `pip help install`) or regenerate the file with `pip-compile --generate-hashes` or `uv pip compile --generate-hashes`",
                    ));
                }
                out.push(Package {
                    name: name.to_owned(),
                    version: Some(version.trim().to_owned()),
                    source: Source::Registry,
                    span,
                    route,
                });
            }
            _ => unpinned += 1,
        }
    }
    if unpinned > 0 {
        notes.push(format!(
            "{}: {} not pinned with `==` and were not checked against the cooldown",
            file.path,
            ciguard_core::plural::count(unpinned, "requirement is", "requirements are")
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn direct_references() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            direct_reference(
                &format!("git+https://github.com/a/b.git@{sha}#egg=b"),
                false
            ),
            Source::Git {
                url: "https://github.com/a/b.git".into(),
                commit: Some(sha.into())
            }
        );
        assert_eq!(
            direct_reference("git+https://github.com/a/b.git@main", false),
            Source::Git {
                url: "https://github.com/a/b.git".into(),
                commit: None
            }
        );
        assert_eq!(
            direct_reference("git+ssh://git@github.com/a/b.git", false),
            Source::Git {
                url: "ssh://git@github.com/a/b.git".into(),
                commit: None
            }
        );
        assert_eq!(
            direct_reference("https://x.test/a.tar.gz#sha256=abc", false),
            Source::Url {
                url: "https://x.test/a.tar.gz".into(),
                hashed: true
            }
        );
        assert_eq!(
            direct_reference("https://x.test/a.tar.gz", false),
            Source::Url {
                url: "https://x.test/a.tar.gz".into(),
                hashed: false
            }
        );
        assert_eq!(
            direct_reference("file:../lib", false),
            Source::Path {
                path: "../lib".into()
            }
        );
    }
}
