//! A Dependabot configuration (`.github/dependabot.yml`).

use std::sync::Arc;

use crate::diagnostic::{Checker, Diagnostic};
use crate::route::Route;
use crate::source::SourceFile;
use crate::yaml::{Document, Node};

#[derive(Debug, Clone)]
pub struct Update<'a> {
    pub index: usize,
    pub node: Node<'a>,
    pub route: Route,
    pub ecosystem: &'a str,
}

impl<'a> Update<'a> {
    pub fn get(&self, key: &str) -> Option<Node<'a>> {
        self.node.get(key)
    }
}

pub struct Dependabot<'a> {
    pub file: &'a Arc<SourceFile>,
    pub doc: &'a Document,
    pub root: Node<'a>,
    pub updates: Vec<Update<'a>>,
}

impl<'a> Dependabot<'a> {
    pub fn build(
        file: &'a Arc<SourceFile>,
        doc: &'a Document,
    ) -> (Option<Dependabot<'a>>, Vec<Diagnostic>) {
        let mut ck = Checker::new(file);
        let Some(root) = doc.root().filter(|r| r.is_mapping()) else {
            let span = doc.root().map(|r| r.span()).unwrap_or_default();
            ck.error(
                span,
                "a Dependabot configuration must be a mapping",
                "start with `version: 2` and `updates:`",
            );
            return (None, ck.diagnostics);
        };
        let mut updates = Vec::new();
        match root.get("updates") {
            Some(list) if list.is_sequence() => {
                for (index, node) in list.items().enumerate() {
                    let route = Route::root().key("updates").index(index);
                    if !node.is_mapping() {
                        ck.error(
                            node.span(),
                            format!("`{route}` must be a mapping"),
                            "give each entry `package-ecosystem:`, `directory:` and `schedule:`",
                        );
                        continue;
                    }
                    let ecosystem = node.get_str("package-ecosystem").unwrap_or_default();
                    if ecosystem.is_empty() {
                        ck.error(
                            node.span(),
                            format!("`{route}` has no `package-ecosystem`"),
                            "name the ecosystem, e.g. `package-ecosystem: github-actions`",
                        );
                    }
                    updates.push(Update {
                        index,
                        node,
                        route,
                        ecosystem,
                    });
                }
            }
            Some(other) => ck.error(
                other.span(),
                "`updates` must be a list",
                "write each update as a `- ` item",
            ),
            None => ck.error(
                root.span(),
                "Dependabot configuration has no `updates:`",
                "add an `updates:` list",
            ),
        }
        if ck.has_errors() {
            return (None, ck.diagnostics);
        }
        (
            Some(Dependabot {
                file,
                doc,
                root,
                updates,
            }),
            ck.diagnostics,
        )
    }
}
