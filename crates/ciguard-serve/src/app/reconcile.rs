//! Missed deliveries: GitHub does not retry a webhook it could not deliver. The scheduler's
//! leader lists the App's recent deliveries and asks GitHub to redeliver every GUID that never
//! succeeded and that the store has not recorded — exactly those.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::Deserialize;

use super::api::ApiError;
use super::github::Method;
use super::runner::App;
use super::tokens::parse_rfc3339_utc;
use crate::job::{DeliveryIndex, PeriodicTask, RateLimitStore};

/// The App's own calls (JWT) are budgeted under this id, apart from every installation.
pub const APP_BUDGET: u64 = 0;

#[derive(Debug, Clone, Copy)]
pub struct ReconcileSettings {
    pub interval: Duration,
    /// Deliveries older than this are left alone (GitHub keeps them for a few days).
    pub window: Duration,
    /// Pages of 100 deliveries read per tick at most.
    pub max_pages: usize,
}

impl Default for ReconcileSettings {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(10 * 60),
            window: Duration::from_secs(6 * 3600),
            max_pages: 20,
        }
    }
}

#[derive(Deserialize)]
struct Delivery {
    id: u64,
    guid: String,
    delivered_at: String,
    status_code: u16,
}

/// The reconciler task.
pub struct Reconciler<R, D> {
    app: Arc<App<R>>,
    index: D,
    settings: ReconcileSettings,
}

impl<R: RateLimitStore, D: DeliveryIndex> Reconciler<R, D> {
    pub fn new(app: Arc<App<R>>, index: D, settings: ReconcileSettings) -> Self {
        Self {
            app,
            index,
            settings,
        }
    }

    /// Lists the window's deliveries, then redelivers the missing ones: how many of each.
    async fn reconcile(&self) -> Result<(usize, usize), ApiError> {
        let api = &self.app.api;
        let oldest = SystemTime::now()
            .checked_sub(self.settings.window)
            .unwrap_or(SystemTime::UNIX_EPOCH);
        // GUID → (the latest attempt's id, whether any attempt succeeded).
        let mut by_guid: BTreeMap<String, (u64, bool)> = BTreeMap::new();
        // GitHub filters the failed ones (a `status_code` outside 200-399); a GUID redelivered
        // successfully since is in the store, so the index tells it apart.
        let mut next = Some("/app/hook/deliveries?per_page=100&status=failure".to_owned());
        let mut listed = 0;
        for _ in 0..self.settings.max_pages {
            let Some(target) = next.take() else { break };
            let (page, response): (Vec<Delivery>, _) = api
                .get_json(APP_BUDGET, &self.app.tokens.jwt()?, &target)
                .await?;
            let mut past_window = false;
            for d in page {
                if parse_rfc3339_utc(&d.delivered_at).is_some_and(|t| t < oldest) {
                    past_window = true;
                    continue;
                }
                listed += 1;
                let ok = (200..400).contains(&d.status_code);
                let entry = by_guid.entry(d.guid).or_insert((d.id, false));
                entry.0 = entry.0.max(d.id);
                entry.1 |= ok;
            }
            // Newest first: once a page reaches past the window, the rest is older still.
            if !past_window {
                next = response.next_link();
            }
        }
        let failed: Vec<String> = by_guid
            .iter()
            .filter(|(_, (_, ok))| !ok)
            .map(|(guid, _)| guid.clone())
            .collect();
        let known: HashSet<String> = self.index.known(&failed).await;
        let mut asked = 0;
        for guid in failed.iter().filter(|g| !known.contains(*g)) {
            let Some((id, _)) = by_guid.get(guid) else {
                continue;
            };
            let target = format!("/app/hook/deliveries/{id}/attempts");
            api.call(
                APP_BUDGET,
                &self.app.tokens.jwt()?,
                Method::Post(b"{}".to_vec()),
                &target,
            )
            .await?;
            asked += 1;
        }
        Ok((listed, asked))
    }
}

impl<R: RateLimitStore, D: DeliveryIndex> PeriodicTask for Reconciler<R, D> {
    fn name(&self) -> &'static str {
        "missed-deliveries"
    }

    fn interval(&self) -> Duration {
        self.settings.interval
    }

    async fn tick(&self) -> Result<String, String> {
        let (listed, asked) = self.reconcile().await.map_err(|e| e.to_string())?;
        Ok(format!(
            "{} listed, {} asked to be redelivered",
            ciguard_core::plural::count(listed, "delivery", "deliveries"),
            asked
        ))
    }
}
