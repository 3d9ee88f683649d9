//! A fake registry for tests and benchmarks: an HTTP/1.1 server on 127.0.0.1 that answers GETs
//! from a path → (status, body) table and counts the requests. (Feature `fake-registry`.)

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

type Routes = Arc<Mutex<HashMap<String, (u16, String)>>>;

pub struct FakeRegistry {
    /// `http://127.0.0.1:PORT`
    pub url: String,
    hits: Arc<AtomicUsize>,
    routes: Routes,
    stop: Arc<AtomicBool>,
    addr: std::net::SocketAddr,
}

impl FakeRegistry {
    /// Starts serving `routes` (paths such as `/se/rd/serde`); other paths answer 404.
    pub fn start(routes: HashMap<String, (u16, String)>) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let hits = Arc::new(AtomicUsize::new(0));
        let routes: Routes = Arc::new(Mutex::new(routes));
        let stop = Arc::new(AtomicBool::new(false));
        let (h, r, s) = (Arc::clone(&hits), Arc::clone(&routes), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (h, r) = (Arc::clone(&h), Arc::clone(&r));
                std::thread::spawn(move || serve(stream, &h, &r));
            }
        });
        Ok(Self {
            url: format!("http://{addr}"),
            hits,
            routes,
            stop,
            addr,
        })
    }

    /// Requests answered so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::Relaxed)
    }

    pub fn reset_hits(&self) {
        self.hits.store(0, Ordering::Relaxed);
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

fn serve(mut stream: TcpStream, hits: &AtomicUsize, routes: &Routes) {
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
        line.clear();
    }
    hits.fetch_add(1, Ordering::Relaxed);
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .to_owned();
    let (status, body) = routes
        .lock()
        .ok()
        .and_then(|r| r.get(&path).cloned())
        .unwrap_or((404, "not found".to_owned()));
    let response = format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
    let _ = stream.flush();
}
