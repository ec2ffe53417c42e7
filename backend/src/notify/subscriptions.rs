//! Webhook subscriptions (admins of the project) and their delivery log.

use perfwatch_core::http_url::HttpUrl;
use serde::{Deserialize, Serialize};

use super::events::{canonical_event, EVENTS};
use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::secrets::SealKey;
use crate::store::notifications::{NewWebhook, WebhookFormat};
use crate::Store;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Webhook {
    pub id: i64,
    pub project: String,
    pub url: String,
    /// `json` or `slack`.
    pub format: String,
    pub events: Vec<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub event: String,
    /// `pending`, `delivered`, `failed` (gave up).
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

pub(super) fn valid_events(events: &[String]) -> Result<Vec<String>> {
    let canon: Vec<String> = events
        .iter()
        .filter_map(|e| canonical_event(e).map(str::to_string))
        .collect();
    if events.is_empty() || canon.len() != events.len() {
        return Err(StoreError::invalid(
            "events",
            format!("one or more of {}", EVENTS.join(", ")),
        ));
    }
    Ok(canon)
}

/// Subscribes a URL to a project's events (admins only); returns the id and the
/// signing secret. The secret is stored sealed with `seal` (it must be recovered to
/// sign, so it cannot be hashed) and shown only in this answer.
#[allow(clippy::too_many_arguments)]
pub async fn create_webhook(
    store: &Store,
    seal: &SealKey,
    actor: &Actor,
    project: &str,
    url: &str,
    format: &str,
    events: &[String],
    secret: Option<String>,
) -> Result<(i64, String)> {
    let p = store.project(project).await?;
    actor.require(Right::Admin, Some(p.id))?;
    let url = HttpUrl::parse("url", url).map_err(|e| StoreError::Invalid(e.into()))?;
    let url = url.as_str();
    let format = WebhookFormat::parse(format)
        .ok_or_else(|| StoreError::invalid("format", "json or slack"))?;
    let events = valid_events(events)?;
    let secret = match secret.filter(|s| !s.is_empty()) {
        Some(s) => s,
        None => crate::accounts::new_secret("whsec_")?,
    };
    let id = store
        .insert_webhook(&NewWebhook {
            project_id: p.id,
            url,
            format,
            events: &events,
            secret: &seal.seal_tagged(&secret),
        })
        .await?;
    Ok((id, secret))
}

/// Seals the signing secrets an older version stored in plain text (run at start,
/// before the webhook lane sends anything); returns how many were sealed. A row
/// changed meanwhile is left to the next start.
pub async fn seal_stored_webhook_secrets(store: &Store, seal: &SealKey) -> Result<usize> {
    let mut n = 0;
    for (id, plain) in store.plain_webhook_secrets().await? {
        if store
            .replace_webhook_secret(id, &plain, &seal.seal_tagged(&plain))
            .await?
        {
            n += 1;
        }
    }
    Ok(n)
}

/// Ends a subscription (admins of its project only).
pub async fn delete_webhook(store: &Store, actor: &Actor, id: i64) -> Result<()> {
    let pid = store.webhook_project(id).await?;
    actor.require(Right::Admin, Some(pid))?;
    store.delete_webhook_row(id).await
}

/// A project's subscriptions (admins only: the list reveals where data goes).
pub async fn list_webhooks(store: &Store, actor: &Actor, project: &str) -> Result<Vec<Webhook>> {
    let p = store.project(project).await?;
    actor.require(Right::Admin, Some(p.id))?;
    store.webhooks_of(p.id, &p.slug).await
}

/// The delivery log of a project's subscriptions, newest first (admins only).
pub async fn list_deliveries(store: &Store, actor: &Actor, project: &str) -> Result<Vec<Delivery>> {
    let p = store.project(project).await?;
    actor.require(Right::Admin, Some(p.id))?;
    store.deliveries_of(p.id).await
}
