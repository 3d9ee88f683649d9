//! Ruleset ref patterns matched the way GitHub matches them. GitHub's docs ("Creating rulesets for
//! a repository", "Using fnmatch syntax"): "Because GitHub uses the `File::FNM_PATHNAME` flag for
//! the `File.fnmatch` syntax, the `*` wildcard does not match directory separators (`/`)", and
//! "You cannot use the backslash (`\`) character as a quoting character", "`File::FNM_EXTGLOB` is
//! not supported". So this is Ruby's `File.fnmatch(pattern, ref, File::FNM_PATHNAME)` (dir.c,
//! `fnmatch` and `fnmatch_helper`) with a backslash read as itself:
//!
//! - `*` matches any run of characters within one `/`-separated segment; `**` not followed by `/`
//!   is the same as `*`;
//! - `**/` at the start of a segment matches zero or more whole segments;
//! - `?` matches one character other than `/`; `[set]` one character of the set (ranges `a-z`,
//!   negation with `!` or `^`), never `/`;
//! - no wildcard matches a `.` at the start of a segment (no `FNM_DOTMATCH`).
//!
//! Not shared with `ciguard-core`'s `shell::supply` file-name glob: that one is the shell's `*`
//! within one file name; this one is GitHub's ruleset semantics over whole refs.
//!
//! Iterative, with at most one backtrack point per level, as Ruby's: cost is bounded by the
//! product of the two lengths, never exponential.

/// Whether `pattern` matches `text` (a full ref such as `refs/heads/main`).
pub fn fnmatch(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = text.chars().collect();
    let (mut pi, mut si) = (0, 0);
    // Where the last `**/` left off, to retry with one more segment swallowed.
    let mut globstar: Option<(usize, usize)> = None;
    loop {
        if p[pi..].starts_with(&['*', '*', '/']) {
            while p[pi..].starts_with(&['*', '*', '/']) {
                pi += 3;
            }
            globstar = Some((pi, si));
        }
        if let Some((p_end, s_end)) = segment(&p, pi, &s, si) {
            // A segment matched (a trailing `*` may leave part of the text segment unread).
            let s_end = s_end + s[s_end..].iter().take_while(|c| **c != '/').count();
            match (p.get(p_end), s.get(s_end)) {
                (Some(_), Some(_)) => {
                    pi = p_end + 1;
                    si = s_end + 1;
                    continue;
                }
                (None, None) => return true,
                _ => {}
            }
        }
        // Let the last `**/` swallow one more segment, unless that segment is hidden.
        let Some((gp, gs)) = globstar else {
            return false;
        };
        if s.get(gs) == Some(&'.') {
            return false;
        }
        let Some(slash) = s[gs..].iter().position(|c| *c == '/') else {
            return false;
        };
        pi = gp;
        si = gs + slash + 1;
        globstar = Some((gp, si));
    }
}

/// Matches one segment of `p` (from `pi` to the next `/` or the end) against one of `s`; where
/// each ended, or `None`.
fn segment(p: &[char], mut pi: usize, s: &[char], mut si: usize) -> Option<(usize, usize)> {
    let end = |chars: &[char], i: usize| chars.get(i).is_none_or(|c| *c == '/');
    if s.get(si) == Some(&'.') && p.get(pi) != Some(&'.') {
        return None;
    }
    // Where the last `*` was, to retry with it swallowing one more character.
    let mut star: Option<(usize, usize)> = None;
    loop {
        let step = match p.get(pi) {
            Some('*') => {
                while p.get(pi) == Some(&'*') {
                    pi += 1;
                }
                if end(p, pi) {
                    return Some((pi, si));
                }
                if end(s, si) {
                    return None;
                }
                star = Some((pi, si));
                continue;
            }
            Some('?') if !end(s, si) => {
                pi += 1;
                si += 1;
                true
            }
            Some('?') => return None,
            Some('[') if !end(s, si) => match bracket(p, pi + 1, s[si]) {
                Some(next) => {
                    pi = next;
                    si += 1;
                    true
                }
                None => false,
            },
            Some('[') => return None,
            _ if end(s, si) => return end(p, pi).then_some((pi, si)),
            _ if end(p, pi) => false,
            Some(c) if *c == s[si] => {
                pi += 1;
                si += 1;
                true
            }
            _ => false,
        };
        if step {
            continue;
        }
        let (sp, ss) = star?;
        pi = sp;
        si = ss + 1;
        star = Some((sp, si));
    }
}

/// Matches `c` against the set that starts at `p[pi]` (after `[`); the index after `]`, or
/// `None` when `c` is not in the set or the set is not closed.
fn bracket(p: &[char], mut pi: usize, c: char) -> Option<usize> {
    let negated = matches!(p.get(pi), Some('!' | '^'));
    if negated {
        pi += 1;
    }
    let mut hit = false;
    loop {
        let first = *p.get(pi)?;
        if first == ']' {
            break;
        }
        pi += 1;
        if p.get(pi) == Some(&'-') && p.get(pi + 1).is_some_and(|n| *n != ']') {
            let last = *p.get(pi + 1)?;
            pi += 2;
            hit |= (first..=last).contains(&c) || c == first || c == last;
        } else {
            hit |= c == first;
        }
    }
    (hit != negated).then_some(pi + 1)
}

#[cfg(test)]
mod tests {
    use super::fnmatch;

    /// `(pattern, ref, GitHub's verdict)`, with where each case comes from.
    const CASES: &[(&str, &str, bool)] = &[
        // GitHub docs, "Using fnmatch syntax": "`qa/*` will match all branches beginning with
        // `qa/` and containing a single slash, but will not match `qa/foo/bar`".
        ("qa/*", "qa/x", true),
        ("qa/*", "qa/foo/bar", false),
        // ... "You can include any number of slashes after `qa` with `qa/**/*`, which would
        // match, for example, `qa/foo/bar/foobar/hello-world`".
        ("qa/**/*", "qa/foo/bar/foobar/hello-world", true),
        ("qa/**/*", "qa/x", true),
        // ... "You can also extend the `qa` string with `qa**/**/*`".
        ("qa**/**/*", "qa-team/foo/bar", true),
        ("qa**/**/*", "qa/foo", true),
        // GitHub docs (branch protection): "`releases/**/*`" to match everything under
        // `releases/`; with full refs as rulesets store them.
        ("refs/heads/releases/**/*", "refs/heads/releases/v1", true),
        (
            "refs/heads/releases/**/*",
            "refs/heads/releases/v1/hotfix",
            true,
        ),
        ("refs/heads/releases/**/*", "refs/heads/release", false),
        ("refs/heads/**/*", "refs/heads/main", true),
        ("refs/heads/**/*", "refs/heads/a/b", true),
        // `**` not followed by `/` is a plain `*` (Ruby dir.c: only `**/` recurses).
        ("refs/heads/**", "refs/heads/main", true),
        ("refs/heads/**", "refs/heads/a/b", false),
        // GitHub docs: "`*release*`" protects any branch containing the word release.
        ("refs/heads/*release*", "refs/heads/pre-release-2", true),
        ("refs/heads/*release*", "refs/heads/rel", false),
        // Ruby File.fnmatch docs: `File.fnmatch('*', '/', File::FNM_PATHNAME) #=> false`,
        // `File.fnmatch('?', '/', File::FNM_PATHNAME) #=> false`,
        // `File.fnmatch('[/]', '/', File::FNM_PATHNAME) #=> false`.
        ("*", "/", false),
        ("?", "/", false),
        ("[/]", "/", false),
        // Ruby: `File.fnmatch('cat', 'category') #=> false`, `File.fnmatch('c?t', 'cat') #=> true`,
        // `File.fnmatch('c??t', 'cat') #=> false`, `File.fnmatch('ca[a-z]', 'cat') #=> true`,
        // `File.fnmatch('ca[^t]', 'cat') #=> false`, `File.fnmatch('cat', 'CAT') #=> false`.
        ("cat", "category", false),
        ("c?t", "cat", true),
        ("c??t", "cat", false),
        ("ca[a-z]", "cat", true),
        ("ca[^t]", "cat", false),
        ("ca[!t]", "cab", true),
        ("cat", "CAT", false),
        // Ruby: `File.fnmatch('**/foo', 'a/b/c/foo', File::FNM_PATHNAME) #=> true`,
        // `File.fnmatch('**/foo', '/a/b/c/foo', File::FNM_PATHNAME) #=> true`,
        // `File.fnmatch('**/foo', 'a/.b/c/foo', File::FNM_PATHNAME) #=> false`.
        ("**/foo", "a/b/c/foo", true),
        ("**/foo", "/a/b/c/foo", true),
        ("**/foo", "a/.b/c/foo", false),
        // Ruby: `File.fnmatch('*', '.profile') #=> false`, `File.fnmatch('.*', '.profile') #=> true`.
        ("*", ".profile", false),
        (".*", ".profile", true),
        // Character classes in rulesets: `refs/tags/v[0-9]*`.
        ("refs/tags/v[0-9]*", "refs/tags/v1.2.3", true),
        ("refs/tags/v[0-9]*", "refs/tags/vnext", false),
        ("refs/tags/v[0-9]*", "refs/heads/v1", false),
        // An unclosed set matches nothing (Ruby's `bracket` returns NULL).
        ("refs/heads/[ab", "refs/heads/[ab", false),
        // Backslash is not a quoting character on GitHub.
        ("a\\b", "a\\b", true),
        ("", "", true),
        ("", "x", false),
    ];

    #[test]
    fn ruleset_patterns_match_as_on_github() {
        for (pattern, text, expected) in CASES {
            assert_eq!(
                fnmatch(pattern, text),
                *expected,
                "fnmatch({pattern:?}, {text:?})"
            );
        }
    }

    #[test]
    fn hostile_patterns_cost_a_product_of_lengths_at_most() {
        let pattern = format!("{}b", "*a".repeat(2000));
        let text = "a".repeat(4000);
        assert!(!fnmatch(&pattern, &text));
        let deep = format!("{}x", "**/".repeat(2000));
        assert!(!fnmatch(&deep, &"a/".repeat(2000)));
    }
}
