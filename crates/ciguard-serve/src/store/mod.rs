//! The store and queue behind one interface, on SQLite (one process: an exclusive lock file and a
//! single connection make it the only writer) or PostgreSQL (many replicas: `FOR UPDATE SKIP
//! LOCKED` claims). Both run the same SQL through sqlx's `Any` driver, with the few dialect
//! differences spelled out where they occur. Times are Unix milliseconds.

mod queue;
mod traits;

use std::fs::File;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor, Row};

pub use queue::{Finished, JobRow, Recorded, RetryPolicy};

use crate::secret::DbUrl;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported --db {0}: use sqlite:PATH or postgres://USER@HOST/DB")]
    BadUrl(String),
    #[error(
        "another ciguard serve already uses {path} (it holds {lock}): run one instance per SQLite file, or use PostgreSQL for replicas"
    )]
    Locked { path: String, lock: String },
    #[error("cannot open the lock file {path}: {source}")]
    LockFile {
        path: String,
        source: std::io::Error,
    },
    #[error("database {url}: {source}")]
    Connect { url: String, source: sqlx::Error },
    #[error("database: {0}")]
    Query(#[from] sqlx::Error),
    #[error("a newer job for the same key is queued (job {0}): retry that one instead")]
    KeyQueued(i64),
    /// A write that kept racing other writers (transient: answered 503 like an outage).
    #[error("database contention: {0}")]
    Contended(String),
}

impl StoreError {
    /// True when the database is unreachable or failing (503), as opposed to a usage error.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            StoreError::Query(_) | StoreError::Connect { .. } | StoreError::Contended(_)
        )
    }
}

#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Take the SQLite file's exclusive lock (the server does; `jobs` commands do not).
    pub exclusive: bool,
    /// PostgreSQL pool size.
    pub max_connections: u32,
    /// How long a request waits for a connection before the store counts as down.
    pub acquire_timeout: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            exclusive: true,
            max_connections: 16,
            acquire_timeout: Duration::from_secs(3),
        }
    }
}

#[derive(Clone)]
pub struct Store(Arc<Inner>);

struct Inner {
    pool: AnyPool,
    backend: Backend,
    /// Held for the store's life: the SQLite single-instance lock.
    _lock: Option<File>,
    /// Write transactions begun, for the tests that prove forged requests write nothing.
    writes: AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("backend", &self.0.backend)
            .finish_non_exhaustive()
    }
}

const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_init.sql")),
    (2, include_str!("migrations/0002_drift.sql")),
    (3, include_str!("migrations/0003_gate.sql")),
];

impl Store {
    pub async fn open(url: &DbUrl, options: &StoreOptions) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let raw = url.expose();
        let (backend, connect_url, lock) = if let Some(path) = raw.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() || path.contains(['?', '#']) {
                return Err(StoreError::BadUrl(url.redacted()));
            }
            let lock = if options.exclusive {
                Some(lock_sqlite(path)?)
            } else {
                None
            };
            (Backend::Sqlite, format!("sqlite://{path}?mode=rwc"), lock)
        } else if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            (Backend::Postgres, raw.to_string(), None)
        } else {
            return Err(StoreError::BadUrl(url.redacted()));
        };
        let pool_options = AnyPoolOptions::new().acquire_timeout(options.acquire_timeout);
        let pool_options = match backend {
            // One connection: the single writer; WAL keeps committed deliveries across a crash.
            Backend::Sqlite => pool_options.max_connections(1).after_connect(|conn, _| {
                Box::pin(async move {
                    conn.execute("PRAGMA journal_mode = WAL").await?;
                    conn.execute("PRAGMA synchronous = NORMAL").await?;
                    conn.execute("PRAGMA busy_timeout = 5000").await?;
                    Ok(())
                })
            }),
            Backend::Postgres => pool_options.max_connections(options.max_connections),
        };
        let pool =
            pool_options
                .connect(&connect_url)
                .await
                .map_err(|source| StoreError::Connect {
                    url: url.redacted(),
                    source,
                })?;
        let store = Store(Arc::new(Inner {
            pool,
            backend,
            _lock: lock,
            writes: AtomicU64::new(0),
        }));
        store.migrate().await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    pub(crate) fn pool(&self) -> &AnyPool {
        &self.0.pool
    }

    /// Write transactions begun since start.
    pub fn writes(&self) -> u64 {
        self.0.writes.load(Ordering::Relaxed)
    }

    pub(crate) fn count_write(&self) {
        self.0.writes.fetch_add(1, Ordering::Relaxed);
    }

    /// For `/readyz`.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.pool().execute("SELECT 1").await?;
        Ok(())
    }

    /// True after [`Store::close`].
    pub fn is_closed(&self) -> bool {
        self.0.pool.is_closed()
    }

    /// Closes every connection; later calls fail as if the database were down.
    pub async fn close(&self) {
        self.0.pool.close().await;
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            // Replicas starting together migrate one at a time.
            tx.execute("SELECT pg_advisory_xact_lock(7403562019)")
                .await?;
        }
        tx.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .await?;
        // Every version not applied yet, not only those above the highest: a migration merged
        // with a lower number than one a database already has must still run.
        let mut applied = std::collections::HashSet::new();
        for row in sqlx::query("SELECT version FROM schema_migrations")
            .fetch_all(&mut *tx)
            .await?
        {
            applied.insert(row.try_get::<i64, _>("version")?);
        }
        let id_column = match self.backend() {
            Backend::Sqlite => "INTEGER PRIMARY KEY AUTOINCREMENT",
            Backend::Postgres => "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
        };
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| !applied.contains(v)) {
            for statement in sql.split(';').map(strip_comments).filter(|s| !s.is_empty()) {
                tx.execute(sqlx::AssertSqlSafe(statement.replace("{{ID}}", id_column)))
                    .await?;
            }
            sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

fn strip_comments(statement: &str) -> String {
    statement
        .lines()
        .filter(|line| !line.trim_start().starts_with("--"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Takes `PATH.lock` exclusively (released by the OS when the process dies, even by `kill -9`).
fn lock_sqlite(path: &str) -> Result<File, StoreError> {
    let lock_path = PathBuf::from(format!("{path}.lock"));
    let shown = lock_path.display().to_string();
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|source| StoreError::LockFile {
            path: shown.clone(),
            source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StoreError::Locked {
            path: path.to_string(),
            lock: shown,
        }),
        Err(std::fs::TryLockError::Error(source)) => Err(StoreError::LockFile {
            path: shown,
            source,
        }),
    }
}

pub fn now_ms() -> i64 {
    to_ms(SystemTime::now())
}

pub fn to_ms(time: SystemTime) -> i64 {
    match time.duration_since(UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_millis()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

pub fn from_ms(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

fn ms(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn get_opt_i64(row: &AnyRow, column: &str) -> Result<Option<i64>, sqlx::Error> {
    row.try_get::<Option<i64>, _>(column)
}

fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database that lacks a migration numbered below one it has (branches merged in another
    /// order than they were numbered) gets it at the next start.
    #[tokio::test]
    async fn a_missing_migration_below_the_newest_is_applied() {
        let dir = tempfile::tempdir().unwrap();
        let url = DbUrl::new(format!("sqlite:{}", dir.path().join("s.db").display()));
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let (first, _) = MIGRATIONS[0];
        let (newest, _) = MIGRATIONS[MIGRATIONS.len() - 1];
        assert!(newest > first, "this test needs two migrations");
        sqlx::query("DELETE FROM schema_migrations WHERE version = $1")
            .bind(newest)
            .execute(store.pool())
            .await
            .unwrap();
        // Pretend a later-numbered migration ran: the missing one is still below it.
        sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (9999, 0)")
            .execute(store.pool())
            .await
            .unwrap();
        let tables_before: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get("n")
                .unwrap();
        // Drop what the newest migration made so re-applying it succeeds and can be seen.
        let (_, sql) = MIGRATIONS[MIGRATIONS.len() - 1];
        let made: Vec<String> = sql
            .split(';')
            .map(strip_comments)
            .filter_map(|s| {
                let s = s.trim().to_owned();
                s.strip_prefix("CREATE TABLE ")
                    .map(|rest| rest.split_whitespace().next().unwrap_or("").to_owned())
            })
            .collect();
        assert!(!made.is_empty());
        for table in &made {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP TABLE {table}")))
                .execute(store.pool())
                .await
                .unwrap();
        }
        store.close().await;
        drop(store);
        let store = Store::open(&url, &StoreOptions::default()).await.unwrap();
        let tables_after: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table'")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get("n")
                .unwrap();
        assert_eq!(tables_after, tables_before);
        let versions: i64 =
            sqlx::query("SELECT COUNT(*) AS n FROM schema_migrations WHERE version = $1")
                .bind(newest)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get("n")
                .unwrap();
        assert_eq!(versions, 1);
        store.close().await;
    }
}
