//! SQL of webhook subscriptions (`webhooks`) and the delivery log admins read
//! (`webhook_deliveries`, migration 0004); queuing and sending deliveries is in
//! `queue_delivery.rs`.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::Store;
use crate::error::{Result, StoreError};
use crate::notify::{Delivery, Event, Webhook};
use crate::time::now_ms;

/// The message format of a subscription (column `webhooks.format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    Json,
    Slack,
}

impl WebhookFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Slack => "slack",
        }
    }
    /// User input: `None` for anything but `json` or `slack`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "json" => Some(Self::Json),
            "slack" => Some(Self::Slack),
            _ => None,
        }
    }
    fn from_db(s: &str) -> Result<Self> {
        Self::parse(s)
            .ok_or_else(|| StoreError::Data(format!("webhooks.format holds unknown value {s:?}")))
    }
}

/// Where a delivery is (column `webhook_deliveries.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Gave up.
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
    fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "pending" => Self::Pending,
            "delivered" => Self::Delivered,
            "failed" => Self::Failed,
            other => {
                return Err(StoreError::Data(format!(
                    "webhook_deliveries.status holds unknown value {other:?}"
                )))
            }
        })
    }
}

/// A subscription to write.
pub(crate) struct NewWebhook<'a> {
    pub project_id: i64,
    pub url: &'a str,
    pub format: WebhookFormat,
    /// Canonical event names.
    pub events: &'a [String],
    pub secret: &'a str,
}

impl Store {
    pub(crate) async fn insert_webhook(&self, w: &NewWebhook<'_>) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = sqlx::query_scalar(
            "INSERT INTO webhooks (project_id, url, format, events, secret, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(w.project_id)
        .bind(w.url)
        .bind(w.format.as_str())
        .bind(w.events.join(","))
        .bind(w.secret)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Subscriptions whose signing secret is still plain text (stored by a version
    /// that did not seal it): `(id, secret)`.
    pub(crate) async fn plain_webhook_secrets(&self) -> Result<Vec<(i64, String)>> {
        let rows = sqlx::query("SELECT id, secret FROM webhooks WHERE secret NOT LIKE 'sealed:%'")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("secret")?)))
            .collect()
    }

    /// Replaces a plain secret by its sealed form, only if it is still `plain`.
    pub(crate) async fn replace_webhook_secret(
        &self,
        id: i64,
        plain: &str,
        sealed: &str,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("UPDATE webhooks SET secret = $1 WHERE id = $2 AND secret = $3")
            .bind(sealed)
            .bind(id)
            .bind(plain)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// The project of a subscription.
    pub(crate) async fn webhook_project(&self, id: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT project_id FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))
    }

    pub(crate) async fn delete_webhook_row(&self, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// A project's subscriptions (`slug` names the project in the result).
    pub(crate) async fn webhooks_of(&self, project_id: i64, slug: &str) -> Result<Vec<Webhook>> {
        let rows = sqlx::query(
            "SELECT id, url, format, events, created_at FROM webhooks WHERE project_id = $1 ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let events: String = r.try_get("events")?;
                let format = WebhookFormat::from_db(&r.try_get::<String, _>("format")?)?;
                Ok(Webhook {
                    id: r.try_get("id")?,
                    project: slug.to_string(),
                    url: r.try_get("url")?,
                    format: format.as_str().to_string(),
                    events: events.split(',').map(str::to_string).collect(),
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The newest 200 deliveries of a project's subscriptions, newest first.
    pub(crate) async fn deliveries_of(&self, project_id: i64) -> Result<Vec<Delivery>> {
        let rows = sqlx::query(
            "SELECT d.id, d.webhook_id, d.event, d.status, d.attempts, d.next_attempt_at, d.last_status,
                    d.last_error, d.created_at, d.delivered_at
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE w.project_id = $1 ORDER BY d.id DESC LIMIT 200",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(delivery).collect()
    }

    /// Whether any subscription of the project wants events named `name`.
    pub async fn wants_event(&self, project_id: i64, name: &str) -> Result<bool> {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT events FROM webhooks WHERE project_id = $1")
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.iter().any(|e| e.split(',').any(|e| e == name)))
    }

    /// Queues one delivery per subscription of the project that wants this event: a
    /// row of the delivery log and a job of the work queue (`delivery.rs` sends it).
    /// The event is stored as JSON and rendered when sent.
    pub async fn enqueue_event(&self, project_id: i64, event: Event) -> Result<usize> {
        let payload = serde_json::to_string(&event)?;
        self.queue_deliveries(project_id, event.name(), &payload, now_ms())
            .await
    }
}

fn delivery(r: &AnyRow) -> Result<Delivery> {
    let status = DeliveryStatus::from_db(&r.try_get::<String, _>("status")?)?;
    Ok(Delivery {
        id: r.try_get("id")?,
        webhook_id: r.try_get("webhook_id")?,
        event: r.try_get("event")?,
        status: status.as_str().to_string(),
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_status: r.try_get("last_status")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}
