//! A fake registry for tests and benchmarks: an HTTP/1.1 server on 127.0.0.1 that answers GETs
//! from a path → (status, body) table, like the real registries: keep-alive connections, an
//! `ETag` per body honoured in `If-None-Match` (304), gzip when asked, and an optional latency
//! per answer. It counts requests, connections and bytes sent. (Feature `fake-registry`.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Routes = Arc<Mutex<HashMap<String, (u16, String)>>>;

#[derive(Default)]
struct Counters {
    hits: AtomicUsize,
    connections: AtomicUsize,
    conditional: AtomicUsize,
    not_modified: AtomicUsize,
    gzipped: AtomicUsize,
    bytes: AtomicUsize,
    latency_ms: AtomicU64,
}

pub struct FakeRegistry {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    counters: Arc<Counters>,
    routes: Routes,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl FakeRegistry {
    /// Starts serving `routes` (paths such as `/se/rd/serde`); other paths answer 404.
    pub fn start(routes: HashMap<String, (u16, String)>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let counters = Arc::new(Counters::default());
        let routes: Routes = Arc::new(Mutex::new(routes));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, r, s) = (
            Arc::clone(&counters),
            Arc::clone(&routes),
            Arc::clone(&stop),
        );
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                c.connections.fetch_add(1, Ordering::Relaxed);
                let (c, r, s) = (Arc::clone(&c), Arc::clone(&r), Arc::clone(&s));
                std::thread::spawn(move || serve(stream, &c, &r, &s));
            }
        });
        Ok(Self {
            url: format!("http://{addr}"),
            counters,
            routes,
            stop,
            addr,
        })
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.counters.hits.load(Ordering::Relaxed)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.counters.connections.load(Ordering::Relaxed)
    }

    /// Requests that carried `If-None-Match`.
    pub fn conditional(&self) -> usize {
        self.counters.conditional.load(Ordering::Relaxed)
    }

    /// Answers `304 Not Modified`.
    pub fn not_modified(&self) -> usize {
        self.counters.not_modified.load(Ordering::Relaxed)
    }

    /// Answers sent gzip-compressed.
    pub fn gzipped(&self) -> usize {
        self.counters.gzipped.load(Ordering::Relaxed)
    }

    /// Bytes written to clients (headers and bodies, as sent).
    pub fn bytes_sent(&self) -> usize {
        self.counters.bytes.load(Ordering::Relaxed)
    }

    /// Resets every counter.
    pub fn reset_hits(&self) {
        let c = &self.counters;
        for n in [
            &c.hits,
            &c.connections,
            &c.conditional,
            &c.not_modified,
            &c.gzipped,
            &c.bytes,
        ] {
            n.store(0, Ordering::Relaxed);
        }
    }

    /// Every answer waits this long first, like a registry across the internet.
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.counters.latency_ms.store(ms, Ordering::Relaxed);
    }

    pub fn set(&self, path: &str, status: u16, body: impl Into<String>) {
        if let Ok(mut r) = self.routes.lock() {
            r.insert(path.to_owned(), (status, body.into()));
        }
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
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

/// Answers requests on one connection until the client closes it.
fn serve(stream: TcpStream, counters: &Counters, routes: &Routes, stop: &AtomicBool) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream);
    while !stop.load(Ordering::Relaxed) {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
            return;
        }
        let mut if_none_match = None;
        let mut wants_gzip = false;
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
            if let Some((k, v)) = line.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim().to_owned());
                match k.as_str() {
                    "if-none-match" => if_none_match = Some(v),
                    "accept-encoding" => wants_gzip = v.contains("gzip"),
                    _ => {}
                }
            }
            line.clear();
        }
        counters.hits.fetch_add(1, Ordering::Relaxed);
        let latency = counters.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            std::thread::sleep(Duration::from_millis(latency));
        }
        let path = request_line.split_whitespace().nth(1).unwrap_or("/");
        let (status, body) = routes
            .lock()
            .ok()
            .and_then(|r| r.get(path).cloned())
            .unwrap_or((404, "not found".to_owned()));
        let tag = etag(&body);
        if if_none_match.is_some() {
            counters.conditional.fetch_add(1, Ordering::Relaxed);
        }
        let mut head = String::new();
        let payload: Vec<u8> = if status == 200 && if_none_match.as_deref() == Some(tag.as_str()) {
            counters.not_modified.fetch_add(1, Ordering::Relaxed);
            head.push_str(&format!("HTTP/1.1 304 Not Modified\r\netag: {tag}\r\n"));
            Vec::new()
        } else {
            head.push_str(&format!(
                "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            ));
            if status == 200 {
                head.push_str(&format!("etag: {tag}\r\n"));
            }
            if wants_gzip && body.len() > 64 {
                counters.gzipped.fetch_add(1, Ordering::Relaxed);
                head.push_str("content-encoding: gzip\r\n");
                gzip(body.as_bytes())
            } else {
                body.into_bytes()
            }
        };
        head.push_str(&format!("content-length: {}\r\n\r\n", payload.len()));
        let ok = writer.write_all(head.as_bytes()).is_ok()
            && writer.write_all(&payload).is_ok()
            && writer.flush().is_ok();
        counters
            .bytes
            .fetch_add(head.len() + payload.len(), Ordering::Relaxed);
        if !ok {
            return;
        }
    }
}
