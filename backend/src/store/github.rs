//! GitHub integrations, the webhook inbox and sticky PR comments (migration 0008).
//! Secrets arrive here already sealed (`crate::secrets`); this file never sees them
//! in the clear.

use sqlx::Row;

use super::queue::{insert_job, NewJob};
use super::{is_unique_violation, Store};
use crate::error::{Result, StoreError};

/// A project's link to one GitHub repository.
#[derive(Clone, PartialEq, serde::Serialize)]
pub struct IntegrationRow {
    pub project_id: i64,
    /// `owner/name`, lower-case.
    pub repo: String,
    /// Sealed.
    #[serde(skip)]
    pub webhook_secret: String,
    /// Sealed.
    #[serde(skip)]
    pub token: Option<String>,
    pub app_id: Option<i64>,
    pub installation_id: Option<i64>,
    /// Sealed.
    #[serde(skip)]
    pub app_key: Option<String>,
    pub api_base: String,
    pub clone_url: String,
    pub master_branches: Vec<String>,
    pub commanders: Vec<String>,
    pub definition: Option<String>,
    pub concurrency: i64,
    pub reconcile_every_s: i64,
}

// By hand: webhook_secret, token, app_key must never reach a log line.
impl std::fmt::Debug for IntegrationRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntegrationRow")
            .field("project_id", &self.project_id)
            .field("repo", &self.repo)
            .field(
                "webhook_secret",
                &perfwatch_core::redact::Redacted(&self.webhook_secret),
            )
            .field("token", &perfwatch_core::redact::Redacted(&self.token))
            .field("app_id", &self.app_id)
            .field("installation_id", &self.installation_id)
            .field("app_key", &perfwatch_core::redact::Redacted(&self.app_key))
            .field("api_base", &self.api_base)
            .field("clone_url", &self.clone_url)
            .field("master_branches", &self.master_branches)
            .field("commanders", &self.commanders)
            .field("definition", &self.definition)
            .field("concurrency", &self.concurrency)
            .field("reconcile_every_s", &self.reconcile_every_s)
            .finish()
    }
}

/// One stored webhook delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRow {
    pub delivery_id: String,
    pub project_id: i64,
    pub event: String,
    pub body: String,
    pub received_at: i64,
    pub processed_at: Option<i64>,
    pub outcome: Option<String>,
}

fn integration(r: &sqlx::any::AnyRow) -> Result<IntegrationRow> {
    let list = |col: &str| -> Result<Vec<String>> {
        let text: String = r.try_get(col)?;
        serde_json::from_str(&text)
            .map_err(|_| StoreError::Data(format!("github_integrations.{col} is not a JSON list")))
    };
    Ok(IntegrationRow {
        project_id: r.try_get("project_id")?,
        repo: r.try_get("repo")?,
        webhook_secret: r.try_get("webhook_secret")?,
        token: r.try_get("token")?,
        app_id: r.try_get("app_id")?,
        installation_id: r.try_get("installation_id")?,
        app_key: r.try_get("app_key")?,
        api_base: r.try_get("api_base")?,
        clone_url: r.try_get("clone_url")?,
        master_branches: list("master_branches")?,
        commanders: list("commanders")?,
        definition: r.try_get("definition")?,
        concurrency: r.try_get("concurrency")?,
        reconcile_every_s: r.try_get("reconcile_every_s")?,
    })
}

fn delivery(r: &sqlx::any::AnyRow) -> Result<DeliveryRow> {
    Ok(DeliveryRow {
        delivery_id: r.try_get("delivery_id")?,
        project_id: r.try_get("project_id")?,
        event: r.try_get("event")?,
        body: r.try_get("body")?,
        received_at: r.try_get("received_at")?,
        processed_at: r.try_get("processed_at")?,
        outcome: r.try_get("outcome")?,
    })
}

const INTEGRATION_COLS: &str = "project_id, repo, webhook_secret, token, app_id, installation_id,
    app_key, api_base, clone_url, master_branches, commanders, definition, concurrency,
    reconcile_every_s";

impl Store {
    /// Creates or replaces the integration of `row.project_id`.
    pub async fn github_integration_put(&self, row: &IntegrationRow, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let res = sqlx::query(
            "INSERT INTO github_integrations (project_id, repo, webhook_secret, token, app_id,
                 installation_id, app_key, api_base, clone_url, master_branches, commanders,
                 definition, concurrency, reconcile_every_s, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $15)
             ON CONFLICT (project_id) DO UPDATE SET repo = excluded.repo,
                 webhook_secret = excluded.webhook_secret, token = excluded.token,
                 app_id = excluded.app_id, installation_id = excluded.installation_id,
                 app_key = excluded.app_key, api_base = excluded.api_base,
                 clone_url = excluded.clone_url, master_branches = excluded.master_branches,
                 commanders = excluded.commanders, definition = excluded.definition,
                 concurrency = excluded.concurrency,
                 reconcile_every_s = excluded.reconcile_every_s, updated_at = excluded.updated_at",
        )
        .bind(row.project_id)
        .bind(row.repo.to_ascii_lowercase())
        .bind(&row.webhook_secret)
        .bind(row.token.clone())
        .bind(row.app_id)
        .bind(row.installation_id)
        .bind(row.app_key.clone())
        .bind(&row.api_base)
        .bind(&row.clone_url)
        .bind(serde_json::to_string(&row.master_branches)?)
        .bind(serde_json::to_string(&row.commanders)?)
        .bind(row.definition.clone())
        .bind(row.concurrency)
        .bind(row.reconcile_every_s)
        .bind(now)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => tx.commit().await,
            Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict {
                field: "repo".into(),
                reason: format!("{} is linked to another project", row.repo),
            }),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn github_integration(&self, project_id: i64) -> Result<Option<IntegrationRow>> {
        let sql =
            format!("SELECT {INTEGRATION_COLS} FROM github_integrations WHERE project_id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(integration).transpose()
    }

    pub async fn github_integration_by_repo(&self, repo: &str) -> Result<Option<IntegrationRow>> {
        let sql = format!("SELECT {INTEGRATION_COLS} FROM github_integrations WHERE repo = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(repo.to_ascii_lowercase())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(integration).transpose()
    }

    pub async fn github_integrations(&self) -> Result<Vec<IntegrationRow>> {
        let sql = format!("SELECT {INTEGRATION_COLS} FROM github_integrations ORDER BY project_id");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(integration).collect()
    }

    /// Stores a verified delivery and queues its processing, in one transaction.
    /// `false` when a delivery with this id was stored before (a replay): nothing is
    /// written.
    pub async fn github_delivery_insert(&self, d: &DeliveryRow, process: &NewJob) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let res = sqlx::query(
            "INSERT INTO github_deliveries (delivery_id, project_id, event, body, received_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&d.delivery_id)
        .bind(d.project_id)
        .bind(&d.event)
        .bind(&d.body)
        .bind(d.received_at)
        .execute(&mut *tx)
        .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
        insert_job(&mut tx, process, d.received_at).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub async fn github_delivery(&self, delivery_id: &str) -> Result<DeliveryRow> {
        let r = sqlx::query(
            "SELECT delivery_id, project_id, event, body, received_at, processed_at, outcome
             FROM github_deliveries WHERE delivery_id = $1",
        )
        .bind(delivery_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("delivery {delivery_id}")))?;
        delivery(&r)
    }

    /// Deliveries of a project, newest first (without bodies' processing state lost).
    pub async fn github_deliveries(&self, project_id: i64, limit: i64) -> Result<Vec<DeliveryRow>> {
        let rows = sqlx::query(
            "SELECT delivery_id, project_id, event, body, received_at, processed_at, outcome
             FROM github_deliveries WHERE project_id = $1
             ORDER BY received_at DESC, delivery_id LIMIT $2",
        )
        .bind(project_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(delivery).collect()
    }

    pub async fn github_delivery_processed(
        &self,
        delivery_id: &str,
        outcome: &str,
        now: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE github_deliveries SET processed_at = $1, outcome = $2 WHERE delivery_id = $3",
        )
        .bind(now)
        .bind(outcome)
        .bind(delivery_id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// The remembered sticky comment of a PR and the verdict it last showed.
    pub async fn github_pr_comment(
        &self,
        project_id: i64,
        pr: i64,
    ) -> Result<Option<(Option<i64>, Option<String>)>> {
        let row = sqlx::query(
            "SELECT comment_id, last_verdict FROM github_pr_comments
             WHERE project_id = $1 AND pr_number = $2",
        )
        .bind(project_id)
        .bind(pr)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| Ok((r.try_get("comment_id")?, r.try_get("last_verdict")?)))
            .transpose()
    }

    pub async fn github_pr_comment_set(
        &self,
        project_id: i64,
        pr: i64,
        comment_id: i64,
        verdict: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO github_pr_comments (project_id, pr_number, comment_id, last_verdict)
             VALUES ($1, $2, $3, $4)
             ON CONFLICT (project_id, pr_number)
             DO UPDATE SET comment_id = excluded.comment_id, last_verdict = excluded.last_verdict",
        )
        .bind(project_id)
        .bind(pr)
        .bind(comment_id)
        .bind(verdict)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
}
