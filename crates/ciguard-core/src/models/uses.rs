//! The `uses:` reference grammar: local paths, Docker images, and `owner/repo[/path]@ref`.

/// A parsed `uses:` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uses<'a> {
    /// `./path/to/action` (or a local reusable workflow), or `$/path` (this repository at the
    /// running commit).
    Local(&'a str),
    /// `docker://image[:tag][@digest]`.
    Docker(DockerImage<'a>),
    /// `owner/repo[/path]@ref`.
    Repository(RepositoryUses<'a>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryUses<'a> {
    pub owner: &'a str,
    pub repo: &'a str,
    /// Subpath inside the repository (an action in a subfolder or a reusable workflow file).
    pub path: Option<&'a str>,
    /// The ref after `@`; `None` when missing.
    pub git_ref: Option<&'a str>,
}

impl RepositoryUses<'_> {
    /// `owner/repo`, the unit of pinning policy and of API lookups.
    pub fn slug(&self) -> String {
        format!("{}/{}", self.owner, self.repo)
    }

    /// `owner/repo[/path]` without the ref.
    pub fn name(&self) -> String {
        match self.path {
            Some(p) => format!("{}/{}/{p}", self.owner, self.repo),
            None => self.slug(),
        }
    }

    /// A reusable workflow call (`.github/workflows/x.yml`).
    pub fn is_reusable_workflow(&self) -> bool {
        self.path
            .is_some_and(|p| p.ends_with(".yml") || p.ends_with(".yaml"))
    }

    pub fn is_sha_pinned(&self) -> bool {
        self.git_ref.is_some_and(is_full_sha)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerImage<'a> {
    pub image: &'a str,
    pub digest: Option<&'a str>,
}

impl<'a> DockerImage<'a> {
    pub fn parse(reference: &'a str) -> Self {
        match reference.split_once('@') {
            Some((image, digest)) => Self {
                image,
                digest: Some(digest),
            },
            None => Self {
                image: reference,
                digest: None,
            },
        }
    }

    pub fn is_digest_pinned(&self) -> bool {
        self.digest.is_some_and(|d| {
            d.strip_prefix("sha256:")
                .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
    }
}

/// A full 40-hex (SHA-1) or 64-hex (SHA-256) commit id.
pub fn is_full_sha(s: &str) -> bool {
    (s.len() == 40 || s.len() == 64) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl<'a> Uses<'a> {
    /// Parses a `uses:` value; `None` when it is not any valid form.
    pub fn parse(value: &'a str) -> Option<Self> {
        let value = value.trim();
        // `$/path` is GitHub's self-repository syntax: this repository at the running commit.
        if value.starts_with("./") || value == "." || value.starts_with("$/") {
            return Some(Uses::Local(value));
        }
        if let Some(image) = value.strip_prefix("docker://") {
            return Some(Uses::Docker(DockerImage::parse(image)));
        }
        let (name, git_ref) = match value.split_once('@') {
            Some((name, r)) => (name, Some(r)),
            None => (value, None),
        };
        let mut parts = name.splitn(3, '/');
        let owner = parts.next().filter(|s| !s.is_empty())?;
        let repo = parts.next().filter(|s| !s.is_empty())?;
        let path = parts.next().filter(|s| !s.is_empty());
        Some(Uses::Repository(RepositoryUses {
            owner,
            repo,
            path,
            git_ref: git_ref.filter(|r| !r.is_empty()),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        assert_eq!(Uses::parse("./local"), Some(Uses::Local("./local")));
        let Some(Uses::Repository(r)) = Uses::parse("github/codeql-action/init@v3") else {
            panic!()
        };
        assert_eq!(
            (r.owner, r.repo, r.path, r.git_ref),
            ("github", "codeql-action", Some("init"), Some("v3"))
        );
        let Some(Uses::Repository(r)) = Uses::parse("o/r/.github/workflows/x.yml@main") else {
            panic!()
        };
        assert!(r.is_reusable_workflow());
        let Some(Uses::Docker(d)) = Uses::parse(
            "docker://alpine@sha256:0000000000000000000000000000000000000000000000000000000000000000",
        ) else {
            panic!()
        };
        assert!(d.is_digest_pinned());
        assert!(is_full_sha("8e5e7e5ab8b370d6c329ec480221332ada57f0ab"));
        assert!(!is_full_sha("8e5e7e5"));
        assert_eq!(Uses::parse("noslash"), None);
    }
}
