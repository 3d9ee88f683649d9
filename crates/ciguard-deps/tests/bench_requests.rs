//! Benchmark: a `package-lock.json` of 3,200 packages (3,000 distinct, 200 of them at two
//! versions) against the fake registry answering after 30 ms, like a registry across the
//! internet. Cold cache, then warm (within the revalidation window), then warm past it (every
//! package revalidated with `If-None-Match`). Reports requests, connections, bytes and wall time.
//! Targets: one request per distinct package cold, over at most `threads` connections; none warm;
//! only conditional requests (304, no body) when revalidating.
//!
//! Run it with `bench/deps-requests.sh`, or
//! `cargo test --release -p ciguard-deps --test bench_requests -- --ignored --nocapture`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ciguard_deps::{ClientOptions, DepsOptions, RegistryClient, RegistryUrls, RepoFiles};
use ciguard_test_support::registry::FakeRegistry;

const DISTINCT: usize = 3_000;
const TWICE: usize = 200;
const LATENCY: Duration = Duration::from_millis(30);
const THREADS: usize = 8;

/// A packument shaped like the registry's: 20 versions with `time`, `dist` and dependencies.
fn packument(name: &str) -> String {
    let mut time = String::from(
        "\"created\": \"2020-01-01T00:00:00.000Z\", \"modified\": \"2025-06-01T00:00:00.000Z\"",
    );
    let mut versions = String::new();
    for minor in 0..20 {
        let v = format!("1.{minor}.0");
        let _ = write!(
            time,
            ", \"{v}\": \"2024-{:02}-01T00:00:00.000Z\"",
            minor % 12 + 1
        );
        if minor > 0 {
            versions.push_str(", ");
        }
        let _ = write!(
            versions,
            "\"{v}\": {{\"name\": \"{name}\", \"version\": \"{v}\", \"dependencies\": {{\"dep-a\": \"^1.0.0\", \"dep-b\": \"^2.1.0\"}}, \"dist\": {{\"tarball\": \"https://registry.npmjs.org/{name}/-/{name}-{v}.tgz\", \"integrity\": \"sha512-{}\", \"shasum\": \"{:040x}\"}}}}",
            "A".repeat(86),
            minor
        );
    }
    format!("{{\"name\": \"{name}\", \"time\": {{{time}}}, \"versions\": {{{versions}}}}}")
}

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn package_lock_3200_packages() {
    let mut routes = HashMap::new();
    let mut lock =
        String::from("{\"lockfileVersion\": 3, \"packages\": {\"\": {\"name\": \"app\"}");
    for i in 0..DISTINCT {
        let name = format!("pkg-{i:04}");
        routes.insert(format!("/{name}"), (200, packument(&name)));
        let versions: &[&str] = if i < TWICE {
            &["1.3.0", "1.4.0"]
        } else {
            &["1.4.0"]
        };
        for (n, v) in versions.iter().enumerate() {
            let key = if n == 0 {
                format!("node_modules/{name}")
            } else {
                format!("node_modules/nested/node_modules/{name}")
            };
            let _ = write!(
                lock,
                ",\n\"{key}\": {{\"version\": \"{v}\", \"resolved\": \"https://registry.npmjs.org/{name}/-/{name}-{v}.tgz\", \"integrity\": \"sha512-x\"}}"
            );
        }
    }
    lock.push_str("}}\n");
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("package-lock.json"), lock).expect("write");
    let cache = tempfile::tempdir().expect("cache");
    let fake = FakeRegistry::start(routes).expect("fake registry");
    fake.set_latency(LATENCY);
    let client = |revalidate_after: Duration| {
        let mut urls = RegistryUrls::default();
        urls.set("npm", &fake.url).expect("url");
        RegistryClient::new(ClientOptions {
            urls,
            cache_dir: Some(cache.path().to_path_buf()),
            threads: THREADS,
            timeout: Duration::from_secs(30),
            revalidate_after,
            ..ClientOptions::default()
        })
    };
    let (files, _) = RepoFiles::discover(repo.path());
    let options = DepsOptions::default();
    println!(
        "package-lock.json: {} packages, {DISTINCT} distinct; fake registry latency {} ms; {THREADS} requests in flight",
        DISTINCT + TWICE,
        LATENCY.as_millis()
    );
    let run = |label: &str, revalidate_after: Duration| {
        fake.reset_hits();
        let c = client(revalidate_after);
        let start = Instant::now();
        let report = ciguard_deps::check_lockfiles(&files, Some(&c), &options);
        let elapsed = start.elapsed();
        let stats = c.stats();
        println!(
            "{label}: {:>5} requests ({} conditional, {} answered 304), {:>2} connections, {:>6} KiB sent (gzip, {} answers), {:>7} KiB of JSON read, {:>6.2} s, {:.0} packages/s, {} versions checked",
            fake.hits(),
            fake.conditional(),
            fake.not_modified(),
            fake.connections(),
            fake.bytes_sent() / 1024,
            fake.gzipped(),
            stats.body_bytes / 1024,
            elapsed.as_secs_f64(),
            (DISTINCT + TWICE) as f64 / elapsed.as_secs_f64(),
            report.checked
        );
        assert_eq!(
            report.checked,
            DISTINCT + TWICE,
            "{:#?}",
            report.diagnostics
        );
        (
            fake.hits(),
            fake.conditional(),
            fake.not_modified(),
            fake.connections(),
        )
    };
    let (hits, _, _, connections) = run("cold cache      ", Duration::from_secs(3600));
    assert_eq!(hits, DISTINCT, "one request per distinct package");
    assert!(connections <= THREADS, "{connections} connections");
    let (hits, ..) = run("warm cache      ", Duration::from_secs(3600));
    assert_eq!(hits, 0, "nothing asked within the revalidation window");
    let (hits, conditional, not_modified, _) = run("warm, revalidate", Duration::ZERO);
    assert_eq!(
        (hits, conditional, not_modified),
        (DISTINCT, DISTINCT, DISTINCT)
    );
}
