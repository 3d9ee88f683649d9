//! Container image digests through the Docker Registry HTTP API v2: a manifest `HEAD`, after the
//! anonymous bearer-token dance when the registry asks for it (`WWW-Authenticate: Bearer
//! realm=...,service=...,scope=...`). The GitHub token is never sent to a registry.

use std::time::Duration;

use crate::error::Error;

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// `[registry/]name[:tag][@digest]` split up; Docker Hub names get their `library/` prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef {
    /// Host (and port) of the registry; `None` for Docker Hub.
    pub registry: Option<String>,
    pub name: String,
    pub tag: String,
    pub digest: Option<String>,
}

impl ImageRef {
    /// `None` for values that are not an image reference (empty, expressions, spaces).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.trim().strip_prefix("docker://").unwrap_or(s.trim());
        if s.is_empty() || s.contains("${{") || s.contains(char::is_whitespace) {
            return None;
        }
        let (rest, digest) = match s.split_once('@') {
            Some((r, d)) => (r, Some(d.to_owned())),
            None => (s, None),
        };
        let (first, remainder) = rest.split_once('/').unwrap_or(("", rest));
        let (registry, path) = if !first.is_empty()
            && (first.contains('.') || first.contains(':') || first == "localhost")
        {
            (Some(first.to_owned()), remainder)
        } else {
            (None, rest)
        };
        let (path, tag) = match path.rsplit_once(':') {
            Some((p, t)) if !t.contains('/') => (p, t),
            _ => (path, "latest"),
        };
        if path.is_empty() || tag.is_empty() {
            return None;
        }
        let name = if registry.is_none() && !path.contains('/') {
            format!("library/{path}")
        } else {
            path.to_owned()
        };
        Some(Self {
            registry,
            name: name.to_ascii_lowercase(),
            tag: tag.to_owned(),
            digest,
        })
    }
}

/// A registry client; `base_url` overrides where every image is looked up (a mirror, or tests).
#[derive(Debug)]
pub struct Registry {
    agent: ciguard_http::Agent,
    base_url: Option<String>,
    requests: ciguard_http::RequestCounter,
}

impl Registry {
    pub fn new(base_url: Option<String>, timeout: Duration) -> Self {
        // Follows redirects itself: a blob store's redirect carries no token of ours.
        let agent = ciguard_http::AgentOptions {
            timeout,
            redirects: ciguard_http::Redirects::Follow,
            ..ciguard_http::AgentOptions::default()
        }
        .build();
        Self {
            agent,
            base_url: base_url.map(|u| u.trim_end_matches('/').to_owned()),
            requests: ciguard_http::RequestCounter::default(),
        }
    }

    pub fn request_count(&self) -> usize {
        self.requests.get()
    }

    fn base(&self, image: &ImageRef) -> String {
        match (&self.base_url, &image.registry) {
            (Some(base), _) => base.clone(),
            (None, Some(host)) => format!("https://{host}"),
            (None, None) => "https://registry-1.docker.io".to_owned(),
        }
    }

    /// The `sha256:...` digest `image:tag` currently names.
    pub fn digest(&self, image: &ImageRef) -> Result<String, Error> {
        let url = format!(
            "{}/v2/{}/manifests/{}",
            self.base(image),
            image.name,
            image.tag
        );
        let (status, headers) = self.head(&url, None)?;
        let (status, headers) = if status == 401 {
            let challenge = header(&headers, "www-authenticate").unwrap_or_default();
            let token = self.token(&url, &challenge, &image.name)?;
            self.head(&url, Some(&token))?
        } else {
            (status, headers)
        };
        match status {
            200 => header(&headers, "docker-content-digest")
                .filter(|d| d.starts_with("sha256:"))
                .ok_or_else(|| Error::Registry {
                    url: url.clone(),
                    message: "the registry sent no Docker-Content-Digest",
                }),
            404 => Err(Error::Status {
                url,
                status,
                message: "no such image or tag".into(),
            }),
            status => Err(Error::Status {
                url,
                status,
                message: "the registry refused the manifest request".into(),
            }),
        }
    }

    fn head(&self, url: &str, token: Option<&str>) -> Result<(u16, Vec<(String, String)>), Error> {
        self.requests.add();
        let mut req = self.agent.head(url).header("accept", ACCEPT);
        if let Some(t) = token {
            req = req.header("authorization", format!("Bearer {t}"));
        }
        let resp = req.call().map_err(|e| Error::Transport {
            url: url.to_owned(),
            message: e.to_string(),
            attempts: 1,
            cause: crate::error::classify(&e),
        })?;
        Ok((resp.status().as_u16(), headers(resp.headers())))
    }

    /// An anonymous pull token from the challenge's realm.
    fn token(&self, url: &str, challenge: &str, name: &str) -> Result<String, Error> {
        let params = parse_challenge(challenge);
        let get = |k: &str| {
            params
                .iter()
                .find(|(pk, _)| pk == k)
                .map(|(_, v)| v.clone())
        };
        let realm = get("realm").ok_or_else(|| Error::Registry {
            url: url.to_owned(),
            message: "the registry asked for a token without saying where to get one",
        })?;
        let scope = get("scope").unwrap_or_else(|| format!("repository:{name}:pull"));
        let mut token_url = format!("{realm}?scope={scope}");
        if let Some(service) = get("service") {
            token_url.push_str(&format!("&service={service}"));
        }
        self.requests.add();
        let mut resp = self
            .agent
            .get(&token_url)
            .call()
            .map_err(|e| Error::Transport {
                url: realm.clone(),
                message: e.to_string(),
                attempts: 1,
                cause: crate::error::classify(&e),
            })?;
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_vec()
            .map_err(|e| Error::Transport {
                url: realm.clone(),
                message: e.to_string(),
                attempts: 1,
                cause: crate::error::classify(&e),
            })?;
        let body: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| Error::Decode {
                url: realm.clone(),
                message: e.to_string(),
            })?;
        body.get("token")
            .or_else(|| body.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_owned)
            .ok_or_else(|| Error::Decode {
                url: realm,
                message: "no token in the answer".into(),
            })
    }
}

fn headers(h: &ciguard_http::http::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// `Bearer realm="x",service="y"` into pairs.
fn parse_challenge(challenge: &str) -> Vec<(String, String)> {
    let rest = challenge
        .trim()
        .strip_prefix("Bearer")
        .unwrap_or(challenge)
        .trim();
    let mut out = Vec::new();
    let chars = rest.char_indices();
    let mut start = 0;
    let mut in_quotes = false;
    let mut parts = Vec::new();
    for (i, c) in chars {
        if c == '"' {
            in_quotes = !in_quotes;
        } else if c == ',' && !in_quotes {
            parts.push(&rest[start..i]);
            start = i + 1;
        }
    }
    parts.push(&rest[start..]);
    for part in parts {
        if let Some((k, v)) = part.split_once('=') {
            out.push((
                k.trim().to_ascii_lowercase(),
                v.trim().trim_matches('"').to_owned(),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_image_references() {
        let i = ImageRef::parse("docker://alpine:3.19").unwrap();
        assert_eq!(
            (i.registry, i.name.as_str(), i.tag.as_str()),
            (None, "library/alpine", "3.19")
        );
        let i = ImageRef::parse("ghcr.io/owner/img").unwrap();
        assert_eq!(
            (i.registry.as_deref(), i.name.as_str(), i.tag.as_str()),
            (Some("ghcr.io"), "owner/img", "latest")
        );
        let i = ImageRef::parse("localhost:5000/x:1@sha256:ab").unwrap();
        assert_eq!(
            (i.registry.as_deref(), i.tag.as_str(), i.digest.as_deref()),
            (Some("localhost:5000"), "1", Some("sha256:ab"))
        );
        assert!(ImageRef::parse("${{ matrix.image }}").is_none());
    }

    #[test]
    fn parses_challenges() {
        let p = parse_challenge(
            "Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/alpine:pull\"",
        );
        assert_eq!(
            p[0],
            ("realm".into(), "https://auth.docker.io/token".into())
        );
        assert_eq!(
            p[2],
            ("scope".into(), "repository:library/alpine:pull".into())
        );
    }
}
