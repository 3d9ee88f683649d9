//! The drift rows of the store (`drift_issues`, migration 0002) and the lock per (subject,
//! check): a row of the shared `leases` table, so it works the same on SQLite and PostgreSQL
//! and a crashed holder's lock expires.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use sqlx::Row;

use super::issue::Stored;
use crate::store::{Store, StoreError, now_ms};

/// How long a (subject, check) lock lives without being released (a job handles one check in
/// a few requests).
pub const LOCK_TTL: Duration = Duration::from_secs(120);

/// A holder name unique to this process and call.
pub fn holder() -> String {
    static SERIAL: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "drift-{}-{nanos:08x}-{}",
        std::process::id(),
        SERIAL.fetch_add(1, Ordering::Relaxed)
    )
}

fn lock_name(subject: &str, check: &str) -> String {
    format!("drift:{subject}:{check}")
}

impl Store {
    /// Takes the lock of (subject, check) for `holder`; false when another holds it.
    pub async fn drift_lock(
        &self,
        subject: &str,
        check: &str,
        holder: &str,
    ) -> Result<bool, StoreError> {
        self.try_lead(&lock_name(subject, check), holder, LOCK_TTL)
            .await
    }

    pub async fn drift_unlock(
        &self,
        subject: &str,
        check: &str,
        holder: &str,
    ) -> Result<(), StoreError> {
        self.resign(&lock_name(subject, check), holder).await
    }

    /// The stored issue of (subject, check).
    pub async fn drift_issue(
        &self,
        subject: &str,
        check: &str,
    ) -> Result<Option<Stored>, StoreError> {
        let row = sqlx::query(
            "SELECT issue_repo, issue_number, body_hash, state, written_at FROM drift_issues WHERE subject = $1 AND check_id = $2",
        )
        .bind(subject)
        .bind(check)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(Stored {
            issue_repo: row.try_get("issue_repo")?,
            number: u64::try_from(row.try_get::<i64, _>("issue_number")?).unwrap_or(0),
            body_hash: row.try_get("body_hash")?,
            state: row.try_get("state")?,
            written_at: row.try_get("written_at")?,
        }))
    }

    /// Records the issue of (subject, check) as written now.
    pub async fn drift_record(
        &self,
        subject: &str,
        check: &str,
        stored: &Stored,
    ) -> Result<(), StoreError> {
        self.count_write();
        sqlx::query(
            "INSERT INTO drift_issues (subject, check_id, issue_repo, issue_number, body_hash, state, written_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (subject, check_id) DO UPDATE SET issue_repo = excluded.issue_repo, \
             issue_number = excluded.issue_number, body_hash = excluded.body_hash, \
             state = excluded.state, written_at = excluded.written_at",
        )
        .bind(subject)
        .bind(check)
        .bind(&stored.issue_repo)
        .bind(i64::try_from(stored.number).unwrap_or(0))
        .bind(&stored.body_hash)
        .bind(&stored.state)
        .bind(stored.written_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every stored drift issue: (subject, check, issue).
    pub async fn drift_issues(&self) -> Result<Vec<(String, String, Stored)>, StoreError> {
        let rows = sqlx::query(
            "SELECT subject, check_id, issue_repo, issue_number, body_hash, state, written_at FROM drift_issues ORDER BY subject, check_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                Ok((
                    row.try_get("subject")?,
                    row.try_get("check_id")?,
                    Stored {
                        issue_repo: row.try_get("issue_repo")?,
                        number: u64::try_from(row.try_get::<i64, _>("issue_number")?).unwrap_or(0),
                        body_hash: row.try_get("body_hash")?,
                        state: row.try_get("state")?,
                        written_at: row.try_get("written_at")?,
                    },
                ))
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }
}

/// Now, in the store's unit.
pub fn now() -> i64 {
    now_ms()
}
