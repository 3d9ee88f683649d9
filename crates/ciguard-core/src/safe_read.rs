//! Reading files of a repository that may be hostile: never through a symbolic link that leaves
//! the repository, never from a FIFO, device or socket (which could block or never end), and
//! never more than a size limit.

use std::fmt;
use std::fs::{File, FileType};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Why a file was not read. Its `Display` says what is wrong, never what the file holds.
#[derive(Debug)]
pub enum ReadError {
    /// Nothing exists at the path.
    Missing,
    /// The path, or a directory on the way to it, is a symbolic link to outside the repository.
    LeavesRepository,
    /// Not a regular file: `what` names the kind ("a FIFO", "a directory", ...).
    NotRegular {
        what: &'static str,
    },
    TooLarge {
        limit: u64,
    },
    Io(std::io::Error),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Missing => f.write_str("does not exist"),
            ReadError::LeavesRepository => f.write_str(
                "is reached through a symbolic link that leaves the repository; not followed",
            ),
            ReadError::NotRegular { what } => write!(f, "is {what}, not a regular file; not read"),
            ReadError::TooLarge { limit } => {
                write!(f, "is larger than the limit of {limit} bytes; not read")
            }
            ReadError::Io(e) => write!(f, "cannot be read: {e}"),
        }
    }
}

impl std::error::Error for ReadError {}

impl From<std::io::Error> for ReadError {
    fn from(e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::NotFound {
            ReadError::Missing
        } else {
            ReadError::Io(e)
        }
    }
}

/// "a FIFO", "a directory"... for messages about a file that is not a regular file.
pub fn describe(file_type: &FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_socket() {
            return "a socket";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
    }
    if file_type.is_dir() {
        "a directory"
    } else if file_type.is_symlink() {
        "a symbolic link"
    } else if file_type.is_file() {
        "a regular file"
    } else {
        "a special file"
    }
}

/// Where `path` really is, provided that is inside `root` (both resolved through links).
pub fn resolve_inside(root: &Path, path: &Path) -> Result<PathBuf, ReadError> {
    std::fs::symlink_metadata(path)?;
    let root = std::fs::canonicalize(root)?;
    let real = std::fs::canonicalize(path)?;
    if real.starts_with(&root) {
        Ok(real)
    } else {
        Err(ReadError::LeavesRepository)
    }
}

/// Reads a file found inside the repository at `root`: refused when it (or a directory on the
/// way) leads out of the repository, or is not a regular file, or is larger than `max_bytes`.
pub fn read_inside(root: &Path, path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let real = resolve_inside(root, path)?;
    read_regular(&real, max_bytes)
}

/// Reads a file the user named: links are followed (the user chose the path), but it must be a
/// regular file of at most `max_bytes`.
pub fn read_regular(path: &Path, max_bytes: u64) -> Result<Vec<u8>, ReadError> {
    let file = open_without_blocking(path)?;
    let metadata = file.metadata()?;
    let file_type = metadata.file_type();
    if !file_type.is_file() {
        return Err(ReadError::NotRegular {
            what: describe(&file_type),
        });
    }
    // Sized from the metadata (capped: a sparse or growing file may claim anything), so a file
    // is read in one or two calls instead of `Take`'s growing buffer of many reads and copies.
    let expected = metadata.len().min(max_bytes).saturating_add(1);
    let mut bytes = Vec::with_capacity(usize::try_from(expected).unwrap_or(0));
    file.take(max_bytes + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max_bytes {
        return Err(ReadError::TooLarge { limit: max_bytes });
    }
    Ok(bytes)
}

/// As [`read_inside`] or [`read_regular`], decoded as UTF-8 (the error names the byte).
pub fn read_text(root: Option<&Path>, path: &Path, max_bytes: u64) -> Result<String, ReadError> {
    let bytes = match root {
        Some(root) => read_inside(root, path, max_bytes)?,
        None => read_regular(path, max_bytes)?,
    };
    String::from_utf8(bytes).map_err(|e| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "invalid UTF-8 at byte {}; save it as UTF-8",
                e.utf8_error().valid_up_to()
            ),
        ))
    })
}

/// `path` with the characters every output escapes ([`crate::escape::text`]: controls,
/// bidirectional overrides) and bytes that are not UTF-8 written visibly (`\x1b`, `\xff`).
pub fn escape_path(path: &Path) -> String {
    let bytes = path.as_os_str().as_encoded_bytes();
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(&crate::escape::text(chunk.valid()));
        for b in chunk.invalid() {
            out.push_str(&format!("\\x{b:02x}"));
        }
    }
    out
}

/// Opens for reading without waiting on a FIFO that has no writer (the type is checked after).
fn open_without_blocking(path: &Path) -> std::io::Result<File> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn reads_regular_files_inside_and_follows_links_that_stay_inside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.toml"), "x = 1").unwrap();
        symlink("a.toml", dir.path().join("b.toml")).unwrap();
        let got = read_inside(dir.path(), &dir.path().join("b.toml"), 100).unwrap();
        assert_eq!(got, b"x = 1");
    }

    #[test]
    fn refuses_links_out_of_the_repository_even_through_a_directory() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "TOKEN=ghp_x").unwrap();
        let repo = tempfile::tempdir().unwrap();
        symlink(outside.path().join("secret"), repo.path().join("c.toml")).unwrap();
        symlink(outside.path(), repo.path().join(".github")).unwrap();
        for p in ["c.toml", ".github/secret"] {
            let e = read_inside(repo.path(), &repo.path().join(p), 100).unwrap_err();
            assert!(matches!(e, ReadError::LeavesRepository), "{p}: {e}");
            assert!(!e.to_string().contains("ghp_x"));
        }
    }

    #[test]
    fn refuses_fifos_devices_and_directories_without_blocking() {
        let repo = tempfile::tempdir().unwrap();
        let fifo = repo.path().join("f.toml");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = read_inside(repo.path(), &fifo, 100).unwrap_err();
            assert!(e.to_string().contains("a FIFO"), "{e}");
        } else {
            eprintln!("skipped the FIFO case: mkfifo is not available");
        }
        let e = read_regular(Path::new("/dev/null"), 100).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let e = read_inside(repo.path(), repo.path(), 100).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
    }

    #[test]
    fn escaped_paths_hold_no_control_characters_or_invalid_bytes() {
        use std::os::unix::ffi::OsStrExt;
        let raw = std::ffi::OsStr::from_bytes(b"a/\xff\x1b[2Jb\n::error::x.yml");
        assert_eq!(
            escape_path(Path::new(raw)),
            "a/\\xff\\x1b[2Jb\\n::error::x.yml"
        );
        // A right-to-left override would show `lmy.exe` as `exe.yml` on a terminal.
        assert_eq!(
            escape_path(Path::new("w/\u{202e}lmy.exe")),
            "w/\\u{202e}lmy.exe"
        );
        assert_eq!(
            escape_path(Path::new("./.github/ci.yml")),
            "./.github/ci.yml"
        );
    }

    #[test]
    fn enforces_the_size_limit_and_reports_missing_files() {
        let repo = tempfile::tempdir().unwrap();
        std::fs::write(repo.path().join("big"), "0123456789").unwrap();
        assert!(matches!(
            read_inside(repo.path(), &repo.path().join("big"), 9),
            Err(ReadError::TooLarge { limit: 9 })
        ));
        assert!(matches!(
            read_inside(repo.path(), &repo.path().join("none"), 9),
            Err(ReadError::Missing)
        ));
    }
}
