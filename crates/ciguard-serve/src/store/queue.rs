//! Deliveries and jobs: recording at ingress, claiming with leases, finishing, reaping, and the
//! operator's list / retry / cancel.

use std::time::Duration;

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Backend, Store, StoreError, is_unique_violation, ms, now_ms};
use crate::job::{Job, JobPayload, Outcome};

/// What ingress recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new delivery, with this many jobs queued or coalesced into queued ones.
    New { jobs: usize },
    /// This delivery ID was already recorded: nothing was written.
    Duplicate,
}

/// How failed jobs are retried.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// The first retry waits about this long; each next one twice as long.
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            base_delay: Duration::from_secs(10),
            max_delay: Duration::from_secs(3600),
        }
    }
}

impl RetryPolicy {
    /// Exponential backoff after `attempt` failed runs, with jitter over its upper half so that
    /// replicas retrying the same failure spread out.
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let full = exp.min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(jitter_fraction())
    }
}

/// A fraction in [0, 1) from the standard library's randomly keyed hasher.
fn jitter_fraction() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    (hasher.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// The state a finished run left its job in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finished {
    /// `done`, `queued` (retry or deferral), `dead`, or `superseded` (a newer job for the same
    /// key was queued meanwhile and does the work).
    State(String),
    /// The lease was lost (expired and reaped): another worker owns the job now.
    LeaseLost,
}

/// One line of `ciguard serve jobs list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobRow {
    pub id: i64,
    pub key: String,
    pub state: String,
    pub attempts: i64,
    pub max_attempts: i64,
    pub run_at: i64,
    pub updated_at: i64,
    pub delivery_id: String,
    pub note: Option<String>,
}

const INSERT_JOB: &str = "INSERT INTO jobs (job_key, installation_id, payload, delivery_id, state, attempts, max_attempts, run_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $6) \
     ON CONFLICT (job_key) WHERE state = 'queued' DO NOTHING";

/// SQLite: one statement; the `WHERE` makes a queued job with the same payload a no-op (SQLite
/// writers take turns anyway, so there is no row lock to avoid).
const UPSERT_JOB_SQLITE: &str = "INSERT INTO jobs (job_key, installation_id, payload, delivery_id, state, attempts, max_attempts, run_at, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $6, $6) \
     ON CONFLICT (job_key) WHERE state = 'queued' DO UPDATE SET \
     installation_id = excluded.installation_id, payload = excluded.payload, \
     delivery_id = excluded.delivery_id, updated_at = excluded.updated_at \
     WHERE jobs.payload <> excluded.payload OR jobs.installation_id <> excluded.installation_id";

const REPLACE_QUEUED: &str = "UPDATE jobs SET installation_id = $2, payload = $3, delivery_id = $4, updated_at = $5 \
     WHERE job_key = $1 AND state = 'queued'";

impl Store {
    /// Records a delivery and its jobs in one transaction. A repeated delivery ID writes nothing.
    pub async fn record_delivery(
        &self,
        delivery_id: &str,
        event: &str,
        outcome: &str,
        installation_id: u64,
        jobs: &[JobPayload],
        max_attempts: u32,
    ) -> Result<Recorded, StoreError> {
        self.count_write();
        let now = now_ms();
        let mut tx = self.pool().begin().await?;
        let inserted = sqlx::query(
            "INSERT INTO deliveries (id, event, outcome, received_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(delivery_id)
        .bind(event)
        .bind(outcome)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await?;
            return Ok(Recorded::Duplicate);
        }
        for job in jobs {
            let payload = serde_json::to_string(job).unwrap_or_default();
            let job = QueuedJob {
                key: &job.key(),
                installation_id: to_i64(installation_id),
                payload: &payload,
                delivery_id,
                max_attempts: i64::from(max_attempts),
                now,
            };
            queue_job(&mut tx, self.backend(), &job).await?;
        }
        tx.commit().await?;
        Ok(Recorded::New { jobs: jobs.len() })
    }

    /// Claims the next due job whose key is not running, for `lease`.
    pub async fn claim(&self, owner: &str, lease: Duration) -> Result<Option<Job>, StoreError> {
        let now = now_ms();
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, lease_until = $2, updated_at = $3 \
             WHERE id = (SELECT j.id FROM jobs j WHERE j.state = 'queued' AND j.run_at <= $3 \
               AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.job_key = j.job_key AND r.state = 'running') \
               ORDER BY j.run_at, j.id LIMIT 1 {lock}) \
             RETURNING id, installation_id, payload, attempts, delivery_id"
        );
        // Built from the fixed fragments above, nothing from input.
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(owner)
            .bind(now.saturating_add(ms(lease)))
            .bind(now)
            .fetch_optional(self.pool())
            .await;
        let row = match row {
            Ok(row) => row,
            // Another replica started the same key between our check and update: try later.
            Err(e) if is_unique_violation(&e) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let Some(row) = row else { return Ok(None) };
        let id: i64 = row.try_get("id")?;
        let payload: String = row.try_get("payload")?;
        let payload = match serde_json::from_str::<JobPayload>(&payload) {
            Ok(payload) => payload,
            Err(e) => {
                // Written by an incompatible version: no runner can do it.
                self.finish(
                    id,
                    owner,
                    &Outcome::Dead {
                        reason: format!("unreadable payload: {e}"),
                    },
                    &RetryPolicy::default(),
                )
                .await?;
                return Ok(None);
            }
        };
        Ok(Some(Job {
            id,
            installation_id: u64::try_from(row.try_get::<i64, _>("installation_id")?).unwrap_or(0),
            payload,
            attempt: u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX),
            delivery_id: row.try_get("delivery_id")?,
        }))
    }

    /// Extends a lease; false when it was lost.
    pub async fn heartbeat(
        &self,
        id: i64,
        owner: &str,
        lease: Duration,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now_ms().saturating_add(ms(lease)))
        .bind(id)
        .bind(owner)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records a run's outcome for the job `owner` holds.
    pub async fn finish(
        &self,
        id: i64,
        owner: &str,
        outcome: &Outcome,
        policy: &RetryPolicy,
    ) -> Result<Finished, StoreError> {
        self.count_write();
        let now = now_ms();
        let (terminal, note) = match outcome {
            Outcome::Done { summary } => ("done", summary),
            Outcome::Dead { reason } => ("dead", reason),
            Outcome::Retry { reason } => {
                let attempt = self.attempts(id).await?.unwrap_or(1);
                let run_at = now.saturating_add(ms(policy.delay(attempt)));
                return self
                    .requeue(id, Holder::Owner(owner), run_at, 0, true, reason)
                    .await;
            }
            Outcome::Deferred { until, reason } => {
                let run_at = super::to_ms(*until).max(now);
                return self
                    .requeue(id, Holder::Owner(owner), run_at, -1, false, reason)
                    .await;
            }
        };
        let row = sqlx::query(
            "UPDATE jobs SET state = $1, note = $2, lease_owner = NULL, lease_until = NULL, updated_at = $3 \
             WHERE id = $4 AND lease_owner = $5 AND state = 'running' RETURNING state",
        )
        .bind(terminal)
        .bind(truncate(note))
        .bind(now)
        .bind(id)
        .bind(owner)
        .fetch_optional(self.pool())
        .await?;
        Ok(match row {
            Some(row) => Finished::State(row.try_get("state")?),
            None => Finished::LeaseLost,
        })
    }

    async fn attempts(&self, id: i64) -> Result<Option<u32>, StoreError> {
        let row = sqlx::query("SELECT attempts FROM jobs WHERE id = $1")
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(row) => {
                Some(u32::try_from(row.try_get::<i64, _>("attempts")?).unwrap_or(u32::MAX))
            }
            None => None,
        })
    }

    /// Puts a running job back in the queue at `run_at`, unless its attempts are used up
    /// (`counts`) — then `dead` — or a newer job for its key is queued — then `superseded`.
    async fn requeue(
        &self,
        id: i64,
        holder: Holder<'_>,
        run_at: i64,
        attempts_delta: i64,
        counts: bool,
        note: &str,
    ) -> Result<Finished, StoreError> {
        let holder_clause = match holder {
            Holder::Owner(_) => "lease_owner = $7",
            Holder::Expired(_) => "lease_until < $7",
        };
        let sql = format!(
            "UPDATE jobs SET state = CASE \
               WHEN $1 = 1 AND attempts >= max_attempts THEN 'dead' \
               WHEN EXISTS (SELECT 1 FROM jobs q WHERE q.job_key = jobs.job_key AND q.state = 'queued') THEN 'superseded' \
               ELSE 'queued' END, \
             attempts = attempts + $2, run_at = $3, note = $4, lease_owner = NULL, lease_until = NULL, updated_at = $5 \
             WHERE id = $6 AND state = 'running' AND {holder_clause} RETURNING state"
        );
        let run = |sql: String| async move {
            // Built from fixed fragments, nothing from input.
            let q = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(i64::from(counts))
                .bind(attempts_delta)
                .bind(run_at)
                .bind(truncate(note))
                .bind(now_ms())
                .bind(id);
            let q = match holder {
                Holder::Owner(owner) => q.bind(owner),
                Holder::Expired(now) => q.bind(now),
            };
            q.fetch_optional(self.pool()).await
        };
        let row = match run(sql).await {
            Ok(row) => row,
            // A newer job for the key was queued between the check and the update.
            Err(e) if is_unique_violation(&e) => {
                let forced = format!(
                    "UPDATE jobs SET state = CASE WHEN $1 = 1 AND attempts >= max_attempts THEN 'dead' ELSE 'superseded' END, \
                     attempts = attempts + $2, run_at = $3, note = $4, lease_owner = NULL, lease_until = NULL, updated_at = $5 \
                     WHERE id = $6 AND state = 'running' AND {holder_clause} RETURNING state"
                );
                run(forced).await?
            }
            Err(e) => return Err(e.into()),
        };
        Ok(match row {
            Some(row) => Finished::State(row.try_get("state")?),
            None => Finished::LeaseLost,
        })
    }

    /// Requeues (or kills, when out of attempts) every running job whose lease expired: its
    /// worker died. Returns how many.
    pub async fn reap_expired(&self) -> Result<usize, StoreError> {
        let now = now_ms();
        let rows = sqlx::query("SELECT id FROM jobs WHERE state = 'running' AND lease_until < $1")
            .bind(now)
            .fetch_all(self.pool())
            .await?;
        let mut reaped = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            self.count_write();
            let state = self
                .requeue(id, Holder::Expired(now), now, 0, true, "lease expired")
                .await?;
            if state != Finished::LeaseLost {
                reaped += 1;
            }
        }
        Ok(reaped)
    }

    /// Puts `owner`'s running jobs back in the queue without counting the attempt (shutdown).
    pub async fn release_leases(&self, owner: &str) -> Result<usize, StoreError> {
        let rows = sqlx::query("SELECT id FROM jobs WHERE state = 'running' AND lease_owner = $1")
            .bind(owner)
            .fetch_all(self.pool())
            .await?;
        let mut released = 0;
        for row in rows {
            let id: i64 = row.try_get("id")?;
            self.count_write();
            let state = self
                .requeue(
                    id,
                    Holder::Owner(owner),
                    now_ms(),
                    -1,
                    false,
                    "released at shutdown",
                )
                .await?;
            if state != Finished::LeaseLost {
                released += 1;
            }
        }
        Ok(released)
    }

    /// The newest jobs first, optionally in one state.
    pub async fn list_jobs(
        &self,
        state: Option<&str>,
        limit: u32,
    ) -> Result<Vec<JobRow>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, job_key, state, attempts, max_attempts, run_at, updated_at, delivery_id, note FROM jobs \
             WHERE ($1 = '' OR state = $1) ORDER BY id DESC LIMIT $2",
        )
        .bind(state.unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(job_row)
            .collect::<Result<_, _>>()
            .map_err(Into::into)
    }

    /// Queues a dead or cancelled job again with fresh attempts. False when there is no such
    /// job in those states.
    pub async fn retry_job(&self, id: i64) -> Result<bool, StoreError> {
        self.count_write();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = 0, run_at = $1, updated_at = $1, note = 'retried by an operator' \
             WHERE id = $2 AND state IN ('dead', 'cancelled')",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await;
        match done {
            Ok(done) => Ok(done.rows_affected() == 1),
            Err(e) if is_unique_violation(&e) => {
                let queued = sqlx::query(
                    "SELECT q.id FROM jobs q, jobs j WHERE j.id = $1 AND q.job_key = j.job_key AND q.state = 'queued'",
                )
                .bind(id)
                .fetch_one(self.pool())
                .await?
                .try_get("id")?;
                Err(StoreError::KeyQueued(queued))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Cancels a queued job. False when it is not queued (a running job finishes its run).
    pub async fn cancel_job(&self, id: i64) -> Result<bool, StoreError> {
        self.count_write();
        let done = sqlx::query(
            "UPDATE jobs SET state = 'cancelled', updated_at = $1, note = 'cancelled by an operator' WHERE id = $2 AND state = 'queued'",
        )
        .bind(now_ms())
        .bind(id)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Number of recorded deliveries.
    pub async fn delivery_count(&self) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM deliveries")
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get("n")?)
    }

    /// True when `id` is a recorded delivery.
    pub async fn has_delivery(&self, id: &str) -> Result<bool, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM deliveries WHERE id = $1")
            .bind(id)
            .fetch_one(self.pool())
            .await?;
        Ok(row.try_get::<i64, _>("n")? == 1)
    }

    /// Takes or renews the lease `name` for `holder`; true when `holder` has it.
    pub async fn try_lead(
        &self,
        name: &str,
        holder: &str,
        ttl: Duration,
    ) -> Result<bool, StoreError> {
        let now = now_ms();
        let done = sqlx::query(
            "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4",
        )
        .bind(name)
        .bind(holder)
        .bind(now.saturating_add(ms(ttl)))
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up the lease `name` if `holder` has it.
    pub async fn resign(&self, name: &str, holder: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(name)
            .bind(holder)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Deletes deliveries and finished jobs older than `age`. Returns (deliveries, jobs).
    pub async fn prune(&self, age: Duration) -> Result<(u64, u64), StoreError> {
        self.count_write();
        let cutoff = now_ms().saturating_sub(ms(age));
        let deliveries = sqlx::query("DELETE FROM deliveries WHERE received_at < $1")
            .bind(cutoff)
            .execute(self.pool())
            .await?
            .rows_affected();
        let jobs = sqlx::query(
            "DELETE FROM jobs WHERE state IN ('done', 'dead', 'cancelled', 'superseded') AND updated_at < $1",
        )
        .bind(cutoff)
        .execute(self.pool())
        .await?
        .rows_affected();
        Ok((deliveries, jobs))
    }
}

#[derive(Clone, Copy)]
enum Holder<'a> {
    /// The worker holding the lease.
    Owner(&'a str),
    /// The reaper: any lease that expired before this time.
    Expired(i64),
}

/// One job row as a delivery queues it.
#[derive(Clone, Copy)]
struct QueuedJob<'a> {
    key: &'a str,
    installation_id: i64,
    payload: &'a str,
    delivery_id: &'a str,
    max_attempts: i64,
    now: i64,
}

/// Queues one job, or coalesces it into the key's queued job. A queued job that already carries
/// the same payload is left alone: no write and, on PostgreSQL, no row lock (an `ON CONFLICT DO
/// UPDATE` locks the row even when its `WHERE` is false), so the many deliveries of one pull
/// request (and redeliveries) do not queue behind each other on that row. A different payload
/// replaces the queued one (the newest head wins); when the queued job was claimed meanwhile, the
/// insert is tried again and queues a follow-up run.
async fn queue_job(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    backend: Backend,
    job: &QueuedJob<'_>,
) -> Result<(), StoreError> {
    let QueuedJob {
        key,
        installation_id,
        payload,
        delivery_id,
        max_attempts,
        now,
    } = *job;
    let insert = match backend {
        Backend::Sqlite => UPSERT_JOB_SQLITE,
        Backend::Postgres => INSERT_JOB,
    };
    // Each round either writes or sees the queued job leave the queue; three are plenty.
    for _ in 0..3 {
        let inserted = sqlx::query(insert)
            .bind(key)
            .bind(installation_id)
            .bind(payload)
            .bind(delivery_id)
            .bind(max_attempts)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        // SQLite's upsert did all there is to do: inserted, replaced, or left the same alone.
        if inserted == 1 || backend == Backend::Sqlite {
            return Ok(());
        }
        let queued = sqlx::query(
            "SELECT installation_id, payload FROM jobs WHERE job_key = $1 AND state = 'queued'",
        )
        .bind(key)
        .fetch_optional(&mut **tx)
        .await?;
        let Some(queued) = queued else { continue };
        let same = queued.try_get::<i64, _>("installation_id")? == installation_id
            && queued.try_get::<String, _>("payload")? == payload;
        if same {
            return Ok(());
        }
        let replaced = sqlx::query(REPLACE_QUEUED)
            .bind(key)
            .bind(installation_id)
            .bind(payload)
            .bind(delivery_id)
            .bind(now)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        if replaced == 1 {
            return Ok(());
        }
    }
    Err(StoreError::Contended(format!(
        "job {key} kept leaving the queue while being queued"
    )))
}

fn job_row(row: &AnyRow) -> Result<JobRow, sqlx::Error> {
    Ok(JobRow {
        id: row.try_get("id")?,
        key: row.try_get("job_key")?,
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        max_attempts: row.try_get("max_attempts")?,
        run_at: row.try_get("run_at")?,
        updated_at: row.try_get("updated_at")?,
        delivery_id: row.try_get("delivery_id")?,
        note: row.try_get::<Option<String>, _>("note")?,
    })
}

fn truncate(note: &str) -> String {
    let mut end = note.len().min(2000);
    while !note.is_char_boundary(end) {
        end -= 1;
    }
    note[..end].to_string()
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}
