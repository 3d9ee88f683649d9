//! A minimal ZIP reader for relay artifacts: the archive stays in memory, one named entry at the
//! root is inflated, nothing is written to disk or executed. Every entry of the central
//! directory is checked first, and the whole archive is refused when any entry is hostile (a
//! `../` or absolute name, a symlink, encryption, duplicate names, sizes beyond the limits), so
//! a crafted archive is reported rather than half-read.
//!
//! Why not the `zip` crate: an artifact holds one small JSON file; reading it needs the central
//! directory, stored and deflate entries and bounded inflation, about 200 lines over `flate2`
//! (already in the tree). The `zip` crate brings a dozen optional codecs, file-system
//! extraction and frequent MSRV bumps for nothing we use.

use std::io::Read;

/// End of central directory record.
const EOCD_SIG: u32 = 0x0605_4b50;
const EOCD_LEN: usize = 22;
const CENTRAL_SIG: u32 = 0x0201_4b50;
const CENTRAL_LEN: usize = 46;
const LOCAL_SIG: u32 = 0x0403_4b50;
const LOCAL_LEN: usize = 30;
/// A comment after the end record is at most this long.
const MAX_COMMENT: usize = 0xFFFF;
const STORED: u16 = 0;
const DEFLATED: u16 = 8;
const S_IFMT: u32 = 0o170_000;
const S_IFLNK: u32 = 0o120_000;
/// `version made by` high byte for Unix: only then do the external attributes hold a mode.
const HOST_UNIX: u16 = 3;

/// How much an archive may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The compressed archive.
    pub max_archive: usize,
    pub max_entries: usize,
    /// One entry, uncompressed.
    pub max_entry: u64,
    /// All entries together, uncompressed (as declared: a lie about a size is caught while
    /// inflating).
    pub max_total: u64,
}

/// Why an archive was refused. The messages name entries escaped and never quote content.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ZipError {
    #[error("the archive is {0} bytes, more than the {1} allowed")]
    TooLarge(usize, usize),
    #[error("not a ZIP archive (no end of central directory)")]
    NotZip,
    #[error("the archive is malformed: {0}")]
    Malformed(&'static str),
    #[error("ZIP64 and multi-disk archives are not accepted")]
    Zip64,
    #[error("the archive has {0} entries, more than the {1} allowed")]
    TooManyEntries(usize, usize),
    #[error("entry {0} has an unsafe name (absolute, `..`, backslash or control character)")]
    UnsafeName(String),
    #[error("entry {0} is a symbolic link")]
    Symlink(String),
    #[error("entry {0} is encrypted")]
    Encrypted(String),
    #[error("entry {0} appears twice")]
    Duplicate(String),
    #[error("entry {0} uses compression method {1}; only stored and deflate are read")]
    Method(String, u16),
    #[error("the entries inflate to more than {0} bytes")]
    TooBig(u64),
    #[error("entry {0} does not inflate to its declared size or checksum")]
    Corrupt(String),
    #[error("the archive has no entry {0}")]
    Missing(String),
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// One central-directory entry, as declared.
struct Entry {
    name: String,
    method: u16,
    crc: u32,
    compressed: u64,
    size: u64,
    local_offset: usize,
}

/// A name as shown in messages.
fn shown(name: &str) -> String {
    ciguard_core::output::escape::text(&ciguard_core::output::escape::elide(name, 120)).into_owned()
}

/// A relative path of plain components: no root, drive, `..`, backslash or control character.
fn is_safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && !name.contains('\\')
        && !name.chars().any(char::is_control)
        && name.as_bytes().get(1) != Some(&b':')
        && name.split('/').all(|part| part != ".." && part != ".")
}

fn end_record(archive: &[u8]) -> Result<usize, ZipError> {
    let lowest = archive.len().saturating_sub(EOCD_LEN + MAX_COMMENT);
    let last = archive
        .len()
        .checked_sub(EOCD_LEN)
        .ok_or(ZipError::NotZip)?;
    (lowest..=last)
        .rev()
        .find(|&at| u32_at(archive, at) == Some(EOCD_SIG))
        .ok_or(ZipError::NotZip)
}

fn central_directory(archive: &[u8], limits: &Limits) -> Result<Vec<Entry>, ZipError> {
    let eocd = end_record(archive)?;
    let field = |off| u16_at(archive, eocd + off).ok_or(ZipError::NotZip);
    let (disk, cd_disk, on_disk, total) = (field(4)?, field(6)?, field(8)?, field(10)?);
    let cd_size = u32_at(archive, eocd + 12).ok_or(ZipError::NotZip)?;
    let cd_offset = u32_at(archive, eocd + 16).ok_or(ZipError::NotZip)?;
    if disk != 0 || cd_disk != 0 || on_disk != total || total == 0xFFFF {
        return Err(ZipError::Zip64);
    }
    if cd_size == u32::MAX || cd_offset == u32::MAX {
        return Err(ZipError::Zip64);
    }
    let total = usize::from(total);
    if total > limits.max_entries {
        return Err(ZipError::TooManyEntries(total, limits.max_entries));
    }
    let start = cd_offset as usize;
    let end = start
        .checked_add(cd_size as usize)
        .filter(|&e| e <= eocd)
        .ok_or(ZipError::Malformed(
            "the central directory lies outside the archive",
        ))?;
    let cd = &archive[start..end];
    let mut entries: Vec<Entry> = Vec::with_capacity(total);
    let mut at = 0;
    let mut declared_total: u64 = 0;
    for _ in 0..total {
        if u32_at(cd, at) != Some(CENTRAL_SIG) {
            return Err(ZipError::Malformed("a central directory entry is missing"));
        }
        let short = ZipError::Malformed("a central directory entry is cut");
        let made_by = u16_at(cd, at + 4).ok_or(short.clone())?;
        let flags = u16_at(cd, at + 8).ok_or(short.clone())?;
        let method = u16_at(cd, at + 10).ok_or(short.clone())?;
        let crc = u32_at(cd, at + 16).ok_or(short.clone())?;
        let compressed = u32_at(cd, at + 20).ok_or(short.clone())?;
        let size = u32_at(cd, at + 24).ok_or(short.clone())?;
        let name_len = usize::from(u16_at(cd, at + 28).ok_or(short.clone())?);
        let extra_len = usize::from(u16_at(cd, at + 30).ok_or(short.clone())?);
        let comment_len = usize::from(u16_at(cd, at + 32).ok_or(short.clone())?);
        let external = u32_at(cd, at + 38).ok_or(short.clone())?;
        let local_offset = u32_at(cd, at + 42).ok_or(short.clone())?;
        let name_at = at + CENTRAL_LEN;
        let raw_name = cd.get(name_at..name_at + name_len).ok_or(short)?;
        let name = String::from_utf8_lossy(raw_name).into_owned();
        if std::str::from_utf8(raw_name).is_err() || !is_safe_name(&name) {
            return Err(ZipError::UnsafeName(shown(&name)));
        }
        if compressed == u32::MAX || size == u32::MAX || local_offset == u32::MAX {
            return Err(ZipError::Zip64);
        }
        if made_by >> 8 == HOST_UNIX && (external >> 16) & S_IFMT == S_IFLNK {
            return Err(ZipError::Symlink(shown(&name)));
        }
        if flags & 1 != 0 {
            return Err(ZipError::Encrypted(shown(&name)));
        }
        if entries.iter().any(|e| e.name == name) {
            return Err(ZipError::Duplicate(shown(&name)));
        }
        let size = u64::from(size);
        declared_total = declared_total.saturating_add(size);
        if size > limits.max_entry || declared_total > limits.max_total {
            return Err(ZipError::TooBig(limits.max_total.min(limits.max_entry)));
        }
        entries.push(Entry {
            name,
            method,
            crc,
            compressed: u64::from(compressed),
            size,
            local_offset: local_offset as usize,
        });
        at = name_at + name_len + extra_len + comment_len;
    }
    Ok(entries)
}

/// The compressed bytes of `entry`, found through its local header.
fn entry_data<'a>(archive: &'a [u8], entry: &Entry) -> Result<&'a [u8], ZipError> {
    let at = entry.local_offset;
    if u32_at(archive, at) != Some(LOCAL_SIG) {
        return Err(ZipError::Malformed("a local header is missing"));
    }
    let cut = ZipError::Malformed("a local header is cut");
    let name_len = usize::from(u16_at(archive, at + 26).ok_or(cut.clone())?);
    let extra_len = usize::from(u16_at(archive, at + 28).ok_or(cut.clone())?);
    let name_at = at + LOCAL_LEN;
    let local_name = archive.get(name_at..name_at + name_len).ok_or(cut)?;
    if local_name != entry.name.as_bytes() {
        return Err(ZipError::Malformed(
            "a local header names another entry than the central directory",
        ));
    }
    let start = name_at + name_len + extra_len;
    let len = usize::try_from(entry.compressed).map_err(|_| ZipError::Zip64)?;
    start
        .checked_add(len)
        .and_then(|end| archive.get(start..end))
        .ok_or(ZipError::Malformed(
            "an entry's data lies outside the archive",
        ))
}

/// The uncompressed content of the root entry `name`, after every entry of `archive` passed
/// the checks above.
pub fn read_entry(archive: &[u8], name: &str, limits: &Limits) -> Result<Vec<u8>, ZipError> {
    if archive.len() > limits.max_archive {
        return Err(ZipError::TooLarge(archive.len(), limits.max_archive));
    }
    let entries = central_directory(archive, limits)?;
    let entry = entries
        .iter()
        .find(|e| e.name == name)
        .ok_or_else(|| ZipError::Missing(shown(name)))?;
    // A data descriptor (flag bit 3) only repeats the sizes after the data: the central
    // directory's are the ones used.
    let data = entry_data(archive, entry)?;
    let content = match entry.method {
        STORED => {
            if entry.compressed != entry.size {
                return Err(ZipError::Corrupt(shown(name)));
            }
            data.to_vec()
        }
        DEFLATED => {
            // One byte more than declared is read, so a lie about the size is seen without
            // inflating past the limit.
            let mut out = Vec::new();
            flate2::read::DeflateDecoder::new(data)
                .take(entry.size + 1)
                .read_to_end(&mut out)
                .map_err(|_| ZipError::Corrupt(shown(name)))?;
            out
        }
        other => return Err(ZipError::Method(shown(name), other)),
    };
    if content.len() as u64 != entry.size {
        return Err(ZipError::Corrupt(shown(name)));
    }
    let mut crc = flate2::Crc::new();
    crc.update(&content);
    if crc.sum() != entry.crc {
        return Err(ZipError::Corrupt(shown(name)));
    }
    Ok(content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_could_leave_the_root_are_unsafe() {
        for bad in [
            "../x",
            "a/../../x",
            "/etc/passwd",
            "C:/x",
            "a\\..\\x",
            "a\nb",
            "./x",
            "",
        ] {
            assert!(!is_safe_name(bad), "{bad:?}");
        }
        for good in ["ciguard-relay.json", "dir/file.json", "dir/", "a..b"] {
            assert!(is_safe_name(good), "{good:?}");
        }
    }

    #[test]
    fn every_corruption_of_a_valid_archive_is_an_error_or_the_same_content_never_a_panic() {
        use ciguard_test_support::github_app::relay::{ZipEntry, zip};
        let limits = Limits {
            max_archive: 1 << 20,
            max_entries: 8,
            max_entry: 1 << 16,
            max_total: 1 << 16,
        };
        let content = br#"{"version":1,"pr":1,"head_sha":"a","body":"hello hello hello"}"#;
        let mut stored = ZipEntry::new("b.txt", b"stored");
        stored.deflate = false;
        let archive = zip(&[ZipEntry::new("m.json", content), stored]);
        assert_eq!(read_entry(&archive, "m.json", &limits).unwrap(), content);
        assert_eq!(read_entry(&archive, "b.txt", &limits).unwrap(), b"stored");
        for at in 0..archive.len() {
            for flip in [0x01, 0x80, 0xFF] {
                let mut bad = archive.clone();
                bad[at] ^= flip;
                if let Ok(read) = read_entry(&bad, "m.json", &limits) {
                    // Only bytes that do not matter (timestamps, versions) may change.
                    assert_eq!(read, content, "byte {at} ^ {flip:#x}");
                }
            }
            let _ = read_entry(&archive[..at], "m.json", &limits);
        }
    }

    #[test]
    fn garbage_is_not_a_zip_and_never_panics() {
        let limits = Limits {
            max_archive: 1 << 20,
            max_entries: 8,
            max_entry: 1 << 16,
            max_total: 1 << 16,
        };
        assert_eq!(read_entry(b"", "x", &limits), Err(ZipError::NotZip));
        assert_eq!(
            read_entry(b"PK\x05\x06", "x", &limits),
            Err(ZipError::NotZip)
        );
        // An end record claiming a directory beyond the archive.
        let mut eocd = vec![0u8; 22];
        eocd[..4].copy_from_slice(&EOCD_SIG.to_le_bytes());
        eocd[8] = 1;
        eocd[10] = 1;
        eocd[12] = 100;
        assert!(matches!(
            read_entry(&eocd, "x", &limits),
            Err(ZipError::Malformed(_))
        ));
        // Every prefix of a truncated record: an error, never a panic.
        for n in 0..eocd.len() {
            let _ = read_entry(&eocd[..n], "x", &limits);
        }
    }
}
