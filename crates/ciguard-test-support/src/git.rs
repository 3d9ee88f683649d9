//! Git repositories for tests, built with the `git` CLI: a fixed identity, no signing, commits
//! with chosen dates, lightweight and annotated tags, branches and forks.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A git repository on disk, driven through the `git` CLI.
#[derive(Debug, Clone)]
pub struct GitRepo {
    pub dir: PathBuf,
}

impl GitRepo {
    /// `git init` with branch `main` and a fixed identity.
    pub fn init(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let repo = Self {
            dir: dir.to_owned(),
        };
        repo.git(&["init", "-q", "-b", "main"])?;
        repo.git(&["config", "user.name", "Fake"])?;
        repo.git(&["config", "user.email", "fake@example.com"])?;
        repo.git(&["config", "commit.gpgsign", "false"])?;
        repo.git(&["config", "tag.gpgsign", "false"])?;
        Ok(repo)
    }

    /// A clone sharing nothing but history (a fork).
    pub fn fork(&self, dir: &Path) -> io::Result<Self> {
        run_git(
            None,
            &[
                "clone",
                "-q",
                &self.dir.to_string_lossy(),
                &dir.to_string_lossy(),
            ],
            &[],
        )?;
        let repo = Self {
            dir: dir.to_owned(),
        };
        repo.git(&["config", "user.name", "Forker"])?;
        repo.git(&["config", "user.email", "forker@example.com"])?;
        Ok(repo)
    }

    pub fn git(&self, args: &[&str]) -> io::Result<String> {
        run_git(Some(&self.dir), args, &[])
    }

    /// Writes `file` and commits it with author and committer date `date` (RFC 3339); the SHA.
    pub fn commit(
        &self,
        file: &str,
        content: &str,
        message: &str,
        date: &str,
    ) -> io::Result<String> {
        let path = self.dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::write(&path, content)?;
        self.git(&["add", "-A"])?;
        run_git(
            Some(&self.dir),
            &["commit", "-q", "-m", message],
            &[("GIT_AUTHOR_DATE", date), ("GIT_COMMITTER_DATE", date)],
        )?;
        self.head()
    }

    pub fn head(&self) -> io::Result<String> {
        self.git(&["rev-parse", "HEAD"])
            .map(|s| s.trim().to_owned())
    }

    /// A lightweight tag, moved if it exists.
    pub fn tag(&self, name: &str, target: &str) -> io::Result<()> {
        self.git(&["tag", "-f", name, target]).map(|_| ())
    }

    /// An annotated tag, moved if it exists.
    pub fn annotated_tag(&self, name: &str, target: &str, message: &str) -> io::Result<()> {
        self.git(&["tag", "-f", "-a", name, "-m", message, target])
            .map(|_| ())
    }

    pub fn branch(&self, name: &str, target: &str) -> io::Result<()> {
        self.git(&["branch", "-f", name, target]).map(|_| ())
    }
}

pub(crate) fn run_git(
    dir: Option<&Path>,
    args: &[&str],
    env: &[(&str, &str)],
) -> io::Result<String> {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    if !out.status.success() {
        return Err(io::Error::other(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Builds an action repository with one commit per version, each tagged `vX.Y.Z`, and the moving
/// tags `vX` and `vX.Y` pointing at the newest commit of their line. `versions` are
/// `(version, RFC 3339 date)`, oldest first. Returns the repository and each version's commit.
pub fn action_repo(
    dir: &Path,
    name: &str,
    versions: &[(&str, &str)],
) -> io::Result<(GitRepo, Vec<String>)> {
    let repo = GitRepo::init(dir)?;
    let mut shas = Vec::new();
    for (version, date) in versions {
        let sha = repo.commit(
            "action.yml",
            &format!("name: {name}\ndescription: {name} {version}\nruns:\n  using: node20\n  main: index.js\n"),
            &format!("release {version}"),
            date,
        )?;
        repo.tag(version, &sha)?;
        let parts: Vec<&str> = version.split('.').collect();
        for n in 1..parts.len() {
            repo.tag(&parts[..n].join("."), &sha)?;
        }
        shas.push(sha);
    }
    Ok((repo, shas))
}
