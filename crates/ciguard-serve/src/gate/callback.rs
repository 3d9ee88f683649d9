//! The `deployment_callback_url` is the one URL in a delivery the App would send a token to.
//! It is accepted only when it is exactly the review endpoint of this repository and run under
//! the configured API base (same scheme, host and port; the path under the base's path), and the
//! review is then sent to the path built here, never to the delivered string.

use ureq::http::Uri;

/// The review endpoint of run `run_id` of `repository` (`owner/name`), relative to the API base.
pub fn review_path(repository: &str, run_id: u64) -> String {
    format!("/repos/{repository}/actions/runs/{run_id}/deployment_protection_rule")
}

/// The run id in a callback URL of the documented shape, for routing (not a validation).
pub fn run_id_of(url: &str) -> Option<u64> {
    let rest = url.split("/actions/runs/").nth(1)?;
    rest.split('/').next()?.parse().ok()
}

/// Scheme, lowercase host, port (the scheme's default when absent) and path.
fn parts(url: &str) -> Result<(String, String, u16, String), String> {
    if url
        .bytes()
        .any(|b| b.is_ascii_control() || b == b' ' || b == b'\\' || b == b'%')
    {
        return Err("it holds control characters, spaces, backslashes or escapes".into());
    }
    let uri: Uri = url.parse().map_err(|_| "it is not a URL".to_owned())?;
    let scheme = uri
        .scheme_str()
        .ok_or("it has no scheme")?
        .to_ascii_lowercase();
    let authority = uri.authority().ok_or("it has no host")?;
    if authority.as_str().contains('@') {
        return Err("it carries user information".into());
    }
    let port = match (authority.port_u16(), scheme.as_str()) {
        (Some(port), _) => port,
        (None, "https") => 443,
        (None, "http") => 80,
        _ => return Err(format!("scheme {scheme} is not http or https")),
    };
    if uri.query().is_some() || url.contains('#') {
        return Err("it has a query or a fragment".into());
    }
    Ok((
        scheme,
        authority.host().to_ascii_lowercase(),
        port,
        uri.path().to_owned(),
    ))
}

/// Checks `url` against `api_base`: the review target (a path under the base) when it is the
/// review endpoint of `repository`'s run `run_id`; else why not, for the dead job's reason.
pub fn check(api_base: &str, url: &str, repository: &str, run_id: u64) -> Result<String, String> {
    let shown = || {
        ciguard_core::output::escape::text(&url.chars().take(200).collect::<String>()).into_owned()
    };
    let refuse = |why: String| {
        Err(format!(
            "deployment_callback_url {} refused: {why}; no request was sent to it",
            shown()
        ))
    };
    if run_id == 0 {
        return refuse("the delivery names no workflow run".into());
    }
    let (scheme, host, port, path) = match parts(url) {
        Ok(p) => p,
        Err(why) => return refuse(why),
    };
    let Ok((base_scheme, base_host, base_port, base_path)) = parts(api_base) else {
        return refuse("the configured API base is not a URL".into());
    };
    if (scheme.as_str(), host.as_str(), port)
        != (base_scheme.as_str(), base_host.as_str(), base_port)
    {
        return refuse(format!(
            "it is not on the API base {base_scheme}://{base_host}:{base_port}"
        ));
    }
    let expected = review_path(repository, run_id);
    let base_path = base_path.trim_end_matches('/');
    let relative = path.strip_prefix(base_path).unwrap_or("");
    // GitHub treats owner and repository names case-insensitively.
    if !relative.eq_ignore_ascii_case(&expected) {
        return refuse(format!(
            "its path is not {base_path}{expected}, the review endpoint of this repository and run"
        ));
    }
    Ok(expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str =
        "https://api.github.com/repos/o/r/actions/runs/77/deployment_protection_rule";

    #[test]
    fn only_this_runs_review_endpoint_under_the_base_passes() {
        let base = "https://api.github.com";
        assert_eq!(
            check(base, GOOD, "o/r", 77).unwrap(),
            "/repos/o/r/actions/runs/77/deployment_protection_rule"
        );
        assert!(check(base, &GOOD.replace("/o/r/", "/O/R/"), "o/r", 77).is_ok());
        assert!(check("https://api.github.com:443/", GOOD, "o/r", 77).is_ok());
        let refused = [
            GOOD.replace("api.github.com", "evil.example"),
            GOOD.replace("https://", "http://"),
            GOOD.replace("api.github.com", "api.github.com:8443"),
            GOOD.replace("api.github.com", "user@api.github.com"),
            GOOD.replace("/o/r/", "/o/other/"),
            GOOD.replace("/77/", "/78/"),
            GOOD.replace("/77/", "/77/../78/"),
            GOOD.replace("/repos", "/repos/%2e%2e"),
            format!("{GOOD}?x=1"),
            format!("{GOOD}#x"),
            format!("{GOOD}/extra"),
            "https://api.github.com/repos/o/r/deployments/1".into(),
            "not a url".into(),
        ];
        for url in &refused {
            let err = check(base, url, "o/r", 77).unwrap_err();
            assert!(err.contains("no request was sent"), "{url}: {err}");
        }
        assert!(check(base, GOOD, "o/r", 0).is_err());
    }

    #[test]
    fn enterprise_server_bases_keep_their_path() {
        let base = "https://ghe.example/api/v3";
        let url = "https://ghe.example/api/v3/repos/o/r/actions/runs/5/deployment_protection_rule";
        assert!(check(base, url, "o/r", 5).is_ok());
        let outside = "https://ghe.example/repos/o/r/actions/runs/5/deployment_protection_rule";
        assert!(check(base, outside, "o/r", 5).is_err());
        let shown = check(base, "https://ghe.example/\u{1b}[31m", "o/r", 5).unwrap_err();
        assert!(!shown.contains('\u{1b}'), "{shown}");
    }

    #[test]
    fn run_ids_are_read_from_the_documented_shape() {
        assert_eq!(run_id_of(GOOD), Some(77));
        assert_eq!(run_id_of("https://x/deployments/1"), None);
    }
}
