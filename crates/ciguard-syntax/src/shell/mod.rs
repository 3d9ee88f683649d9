//! A tolerant reader of `run:` scripts: enough of POSIX shell, PowerShell and `cmd` to see the
//! commands, their words (with byte offsets into the script), pipes, redirects, heredocs and
//! command substitutions. It is not a full shell parser: it never fails, never panics, and its
//! work is bounded (linear scans, a substitution depth limit and a command cap).
//!
//! Offsets are bytes into the script text as the runner sees it (the YAML scalar's value);
//! `ciguard_core::models::run_script` turns them into spans of the workflow file.

pub mod supply;

use crate::source::Span;

/// How deep `$(...)` inside `$(...)` is followed.
const MAX_DEPTH: usize = 8;
/// At most this many commands are read from one script. Audits relate commands to each other
/// (pipelines, substitutions, later uses of a download), some in quadratic time, so this bounds
/// their cost; the longest script in the corpus has about 260.
pub const MAX_COMMANDS: usize = 1_000;
/// At most this many words are read from one script (each costs an allocation).
pub const MAX_WORDS: usize = 50_000;

/// Which language a `run:` script is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// `bash`, `sh`, `zsh`, `dash`, ... (the default on Linux and macOS runners).
    Posix,
    /// `pwsh` or `powershell` (the default on Windows runners).
    PowerShell,
    /// `cmd`.
    Cmd,
    /// A language ciguard does not read (`python`, a custom command).
    Other,
}

impl Dialect {
    /// The dialect of a `shell:` value such as `bash`, `/bin/bash -e {0}` or `pwsh`.
    pub fn from_shell(shell: &str) -> Dialect {
        let first = shell.split_whitespace().next().unwrap_or_default();
        let name = first
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(first)
            .to_ascii_lowercase();
        let name = name.strip_suffix(".exe").unwrap_or(&name);
        match name {
            "bash" | "sh" | "zsh" | "dash" | "ksh" | "ash" | "busybox" => Dialect::Posix,
            "pwsh" | "powershell" => Dialect::PowerShell,
            "cmd" => Dialect::Cmd,
            _ => Dialect::Other,
        }
    }
}

/// One word of a command, with its text after quote removal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Where the word is written in the script, quotes included.
    pub span: Span,
    /// The word with quotes removed and escapes resolved; expansions are kept as written.
    pub value: String,
    /// Some part of the word was quoted.
    pub quoted: bool,
    /// The word contains a shell expansion (`$VAR`, `$(...)`, `` `...` ``, `%VAR%`).
    pub expands: bool,
    /// The word contains a GitHub expression (`${{ ... }}`), expanded before the shell runs.
    pub github_expr: bool,
}

impl Word {
    /// A word whose value is known before the script runs.
    pub fn is_literal(&self) -> bool {
        !self.expands && !self.github_expr
    }

    /// The environment file this word names, if it is one (`$GITHUB_ENV`, `"${GITHUB_PATH}"`,
    /// `$env:GITHUB_OUTPUT`, `%GITHUB_ENV%`).
    pub fn env_file(&self) -> Option<EnvFile> {
        let v = self.value.trim();
        let name = v
            .strip_prefix("${env:")
            .and_then(|s| s.strip_suffix('}'))
            .or_else(|| v.strip_prefix("${").and_then(|s| s.strip_suffix('}')))
            .or_else(|| {
                let s = v.strip_prefix('$')?;
                Some(
                    s.get(..4)
                        .filter(|p| p.eq_ignore_ascii_case("env:"))
                        .map_or(s, |_| &s[4..]),
                )
            })
            .or_else(|| v.strip_prefix('%').and_then(|s| s.strip_suffix('%')))?;
        EnvFile::from_name(name)
    }
}

/// The files through which a step talks to the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EnvFile {
    Env,
    Path,
    Output,
    State,
    StepSummary,
}

impl EnvFile {
    fn from_name(name: &str) -> Option<EnvFile> {
        match name.to_ascii_uppercase().as_str() {
            "GITHUB_ENV" => Some(EnvFile::Env),
            "GITHUB_PATH" => Some(EnvFile::Path),
            "GITHUB_OUTPUT" => Some(EnvFile::Output),
            "GITHUB_STATE" => Some(EnvFile::State),
            "GITHUB_STEP_SUMMARY" => Some(EnvFile::StepSummary),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            EnvFile::Env => "GITHUB_ENV",
            EnvFile::Path => "GITHUB_PATH",
            EnvFile::Output => "GITHUB_OUTPUT",
            EnvFile::State => "GITHUB_STATE",
            EnvFile::StepSummary => "GITHUB_STEP_SUMMARY",
        }
    }
}

/// A redirection such as `>> "$GITHUB_ENV"`, `2>&1` or `<<EOF`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    /// The operator without its file descriptor: `>`, `>>`, `<`, `<<`, `<<-`, `<<<`, `>&`, `&>`, ...
    pub op: String,
    pub span: Span,
    pub target: Option<Word>,
    /// For a heredoc, the body lines (between the command's line and the delimiter).
    pub heredoc: Option<Span>,
}

impl Redirect {
    /// Output goes to the target (`>`, `>>`, `&>`, `>|`, ...), not input from it.
    pub fn is_output(&self) -> bool {
        self.op.contains('>') && !self.op.ends_with('&')
    }
}

/// How a command is joined to the one after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sep {
    End,
    Newline,
    Semi,
    And,
    Or,
    Pipe,
    Background,
    Group,
}

/// One simple command: its words, its redirects, and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    pub words: Vec<Word>,
    pub redirects: Vec<Redirect>,
    /// From the first word or redirect to the last.
    pub span: Span,
    /// The command whose output is piped into this one.
    pub pipe_from: Option<usize>,
    /// For a command inside `$(...)`, `` `...` `` or `<(...)`: the command that contains it.
    pub parent: Option<usize>,
    /// What follows this command.
    pub sep: Sep,
}

/// Prefixes that run the rest of the command line as another program.
pub const WRAPPERS: &[&str] = &[
    "sudo", "env", "command", "exec", "nohup", "time", "doas", "nice", "stdbuf",
];

/// How many words a package runner takes before the tool it runs (`npx twine`: 1;
/// `python -m twine`, `poetry run`, `uv run`, `pnpm exec`, `yarn dlx`, `bundle exec`: 2); 0 when
/// `first` is no runner. The one list of runners, beside [`WRAPPERS`]: the release chain asks
/// which tool publishes, where `npx` or `poetry run` is only the way in.
pub fn runner_len(first: &str, second: Option<&str>) -> usize {
    let python = first == "py"
        || first
            .strip_prefix("python")
            .is_some_and(|v| v.bytes().all(|b| b.is_ascii_digit() || b == b'.'));
    match (first, second) {
        ("npx" | "bunx" | "uvx", _) => 1,
        (_, Some("-m")) if python => 2,
        ("bundle", Some("exec"))
        | ("poetry" | "uv" | "pipx" | "hatch" | "pdm", Some("run"))
        | ("pnpm" | "yarn" | "npm" | "bun", Some("exec" | "dlx" | "x")) => 2,
        _ => 0,
    }
}

impl Command {
    /// Index of the word naming the program, after `VAR=value` assignments and wrappers such as
    /// `sudo -E` or `env A=b`.
    pub fn program_index(&self) -> Option<usize> {
        let mut i = 0;
        while let Some(w) = self.words.get(i) {
            let v = w.value.as_str();
            if is_assignment(v) {
                i += 1;
                continue;
            }
            if WRAPPERS.contains(&basename(v)) {
                i += 1;
                // Options of the wrapper, and `sudo -u user`.
                while let Some(w) = self.words.get(i) {
                    let v = w.value.as_str();
                    if v == "-u" || v == "-g" {
                        i += 2;
                    } else if v.starts_with('-') || is_assignment(v) {
                        i += 1;
                    } else {
                        break;
                    }
                }
                continue;
            }
            return Some(i);
        }
        None
    }

    /// Index of the word naming the tool that does the work: the program, or for a package
    /// runner ([`runner_len`]: `npx twine`, `python -m twine`, `poetry run twine`) the tool it
    /// runs. The release chain asks which tool publishes; [`Command::program_index`] stays the
    /// process that starts (`python` for `python -m pip`), which other audits ask.
    pub fn tool_index(&self) -> Option<usize> {
        let mut i = self.program_index()?;
        loop {
            let first = basename(&self.words[i].value);
            let second = self.words.get(i + 1).map(|w| w.value.as_str());
            match runner_len(first, second) {
                0 => return Some(i),
                n if i + n < self.words.len() => i += n,
                _ => return None,
            }
        }
    }

    /// The program's name without its directory (`/usr/bin/curl` is `curl`).
    pub fn program(&self) -> Option<&str> {
        self.program_index().map(|i| basename(&self.words[i].value))
    }

    /// The words after the program.
    pub fn args(&self) -> &[Word] {
        match self.program_index() {
            Some(i) => &self.words[i + 1..],
            None => &[],
        }
    }

    /// Whether `flag` (`-g`, `--global`, `--locked`) is among the arguments; for a short flag,
    /// also inside a cluster such as `-fsSL`.
    pub fn has_flag(&self, flag: &str) -> bool {
        self.args().iter().any(|w| {
            let v = w.value.as_str();
            v == flag
                || (flag.starts_with("--")
                    && v.strip_prefix(flag).is_some_and(|r| r.starts_with('=')))
                || (flag.len() == 2
                    && !flag.starts_with("--")
                    && v.starts_with('-')
                    && !v.starts_with("--")
                    && v.len() > 2
                    && v[1..].contains(&flag[1..]))
        })
    }
}

fn is_assignment(v: &str) -> bool {
    match v.split_once('=') {
        Some((name, _)) => {
            !name.is_empty()
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                && !name.as_bytes()[0].is_ascii_digit()
        }
        None => false,
    }
}

/// The last path component of a program word.
pub fn basename(v: &str) -> &str {
    // A byte scan: audits ask for the program of every command, and a hostile word can be
    // tens of kilobytes long.
    match v.bytes().rposition(|b| b == b'/' || b == b'\\') {
        Some(i) => &v[i + 1..],
        None => v,
    }
}

/// A write of some command's output to an environment file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvWrite {
    pub file: EnvFile,
    /// The command whose output is written (for `cmd | tee $GITHUB_ENV`, `cmd`).
    pub writer: usize,
    /// The command that does the writing (the redirected command, or `tee`/`Out-File`).
    pub sink: usize,
    /// Where the environment file is named.
    pub target: Span,
}

/// `curl ... | sh`, `bash <(curl ...)` or `sh -c "$(wget ...)"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteExec {
    /// The download command.
    pub fetch: usize,
    /// The interpreter that runs what was downloaded.
    pub exec: usize,
}

/// Programs that download over the network.
const FETCHERS: &[&str] = &[
    "curl",
    "wget",
    "iwr",
    "invoke-webrequest",
    "irm",
    "invoke-restmethod",
];
/// Programs that run a script read from standard input or an argument.
const INTERPRETERS: &[&str] = &[
    "sh",
    "bash",
    "zsh",
    "dash",
    "ksh",
    "ash",
    "python",
    "python3",
    "python2",
    "perl",
    "ruby",
    "node",
    "pwsh",
    "powershell",
    "iex",
    "invoke-expression",
];

/// A parsed script.
#[derive(Debug, Clone)]
pub struct Script {
    pub dialect: Dialect,
    pub commands: Vec<Command>,
    /// The script has more than [`MAX_COMMANDS`] commands or [`MAX_WORDS`] words: the rest
    /// was not read, and audits did not see it.
    pub truncated: bool,
}

impl Script {
    /// Reads `text` as `dialect`. Never fails: what cannot be understood is skipped.
    pub fn parse(text: &str, dialect: Dialect) -> Script {
        let mut commands = Vec::new();
        let mut truncated = false;
        if dialect != Dialect::Other {
            let mut p = Parser {
                text,
                s: text.as_bytes(),
                dialect,
                out: &mut commands,
                words: 0,
                truncated: false,
            };
            p.parse_range(0, text.len(), 0, None);
            truncated = p.truncated;
        }
        Script {
            dialect,
            commands,
            truncated,
        }
    }

    /// The commands upstream of `idx` in its pipeline, nearest first.
    pub fn upstream(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        let mut cur = self.commands.get(idx).and_then(|c| c.pipe_from);
        std::iter::from_fn(move || {
            let at = cur?;
            cur = self
                .commands
                .get(at)
                .and_then(|c| c.pipe_from)
                .filter(|n| *n < at);
            Some(at)
        })
    }

    /// The commands downstream of `idx` in its pipeline, nearest first. Each step scans forward
    /// from the last, so walking a whole pipeline is linear in the script.
    pub fn downstream(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        let mut cur = idx;
        std::iter::from_fn(move || {
            let next = (cur + 1..self.commands.len())
                .find(|&j| self.commands[j].pipe_from == Some(cur))?;
            cur = next;
            Some(next)
        })
    }

    /// Commands nested (at any depth) inside the words of `idx`.
    pub fn nested_in(&self, idx: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.commands.len()).filter(move |&i| {
            let mut p = self.commands[i].parent;
            let mut hops = 0;
            while let Some(at) = p {
                if at == idx {
                    return true;
                }
                hops += 1;
                if hops > MAX_DEPTH {
                    break;
                }
                p = self.commands.get(at).and_then(|c| c.parent);
            }
            false
        })
    }

    /// Every write to `$GITHUB_ENV`, `$GITHUB_PATH`, ... by redirect, `tee`, or a PowerShell
    /// cmdlet (`Out-File`, `Add-Content`, `Set-Content`, `Tee-Object`).
    pub fn env_writes(&self) -> Vec<EnvWrite> {
        let mut out = Vec::new();
        for (i, cmd) in self.commands.iter().enumerate() {
            for r in cmd.redirects.iter().filter(|r| r.is_output()) {
                if let Some(t) = &r.target
                    && let Some(file) = t.env_file()
                {
                    out.push(EnvWrite {
                        file,
                        writer: i,
                        sink: i,
                        target: t.span,
                    });
                }
            }
            let prog = cmd.program().map(str::to_ascii_lowercase);
            let is_sink = matches!(
                prog.as_deref(),
                Some(
                    "tee" | "out-file" | "add-content" | "set-content" | "tee-object" | "ac" | "sc"
                )
            );
            if !is_sink {
                continue;
            }
            if let Some(t) = cmd.args().iter().find(|w| w.env_file().is_some()) {
                let file = t.env_file().unwrap_or(EnvFile::Env);
                let writer = cmd.pipe_from.unwrap_or(i);
                out.push(EnvWrite {
                    file,
                    writer,
                    sink: i,
                    target: t.span,
                });
            }
        }
        out
    }

    /// Downloads run as code: `curl ... | sh`, `wget -O- ... | sudo bash`, `bash <(curl ...)`,
    /// `sh -c "$(curl ...)"`, `iwr ... | iex`.
    pub fn remote_execs(&self) -> Vec<RemoteExec> {
        let mut out = Vec::new();
        for (i, cmd) in self.commands.iter().enumerate() {
            let Some(prog) = cmd.program().map(str::to_ascii_lowercase) else {
                continue;
            };
            let prog = prog.strip_suffix(".exe").unwrap_or(&prog);
            if !INTERPRETERS.contains(&prog) {
                continue;
            }
            // Piped: the interpreter reads its program from stdin.
            if let Some(fetch) = self.upstream(i).find(|&u| self.is_fetch(u)) {
                out.push(RemoteExec { fetch, exec: i });
                continue;
            }
            // Nested: `bash <(curl ...)`, `sh -c "$(curl ...)"`.
            if let Some(fetch) = self.nested_in(i).find(|&u| self.is_fetch(u)) {
                out.push(RemoteExec { fetch, exec: i });
            }
        }
        out
    }

    /// Whether command `idx` downloads (curl, wget, Invoke-WebRequest).
    pub fn is_fetch(&self, idx: usize) -> bool {
        self.commands
            .get(idx)
            .and_then(|c| c.program())
            .is_some_and(|p| FETCHERS.contains(&p.to_ascii_lowercase().trim_end_matches(".exe")))
    }
}

struct Parser<'t, 'o> {
    text: &'t str,
    s: &'t [u8],
    dialect: Dialect,
    out: &'o mut Vec<Command>,
    /// Words read so far, towards [`MAX_WORDS`].
    words: usize,
    /// A limit was reached and reading stopped.
    truncated: bool,
}

#[derive(Default)]
struct Builder {
    words: Vec<Word>,
    redirects: Vec<Redirect>,
    /// Inner ranges of substitutions met in this command's words.
    subs: Vec<(usize, usize)>,
    /// Heredoc delimiters opened by this command: (redirect index, delimiter).
    heredocs: Vec<(usize, String)>,
}

impl Parser<'_, '_> {
    fn at(&self, i: usize) -> u8 {
        self.s.get(i).copied().unwrap_or(0)
    }

    fn escape(&self) -> u8 {
        match self.dialect {
            Dialect::PowerShell => b'`',
            Dialect::Cmd => b'^',
            _ => b'\\',
        }
    }

    fn is_separator(&self, c: u8) -> bool {
        match c {
            b';' | b'&' | b'|' | b'(' | b')' | b'<' | b'>' => true,
            b'{' | b'}' => self.dialect == Dialect::PowerShell,
            _ => false,
        }
    }

    /// Parses `start..end`; commands inside substitutions get `parent`.
    fn parse_range(&mut self, start: usize, end: usize, depth: usize, parent: Option<usize>) {
        let end = end.min(self.s.len());
        let mut i = start;
        let mut cur = Builder::default();
        let mut pipe_prev: Option<usize> = None;
        // Heredocs waiting for the end of the line: (command index, redirect index, delimiter).
        let mut pending: Vec<(usize, usize, String)> = Vec::new();
        let mut skip_until_esac = false;
        while i < end {
            if self.out.len() >= MAX_COMMANDS || self.words >= MAX_WORDS {
                self.truncated = true;
                return;
            }
            let c = self.s[i];
            let word_start = cur.words.is_empty() && cur.redirects.is_empty();
            match c {
                b' ' | b'\t' | b'\r' => i += 1,
                b'\n' => {
                    self.finish(
                        &mut cur,
                        Sep::Newline,
                        &mut pipe_prev,
                        depth,
                        parent,
                        &mut pending,
                    );
                    i += 1;
                    for (cmd, r, delim) in pending.drain(..) {
                        let body_start = i;
                        let mut body_end = i;
                        while i < end {
                            let line_end = self.text[i..end].find('\n').map_or(end, |n| i + n);
                            let line = self.text.get(i..line_end).unwrap_or_default();
                            let next = (line_end + 1).min(end);
                            if line.trim() == delim {
                                i = next;
                                break;
                            }
                            body_end = line_end;
                            i = next;
                        }
                        if let Some(redirect) =
                            self.out.get_mut(cmd).and_then(|c| c.redirects.get_mut(r))
                        {
                            redirect.heredoc =
                                Some(Span::new(body_start, body_end.max(body_start)));
                        }
                    }
                }
                b'\\' if self.dialect == Dialect::Posix && self.at(i + 1) == b'\n' => i += 2,
                b'`' if self.dialect == Dialect::PowerShell
                    && matches!(self.at(i + 1), b'\n' | b'\r') =>
                {
                    i += 2
                }
                b'#' if self.dialect != Dialect::Cmd => {
                    if self.dialect == Dialect::PowerShell && i > 0 && self.s[i - 1] == b'<' {
                        // `<# ... #>` block comment.
                        i = self.text[i..end].find("#>").map_or(end, |n| i + n + 2);
                    } else {
                        i = self.text[i..end].find('\n').map_or(end, |n| i + n);
                    }
                }
                b'<' if self.dialect == Dialect::PowerShell && self.at(i + 1) == b'#' => {
                    i = self.text[i..end].find("#>").map_or(end, |n| i + n + 2);
                }
                b';' => {
                    self.finish(
                        &mut cur,
                        Sep::Semi,
                        &mut pipe_prev,
                        depth,
                        parent,
                        &mut pending,
                    );
                    i += if self.at(i + 1) == b';' { 2 } else { 1 };
                }
                b'&' if self.at(i + 1) == b'&' => {
                    self.finish(
                        &mut cur,
                        Sep::And,
                        &mut pipe_prev,
                        depth,
                        parent,
                        &mut pending,
                    );
                    i += 2;
                }
                b'&' if self.dialect == Dialect::Posix && self.at(i + 1) == b'>' => {
                    i = self.redirect(&mut cur, i, i, end, depth);
                }
                b'&' => {
                    // PowerShell's call operator `& cmd` is not a separator.
                    if !(self.dialect == Dialect::PowerShell && word_start) {
                        self.finish(
                            &mut cur,
                            Sep::Background,
                            &mut pipe_prev,
                            depth,
                            parent,
                            &mut pending,
                        );
                    }
                    i += 1;
                }
                b'|' if self.at(i + 1) == b'|' => {
                    self.finish(
                        &mut cur,
                        Sep::Or,
                        &mut pipe_prev,
                        depth,
                        parent,
                        &mut pending,
                    );
                    i += 2;
                }
                b'|' => {
                    self.finish(
                        &mut cur,
                        Sep::Pipe,
                        &mut pipe_prev,
                        depth,
                        parent,
                        &mut pending,
                    );
                    i += if self.at(i + 1) == b'&' { 2 } else { 1 };
                }
                b'<' | b'>' if self.at(i + 1) == b'(' && self.dialect == Dialect::Posix => {
                    // Process substitution: a word whose inside is a script.
                    let w = self.word(&mut cur, i, end, depth);
                    i = w.span.end.max(i + 1);
                    cur.words.push(w);
                }
                b'<' | b'>' => i = self.redirect(&mut cur, i, i, end, depth),
                b'(' | b')' | b'{' | b'}' if self.is_separator(c) => {
                    self.finish(
                        &mut cur,
                        Sep::Group,
                        &mut pipe_prev,
                        depth,
                        parent,
                        &mut pending,
                    );
                    i += 1;
                }
                b'0'..=b'9' if word_start || self.last_is_space(i) => {
                    // `2>&1`, `1>>file`: a file descriptor right before a redirect operator.
                    let mut j = i;
                    while self.at(j).is_ascii_digit() {
                        j += 1;
                    }
                    if matches!(self.at(j), b'<' | b'>') {
                        i = self.redirect(&mut cur, i, j, end, depth);
                    } else {
                        let w = self.word(&mut cur, i, end, depth);
                        i = w.span.end.max(i + 1);
                        cur.words.push(w);
                    }
                }
                _ => {
                    let w = self.word(&mut cur, i, end, depth);
                    i = w.span.end.max(i + 1);
                    if skip_until_esac {
                        if w.value == "esac" {
                            skip_until_esac = false;
                        }
                        cur = Builder::default();
                        continue;
                    }
                    if cur.words.is_empty() && !w.quoted && self.is_keyword(&w.value) {
                        match w.value.as_str() {
                            "case" => skip_until_esac = true,
                            "for" | "select" => {
                                // Skip the loop header up to its separator.
                                i = self.text[i..end].find([';', '\n']).map_or(end, |n| i + n);
                            }
                            "rem" | "REM" | "::" => {
                                i = self.text[i..end].find('\n').map_or(end, |n| i + n)
                            }
                            _ => {}
                        }
                        continue;
                    }
                    cur.words.push(w);
                }
            }
        }
        self.finish(
            &mut cur,
            Sep::End,
            &mut pipe_prev,
            depth,
            parent,
            &mut pending,
        );
    }

    fn last_is_space(&self, i: usize) -> bool {
        i == 0 || matches!(self.s[i - 1], b' ' | b'\t' | b'\n')
    }

    fn is_keyword(&self, v: &str) -> bool {
        match self.dialect {
            Dialect::Posix => matches!(
                v,
                "if" | "then"
                    | "else"
                    | "elif"
                    | "fi"
                    | "do"
                    | "done"
                    | "while"
                    | "until"
                    | "for"
                    | "select"
                    | "case"
                    | "esac"
                    | "!"
                    | "{"
                    | "}"
                    | "time"
                    | "function"
                    | "[["
                    | "in"
            ),
            Dialect::PowerShell => {
                matches!(
                    v.to_ascii_lowercase().as_str(),
                    "if" | "else"
                        | "elseif"
                        | "foreach"
                        | "for"
                        | "while"
                        | "do"
                        | "try"
                        | "catch"
                        | "finally"
                        | "&"
                )
            }
            Dialect::Cmd => matches!(v, "rem" | "REM" | "::" | "@echo"),
            Dialect::Other => false,
        }
    }

    /// Ends the current command; returns its index when it had content.
    #[allow(clippy::too_many_arguments)]
    fn finish(
        &mut self,
        cur: &mut Builder,
        sep: Sep,
        pipe_prev: &mut Option<usize>,
        depth: usize,
        parent: Option<usize>,
        pending: &mut Vec<(usize, usize, String)>,
    ) -> Option<usize> {
        let b = std::mem::take(cur);
        if self.out.len() >= MAX_COMMANDS {
            self.truncated |= !(b.words.is_empty() && b.redirects.is_empty());
            return None;
        }
        if b.words.is_empty() && b.redirects.is_empty() {
            if sep != Sep::Pipe {
                *pipe_prev = None;
            }
            return None;
        }
        let start = b
            .words
            .first()
            .map(|w| w.span.start)
            .into_iter()
            .chain(b.redirects.first().map(|r| r.span.start))
            .min()
            .unwrap_or(0);
        let end = b
            .words
            .last()
            .map(|w| w.span.end)
            .into_iter()
            .chain(b.redirects.last().map(|r| r.span.end))
            .max()
            .unwrap_or(start);
        let idx = self.out.len();
        self.out.push(Command {
            words: b.words,
            redirects: b.redirects,
            span: Span::new(start, end.max(start)),
            pipe_from: pipe_prev.take(),
            parent,
            sep,
        });
        if sep == Sep::Pipe {
            *pipe_prev = Some(idx);
        }
        // Heredoc bodies start on the next line.
        for (r, delim) in b.heredocs {
            pending.push((idx, r, delim));
        }
        if depth < MAX_DEPTH {
            for (s, e) in b.subs {
                self.parse_range(s, e, depth + 1, Some(idx));
            }
        } else {
            // Substitutions nested deeper are not read.
            self.truncated |= !b.subs.is_empty();
        }
        Some(idx)
    }

    /// Reads a redirect starting at `start` (its file descriptor, if any, ends at `op_at`).
    fn redirect(
        &mut self,
        cur: &mut Builder,
        start: usize,
        op_at: usize,
        end: usize,
        depth: usize,
    ) -> usize {
        let mut j = op_at;
        let mut op = String::new();
        while j < end && op.len() < 3 && matches!(self.s[j], b'<' | b'>' | b'&' | b'|' | b'-') {
            let c = self.s[j] as char;
            // `|` only in `>|`, `-` only in `<<-`, `&` only right after the operator start.
            if (c == '|' && op != ">")
                || (c == '-' && op != "<<")
                || (c == '&' && op.len() > 1 && !op.ends_with('>'))
            {
                break;
            }
            op.push(c);
            j += 1;
        }
        while j < end && matches!(self.s[j], b' ' | b'\t') {
            j += 1;
        }
        let target = if j < end && !matches!(self.s[j], b'\n' | b';' | b'|' | b'&') {
            let w = self.word(cur, j, end, depth);
            j = w.span.end.max(j + 1);
            Some(w)
        } else {
            None
        };
        if (op == "<<" || op == "<<-")
            && let Some(t) = &target
        {
            cur.heredocs.push((cur.redirects.len(), t.value.clone()));
        }
        let span_end = target.as_ref().map_or(j, |t| t.span.end);
        cur.redirects.push(Redirect {
            op,
            span: Span::new(start, span_end.max(start)),
            target,
            heredoc: None,
        });
        j
    }

    /// Reads one word starting at `start`.
    fn word(&mut self, cur: &mut Builder, start: usize, end: usize, depth: usize) -> Word {
        let esc = self.escape();
        let mut w = Word {
            span: Span::new(start, start),
            value: String::new(),
            quoted: false,
            expands: false,
            github_expr: false,
        };
        let mut i = start;
        while i < end {
            let c = self.s[i];
            if matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            if i > start
                && self.is_separator(c)
                && !(c == b'('
                    && self.dialect == Dialect::Posix
                    && matches!(self.s[i - 1], b'<' | b'>'))
            {
                break;
            }
            if i == start && matches!(c, b'<' | b'>') && self.at(i + 1) == b'(' {
                // `<(cmd)`: process substitution.
                let close = self.matching(i + 1, end, b'(', b')');
                cur.subs.push((i + 2, close.min(end)));
                w.expands = true;
                w.value
                    .push_str(self.text.get(i..(close + 1).min(end)).unwrap_or_default());
                i = (close + 1).min(end);
                continue;
            }
            if c == esc && self.dialect != Dialect::Other {
                if self.at(i + 1) == b'\n' {
                    i += 2;
                    continue;
                }
                i += 1;
                if let Some(ch) = self.text.get(i..).and_then(|t| t.chars().next()) {
                    w.value.push(ch);
                    i += ch.len_utf8();
                }
                continue;
            }
            match c {
                b'\'' if self.dialect != Dialect::Cmd => {
                    w.quoted = true;
                    let mut j = i + 1;
                    loop {
                        match self.text[j.min(end)..end].find('\'') {
                            Some(n) => {
                                // GitHub expands `${{ }}` before the shell sees any quotes.
                                w.github_expr |= self.text[j..j + n].contains("${{");
                                w.value.push_str(&self.text[j..j + n]);
                                j += n + 1;
                                // PowerShell doubles a quote to escape it.
                                if self.dialect == Dialect::PowerShell && self.at(j) == b'\'' {
                                    w.value.push('\'');
                                    j += 1;
                                    continue;
                                }
                                break;
                            }
                            None => {
                                w.value
                                    .push_str(self.text.get(j.min(end)..end).unwrap_or_default());
                                j = end;
                                break;
                            }
                        }
                    }
                    i = j;
                }
                b'"' => {
                    w.quoted = true;
                    i += 1;
                    while i < end && self.s[i] != b'"' {
                        let d = self.s[i];
                        if d == esc && self.dialect != Dialect::Cmd {
                            let n = self.at(i + 1);
                            let escapable = self.dialect == Dialect::PowerShell
                                || matches!(n, b'$' | b'`' | b'"' | b'\\' | b'\n');
                            if escapable && i + 1 < end {
                                if n != b'\n'
                                    && let Some(ch) =
                                        self.text.get(i + 1..).and_then(|t| t.chars().next())
                                {
                                    w.value.push(ch);
                                    i += 1 + ch.len_utf8();
                                    continue;
                                }
                                i += 2;
                                continue;
                            }
                            w.value.push('\\');
                            i += 1;
                        } else if d == b'$'
                            || (d == b'`' && self.dialect == Dialect::Posix)
                            || (d == b'%' && self.dialect == Dialect::Cmd)
                        {
                            i = self.dollar(cur, &mut w, i, end);
                        } else if let Some(ch) = self.text.get(i..).and_then(|t| t.chars().next()) {
                            w.value.push(ch);
                            i += ch.len_utf8();
                        } else {
                            i += 1;
                        }
                    }
                    i = (i + 1).min(end.max(i));
                }
                b'$' => i = self.dollar(cur, &mut w, i, end),
                b'`' if self.dialect == Dialect::Posix => i = self.dollar(cur, &mut w, i, end),
                b'%' if self.dialect == Dialect::Cmd => i = self.dollar(cur, &mut w, i, end),
                _ => match self.text.get(i..).and_then(|t| t.chars().next()) {
                    Some(ch) => {
                        w.value.push(ch);
                        i += ch.len_utf8();
                    }
                    None => i += 1,
                },
            }
        }
        w.span.end = i.min(end).max(start);
        let _ = depth;
        self.words += 1;
        w
    }

    /// Reads an expansion starting at `i` (`$`, `` ` `` or `%`) into `w`; returns where it ends.
    fn dollar(&mut self, cur: &mut Builder, w: &mut Word, i: usize, end: usize) -> usize {
        let c = self.s[i];
        let raw_end = |j: usize| j.min(end).max(i + 1);
        let j = if c == b'`' {
            let close = self
                .text
                .get(i + 1..end)
                .and_then(|t| t.find('`'))
                .map_or(end, |n| i + 1 + n);
            cur.subs.push((i + 1, close));
            w.expands = true;
            close + 1
        } else if c == b'%' {
            match self
                .text
                .get(i + 1..end)
                .and_then(|t| t.find(['%', ' ', '\n', '"']))
            {
                Some(n) if self.s[i + 1 + n] == b'%' && n > 0 => {
                    w.expands = true;
                    i + n + 2
                }
                _ => i + 1,
            }
        } else if self.at(i + 1) == b'{' && self.at(i + 2) == b'{' {
            // A GitHub expression: opaque to the shell, may contain spaces.
            w.github_expr = true;
            self.text
                .get(i..end)
                .and_then(|t| t.find("}}"))
                .map_or(end, |n| i + n + 2)
        } else if self.at(i + 1) == b'(' {
            w.expands = true;
            let close = self.matching(i + 1, end, b'(', b')');
            if self.at(i + 2) != b'(' {
                cur.subs.push((i + 2, close.min(end)));
            }
            close + 1
        } else if self.at(i + 1) == b'{' {
            w.expands = true;
            self.matching(i + 1, end, b'{', b'}') + 1
        } else if self.at(i + 1) == b'\'' && self.dialect == Dialect::Posix {
            // ANSI-C quoting `$'...'`: a literal.
            w.quoted = true;
            let close = self
                .text
                .get(i + 2..end)
                .and_then(|t| t.find('\''))
                .map_or(end, |n| i + 2 + n);
            w.value
                .push_str(self.text.get(i + 2..close).unwrap_or_default());
            return (close + 1).min(end).max(i + 1);
        } else {
            let mut k = i + 1;
            let ps = self.dialect == Dialect::PowerShell;
            if matches!(
                self.at(k),
                b'@' | b'*' | b'#' | b'?' | b'$' | b'!' | b'-' | b'0'..=b'9'
            ) {
                k += 1;
            } else {
                while k < end
                    && (self.s[k].is_ascii_alphanumeric()
                        || self.s[k] == b'_'
                        || (ps && self.s[k] == b':'))
                {
                    k += 1;
                }
            }
            if k > i + 1 {
                w.expands = true;
            }
            k
        };
        let j = raw_end(j);
        w.value.push_str(self.text.get(i..j).unwrap_or_default());
        j
    }

    /// The index of the bracket closing the one at `open` (or `end`), skipping quotes.
    fn matching(&self, open: usize, end: usize, o: u8, c: u8) -> usize {
        let mut depth = 0usize;
        let mut i = open;
        while i < end {
            match self.s[i] {
                b'\\' if self.dialect == Dialect::Posix => i += 1,
                b'\'' => {
                    i = self
                        .text
                        .get(i + 1..end)
                        .and_then(|t| t.find('\''))
                        .map_or(end, |n| i + 1 + n);
                }
                b'"' => {
                    let mut k = i + 1;
                    while k < end && self.s[k] != b'"' {
                        if self.s[k] == b'\\' {
                            k += 1;
                        }
                        k += 1;
                    }
                    i = k;
                }
                x if x == o => depth += 1,
                x if x == c => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        return i;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        end
    }
}

#[cfg(test)]
mod tests;
