//! Notifications: per-project webhook subscriptions, a delivery table and a worker that
//! sends due deliveries with retries and exponential backoff.
//!
//! A delivery stores the event (kind and ids); the worker renders the message when it
//! sends, in the subscription's format (`json`: a generic document; `slack`: a
//! Slack-compatible `{"text": …}`), and signs the exact body with HMAC-SHA256 of the
//! subscription's secret: header `X-Perfwatch-Signature: sha256=<hex>`.

use std::time::Duration;

use perfwatch_core::alerts::{AlertGroupView, TriageState};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::time::now_ms;
use crate::Store;

pub const EVENTS: [&str; 3] = [
    "alert_group.created",
    "alert_group.state_changed",
    "comparison.finished",
];

/// Something subscribers may hear about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event")]
pub enum Event {
    #[serde(rename = "alert_group.created")]
    GroupCreated { group_id: i64 },
    #[serde(rename = "alert_group.state_changed")]
    StateChanged {
        group_id: i64,
        from: TriageState,
        to: TriageState,
        actor: String,
    },
    #[serde(rename = "comparison.finished")]
    ComparisonFinished {
        /// The compare page's path, e.g. `/projects/drv/compare?base=…&head=…`.
        path: String,
        regressions: usize,
        improvements: usize,
    },
}

impl Event {
    pub fn name(&self) -> &'static str {
        match self {
            Self::GroupCreated { .. } => EVENTS[0],
            Self::StateChanged { .. } => EVENTS[1],
            Self::ComparisonFinished { .. } => EVENTS[2],
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// Worker settings; tests shorten them.
#[derive(Debug, Clone)]
pub struct NotifyConfig {
    pub poll: Duration,
    /// Wait after the first failure; doubles after each further one.
    pub backoff: Duration,
    pub max_attempts: i64,
    pub timeout: Duration,
}

impl Default for NotifyConfig {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(2),
            backoff: Duration::from_secs(30),
            max_attempts: 6,
            timeout: Duration::from_secs(10),
        }
    }
}

/// HMAC-SHA256 (RFC 2104) as lowercase hex.
pub fn hmac_sha256_hex(key: &[u8], msg: &[u8]) -> String {
    const BLOCK: usize = 64;
    let mut k = [0u8; BLOCK];
    if key.len() > BLOCK {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    hex::encode(outer.finalize())
}

/// The actionable summary of an alert group, shared by notifications and tickets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupSummary {
    pub title: String,
    /// Markdown body: what changed, by how much, confidence, suspects, links.
    pub body: String,
    pub triage_url: String,
    pub compare_url: Option<String>,
    pub chart_url: Option<String>,
}

/// Renders the summary of a group (pure).
pub fn group_summary(g: &AlertGroupView, base: &str) -> GroupSummary {
    let triage_url = format!("{base}/alerts/groups/{}", g.id);
    let worst = g.alerts.first();
    let title = match worst {
        Some(a) => format!(
            "[{}] {} {:+.1}% in {} ({}){}",
            g.project,
            a.direction.as_str(),
            a.change_pct(),
            a.series.benchmark,
            a.series.measure,
            if g.alerts.len() > 1 {
                format!(" and {} more", g.alerts.len() - 1)
            } else {
                String::new()
            }
        ),
        None => format!("[{}] alert group {}", g.project, g.id),
    };
    let compare_url = worst.and_then(|a| {
        let good = a.last_good.as_ref()?.sha.clone()?;
        let bad = a.first_bad.sha.clone()?;
        Some(format!(
            "{base}/projects/{}/compare?base=commit:{good}&head=commit:{bad}",
            g.project
        ))
    });
    let chart_url = worst.map(|a| format!("{base}/series/{}", a.series.id));
    let mut body = format!(
        "**{}** — project `{}`, state {}\n\n",
        title,
        g.project,
        g.triage.state.as_str()
    );
    for a in g.alerts.iter().take(10) {
        body.push_str(&format!(
            "- {} / {} on {}: {} {:+.2}% ({} → {} {}), confidence {}\n",
            a.series.benchmark,
            a.series.measure,
            a.series.testbed,
            a.direction.as_str(),
            a.change_pct(),
            fmt_num(a.before_median),
            fmt_num(a.after_median),
            a.series.display_unit,
            match a.p_value {
                Some(p) => format!("{:.2}% (p = {p:.1e})", (1.0 - p) * 100.0),
                None => "threshold breach".into(),
            }
        ));
    }
    if g.alerts.len() > 10 {
        body.push_str(&format!("- … {} more\n", g.alerts.len() - 10));
    }
    if let Some(a) = worst {
        if !a.suspect_commits.is_empty() {
            body.push_str(&format!("\nSuspect commits ({}):\n", a.suspect_total));
            for c in a.suspect_commits.iter().take(10) {
                let short: String = c.sha.chars().take(10).collect();
                let msg = c
                    .message
                    .as_deref()
                    .unwrap_or("")
                    .lines()
                    .next()
                    .unwrap_or("");
                match &c.url {
                    Some(u) => body.push_str(&format!("- [{short}]({u}) {msg}\n")),
                    None => body.push_str(&format!("- {short} {msg}\n")),
                }
            }
        }
    }
    body.push('\n');
    if let Some(c) = &chart_url {
        body.push_str(&format!("Chart: {c}\n"));
    }
    if let Some(c) = &compare_url {
        body.push_str(&format!("Compare: {c}\n"));
    }
    body.push_str(&format!("Triage: {triage_url}\n"));
    GroupSummary {
        title,
        body,
        triage_url,
        compare_url,
        chart_url,
    }
}

fn fmt_num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.3}")
    }
}

fn valid_events(events: &[String]) -> Result<()> {
    if events.is_empty() || events.iter().any(|e| !EVENTS.contains(&e.as_str())) {
        return Err(StoreError::invalid(
            "events",
            format!("one or more of {}", EVENTS.join(", ")),
        ));
    }
    Ok(())
}

impl Store {
    /// Subscribes a URL to a project's events; returns the id and the signing secret.
    pub async fn create_webhook(
        &self,
        actor: &Actor,
        project: &str,
        url: &str,
        format: &str,
        events: &[String],
        secret: Option<String>,
    ) -> Result<(i64, String)> {
        let p = self.project(project).await?;
        actor.require(Right::Admin, Some(p.id))?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.len() > 2000 {
            return Err(StoreError::invalid("url", "an http(s) URL"));
        }
        if !matches!(format, "json" | "slack") {
            return Err(StoreError::invalid("format", "json or slack"));
        }
        valid_events(events)?;
        let secret = match secret.filter(|s| !s.is_empty()) {
            Some(s) => s,
            None => crate::accounts::new_secret("whsec_")?,
        };
        let id = sqlx::query_scalar(
            "INSERT INTO webhooks (project_id, url, format, events, secret, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(p.id)
        .bind(url)
        .bind(format)
        .bind(events.join(","))
        .bind(&secret)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?;
        Ok((id, secret))
    }

    pub async fn delete_webhook(&self, actor: &Actor, id: i64) -> Result<()> {
        let pid: i64 = sqlx::query_scalar("SELECT project_id FROM webhooks WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("webhook {id}")))?;
        actor.require(Right::Admin, Some(pid))?;
        sqlx::query("DELETE FROM webhooks WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A project's subscriptions (admins only: the list reveals where data goes).
    pub async fn list_webhooks(&self, actor: &Actor, project: &str) -> Result<Vec<Webhook>> {
        let p = self.project(project).await?;
        actor.require(Right::Admin, Some(p.id))?;
        let rows = sqlx::query(
            "SELECT id, url, format, events, created_at FROM webhooks WHERE project_id = $1 ORDER BY id",
        )
        .bind(p.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let events: String = r.try_get(3)?;
                Ok(Webhook {
                    id: r.try_get(0)?,
                    project: p.slug.clone(),
                    url: r.try_get(1)?,
                    format: r.try_get(2)?,
                    events: events.split(',').map(str::to_string).collect(),
                    created_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// The delivery log of a project's subscriptions, newest first (admins only).
    pub async fn list_deliveries(&self, actor: &Actor, project: &str) -> Result<Vec<Delivery>> {
        let p = self.project(project).await?;
        actor.require(Right::Admin, Some(p.id))?;
        let rows = sqlx::query(
            "SELECT d.id, d.webhook_id, d.event, d.status, d.attempts, d.next_attempt_at, d.last_status,
                    d.last_error, d.created_at, d.delivered_at
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE w.project_id = $1 ORDER BY d.id DESC LIMIT 200",
        )
        .bind(p.id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    id: r.try_get(0)?,
                    webhook_id: r.try_get(1)?,
                    event: r.try_get(2)?,
                    status: r.try_get(3)?,
                    attempts: r.try_get(4)?,
                    next_attempt_at: r.try_get(5)?,
                    last_status: r.try_get(6)?,
                    last_error: r.try_get(7)?,
                    created_at: r.try_get(8)?,
                    delivered_at: r.try_get(9)?,
                })
            })
            .collect()
    }

    /// Queues one delivery per subscription of the project that wants this event.
    pub async fn enqueue_event(&self, project_id: i64, event: Event) -> Result<usize> {
        let hooks = sqlx::query("SELECT id, events FROM webhooks WHERE project_id = $1")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        let payload = serde_json::to_string(&event)?;
        let now = now_ms();
        let mut n = 0;
        for h in hooks {
            let events: String = h.try_get(1)?;
            if !events.split(',').any(|e| e == event.name()) {
                continue;
            }
            let id: i64 = h.try_get(0)?;
            sqlx::query(
                "INSERT INTO webhook_deliveries (webhook_id, event, payload, status, attempts, next_attempt_at, created_at)
                 VALUES ($1, $2, $3, 'pending', 0, $4, $4)",
            )
            .bind(id)
            .bind(event.name())
            .bind(&payload)
            .bind(now)
            .execute(&self.pool)
            .await?;
            n += 1;
        }
        Ok(n)
    }

    async fn render_delivery(
        &self,
        project_id: i64,
        format: &str,
        event: &Event,
        base: &str,
    ) -> Result<String> {
        let slug: String = sqlx::query_scalar("SELECT slug FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_one(&self.pool)
            .await?;
        let (summary, group) = match event {
            Event::GroupCreated { group_id } | Event::StateChanged { group_id, .. } => {
                match self.alert_group(*group_id).await {
                    Ok(g) => (Some(group_summary(&g, base)), Some(g)),
                    Err(StoreError::NotFound(_)) => (None, None),
                    Err(e) => return Err(e),
                }
            }
            Event::ComparisonFinished { .. } => (None, None),
        };
        let headline = match event {
            Event::GroupCreated { .. } => "New alert group".to_string(),
            Event::StateChanged { from, to, actor, .. } => {
                format!("Alert group {} → {} by {actor}", from.as_str(), to.as_str())
            }
            Event::ComparisonFinished {
                path,
                regressions,
                improvements,
            } => format!(
                "Comparison finished: {regressions} regressions, {improvements} improvements: {base}{path}"
            ),
        };
        let text = match &summary {
            Some(s) => format!("{headline}\n{}", s.body),
            None => headline.clone(),
        };
        let doc = if format == "slack" {
            json!({ "text": text })
        } else {
            json!({
                "event": event.name(),
                "project": slug,
                "headline": headline,
                "detail": event,
                "summary": summary,
                "alerts": group.as_ref().map(|g| g.alerts.iter().map(|a| json!({
                    "id": a.id,
                    "benchmark": a.series.benchmark,
                    "measure": a.series.measure,
                    "testbed": a.series.testbed,
                    "direction": a.direction,
                    "change_pct": a.change_pct(),
                    "before": a.before_median,
                    "after": a.after_median,
                    "unit": a.series.display_unit,
                    "p_value": a.p_value,
                    "confidence": a.p_value.map(|p| 1.0 - p),
                    "chart_url": format!("{base}/series/{}", a.series.id),
                    "suspect_commits": a.suspect_commits.iter().map(|c| json!({"sha": c.sha, "url": c.url})).collect::<Vec<_>>(),
                })).collect::<Vec<_>>()),
                "state": group.as_ref().map(|g| g.triage.state),
            })
        };
        Ok(doc.to_string())
    }

    /// Sends every due delivery once; returns how many were attempted.
    pub async fn deliver_due(
        &self,
        client: &reqwest::Client,
        base: &str,
        cfg: &NotifyConfig,
    ) -> Result<usize> {
        let now = now_ms();
        let rows = sqlx::query(
            "SELECT d.id, d.payload, d.attempts, w.url, w.format, w.secret, w.project_id
             FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
             WHERE d.status = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.id LIMIT 50",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await?;
        let mut n = 0;
        for r in rows {
            let id: i64 = r.try_get(0)?;
            let attempts: i64 = r.try_get(2)?;
            // Claim it, so that a second worker does not send it too.
            let claimed = sqlx::query(
                "UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id = $2 AND status = 'pending' AND attempts = $3",
            )
            .bind(now + 3_600_000)
            .bind(id)
            .bind(attempts)
            .execute(&self.pool)
            .await?
            .rows_affected();
            if claimed != 1 {
                continue;
            }
            n += 1;
            let payload: String = r.try_get(1)?;
            let url: String = r.try_get(3)?;
            let format: String = r.try_get(4)?;
            let secret: String = r.try_get(5)?;
            let project_id: i64 = r.try_get(6)?;
            let event: Event = serde_json::from_str(&payload)?;
            let body = self
                .render_delivery(project_id, &format, &event, base)
                .await?;
            let sig = hmac_sha256_hex(secret.as_bytes(), body.as_bytes());
            let sent = client
                .post(&url)
                .timeout(cfg.timeout)
                .header("content-type", "application/json")
                .header("x-perfwatch-event", event.name())
                .header("x-perfwatch-delivery", id.to_string())
                .header("x-perfwatch-signature", format!("sha256={sig}"))
                .body(body)
                .send()
                .await;
            let (ok, status, error) = match sent {
                Ok(resp) if resp.status().is_success() => {
                    (true, Some(resp.status().as_u16() as i64), None)
                }
                Ok(resp) => (
                    false,
                    Some(resp.status().as_u16() as i64),
                    Some(format!("HTTP {}", resp.status())),
                ),
                Err(e) => (false, None, Some(e.to_string())),
            };
            let attempts = attempts + 1;
            let done_at = now_ms();
            if ok {
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = 'delivered', attempts = $1, last_status = $2, last_error = NULL, delivered_at = $3 WHERE id = $4",
                )
                .bind(attempts)
                .bind(status)
                .bind(done_at)
                .bind(id)
                .execute(&self.pool)
                .await?;
            } else {
                let gave_up = attempts >= cfg.max_attempts;
                let wait = cfg.backoff.as_millis() as i64 * (1i64 << (attempts - 1).clamp(0, 20));
                sqlx::query(
                    "UPDATE webhook_deliveries SET status = $1, attempts = $2, last_status = $3, last_error = $4, next_attempt_at = $5 WHERE id = $6",
                )
                .bind(if gave_up { "failed" } else { "pending" })
                .bind(attempts)
                .bind(status)
                .bind(error)
                .bind(done_at + wait)
                .bind(id)
                .execute(&self.pool)
                .await?;
            }
        }
        Ok(n)
    }
}

/// The background worker: polls for due deliveries until the process ends.
pub fn spawn_worker(store: Store, base: String, cfg: NotifyConfig) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = reqwest::Client::new();
        loop {
            if let Err(e) = store.deliver_due(&client, &base, &cfg).await {
                tracing::warn!(error = %e, "webhook deliveries failed");
            }
            tokio::time::sleep(cfg.poll).await;
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        assert_eq!(
            hmac_sha256_hex(b"Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
