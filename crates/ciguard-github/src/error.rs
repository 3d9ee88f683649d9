//! Client errors. Every message says what failed, where, and what to do; none contains the token
//! (the client redacts every message it builds from a response or a transport error).

use std::fmt;

/// Why requests failed, when the reason is not the one request's: one diagnosis per cause, with
/// the next step, instead of one note per request blaming its own endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Cause {
    /// The API host name does not resolve.
    Dns,
    /// Nothing listens at the API address.
    ConnectionRefused,
    /// The TLS handshake failed (certificate, protocol, or not a TLS server).
    Tls,
    /// GitHub did not answer within the per-request timeout.
    Timeout,
    /// GitHub answered 401: the token is invalid, expired or revoked.
    BadCredentials,
    /// A primary or secondary rate limit that could not be waited out.
    RateLimit,
    /// The whole run's network budget is spent.
    Deadline,
}

impl Cause {
    /// What happened, in a few words.
    pub fn summary(self) -> &'static str {
        match self {
            Cause::Dns => "the GitHub API host name does not resolve",
            Cause::ConnectionRefused => "the GitHub API refused the connection",
            Cause::Tls => "the TLS connection to the GitHub API failed",
            Cause::Timeout => "the GitHub API did not answer in time",
            Cause::BadCredentials => "GitHub rejected the token (401 Bad credentials)",
            Cause::RateLimit => "GitHub's rate limit stopped the requests",
            Cause::Deadline => "the network budget of the run is spent",
        }
    }

    /// What the user can do about it.
    pub fn next_step(self) -> &'static str {
        match self {
            Cause::Dns => {
                "check the network (DNS) and the URL given by --github-api-url / GITHUB_API_URL"
            }
            Cause::ConnectionRefused => {
                "check the URL and port given by --github-api-url / GITHUB_API_URL, and any proxy or firewall"
            }
            Cause::Tls => {
                "check that --github-api-url / GITHUB_API_URL names an https server with a valid certificate (a proxy that intercepts TLS needs its CA trusted)"
            }
            Cause::Timeout => "try again later, or check the network's latency to GitHub",
            Cause::BadCredentials => {
                "replace the token given by --gh-token, GH_TOKEN or GITHUB_TOKEN (it may have expired or been revoked)"
            }
            Cause::RateLimit => {
                "try again later, lower the concurrency, or use a token with a higher limit"
            }
            Cause::Deadline => "raise --network-budget, or try again when GitHub answers faster",
        }
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.summary(), self.next_step())
    }
}

/// The cause of a transport error, when ureq tells it apart.
pub(crate) fn classify(e: &ciguard_http::Error) -> Option<Cause> {
    match e {
        ciguard_http::Error::HostNotFound => Some(Cause::Dns),
        ciguard_http::Error::Timeout(_) => Some(Cause::Timeout),
        ciguard_http::Error::Tls(_)
        | ciguard_http::Error::Rustls(_)
        | ciguard_http::Error::Pem(_) => Some(Cause::Tls),
        ciguard_http::Error::Io(io) => match io.kind() {
            std::io::ErrorKind::ConnectionRefused => Some(Cause::ConnectionRefused),
            // std's resolver reports a failed lookup as an uncategorised I/O error.
            _ if io.to_string().contains("failed to lookup address") => Some(Cause::Dns),
            std::io::ErrorKind::TimedOut => Some(Cause::Timeout),
            // rustls reports handshake failures as I/O errors wrapping its own.
            std::io::ErrorKind::InvalidData
                if io.get_ref().is_some_and(|inner| {
                    let text = inner.to_string().to_ascii_lowercase();
                    [
                        "tls",
                        "certificate",
                        "handshake",
                        "alert",
                        "peer",
                        "corrupt message",
                    ]
                    .iter()
                    .any(|w| text.contains(w))
                }) =>
            {
                Some(Cause::Tls)
            }
            _ => None,
        },
        _ => None,
    }
}

/// What went wrong talking to GitHub.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{url}: not fetched because ciguard runs offline (drop --offline to allow requests)")]
    Offline { url: String },
    #[error("{url}: {message} (after {attempts} attempts; {})", transport_advice(*cause))]
    Transport {
        url: String,
        message: String,
        attempts: u32,
        cause: Option<Cause>,
    },
    #[error("{url}: GitHub answered {status} (server error) {attempts} times; try again later")]
    Server {
        url: String,
        status: u16,
        attempts: u32,
    },
    #[error("{url}: {message}")]
    RateLimited { url: String, message: String },
    #[error(
        "{url}: not fetched: the network budget of {budget_secs} s is spent (raise it with --network-budget)"
    )]
    Deadline { url: String, budget_secs: u64 },
    /// A request not sent because an earlier one met a cause that fails every request.
    #[error("{url}: not fetched: {}", cause.summary())]
    Halted { url: String, cause: Cause },
    #[error("{url}: GitHub answered {status}: {message}")]
    Status {
        url: String,
        status: u16,
        message: String,
    },
    #[error("{url}: the answer is not the JSON expected: {message}")]
    Decode { url: String, message: String },
    /// A list whose pages did not add up to the count GitHub gave: not silently partial.
    #[error("{url}: {message}")]
    Incomplete { url: String, message: String },
    #[error(
        "{url}: refused to follow a link outside {api_url} (it would carry the token elsewhere)"
    )]
    ForeignUrl { url: String, api_url: String },
    #[error(
        "{url}: GitHub redirected to {target}, another host, scheme or port than {api_url}; not followed, so the token stays with {api_url}"
    )]
    ForeignRedirect {
        url: String,
        /// Scheme, host and port only: the rest of the target is not echoed.
        target: String,
        api_url: String,
    },
    #[error("{url}: more than {max} redirects; not followed further")]
    TooManyRedirects { url: String, max: u32 },
    #[error("cannot encode the request body: {0}")]
    Encode(#[source] serde_json::Error),
    /// A container registry's answer that does not follow the distribution protocol.
    #[error("{url}: {message}")]
    Registry { url: String, message: &'static str },
    /// A file of the contents API that cannot be read as text.
    #[error("`{path}`{problem}")]
    Content {
        path: String,
        problem: ContentProblem,
    },
}

/// Why a file from the contents API was not used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContentProblem {
    #[error(" is too large for the contents API")]
    TooLargeForApi,
    #[error(": invalid base64 content")]
    InvalidBase64,
    #[error(" is larger than {0} bytes")]
    TooLarge(usize),
}

fn transport_advice(cause: Option<Cause>) -> String {
    match cause {
        Some(cause) => cause.to_string(),
        None => "check the network and the URL given by --github-api-url / GITHUB_API_URL".into(),
    }
}

impl Error {
    /// The HTTP status, for errors that have one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Server { status, .. } | Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The URL the error is about, when it has one.
    pub fn url(&self) -> Option<&str> {
        match self {
            Error::Offline { url }
            | Error::Transport { url, .. }
            | Error::Server { url, .. }
            | Error::RateLimited { url, .. }
            | Error::Deadline { url, .. }
            | Error::Halted { url, .. }
            | Error::Status { url, .. }
            | Error::Decode { url, .. }
            | Error::Incomplete { url, .. }
            | Error::ForeignUrl { url, .. }
            | Error::ForeignRedirect { url, .. }
            | Error::TooManyRedirects { url, .. }
            | Error::Registry { url, .. } => Some(url),
            Error::Encode(_) | Error::Content { .. } => None,
        }
    }

    /// The cause shared with other requests, if this error has one.
    pub fn cause(&self) -> Option<Cause> {
        match self {
            Error::Transport { cause, .. } => *cause,
            Error::RateLimited { .. } => Some(Cause::RateLimit),
            Error::Deadline { .. } => Some(Cause::Deadline),
            Error::Halted { cause, .. } => Some(*cause),
            Error::Status { status: 401, .. } => Some(Cause::BadCredentials),
            _ => None,
        }
    }
}
