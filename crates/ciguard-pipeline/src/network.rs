//! What the report says when requests to GitHub failed: one diagnosis per cause (DNS, refused
//! connection, TLS, bad credentials, rate limit, network budget) with the next step, instead of a
//! note per request blaming its endpoint.

use ciguard_github::{Cause, Client};

/// `notes` without those explained by a cause the client met, followed by one note per cause
/// and, when some of the `asked` repositories were not `resolved`, which checks that skips.
pub fn diagnose(client: &Client, notes: Vec<String>, asked: usize, resolved: usize) -> Vec<String> {
    if client.network_failures().is_empty() {
        return notes;
    }
    let mut kept = explain(client, notes);
    if resolved < asked {
        kept.push(format!(
            "online: {} of {asked} action repositories could not be read; the online audits are skipped for them",
            asked - resolved
        ));
    }
    kept
}

/// `notes` without those explained by a cause the client met, followed by one note per cause
/// with the next step.
pub fn explain(client: &Client, notes: Vec<String>) -> Vec<String> {
    let failures = client.network_failures();
    if failures.is_empty() {
        return notes;
    }
    let mut kept: Vec<String> = notes
        .into_iter()
        .filter(|n| !client.is_network_failure_note(n))
        .collect();
    for f in failures {
        // A rate limit's own message says how long GitHub asked to wait and why ciguard did not.
        let detail = if f.cause == Cause::RateLimit {
            f.first
        } else {
            format!("the first: {}", f.url)
        };
        kept.push(format!(
            "online: {}: {} failed or were not sent ({detail}); {}",
            f.cause.summary(),
            ciguard_core::plural::count(f.count, "request", "requests"),
            f.cause.next_step()
        ));
    }
    kept
}

/// Online checks were asked for but none could run: there were refs to resolve, none was
/// resolved, and a cause shared by the requests is known.
pub fn nothing_ran(client: &Client, asked: usize, resolved: usize) -> bool {
    asked > 0 && resolved == 0 && !client.network_failures().is_empty()
}
