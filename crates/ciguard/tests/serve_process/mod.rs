//! The `ciguard serve` process as the end-to-end and fault tests run it: started with App
//! credentials against a fake GitHub, its address read from stderr, stderr kept for the
//! assertions, killed when dropped; and signed webhook deliveries posted to it.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ciguard_test_support::github_app as fake;

/// The running binary, its address and everything it wrote on stderr so far.
pub struct Serve {
    pub child: Child,
    pub addr: String,
    pub stderr: Arc<Mutex<String>>,
}

impl Drop for Serve {
    fn drop(&mut self) {
        // Only if the test did not stop it: never leave the process behind.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `ciguard serve` on `db` with the fake's App key (a 0600 copy in `dir`, as an
    /// operator keeps it), `secret` as the webhook secret and `extra` flags.
    pub fn start(dir: &Path, db: &str, api_url: &str, secret: &str, extra: &[&str]) -> Serve {
        let secret_file = dir.join("secret");
        std::fs::write(&secret_file, format!("{secret}\n")).unwrap();
        let key = dir.join("app-key.pem");
        std::fs::copy(fake::app_private_key_pkcs1(), &key).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_ciguard"))
            .args(["serve", "--db", db, "--listen", "127.0.0.1:0"])
            .args(["--app-id", &fake::APP_ID.to_string()])
            .arg("--private-key-file")
            .arg(&key)
            .arg("--webhook-secret-file")
            .arg(&secret_file)
            .args(["--github-api-url", api_url, "--write-interval-ms", "0"])
            .args(extra)
            .env_remove("CIGUARD_DB")
            .env_remove("CIGUARD_WEBHOOK_SECRET_FILE")
            .env_remove("CIGUARD_GITHUB_API_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut reader = BufReader::new(child.stderr.take().unwrap());
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            stderr.lock().unwrap().push_str(&line);
            if let Some(addr) = line
                .trim()
                .strip_prefix("ciguard serve: listening on http://")
            {
                let addr = addr.to_string();
                let sink = Arc::clone(&stderr);
                std::thread::spawn(move || {
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 {
                        sink.lock().unwrap().push_str(&line);
                        line.clear();
                    }
                });
                return Serve {
                    child,
                    addr,
                    stderr,
                };
            }
            line.clear();
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("ciguard serve did not start:\n{}", stderr.lock().unwrap());
    }

    /// Everything written on stderr so far.
    pub fn log(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }
}

/// Posts a delivery of `event` signed with `secret`; the status code, or the transport error (a
/// killed or restarting server).
pub fn post_signed(
    addr: &str,
    secret: &str,
    event: &str,
    delivery: &str,
    body: &str,
) -> std::io::Result<u16> {
    let signature = ciguard_serve::signature::header_value(
        &ciguard_serve::secret::Secret::new(secret),
        body.as_bytes(),
    );
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "POST /webhook HTTP/1.1\r\nhost: t\r\nconnection: close\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-github-event: {event}\r\nx-github-delivery: {delivery}\r\nx-hub-signature-256: {signature}\r\n\r\n{body}",
        body.len()
    )?;
    let mut reply = String::new();
    stream.read_to_string(&mut reply)?;
    reply
        .strip_prefix("HTTP/1.1 ")
        .and_then(|r| r.get(..3))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP reply: {reply:?}")))
}
