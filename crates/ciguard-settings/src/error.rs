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
