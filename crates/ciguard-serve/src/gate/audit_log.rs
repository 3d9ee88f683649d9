//! The gate's append-only audit log and its review ledger in the store. Each row's hash is
//! sha256 over a canonical encoding of the row and the previous row's hash, so an edited,
//! deleted or reordered row breaks the chain that [`Store::verify_gate_audit_log`] walks.
//! Rows hold ids, SHAs, logins and conditions, never a token.

use sha2::{Digest, Sha256};
use sqlx::{Executor, Row};

use crate::store::{Backend, Store, StoreError, now_ms};

/// The previous hash of the first row.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One row to append.
#[derive(Debug, Clone)]
pub struct AuditEntry<'a> {
    /// `intent`, `outcome` or `refused`.
    pub kind: &'a str,
    pub repository: &'a str,
    pub run_id: u64,
    pub environment: &'a str,
    /// The evidence, JSON.
    pub record: serde_json::Value,
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRow {
    pub seq: i64,
    pub recorded_at: i64,
    pub kind: String,
    pub repository: String,
    pub run_id: i64,
    pub environment: String,
    pub record: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditRow {
    /// The hash this row should carry: every field but `seq` and `hash`, each as its byte length,
    /// a colon and its bytes, so no two different rows encode alike.
    pub fn expected_hash(&self) -> String {
        let mut hasher = Sha256::new();
        let fields: [&[u8]; 7] = [
            self.prev_hash.as_bytes(),
            &self.recorded_at.to_be_bytes(),
            self.kind.as_bytes(),
            self.repository.as_bytes(),
            &self.run_id.to_be_bytes(),
            self.environment.as_bytes(),
            self.record.as_bytes(),
        ];
        for field in fields {
            hasher.update(field.len().to_string().as_bytes());
            hasher.update(b":");
            hasher.update(field);
        }
        ciguard_core::hex::encode(&hasher.finalize())
    }
}

/// What `audit-log verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub rows: usize,
    /// The first break, naming the row (`None`: the chain is intact).
    pub broken: Option<String>,
}

/// A review's state in the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewState {
    /// The intent row is written; the call may or may not have reached GitHub.
    Intent,
    /// GitHub took the review (or said it was already reviewed).
    Reviewed,
}

fn i64_of(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

impl Store {
    /// Appends `entry` at the end of the chain; the new row.
    pub async fn append_gate_audit(&self, entry: &AuditEntry<'_>) -> Result<AuditRow, StoreError> {
        self.count_write();
        let mut tx = self.pool().begin().await?;
        if self.backend() == Backend::Postgres {
            // Replicas append one at a time (the unique prev_hash index refuses a fork anyway).
            tx.execute("SELECT pg_advisory_xact_lock(7403562023)")
                .await?;
        }
        let prev: Option<String> =
            sqlx::query("SELECT hash FROM gate_audit_log ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?
                .map(|row| row.try_get("hash"))
                .transpose()?;
        let mut row = AuditRow {
            seq: 0,
            recorded_at: now_ms(),
            kind: entry.kind.to_owned(),
            repository: entry.repository.to_owned(),
            run_id: i64_of(entry.run_id),
            environment: entry.environment.to_owned(),
            record: entry.record.to_string(),
            prev_hash: prev.unwrap_or_else(|| GENESIS.to_owned()),
            hash: String::new(),
        };
        row.hash = row.expected_hash();
        let inserted = sqlx::query(
            "INSERT INTO gate_audit_log (recorded_at, kind, repository, run_id, environment, record, prev_hash, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING seq",
        )
        .bind(row.recorded_at)
        .bind(row.kind.as_str())
        .bind(row.repository.as_str())
        .bind(row.run_id)
        .bind(row.environment.as_str())
        .bind(row.record.as_str())
        .bind(row.prev_hash.as_str())
        .bind(row.hash.as_str())
        .fetch_one(&mut *tx)
        .await?;
        row.seq = inserted.try_get("seq")?;
        tx.commit().await?;
        Ok(row)
    }

    /// Every row, in order.
    pub async fn gate_audit_rows(&self) -> Result<Vec<AuditRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, recorded_at, kind, repository, run_id, environment, record, prev_hash, hash \
             FROM gate_audit_log ORDER BY seq",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(AuditRow {
                    seq: r.try_get("seq")?,
                    recorded_at: r.try_get("recorded_at")?,
                    kind: r.try_get("kind")?,
                    repository: r.try_get("repository")?,
                    run_id: r.try_get("run_id")?,
                    environment: r.try_get("environment")?,
                    record: r.try_get("record")?,
                    prev_hash: r.try_get("prev_hash")?,
                    hash: r.try_get("hash")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(StoreError::from)
    }

    /// Walks the chain: each row must carry its own hash and follow the row before it.
    pub async fn verify_gate_audit_log(&self) -> Result<Verified, StoreError> {
        let rows = self.gate_audit_rows().await?;
        Ok(verify_rows(&rows))
    }

    /// The ledger's state of one review.
    pub async fn gate_review_state(
        &self,
        repository_id: u64,
        run_id: u64,
        environment: &str,
        deployment_id: u64,
    ) -> Result<Option<ReviewState>, StoreError> {
        let row = sqlx::query(
            "SELECT state FROM gate_reviews WHERE repository_id = $1 AND run_id = $2 AND environment = $3 AND deployment_id = $4",
        )
        .bind(i64_of(repository_id))
        .bind(i64_of(run_id))
        .bind(environment)
        .bind(i64_of(deployment_id))
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(row) => match row.try_get::<String, _>("state")?.as_str() {
                "reviewed" => Some(ReviewState::Reviewed),
                _ => Some(ReviewState::Intent),
            },
            None => None,
        })
    }

    /// Records a review's state and decision (`approved` / `rejected`).
    pub async fn set_gate_review_state(
        &self,
        repository_id: u64,
        run_id: u64,
        environment: &str,
        deployment_id: u64,
        state: ReviewState,
        decision: &str,
    ) -> Result<(), StoreError> {
        self.count_write();
        let state = match state {
            ReviewState::Intent => "intent",
            ReviewState::Reviewed => "reviewed",
        };
        sqlx::query(
            "INSERT INTO gate_reviews (repository_id, run_id, environment, deployment_id, state, decision, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (repository_id, run_id, environment, deployment_id) DO UPDATE SET \
             state = excluded.state, decision = excluded.decision, updated_at = excluded.updated_at",
        )
        .bind(i64_of(repository_id))
        .bind(i64_of(run_id))
        .bind(environment)
        .bind(i64_of(deployment_id))
        .bind(state)
        .bind(decision)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

/// The chain check over rows in `seq` order.
pub fn verify_rows(rows: &[AuditRow]) -> Verified {
    let mut prev = GENESIS.to_owned();
    for row in rows {
        if row.prev_hash != prev {
            return Verified {
                rows: rows.len(),
                broken: Some(format!(
                    "row {} does not follow the row before it (a row was deleted, inserted or reordered)",
                    row.seq
                )),
            };
        }
        if row.expected_hash() != row.hash {
            return Verified {
                rows: rows.len(),
                broken: Some(format!(
                    "row {} does not match its hash (it was edited)",
                    row.seq
                )),
            };
        }
        prev.clone_from(&row.hash);
    }
    Verified {
        rows: rows.len(),
        broken: None,
    }
}
