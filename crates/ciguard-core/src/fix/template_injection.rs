//! The "move the expansion into `env:`" fix: byte splices that put `NAME: ${{ expr }}` in the
//! step's `env:` and replace each `${{ expr }}` of a bash or sh script with `${NAME}`.
//!
//! The invariant: for plain values (empty, one word, several words) the fixed script does
//! exactly what the original did. Each occurrence is replaced according to where it stands
//! ([`shell_sites`]): inside double quotes and in heredoc bodies by `${NAME}`, inside single
//! quotes by `'"${NAME}"'`, unquoted in a plain argument by an unquoted `${NAME}` (quoting it
//! would turn an empty value into an empty argument). Anywhere else, or when the script is not
//! understood, there is no fix. The script is read once per `run:`, so the cost stays linear
//! in the number of expansions.

mod shell_sites;

use crate::expr::{ContextPath, expansions};
use crate::finding::Edit;
use crate::models::scope::env_name_for;
use crate::source::{SourceFile, Span};
use crate::yaml::{Node, Style};
use shell_sites::Site;

/// Names a step must not set: the shell's own and the runner's.
const RESERVED: &[&str] = &[
    "PATH",
    "HOME",
    "IFS",
    "PWD",
    "OLDPWD",
    "SHELL",
    "USER",
    "LANG",
    "TERM",
    "CI",
    "ENV",
    "CDPATH",
    "PS1",
    "PS2",
    "PS4",
    "SHELLOPTS",
    "BASHOPTS",
    "GLOBIGNORE",
    "HOSTNAME",
    "UID",
    "EUID",
    "PPID",
    "RANDOM",
    "SECONDS",
    "LINENO",
    "OPTARG",
    "OPTIND",
    "TMPDIR",
    "LC_ALL",
    "POSIXLY_CORRECT",
];
const RESERVED_PREFIXES: &[&str] = &[
    "GITHUB_", "RUNNER_", "ACTIONS_", "BASH", "LD_", "INPUT_", "STATE_", "LC_",
];

/// One `run:` script made ready for fixing: every expansion with its place in the script and in
/// the file, and how it can be replaced.
pub struct ScriptFix<'a> {
    file: &'a SourceFile,
    step: Node<'a>,
    run_key: Node<'a>,
    script: &'a str,
    /// (span in the script, span in the file, site) of each expansion, in order.
    sites: Vec<(Span, Span, Site)>,
    /// The job's and the workflow's `env:` mappings.
    outer_envs: Vec<Node<'a>>,
}

impl<'a> ScriptFix<'a> {
    /// Reads the script of `run` (the value of `run_key` in `step`), or `None` when no edit of
    /// it can be placed exactly.
    pub fn new(
        file: &'a SourceFile,
        step: Node<'a>,
        run_key: Node<'a>,
        run: Node<'a>,
        outer_envs: Vec<Node<'a>>,
    ) -> Option<Self> {
        if step.is_alias() || step.is_flow() || run.is_alias() {
            return None;
        }
        let script = run.as_str()?;
        if matches!(run.style()?, Style::DoubleQuoted) && file.slice(run.span()).contains('\\') {
            return None;
        }
        let exps = expansions(script);
        let spans: Vec<Span> = exps.iter().map(|e| e.span).collect();
        let starts = file_starts(file, run, &spans)?;
        let kinds = shell_sites::classify(script, &spans)?;
        let sites = spans
            .into_iter()
            .zip(starts)
            .zip(kinds)
            .map(|((span, start), site)| (span, Span::new(start, start + span.len()), site))
            .collect();
        Some(Self {
            file,
            step,
            run_key,
            script,
            sites,
            outer_envs,
        })
    }

    /// The edits that move every `exp_text` (a whole `${{ ... }}`) of the script into an
    /// environment variable named after `path`, or `None` when that cannot be done exactly.
    pub fn edits(&self, exp_text: &str, path: &ContextPath) -> Option<Vec<Edit>> {
        let value = yaml_value(exp_text)?;
        let env = match self.step.entry("env") {
            Some((_, env)) if !env.is_mapping() || env.is_flow() || env.is_empty() => {
                return None;
            }
            Some((_, env)) => Some(env),
            None => None,
        };
        let (name, reuse) = choose_name(self.script, &env_name_for(path), |name| {
            let step_value = env.and_then(|e| e.get(name)).map(|v| v.as_str());
            let outer = self.outer_envs.iter().any(|e| e.get(name).is_some());
            match step_value {
                _ if outer => Binding::Taken,
                None => Binding::Free,
                Some(v) if v == Some(exp_text) => Binding::Same,
                Some(_) => Binding::Taken,
            }
        })?;
        let mut edits = Vec::new();
        for (span, file_span, site) in &self.sites {
            if &self.script[span.start..span.end] != exp_text {
                continue;
            }
            if self.file.slice(*file_span) != exp_text {
                return None;
            }
            edits.push(Edit::replace(*file_span, replacement(*site, &name)?));
        }
        if edits.is_empty() {
            return None;
        }
        if !reuse {
            edits.push(self.declare(env, &name, &value)?);
        }
        Some(edits)
    }

    /// The edit adding `name: value` to the step's `env:`: after its last entry when that is a
    /// one-line value, else first (so no block scalar gains or loses a line); or a new `env:`
    /// before `run:`.
    fn declare(&self, env: Option<Node<'_>>, name: &str, value: &str) -> Option<Edit> {
        let text = &self.file.text;
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let (key_at, new_env) = match env {
            Some(env) => (env.entries().next()?.0.span().start, false),
            None => (self.run_key.span().start, true),
        };
        let line_start = text[..key_at].rfind('\n').map_or(0, |i| i + 1);
        let prefix = &text[line_start..key_at];
        if !prefix.bytes().all(|c| c == b' ' || (new_env && c == b'-')) {
            return None;
        }
        let indent = " ".repeat(prefix.len());
        if new_env {
            return Some(Edit::insert(
                key_at,
                format!("env:{newline}{indent}  {name}: {value}{newline}{indent}"),
            ));
        }
        let last = env?.entries().last()?.1;
        let one_line = matches!(
            last.style(),
            Some(Style::Plain | Style::SingleQuoted | Style::DoubleQuoted)
        ) && !last.is_alias()
            && !self.file.slice(last.span()).contains('\n');
        Some(if one_line {
            Edit::insert(last.span().end, format!("{newline}{indent}{name}: {value}"))
        } else {
            Edit::insert(key_at, format!("{name}: {value}{newline}{indent}"))
        })
    }
}

/// Where each expansion (`spans`, sorted, of the string value of `node`) starts in the file, when
/// each is written there exactly as in the value (no escapes, no folding inside it), or `None`.
/// One pass over the node's text: linear however many expansions there are.
pub fn file_starts(file: &SourceFile, node: Node<'_>, spans: &[Span]) -> Option<Vec<usize>> {
    let value = node.as_str()?;
    let raw = file.slice(node.span());
    let body_start = match node.style()? {
        Style::Literal | Style::Folded => raw.find('\n')? + 1,
        _ => 0,
    };
    let body = &raw[body_start..];
    // As many `${{` in the source as in the value, each found in order: a one-to-one match.
    if body.matches("${{").count() != value.matches("${{").count() {
        return None;
    }
    let mut cursor = 0;
    spans
        .iter()
        .map(|span| {
            let text = value.get(span.start..span.end)?;
            let at = cursor + body.get(cursor..)?.find(text)?;
            cursor = at + text.len();
            Some(node.span().start + body_start + at)
        })
        .collect()
}

/// What an environment variable name already means where the script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binding {
    Free,
    /// The step's `env:` already holds exactly this expansion.
    Same,
    Taken,
}

/// A name for the variable, and whether the step already defines it with this value: the
/// first of `base`, `base_2`… that no outer `env:` defines differently, that is not the shell's
/// or the runner's, and that the script does not mention (reading it is fine when reused).
pub(crate) fn choose_name(
    script: &str,
    base: &str,
    binding: impl Fn(&str) -> Binding,
) -> Option<(String, bool)> {
    let base = if is_reserved(base) {
        format!("EXPR_{base}")
    } else {
        base.to_owned()
    };
    (1..10).find_map(|n| {
        let name = if n == 1 {
            base.clone()
        } else {
            format!("{base}_{n}")
        };
        let (mentioned, only_read) = mentions(script, &name);
        match binding(&name) {
            Binding::Free if !mentioned => Some((name, false)),
            Binding::Same if only_read => Some((name, true)),
            _ => None,
        }
    })
}

fn is_reserved(name: &str) -> bool {
    RESERVED.contains(&name) || RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Whether `name` occurs in `script` as a whole identifier, and whether every occurrence is a
/// read (`$NAME` or `${NAME}`).
fn mentions(script: &str, name: &str) -> (bool, bool) {
    let b = script.as_bytes();
    let ident = |i: usize| {
        b.get(i)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
    };
    let mut found = false;
    let mut only_read = true;
    for (at, _) in script.match_indices(name) {
        let end = at + name.len();
        if (at > 0 && ident(at - 1)) || ident(end) {
            continue;
        }
        found = true;
        let read = script[..at].ends_with('$')
            || (script[..at].ends_with("${") && b.get(end) == Some(&b'}'));
        only_read &= read;
    }
    (found, only_read)
}

/// The text replacing an expansion at `site`.
fn replacement(site: Site, name: &str) -> Option<String> {
    match site {
        Site::Unquoted | Site::Double | Site::Literal => Some(format!("${{{name}}}")),
        Site::Single => Some(format!("'\"${{{name}}}\"'")),
        Site::Refuse => None,
    }
}

/// `exp_text` as a YAML value on one line.
fn yaml_value(text: &str) -> Option<String> {
    if text.contains(['\n', '\r']) {
        return None;
    }
    if text.contains(": ") || text.contains(" #") || text.ends_with(':') {
        Some(format!("'{}'", text.replace('\'', "''")))
    } else {
        Some(text.to_owned())
    }
}

/// The fixed script and the variable name when every `exp_text` of `script` can move into an
/// environment variable named after `base`; the script-level half of [`ScriptFix::edits`],
/// for tests that run both scripts.
#[cfg(test)]
pub(crate) fn fix_script(script: &str, exp_text: &str, base: &str) -> Option<(String, String)> {
    let exps = expansions(script);
    let spans: Vec<Span> = exps.iter().map(|e| e.span).collect();
    let sites = shell_sites::classify(script, &spans)?;
    let (name, _) = choose_name(script, base, |_| Binding::Free)?;
    let mut out = String::new();
    let mut at = 0;
    let mut any = false;
    for (span, site) in spans.iter().zip(sites) {
        if &script[span.start..span.end] != exp_text {
            continue;
        }
        out.push_str(&script[at..span.start]);
        out.push_str(&replacement(site, &name)?);
        at = span.end;
        any = true;
    }
    out.push_str(&script[at..]);
    any.then_some((out, name))
}

#[cfg(test)]
mod tests;
