//! Errors of the settings crate besides reading answers ([`crate::snapshot::Error`]): an
//! argument or option that is not what it should be, and a write of `apply` that GitHub refused.

/// What went wrong; each message says what was expected.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A target or reviewer argument that does not parse.
    #[error("`{input}`: {expected}")]
    Argument {
        input: String,
        expected: &'static str,
    },
    /// The `[settings]` table does not match the options.
    #[error("[settings]: {message}")]
    Options { message: String },
    /// GitHub answered a write of the plan with an error status.
    #[error(
        "{method} {path}: GitHub answered {status}{}: {message}; {done} of {total} changes applied",
        needs.as_deref().map(|p| format!(" (needs {p})")).unwrap_or_default()
    )]
    Refused {
        method: &'static str,
        path: String,
        status: u16,
        /// `x-accepted-github-permissions`: the permission the token lacks.
        needs: Option<String>,
        message: String,
        done: usize,
        total: usize,
    },
    /// A write of the plan could not be sent.
    #[error("{method} {path}: {source}; {done} of {total} changes applied")]
    Write {
        method: &'static str,
        path: String,
        source: Box<ciguard_github::Error>,
        done: usize,
        total: usize,
    },
}

impl Error {
    pub(crate) fn argument(input: &str, expected: &'static str) -> Self {
        Error::Argument {
            input: input.to_owned(),
            expected,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_write_says_what_it_needs_and_how_far_the_plan_got() {
        let e = Error::Refused {
            method: "PUT",
            path: "repos/o/r/rulesets/1".into(),
            status: 403,
            needs: Some("administration=write".into()),
            message: "Resource not accessible".into(),
            done: 2,
            total: 5,
        };
        assert_eq!(
            e.to_string(),
            "PUT repos/o/r/rulesets/1: GitHub answered 403 (needs administration=write): Resource not accessible; 2 of 5 changes applied"
        );
        assert_eq!(
            Error::argument("x", "expected `owner/repo` or `org:NAME`").to_string(),
            "`x`: expected `owner/repo` or `org:NAME`"
        );
    }
}
