//! `missing-cooldown-config`: ecosystems present in a repository without a cooldown anywhere.

use std::path::Path;

use ciguard_core::Level;

fn repo(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (path, text) in files {
        let full = dir.path().join(path);
        std::fs::create_dir_all(full.parent().expect("parent")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
    dir
}

/// (path relative to the repo, line, message) of each finding.
fn findings(root: &Path) -> (Vec<(String, usize, String)>, Vec<ciguard_core::Diagnostic>) {
    let (findings, diagnostics) = ciguard_deps::audit_configs(root);
    let prefix = format!("{}/", root.display());
    let mut out: Vec<_> = findings
        .iter()
        .map(|f| {
            assert_eq!(f.audit_id(), "missing-cooldown-config");
            let line = f
                .primary
                .source()
                .expect("file")
                .line_col(f.primary.span().expect("span").start)
                .line;
            (
                f.primary.path().trim_start_matches(&prefix).to_owned(),
                line,
                f.message.clone(),
            )
        })
        .collect();
    out.sort();
    (out, diagnostics)
}

const WORKFLOW: &str = "on: push\npermissions: {}\njobs: {}\n";

#[test]
fn dependabot_every_entry_and_each_ecosystem() {
    let dependabot = "\
version: 2
updates:
  - package-ecosystem: cargo
    directory: /
    schedule: {interval: weekly}
    cooldown:
      default-days: 7
  - package-ecosystem: npm
    directory: /
    schedule: {interval: weekly}
  - package-ecosystem: github-actions
    directory: /
    schedule: {interval: weekly}
    cooldown:
      semver-major-days: 30
";
    let dir = repo(&[
        ("Cargo.toml", "[package]\nname = \"x\"\n"),
        ("web/package.json", "{\"name\": \"web\"}\n"),
        ("requirements.txt", "requests==2.32.3\n"),
        (".github/workflows/ci.yml", WORKFLOW),
        (".github/dependabot.yml", dependabot),
    ]);
    let (found, diagnostics) = findings(dir.path());
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    assert_eq!(found.len(), 3, "{found:#?}");
    assert_eq!(found[0].0, ".github/dependabot.yml");
    assert!(found.iter().any(|(p, l, m)| p == ".github/dependabot.yml"
        && *l == 8
        && m.contains("for `npm` has no `cooldown`")));
    assert!(found.iter().any(|(p, l, m)| p == ".github/dependabot.yml"
        && *l == 11
        && m.contains("leaves some semver levels without delay")));
    assert!(found.iter().any(|(p, l, m)| p == "requirements.txt"
        && *l == 1
        && m.starts_with("no cooldown for python dependencies")));
}

#[test]
fn renovate_json5_top_level_covers_everything() {
    let dir = repo(&[
        ("Cargo.lock", "version = 4\n"),
        ("package-lock.json", "{}"),
        ("uv.lock", "version = 1\n"),
        (".github/workflows/ci.yml", WORKFLOW),
        (
            "renovate.json5",
            "// Renovate\n{\n  extends: ['config:recommended'],\n  minimumReleaseAge: '7 days',\n}\n",
        ),
    ]);
    let (found, diagnostics) = findings(dir.path());
    assert!(
        found.is_empty() && diagnostics.is_empty(),
        "{found:#?} {diagnostics:#?}"
    );
}

#[test]
fn package_manager_settings() {
    let dir = repo(&[
        ("Cargo.toml", "[package]\nname = \"x\"\n"),
        (
            ".cargo/config.toml",
            "[registry]\nglobal-min-publish-age = \"7 days\"\n",
        ),
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.uv]\nexclude-newer = \"P7D\"\n",
        ),
        ("package.json", "{\"name\": \"x\"}"),
        (
            "pnpm-workspace.yaml",
            "packages: ['.']\nminimumReleaseAge: 10080\n",
        ),
        (".github/workflows/ci.yml", WORKFLOW),
        (
            ".github/renovate.json",
            "{\"packageRules\": [{\"matchPackageNames\": [\"foo\"], \"minimumReleaseAge\": \"3 days\"}]}",
        ),
    ]);
    let (found, _) = findings(dir.path());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].0, ".github/workflows/ci.yml");
    assert!(
        found[0]
            .2
            .starts_with("no cooldown for github-actions dependencies")
    );
    let (all, _) = ciguard_deps::audit_configs(dir.path());
    assert!(
        all[0]
            .related
            .iter()
            .any(|r| r.path().ends_with(".github/renovate.json")),
        "the Renovate file is related"
    );
}

#[test]
fn zero_and_short_settings_are_too_short() {
    let dir = repo(&[
        (
            "package.json",
            "{\"name\": \"x\", \"renovate\": {\"minimumReleaseAge\": \"0 days\", \"packageRules\": [{\"matchManagers\": [\"cargo\"], \"minimumReleaseAge\": \"3 days\"}]}}",
        ),
        (
            ".npmrc",
            "registry=https://registry.npmjs.org/\nmin-release-age=0\n",
        ),
        (
            "uv.toml",
            "exclude-newer-package = { requests = \"2024-01-01\" }\n",
        ),
        ("setup.py", "from setuptools import setup\n"),
        ("Cargo.toml", "[package]\nname = \"x\"\n"),
    ]);
    let (found, _) = findings(dir.path());
    let areas: Vec<_> = found
        .iter()
        .map(|(p, _, m)| (p.as_str(), m.split(':').next().unwrap_or_default()))
        .collect();
    assert_eq!(
        areas,
        vec![
            (".npmrc", "the cooldown for npm dependencies is too short"),
            (
                "package.json",
                "the cooldown for cargo dependencies is too short"
            ),
            (
                "package.json",
                "the cooldown for python dependencies is too short"
            )
        ],
        "0 days and a 3-day rule are below the 7-day policy"
    );
}

#[test]
fn other_settings_count() {
    for (file, text) in [
        (".npmrc", "min-release-age=7\n"),
        (".npmrc", "minimum-release-age=1440\n"),
        (".yarnrc.yml", "npmMinimalAgeGate: 7d\n"),
        ("bunfig.toml", "[install]\nminimumReleaseAge = 604800\n"),
        (
            "package.json",
            "{\"renovate\": {\"packageRules\": [{\"matchDatasources\": [\"npm\"], \"minimumReleaseAge\": \"1 week\"}]}}",
        ),
    ] {
        let dir = repo(&[("yarn.lock", "# yarn lockfile v1\n"), (file, text)]);
        let (found, diagnostics) = findings(dir.path());
        assert!(
            found.is_empty() && diagnostics.is_empty(),
            "{file}: {text}: {found:#?} {diagnostics:#?}"
        );
    }
    let dir = repo(&[
        ("uv.lock", "version = 1\n"),
        ("uv.toml", "exclude-newer = \"2024-01-01T00:00:00Z\"\n"),
    ]);
    assert!(findings(dir.path()).0.is_empty());
}

#[test]
fn malformed_configs_are_errors_and_the_run_goes_on() {
    let dir = repo(&[
        (
            "renovate.json",
            "{\n  \"minimumReleaseAge\": \"3 days\"\n  \"extends\": []\n}\n",
        ),
        ("pyproject.toml", "[tool.uv\nexclude-newer = 3\n"),
        ("Cargo.lock", "version = 4\n"),
    ]);
    let (found, diagnostics) = findings(dir.path());
    assert_eq!(found.len(), 2, "{found:#?}");
    let renovate = diagnostics
        .iter()
        .find(|d| d.path.ends_with("renovate.json"))
        .expect("renovate diagnostic");
    assert_eq!((renovate.level, renovate.line), (Level::Error, Some(3)));
    assert!(
        renovate.message.contains("expected `,` or `}`"),
        "{renovate}"
    );
    let pyproject = diagnostics
        .iter()
        .find(|d| d.path.ends_with("pyproject.toml"))
        .expect("pyproject diagnostic");
    assert_eq!(pyproject.line, Some(1));
}

#[test]
fn no_ecosystem_no_finding() {
    let dir = repo(&[("README.md", "hello\n")]);
    let (found, diagnostics) = findings(dir.path());
    assert!(found.is_empty() && diagnostics.is_empty());
}

#[test]
fn dependabot_include_everything_covers_and_short_cooldowns_are_findings() {
    let dependabot = "\
version: 2
updates:
  - package-ecosystem: npm
    directory: /
    schedule: {interval: weekly}
    cooldown:
      default-days: 7
      include: [\"*\"]
  - package-ecosystem: cargo
    directory: /
    schedule: {interval: weekly}
    cooldown:
      default-days: 2
";
    let dir = repo(&[
        ("package-lock.json", "{\"lockfileVersion\": 3}"),
        ("Cargo.lock", "version = 4\n"),
        (".github/dependabot.yml", dependabot),
    ]);
    let (found, diagnostics) = findings(dir.path());
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    assert_eq!(
        found,
        [(
            ".github/dependabot.yml".to_owned(),
            12,
            "the cooldown for cargo dependencies is too short: the Dependabot entry for `cargo` waits 2 days, less than the 7-day policy".to_owned()
        )]
    );
    // The policy is configurable: with `cooldown-days = 2`, two days are enough.
    let (mut files, _) = ciguard_deps::RepoFiles::discover(dir.path());
    files.shown_root = String::new();
    let config = ciguard_deps::DepsConfig {
        cooldown_days: 2,
        ..ciguard_deps::DepsConfig::default()
    };
    assert!(
        ciguard_deps::configs::check_with(&files, &config)
            .0
            .is_empty()
    );
}

#[test]
fn renovate_presets_managers_and_match_everything() {
    // uv and ruff: the cooldown is in a preset of the organisation's config repository, here
    // present in the repository itself.
    let dir = repo(&[
        ("Cargo.lock", "version = 4\n"),
        ("uv.lock", "version = 1\n"),
        ("package-lock.json", "{\"lockfileVersion\": 3}"),
        (
            "renovate.json5",
            "{extends: ['github>astral-sh/renovate-config//presets/cooldown'], npm: {minimumReleaseAge: '7 days'}, packageRules: [{matchPackageNames: ['*'], matchManagers: ['cargo'], minimumReleaseAge: '14 days'}]}",
        ),
        (
            "presets/cooldown.json",
            "{\"pep621\": {\"minimumReleaseAge\": \"7 days\"}}",
        ),
    ]);
    let (found, diagnostics) = findings(dir.path());
    assert!(
        found.is_empty() && diagnostics.is_empty(),
        "{found:#?} {diagnostics:#?}"
    );

    // The preset is elsewhere: unknown, never "missing".
    std::fs::remove_file(dir.path().join("presets/cooldown.json")).expect("rm");
    let (found, diagnostics) = findings(dir.path());
    assert!(found.is_empty(), "{found:#?}");
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0].level, Level::Warning);
    assert!(diagnostics[0].message.starts_with(
        "unknown: the cooldown for python dependencies may be set in the Renovate preset `github>astral-sh/renovate-config//presets/cooldown`"
    ));
}

#[test]
fn only_the_files_renovate_reads_and_settings_govern_their_directories() {
    let dir = repo(&[
        ("package-lock.json", "{\"lockfileVersion\": 3}"),
        // Renovate reads neither of these.
        ("docs/renovate.json", "{\"minimumReleaseAge\": \"7 days\"}"),
        (
            "web/package.json",
            "{\"renovate\": {\"minimumReleaseAge\": \"7 days\"}}",
        ),
        // A fixture's pnpm setting governs the fixture only.
        (
            "test/fixture/pnpm-workspace.yaml",
            "minimumReleaseAge: 10080\n",
        ),
        ("test/fixture/pnpm-lock.yaml", "lockfileVersion: '9.0'\n"),
    ]);
    let (found, _) = findings(dir.path());
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(
        found[0].0, "package-lock.json",
        "points at the lockfile, not a manifest"
    );
    assert!(found[0].2.starts_with("no cooldown for npm dependencies"));

    std::fs::write(
        dir.path().join("pnpm-workspace.yaml"),
        "minimumReleaseAge: 10080\n",
    )
    .expect("write");
    assert!(findings(dir.path()).0.is_empty());
}

#[test]
fn actions_without_a_dependabot_entry_point_at_dependabot() {
    let dir = repo(&[
        (".github/workflows/ci.yml", WORKFLOW),
        (
            ".github/dependabot.yml",
            "version: 2\nupdates:\n  - package-ecosystem: npm\n    directory: /\n    schedule: {interval: weekly}\n    cooldown: {default-days: 7}\n",
        ),
    ]);
    let (found, _) = findings(dir.path());
    assert_eq!(
        found,
        [(
            ".github/dependabot.yml".to_owned(),
            2,
            "no cooldown for github-actions dependencies: Dependabot has no `github-actions` entry with a `cooldown`, and nothing else configures one".to_owned()
        )]
    );
}
