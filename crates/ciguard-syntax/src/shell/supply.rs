//! What a script fetches and runs: moving URLs, unpinned installs, downloads executed or
//! extracted with no checksum check.
//!
//! File names are compared with a shell glob of `*` only, within one file name (`glob_match`):
//! deliberately not `ciguard-settings`' `fnmatch`, which is GitHub's ruleset matching of whole
//! refs (`**/`, `[set]`, no leading-dot match) and would answer differently for a file name.

use crate::shell::{Command, Script, basename};

/// Why `url` names content that changes over time, if it does.
pub fn moving_url(url: &str) -> Option<&'static str> {
    let l = url.trim_matches(['"', '\'']).to_ascii_lowercase();
    if !l.contains("://") || l.contains("://api.github.com/") {
        // Not a URL, or release metadata (which tag is latest) rather than code.
        return None;
    }
    if l.contains("/releases/latest")
        || l.contains("/latest/download")
        || l.contains("/download/latest")
    {
        return Some("the latest release");
    }
    const BRANCHES: &[&str] = &["main", "master", "head", "develop", "dev", "trunk", "refs"];
    let path: Vec<&str> = l
        .split("://")
        .nth(1)
        .unwrap_or_default()
        .split(['?', '#'])
        .next()
        .unwrap_or_default()
        .split('/')
        .collect();
    let host = path.first().copied().unwrap_or_default();
    if host == "raw.githubusercontent.com" && path.get(3).is_some_and(|r| BRANCHES.contains(r)) {
        return Some("a branch, not a commit");
    }
    if host == "github.com" || host.starts_with("gitlab") {
        for w in path.windows(2) {
            if matches!(w[0], "raw" | "blob") && BRANCHES.contains(&w[1]) {
                return Some("a branch, not a commit");
            }
            if w[0] == "heads"
                || (w[0] == "archive"
                    && ["main.", "master.", "develop.", "head."]
                        .iter()
                        .any(|b| w[1].starts_with(b)))
            {
                return Some("a branch archive, not a commit");
            }
        }
    }
    let metadata = [".txt", ".json", ".xml", ".yml", ".yaml"]
        .iter()
        .any(|e| l.ends_with(e));
    if !metadata
        && path
            .iter()
            .skip(1)
            .any(|seg| *seg == "latest" || seg.contains("-latest.") || seg.contains("_latest."))
    {
        return Some("a `latest` path");
    }
    None
}

/// The URL words of a fetch command.
pub fn urls(cmd: &Command) -> impl Iterator<Item = &str> {
    cmd.args()
        .iter()
        .map(|w| w.value.as_str())
        .filter(|v| v.contains("://"))
}

/// A package installed by name without a fixed version: a description of the problem.
pub fn unpinned_install(cmd: &Command) -> Option<String> {
    let prog = cmd.program()?;
    let args: Vec<&str> = cmd.args().iter().map(|w| w.value.as_str()).collect();
    let opaque = |spec: &str| spec.contains('$') || spec.contains('%');
    match prog {
        "go" if matches!(args.first(), Some(&("install" | "run"))) => {
            let pkg = args.iter().skip(1).find(|a| !a.starts_with('-'))?;
            // Module paths start with a domain; `hack/tool.go` and `./cmd/x` are local.
            let domain = pkg.split('/').next().unwrap_or_default();
            if pkg.starts_with(['.', '/'])
                || opaque(pkg)
                || !domain.contains('.')
                || pkg.ends_with(".go")
            {
                return None;
            }
            match pkg.rsplit_once('@') {
                Some((_, v)) if matches!(v, "latest" | "master" | "main" | "HEAD") => {
                    Some(format!(
                        "`go {} {pkg}` installs whatever `{v}` is when the job runs",
                        args[0]
                    ))
                }
                Some(_) => None,
                None => Some(format!("`go {} {pkg}` has no version", args[0])),
            }
        }
        "pip" | "pip3" | "pipx" | "uv" | "python" | "python3" => pip_like(prog, &args),
        "uvx" => {
            let from = args
                .iter()
                .position(|a| *a == "--from")
                .and_then(|i| args.get(i + 1));
            let spec = from.or_else(|| args.iter().find(|a| !a.starts_with('-')))?;
            (!py_pinned(spec) && !opaque(spec))
                .then(|| format!("`uvx {spec}` runs an unpinned tool"))
        }
        "cargo" if matches!(args.first(), Some(&("install" | "binstall"))) => {
            if args
                .iter()
                .any(|a| matches!(*a, "--path" | "--list") || a.starts_with("--path="))
            {
                return None;
            }
            let versioned = args.iter().any(|a| {
                matches!(*a, "--version" | "--vers" | "--rev" | "--tag")
                    || a.starts_with("--version=")
                    || a.starts_with("--vers=")
                    || a.starts_with("--rev=")
                    || a.starts_with("--tag=")
            });
            let mut crates = Vec::new();
            let mut skip = false;
            for a in &args[1..] {
                if skip {
                    skip = false;
                } else if a.starts_with('-') {
                    skip = !a.contains('=')
                        && matches!(
                            *a,
                            "--root"
                                | "--target"
                                | "--features"
                                | "-F"
                                | "--profile"
                                | "-j"
                                | "--jobs"
                                | "--index"
                                | "--registry"
                                | "--git"
                                | "--branch"
                                | "--version"
                                | "--vers"
                                | "--rev"
                                | "--tag"
                                | "--bin"
                                | "--example"
                                | "--config"
                                | "-Z"
                                | "--target-dir"
                        );
                } else {
                    crates.push(*a);
                }
            }
            let has_git = args.contains(&"--git");
            let unversioned: Vec<&str> = crates
                .into_iter()
                .filter(|c| !c.contains('@') && !opaque(c))
                .collect();
            if !versioned && (!unversioned.is_empty() || has_git) {
                let name = unversioned.first().copied().unwrap_or("--git");
                return Some(format!("`cargo {} {name}` has no `--version`", args[0]));
            }
            (args[0] == "install" && !args.contains(&"--locked") && !args.contains(&"--path")).then(
                || {
                    "`cargo install` without `--locked` resolves the crate's dependencies afresh"
                        .to_owned()
                },
            )
        }
        "gem" if args.iter().find(|a| !a.starts_with('-')) == Some(&"install") => {
            if args
                .iter()
                .any(|a| matches!(*a, "-v" | "--version") || a.starts_with("--version="))
            {
                return None;
            }
            let gem = args
                .iter()
                .skip_while(|a| **a != "install")
                .skip(1)
                .find(|a| {
                    !a.starts_with('-') && !a.contains(':') && !a.ends_with(".gem") && !opaque(a)
                })?;
            Some(format!("`gem install {gem}` has no `-v` version"))
        }
        "npm" | "pnpm" | "yarn" | "bun" | "npx" => npm_like(cmd, prog, &args),
        "dotnet"
            if args.starts_with(&["tool", "install"]) || args.starts_with(&["tool", "update"]) =>
        {
            (!args.contains(&"--version"))
                .then(|| "`dotnet tool install` has no `--version`".to_owned())
        }
        _ => None,
    }
}

fn py_pinned(spec: &str) -> bool {
    spec.contains("==")
        || spec.contains('@')
        || spec.starts_with(['.', '/', '~'])
        || spec.contains('/')
        || spec.ends_with(".whl")
}

fn pip_like(prog: &str, args: &[&str]) -> Option<String> {
    let rest: &[&str] = match prog {
        "python" | "python3" if args.starts_with(&["-m", "pip", "install"]) => &args[3..],
        "pip" | "pip3" if args.first() == Some(&"install") => &args[1..],
        "uv" if args.starts_with(&["pip", "install"]) => &args[2..],
        "uv" if args.starts_with(&["tool", "install"]) || args.starts_with(&["tool", "run"]) => {
            &args[2..]
        }
        "pipx" if matches!(args.first(), Some(&("install" | "run"))) => &args[1..],
        _ => return None,
    };
    if rest
        .iter()
        .any(|a| *a == "--require-hashes" || a.starts_with("--hash"))
    {
        return None;
    }
    let mut skip = false;
    let mut loose = Vec::new();
    for a in rest {
        if skip {
            skip = false;
            continue;
        }
        if a.starts_with('-') {
            skip = !a.contains('=')
                && matches!(
                    *a,
                    "-r" | "--requirement"
                        | "-c"
                        | "--constraint"
                        | "-e"
                        | "--editable"
                        | "-i"
                        | "--index-url"
                        | "--extra-index-url"
                        | "-f"
                        | "--find-links"
                        | "-t"
                        | "--target"
                        | "--python"
                        | "-p"
                        | "--prefix"
                        | "--root"
                        | "--platform"
                        | "--python-version"
                        | "--only-binary"
                        | "--no-binary"
                        | "--spec"
                        | "--index"
                        | "--with"
                        | "--from"
                        | "--trusted-host"
                );
            continue;
        }
        if py_pinned(a) || a.contains('$') || a.contains('%') || a.contains("${{") {
            continue;
        }
        loose.push(*a);
    }
    // The installers upgrading themselves are left alone.
    let first = loose.iter().find(|p| {
        !matches!(
            p.to_ascii_lowercase().as_str(),
            "pip" | "setuptools" | "wheel"
        )
    })?;
    let tool = match prog {
        "python" | "python3" => "python -m pip install".to_owned(),
        "uv" => format!("uv {} {}", args[0], args[1]),
        _ => format!("{prog} {}", args[0]),
    };
    Some(format!("`{tool} {first}` has no `==` version or hash"))
}

fn npm_like(cmd: &Command, prog: &str, args: &[&str]) -> Option<String> {
    let global = cmd.has_flag("-g")
        || cmd.has_flag("--global")
        || args.contains(&"--location=global")
        || (prog == "yarn" && args.first() == Some(&"global"));
    let sub = args.iter().find(|a| !a.starts_with('-'))?;
    let installs = match prog {
        "npm" => matches!(*sub, "install" | "i" | "add" | "exec" | "x"),
        "pnpm" | "bun" => matches!(*sub, "add" | "install" | "i" | "dlx" | "x"),
        "yarn" => matches!(*sub, "add" | "global" | "dlx"),
        "npx" => cmd.has_flag("-y") || cmd.has_flag("--yes") || cmd.has_flag("--package"),
        _ => false,
    };
    if !installs {
        return None;
    }
    let specs: Vec<&str> = args
        .iter()
        .copied()
        .filter(|a| {
            !a.starts_with('-') && (prog == "npx" || *a != *sub) && !matches!(*a, "add" | "global")
        })
        .filter(|a| {
            !a.starts_with(['.', '/', '~'])
                && !a.contains(':')
                && !a.contains('$')
                && !a.contains('%')
        })
        .collect();
    let floating = |s: &&str| match s.get(1..).and_then(|r| r.rfind('@')).map(|i| &s[i + 2..]) {
        None => true,
        Some(v) => matches!(
            v,
            "latest" | "next" | "*" | "" | "canary" | "beta" | "nightly"
        ),
    };
    let spec = specs.iter().find(|s| floating(s))?;
    let dlx = matches!(*sub, "dlx" | "x" | "exec") || prog == "npx";
    if !(global || dlx || spec.contains("@latest") || spec.contains("@next")) {
        return None;
    }
    Some(format!(
        "`{prog} {}{spec}` installs whatever version was published last",
        if prog == "npx" { "" } else { "… " }
    ))
}

/// Where a download is saved, for `curl -o`, `curl -O`, `wget`, `gh release download`,
/// `Invoke-WebRequest -OutFile`; `None` when it goes to standard output.
pub fn saved_file(cmd: &Command) -> Option<String> {
    let prog = cmd.program()?.to_ascii_lowercase();
    let args: Vec<&str> = cmd.args().iter().map(|w| w.value.as_str()).collect();
    let url_name = || {
        urls(cmd)
            .next()
            .map(|u| basename(u.split(['?', '#']).next().unwrap_or(u)).to_owned())
    };
    let value_after = |flags: &[&str]| {
        args.iter().enumerate().find_map(|(i, a)| {
            flags.iter().find_map(|f| {
                if a == f {
                    args.get(i + 1).map(|v| (*v).to_owned())
                } else {
                    a.strip_prefix(&format!("{f}=")).map(str::to_owned)
                }
            })
        })
    };
    match prog.as_str() {
        "curl" => {
            if let Some(v) = value_after(&["-o", "--output"]) {
                return (v != "-").then_some(v);
            }
            if cmd.has_flag("-O") || cmd.has_flag("--remote-name") {
                return url_name();
            }
            None
        }
        "wget" => match value_after(&["-O", "--output-document"]) {
            Some(v) => (v != "-").then_some(v),
            None if args
                .iter()
                .any(|a| a.starts_with('-') && !a.starts_with("--") && a.ends_with('O')) =>
            {
                let i = args
                    .iter()
                    .position(|a| a.starts_with('-') && !a.starts_with("--") && a.ends_with('O'))?;
                args.get(i + 1)
                    .filter(|v| **v != "-")
                    .map(|v| (*v).to_owned())
            }
            None => url_name(),
        },
        "gh" if args.starts_with(&["release", "download"]) => {
            value_after(&["-O", "--output", "-p", "--pattern"])
        }
        "invoke-webrequest" | "iwr" => value_after(&["-OutFile"]),
        _ => None,
    }
}

/// Whether `cmd` executes, installs or unpacks `file` (compared by file name).
pub fn uses_file(cmd: &Command, file: &str) -> Option<&'static str> {
    let name = basename(file.trim_matches(['"', '\'']));
    if name.is_empty() || name == "." {
        return None;
    }
    let mentions = |w: &str| {
        let b = basename(w);
        b == name || (name.contains('*') && glob_match(name, b))
    };
    let prog = cmd.program()?;
    if mentions(prog)
        && cmd
            .words
            .get(cmd.program_index()?)
            .is_some_and(|w| w.value.contains('/'))
    {
        return Some("runs it");
    }
    let args = cmd.args();
    if !args.iter().any(|w| mentions(&w.value)) {
        return None;
    }
    match prog.to_ascii_lowercase().as_str() {
        "chmod"
            if args.iter().any(|w| {
                w.value.contains('x') || w.value.starts_with('7') || w.value.ends_with("755")
            }) =>
        {
            Some("makes it executable")
        }
        "tar"
            if args
                .first()
                .is_some_and(|w| w.value.contains('x') || w.value == "--extract")
                || args
                    .iter()
                    .any(|w| w.value.starts_with('-') && w.value.contains('x')) =>
        {
            Some("extracts it")
        }
        "unzip" | "7z" | "7za" | "gunzip" | "expand-archive" | "bunzip2" | "xz" | "unxz" => {
            Some("extracts it")
        }
        "sh" | "bash" | "zsh" | "python" | "python3" | "perl" | "ruby" | "node" | "pwsh"
        | "source" | "." => Some("runs it"),
        "dpkg" | "rpm" | "apt" | "apt-get" | "yum" | "dnf" | "msiexec" | "installer"
        | "install" | "hdiutil" => Some("installs it"),
        _ => None,
    }
}

/// `*` as the shell expands it in one file name (the name has no `/`): any run of characters.
fn glob_match(pattern: &str, name: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut at = 0;
    for (i, p) in parts.iter().enumerate() {
        if i == 0 {
            if !name.starts_with(p) {
                return false;
            }
            at = p.len();
        } else if let Some(found) = name.get(at..).and_then(|r| r.find(p)) {
            at += found + p.len();
        } else {
            return false;
        }
    }
    pattern.ends_with('*') || at == name.len()
}

/// Whether the script checks a checksum or signature anywhere.
pub fn verifies(script: &Script) -> bool {
    script.commands.iter().any(|c| {
        let Some(prog) = c.program().map(str::to_ascii_lowercase) else {
            return false;
        };
        let args: Vec<&str> = c.args().iter().map(|w| w.value.as_str()).collect();
        match prog.as_str() {
            "sha256sum" | "sha512sum" | "sha384sum" | "shasum" | "b2sum" | "get-filehash"
            | "certutil" | "minisign" | "gpgv" | "slsa-verifier" | "signify" => true,
            "openssl" => args.first() == Some(&"dgst"),
            "gpg" | "gpg2" => args.contains(&"--verify"),
            "cosign" => args.first().is_some_and(|a| a.starts_with("verify")),
            "gh" => args.starts_with(&["attestation", "verify"]),
            _ => false,
        }
    })
}

/// Whether `cmd` is an extractor reading the archive from its standard input.
pub fn extracts_stdin(cmd: &Command) -> bool {
    match cmd.program() {
        Some("tar") => {
            cmd.args()
                .first()
                .is_some_and(|w| !w.value.starts_with("--") && w.value.contains('x'))
                || cmd.args().iter().any(|w| {
                    w.value.starts_with('-') && !w.value.starts_with("--") && w.value.contains('x')
                })
        }
        Some("unzip" | "bsdtar" | "funzip") => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Dialect;

    fn first(text: &str) -> Command {
        Script::parse(text, Dialect::Posix).commands.remove(0)
    }

    #[test]
    fn moving_urls() {
        assert!(moving_url("https://github.com/o/r/releases/latest/download/x.tgz").is_some());
        assert!(moving_url("https://raw.githubusercontent.com/o/r/master/get.py").is_some());
        assert!(moving_url("https://github.com/o/r/archive/refs/heads/main.zip").is_some());
        assert!(moving_url("https://raw.githubusercontent.com/o/r/0123456789abcdef0123456789abcdef01234567/get.py").is_none());
        assert!(moving_url("https://github.com/o/r/releases/download/v1.2.3/x.tgz").is_none());
        assert!(moving_url("https://api.github.com/repos/o/r/releases/latest").is_none());
        assert!(moving_url("https://dl.deno.land/release-latest.txt").is_none());
    }

    #[test]
    fn unpinned_installs() {
        for bad in [
            "go install golang.org/x/vuln/cmd/govulncheck@latest",
            "pip install tox",
            "python -m pip install -U build",
            "cargo install cargo-nextest",
            "cargo install cargo-audit --version 0.21.0",
            "uvx zizmor",
            "gem install ronn",
            "npm install -g @github/copilot",
            "npx --yes @taplo/cli fmt",
        ] {
            assert!(unpinned_install(&first(bad)).is_some(), "{bad}");
        }
        for good in [
            "go install golang.org/x/vuln/cmd/govulncheck@v1.1.3",
            "go run hack/tool.go",
            "pip install -r requirements.txt",
            "pip install --upgrade pip",
            "pip install ruff==0.6.9 .",
            "cargo install cargo-deny --version 0.16.1 --locked",
            "cargo install --path .",
            "uvx ruff@0.6.9 check",
            "gem install bundler -v 2.5.0",
            "npm install -g yarn@1.22.22",
            "npm install",
            "npx eslint .",
        ] {
            assert_eq!(unpinned_install(&first(good)), None, "{good}");
        }
    }

    #[test]
    fn downloads_and_their_use() {
        let s = Script::parse(
            "curl -fsSLO https://x/tool.tgz\ntar xzf tool.tgz\n",
            Dialect::Posix,
        );
        assert_eq!(saved_file(&s.commands[0]).as_deref(), Some("tool.tgz"));
        assert_eq!(uses_file(&s.commands[1], "tool.tgz"), Some("extracts it"));
        assert!(!verifies(&s));
        let s = Script::parse(
            "wget -qO bin/t https://x/t\necho \"$SUM  bin/t\" | sha256sum -c -\n./bin/t\n",
            Dialect::Posix,
        );
        assert_eq!(saved_file(&s.commands[0]).as_deref(), Some("bin/t"));
        assert_eq!(uses_file(&s.commands[3], "bin/t"), Some("runs it"));
        assert!(verifies(&s));
    }
}
