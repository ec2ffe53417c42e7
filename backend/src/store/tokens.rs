//! SQL of API tokens (`api_tokens`; scopes since migration 0004, expiry since 0012).
//! Creating and revoking a token writes its audit row in the same transaction.

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::audit::insert_audit;
use super::Store;
use crate::accounts::{parse_scopes, Right};
use crate::audit::Audit;
use crate::error::{Result, StoreError};
use crate::tokens::TokenInfo;

/// A token to write: the secret is already hashed, the scopes checked.
pub(crate) struct NewTokenRow<'a> {
    pub name: &'a str,
    pub token_hash: &'a str,
    /// The project (slug and id) the token is limited to.
    pub project: Option<(&'a str, i64)>,
    pub scopes: &'a [Right],
    pub created_at: i64,
    pub expires_at: Option<i64>,
}

const TOKEN_COLUMNS: &str = "t.id, t.name, p.slug, t.project_id, t.created_at, t.revoked_at,
    t.last_used_at, t.scopes, t.expires_at";

/// `api_tokens.scopes` as written by [`Store::insert_token`]; anything else is an error
/// naming the column.
fn scopes_from_db(s: &str) -> Result<Vec<Right>> {
    parse_scopes(s)
        .map_err(|_| StoreError::Data(format!("api_tokens.scopes holds unknown value {s:?}")))
}

fn token(r: &AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        project: r.try_get("slug")?,
        project_id: r.try_get("project_id")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
        scopes: scopes_from_db(&r.try_get::<String, _>("scopes")?)?,
        expires_at: r.try_get("expires_at")?,
    })
}

impl Store {
    /// Writes a token and its audit row (`token.create`) in one transaction.
    pub(crate) async fn insert_token(&self, who: &Audit, t: &NewTokenRow<'_>) -> Result<i64> {
        let scopes = t
            .scopes
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, project_id, created_at, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(t.name)
        .bind(t.token_hash)
        .bind(t.project.map(|p| p.1))
        .bind(t.created_at)
        .bind(&scopes)
        .bind(t.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let details = json!({
            "id": id,
            "project": t.project.map(|p| p.0),
            "scopes": scopes,
            "expires_at": t.expires_at,
        });
        insert_audit(
            &mut tx,
            &who.entry("token.create", format!("token:{}", t.name), details),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Revokes by id, recorded as done locally.
    pub async fn revoke_token(&self, id: i64) -> Result<()> {
        self.revoke_token_by(&Audit::local(), id).await
    }

    /// Revokes by id with its audit row (`token.revoke`) in the same transaction;
    /// revoked tokens stay listed for the record.
    pub async fn revoke_token_by(&self, who: &Audit, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let name: Option<String> = sqlx::query_scalar(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL RETURNING name",
        )
        .bind(crate::time::now_ms())
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(name) = name else {
            return Err(StoreError::NotFound(format!("active token {id}")));
        };
        insert_audit(
            &mut tx,
            &who.entry("token.revoke", format!("token:{name}"), json!({ "id": id })),
        )
        .await?;
        tx.commit().await
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t LEFT JOIN projects p ON p.id = t.project_id ORDER BY t.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(token).collect()
    }

    /// The unrevoked token with this SHA-256 (hex), expired or not.
    pub(crate) async fn active_token_by_hash(&self, token_hash: &str) -> Result<Option<TokenInfo>> {
        let sql = format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens t LEFT JOIN projects p ON p.id = t.project_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(token).transpose()
    }

    /// Records that a token was used at `at`. A single-row update outside the writer
    /// queue, as before: it is best-effort bookkeeping, not part of any transaction.
    pub(crate) async fn touch_token(&self, id: i64, at: i64) -> Result<()> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
