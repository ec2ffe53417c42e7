//! Webhook deliveries on the work queue: `webhook_deliveries` stays the delivery log
//! that admins read, and each delivery is sent by one `webhook.delivery` job. The log
//! row and its job are written in one transaction, both when queued and when an
//! attempt ends (fenced: a worker whose lease was taken over records nothing).

use sqlx::Row;

use super::queue::{queue_finish_in, Finish};
use super::Store;
use crate::error::Result;
use crate::queue::kinds;
use crate::queue::retry::RetryPolicy;

/// What sending one delivery needs.
#[derive(Clone)]
pub struct DeliveryTarget {
    pub delivery_id: i64,
    /// The event as JSON text.
    pub payload: String,
    pub url: String,
    pub format: String,
    pub secret: String,
    pub project_id: i64,
}

// By hand: secret must never reach a log line.
impl std::fmt::Debug for DeliveryTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliveryTarget")
            .field("delivery_id", &self.delivery_id)
            .field("payload", &self.payload)
            .field("url", &self.url)
            .field("format", &self.format)
            .field("secret", &perfwatch_core::redact::Redacted(&self.secret))
            .field("project_id", &self.project_id)
            .finish()
    }
}

/// The outcome of one attempt, for the log.
#[derive(Debug, Clone)]
pub struct AttemptRecord {
    pub delivery_id: i64,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
}

/// The old poller's settings: six attempts, 30 s doubling.
const DEFAULT_POLICY: RetryPolicy = RetryPolicy {
    max_attempts: 6,
    backoff_ms: 30_000,
};

impl Store {
    /// Queues one delivery (a log row and its job) per subscription of the project that
    /// wants `event_name`; returns how many.
    pub(crate) async fn queue_deliveries(
        &self,
        project_id: i64,
        event_name: &str,
        payload: &str,
        now: i64,
    ) -> Result<usize> {
        let mut tx = self.begin_write().await?;
        let n = self
            .queue_deliveries_in(&mut tx, project_id, event_name, payload, now)
            .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Announces a new alert group once: marks it announced and queues its event's
    /// deliveries (`payload`; None for a group that announces nothing, such as a
    /// dry-run series') in one transaction. False when it was announced already.
    pub(crate) async fn announce_group(
        &self,
        project_id: i64,
        group_id: i64,
        event: Option<(&str, &str)>,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let marked = sqlx::query(
            "UPDATE alert_groups SET announced_at = $1 WHERE id = $2 AND announced_at IS NULL",
        )
        .bind(now)
        .bind(group_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if marked == 1 {
            if let Some((name, payload)) = event {
                self.queue_deliveries_in(&mut tx, project_id, name, payload, now)
                    .await?;
            }
        }
        tx.commit().await?;
        Ok(marked == 1)
    }

    /// New alert groups of a project whose event has not been queued yet.
    pub async fn unannounced_groups(&self, project_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM alert_groups WHERE project_id = $1 AND announced_at IS NULL ORDER BY id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?)
    }

    async fn queue_deliveries_in(
        &self,
        tx: &mut super::WriteTx,
        project_id: i64,
        event_name: &str,
        payload: &str,
        now: i64,
    ) -> Result<usize> {
        let hooks = sqlx::query("SELECT id, events FROM webhooks WHERE project_id = $1")
            .bind(project_id)
            .fetch_all(&mut **tx)
            .await?;
        let policy = self.retry_policy(kinds::WEBHOOK, DEFAULT_POLICY);
        let mut n = 0;
        for h in hooks {
            let events: String = h.try_get("events")?;
            if !events.split(',').any(|e| e == event_name) {
                continue;
            }
            let hook: i64 = h.try_get("id")?;
            let delivery: i64 = sqlx::query_scalar(
                "INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4) RETURNING id",
            )
            .bind(hook)
            .bind(event_name)
            .bind(payload)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            sqlx::query(
                "INSERT INTO work_queue (kind, payload, priority, state, not_before, attempts,
                     max_attempts, backoff_ms, created_at, updated_at)
                 VALUES ($1, $2, 0, 'queued', $3, 0, $4, $5, $3, $3)",
            )
            .bind(kinds::WEBHOOK)
            .bind(serde_json::json!({ "delivery_id": delivery }).to_string())
            .bind(now)
            .bind(policy.max_attempts.max(1))
            .bind(policy.backoff_ms.max(0))
            .execute(&mut **tx)
            .await?;
            n += 1;
        }
        Ok(n)
    }

    /// The delivery and its subscription; `None` when the subscription (and with it the
    /// delivery) was deleted.
    pub(crate) async fn delivery_target(&self, delivery_id: i64) -> Result<Option<DeliveryTarget>> {
        let row = sqlx::query(
            "SELECT d.payload, w.url, w.format, w.secret, w.project_id
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
        )
        .bind(delivery_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(DeliveryTarget {
                delivery_id,
                payload: r.try_get("payload")?,
                url: r.try_get("url")?,
                format: r.try_get("format")?,
                secret: r.try_get("secret")?,
                project_id: r.try_get("project_id")?,
            })
        })
        .transpose()
    }

    /// Ends the attempt of job `job_id` (fence `fence`) as `how` and writes its outcome
    /// to the delivery log, in one transaction; `false` (nothing written) when the
    /// fence is stale.
    pub(crate) async fn finish_delivery(
        &self,
        job_id: i64,
        fence: i64,
        how: &Finish,
        rec: &AttemptRecord,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        if !queue_finish_in(&mut tx, job_id, fence, how, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let (status, next, delivered_at) = match how {
            Finish::Done => ("delivered", now, Some(now)),
            Finish::Retry { not_before, .. } => ("pending", *not_before, None),
            Finish::Dead { .. } => ("failed", now, None),
            Finish::Release => ("pending", now, None),
        };
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_status = $3,
                 last_error = $4, next_attempt_at = $5, delivered_at = $6
             WHERE id = $7",
        )
        .bind(status)
        .bind(rec.attempts)
        .bind(rec.last_status)
        .bind(&rec.last_error)
        .bind(next)
        .bind(delivered_at)
        .bind(rec.delivery_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }
}
