//! How registry answers are cached and fetched: publish times for good, yank status revalidated
//! with `ETag`s, negative answers for a bounded time, connections reused, answers compressed.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use ciguard_deps::{ClientOptions, Ecosystem, Lookup, RegistryClient, RegistryUrls, Release};
use ciguard_test_support::registry::FakeRegistry;

fn index_line(name: &str, version: &str, yanked: bool) -> String {
    format!(
        "{{\"name\":\"{name}\",\"vers\":\"{version}\",\"deps\":[],\"cksum\":\"00\",\"features\":{{}},\"yanked\":{yanked},\"pubtime\":\"2025-01-01T00:00:00Z\"}}\n"
    )
}

fn client(url: &str, cache: &Path, tune: impl FnOnce(&mut ClientOptions)) -> RegistryClient {
    let mut urls = RegistryUrls::default();
    for key in ["crates-io", "pypi", "npm"] {
        urls.set(key, url).expect("url");
    }
    let mut options = ClientOptions {
        urls,
        cache_dir: Some(cache.to_path_buf()),
        threads: 4,
        timeout: Duration::from_secs(10),
        ..ClientOptions::default()
    };
    tune(&mut options);
    RegistryClient::new(options)
}

fn want(name: &str, version: &str) -> (Ecosystem, String, String) {
    (Ecosystem::Cargo, name.to_owned(), version.to_owned())
}

const PUBLISHED: Option<i64> = Some(1_735_689_600);

#[test]
fn a_later_yank_is_seen_through_a_conditional_request() {
    let fake = FakeRegistry::start(HashMap::from([(
        "/3/l/log".to_owned(),
        (200, index_line("log", "0.4.0", false)),
    )]))
    .expect("fake");
    let cache = tempfile::tempdir().expect("cache");
    let wanted = [want("log", "0.4.0")];

    let cold = client(&fake.url, cache.path(), |_| {});
    let found = Lookup::Found(Release {
        published: PUBLISHED,
        yanked: false,
    });
    assert_eq!(cold.lookup(&wanted)[&wanted[0]], found);
    assert_eq!(fake.hits(), 1);

    // Within the revalidation window: no request at all.
    let warm = client(&fake.url, cache.path(), |_| {});
    assert_eq!(warm.lookup(&wanted)[&wanted[0]], found);
    assert_eq!(fake.hits(), 1);

    // Past it, unchanged: one conditional request answered 304, no body.
    let stale = client(&fake.url, cache.path(), |o| {
        o.revalidate_after = Duration::ZERO
    });
    assert_eq!(stale.lookup(&wanted)[&wanted[0]], found);
    assert_eq!(
        (fake.hits(), fake.conditional(), fake.not_modified()),
        (2, 1, 1)
    );
    assert_eq!(stale.stats().not_modified, 1);

    // The registry yanks it: the next revalidation sees the new answer.
    fake.set("/3/l/log", 200, index_line("log", "0.4.0", true));
    let after = client(&fake.url, cache.path(), |o| {
        o.revalidate_after = Duration::ZERO
    });
    assert_eq!(
        after.lookup(&wanted)[&wanted[0]],
        Lookup::Found(Release {
            published: PUBLISHED,
            yanked: true
        })
    );
    assert_eq!((fake.hits(), fake.not_modified()), (3, 1));
}

#[test]
fn negative_answers_are_cached_for_a_bounded_time() {
    let fake = FakeRegistry::start(HashMap::from([(
        "/3/l/log".to_owned(),
        (200, index_line("log", "0.4.0", false)),
    )]))
    .expect("fake");
    let cache = tempfile::tempdir().expect("cache");
    let wanted = [want("ghost", "1.0.0"), want("log", "9.9.9")];

    let cold = client(&fake.url, cache.path(), |_| {});
    let answers = cold.lookup(&wanted);
    assert_eq!(answers[&wanted[0]], Lookup::UnknownPackage);
    assert_eq!(answers[&wanted[1]], Lookup::UnknownVersion);
    assert_eq!(fake.hits(), 2);

    let warm = client(&fake.url, cache.path(), |_| {});
    let answers = warm.lookup(&wanted);
    assert_eq!(answers[&wanted[0]], Lookup::UnknownPackage);
    assert_eq!(answers[&wanted[1]], Lookup::UnknownVersion);
    assert_eq!(
        fake.hits(),
        2,
        "a day has not passed: nothing is asked again"
    );

    // Offline, the cached negative answers still hold.
    let offline = client(&fake.url, cache.path(), |o| o.offline = true);
    assert_eq!(offline.lookup(&wanted)[&wanted[0]], Lookup::UnknownPackage);

    // Once the bound has passed, both are asked again, and a new publication is found.
    fake.set("/gh/os/ghost", 200, index_line("ghost", "1.0.0", false));
    let expired = client(&fake.url, cache.path(), |o| o.negative_ttl = Duration::ZERO);
    let answers = expired.lookup(&wanted);
    assert!(
        matches!(answers[&wanted[0]], Lookup::Found(_)),
        "{answers:?}"
    );
    assert_eq!(answers[&wanted[1]], Lookup::UnknownVersion);
    assert_eq!(fake.hits(), 4);
}

#[test]
fn connections_are_reused_and_answers_compressed() {
    let mut routes = HashMap::new();
    let mut wanted = Vec::new();
    for i in 0..40 {
        let name = format!("crate-{i:02}");
        // Long enough to be worth compressing.
        let body = (0..20)
            .map(|m| index_line(&name, &format!("1.{m}.0"), false))
            .collect::<String>();
        routes.insert(format!("/cr/at/{name}"), (200, body));
        wanted.push(want(&name, "1.3.0"));
    }
    let fake = FakeRegistry::start(routes).expect("fake");
    let cache = tempfile::tempdir().expect("cache");
    let c = client(&fake.url, cache.path(), |o| o.threads = 4);
    let answers = c.lookup(&wanted);
    assert!(
        answers.values().all(|a| matches!(a, Lookup::Found(_))),
        "{answers:?}"
    );
    assert_eq!(fake.hits(), 40);
    assert!(
        fake.connections() <= 4,
        "{} connections for 4 threads",
        fake.connections()
    );
    assert_eq!(fake.gzipped(), 40, "every answer was asked for compressed");
    assert!(fake.bytes_sent() < c.stats().body_bytes / 3);
}

#[test]
fn one_failed_connection_does_not_disable_the_registry() {
    // A registry whose first three connections are dropped: the first package fails after its
    // retries, and the next package is still asked (and found).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let fake = FakeRegistry::start(HashMap::from([
        (
            "/3/l/log".to_owned(),
            (200, index_line("log", "0.4.0", false)),
        ),
        (
            "/3/s/syn".to_owned(),
            (200, index_line("syn", "2.0.0", false)),
        ),
    ]))
    .expect("fake");
    let real = fake.url.clone();
    // A proxy that resets the first three connections, then forwards.
    std::thread::spawn(move || {
        let mut dropped = 0;
        for stream in listener.incoming() {
            let Ok(client) = stream else { continue };
            if dropped < 3 {
                dropped += 1;
                drop(client);
                continue;
            }
            let upstream =
                std::net::TcpStream::connect(real.trim_start_matches("http://")).expect("upstream");
            let (mut a, mut b) = (
                client.try_clone().expect("clone"),
                upstream.try_clone().expect("clone"),
            );
            let (mut c, mut d) = (client, upstream);
            std::thread::spawn(move || std::io::copy(&mut a, &mut b));
            std::thread::spawn(move || std::io::copy(&mut d, &mut c));
        }
    });
    let cache = tempfile::tempdir().expect("cache");
    let c = client(&format!("http://{addr}"), cache.path(), |o| o.threads = 1);
    let wanted = [want("log", "0.4.0"), want("syn", "2.0.0")];
    let answers = c.lookup(&wanted);
    assert!(
        matches!(answers[&wanted[0]], Lookup::Failed(_)),
        "{answers:?}"
    );
    assert!(
        matches!(answers[&wanted[1]], Lookup::Found(_)),
        "{answers:?}"
    );
}

#[test]
fn pypi_versions_are_compared_in_pep_440_form() {
    let body = r#"{"releases": {"1.0.0a1": [{"upload_time_iso_8601": "2025-01-01T00:00:00Z", "yanked": false}], "2.0": [{"upload_time_iso_8601": "2025-01-01T00:00:00Z", "yanked": false}]}}"#;
    let fake = FakeRegistry::start(HashMap::from([(
        "/pypi/some-pkg/json".to_owned(),
        (200, body.to_owned()),
    )]))
    .expect("fake");
    let cache = tempfile::tempdir().expect("cache");
    let c = client(&fake.url, cache.path(), |_| {});
    let wanted: Vec<_> = ["1.0.0-Alpha.1", "2.0.0", "v2", "3.0"]
        .iter()
        .map(|v| (Ecosystem::PyPI, "Some_Pkg".to_owned(), (*v).to_owned()))
        .collect();
    let answers = c.lookup(&wanted);
    assert!(
        matches!(answers[&wanted[0]], Lookup::Found(_)),
        "{answers:?}"
    );
    assert!(matches!(answers[&wanted[1]], Lookup::Found(_)));
    assert!(matches!(answers[&wanted[2]], Lookup::Found(_)));
    assert_eq!(answers[&wanted[3]], Lookup::UnknownVersion);
    assert_eq!(fake.hits(), 1);
}
