//! A fake package registry for tests and benchmarks on the shared request loop: answers GETs from
//! a path → (status, body) table, like the real registries: keep-alive connections, an `ETag` per
//! body honoured in `If-None-Match` (304), gzip when asked, and an optional latency per answer.
//! It counts requests, connections and bytes sent.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::{Listener, Options, Reply, Request, Server};

type Routes = Arc<Mutex<HashMap<String, (u16, String)>>>;

pub struct FakeRegistry {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    routes: Routes,
    server: Server,
}

impl FakeRegistry {
    /// Starts serving `routes` (paths such as `/se/rd/serde`); other paths answer 404.
    pub fn start(routes: HashMap<String, (u16, String)>) -> io::Result<Self> {
        let listener = Listener::bind()?;
        let url = listener.url();
        let routes: Routes = Arc::new(Mutex::new(routes));
        let r = Arc::clone(&routes);
        let options = Options {
            keep_alive: true,
            ..Options::default()
        };
        let server = listener.serve(options, move |req| answer(&r, req));
        Ok(Self {
            url,
            routes,
            server,
        })
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.server.request_count()
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.server.connections()
    }

    /// Requests that carried `If-None-Match`.
    pub fn conditional(&self) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.conditional)
            .count()
    }

    /// Answers `304 Not Modified`.
    pub fn not_modified(&self) -> usize {
        self.server
            .requests()
            .iter()
            .filter(|r| r.status == 304)
            .count()
    }

    /// Answers sent gzip-compressed.
    pub fn gzipped(&self) -> usize {
        self.server.requests().iter().filter(|r| r.gzipped).count()
    }

    /// Bytes written to clients (headers and bodies, as sent).
    pub fn bytes_sent(&self) -> usize {
        self.server.bytes_sent()
    }

    /// Resets every counter.
    pub fn reset_hits(&self) {
        self.server.clear_log();
    }

    /// Every answer waits this long first, like a registry across the internet.
    pub fn set_latency(&self, latency: Duration) {
        self.server.set_latency(latency);
    }

    /// The shared server: its request log and fault scripting.
    pub fn server(&self) -> &Server {
        &self.server
    }

    pub fn set(&self, path: &str, status: u16, body: impl Into<String>) {
        if let Ok(mut r) = self.routes.lock() {
            r.insert(path.to_owned(), (status, body.into()));
        }
    }
}

/// A weak validator that changes whenever the body does.
fn etag(body: &str) -> String {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    format!("W/\"{:016x}\"", h.finish())
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

fn answer(routes: &Routes, req: &Request) -> Reply {
    let (status, body) = routes
        .lock()
        .ok()
        .and_then(|r| r.get(&req.target).cloned())
        .unwrap_or((404, "not found".to_owned()));
    let tag = etag(&body);
    if status == 200 && req.header("if-none-match") == Some(tag.as_str()) {
        return Reply::empty(304).with_header("etag", tag);
    }
    let mut reply = Reply::empty(status).with_header("content-type", "application/json");
    if status == 200 {
        reply = reply.with_header("etag", tag);
    }
    let wants_gzip = req
        .header("accept-encoding")
        .is_some_and(|v| v.contains("gzip"));
    if wants_gzip && body.len() > 64 {
        reply = reply.with_header("content-encoding", "gzip");
        reply.body = gzip(body.as_bytes());
    } else {
        reply.body = body.into_bytes();
    }
    reply
}
