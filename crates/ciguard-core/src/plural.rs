//! `1 job`, `2 jobs`: counts in messages, never `job(s)`.

/// `n` followed by the singular or plural noun.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_form_by_number() {
        assert_eq!(count(0, "job", "jobs"), "0 jobs");
        assert_eq!(count(1, "job", "jobs"), "1 job");
        assert_eq!(count(2, "repository", "repositories"), "2 repositories");
    }
}
