//! The on-disk cache of registry answers, one JSON file per package.
//!
//! What is kept and for how long:
//! - a version's publish time never changes: kept for good;
//! - yank status and the version list change: trusted for `revalidate_after`, then asked again
//!   with the answer's `ETag` (`If-None-Match`), so an unchanged package costs a 304 and no body;
//! - "no such package" and "no such version" are kept for `negative_ttl` (a day by default), so
//!   private or mistyped names are not fetched on every run, yet appear once published.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::lockfile::Ecosystem;
use crate::registry::{Release, normalize_pypi};

pub type Versions = BTreeMap<String, Release>;

/// What is known about one package.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CacheEntry {
    /// Every version the registry listed, with publish time and yank status.
    #[serde(default)]
    pub versions: Versions,
    /// The registry's `ETag` for that answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub etag: Option<String>,
    /// When the registry last confirmed `versions` (Unix seconds; 0 = never, e.g. old caches).
    #[serde(default)]
    pub checked_at: i64,
    /// When the registry last said the package does not exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_package_at: Option<i64>,
    /// Versions the registry did not have, and when that was seen.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub missing_versions: BTreeMap<String, i64>,
}

/// The directory of the cache and how to name a package's file in it.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
}

impl DiskCache {
    pub fn new(dir: PathBuf) -> Self {
        Self { dir }
    }

    fn path(&self, eco: Ecosystem, name: &str) -> PathBuf {
        let key = match eco {
            Ecosystem::Cargo => name.to_ascii_lowercase(),
            Ecosystem::PyPI => normalize_pypi(name),
            Ecosystem::Npm => name.to_owned(),
        };
        // Every byte outside a small safe set is escaped: names cannot climb out of the cache.
        let safe: String = key
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '@') {
                    c.to_string()
                } else {
                    format!("%{:02x}", u32::from(c))
                }
            })
            .collect();
        self.dir.join(eco.as_str()).join(format!("{safe}.json"))
    }

    pub fn read(&self, eco: Ecosystem, name: &str) -> Option<CacheEntry> {
        let text = std::fs::read_to_string(self.path(eco, name)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Written to a temporary file and renamed, so a concurrent reader never sees half a file.
    pub fn write(&self, eco: Ecosystem, name: &str, entry: &CacheEntry) {
        let path = self.path(eco, name);
        let Some(dir) = path.parent() else { return };
        if std::fs::create_dir_all(dir).is_err() {
            return;
        }
        let Ok(text) = serde_json::to_string(entry) else {
            return;
        };
        let tmp = path.with_extension(format!(
            "tmp{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_cache() {
        let cache = DiskCache::new(PathBuf::from("/c"));
        let p = cache.path(Ecosystem::Npm, "../../etc/passwd");
        assert!(p.starts_with("/c/npm"));
        assert_eq!(p.components().count(), 4, "{p:?}");
        assert_eq!(
            cache.path(Ecosystem::Npm, "@types/node"),
            PathBuf::from("/c/npm/@types%2fnode.json")
        );
    }

    #[test]
    fn old_cache_files_still_read() {
        let old = r#"{"versions":{"1.0.0":{"published":1,"yanked":false}}}"#;
        let e: CacheEntry = serde_json::from_str(old).expect("old format");
        assert_eq!(e.checked_at, 0);
        assert!(e.etag.is_none());
    }
}
