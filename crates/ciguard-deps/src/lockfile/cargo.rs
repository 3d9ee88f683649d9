//! `Cargo.lock`, and the path dependencies of `Cargo.toml` manifests (a lockfile does not say
//! where a path dependency lives).

use std::sync::Arc;

use ciguard_core::{Route, SourceFile, Span};
use serde::Deserialize;
use toml::Spanned;

use super::{Package, ParseError, Source, is_commit};

#[derive(Deserialize)]
struct CargoLock {
    #[serde(default)]
    package: Vec<CargoPackage>,
}

#[derive(Deserialize)]
struct CargoPackage {
    name: Spanned<String>,
    version: Spanned<String>,
    source: Option<String>,
}

pub(super) fn parse_lock(file: &Arc<SourceFile>) -> Result<Vec<Package>, ParseError> {
    let lock: CargoLock = toml::from_str(&file.text)
        .map_err(|e| ParseError::toml(&e, "Cargo.lock", "cargo generate-lockfile"))?;
    let mut out = Vec::new();
    for (i, p) in lock.package.into_iter().enumerate() {
        let source = match p.source.as_deref() {
            None => Source::Local,
            Some(s) => cargo_source(s),
        };
        let span = Span::new(p.name.span().start, p.version.span().end);
        out.push(Package {
            name: p.name.into_inner(),
            version: Some(p.version.into_inner()),
            source,
            span,
            route: Route::root().key("package").index(i),
        });
    }
    Ok(out)
}

fn cargo_source(s: &str) -> Source {
    if let Some(rest) = s
        .strip_prefix("registry+")
        .or_else(|| s.strip_prefix("sparse+"))
    {
        let default = matches!(
            rest.trim_end_matches('/'),
            "https://github.com/rust-lang/crates.io-index" | "https://index.crates.io"
        );
        return Source::index(rest, default);
    }
    if let Some(rest) = s.strip_prefix("git+") {
        let (url, fragment) = rest.split_once('#').unwrap_or((rest, ""));
        let commit = is_commit(fragment).then(|| fragment.to_owned());
        return Source::Git {
            url: url.to_owned(),
            commit,
        };
    }
    if let Some(path) = s.strip_prefix("path+") {
        return Source::Path {
            path: path.trim_start_matches("file://").to_owned(),
        };
    }
    Source::Index { url: s.to_owned() }
}

const DEP_TABLES: [&str; 3] = ["dependencies", "dev-dependencies", "build-dependencies"];

/// The `path = "..."` dependencies of a `Cargo.toml`, as [`Source::Path`] packages.
pub(crate) fn manifest_path_dependencies(
    file: &Arc<SourceFile>,
) -> Result<Vec<Package>, ParseError> {
    let table: toml::Table = toml::from_str(&file.text)
        .map_err(|e| ParseError::toml(&e, "Cargo.toml", "cargo metadata"))?;
    let mut tables: Vec<(Route, &toml::Table)> = Vec::new();
    let root = Route::root();
    for key in DEP_TABLES {
        if let Some(t) = table.get(key).and_then(toml::Value::as_table) {
            tables.push((root.key(key), t));
        }
    }
    if let Some(targets) = table.get("target").and_then(toml::Value::as_table) {
        for (name, t) in targets {
            for key in DEP_TABLES {
                if let Some(deps) = t.get(key).and_then(toml::Value::as_table) {
                    tables.push((root.key("target").key(name).key(key), deps));
                }
            }
        }
    }
    if let Some(deps) = table
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(toml::Value::as_table)
    {
        tables.push((root.key("workspace").key("dependencies"), deps));
    }
    if let Some(patch) = table.get("patch").and_then(toml::Value::as_table) {
        for (registry, deps) in patch {
            if let Some(deps) = deps.as_table() {
                tables.push((root.key("patch").key(registry), deps));
            }
        }
    }
    let mut out = Vec::new();
    let mut search_from = 0;
    for (route, deps) in tables {
        for (name, spec) in deps {
            let Some(path) = spec.get("path").and_then(toml::Value::as_str) else {
                continue;
            };
            let span = locate_string(&file.text, path, search_from).unwrap_or_default();
            if span.end > 0 {
                search_from = span.end;
            }
            out.push(Package {
                name: name.clone(),
                version: None,
                source: Source::Path {
                    path: path.to_owned(),
                },
                span,
                route: route.key(name).key("path"),
            });
        }
    }
    Ok(out)
}

/// The span of a quoted TOML string with this value, preferring one at or after `from`.
fn locate_string(text: &str, value: &str, from: usize) -> Option<Span> {
    let candidates = [format!("\"{value}\""), format!("'{value}'")];
    let find = |start: usize| {
        candidates
            .iter()
            .filter_map(|c| {
                text.get(start..)?
                    .find(c.as_str())
                    .map(|i| Span::new(start + i, start + i + c.len()))
            })
            .min()
    };
    find(from).or_else(|| find(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ciguard_core::FileKind;

    #[test]
    fn sources() {
        assert_eq!(
            cargo_source("registry+https://github.com/rust-lang/crates.io-index"),
            Source::Registry
        );
        assert_eq!(
            cargo_source("sparse+https://index.crates.io/"),
            Source::Registry
        );
        assert_eq!(
            cargo_source("sparse+https://my.mirror/index/"),
            Source::Index {
                url: "https://my.mirror/index/".into()
            }
        );
        let sha = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            cargo_source(&format!("git+https://github.com/a/b?branch=main#{sha}")),
            Source::Git {
                url: "https://github.com/a/b?branch=main".into(),
                commit: Some(sha.into())
            }
        );
        assert_eq!(
            cargo_source("git+https://github.com/a/b"),
            Source::Git {
                url: "https://github.com/a/b".into(),
                commit: None
            }
        );
    }

    #[test]
    fn manifest_paths() {
        let text = "[package]\nname = \"x\"\n\n[dependencies]\nserde = \"1\"\nlocal = { path = \"crates/local\" }\n\n[target.'cfg(unix)'.dev-dependencies]\nfar = { path = '../../far' }\n";
        let file = Arc::new(SourceFile::new(
            "Cargo.toml",
            FileKind::Dependencies,
            text.to_owned(),
        ));
        let deps = manifest_path_dependencies(&file).expect("valid manifest");
        assert_eq!(deps.len(), 2);
        assert_eq!(file.slice(deps[1].span), "'../../far'");
        assert_eq!(
            deps[1].route.to_string(),
            "target.cfg(unix).dev-dependencies.far.path"
        );
    }
}
