//! The module graph follows the flow: no cycle between the top-level modules of ciguard-core or
//! of ciguard-syntax. Edges are the `crate::<module>` paths of each file outside comments and
//! `#[cfg(test)]` items (tests may reach anywhere). The two crates need no edge between them checked: a crate
//! cannot import its dependent.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Edges tolerated for now, each with the change that removes it (none: keep it that way).
const ALLOWED: &[(&str, &str)] = &[];

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
    let masked = masked(text);
    let mut lines = masked.lines();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            code.push_str(line);
            code.push('\n');
            continue;
        }
        let mut depth = 0i64;
        for item in lines.by_ref() {
            if depth == 0 && item.trim_end().ends_with(';') {
                let name = item.trim().trim_end_matches(';');
                if let Some(name) = name.rsplit(' ').next().filter(|_| name.contains("mod ")) {
                    test_mods.push(name.to_owned());
                }
                break;
            }
            depth += item.matches('{').count() as i64 - item.matches('}').count() as i64;
            if depth <= 0 && item.contains('}') {
                break;
            }
        }
    }
    (code, test_mods)
}

/// `text` with comments and the insides of string and character literals blanked (newlines
/// kept), so braces and paths are only those of the code.
fn masked(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let end = if rest.starts_with(&['/', '/']) {
            rest.iter().position(|&c| c == '\n').unwrap_or(rest.len())
        } else if rest.starts_with(&['/', '*']) {
            (2..rest.len())
                .find(|&k| rest[k - 1..].starts_with(&['*', '/']))
                .map_or(rest.len(), |k| k + 1)
        } else if rest[0] == '"' {
            let mut k = 1;
            while k < rest.len() && rest[k] != '"' {
                k += if rest[k] == '\\' { 2 } else { 1 };
            }
            (k + 1).min(rest.len())
        } else if rest[0] == 'r' && (i == 0 || !chars[i - 1].is_alphanumeric()) {
            let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
            if rest.get(1 + hashes) == Some(&'"') {
                let close: Vec<char> = std::iter::once('"')
                    .chain(std::iter::repeat_n('#', hashes))
                    .collect();
                (2 + hashes..rest.len())
                    .find(|&k| rest[k..].starts_with(&close))
                    .map_or(rest.len(), |k| k + close.len())
            } else {
                0
            }
        } else if rest[0] == '\'' && (rest.get(2) == Some(&'\'') || rest.get(1) == Some(&'\\')) {
            let mut k = 1;
            while k < rest.len() && rest[k] != '\'' {
                k += if rest[k] == '\\' { 2 } else { 1 };
            }
            (k + 1).min(rest.len())
        } else {
            0
        };
        if end == 0 {
            out.push(rest[0]);
            i += 1;
        } else {
            out.extend(rest[..end].iter().map(|&c| blank(c)));
            i += end;
        }
    }
    out
}

#[test]
fn edges_come_from_code_outside_tests_and_comments() {
    let text = "use crate::a::X;\nuse crate::{b, c::Y};\n/// see [`crate::d`]\n#[cfg(test)]\nmod tests {\n    use crate::e;\n    fn f() { let _ = (\"{\", '{', r#\"\n}\"#); }\n}\n#[cfg(test)]\nmod more;\nfn g() { crate::h::i(\"crate::j\"); }\n";
    let (code, test_mods) = without_test_items(text);
    let mut paths = crate_paths(&code);
    paths.sort();
    assert_eq!(paths, ["a", "b", "c", "h"]);
    assert_eq!(test_mods, ["more"]);
    let graph: Graph = [("x", "y"), ("y", "x"), ("y", "z")]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), BTreeSet::from([(*b).to_owned()])))
        .fold(Graph::new(), |mut g, (a, bs)| {
            g.entry(a).or_default().extend(bs);
            g
        });
    assert!(reaches(&graph, "y", "x") && !reaches(&graph, "z", "x"));
}
