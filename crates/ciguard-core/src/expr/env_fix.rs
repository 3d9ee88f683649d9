//! The "move the expansion into `env:`" fix: byte splices that put `NAME: ${{ expr }}` in the
//! step's `env:` and replace each `${{ expr }}` in a bash script with `${NAME}`, quoted to keep
//! the script's meaning.

use super::{ContextPath, expansions, scope::env_name_for, value_span_to_file};
use crate::finding::Edit;
use crate::source::SourceFile;
use crate::yaml::Node;

/// Where an offset of a shell script falls, quoting-wise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

fn quote_at(script: &str, offset: usize) -> Quote {
    let b = script.as_bytes();
    let (mut sq, mut dq) = (false, false);
    let mut i = 0;
    while i < offset.min(b.len()) {
        let c = b[i];
        if sq {
            sq = c != b'\'';
        } else if c == b'\\' {
            i += 1;
        } else if c == b'\'' && !dq {
            sq = true;
        } else if c == b'"' {
            dq = !dq;
        } else if c == b'#' && !dq && (i == 0 || b[i - 1].is_ascii_whitespace()) {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        i += 1;
    }
    if sq {
        Quote::Single
    } else if dq {
        Quote::Double
    } else {
        Quote::None
    }
}

fn column(file: &SourceFile, offset: usize) -> usize {
    file.line_col(offset).column - 1
}

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

/// The edits that move every `exp_text` (a whole `${{ ... }}`) of the bash script `run` into an
/// environment variable of `step`, or `None` when that cannot be done exactly.
pub fn move_to_env(
    file: &SourceFile,
    step: Node<'_>,
    run_key: Node<'_>,
    run: Node<'_>,
    exp_text: &str,
    path: &ContextPath,
) -> Option<Vec<Edit>> {
    let script = run.as_str()?;
    if ["<<'", "<<\"", "<<\\", "<<-'", "<<-\"", "<< '", "<< \""]
        .iter()
        .any(|h| script.contains(h))
    {
        return None;
    }
    let value = yaml_value(exp_text)?;
    let env = step.entry("env");
    let base = env_name_for(path);
    let mut name = base.clone();
    let mut reuse = false;
    if let Some((_, env)) = env {
        if !env.is_mapping() || env.is_flow() || env.is_empty() {
            return None;
        }
        for n in 2..10 {
            match env
                .entries()
                .find(|(k, _)| k.as_str() == Some(name.as_str()))
            {
                None => break,
                Some((_, v)) if v.as_str() == Some(exp_text) => {
                    reuse = true;
                    break;
                }
                Some(_) => name = format!("{base}_{n}"),
            }
        }
    }
    let mut edits = Vec::new();
    for exp in expansions(script) {
        if &script[exp.span.start..exp.span.end] != exp_text {
            continue;
        }
        let span = value_span_to_file(file, run, exp.span);
        if span == run.span() || file.slice(span) != exp_text {
            return None;
        }
        let replacement = match quote_at(script, exp.span.start) {
            Quote::Single => format!("'\"${{{name}}}\"'"),
            Quote::Double => format!("${{{name}}}"),
            Quote::None => format!("\"${{{name}}}\""),
        };
        edits.push(Edit::replace(span, replacement));
    }
    if edits.is_empty() {
        return None;
    }
    if !reuse {
        match env {
            Some((_, env)) => {
                let first = env.entries().next()?.0;
                let indent = " ".repeat(column(file, first.span().start));
                edits.push(Edit::insert(
                    env.span().end,
                    format!("\n{indent}{name}: {value}"),
                ));
            }
            None => {
                let indent = " ".repeat(column(file, run_key.span().start));
                edits.push(Edit::insert(
                    run_key.span().start,
                    format!("env:\n{indent}  {name}: {value}\n{indent}"),
                ));
            }
        }
    }
    Some(edits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_states() {
        let s = "echo 'a ${{x}}' \"b ${{x}}\" c ${{x}} # 'x\n";
        let at = |needle: &str| s.find(needle).unwrap();
        assert_eq!(quote_at(s, at("${{x}}'")), Quote::Single);
        assert_eq!(quote_at(s, at("${{x}}\"")), Quote::Double);
        assert_eq!(quote_at(s, at("${{x}} #")), Quote::None);
        assert_eq!(quote_at(s, s.len()), Quote::None);
        assert_eq!(quote_at("it\\'s ${{x}}", 6), Quote::None);
    }

    #[test]
    fn values_are_quoted_when_needed() {
        assert_eq!(yaml_value("${{ a.b }}").unwrap(), "${{ a.b }}");
        assert_eq!(
            yaml_value("${{ format('a: {0}', b) }}").unwrap(),
            "'${{ format(''a: {0}'', b) }}'"
        );
        assert!(yaml_value("${{ a\n }}").is_none());
    }
}
