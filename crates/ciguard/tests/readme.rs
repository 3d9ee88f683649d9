//! The README's example output is what ciguard prints today: the test runs the command the
//! README shows on the corpus file it names and compares with the README's block, and checks the
//! exit code the README states. `CIGUARD_BLESS=1` rewrites the block. Skips (with a message)
//! when the corpus is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example: the arguments after `ciguard`, the output block's byte range, the exit code.
struct Example {
    args: Vec<String>,
    block: std::ops::Range<usize>,
    exit_code: i32,
}

fn example(readme: &str) -> Example {
    let section = readme
        .find("\n## Example\n")
        .expect("README has an Example section");
    let rest = &readme[section..];
    let command = rest
        .lines()
        .find_map(|l| l.strip_prefix("`ciguard "))
        .and_then(|l| l.split_once('`'))
        .expect("the Example names its command as `ciguard ...`")
        .0;
    let open = section + rest.find("```text\n").expect("an output block") + "```text\n".len();
    let close = open + readme[open..].find("```\n").expect("the block ends");
    let after = &readme[close..];
    let exit_code = after
        .split_once("The exit code is ")
        .and_then(|(_, s)| s.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .expect("the README states the exit code");
    Example {
        args: command.split_whitespace().map(str::to_owned).collect(),
        block: open..close,
        exit_code,
    }
}

#[test]
fn example_output_matches_the_binary() {
    let corpus = root().join("../shared/corpus");
    if !corpus.is_dir() {
        eprintln!(
            "skipped: {} is missing (the corpus sits beside the checkout)",
            corpus.display()
        );
        return;
    }
    let readme_path = root().join("README.md");
    let readme = std::fs::read_to_string(&readme_path).expect("README");
    let example = example(&readme);
    // As a user without a token runs it: offline audits only, plain text without colour.
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args(&example.args)
        .current_dir(&corpus)
        .env("NO_COLOR", "1")
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL")
        .stdin(Stdio::null())
        .output()
        .expect("run ciguard");
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    if std::env::var_os("CIGUARD_BLESS").is_some_and(|v| v != "0") {
        let mut updated = readme.clone();
        updated.replace_range(example.block.clone(), &printed);
        std::fs::write(&readme_path, updated).expect("write README");
        return;
    }
    let shown = &readme[example.block.clone()];
    assert!(
        shown == printed,
        "the README's example output differs from what `ciguard {}` prints (run \
         `CIGUARD_BLESS=1 cargo test -p ciguard --test readme` to update it):\n{}",
        example.args.join(" "),
        similar_lines(shown, &printed)
    );
    assert_eq!(out.status.code(), Some(example.exit_code), "exit code");
}

/// The first differing line of each, for the failure message.
fn similar_lines(shown: &str, printed: &str) -> String {
    let pair = shown
        .lines()
        .zip(printed.lines())
        .enumerate()
        .find(|(_, (a, b))| a != b);
    match pair {
        Some((n, (a, b))) => format!("line {}:\n  README:  {a}\n  printed: {b}", n + 1),
        None => format!(
            "README has {} lines, ciguard printed {}",
            shown.lines().count(),
            printed.lines().count()
        ),
    }
}

/// The first ```yaml block after `heading`.
fn yaml_block<'a>(readme: &'a str, heading: &str) -> &'a str {
    let section = readme.find(heading).expect("heading");
    let open = section + readme[section..].find("```yaml\n").expect("yaml block") + 8;
    let close = open + readme[open..].find("```\n").expect("block end");
    &readme[open..close]
}

#[test]
fn github_actions_recipe_passes_the_strictest_audit() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let recipe = yaml_block(&readme, "\n## Use in GitHub Actions\n");
    assert!(recipe.contains("ciguard/ciguard@<commit-sha>"), "{recipe}");
    // As a user writes it: with the commit they pinned.
    let pinned = recipe.replace("<commit-sha>", "0123456789abcdef0123456789abcdef01234567");
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    std::fs::create_dir_all(dir.path().join(".github/workflows")).unwrap();
    std::fs::write(dir.path().join(".github/workflows/ciguard.yml"), pinned).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
        .args([
            "audit",
            "--persona",
            "auditor",
            "--offline",
            ".github/workflows/ciguard.yml",
        ])
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run ciguard");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The inputs the recipe uses are the action's.
    let action = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
    for input in ["persona", "upload-sarif"] {
        assert!(
            action.contains(&format!("\n  {input}:\n")),
            "action.yml lacks {input}"
        );
    }
}

#[test]
fn pre_commit_section_names_the_hooks_that_exist() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README");
    let config = yaml_block(&readme, "\n## Use with pre-commit\n");
    let hooks = std::fs::read_to_string(root().join(".pre-commit-hooks.yaml")).expect("hooks");
    let ids: Vec<&str> = config
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- id: "))
        .map(|l| l.split_whitespace().next().unwrap_or(l))
        .collect();
    assert_eq!(ids, ["ciguard", "ciguard-pin-check"], "{config}");
    for id in ids {
        assert!(hooks.contains(&format!("- id: {id}\n")), "no hook {id}");
    }
}
