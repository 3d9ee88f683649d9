//! Real git repositories for the fake, driven through the `git` CLI (test support only: the
//! server crate never spawns a process).

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Repo {
    pub dir: PathBuf,
}

impl Repo {
    /// `git init` with branch `main` and a fixed identity.
    pub fn init(dir: &Path) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let repo = Self {
            dir: dir.to_owned(),
        };
        repo.git(&["init", "-q", "-b", "main"])?;
        repo.git(&["config", "user.name", "Fake"])?;
        repo.git(&["config", "user.email", "fake@example.com"])?;
        repo.git(&["config", "commit.gpgsign", "false"])?;
        Ok(repo)
    }

    /// A clone (a fork) in `dir`.
    pub fn fork(&self, dir: &Path) -> Result<Self, String> {
        git_in(
            None,
            &[
                "clone",
                "-q",
                &self.dir.to_string_lossy(),
                &dir.to_string_lossy(),
            ],
        )?;
        let repo = Self {
            dir: dir.to_owned(),
        };
        repo.git(&["config", "user.name", "Forker"])?;
        repo.git(&["config", "user.email", "forker@example.com"])?;
        repo.git(&["config", "commit.gpgsign", "false"])?;
        Ok(repo)
    }

    pub fn git(&self, args: &[&str]) -> Result<String, String> {
        git_in(Some(&self.dir), args).map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    pub fn git_bytes(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        git_in(Some(&self.dir), args)
    }

    /// Writes `files` (path, content) and commits them; the new SHA.
    pub fn commit(&self, files: &[(&str, &str)], message: &str) -> Result<String, String> {
        for (file, content) in files {
            let path = self.dir.join(file);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
            }
            std::fs::write(&path, content).map_err(|e| e.to_string())?;
        }
        self.git(&["add", "-A"])?;
        self.git(&["commit", "-q", "--allow-empty", "-m", message])?;
        self.head()
    }

    pub fn head(&self) -> Result<String, String> {
        self.git(&["rev-parse", "HEAD"])
            .map(|s| s.trim().to_owned())
    }
}

fn git_in(dir: Option<&Path>, args: &[&str]) -> Result<Vec<u8>, String> {
    let mut cmd = Command::new("git");
    if let Some(dir) = dir {
        cmd.arg("-C").arg(dir);
    }
    cmd.args(args)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_TERMINAL_PROMPT", "0");
    let out = cmd.output().map_err(|e| format!("cannot run git: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}
