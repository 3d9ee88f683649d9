//! The catalogue of all audits (core, dependency and settings audits) against the files that
//! document and implement them:
//! - `docs/audits/` is generated from the declarations: a page is stale, missing, or left over
//!   from an audit that no longer exists; with `CIGUARD_BLESS=1` the directory is rewritten;
//! - every audit is declared in the file named after its id, and every file in an audits folder
//!   is a registered audit (a forgotten `mod` line or registry entry fails here);
//! - the links `ciguard explain` prints lead to files that exist.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use ciguard_core::docs;

use ciguard_pipeline::catalogue;

/// ciguard had this many audits when the catalogue became one value; there are never fewer.
const AUDITS_AT_LEAST: usize = 60;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn docs_dir() -> PathBuf {
    workspace().join("docs/audits")
}

#[test]
fn the_catalogue_has_every_audit_of_every_crate() {
    let catalogue = catalogue::build();
    assert!(catalogue.len() >= AUDITS_AT_LEAST, "{}", catalogue.len());
    for id in [
        "unpinned-uses",
        "dependency-cooldown",
        "missing-cooldown-config",
        "settings-bypass",
    ] {
        assert!(catalogue.get(id).is_some(), "{id}");
    }
}

#[test]
fn audit_pages_are_up_to_date() {
    let dir = docs_dir();
    let expected = docs::pages(&catalogue::build());
    assert_eq!(
        expected.len(),
        catalogue::build().len() + 1,
        "one page per audit and an index"
    );
    let bless = std::env::var_os("CIGUARD_BLESS").is_some_and(|v| v != "0");
    let present: BTreeSet<String> = fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|name| name.ends_with(".md"))
                .collect()
        })
        .unwrap_or_default();
    let wanted: BTreeSet<String> = expected.iter().map(|(name, _)| name.clone()).collect();

    if bless {
        fs::create_dir_all(&dir).expect("create docs/audits");
        for (name, text) in &expected {
            let path = dir.join(name);
            if fs::read_to_string(&path).ok().as_deref() != Some(text.as_str()) {
                fs::write(&path, text).expect("write page");
            }
        }
        for extra in present.difference(&wanted) {
            fs::remove_file(dir.join(extra)).expect("remove stale page");
        }
        return;
    }

    let mut problems = Vec::new();
    for (name, text) in &expected {
        match fs::read_to_string(dir.join(name)) {
            Ok(actual) if actual == *text => {}
            Ok(_) => problems.push(format!("docs/audits/{name} is stale")),
            Err(_) => problems.push(format!("docs/audits/{name} is missing")),
        }
    }
    for extra in present.difference(&wanted) {
        problems.push(format!(
            "docs/audits/{extra} belongs to no registered audit"
        ));
    }
    assert!(
        problems.is_empty(),
        "{}\nregenerate with: CIGUARD_BLESS=1 cargo test -p ciguard --test docs_pages",
        problems.join("\n")
    );
}

/// `audits/unpinned_uses.rs` holds `unpinned-uses`.
fn id_of_file(path: &Path) -> String {
    let stem = path.file_stem().unwrap_or_default().to_string_lossy();
    stem.replace('_', "-")
}

#[test]
fn every_audit_is_declared_in_the_file_named_after_its_id() {
    let mut wrong = Vec::new();
    for meta in catalogue::build().iter() {
        let source = Path::new(meta.source);
        if id_of_file(source) != meta.id || !workspace().join(source).is_file() {
            wrong.push(format!("{} is declared in {}", meta.id, meta.source));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

/// The folders audits live in, with the files there that are not audits.
const AUDIT_FOLDERS: &[(&str, &[&str])] = &[
    (
        "crates/ciguard-core/src/audits",
        &["mod.rs", "common.rs", "online.rs", "narrow_permissions.rs"],
    ),
    ("crates/ciguard-deps/src/audits", &["mod.rs"]),
    ("crates/ciguard-settings/src/checks", &["mod.rs"]),
];

#[test]
fn every_file_in_an_audits_folder_is_a_registered_audit() {
    let catalogue = catalogue::build();
    let mut orphans = Vec::new();
    let mut seen = 0;
    for (folder, helpers) in AUDIT_FOLDERS {
        let entries = fs::read_dir(workspace().join(folder)).expect("audits folder");
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".rs") || helpers.contains(&name.as_str()) {
                continue;
            }
            seen += 1;
            let path = format!("{folder}/{name}");
            let registered = catalogue
                .get(&id_of_file(Path::new(&name)))
                .is_some_and(|m| m.source == path);
            if !registered {
                orphans.push(path);
            }
        }
    }
    assert!(
        orphans.is_empty(),
        "not registered (missing `mod` line or registry entry?): {orphans:?}"
    );
    assert_eq!(seen, catalogue.len(), "one file per audit");
}

/// The `https://github.com/ciguard/ciguard/blob/main/<path>` links of a text, as paths.
fn repository_links(text: &str) -> Vec<String> {
    const BLOB: &str = "https://github.com/ciguard/ciguard/blob/main/";
    text.match_indices(BLOB)
        .map(|(at, _)| {
            let rest = &text[at + BLOB.len()..];
            let end = rest
                .find(|c: char| c == ')' || c.is_whitespace())
                .unwrap_or(rest.len());
            rest[..end].to_owned()
        })
        .collect()
}

#[test]
fn explain_links_resolve_for_every_audit() {
    for id in catalogue::build().ids() {
        let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
            .args(["explain", id])
            .stdin(Stdio::null())
            .output()
            .expect("run ciguard");
        assert!(out.status.success(), "explain {id}");
        let text = String::from_utf8_lossy(&out.stdout);
        let links = repository_links(&text);
        let source = format!("| source | [`{}`]", source_of(id));
        assert!(text.contains(&source), "{id}: {text}");
        assert!(
            links.contains(&format!("docs/audits/{id}.md")),
            "{id}: {links:?}"
        );
        assert!(links.len() >= 2, "{id}: {links:?}");
        for link in links {
            assert!(workspace().join(&link).is_file(), "{id}: {link} is missing");
        }
    }
}

fn source_of(id: &str) -> &'static str {
    catalogue::build().get(id).expect("registered").source
}

/// `ciguard audit --help` lists the online audits and those whose findings inside a dependency
/// keep their persona from the declarations, so a new or renamed audit cannot be missed there.
#[test]
fn audit_help_lists_online_and_consumer_audits_from_their_declarations() {
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(["audit", "--help"])
        .stdin(Stdio::null())
        .output()
        .expect("run ciguard");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    let online = help
        .split("Online audits (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("online audits listed");
    let consumer = help
        .split("concern the consumer (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("consumer audits listed");
    let list = |text: &str| -> Vec<String> {
        text.split(", ")
            .filter(|item| !item.starts_with("and "))
            .map(str::to_owned)
            .collect()
    };
    let (online, consumer) = (list(online), list(consumer));
    assert!(
        online.len() >= 5 && consumer.len() >= 10,
        "{online:?} {consumer:?}"
    );
    for meta in ciguard_core::audits::catalogue().iter() {
        let id = meta.id.to_owned();
        assert_eq!(
            online.contains(&id),
            meta.needs_network,
            "{}: {online:?}",
            meta.id
        );
        assert_eq!(
            consumer.contains(&id),
            meta.transitive == ciguard_core::catalog::Transitive::Consumer,
            "{}: {consumer:?}",
            meta.id
        );
    }
}
