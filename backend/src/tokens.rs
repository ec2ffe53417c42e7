//! API tokens. A token is shown once at creation; only its SHA-256 is stored. Tokens
//! are 256 random bits, so a fast hash is enough (no dictionary to guess from, unlike
//! passwords, which get argon2).
//!
//! A token may carry an expiry (`expires_at`); past it the token is refused with
//! "token expired" but stays listed. Creating and revoking a token writes its audit row
//! in the same transaction (SQL in `store/tokens.rs`).

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::accounts::{parse_scopes, Right};
use crate::audit::Audit;
use crate::error::{Result, StoreError};
use crate::store::tokens::NewTokenRow;
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

/// Creates a token with every scope (`ingest,triage,admin`), returning its id and the
/// secret (shown once, never stored).
pub async fn create_token(
    store: &Store,
    name: &str,
    project: Option<&str>,
) -> Result<(i64, String)> {
    create_token_with_scopes(store, name, project, "ingest,triage,admin").await
}

/// Creates a token limited to `scopes` (comma-separated: ingest, triage, admin),
/// recorded as made locally (command line, fixtures).
pub async fn create_token_with_scopes(
    store: &Store,
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
    create_token_by(store, &Audit::local(), &t).await
}

/// Creates a token and its audit row (`token.create`) in one transaction; returns its
/// id and the secret (shown once, never stored).
pub async fn create_token_by(store: &Store, who: &Audit, t: &NewToken) -> Result<(i64, String)> {
    let scopes = parse_scopes(&t.scopes)?;
    let name = t.name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(StoreError::invalid("name", "must be 1 to 100 characters"));
    }
    let now = now_ms();
    if t.expires_at.is_some_and(|e| e <= now) {
        return Err(StoreError::invalid("expires_at", "must be in the future"));
    }
    let project_id = match &t.project {
        Some(slug) => Some(store.project(slug).await?.id),
        None => None,
    };
    let secret = new_secret()?;
    let id = store
        .insert_token(
            who,
            &NewTokenRow {
                name,
                token_hash: &hash_token(&secret),
                project: t.project.as_deref().zip(project_id),
                scopes: &scopes,
                created_at: now,
                expires_at: t.expires_at,
            },
        )
        .await?;
    Ok((id, secret))
}

/// The active, unexpired token with this secret, if any. Records its use.
pub async fn verify_token(store: &Store, secret: &str) -> Result<Option<TokenInfo>> {
    Ok(match check_token(store, secret).await? {
        TokenCheck::Valid(t) => Some(t),
        TokenCheck::Expired | TokenCheck::Unknown => None,
    })
}

/// What the token with this secret is; records the use of a valid one.
pub async fn check_token(store: &Store, secret: &str) -> Result<TokenCheck> {
    let Some(info) = store.active_token_by_hash(&hash_token(secret)).await? else {
        return Ok(TokenCheck::Unknown);
    };
    let now = now_ms();
    if info.expires_at.is_some_and(|e| e <= now) {
        return Ok(TokenCheck::Expired);
    }
    // Record use at most once a minute: a write per request would queue every CI
    // submission behind SQLite's single writer for a timestamp nobody reads that finely.
    if info.last_used_at.is_none_or(|t| now - t > 60_000) {
        store.touch_token(info.id, now).await?;
    }
    Ok(TokenCheck::Valid(info))
}
