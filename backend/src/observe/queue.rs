//! The work queue's state as metric gauges, read from the database at scrape time.

use super::QueueGauge;
use crate::{Store, StoreError};

/// Jobs and oldest age by kind and state, and lease takeovers by kind.
pub async fn read_queue_gauges(
    store: &Store,
    now_ms: i64,
) -> Result<(Vec<QueueGauge>, Vec<(String, i64)>), StoreError> {
    let depth = store
        .queue_depth()
        .await?
        .into_iter()
        .map(|d| QueueGauge {
            kind: d.kind,
            state: d.state.as_str().to_string(),
            jobs: d.jobs,
            oldest_age_seconds: (now_ms - d.oldest_created_at).max(0) as f64 / 1000.0,
        })
        .collect();
    Ok((depth, store.queue_takeovers().await?))
}
