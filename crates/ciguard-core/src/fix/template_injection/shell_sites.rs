//! Where each `${{ }}` of a bash or sh script stands, read in one linear pass: quoted, unquoted
//! in a plain argument, in a heredoc body, or somewhere a variable would not mean the same
//! thing (arithmetic, backticks, `$'…'`, `[[ ]]`, `case`, assignments, redirections, words with
//! expansions or brace, tilde and glob characters). The reader is deliberately narrow: what it
//! does not understand is [`Site::Refuse`], and a script it cannot follow to the end gives no
//! sites at all.

use crate::source::Span;

/// How an expansion can be replaced by `${NAME}` with the same result for plain values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Site {
    /// An argument word of a simple command, outside quotes: `${NAME}`, still unquoted.
    Unquoted,
    /// Inside `"…"`: `${NAME}`.
    Double,
    /// Inside `'…'`: `'"${NAME}"'` closes and reopens the single quotes.
    Single,
    /// A heredoc body or a comment, read without quoting: `${NAME}`.
    Literal,
    /// No replacement keeps the meaning.
    Refuse,
}

/// Reserved words after which the next word is again a command name.
const COMMAND_PREFIXES: &[&str] = &[
    "if", "then", "else", "elif", "fi", "do", "done", "while", "until", "!", "{", "}", "time",
];

/// Commands whose arguments are not plain words (evaluated, assigned, or iterated).
const SPECIAL_COMMANDS: &[&str] = &[
    "eval",
    "export",
    "local",
    "declare",
    "readonly",
    "typeset",
    "let",
    "alias",
    "for",
    "select",
    "function",
    "source",
    ".",
    "trap",
    "read",
    "mapfile",
    "readarray",
    "unset",
];

/// Most frames a script may open (`$(`, `(`, `"`), so a hostile script costs bounded memory.
const MAX_DEPTH: usize = 256;

#[derive(Debug, Default)]
struct Word {
    start: Option<usize>,
    unsafe_chars: bool,
    /// Unquoted expansions in this word, by index.
    pending: Vec<usize>,
}

#[derive(Debug, Default)]
struct Command {
    /// Closed by `)`: a subshell or `$(…)`.
    paren: bool,
    /// Words of the current simple command so far.
    words: usize,
    word: Word,
    after_redirect: bool,
    /// Inside `case … esac`, `[[ … ]]`, or a special command: unquoted expansions are refused.
    case_depth: usize,
    double_bracket: bool,
    special: bool,
}

enum Frame {
    Command(Command),
    Double,
}

struct Heredoc {
    delimiter: String,
    strip_tabs: bool,
    quoted: bool,
}

struct Reader<'s> {
    b: &'s [u8],
    exps: &'s [Span],
    /// The next expansion not yet reached.
    next: usize,
    sites: Vec<Site>,
    heredocs: Vec<Heredoc>,
}

/// The site of each expansion (`exps`, sorted spans of the script), or `None` when the script's
/// shape is not understood (unbalanced quotes or parentheses, an unterminated heredoc…).
pub fn classify(script: &str, exps: &[Span]) -> Option<Vec<Site>> {
    let mut r = Reader {
        b: script.as_bytes(),
        exps,
        next: 0,
        sites: vec![Site::Refuse; exps.len()],
        heredocs: Vec::new(),
    };
    r.run()?;
    Some(r.sites)
}

fn is_ident(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn is_safe_word_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"_-./:@%+,".contains(&c)
}

impl Reader<'_> {
    /// The index of the expansion starting at `i`, if one does.
    fn exp_at(&mut self, i: usize) -> Option<usize> {
        while self.next < self.exps.len() && self.exps[self.next].start < i {
            self.next += 1;
        }
        (self.next < self.exps.len() && self.exps[self.next].start == i).then_some(self.next)
    }

    /// Whether the text right before `i` would join an expansion's value: `$`, `\`, or `$name`.
    fn joins_previous(&self, i: usize) -> bool {
        let mut j = i;
        while j > 0 && is_ident(self.b[j - 1]) {
            j -= 1;
        }
        (j > 0 && matches!(self.b[j - 1], b'$' | b'\\'))
            || (j == i && i > 0 && self.b[i - 1] == b'{')
    }

    fn run(&mut self) -> Option<()> {
        let mut stack = vec![Frame::Command(Command::default())];
        let mut i = 0;
        while i < self.b.len() {
            if let Some(e) = self.exp_at(i) {
                let end = self.exps[e].end;
                match stack.last_mut()? {
                    Frame::Double => {
                        self.sites[e] = if self.joins_previous(i) {
                            Site::Refuse
                        } else {
                            Site::Double
                        };
                    }
                    Frame::Command(c) => {
                        if c.word.start.is_none() {
                            c.word.start = Some(i);
                        }
                        if self.joins_previous(i) {
                            c.word.unsafe_chars = true;
                        }
                        c.word.pending.push(e);
                    }
                }
                i = end;
                continue;
            }
            if stack.len() > MAX_DEPTH {
                return None;
            }
            i = if matches!(stack.last(), Some(Frame::Double)) {
                match self.b[i] {
                    b'"' => {
                        stack.pop();
                        i + 1
                    }
                    b'\\' => i + 2,
                    b'`' => self.skip_backticks(i)?,
                    b'$' => self.dollar(i, &mut stack, false)?,
                    _ => i + 1,
                }
            } else {
                self.command_byte(i, &mut stack)?
            };
        }
        match stack.pop()? {
            Frame::Command(mut c) if stack.is_empty() && !c.paren && self.heredocs.is_empty() => {
                self.end_word(&mut c);
                Some(())
            }
            _ => None,
        }
    }

    /// One byte of a command frame; returns where to go on.
    fn command_byte(&mut self, i: usize, stack: &mut Vec<Frame>) -> Option<usize> {
        let b = self.b;
        let Some(Frame::Command(cmd)) = stack.last_mut() else {
            return None;
        };
        let c = b[i];
        let begin_word = |cmd: &mut Command| {
            if cmd.word.start.is_none() {
                cmd.word.start = Some(i);
            }
        };
        Some(match c {
            b' ' | b'\t' => {
                self.end_word(cmd);
                i + 1
            }
            b'\n' => {
                self.end_word(cmd);
                if !cmd.double_bracket {
                    end_command(cmd);
                }
                self.heredoc_bodies(i + 1)?
            }
            b';' | b'&' | b'|' => {
                self.end_word(cmd);
                if c == b'&' && b.get(i + 1) == Some(&b'>') {
                    cmd.after_redirect = true;
                    return Some(i + 2 + usize::from(b.get(i + 2) == Some(&b'>')));
                }
                if !cmd.double_bracket {
                    end_command(cmd);
                }
                i + 1
            }
            b'<' | b'>' => {
                self.end_word(cmd);
                self.redirect(i, cmd)?
            }
            b'(' => {
                self.end_word(cmd);
                if b.get(i + 1) == Some(&b'(') && cmd.words == 0 {
                    return self.skip_arithmetic(i + 2);
                }
                end_command(cmd);
                stack.push(Frame::Command(Command {
                    paren: true,
                    ..Command::default()
                }));
                i + 1
            }
            b')' => {
                self.end_word(cmd);
                if cmd.case_depth > 0 {
                    end_command(cmd);
                } else if cmd.paren {
                    stack.pop();
                } else {
                    return None;
                }
                i + 1
            }
            b'#' if cmd.word.start.is_none() => {
                let end = b[i..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(b.len(), |p| i + p);
                self.mark(i, end, Site::Literal);
                end
            }
            b'\'' => {
                begin_word(cmd);
                let end = b[i + 1..].iter().position(|&c| c == b'\'')? + i + 1;
                self.mark(i, end, Site::Single);
                end + 1
            }
            b'"' => {
                begin_word(cmd);
                stack.push(Frame::Double);
                i + 1
            }
            b'`' => {
                begin_word(cmd);
                cmd.word.unsafe_chars = true;
                self.skip_backticks(i)?
            }
            b'\\' => {
                if b.get(i + 1) == Some(&b'\n') {
                    return Some(i + 2);
                }
                begin_word(cmd);
                cmd.word.unsafe_chars = true;
                i + 2
            }
            b'$' => {
                begin_word(cmd);
                cmd.word.unsafe_chars = true;
                self.dollar(i, stack, true)?
            }
            _ => {
                begin_word(cmd);
                if !is_safe_word_char(c) {
                    cmd.word.unsafe_chars = true;
                }
                i + 1
            }
        })
    }

    /// A `$` in a command or inside double quotes.
    fn dollar(&mut self, i: usize, stack: &mut Vec<Frame>, unquoted: bool) -> Option<usize> {
        let b = self.b;
        Some(match b.get(i + 1) {
            Some(b'(') if b.get(i + 2) == Some(&b'(') => self.skip_arithmetic(i + 3)?,
            Some(b'(') => {
                stack.push(Frame::Command(Command {
                    paren: true,
                    ..Command::default()
                }));
                i + 2
            }
            Some(b'{') => {
                // `${name…}`: nothing inside is replaced.
                let mut depth = 0usize;
                let mut j = i + 1;
                loop {
                    match b.get(j)? {
                        b'{' => depth += 1,
                        b'}' if depth == 1 => break,
                        b'}' => depth -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                self.mark(i, j, Site::Refuse);
                j + 1
            }
            Some(b'\'') if unquoted => {
                let mut j = i + 2;
                loop {
                    match b.get(j)? {
                        b'\\' => j += 2,
                        b'\'' => break,
                        _ => j += 1,
                    }
                }
                self.mark(i, j, Site::Refuse);
                j + 1
            }
            _ => i + 1,
        })
    }

    fn skip_backticks(&mut self, i: usize) -> Option<usize> {
        let mut j = i + 1;
        loop {
            match self.b.get(j)? {
                b'\\' => j += 2,
                b'`' => break,
                _ => j += 1,
            }
        }
        self.mark(i, j, Site::Refuse);
        Some(j + 1)
    }

    /// From just inside `((` or `$((` to after the matching `))`.
    fn skip_arithmetic(&mut self, from: usize) -> Option<usize> {
        let mut depth = 0usize;
        let mut j = from;
        loop {
            match self.b.get(j)? {
                b'(' => depth += 1,
                b')' if depth == 0 => {
                    if self.b.get(j + 1) != Some(&b')') {
                        return None;
                    }
                    self.mark(from, j, Site::Refuse);
                    return Some(j + 2);
                }
                b')' => depth -= 1,
                _ => {}
            }
            j += 1;
        }
    }

    /// `<`, `>` and their variants; a heredoc's delimiter is read and its body queued.
    fn redirect(&mut self, i: usize, cmd: &mut Command) -> Option<usize> {
        let b = self.b;
        if b[i..].starts_with(b"<<<") {
            cmd.after_redirect = true;
            return Some(i + 3);
        }
        if !b[i..].starts_with(b"<<") {
            cmd.after_redirect = true;
            let mut j = i + 1;
            while j < b.len() && matches!(b[j], b'>' | b'|' | b'&') {
                j += 1;
            }
            return Some(j);
        }
        let strip_tabs = b.get(i + 2) == Some(&b'-');
        let mut j = i + 2 + usize::from(strip_tabs);
        while matches!(b.get(j), Some(b' ' | b'\t')) {
            j += 1;
        }
        let start = j;
        while j < b.len() && !b" \t\n;&|<>()".contains(&b[j]) {
            j += 1;
        }
        let word = std::str::from_utf8(&b[start..j]).ok()?;
        let first_after = self.exps.partition_point(|e| e.end <= start);
        let has_exp = self.exps.get(first_after).is_some_and(|e| e.start < j);
        if word.is_empty() || word.contains('$') || has_exp {
            return None;
        }
        let quoted = word.contains(['\'', '"', '\\']);
        self.heredocs.push(Heredoc {
            delimiter: word.replace(['\'', '"', '\\'], ""),
            strip_tabs,
            quoted,
        });
        Some(j)
    }

    /// The bodies of the heredocs queued on the line that ended at `from`; returns where the
    /// script goes on.
    fn heredoc_bodies(&mut self, from: usize) -> Option<usize> {
        let mut at = from;
        for doc in std::mem::take(&mut self.heredocs) {
            loop {
                if at >= self.b.len() {
                    return None;
                }
                let end = self.b[at..]
                    .iter()
                    .position(|&c| c == b'\n')
                    .map_or(self.b.len(), |p| at + p);
                let mut line = &self.b[at..end];
                if doc.strip_tabs {
                    while let [b'\t', rest @ ..] = line {
                        line = rest;
                    }
                }
                if line == doc.delimiter.as_bytes() {
                    at = (end + 1).min(self.b.len());
                    break;
                }
                self.heredoc_line(at, end, doc.quoted);
                at = end + 1;
            }
        }
        Some(at)
    }

    fn heredoc_line(&mut self, start: usize, end: usize, quoted: bool) {
        let mut i = start;
        while i < end {
            if let Some(e) = self.exp_at(i) {
                let before = &self.b[start..i];
                let substituted = before.contains(&b'`') || before.windows(2).any(|w| w == b"$(");
                self.sites[e] = if quoted || substituted || self.joins_previous(i) {
                    Site::Refuse
                } else {
                    Site::Literal
                };
                i = self.exps[e].end;
            } else {
                i += 1;
            }
        }
    }

    /// Gives `site` to every expansion starting in `start..end` (those already inside a frame
    /// that decides for itself are not reached).
    fn mark(&mut self, start: usize, end: usize, site: Site) {
        let mut i = start;
        while i < end {
            if let Some(e) = self.exp_at(i) {
                self.sites[e] = site;
                i = self.exps[e].end;
            } else {
                i += 1;
            }
        }
    }

    /// Decides the unquoted expansions of the word that just ended.
    fn end_word(&mut self, cmd: &mut Command) {
        let Some(start) = cmd.word.start else {
            return;
        };
        let word = std::mem::take(&mut cmd.word);
        let end = self.b[start..]
            .iter()
            .position(|c| b" \t\n;&|<>()".contains(c))
            .map_or(self.b.len(), |p| start + p);
        let text = &self.b[start..end];
        let plain_argument = !word.unsafe_chars
            && cmd.words > 0
            && !cmd.after_redirect
            && !cmd.special
            && !cmd.double_bracket
            && cmd.case_depth == 0;
        for e in word.pending {
            self.sites[e] = if plain_argument {
                Site::Unquoted
            } else {
                Site::Refuse
            };
        }
        cmd.after_redirect = false;
        if cmd.words == 0 {
            let text = std::str::from_utf8(text).unwrap_or_default();
            match text {
                "case" => cmd.case_depth += 1,
                "esac" => cmd.case_depth = cmd.case_depth.saturating_sub(1),
                "[[" => cmd.double_bracket = true,
                _ if SPECIAL_COMMANDS.contains(&text) => cmd.special = true,
                _ => {}
            }
            if COMMAND_PREFIXES.contains(&text) || text == "esac" {
                return;
            }
        } else if text == b"]]" {
            cmd.double_bracket = false;
        }
        cmd.words += 1;
    }
}

fn end_command(cmd: &mut Command) {
    cmd.words = 0;
    cmd.after_redirect = false;
    cmd.special = false;
}
