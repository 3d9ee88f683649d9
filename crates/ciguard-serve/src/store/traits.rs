//! The store's side of the traits the App runner uses: the shared rate-limit budget and the
//! index of recorded deliveries.

use std::collections::HashSet;
use std::time::SystemTime;

use sqlx::Row;

use super::{Store, from_ms, get_opt_i64, ms, now_ms, to_ms};
use crate::job::{DeliveryIndex, RateLimitStore, RateState};

impl Store {
    /// Records what GitHub said about an installation's budget; the installation is blocked until
    /// the latest of `retry-after` and, when nothing remains, the reset time.
    pub async fn record_rate(
        &self,
        installation_id: u64,
        state: &RateState,
    ) -> Result<(), super::StoreError> {
        let now = now_ms();
        let mut blocked: Option<i64> = state.retry_after.map(|d| now.saturating_add(ms(d)));
        if state.remaining == Some(0) || state.secondary {
            if let Some(reset) = state.reset {
                blocked = Some(blocked.unwrap_or(0).max(to_ms(reset)));
            } else if state.secondary && blocked.is_none() {
                // A secondary limit without retry-after: GitHub asks for at least a minute.
                blocked = Some(now.saturating_add(60_000));
            }
        }
        self.count_write();
        sqlx::query(
            "INSERT INTO rate_limits (installation_id, remaining, reset_at, blocked_until, updated_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (installation_id) DO UPDATE SET remaining = excluded.remaining, reset_at = excluded.reset_at, \
             blocked_until = CASE WHEN excluded.blocked_until IS NULL THEN rate_limits.blocked_until \
               WHEN rate_limits.blocked_until IS NULL OR rate_limits.blocked_until < excluded.blocked_until THEN excluded.blocked_until \
               ELSE rate_limits.blocked_until END, \
             updated_at = excluded.updated_at",
        )
        .bind(i64::try_from(installation_id).unwrap_or(i64::MAX))
        .bind(state.remaining.map(|r| i64::try_from(r).unwrap_or(i64::MAX)))
        .bind(state.reset.map(to_ms))
        .bind(blocked)
        .bind(now)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// When the installation may call GitHub again, if it is blocked now.
    pub async fn rate_blocked_until(
        &self,
        installation_id: u64,
    ) -> Result<Option<SystemTime>, super::StoreError> {
        let row = sqlx::query("SELECT blocked_until FROM rate_limits WHERE installation_id = $1")
            .bind(i64::try_from(installation_id).unwrap_or(i64::MAX))
            .fetch_optional(self.pool())
            .await?;
        let until = match row {
            Some(row) => get_opt_i64(&row, "blocked_until")?,
            None => None,
        };
        Ok(until.filter(|&t| t > now_ms()).map(from_ms))
    }

    /// The subset of `guids` that are recorded deliveries.
    pub async fn known_deliveries(
        &self,
        guids: &[String],
    ) -> Result<HashSet<String>, super::StoreError> {
        let mut known = HashSet::new();
        for chunk in guids.chunks(200) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id FROM deliveries WHERE id IN ({})",
                placeholders.join(", ")
            );
            // Only numbered placeholders: the GUIDs are bound.
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for guid in chunk {
                query = query.bind(guid.as_str());
            }
            for row in query.fetch_all(self.pool()).await? {
                known.insert(row.try_get::<String, _>("id")?);
            }
        }
        Ok(known)
    }
}

impl RateLimitStore for Store {
    async fn record(&self, installation_id: u64, state: RateState) {
        if let Err(e) = self.record_rate(installation_id, &state).await {
            tracing::warn!(installation_id, error = %e, "cannot record the rate limit");
        }
    }

    async fn blocked_until(&self, installation_id: u64) -> Option<SystemTime> {
        match self.rate_blocked_until(installation_id).await {
            Ok(until) => until,
            Err(e) => {
                tracing::warn!(installation_id, error = %e, "cannot read the rate limit");
                None
            }
        }
    }
}

impl DeliveryIndex for Store {
    async fn known(&self, guids: &[String]) -> HashSet<String> {
        match self.known_deliveries(guids).await {
            Ok(known) => known,
            Err(e) => {
                // Unknown means "ask for redelivery": duplicates are harmless, ingress drops them.
                tracing::warn!(error = %e, "cannot read recorded deliveries");
                HashSet::new()
            }
        }
    }
}
