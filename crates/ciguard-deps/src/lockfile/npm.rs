//! JavaScript lockfiles: `package-lock.json` (v1, v2, v3), `pnpm-lock.yaml` (v5 to v9) and
//! `yarn.lock` (berry, and classic v1).

use std::sync::Arc;

use ciguard_core::yaml::{Document, Limits, Node as YNode};
use ciguard_core::{Route, SourceFile, Span};

use super::{Package, ParseError, Source, is_commit};
use crate::json5;

const DEFAULT_REGISTRIES: [&str; 2] = [
    "https://registry.npmjs.org/",
    "https://registry.yarnpkg.com/",
];

/// Classifies a resolved URL or specifier (`git+ssh://…#sha`, `https://registry…/-/x.tgz`,
/// `file:../x`).
fn resolved_source(resolved: &str, hashed: bool) -> Source {
    if DEFAULT_REGISTRIES.iter().any(|r| resolved.starts_with(r)) {
        return Source::Registry;
    }
    let git_like = resolved.starts_with("git+")
        || resolved.starts_with("git://")
        || resolved.starts_with("github:")
        || resolved.starts_with("ssh://")
        || resolved.contains(".git#")
        || resolved.starts_with("https://codeload.github.com/");
    if git_like {
        let (url, fragment) = resolved.split_once('#').unwrap_or((resolved, ""));
        let mut commit = fragment
            .split('&')
            .find_map(|kv| kv.strip_prefix("commit="))
            .or(Some(fragment));
        if resolved.starts_with("https://codeload.github.com/") {
            commit = url.rsplit('/').next();
        }
        return Source::Git {
            url: url.to_owned(),
            commit: commit.filter(|c| is_commit(c)).map(str::to_owned),
        };
    }
    if let Some(path) = resolved
        .strip_prefix("file:")
        .or_else(|| resolved.strip_prefix("link:"))
    {
        return Source::Path {
            path: path.to_owned(),
        };
    }
    if resolved.starts_with("http://") || resolved.starts_with("https://") {
        // A tarball on another registry (`…/-/name-1.0.0.tgz`: Artifactory, Nexus, Verdaccio;
        // GitHub Packages' `npm.pkg.github.com/download/…`) is a registry package.
        if hashed && (resolved.contains("/-/") || is_github_packages(resolved)) {
            return Source::Index {
                url: resolved.to_owned(),
            };
        }
        return Source::Url {
            url: resolved.to_owned(),
            hashed,
        };
    }
    Source::Path {
        path: resolved.to_owned(),
    }
}

/// A URL of GitHub Packages' npm registry.
pub(crate) fn is_github_packages(url: &str) -> bool {
    url.strip_prefix("https://")
        .and_then(|u| u.split('/').next())
        .is_some_and(|host| host == "npm.pkg.github.com")
}

// ------------------------------------------------------------------------------ package-lock.json

pub(super) fn parse_package_lock(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    let root = json5::parse(&file.text).map_err(|e| {
        ParseError::new(
            Span::new(e.offset, e.offset),
            format!("invalid package-lock.json: {}", e.message),
            "fix the file or regenerate it with `npm install --package-lock-only`",
        )
    })?;
    let mut out = Vec::new();
    if let Some(packages) = root.get("packages") {
        for (key, entry) in packages.entries() {
            if key.name.is_empty() {
                continue;
            }
            let route = Route::root().key("packages").key(&key.name);
            let in_node_modules = key.name.contains("node_modules/");
            let name = entry.get_str("name").map(str::to_owned).unwrap_or_else(|| {
                key.name
                    .rsplit_once("node_modules/")
                    .map_or(key.name.as_str(), |(_, n)| n)
                    .to_owned()
            });
            let version = entry.get_str("version").map(str::to_owned);
            let hashed = entry.get("integrity").is_some();
            let source = if entry.get("link").and_then(json5::Node::as_bool) == Some(true) {
                Source::Path {
                    path: entry.get_str("resolved").unwrap_or_default().to_owned(),
                }
            } else if !in_node_modules {
                Source::Path {
                    path: key.name.clone(),
                }
            } else if entry.get("inBundle").and_then(json5::Node::as_bool) == Some(true) {
                Source::Local
            } else {
                match entry.get_str("resolved") {
                    Some(r) => resolved_source(r, hashed),
                    None if version.is_some() => Source::Registry,
                    None => Source::Local,
                }
            };
            out.push(Package {
                name,
                version,
                source,
                span: key.span,
                route,
            });
        }
        return Ok(out);
    }
    if let Some(deps) = root.get("dependencies") {
        v1_dependencies(deps, &Route::root().key("dependencies"), &mut out, 0);
        return Ok(out);
    }
    let lockfile_version = root.get("lockfileVersion").and_then(json5::Node::as_f64);
    if !root.is_object() || lockfile_version.is_none() {
        return Err(ParseError::new(
            root.span,
            "this is not an npm lockfile: no `lockfileVersion`, `packages` or `dependencies`",
            "regenerate it with `npm install --package-lock-only`",
        ));
    }
    Ok(out)
}

fn v1_dependencies(deps: &json5::Node, route: &Route, out: &mut Vec<Package>, depth: usize) {
    if depth > 64 {
        return;
    }
    for (key, entry) in deps.entries() {
        let route = route.key(&key.name);
        let version = entry.get_str("version").unwrap_or_default();
        // An alias: `"react-is-18": {"version": "npm:react-is@18.2.0"}`.
        let (name, version) = match version.strip_prefix("npm:").map(split_at_version) {
            Some((real, Some(v))) => (real, v),
            _ => (key.name.as_str(), version),
        };
        let hashed = entry.get("integrity").is_some();
        let resolved = entry.get_str("resolved");
        let source = if entry.get("bundled").and_then(json5::Node::as_bool) == Some(true) {
            Source::Local
        } else if let Some(r) = resolved {
            resolved_source(r, hashed)
        } else if version.contains(':') || version.contains('/') {
            resolved_source(version, hashed)
        } else {
            Source::Registry
        };
        let version = (!version.contains(':') && !version.is_empty()).then(|| version.to_owned());
        out.push(Package {
            name: name.to_owned(),
            version,
            source,
            span: key.span,
            route: route.clone(),
        });
        if let Some(nested) = entry.get("dependencies") {
            v1_dependencies(nested, &route.key("dependencies"), out, depth + 1);
        }
    }
}

// --------------------------------------------------------------------------------- pnpm-lock.yaml

fn big_limits() -> Limits {
    Limits {
        max_bytes: 256 * 1024 * 1024,
        max_nodes: 20_000_000,
        ..Limits::default()
    }
}

fn yaml_doc(file: &SourceFile, what: &str, regenerate: &str) -> Result<Document, ParseError> {
    Document::parse(file, &big_limits()).map_err(|e| {
        ParseError::new(
            e.span,
            format!("invalid {what}: {}", e.message),
            format!("fix the file or regenerate it with `{regenerate}`"),
        )
    })
}

/// Splits a pnpm package key (`/@scope/name@1.0.0(peer@1)`, `name@1.0.0`, v5's `/name/1.0.0_peer`)
/// into name and version.
fn split_pnpm_key(key: &str, v5: bool) -> Option<(&str, &str)> {
    let k = key.strip_prefix('/').unwrap_or(key);
    if v5 {
        let (name, version) = k.rsplit_once('/')?;
        return Some((name, version.split('_').next().unwrap_or(version)));
    }
    let k = k.split('(').next().unwrap_or(k);
    let at = k.get(1..)?.find('@')? + 1;
    Some((&k[..at], &k[at + 1..]))
}

/// The byte ranges of a YAML stream's documents, split at `---` lines.
fn yaml_documents(text: &str) -> Vec<(usize, usize)> {
    let mut docs = Vec::new();
    let (mut start, mut offset) = (0, 0);
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        if bare == "---" || bare.starts_with("--- ") {
            if !text[start..offset].trim().is_empty() {
                docs.push((start, offset));
            }
            start = offset + line.len();
        }
        offset += line.len();
    }
    if !text[start..].trim().is_empty() || docs.is_empty() {
        docs.push((start, text.len()));
    }
    docs
}

/// The file with everything outside `range` blanked (newlines kept), so one document parses
/// alone and its spans are still offsets into the whole file.
fn only_document(file: &SourceFile, (start, end): (usize, usize)) -> SourceFile {
    let blank = |s: &str| {
        s.bytes()
            .map(|b| if b == b'\n' { '\n' } else { ' ' })
            .collect::<String>()
    };
    let text = format!(
        "{}{}{}",
        blank(&file.text[..start]),
        &file.text[start..end],
        blank(&file.text[end..])
    );
    SourceFile::new(file.path.clone(), file.kind, text)
}

/// pnpm 11+ may write two documents: the package manager's own lockfile (`packageManagerDependencies`),
/// then the project's. Every document is read.
const MAX_PNPM_DOCUMENTS: usize = 8;

pub(super) fn parse_pnpm(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    let documents = yaml_documents(&file.text);
    if documents.len() == 1 {
        return parse_pnpm_document(file);
    }
    if documents.len() > MAX_PNPM_DOCUMENTS {
        return Err(ParseError::new(
            Span::new(
                documents[MAX_PNPM_DOCUMENTS].0,
                documents[MAX_PNPM_DOCUMENTS].0,
            ),
            format!("invalid pnpm-lock.yaml: more than {MAX_PNPM_DOCUMENTS} YAML documents"),
            "pnpm writes at most two (the package manager's, then the project's); regenerate it with `pnpm install --lockfile-only`",
        ));
    }
    let mut out = Vec::new();
    for range in documents {
        out.extend(parse_pnpm_document(&Arc::new(only_document(file, range)))?);
    }
    Ok(out)
}

fn parse_pnpm_document(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    let doc = yaml_doc(file, "pnpm-lock.yaml", "pnpm install --lockfile-only")?;
    let Some(root) = doc.root().filter(|r| r.is_mapping()) else {
        return Err(ParseError::new(
            Span::default(),
            "invalid pnpm-lock.yaml: the document is not a mapping",
            "regenerate it with `pnpm install --lockfile-only`",
        ));
    };
    let version = root
        .get("lockfileVersion")
        .and_then(YNode::as_str)
        .unwrap_or_default();
    let v5 = version.starts_with('5') || version.starts_with('4') || version.starts_with('3');
    let mut out = Vec::new();
    if let Some(packages) = root.get("packages") {
        for (key_node, entry) in packages.entries() {
            let Some(key) = key_node.as_str() else {
                continue;
            };
            let route = Route::root().key("packages").key(key);
            let Some((name, version)) = split_pnpm_key(key, v5) else {
                continue;
            };
            let name = entry.get_str("name").unwrap_or(name).to_owned();
            let version = entry.get_str("version").unwrap_or(version);
            let resolution = entry.get("resolution");
            let hashed = resolution.and_then(|r| r.get("integrity")).is_some();
            let source = match resolution {
                Some(r) if r.get_str("type") == Some("git") => {
                    let commit = r
                        .get_str("commit")
                        .filter(|c| is_commit(c))
                        .map(str::to_owned);
                    Source::Git {
                        url: r.get_str("repo").unwrap_or_default().to_owned(),
                        commit,
                    }
                }
                Some(r) if r.get_str("type") == Some("directory") => Source::Path {
                    path: r.get_str("directory").unwrap_or_default().to_owned(),
                },
                Some(r) if r.get("tarball").is_some() => {
                    resolved_source(r.get_str("tarball").unwrap_or_default(), hashed)
                }
                _ if version.contains(':') => resolved_source(version, hashed),
                _ => Source::Registry,
            };
            let version =
                (!version.contains(':') && !version.contains('/')).then(|| version.to_owned());
            out.push(Package {
                name,
                version,
                source,
                span: key_node.span(),
                route,
            });
        }
    }
    // Local links of the importers (`link:../lib`): their paths matter.
    if let Some(importers) = root.get("importers") {
        for (imp_key, importer) in importers.entries() {
            let imp = imp_key.as_str().unwrap_or(".");
            for section in [
                "dependencies",
                "devDependencies",
                "optionalDependencies",
                "packageManagerDependencies",
            ] {
                let Some(deps) = importer.get(section) else {
                    continue;
                };
                for (dep_key, dep) in deps.entries() {
                    let spec = dep
                        .get_str("version")
                        .or_else(|| dep.as_str())
                        .unwrap_or_default();
                    if let Some(path) = spec
                        .strip_prefix("link:")
                        .or_else(|| spec.strip_prefix("file:"))
                    {
                        let joined = if imp == "." {
                            path.to_owned()
                        } else {
                            format!("{imp}/{path}")
                        };
                        out.push(Package {
                            name: dep_key.as_str().unwrap_or_default().to_owned(),
                            version: None,
                            source: Source::Path { path: joined },
                            span: dep_key.span(),
                            route: Route::root()
                                .key("importers")
                                .key(imp)
                                .key(section)
                                .key(dep_key.as_str().unwrap_or_default()),
                        });
                    }
                }
            }
        }
    }
    Ok(out)
}

// -------------------------------------------------------------------------------------- yarn.lock

pub(super) fn parse_yarn(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    if file
        .text
        .lines()
        .take(5)
        .any(|l| l.contains("yarn lockfile v1"))
    {
        return Ok(parse_yarn_classic(file));
    }
    let doc = yaml_doc(file, "yarn.lock", "yarn install --mode=update-lockfile")?;
    let Some(root) = doc.root().filter(|r| r.is_mapping()) else {
        return Err(ParseError::new(
            Span::default(),
            "invalid yarn.lock: the document is not a mapping",
            "regenerate it with `yarn install --mode=update-lockfile`",
        ));
    };
    let mut out = Vec::new();
    for (key_node, entry) in root.entries() {
        let Some(key) = key_node.as_str() else {
            continue;
        };
        if key == "__metadata" {
            continue;
        }
        let Some(resolution) = entry.get_str("resolution") else {
            continue;
        };
        let Some(at) = resolution.get(1..).and_then(|r| r.find('@')).map(|i| i + 1) else {
            continue;
        };
        let (name, reference) = (&resolution[..at], &resolution[at + 1..]);
        let hashed = entry.get("checksum").is_some();
        let version = entry.get_str("version").map(str::to_owned);
        let source = if reference.starts_with("npm:") {
            Source::Registry
        } else if reference.starts_with("workspace:")
            || reference.starts_with("patch:")
            || reference.starts_with("exec:")
        {
            Source::Local
        } else if let Some(path) = ["file:", "link:", "portal:"]
            .iter()
            .find_map(|p| reference.strip_prefix(p))
        {
            let relative = path.split(['#', ':']).next().unwrap_or(path);
            Source::Path {
                path: from_workspace(relative, reference),
            }
        } else {
            resolved_source(reference, hashed)
        };
        out.push(Package {
            name: name.to_owned(),
            version,
            source,
            span: key_node.span(),
            route: Route::root().key(key),
        });
    }
    Ok(out)
}

/// `name@spec` split at the `@` that ends the (possibly scoped) name.
fn split_at_version(s: &str) -> (&str, Option<&str>) {
    match s.get(1..).and_then(|r| r.find('@')) {
        Some(i) => (&s[..=i], Some(&s[i + 2..])),
        None => (s, None),
    }
}

/// A berry `link:`/`portal:`/`file:` path is relative to the workspace that declares it, named
/// in the reference's `::locator=app%40workspace%3Apackages%2Fapp`: the path from the root.
fn from_workspace(relative: &str, reference: &str) -> String {
    let workspace = reference
        .split_once("::locator=")
        .map(|(_, l)| percent_decode(l.split('&').next().unwrap_or(l)))
        .and_then(|l| l.split_once("@workspace:").map(|(_, dir)| dir.to_owned()))
        .filter(|dir| !dir.is_empty() && dir != ".");
    match workspace {
        Some(dir) if !relative.starts_with('/') => format!("{dir}/{relative}"),
        _ => relative.to_owned(),
    }
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(b) = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn unquote(s: &str) -> &str {
    s.trim().trim_matches('"')
}

fn parse_yarn_classic(file: &Arc<SourceFile>) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    let mut offset = 0;
    for raw in file.text.split_inclusive('\n') {
        let line = raw.trim_end_matches(['\n', '\r']);
        let span = Span::new(offset, offset + line.len());
        offset += raw.len();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') && line.ends_with(':') {
            let first = unquote(
                line.trim_end_matches(':')
                    .split(", ")
                    .next()
                    .unwrap_or_default(),
            );
            // An alias (`react-is-18@npm:react-is@^18`) installs the package after `npm:`.
            let (name, spec) = split_at_version(first);
            let name = spec
                .and_then(|s| s.strip_prefix("npm:"))
                .map_or(name, |real| split_at_version(real).0);
            out.push(Package {
                name: name.to_owned(),
                version: None,
                source: Source::Registry,
                span,
                route: Route::root().key(unquote(line.trim_end_matches(':'))),
            });
            continue;
        }
        let Some(current) = out.last_mut() else {
            continue;
        };
        let trimmed = line.trim();
        if let Some(v) = trimmed.strip_prefix("version ") {
            current.version = Some(unquote(v).to_owned());
        } else if let Some(r) = trimmed.strip_prefix("resolved ") {
            let r = unquote(r);
            let hashed = r.contains('#')
                || file.text[span.end..]
                    .lines()
                    .take(2)
                    .any(|l| l.trim_start().starts_with("integrity "));
            current.source = resolved_source(r, hashed);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_keys() {
        assert_eq!(
            split_pnpm_key("/@babel/core@7.24.0(supports-color@8.1.1)", false),
            Some(("@babel/core", "7.24.0"))
        );
        assert_eq!(
            split_pnpm_key("left-pad@1.3.0", false),
            Some(("left-pad", "1.3.0"))
        );
        assert_eq!(
            split_pnpm_key("/@scope/name/1.0.0_peer@2", true),
            Some(("@scope/name", "1.0.0"))
        );
        assert_eq!(split_pnpm_key("@", false), None);
    }

    #[test]
    fn resolved_sources() {
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            resolved_source("https://registry.npmjs.org/a/-/a-1.0.0.tgz", true),
            Source::Registry
        );
        assert_eq!(
            resolved_source(&format!("git+ssh://git@github.com/a/b.git#{sha}"), false),
            Source::Git {
                url: "git+ssh://git@github.com/a/b.git".into(),
                commit: Some(sha.into())
            }
        );
        assert_eq!(
            resolved_source(&format!("https://github.com/a/b.git#commit={sha}"), false),
            Source::Git {
                url: "https://github.com/a/b.git".into(),
                commit: Some(sha.into())
            }
        );
        assert_eq!(
            resolved_source("github:a/b", false),
            Source::Git {
                url: "github:a/b".into(),
                commit: None
            }
        );
        assert_eq!(
            resolved_source("https://x.test/a.tgz", false),
            Source::Url {
                url: "https://x.test/a.tgz".into(),
                hashed: false
            }
        );
        assert_eq!(
            resolved_source("https://npm.corp.test/a/-/a-1.0.0.tgz", true),
            Source::Index {
                url: "https://npm.corp.test/a/-/a-1.0.0.tgz".into()
            }
        );
        let gh = "https://npm.pkg.github.com/download/@acme/ui/1.0.0/0a1b2c";
        assert_eq!(resolved_source(gh, true), Source::Index { url: gh.into() });
        assert_eq!(
            resolved_source("file:../lib", false),
            Source::Path {
                path: "../lib".into()
            }
        );
    }

    fn file(name: &str, text: &str) -> Arc<SourceFile> {
        Arc::new(SourceFile::new(
            name,
            ciguard_core::FileKind::Dependencies,
            text.to_owned(),
        ))
    }

    #[test]
    fn package_lock_v1() {
        let text = r#"{"lockfileVersion": 1, "dependencies": {
  "a": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz", "integrity": "sha512-x",
        "dependencies": {"b": {"version": "2.0.0", "integrity": "sha512-y"}}},
  "c": {"version": "github:example/c#main"}
}}"#;
        let pkgs = parse_package_lock(&file("package-lock.json", text)).expect("valid");
        let got: Vec<_> = pkgs
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_deref(), &p.source))
            .collect();
        assert_eq!(got[0], ("a", Some("1.0.0"), &Source::Registry));
        assert_eq!(got[1], ("b", Some("2.0.0"), &Source::Registry));
        assert_eq!(
            got[2],
            (
                "c",
                None,
                &Source::Git {
                    url: "github:example/c".into(),
                    commit: None
                }
            )
        );
        assert!(parse_package_lock(&file("package-lock.json", "{\"name\": \"x\"}")).is_err());
    }

    #[test]
    fn pnpm_v5_and_v6() {
        let v6 = "lockfileVersion: '6.0'\npackages:\n  /@babel/core@7.24.0(supports-color@8.1.1):\n    resolution: {integrity: sha512-x}\n";
        let pkgs = parse_pnpm(&file("pnpm-lock.yaml", v6)).expect("v6");
        assert_eq!(
            (pkgs[0].name.as_str(), pkgs[0].version.as_deref()),
            ("@babel/core", Some("7.24.0"))
        );
        let v5 = "lockfileVersion: 5.4\npackages:\n  /@scope/name/1.0.0_react@18.0.0:\n    resolution: {integrity: sha512-x}\n  /dir/0.0.1:\n    resolution: {directory: ../../dir, type: directory}\n";
        let pkgs = parse_pnpm(&file("pnpm-lock.yaml", v5)).expect("v5");
        assert_eq!(
            (pkgs[0].name.as_str(), pkgs[0].version.as_deref()),
            ("@scope/name", Some("1.0.0"))
        );
        assert_eq!(
            pkgs[1].source,
            Source::Path {
                path: "../../dir".into()
            }
        );
        assert!(parse_pnpm(&file("pnpm-lock.yaml", "- a list\n")).is_err());
        assert!(parse_pnpm(&file("pnpm-lock.yaml", "packages: {a: [}\n")).is_err());
    }

    #[test]
    fn yarn_berry_links_resolve_from_their_workspace() {
        let text = "__metadata:\n  version: 8\n\n\"lib@link:../lib::locator=app%40workspace%3Apackages%2Fapp\":\n  version: 0.0.0-use.local\n  resolution: \"lib@link:../lib::locator=app%40workspace%3Apackages%2Fapp\"\n\n\"root-lib@link:./vendor/x::locator=root%40workspace%3A.\":\n  version: 0.0.0-use.local\n  resolution: \"root-lib@link:./vendor/x::locator=root%40workspace%3A.\"\n";
        let pkgs = parse_yarn(&file("yarn.lock", text)).expect("berry");
        assert_eq!(
            pkgs[0].source,
            Source::Path {
                path: "packages/app/../lib".into()
            }
        );
        assert_eq!(
            pkgs[1].source,
            Source::Path {
                path: "./vendor/x".into()
            }
        );
        // From the root, `packages/app/../lib` stays inside; `../lib` alone would not.
        let root = std::path::Path::new("/repo");
        assert!(!crate::repo::points_outside(
            root,
            "yarn.lock",
            "packages/app/../lib"
        ));
    }

    #[test]
    fn yarn_classic() {
        let text = "# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.\n# yarn lockfile v1\n\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.12.13.tgz#dcfc826b\"\n  integrity sha512-x\n\nplain@https://example.test/plain.tgz:\n  version \"1.0.0\"\n  resolved \"https://example.test/plain.tgz\"\n";
        let pkgs = parse_yarn(&file("yarn.lock", text)).expect("classic");
        assert_eq!(pkgs.len(), 2);
        assert_eq!(
            (pkgs[0].name.as_str(), pkgs[0].version.as_deref()),
            ("@babel/code-frame", Some("7.12.13"))
        );
        assert_eq!(pkgs[0].source, Source::Registry);
        assert_eq!(
            pkgs[1].source,
            Source::Url {
                url: "https://example.test/plain.tgz".into(),
                hashed: false
            }
        );
    }
}
