//! The module graph follows the flow: no cycle between the top-level modules of ciguard-core or
//! of ciguard-syntax. Edges are the `crate::<module>` paths of each file outside comments and
//! `#[cfg(test)]` items (tests may reach anywhere). The two crates need no edge between them checked: a crate
//! cannot import its dependent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Edges tolerated for now, each with the change that removes it.
const ALLOWED: &[(&str, &str)] = &[
    // removed when catalog.rs lands: `Finding::new` takes `AuditMeta`, which lives in audit.rs.
    ("finding", "audit"),
];

type Graph = BTreeMap<String, BTreeSet<String>>;

#[test]
fn no_cycle_between_top_level_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for krate in ["ciguard-core", "ciguard-syntax"] {
        let mut graph = Graph::new();
        let src = root.join(krate).join("src");
        walk(&src, &src, &mut graph);
        assert!(graph.len() > 3, "{krate}: read too few modules: {graph:?}");
        let cycles: Vec<String> = graph
            .iter()
            .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
            .filter(|(from, to)| !ALLOWED.contains(&(from.as_str(), to.as_str())))
            .filter(|(from, to)| reaches(&graph, to, from))
            .map(|(from, to)| format!("{from} -> {to}"))
            .collect();
        assert!(cycles.is_empty(), "{krate}: edges on a cycle: {cycles:#?}");
    }
}

/// Whether `to` is reachable from `from` over edges that are not [`ALLOWED`].
fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let (mut seen, mut stack) = (BTreeSet::new(), vec![from.to_owned()]);
    while let Some(m) = stack.pop() {
        if m == to {
            return true;
        }
        for next in graph.get(&m).into_iter().flatten() {
            if !ALLOWED.contains(&(m.as_str(), next.as_str())) && seen.insert(next.clone()) {
                stack.push(next.clone());
            }
        }
    }
    false
}

fn walk(src: &Path, dir: &Path, graph: &mut Graph) {
    let mut test_files = BTreeSet::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    // Files first, so `#[cfg(test)] mod tests;` marks `tests.rs` and `tests/` before they are read.
    entries.sort_by_key(|p| p.is_dir());
    for path in entries {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if test_files.contains(&stem) {
            continue;
        }
        if path.is_dir() {
            walk(src, &path, graph);
            continue;
        }
        let rel = path.strip_prefix(src).unwrap();
        let top = rel.iter().next().unwrap().to_string_lossy();
        let module = top.trim_end_matches(".rs").to_owned();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let (code, test_mods) = without_test_items(&text);
        test_files.extend(test_mods);
        let edges = graph.entry(module.clone()).or_default();
        for used in crate_paths(&code) {
            if used != module {
                edges.insert(used);
            }
        }
    }
}

/// The first segment of every `crate::…` path, including each name of `crate::{a, b::c}`.
fn crate_paths(code: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').map(|p| ident(p.trim())));
        } else {
            out.push(ident(rest));
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// The code with every `#[cfg(test)]` item removed, and the names of `#[cfg(test)] mod x;`.
fn without_test_items(text: &str) -> (String, Vec<String>) {
    let (mut code, mut test_mods) = (String::new(), Vec::new());
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.trim_start().starts_with("//") {
            continue; // doc links name modules too, but are no dependency
        }
        if line.trim() != "#[cfg(test)]" {
            code.push_str(line);
            code.push('\n');
            continue;
        }
        let mut depth = 0i64;
        for item in lines.by_ref() {
            let item_code = item.split("//").next().unwrap_or("");
            if depth == 0 && item_code.trim_end().ends_with(';') {
                let name = item_code.trim().trim_end_matches(';');
                if let Some(name) = name.rsplit(' ').next().filter(|_| name.contains("mod ")) {
                    test_mods.push(name.to_owned());
                }
                break;
            }
            depth += item_code.matches('{').count() as i64 - item_code.matches('}').count() as i64;
            if depth <= 0 && item_code.contains('}') {
                break;
            }
        }
    }
    (code, test_mods)
}
