//! Markdown for a terminal: what `ciguard explain` shows when stdout is one. Headings in bold,
//! code blocks indented and kept as they are, paragraphs and list items wrapped to the width,
//! links written as `text <url>`. The pages are ciguard's own documentation, compiled in.

/// Renders `md` for a terminal `width` columns wide, with ANSI styles when `color`.
pub fn for_terminal(md: &str, width: usize, color: bool) -> String {
    let width = width.clamp(40, 120);
    let style = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let mut out = String::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut in_code = false;
    let flush = |paragraph: &mut Vec<&str>, out: &mut String| {
        if paragraph.is_empty() {
            return;
        }
        let first = paragraph[0];
        let (lead, rest) = list_marker(first);
        let text = std::iter::once(rest)
            .chain(paragraph[1..].iter().map(|l| l.trim()))
            .collect::<Vec<_>>()
            .join(" ");
        let hang = " ".repeat(lead.chars().count());
        for (i, line) in wrap(&inline(&text, color), width - hang.len())
            .iter()
            .enumerate()
        {
            out.push_str(if i == 0 { lead } else { &hang });
            out.push_str(line);
            out.push('\n');
        }
        paragraph.clear();
    };
    for line in md.lines() {
        if line.trim_start().starts_with("```") {
            flush(&mut paragraph, &mut out);
            in_code = !in_code;
            continue;
        }
        if in_code {
            out.push_str(&style("36", &format!("    {line}")));
            out.push('\n');
            continue;
        }
        let trimmed = line.trim();
        if trimmed.is_empty() {
            flush(&mut paragraph, &mut out);
            out.push('\n');
        } else if let Some(level) = heading_level(trimmed) {
            flush(&mut paragraph, &mut out);
            let title = inline(trimmed[level..].trim(), false);
            out.push_str(&style(if level == 1 { "1;4" } else { "1" }, &title));
            out.push('\n');
        } else if trimmed.starts_with('|') {
            // Tables are kept as written: wrapping would break their columns.
            flush(&mut paragraph, &mut out);
            out.push_str(line);
            out.push('\n');
        } else {
            if !list_marker(trimmed).0.is_empty() {
                flush(&mut paragraph, &mut out);
            }
            paragraph.push(trimmed);
        }
    }
    flush(&mut paragraph, &mut out);
    // Blank lines collapse to one.
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

fn heading_level(line: &str) -> Option<usize> {
    let level = line.chars().take_while(|c| *c == '#').count();
    (1..=6)
        .contains(&level)
        .then_some(level)
        .filter(|l| line[*l..].starts_with(' '))
}

/// A list item's marker (`- `, `* `, `1. `) and the text after it; `("", line)` otherwise.
fn list_marker(line: &str) -> (&str, &str) {
    for bullet in ["- ", "* "] {
        if let Some(rest) = line.strip_prefix(bullet) {
            return ("  - ", rest);
        }
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(". ") {
        return (&line[..digits + 2], &line[digits + 2..]);
    }
    ("", line)
}

/// Links as `text <url>`; inline code in colour without its backticks, or as written.
fn inline(text: &str, color: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('[') {
        let after = &rest[open + 1..];
        let link = after.find("](").and_then(|close| {
            let url_end = after[close + 2..].find(')')?;
            Some((close, close + 2 + url_end))
        });
        match link {
            Some((close, end)) => {
                out.push_str(&rest[..open]);
                out.push_str(&format!("{} <{}>", &after[..close], &after[close + 2..end]));
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    if !color {
        return out;
    }
    let mut styled = String::with_capacity(out.len());
    for (i, part) in out.split('`').enumerate() {
        if i % 2 == 1 {
            styled.push_str(&format!("\x1b[36m{part}\x1b[0m"));
        } else {
            styled.push_str(part);
        }
    }
    styled
}

/// Words to lines of at most `width` visible columns (a longer word gets a line of its own).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let visible = |s: &str| {
        let mut n = 0;
        let mut in_escape = false;
        for c in s.chars() {
            match c {
                '\x1b' => in_escape = true,
                'm' if in_escape => in_escape = false,
                _ if in_escape => {}
                _ => n += 1,
            }
        }
        n
    };
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && visible(&line) + 1 + visible(word) > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "# unpinned-uses\n\n## What it does\n\nReports `uses:` that are not pinned to a commit, which a tag\nmover can change under you. See [the guide](https://example.com/pin) for more.\n\n- first item that is long enough to wrap around when the width is small\n- second\n\n```yaml\n      - uses: actions/checkout@v4   # a very long line of code that must not be wrapped at all\n```\n\n| a | b |\n|---|---|\n";

    #[test]
    fn wraps_paragraphs_and_keeps_code() {
        let out = for_terminal(PAGE, 40, false);
        assert!(
            out.starts_with("unpinned-uses\n\nWhat it does\n\n"),
            "{out}"
        );
        assert!(
            out.lines()
                .filter(|l| !l.starts_with("    "))
                .all(|l| l.chars().count() <= 40),
            "{out}"
        );
        assert!(
            out.contains("the guide\n<https://example.com/pin> for more."),
            "{out}"
        );
        assert!(
            out.contains("  - first item that is long enough to\n    wrap"),
            "{out}"
        );
        assert!(out.contains("\n  - second\n"), "{out}");
        assert!(
            out.contains("\n          - uses: actions/checkout@v4   # a very long line of code that must not be wrapped at all\n"),
            "{out}"
        );
        assert!(!out.contains("```") && !out.contains("## "), "{out}");
        assert!(out.contains("| a | b |\n|---|---|\n"), "{out}");
        assert!(!out.contains('\x1b'));
    }

    #[test]
    fn colour_styles_headings_and_code() {
        let out = for_terminal(PAGE, 80, true);
        assert!(out.starts_with("\x1b[1;4munpinned-uses\x1b[0m\n"), "{out}");
        assert!(out.contains("\x1b[1mWhat it does\x1b[0m"), "{out}");
        assert!(out.contains("Reports \x1b[36muses:\x1b[0m that"), "{out}");
    }
}
