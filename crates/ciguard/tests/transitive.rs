//! Transitive auditing end to end against the fake GitHub server: the actions and reusable
//! workflows a workflow uses are fetched at their resolved commit and audited, recursively, and
//! their findings reported at the `uses:` that leads to them with the chain.

use std::path::Path;
use std::process::Command;

use ciguard_test_support::git::GitRepo;
use ciguard_test_support::github::FakeGitHub;

const DATE: &str = "2024-01-01T00:00:00Z";

struct World {
    server: FakeGitHub,
    wrapper: String,
    clean: String,
    missing: String,
    docker: String,
    broken: String,
    reusable: String,
    dir: tempfile::TempDir,
}

fn composite(steps: &str) -> String {
    format!("name: x\ndescription: x\nruns:\n  using: composite\n  steps:\n{steps}")
}

/// `acme/wrapper@W` (composite) uses `acme/inner@v1` (a tag) and pipes curl into sh;
/// `acme/inner@v1` uses `acme/wrapper@W` again (a cycle) and `acme/leaf@main` (a branch);
/// `acme/leaf@main` pipes curl into bash. `acme/clean@C` is a clean node action,
/// `acme/missing@M` has no action.yml, `acme/docker@D` runs the unpinned image `alpine:3`,
/// `acme/broken@B`'s action.yml is not YAML, and `acme/workflows/.github/workflows/build.yml@R`
/// is a reusable workflow using `actions/checkout@v4`.
fn world() -> World {
    let dir = tempfile::tempdir().unwrap();
    let server = FakeGitHub::start().unwrap();
    let repo = |name: &str| GitRepo::init(&dir.path().join(name)).unwrap();

    let wrapper_repo = repo("wrapper");
    let wrapper = wrapper_repo
        .commit(
            "action.yml",
            &composite(
                "    - uses: acme/inner@v1\n    - run: curl -fsSL https://example.com/install.sh | sh\n      shell: bash\n",
            ),
            "wrapper",
            DATE,
        )
        .unwrap();
    wrapper_repo.tag("v1.0.0", &wrapper).unwrap();
    server.add_repo("acme/wrapper", &wrapper_repo);

    let inner_repo = repo("inner");
    let inner = inner_repo
        .commit(
            "action.yml",
            &composite(&format!(
                "    - uses: acme/wrapper@{wrapper} # v1.0.0\n    - uses: acme/leaf@main\n"
            )),
            "inner",
            DATE,
        )
        .unwrap();
    inner_repo.tag("v1", &inner).unwrap();
    server.add_repo("acme/inner", &inner_repo);

    let leaf_repo = repo("leaf");
    leaf_repo
        .commit(
            "action.yaml",
            &composite(
                "    - run: curl -sSL https://example.com/tool.sh | bash\n      shell: bash\n",
            ),
            "leaf",
            DATE,
        )
        .unwrap();
    server.add_repo("acme/leaf", &leaf_repo);

    let clean_repo = repo("clean");
    let clean = clean_repo
        .commit(
            "action.yml",
            "name: clean\ndescription: clean\nruns:\n  using: node20\n  main: index.js\n",
            "clean",
            DATE,
        )
        .unwrap();
    clean_repo.tag("v1.0.0", &clean).unwrap();
    server.add_repo("acme/clean", &clean_repo);

    let missing_repo = repo("missing");
    let missing = missing_repo
        .commit("README.md", "no action here\n", "readme", DATE)
        .unwrap();
    missing_repo.tag("v1.0.0", &missing).unwrap();
    server.add_repo("acme/missing", &missing_repo);

    let docker_repo = repo("docker");
    let docker = docker_repo
        .commit(
            "action.yml",
            "name: docker\ndescription: docker\nruns:\n  using: docker\n  image: docker://alpine:3\n",
            "docker",
            DATE,
        )
        .unwrap();
    docker_repo.tag("v1.0.0", &docker).unwrap();
    server.add_repo("acme/docker", &docker_repo);

    let broken_repo = repo("broken");
    let broken = broken_repo
        .commit("action.yml", "name: broken\nruns: [\n", "broken", DATE)
        .unwrap();
    broken_repo.tag("v1.0.0", &broken).unwrap();
    server.add_repo("acme/broken", &broken_repo);

    let workflows_repo = repo("workflows");
    workflows_repo
        .commit(
            ".github/workflows/inner.yml",
            "on:\n  workflow_call:\npermissions: {}\njobs:\n  fetch:\n    runs-on: ubuntu-latest\n    steps:\n      - run: curl -sSL https://example.com/x.sh | sh\n",
            "inner workflow",
            DATE,
        )
        .unwrap();
    let reusable = workflows_repo
        .commit(
            ".github/workflows/build.yml",
            "on:\n  workflow_call:\npermissions: {}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n  nested:\n    uses: ./.github/workflows/inner.yml\n",
            "reusable",
            DATE,
        )
        .unwrap();
    workflows_repo.tag("v1.0.0", &reusable).unwrap();
    server.add_repo("acme/workflows", &workflows_repo);

    let checkout_repo = repo("checkout");
    let checkout = checkout_repo
        .commit(
            "action.yml",
            "name: checkout\ndescription: checkout\nruns:\n  using: node20\n  main: index.js\n",
            "checkout",
            DATE,
        )
        .unwrap();
    checkout_repo.tag("v4", &checkout).unwrap();
    server.add_repo("actions/checkout", &checkout_repo);

    World {
        server,
        wrapper,
        clean,
        missing,
        docker,
        broken,
        reusable,
        dir,
    }
}

fn workflow(w: &World, wrapper_comment: &str) -> String {
    format!(
        "on: push\npermissions: {{}}\njobs:\n  build:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: acme/wrapper@{} # v1.0.0{wrapper_comment}\n      - uses: acme/clean@{} # v1.0.0\n      - uses: acme/missing@{} # v1.0.0\n      - uses: acme/docker@{} # v1.0.0\n      - uses: acme/broken@{} # v1.0.0\n  reuse:\n    uses: acme/workflows/.github/workflows/build.yml@{} # v1.0.0\n",
        w.wrapper, w.clean, w.missing, w.docker, w.broken, w.reusable
    )
}

fn repo_with(text: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let p = dir.path().join(".github/workflows/ci.yml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
    dir
}

fn audit(w: &World, args: &[&str], dir: &Path, token: bool) -> (i32, serde_json::Value) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ciguard"));
    cmd.arg("audit")
        .args(["--no-config", "--format", "json", "--github-api-url"])
        .arg(w.server.url())
        .arg("--cache-dir")
        .arg(w.dir.path().join("cache"))
        .args(args)
        .arg(dir)
        .env_remove("GH_TOKEN")
        .env_remove("GITHUB_TOKEN")
        .env_remove("GITHUB_API_URL");
    if token {
        cmd.env("GH_TOKEN", "ghp_TRANSITIVESECRET");
    }
    let out = cmd.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stdout.contains("TRANSITIVESECRET") && !stderr.contains("TRANSITIVESECRET"));
    let json = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), json)
}

/// `(audit, line of the primary location, chain)` of every finding inside a dependency.
fn chained(report: &serde_json::Value) -> Vec<(String, u64, String)> {
    let mut out: Vec<(String, u64, String)> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| {
            // The first entry is the audited file's path as given (absolute here).
            let chain: Vec<&str> = f["chain"]
                .as_array()?
                .iter()
                .filter_map(|c| c.as_str())
                .enumerate()
                .map(|(i, c)| match c.find(".github/") {
                    Some(at) if i == 0 => &c[at..],
                    _ => c,
                })
                .collect();
            if chain.is_empty() {
                return None;
            }
            Some((
                f["audit"].as_str()?.to_owned(),
                f["primary"]["start"]["line"].as_u64()?,
                chain.join(" -> "),
            ))
        })
        .collect();
    out.sort();
    out
}

fn notes(report: &serde_json::Value) -> Vec<String> {
    report["notes"]
        .as_array()
        .map(|n| {
            n.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn expected(w: &World, depth: usize) -> Vec<(String, u64, String)> {
    let ci = ".github/workflows/ci.yml";
    let wrapper = format!("{ci} -> acme/wrapper@{}", w.wrapper);
    let mut out = vec![
        ("mutable-downloads".to_owned(), 7, wrapper.clone()),
        ("unpinned-uses".to_owned(), 7, wrapper.clone()),
        (
            "unpinned-images".to_owned(),
            10,
            format!("{ci} -> acme/docker@{}", w.docker),
        ),
        (
            "unpinned-uses".to_owned(),
            13,
            format!(
                "{ci} -> acme/workflows/.github/workflows/build.yml@{}",
                w.reusable
            ),
        ),
    ];
    if depth >= 2 {
        // A local call in a dependency's reusable workflow: same repository, same commit.
        out.push((
            "mutable-downloads".to_owned(),
            13,
            format!(
                "{ci} -> acme/workflows/.github/workflows/build.yml@{r} -> acme/workflows/.github/workflows/inner.yml@{r}",
                r = w.reusable
            ),
        ));
        out.push((
            "unpinned-uses".to_owned(),
            7,
            format!("{wrapper} -> acme/inner@v1"),
        ));
    }
    if depth >= 3 {
        out.push((
            "mutable-downloads".to_owned(),
            7,
            format!("{wrapper} -> acme/inner@v1 -> acme/leaf@main"),
        ));
    }
    out.sort();
    out
}

#[test]
fn dependencies_are_audited_recursively_with_chains_and_a_warm_cache_sends_no_file_request() {
    let w = world();
    let repo = repo_with(&workflow(&w, ""));
    let (_, report) = audit(&w, &[], repo.path(), true);
    assert_eq!(chained(&report), expected(&w, 3), "{report:#}");
    let notes = notes(&report);
    // The missing and the broken action.yml are notes, not failures; the cycle back to
    // acme/wrapper ended.
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("transitive: `acme/missing@")
                && n.contains("no action.yml or action.yaml")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("transitive: `acme/broken@") && n.ends_with("; not audited")),
        "{notes:#?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("transitive: 8 dependency files audited (depth 3)")),
        "{notes:#?}"
    );
    assert_eq!(report["summary"]["diagnostics"], 0);
    for n in notes.iter().filter(|n| n.contains(" request")) {
        println!("{n}");
    }
    // Each dependency file is fetched once, at its commit: wrapper, inner, leaf (action.yml
    // then action.yaml), clean, missing (both names), the Docker action, the broken one, the
    // reusable workflow, the workflow it calls locally, and the checkout it uses. The cycle back to acme/wrapper fetches nothing more.
    let requests = w.server.requests();
    let contents: Vec<&str> = requests
        .iter()
        .filter(|r| r.path.contains("/contents/"))
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(contents.len(), 12, "{contents:#?}");
    assert!(contents.iter().all(|p| {
        let sha = p.rsplit("ref=").next().unwrap_or_default();
        sha.len() == 40
    }));
    let cold = requests.len();

    // Warm: immutable files come from the cache; the rest is revalidated.
    w.server.clear_log();
    let (_, warm_report) = audit(&w, &[], repo.path(), true);
    assert_eq!(chained(&warm_report), expected(&w, 3));
    let warm = w.server.requests();
    assert!(
        warm.iter().all(|r| r.conditional || r.status != 200),
        "{warm:#?}"
    );
    // Files at a commit SHA, found or not, are never asked for again.
    assert!(
        warm.iter().all(|r| !r.path.contains("/contents/")),
        "{warm:#?}"
    );
    println!(
        "transitive audit requests: cold {cold}, warm {}",
        warm.len()
    );

    // The clean pinned node action (line 8) contributes nothing, even to the auditor persona.
    let (_, auditor) = audit(&w, &["--persona", "auditor"], repo.path(), true);
    assert!(
        chained(&auditor).iter().all(|(_, line, _)| *line != 8),
        "{auditor:#}"
    );
}

#[test]
fn depth_limits_how_far_dependencies_are_followed() {
    let w = world();
    let repo = repo_with(&workflow(&w, ""));
    for depth in [1, 2] {
        let (_, report) = audit(
            &w,
            &["--transitive-depth", &depth.to_string()],
            repo.path(),
            true,
        );
        assert_eq!(chained(&report), expected(&w, depth), "depth {depth}");
    }
    w.server.clear_log();
    let (_, report) = audit(&w, &["--transitive-depth", "0"], repo.path(), true);
    assert!(chained(&report).is_empty());
    assert!(
        w.server
            .requests()
            .iter()
            .all(|r| !r.path.contains("/contents/")),
        "depth 0 fetches no file"
    );
}

#[test]
fn an_ignore_on_the_uses_line_silences_that_dependency_audit() {
    let w = world();
    let repo = repo_with(&workflow(&w, " # ciguard: ignore[mutable-downloads]"));
    let (_, report) = audit(&w, &[], repo.path(), true);
    let got = chained(&report);
    // Both mutable downloads reached through line 7 (in acme/wrapper and in acme/leaf) are
    // silenced; other audits there, and other lines, are not.
    assert!(
        got.iter()
            .all(|(a, l, _)| !(a == "mutable-downloads" && *l == 7)),
        "{got:#?}"
    );
    assert!(got.iter().any(|(a, l, _)| a == "unpinned-uses" && *l == 7));
    assert!(
        got.iter()
            .any(|(a, l, _)| a == "mutable-downloads" && *l == 13)
    );
    let all = report["findings"].as_array().unwrap();
    assert!(
        all.iter().all(|f| f["audit"] != "unused-ignore"),
        "{report:#}"
    );
    assert!(report["summary"]["suppressed"].as_u64().unwrap() >= 2);

    // Offline the ignore suppresses nothing, but it is not reported as unused: it sits on a
    // `uses:` line, and what it silences is only seen online.
    let (_, report) = audit(&w, &["--persona", "pedantic"], repo.path(), false);
    assert!(chained(&report).is_empty());
    let all = report["findings"].as_array().unwrap();
    assert!(
        all.iter().all(|f| f["audit"] != "unused-ignore"),
        "{report:#}"
    );
    assert!(
        notes(&report)
            .iter()
            .any(|n| n.starts_with("skipped (need the network)")
                && n.contains("transitive auditing")),
    );
}

#[test]
fn outputs_show_the_chain_and_sarif_points_at_the_dependency_by_url() {
    let w = world();
    let repo = repo_with(&workflow(&w, ""));
    // The fake server answers under `/api/v3` too, like GitHub Enterprise Server, whose web
    // addresses are known.
    let run = |format: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_ciguard"))
            .arg("audit")
            .args(["--no-config", "--color", "never", "--format", format])
            .arg("--github-api-url")
            .arg(format!("{}/api/v3", w.server.url().trim_end_matches('/')))
            .arg("--cache-dir")
            .arg(w.dir.path().join("cache"))
            .arg(repo.path())
            .env("GH_TOKEN", "ghp_x")
            .env_remove("GITHUB_TOKEN")
            .env_remove("GITHUB_API_URL")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let plain = run("plain");
    assert!(
        plain.contains(&format!(
            "/.github/workflows/ci.yml -> acme/wrapper@{} -> acme/inner@v1 -> acme/leaf@main",
            w.wrapper
        )),
        "{plain}"
    );
    assert!(plain.contains("in `acme/leaf@main`: "), "{plain}");
    // The dependency's line is a related location named like a remote file.
    assert!(plain.contains(":action.yaml:"), "{plain}");
    assert!(plain.contains("acme/leaf@"), "{plain}");
    let sarif: serde_json::Value = serde_json::from_str(&run("sarif")).unwrap();
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let chained: Vec<&serde_json::Value> = results
        .iter()
        .filter(|r| r["properties"]["chain"].is_array())
        .collect();
    assert_eq!(chained.len(), 7);
    for r in chained {
        // The result is on the audited workflow; the dependency's file is a related location
        // linked by its web address at the commit (no bogus local artifact).
        let uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.ends_with(".github/workflows/ci.yml"), "{uri}");
        let related = r["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            related.starts_with(w.server.url().trim_end_matches('/'))
                && related.contains("/acme/")
                && related.contains("/blob/"),
            "{related}"
        );
    }
}
