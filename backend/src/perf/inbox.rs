//! The webhook inbox: a delivery is verified against the secret of the repository its
//! payload names, stored under GitHub's delivery id (a replay stores nothing), and
//! processed later by a `github.delivery` job — the answer to GitHub never waits for
//! the work.

use crate::error::StoreError;
use crate::queue::{kinds, NewJob};
use crate::secrets::SealKey;
use crate::store::github::DeliveryRow;
use crate::time::now_ms;
use crate::Store;

/// Why a delivery was refused.
#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// Unknown repository, missing or wrong signature: 401, nothing stored. One
    /// variant for all three so the answer tells a prober nothing.
    #[error("signature does not verify")]
    Unauthorized,
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What became of an accepted delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepted {
    Stored,
    /// The delivery id was seen before: nothing was written.
    Replay,
}

/// Verifies and stores one delivery, queueing its processing in the same transaction.
pub async fn accept(
    store: &Store,
    key: &SealKey,
    event: &str,
    delivery_id: &str,
    signature: Option<&str>,
    body: &[u8],
) -> Result<Accepted, InboxError> {
    if delivery_id.is_empty()
        || delivery_id.len() > 100
        || !delivery_id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return Err(InboxError::BadRequest(
            "X-GitHub-Delivery: expected GitHub's delivery id".into(),
        ));
    }
    if event.is_empty()
        || event.len() > 64
        || !event.chars().all(|c| c.is_ascii_lowercase() || c == '_')
    {
        return Err(InboxError::BadRequest(
            "X-GitHub-Event: expected an event name".into(),
        ));
    }
    let repo =
        perfwatch_github::events::repository_of(body).map_err(|_| InboxError::Unauthorized)?;
    let Some(integ) = store.github_integration_by_repo(&repo).await? else {
        return Err(InboxError::Unauthorized);
    };
    let secret = key.open(&integ.webhook_secret, "webhook secret")?;
    perfwatch_github::signature::verify(secret.as_bytes(), body, signature)
        .map_err(|_| InboxError::Unauthorized)?;
    let text = std::str::from_utf8(body)
        .map_err(|_| InboxError::BadRequest("the body is not UTF-8 JSON".into()))?;
    let now = now_ms();
    let row = DeliveryRow {
        delivery_id: delivery_id.to_string(),
        project_id: integ.project_id,
        event: event.to_string(),
        body: text.to_string(),
        received_at: now,
        processed_at: None,
        outcome: None,
    };
    let job = NewJob {
        kind: kinds::GITHUB_DELIVERY.into(),
        payload: serde_json::json!({ "delivery_id": delivery_id }).to_string(),
        priority: 30,
        not_before: now,
        max_attempts: 8,
        backoff_ms: 2_000,
        coalesce_key: None,
    };
    Ok(if store.github_delivery_insert(&row, &job).await? {
        Accepted::Stored
    } else {
        Accepted::Replay
    })
}
