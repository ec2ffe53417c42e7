//! SQL of the audit log (`audit_log`, migration 0012) and of the session and token
//! changes that write their audit row in the same transaction.

use sqlx::{AnyConnection, Row};

use crate::audit::{AuditEntry, NewAudit};
use crate::error::Result;
use crate::time::now_ms;
use crate::Store;

/// Writes `row` on `conn`, inside the caller's transaction.
pub(crate) async fn insert_audit(conn: &mut AnyConnection, row: &NewAudit) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, details, address) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(now_ms())
    .bind(&row.actor)
    .bind(&row.action)
    .bind(&row.target)
    .bind(row.details.to_string())
    .bind(row.address.as_deref())
    .execute(conn)
    .await?;
    Ok(())
}

fn entry(r: &sqlx::any::AnyRow) -> Result<AuditEntry> {
    let details: String = r.try_get("details")?;
    Ok(AuditEntry {
        id: r.try_get("id")?,
        at: r.try_get("at")?,
        actor: r.try_get("actor")?,
        action: r.try_get("action")?,
        target: r.try_get("target")?,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::Null),
        address: r.try_get("address")?,
    })
}

impl Store {
    /// Writes one row in a transaction of its own.
    pub(crate) async fn audit_insert(&self, row: &NewAudit) -> Result<()> {
        let mut tx = self.begin_write().await?;
        insert_audit(&mut tx, row).await?;
        tx.commit().await
    }

    /// Newest first: at most `limit` rows older than `before` (an id), of `action` or
    /// its family (`job` → `job.*`).
    pub(crate) async fn audit_rows(
        &self,
        limit: i64,
        before: Option<i64>,
        action: Option<&str>,
    ) -> Result<Vec<AuditEntry>> {
        let rows = sqlx::query(
            "SELECT id, at, actor, action, target, details, address FROM audit_log
             WHERE id < $1 AND ($2 = '' OR action = $2 OR action LIKE $3)
             ORDER BY id DESC LIMIT $4",
        )
        .bind(before.unwrap_or(i64::MAX))
        .bind(action.unwrap_or(""))
        .bind(action.map(|a| format!("{a}.%")).unwrap_or_default())
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(entry).collect()
    }
}
