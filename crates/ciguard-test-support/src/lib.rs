//! Test fakes for ciguard, a dev-dependency only (`publish = false`): one HTTP/1.1 request loop
//! on 127.0.0.1 (`http`) under a git-backed fake GitHub (`github`), a stateful fake of GitHub's
//! App API for `ciguard serve` (`github_app`), fake package registries (`registry`), the
//! settings API table (`settings_api`), and git repositories built for tests (`git`). Nothing
//! here is part of a product crate.

pub mod fixtures;
pub mod git;
pub mod github;
pub mod github_app;
pub mod http;
pub mod registry;
pub mod settings_api;
