//! PEP 440 version normalisation, so `1.0.0-Alpha1` in a lockfile finds `1.0.0a1` on PyPI.
//! Only what lookup needs: a canonical string; no ordering.

/// The canonical form of a PEP 440 version, with trailing `.0` release segments dropped (PEP 440
/// compares `1.0` and `1.0.0` as equal). `None` when `v` is not a PEP 440 version.
pub fn canonical(v: &str) -> Option<String> {
    let v = v.trim().to_ascii_lowercase();
    let v = v.strip_prefix('v').unwrap_or(&v);
    let (public, local) = match v.split_once('+') {
        Some((p, l)) => (p, Some(l)),
        None => (v, None),
    };
    let (epoch, rest) = match public.split_once('!') {
        Some((e, r)) => (Some(number(e)?), r),
        None => (None, public),
    };
    let release_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let mut release: Vec<u64> = rest[..release_end]
        .trim_end_matches('.')
        .split('.')
        .map(number)
        .collect::<Option<_>>()?;
    while release.len() > 1 && release.last() == Some(&0) {
        release.pop();
    }
    let mut out = String::new();
    if let Some(e) = epoch.filter(|e| *e != 0) {
        out.push_str(&format!("{e}!"));
    }
    out.push_str(
        &release
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join("."),
    );
    let mut tail = &rest[release_end..];
    // Pre-release, post-release and development parts, each at most once, in this order.
    for (spellings, canonical_tag, implicit_post) in [
        (
            &["alpha", "beta", "preview", "pre", "rc", "a", "b", "c"][..],
            "",
            false,
        ),
        (&["post", "rev", "r"][..], ".post", true),
        (&["dev"][..], ".dev", false),
    ] {
        let t = tail.trim_start_matches(['.', '-', '_']);
        let found = spellings.iter().find(|s| t.starts_with(**s));
        if let Some(spelling) = found {
            let after = t[spelling.len()..].trim_start_matches(['.', '-', '_']);
            let digits = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            let n = if digits == 0 {
                0
            } else {
                number(&after[..digits])?
            };
            let tag = match *spelling {
                "alpha" | "a" => "a",
                "beta" | "b" => "b",
                "c" | "pre" | "preview" | "rc" => "rc",
                _ => canonical_tag,
            };
            out.push_str(&format!("{tag}{n}"));
            tail = &after[digits..];
        } else if implicit_post && tail.starts_with('-') {
            // `1.0-1` is the post-release `1.0.post1`.
            let after = &tail[1..];
            let digits = after
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(after.len());
            if digits == 0 {
                return None;
            }
            out.push_str(&format!(".post{}", number(&after[..digits])?));
            tail = &after[digits..];
        }
    }
    if !tail.is_empty() {
        return None;
    }
    if let Some(local) = local {
        let parts: Vec<String> = local
            .split(['.', '-', '_'])
            .map(|p| match p.parse::<u64>() {
                Ok(n) => Some(n.to_string()),
                Err(_) if !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()) => {
                    Some(p.to_owned())
                }
                Err(_) => None,
            })
            .collect::<Option<_>>()?;
        out.push('+');
        out.push_str(&parts.join("."));
    }
    Some(out)
}

fn number(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn normalises_the_spellings_of_pep_440() {
        for (given, want) in [
            ("1.0.0", "1"),
            ("1.0", "1"),
            ("v2.01.3", "2.1.3"),
            ("1.0.0-Alpha1", "1a1"),
            ("1.0a.1", "1a1"),
            ("2.0.0b", "2b0"),
            ("1.0c2", "1rc2"),
            ("1.0.0-preview.3", "1rc3"),
            ("1.0-1", "1.post1"),
            ("1.0.post", "1.post0"),
            ("1.0-r2", "1.post2"),
            ("1.0.dev3", "1.dev3"),
            ("1.0rc1.post2.dev3", "1rc1.post2.dev3"),
            ("0!1.2", "1.2"),
            ("1!1.2", "1!1.2"),
            ("1.2+Ubuntu-1", "1.2+ubuntu.1"),
            ("2024.10.1", "2024.10.1"),
        ] {
            assert_eq!(canonical(given).as_deref(), Some(want), "{given}");
        }
        for bad in ["", "abc", "1.0..x", "1.0+", "1.0-", "1.0 garbage"] {
            assert_eq!(canonical(bad), None, "{bad}");
        }
    }
}
