//! Redirects are followed only on the origin (scheme, host and port) the client was configured
//! with: a token sent to `api.github.com` must not follow a `Location` to another host.

/// A redirect to another origin, not followed. `origin` is the target's scheme, host and port
/// only (the rest is not echoed); `None` when the location cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForeignRedirect {
    pub origin: Option<String>,
}

/// `scheme://host[:port]` of an `http` or `https` URL.
pub fn origin(url: &str) -> Option<&str> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))?;
    let authority_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    if authority_len == 0 {
        return None;
    }
    Some(&url[..url.len() - rest.len() + authority_len])
}

/// The absolute URL a redirect's `location` names, when it keeps the origin of `base`; a
/// path-only location is resolved against that origin.
pub fn same_origin_target(base: &str, location: &str) -> Result<String, ForeignRedirect> {
    let base_origin = origin(base);
    let target = if location.starts_with('/') && !location.starts_with("//") {
        format!("{}{location}", base_origin.unwrap_or_default())
    } else {
        location.to_owned()
    };
    match (origin(&target), base_origin) {
        (Some(to), Some(from)) if to.eq_ignore_ascii_case(from) => Ok(target),
        (to, _) => Err(ForeignRedirect {
            origin: to.map(str::to_owned),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://api.github.com/repos/a"),
            Some("https://api.github.com")
        );
        assert_eq!(
            origin("http://127.0.0.1:8080?x"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin("https:///x"), None);
        assert_eq!(origin("ftp://host/x"), None);
    }

    #[test]
    fn only_the_same_origin_is_followed() {
        let base = "https://ghe.example.com/api/v3";
        assert_eq!(
            same_origin_target(base, "/api/v3/repositories/1").as_deref(),
            Ok("https://ghe.example.com/api/v3/repositories/1")
        );
        assert_eq!(
            same_origin_target(base, "https://GHE.example.com/x").as_deref(),
            Ok("https://GHE.example.com/x")
        );
        for foreign in [
            "https://evil.example/x",
            "http://ghe.example.com/x",
            "https://ghe.example.com:8443/x",
            "//evil.example/x",
        ] {
            assert!(same_origin_target(base, foreign).is_err(), "{foreign}");
        }
        assert_eq!(
            same_origin_target(base, "https://evil.example/steal?token=x"),
            Err(ForeignRedirect {
                origin: Some("https://evil.example".into())
            })
        );
    }
}
