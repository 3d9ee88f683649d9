//! The one HTTP/1.1 request loop of every fake server: binds 127.0.0.1 on a free port, reads each
//! request (keep-alive or one request a connection), answers it through the owner's handler, and
//! keeps what tests assert on: a request log (logged on arrival, so a request the client gave up
//! on still counts), scripted faults per path prefix (fail N times with a status, a rate limit, a
//! delay), a latency for every answer, and connection and byte counters. Stops when dropped.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// Largest request body read; the rest is ignored (the fakes take small JSON bodies).
const MAX_BODY: usize = 1 << 20;

/// One request as the handler sees it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query, after the server's prefix was stripped.
    pub target: String,
    /// The path alone.
    pub path: String,
    pub query: HashMap<String, String>,
    /// Header names in lowercase.
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
}

/// One answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    /// A JSON answer (`application/json; charset=utf-8`, as GitHub sends).
    pub fn json(status: u16, value: &Value) -> Self {
        Self::json_typed(status, "application/json; charset=utf-8", value)
    }

    /// A JSON answer with its own `content-type`.
    pub fn json_typed(status: u16, content_type: &str, value: &Value) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// An answer without a body.
    pub fn empty(status: u16) -> Self {
        Reply {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A scripted misbehaviour, used by the first request whose target starts with its prefix.
#[derive(Clone)]
pub enum Fault {
    /// Answer this instead.
    Reply(Reply),
    /// A rate-limit answer: `status` with `body`, `retry-after` when given, and
    /// `x-ratelimit-remaining: 0` with a reset this many seconds after the answer when given.
    RateLimit {
        status: u16,
        body: Value,
        retry_after: Option<u64>,
        reset_in: Option<u64>,
    },
    /// Sleep, then answer normally.
    Delay(Duration),
    /// Answer with what this makes of the request.
    Answer(Arc<dyn Fn(&Request) -> Reply + Send + Sync>),
}

impl std::fmt::Debug for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Reply(r) => f.debug_tuple("Reply").field(&r.status).finish(),
            Fault::RateLimit { status, .. } => f.debug_tuple("RateLimit").field(status).finish(),
            Fault::Delay(d) => f.debug_tuple("Delay").field(d).finish(),
            Fault::Answer(_) => f.write_str("Answer"),
        }
    }
}

/// One request the server got.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// Path and query.
    pub path: String,
    /// It carried `If-None-Match`.
    pub conditional: bool,
    pub authorized: bool,
    /// 0 until answered.
    pub status: u16,
    /// The answer was sent gzip-compressed.
    pub gzipped: bool,
    pub body: Vec<u8>,
}

type Handler = dyn Fn(&Request) -> Reply + Send + Sync;
type Finish = dyn Fn(&Request, &mut Reply) + Send + Sync;

/// How a server answers, besides its handler.
#[derive(Default)]
pub struct Options {
    /// Serve several requests a connection (as registries do); else `connection: close`.
    pub keep_alive: bool,
    /// Served under this prefix too (`/api/v3` for GitHub Enterprise Server): stripped first.
    pub strip_prefix: Option<&'static str>,
    /// Applied to every answer, faults included (default headers).
    pub finish: Option<Box<Finish>>,
}

#[derive(Default)]
struct Counters {
    connections: AtomicUsize,
    bytes: AtomicUsize,
    latency_ms: AtomicU64,
}

struct Shared {
    handler: Box<Handler>,
    options: Options,
    faults: Mutex<Vec<(String, Fault, usize)>>,
    log: Mutex<Vec<Logged>>,
    counters: Counters,
    stop: AtomicBool,
}

/// A bound port, not yet serving: its URL is known before the handler is built.
pub struct Listener {
    listener: TcpListener,
    addr: SocketAddr,
}

impl Listener {
    pub fn bind() -> io::Result<Self> {
        Self::bind_at("127.0.0.1")
    }

    /// Binds another loopback address (`127.0.0.2`: another host as far as a client can tell).
    pub fn bind_at(ip: &str) -> io::Result<Self> {
        let listener = TcpListener::bind((ip, 0))?;
        let addr = listener.local_addr()?;
        Ok(Self { listener, addr })
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Starts answering with `handler`.
    pub fn serve(
        self,
        options: Options,
        handler: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> Server {
        let shared = Arc::new(Shared {
            handler: Box::new(handler),
            options,
            faults: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            counters: Counters::default(),
            stop: AtomicBool::new(false),
        });
        let sh = Arc::clone(&shared);
        let listener = self.listener;
        let thread = std::thread::spawn(move || {
            for stream in listener.incoming() {
                if sh.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                sh.counters.connections.fetch_add(1, Ordering::Relaxed);
                let sh = Arc::clone(&sh);
                std::thread::spawn(move || {
                    let _ = connection(&sh, stream);
                });
            }
        });
        Server {
            addr: self.addr,
            shared,
            thread: Some(thread),
        }
    }
}

/// A running server. Stops when dropped.
pub struct Server {
    addr: SocketAddr,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server").field("addr", &self.addr).finish()
    }
}

impl Server {
    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Scripts `fault` for the next `times` requests whose target starts with `prefix`.
    pub fn push_fault(&self, prefix: &str, fault: Fault, times: usize) {
        if let Ok(mut faults) = self.shared.faults.lock() {
            faults.push((prefix.to_owned(), fault, times));
        }
    }

    /// Every answer from now on waits this long first, like a server across the internet.
    pub fn set_latency(&self, latency: Duration) {
        let ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
        self.shared.counters.latency_ms.store(ms, Ordering::Relaxed);
    }

    pub fn requests(&self) -> Vec<Logged> {
        self.shared
            .log
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    pub fn request_count(&self) -> usize {
        self.shared.log.lock().map(|l| l.len()).unwrap_or(0)
    }

    /// TCP connections accepted so far.
    pub fn connections(&self) -> usize {
        self.shared.counters.connections.load(Ordering::Relaxed)
    }

    /// Bytes written to clients (headers and bodies, as sent).
    pub fn bytes_sent(&self) -> usize {
        self.shared.counters.bytes.load(Ordering::Relaxed)
    }

    /// Forgets the log and the counters.
    pub fn clear_log(&self) {
        if let Ok(mut l) = self.shared.log.lock() {
            l.clear();
        }
        self.shared.counters.connections.store(0, Ordering::Relaxed);
        self.shared.counters.bytes.store(0, Ordering::Relaxed);
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A port on 127.0.0.1 that refuses connections, for tests of an unreachable server. It is
/// below 1024, where binding port 0 never lands: a port bound and released instead can be handed
/// to another test's fake server in the same process, which then answers (seen in CI).
pub fn refused_port() -> u16 {
    (1..1024)
        .rev()
        .find(|&port| {
            let addr = SocketAddr::from(([127, 0, 0, 1], port));
            matches!(
                TcpStream::connect_timeout(&addr, Duration::from_secs(1)),
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
            )
        })
        .expect("no port below 1024 on 127.0.0.1 refuses connections")
}

/// A free port on 127.0.0.1 for a server another process starts, and may stop and start again
/// on the same port. It lies in 20000–29999, below Linux's ephemeral range (32768–60999 unless
/// changed), where binding port 0 on this machine never lands, so no fake server or client
/// connection takes it in between.
pub fn port_for_a_child() -> u16 {
    let first = 20_000 + (std::process::id() % 10_000) as u16;
    (first..30_000)
        .chain(20_000..first)
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .expect("no free port in 20000-29999 on 127.0.0.1")
}

pub fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        301 => "Moved Permanently",
        304 => "Not Modified",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Status",
    }
}

/// Answers requests on one connection until the client closes it (or after one without
/// keep-alive).
fn connection(shared: &Shared, stream: TcpStream) -> io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    while !shared.stop.load(Ordering::Relaxed) {
        let Some(request) = read_request(&mut reader, shared.options.strip_prefix)? else {
            return Ok(());
        };
        let index = shared.log.lock().ok().map(|mut log| {
            log.push(Logged {
                method: request.method.clone(),
                path: request.target.clone(),
                conditional: request.headers.contains_key("if-none-match"),
                authorized: request.headers.contains_key("authorization"),
                status: 0,
                gzipped: false,
                body: request.body.clone(),
            });
            log.len() - 1
        });
        let latency = shared.counters.latency_ms.load(Ordering::Relaxed);
        if latency > 0 {
            std::thread::sleep(Duration::from_millis(latency));
        }
        let mut reply = match take_fault(shared, &request) {
            Some(reply) => reply,
            None => (shared.handler)(&request),
        };
        if let Some(finish) = &shared.options.finish {
            finish(&request, &mut reply);
        }
        let gzipped = reply.header("content-encoding") == Some("gzip");
        if let (Some(i), Ok(mut log)) = (index, shared.log.lock())
            && let Some(entry) = log.get_mut(i)
        {
            entry.status = reply.status;
            entry.gzipped = gzipped;
        }
        let keep_alive = shared.options.keep_alive;
        let mut head = format!("HTTP/1.1 {} {}\r\n", reply.status, reason(reply.status));
        if !keep_alive {
            head.push_str("connection: close\r\n");
        }
        for (k, v) in &reply.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str(&format!("content-length: {}\r\n\r\n", reply.body.len()));
        let body: &[u8] = if request.method == "HEAD" {
            &[]
        } else {
            &reply.body
        };
        out.write_all(head.as_bytes())?;
        out.write_all(body)?;
        out.flush()?;
        shared
            .counters
            .bytes
            .fetch_add(head.len() + body.len(), Ordering::Relaxed);
        if !keep_alive {
            return Ok(());
        }
    }
    Ok(())
}

/// The scripted answer for `request`, if a fault applies (a delay sleeps and answers normally).
fn take_fault(shared: &Shared, request: &Request) -> Option<Reply> {
    let fault = shared.faults.lock().ok().and_then(|mut faults| {
        let i = faults
            .iter()
            .position(|(prefix, _, left)| *left > 0 && request.target.starts_with(prefix))?;
        faults[i].2 -= 1;
        let fault = faults[i].1.clone();
        if faults[i].2 == 0 {
            faults.remove(i);
        }
        Some(fault)
    })?;
    match fault {
        Fault::Reply(reply) => Some(reply),
        Fault::RateLimit {
            status,
            body,
            retry_after,
            reset_in,
        } => {
            let mut reply = Reply::json(status, &body);
            if let Some(after) = retry_after {
                reply = reply.with_header("retry-after", after.to_string());
            }
            if let Some(reset_in) = reset_in {
                reply = reply
                    .with_header("x-ratelimit-remaining", "0")
                    .with_header("x-ratelimit-reset", (now_secs() + reset_in).to_string());
            }
            Some(reply)
        }
        Fault::Delay(d) => {
            std::thread::sleep(d);
            None
        }
        Fault::Answer(answer) => Some(answer(request)),
    }
}

/// Reads one request; `None` when the client closed the connection.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    strip_prefix: Option<&str>,
) -> io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_owned();
    let mut target = parts.next().unwrap_or("/").to_owned();
    if let Some(rest) = strip_prefix.and_then(|p| target.strip_prefix(p))
        && rest.starts_with('/')
    {
        target = rest.to_owned();
    }
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(MAX_BODY)];
    reader.read_exact(&mut body)?;
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let query = query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    Ok(Some(Request {
        method,
        path: path.to_owned(),
        query,
        target: target.clone(),
        headers,
        body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> (u16, String) {
        let addr = url.trim_start_matches("http://");
        let (host, path) = addr.split_once('/').unwrap_or((addr, ""));
        let mut s = TcpStream::connect(host).unwrap();
        write!(s, "GET /{path} HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let status = text[9..12].parse().unwrap();
        let body = text.split_once("\r\n\r\n").unwrap().1.to_owned();
        (status, body)
    }

    #[test]
    fn faults_apply_n_times_to_their_prefix_then_the_handler_answers() {
        let listener = Listener::bind().unwrap();
        let server = listener.serve(Options::default(), |req| {
            Reply::json(200, &serde_json::json!({ "path": req.path }))
        });
        server.push_fault("/a", Fault::Reply(Reply::empty(503)), 2);
        let url = server.url();
        assert_eq!(get(&format!("{url}/b")).0, 200);
        assert_eq!(get(&format!("{url}/a/x")).0, 503);
        assert_eq!(get(&format!("{url}/a/y")).0, 503);
        assert_eq!(
            get(&format!("{url}/a/z")),
            (200, r#"{"path":"/a/z"}"#.into())
        );
        let log = server.requests();
        let statuses: Vec<u16> = log.iter().map(|l| l.status).collect();
        assert_eq!(statuses, [200, 503, 503, 200]);
        assert_eq!(log[1].path, "/a/x");
    }

    #[test]
    fn a_rate_limit_fault_carries_its_headers() {
        let server = Listener::bind()
            .unwrap()
            .serve(Options::default(), |_| Reply::empty(200));
        server.push_fault(
            "/",
            Fault::RateLimit {
                status: 429,
                body: serde_json::json!({}),
                retry_after: Some(7),
                reset_in: None,
            },
            1,
        );
        let addr = server.url();
        let mut s = TcpStream::connect(addr.trim_start_matches("http://")).unwrap();
        write!(s, "GET / HTTP/1.1\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        assert!(text.starts_with("HTTP/1.1 429"), "{text}");
        assert!(text.contains("retry-after: 7\r\n"), "{text}");
        assert!(!text.contains("x-ratelimit-remaining"), "{text}");
    }
}
