//! Benchmark: a `Cargo.lock` of 400 packages (380 distinct crates, 20 of them at two versions)
//! against the fake registry, cold cache then warm. Target: one request per distinct crate cold,
//! none warm. Run it with `bench/deps-requests.sh`, or
//! `cargo test --release -p ciguard-deps --test bench_requests -- --ignored --nocapture`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

use ciguard_deps::fake::FakeRegistry;
use ciguard_deps::{ClientOptions, DepsOptions, RegistryClient, RegistryUrls, RepoFiles};

const DISTINCT: usize = 380;
const TWICE: usize = 20;

#[test]
#[ignore = "benchmark: run with --ignored --nocapture"]
fn cargo_lock_400_packages() {
    let mut routes = HashMap::new();
    let mut lock = String::from("version = 4\n");
    for i in 0..DISTINCT {
        let name = format!("crate-{i:03}");
        let mut index = String::new();
        for minor in 0..3 {
            let _ = writeln!(
                index,
                "{{\"name\":\"{name}\",\"vers\":\"1.{minor}.0\",\"deps\":[],\"cksum\":\"00\",\"features\":{{}},\"yanked\":false,\"pubtime\":\"2025-0{}-01T00:00:00Z\"}}",
                minor + 1
            );
        }
        routes.insert(format!("/cr/at/{name}"), (200, index));
        let versions: &[&str] = if i < TWICE {
            &["1.1.0", "1.2.0"]
        } else {
            &["1.2.0"]
        };
        for v in versions {
            let _ = write!(
                lock,
                "\n[[package]]\nname = \"{name}\"\nversion = \"{v}\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n"
            );
        }
    }
    let repo = tempfile::tempdir().expect("tempdir");
    std::fs::write(repo.path().join("Cargo.lock"), lock).expect("write");
    let cache = tempfile::tempdir().expect("cache");
    let fake = FakeRegistry::start(routes).expect("fake registry");
    let client = || {
        let mut urls = RegistryUrls::default();
        urls.set("crates-io", &fake.url).expect("url");
        RegistryClient::new(ClientOptions {
            urls,
            cache_dir: Some(cache.path().to_path_buf()),
            offline: false,
            threads: 8,
            timeout: Duration::from_secs(10),
            ..ClientOptions::default()
        })
    };
    let (files, _) = RepoFiles::discover(repo.path());
    let options = DepsOptions::default();

    let cold = client();
    let start = Instant::now();
    let report = ciguard_deps::check_lockfiles(&files, Some(&cold), &options);
    let cold_time = start.elapsed();
    assert_eq!(report.packages, DISTINCT + TWICE);
    assert_eq!(report.checked, DISTINCT + TWICE);

    let warm = client();
    let start = Instant::now();
    let again = ciguard_deps::check_lockfiles(&files, Some(&warm), &options);
    let warm_time = start.elapsed();
    assert_eq!(again.checked, DISTINCT + TWICE);

    println!(
        "Cargo.lock: {} packages, {DISTINCT} distinct crates",
        DISTINCT + TWICE
    );
    println!(
        "cold cache: {:>4} requests ({} served), {:>7.1} ms",
        cold.requests(),
        fake.hits(),
        cold_time.as_secs_f64() * 1000.0
    );
    println!(
        "warm cache: {:>4} requests, {:>7.1} ms",
        warm.requests(),
        warm_time.as_secs_f64() * 1000.0
    );
    assert_eq!(cold.requests(), DISTINCT, "one request per distinct crate");
    assert_eq!(warm.requests(), 0, "no request with a warm cache");
}
