//! The tracing redaction: every log line goes through [`Redacting`], which masks GitHub tokens
//! (`ghs_`, `ghu_`, `ghp_`, `gho_`, `ghr_`, `github_pat_`), JWTs and PEM blocks by their shape,
//! and the secrets registered with `ciguard_core::redact`, before a byte reaches the output.

use std::borrow::Cow;
use std::io::{self, Write};
use std::sync::OnceLock;

use regex::Regex;
use tracing_subscriber::fmt::MakeWriter;

const MASK: &str = ciguard_core::redact::MASK;

fn patterns() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(concat!(
            r"(?s)-----BEGIN [A-Z0-9 ]{1,40}-----.*?(?:-----END [A-Z0-9 ]{1,40}-----|\z)",
            // Dots too: GitHub's new installation tokens are `ghs_` + a JWT (header.payload.
            // signature, about 520 characters); stopping at the first dot would leave the payload
            // and signature in the log, and the header is guessable.
            r"|\bgh[pousr]_[A-Za-z0-9_.\-]{8,}",
            r"|\bgithub_pat_[A-Za-z0-9_.\-]{8,}",
            r"|\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        ))
        .unwrap_or_else(|_| Regex::new("$^").unwrap_or_else(|_| unreachable!()))
    })
}

/// `text` with every token, JWT, PEM block and registered secret masked.
pub fn mask(text: &str) -> Cow<'_, str> {
    let shaped = patterns().replace_all(text, MASK);
    let registered = ciguard_core::redact::redact(&shaped);
    if registered == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(registered)
    }
}

/// Wraps a tracing writer: each event is buffered whole, masked, then written.
#[derive(Debug, Clone)]
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = MaskedEvent<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        MaskedEvent {
            inner: self.0.make_writer(),
            buffer: Vec::new(),
        }
    }
}

/// One event's bytes, written masked when the event is done (flush or drop).
pub struct MaskedEvent<W: Write> {
    inner: W,
    buffer: Vec<u8>,
}

impl<W: Write> MaskedEvent<W> {
    fn emit(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&self.buffer);
        let masked = mask(&text).into_owned();
        self.buffer.clear();
        self.inner.write_all(masked.as_bytes())?;
        self.inner.flush()
    }
}

impl<W: Write> Write for MaskedEvent<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.emit()
    }
}

impl<W: Write> Drop for MaskedEvent<W> {
    fn drop(&mut self) {
        let _ = self.emit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_tokens_jwts_and_pem_blocks_by_shape() {
        let text = "token ghs_16C7e42F292c6912E7710c838347Ae178B4a and ghu_abcdefgh12345678, \
                    pat github_pat_11ABCDEFG0123456789_abcdefghijkl, \
                    jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl, \
                    key -----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- end, \
                    cut -----BEGIN PRIVATE KEY-----\nMIIE";
        let out = mask(text);
        for secret in [
            "ghs_16C7",
            "ghu_abcd",
            "github_pat_11",
            "eyJhbGci",
            "MIIEow",
            "MIIE",
        ] {
            assert!(!out.contains(secret), "{secret} in {out}");
        }
        assert!(out.contains("token *** and ***"), "{out}");
        assert!(out.contains("key *** end"), "{out}");
        // Ordinary words are left alone.
        assert_eq!(mask("ghost_town eyJ gh_x"), "ghost_town eyJ gh_x");
    }

    #[test]
    fn masks_the_stateless_jwt_shaped_installation_tokens_whole() {
        // The format GitHub rolls out from 2026: `ghs_` + header.payload.signature.
        let token = format!(
            "ghs_eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.{}.{}",
            "eyJpbnN0IjoxfQ_x".repeat(8),
            "c2lnbmF0dXJl".repeat(28)
        );
        assert!(token.len() > 500);
        let line = format!("minted {token}, expires soon");
        let out = mask(&line);
        assert_eq!(out, "minted ***, expires soon");
        for part in token.split('.') {
            assert!(!out.contains(&part[..8]), "{part} in {out}");
        }
    }

    #[test]
    fn the_writer_masks_each_event() {
        let sink = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let make = Redacting(SharedBuf(std::sync::Arc::clone(&sink)));
        {
            let mut w = make.make_writer();
            w.write_all(b"minted ghs_").unwrap();
            w.write_all(b"0123456789abcdef for 1\n").unwrap();
        }
        let written = String::from_utf8(sink.lock().unwrap().clone()).unwrap();
        assert_eq!(written, "minted *** for 1\n");
    }

    #[derive(Clone)]
    struct SharedBuf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Write for SharedBuf {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for SharedBuf {
        type Writer = SharedBuf;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }
}
