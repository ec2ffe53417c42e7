//! API tokens. A token is shown once at creation; only its SHA-256 is stored. Tokens
//! are 256 random bits, so a fast hash is enough (no dictionary to guess from, unlike
//! passwords, which get argon2).
//!
//! A token may carry an expiry (`expires_at`); past it the token is refused with
//! "token expired" but stays listed. Creating and revoking a token writes its audit row
//! in the same transaction.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::accounts::{parse_scopes, Right};
use crate::audit::Audit;
use crate::error::{Result, StoreError};
use crate::store::audit::insert_audit;
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
    /// Recorded at most once a minute.
    pub last_used_at: Option<i64>,
    /// Refused from then on (ms since the epoch); `None`: never expires.
    #[serde(default)]
    pub expires_at: Option<i64>,
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq)]
pub enum TokenCheck {
    Valid(TokenInfo),
    /// Known and not revoked, but past its expiry.
    Expired,
    /// Unknown or revoked.
    Unknown,
}

/// A new token's settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewToken {
    pub name: String,
    /// Limit to this project (slug).
    pub project: Option<String>,
    /// Comma-separated: ingest, triage, admin.
    pub scopes: String,
    /// ms since the epoch; must be in the future.
    pub expires_at: Option<i64>,
}

/// An expiry given as a time (RFC 3339 or ms since the epoch) or as a number of days
/// from `now`; at most one of them.
pub fn expiry(
    expires_at: Option<&str>,
    expires_in_days: Option<i64>,
    now: i64,
) -> Result<Option<i64>> {
    match (
        expires_at.map(str::trim).filter(|s| !s.is_empty()),
        expires_in_days,
    ) {
        (Some(_), Some(_)) => Err(StoreError::invalid(
            "expires_in_days",
            "give expires_at or expires_in_days, not both",
        )),
        (None, None) => Ok(None),
        (None, Some(d)) if (1..=3650).contains(&d) => Ok(Some(now + d * 86_400_000)),
        (None, Some(_)) => Err(StoreError::invalid("expires_in_days", "1 to 3650 days")),
        (Some(t), None) => {
            let at = t
                .parse::<i64>()
                .ok()
                .or_else(|| {
                    chrono::DateTime::parse_from_rfc3339(t)
                        .ok()
                        .map(|d| d.timestamp_millis())
                })
                .ok_or_else(|| {
                    StoreError::invalid("expires_at", "RFC 3339 time or ms since the epoch")
                })?;
            if at <= now {
                return Err(StoreError::invalid("expires_at", "must be in the future"));
            }
            Ok(Some(at))
        }
    }
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

    /// Creates a token limited to `scopes` (comma-separated: ingest, triage, admin),
    /// recorded as made locally (command line, fixtures).
    pub async fn create_token_with_scopes(
        &self,
        name: &str,
        project: Option<&str>,
        scopes: &str,
    ) -> Result<(i64, String)> {
        let t = NewToken {
            name: name.to_string(),
            project: project.map(str::to_string),
            scopes: scopes.to_string(),
            expires_at: None,
        };
        self.create_token_by(&Audit::local(), &t).await
    }

    /// Creates a token and its audit row (`token.create`) in one transaction; returns
    /// its id and the secret (shown once, never stored).
    pub async fn create_token_by(&self, who: &Audit, t: &NewToken) -> Result<(i64, String)> {
        let scopes = parse_scopes(&t.scopes)?
            .iter()
            .map(|r| r.as_str())
            .collect::<Vec<_>>()
            .join(",");
        let name = t.name.trim();
        if name.is_empty() || name.len() > 100 {
            return Err(StoreError::invalid("name", "must be 1 to 100 characters"));
        }
        let now = now_ms();
        if t.expires_at.is_some_and(|e| e <= now) {
            return Err(StoreError::invalid("expires_at", "must be in the future"));
        }
        let project_id = match &t.project {
            Some(slug) => Some(self.project(slug).await?.id),
            None => None,
        };
        let secret = new_secret()?;
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (name, token_hash, project_id, created_at, scopes, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(name)
        .bind(hash_token(&secret))
        .bind(project_id)
        .bind(now)
        .bind(&scopes)
        .bind(t.expires_at)
        .fetch_one(&mut *tx)
        .await?;
        let details = json!({
            "id": id,
            "project": t.project,
            "scopes": scopes,
            "expires_at": t.expires_at,
        });
        insert_audit(
            &mut tx,
            &who.entry("token.create", format!("token:{name}"), details),
        )
        .await?;
        tx.commit().await?;
        Ok((id, secret))
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
        .bind(now_ms())
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
        let rows = sqlx::query(
            "SELECT t.id, t.name, p.slug, t.project_id, t.created_at, t.revoked_at, t.last_used_at, t.scopes, t.expires_at
             FROM api_tokens t LEFT JOIN projects p ON p.id = t.project_id ORDER BY t.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(token_from_row).collect()
    }

    /// The active, unexpired token with this secret, if any. Records its use.
    pub async fn verify_token(&self, secret: &str) -> Result<Option<TokenInfo>> {
        Ok(match self.check_token(secret).await? {
            TokenCheck::Valid(t) => Some(t),
            TokenCheck::Expired | TokenCheck::Unknown => None,
        })
    }

    /// What the token with this secret is; records the use of a valid one.
    pub async fn check_token(&self, secret: &str) -> Result<TokenCheck> {
        let row = sqlx::query(
            "SELECT t.id, t.name, p.slug, t.project_id, t.created_at, t.revoked_at, t.last_used_at, t.scopes, t.expires_at
             FROM api_tokens t LEFT JOIN projects p ON p.id = t.project_id
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(hash_token(secret))
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(TokenCheck::Unknown);
        };
        let info = token_from_row(&row)?;
        let now = now_ms();
        if info.expires_at.is_some_and(|e| e <= now) {
            return Ok(TokenCheck::Expired);
        }
        // Record use at most once a minute: a write per request would queue every CI
        // submission behind SQLite's single writer for a timestamp nobody reads that finely.
        if info.last_used_at.is_none_or(|t| now - t > 60_000) {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now)
                .bind(info.id)
                .execute(&self.pool)
                .await?;
        }
        Ok(TokenCheck::Valid(info))
    }
}

fn token_from_row(r: &sqlx::any::AnyRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        project: r.try_get("slug")?,
        project_id: r.try_get("project_id")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
        last_used_at: r.try_get("last_used_at")?,
        scopes: parse_scopes(&r.try_get::<String, _>("scopes")?).unwrap_or_default(),
        expires_at: r.try_get("expires_at")?,
    })
}
