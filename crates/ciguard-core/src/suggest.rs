//! "Did you mean" suggestions for names a user mistyped (audit ids, configuration keys).

/// Levenshtein distance over characters.
pub fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(cur)
            };
            prev = cur;
        }
    }
    row[b.len()]
}

/// The candidates within a small edit distance of `wanted`, or containing it, closest first.
pub fn close_matches<'a>(
    wanted: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Vec<&'a str> {
    let mut scored: Vec<(usize, &'a str)> = candidates
        .into_iter()
        .filter_map(|c| {
            let d = distance(wanted, c);
            let limit = (c.len() / 3).max(2);
            let contains = wanted.len() >= 4 && (c.contains(wanted) || wanted.contains(c));
            (d <= limit || contains).then_some((d, c))
        })
        .collect();
    scored.sort();
    scored.dedup();
    scored.into_iter().take(5).map(|(_, c)| c).collect()
}

/// ` (did you mean `a`?)`-style hint, empty when nothing is close.
pub fn did_you_mean<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    match close_matches(wanted, candidates).first() {
        Some(best) => format!("; did you mean `{best}`?"),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("same", "same"), 0);
    }

    #[test]
    fn suggests_the_closest_name_only_when_close() {
        assert_eq!(
            close_matches("artipaked", ["artipacked", "unpinned-uses"]),
            vec!["artipacked"]
        );
        assert_eq!(
            did_you_mean("audit", ["audits", "deps"]),
            "; did you mean `audits`?"
        );
        assert_eq!(did_you_mean("zzzzzzzz", ["audits", "deps"]), "");
    }
}
