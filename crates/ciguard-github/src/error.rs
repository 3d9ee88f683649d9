//! Client errors. Every message says what failed, where, and what to do; none contains the token
//! (the client redacts every message it builds from a response or a transport error).

/// What went wrong talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url}: not fetched because ciguard runs offline (drop --offline to allow requests)")]
    Offline { url: String },
    #[error(
        "{url}: {message} (after {attempts} attempts; check the network, the URL given by --github-api-url / GITHUB_API_URL, or raise the timeout)"
    )]
    Transport {
        url: String,
        message: String,
        attempts: u32,
    },
    #[error("{url}: GitHub answered {status} (server error) {attempts} times; try again later")]
    Server {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("{url}: {message}")]
    RateLimited { url: String, message: String },
    #[error("{url}: GitHub answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: the answer is not the JSON expected: {message}")]
    Decode { url: String, message: String },
    #[error(
        "{url}: refused to follow a link outside {api_url} (it would carry the token elsewhere)"
    )]
    ForeignUrl { url: String, api_url: String },
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Server { status, .. } | Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }
}
