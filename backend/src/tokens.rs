//! API tokens. A token is shown once at creation; only its SHA-256 is stored. Tokens
//! are 256 random bits, so a fast hash is enough (no dictionary to guess from, unlike
//! passwords, which get argon2).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::accounts::{parse_scopes, Right};
use crate::error::{Result, StoreError};
use crate::time::now_ms;
use crate::Store;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    /// Project slug the token is limited to; `None` for a global token.
    pub project: Option<String>,
    pub project_id: Option<i64>,
    /// What the token may do besides reading: ingest, triage, admin.
    pub scopes: Vec<Right>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn new_secret() -> Result<String> {
    crate::accounts::new_secret("pw_")
}

impl Store {
    /// Creates a token with every scope (`ingest,triage,admin`), returning its id and
    /// the secret (shown once, never stored).
    pub async fn create_token(&self, name: &str, project: Option<&str>) -> Result<(i64, String)> {
        self.create_token_with_scopes(name, project, "ingest,triage,admin")
            .await
    }

    /// Creates a token limited to `scopes` (comma-separated: ingest, triage, admin).
    pub async fn create_token_with_scopes(
        &self,
        name: &str,
        project: Option<&str>,
        scopes: &str,
    ) -> Result<(i64, String)> {
        let scopes = parse_scopes(scopes)?
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        if name.trim().is_empty() || name.len() > 100 {
            return Err(StoreError::invalid("name", "must be 1 to 100 characters"));
        }
        let project_id = match project {
            Some(slug) => Some(self.project(slug).await?.id),
            None => None,
        };
        let secret = new_secret()?;
        let id = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, project_id, created_at, scopes) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(name)
        .bind(hash_token(&secret))
        .bind(project_id)
        .bind(now_ms())
        .bind(scopes)
        .fetch_one(&self.pool)
        .await?;
        Ok((id, secret))
    }

    /// Revokes by id; revoked tokens stay listed for the record.
    pub async fn revoke_token(&self, id: i64) -> Result<()> {
        let n = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms())
        .bind(id)
        .execute(&self.pool)
        .await?
        .rows_affected();
        if n == 0 {
            return Err(StoreError::NotFound(format!("active token {id}")));
        }
        Ok(())
    }

    pub async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let rows = sqlx::query(
            "SELECT t.id, t.name, p.slug, t.project_id, t.created_at, t.revoked_at, t.last_used_at, t.scopes
             FROM api_tokens t LEFT JOIN projects p ON p.id = t.project_id ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// The active token with this secret, if any. Records its use.
    pub async fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>> {
        let row = sqlx::query(
            "SELECT t.id, t.name, p.slug, t.project_id, t.created_at, t.revoked_at, t.last_used_at, t.scopes
             FROM api_tokens t LEFT JOIN projects p ON p.id = t.project_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(hash_token(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let info = token_from_row(&row)?;
        // Record use at most once a minute: a write per request would queue every CI
        // submission behind SQLite's single writer for a timestamp nobody reads that finely.
        let now = now_ms();
        if info.last_used_at.is_none_or(|t| now - t > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(info.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(Some(info))
    }
}

fn token_from_row(r: &sqlx::any::AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.try_get(0)?,
        name: r.try_get(1)?,
        project: r.try_get(2)?,
        project_id: r.try_get(3)?,
        created_at: r.try_get(4)?,
        revoked_at: r.try_get(5)?,
        last_used_at: r.try_get(6)?,
        scopes: parse_scopes(&r.try_get::<String, _>(7)?).unwrap_or_default(),
    })
}
