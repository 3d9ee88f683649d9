//! Flags shared by subcommands that talk to GitHub (`#[command(flatten)]` them).

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use ciguard_github::{ClientConfig, Token};

#[derive(Debug, Clone, clap::Args)]
#[command(next_help_heading = "GitHub and network")]
pub struct GithubArgs {
    /// GitHub API base URL [default: $GITHUB_API_URL, else https://api.github.com].
    #[arg(long, value_name = "URL")]
    pub github_api_url: Option<String>,

    /// API token [default: $GH_TOKEN, else $GITHUB_TOKEN]. Never printed.
    #[arg(long, value_name = "TOKEN", value_parser = parse_token)]
    pub gh_token: Option<Token>,

    /// Cache directory [default: $XDG_CACHE_HOME/ciguard or ~/.cache/ciguard].
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,

    /// Do not read or write the on-disk cache.
    #[arg(long)]
    pub no_cache: bool,

    /// Send no request at all (answers come from the cache, if any).
    #[arg(long)]
    pub offline: bool,

    /// Longest total wait for rate limits, in seconds, before giving up.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub max_wait: u64,

    /// Longest time, in seconds, the whole run may spend on the network; after it no request
    /// is sent and the online checks still missing their facts are skipped.
    #[arg(long, value_name = "SECONDS", default_value_t = 120)]
    pub network_budget: u64,
}

impl GithubArgs {
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::from_flags(
            self.github_api_url.as_deref(),
            self.gh_token.as_ref().map(Token::expose),
            self.cache_dir.clone(),
            self.no_cache,
            self.offline,
        );
        config.max_wait = Duration::from_secs(self.max_wait);
        // One budget for the whole run: a second client (remote inputs, then online checks)
        // gets what the first left.
        let started = *RUN_STARTED.get_or_init(Instant::now);
        config.network_budget =
            Duration::from_secs(self.network_budget).saturating_sub(started.elapsed());
        config
    }
}

/// When the first client of the run was configured: where `--network-budget` starts.
static RUN_STARTED: OnceLock<Instant> = OnceLock::new();

/// Kept as a [`Token`] so that printing the arguments (`{:?}`) never shows it.
fn parse_token(s: &str) -> Result<Token, String> {
    Token::new(s).ok_or_else(|| "the token is empty".to_owned())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        github: super::GithubArgs,
    }

    #[test]
    fn debug_output_hides_the_token() {
        let cli = Cli::parse_from(["x", "--gh-token", "ghp_FLAGSECRET", "--no-cache"]);
        assert!(!format!("{cli:?}").contains("FLAGSECRET"));
        let config = cli.github.client_config();
        assert_eq!(
            config.token.as_ref().map(|t| t.expose()),
            Some("ghp_FLAGSECRET")
        );
        assert!(config.cache_dir.is_none());
    }
}
