//! An in-memory ETag store for long-running callers (the App's drift sweeps): answers kept by
//! URL so the next read of the same URL sends `If-None-Match` and a `304` costs no rate limit.
//! Unlike the disk cache it is never served without a request: every use revalidates with the
//! caller's current token, so GitHub still decides who may read the answer (tokens change per
//! job). Bounded in entries and bytes; the oldest entries go first.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use crate::cache::Entry;

/// Kept answers (URL → status, headers, body), bounded.
#[derive(Debug)]
pub struct Revalidation {
    max_entries: usize,
    max_bytes: usize,
    inner: Mutex<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    entries: HashMap<String, Entry>,
    order: VecDeque<String>,
    bytes: usize,
}

/// What an entry costs against the byte bound.
fn size(entry: &Entry) -> usize {
    entry.url.len()
        + entry.body.len()
        + entry
            .headers
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

impl Revalidation {
    pub fn new(max_entries: usize, max_bytes: usize) -> Self {
        Self {
            max_entries,
            max_bytes,
            inner: Mutex::new(Kept::default()),
        }
    }

    /// Answers kept now.
    pub fn len(&self) -> usize {
        self.inner.lock().map_or(0, |k| k.entries.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn load(&self, url: &str) -> Option<Entry> {
        let kept = self.inner.lock().ok()?;
        let e = kept.entries.get(url)?;
        Some(Entry::new(
            e.url.clone(),
            e.status,
            e.headers.clone(),
            e.body.clone(),
        ))
    }

    pub(crate) fn store(&self, url: &str, status: u16, headers: &[(String, String)], body: &[u8]) {
        let entry = Entry::new(url.to_owned(), status, headers.to_vec(), body.to_vec());
        let cost = size(&entry);
        if cost > self.max_bytes || self.max_entries == 0 {
            return;
        }
        let Ok(mut kept) = self.inner.lock() else {
            return;
        };
        if let Some(old) = kept.entries.remove(url) {
            kept.bytes -= size(&old);
            kept.order.retain(|u| u != url);
        }
        while kept.entries.len() >= self.max_entries || kept.bytes + cost > self.max_bytes {
            let Some(oldest) = kept.order.pop_front() else {
                break;
            };
            if let Some(old) = kept.entries.remove(&oldest) {
                kept.bytes -= size(&old);
            }
        }
        kept.bytes += cost;
        kept.order.push_back(url.to_owned());
        kept.entries.insert(url.to_owned(), entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_by_entries_and_bytes_oldest_first() {
        let r = Revalidation::new(2, 1000);
        r.store("a", 200, &[], b"1");
        r.store("b", 200, &[], b"2");
        r.store("c", 200, &[], b"3");
        assert!(r.load("a").is_none());
        assert_eq!(r.load("c").map(|e| e.body), Some(b"3".to_vec()));
        assert_eq!(r.len(), 2);
        r.store("big", 200, &[], &[0; 2000]);
        assert!(r.load("big").is_none(), "larger than the whole budget");
        r.store("b", 200, &[], &[7; 998]);
        assert_eq!(r.len(), 1, "c made room for the larger b");
        assert_eq!(r.load("b").map(|e| e.body.len()), Some(998));
    }
}
