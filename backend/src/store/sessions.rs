//! Login sessions: started at login (replacing the session of the cookie the browser
//! brought, so a planted or old session id never survives a login), ended at logout,
//! all ended at "log out everywhere" and at a privilege change. Each change writes its
//! audit row in the same transaction. Only the SHA-256 of a session secret is stored.

use serde_json::json;
use sqlx::AnyConnection;

use super::audit::insert_audit;
use crate::accounts::{new_secret, UserInfo, SESSION_TTL_MS};
use crate::audit::Audit;
use crate::error::{Result, StoreError};
use crate::time::now_ms;
use crate::tokens::hash_token;
use crate::Store;

/// Ends every session of `user_id` inside the caller's transaction; how many ended.
pub(crate) async fn end_user_sessions(conn: &mut AnyConnection, user_id: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE user_id = $1")
        .bind(user_id)
        .execute(conn)
        .await?
        .rows_affected())
}

async fn user_name(conn: &mut AnyConnection, user_id: i64) -> Result<String> {
    sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
        .bind(user_id)
        .fetch_optional(conn)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))
}

impl Store {
    /// Starts a session for `user_id` after a good password; the session of the
    /// cookie the browser sent (`replaces`) ends in the same transaction, with the
    /// user's expired sessions, and the `login` row is written. Returns the new
    /// secret (the cookie value).
    pub async fn start_session(
        &self,
        user_id: i64,
        replaces: Option<&str>,
        address: Option<String>,
    ) -> Result<String> {
        let secret = new_secret("pws_")?;
        let now = now_ms();
        let mut tx = self.begin_write().await?;
        let name = user_name(&mut tx, user_id).await?;
        let replaced = match replaces {
            Some(old) => sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(hash_token(old))
                .execute(&mut *tx)
                .await?
                .rows_affected(),
            None => 0,
        };
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2")
            .bind(user_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(hash_token(&secret))
        .bind(user_id)
        .bind(now)
        .bind(now + SESSION_TTL_MS)
        .execute(&mut *tx)
        .await?;
        let who = Audit::new(format!("user:{name}"), address);
        let details = json!({ "replaced_session": replaced > 0 });
        insert_audit(
            &mut tx,
            &who.entry("login", format!("user:{name}"), details),
        )
        .await?;
        tx.commit().await?;
        Ok(secret)
    }

    /// Records a refused password. The row is the same whether or not the name
    /// exists (the name as typed, cut to 64 characters).
    pub async fn login_failed(&self, name: &str, address: Option<String>) {
        let typed: String = name.trim().chars().take(64).collect();
        let who = Audit::new("anonymous", address);
        self.audit_after(who.entry(
            "login.failed",
            format!("user:{typed}"),
            json!({ "reason": "wrong name or password" }),
        ))
        .await;
    }

    /// The user of an unexpired session.
    pub async fn session_user(&self, secret: &str) -> Result<Option<UserInfo>> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(hash_token(secret))
        .bind(now_ms())
        .fetch_optional(&self.pool)
        .await?;
        match id {
            Some(id) => Ok(Some(self.user_info(id).await?)),
            None => Ok(None),
        }
    }

    /// Ends the session of this secret (logout) with its `logout` row; nothing is
    /// recorded for an unknown or expired secret.
    pub async fn end_session(&self, secret: &str, address: Option<String>) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let user: Option<i64> = sqlx::query_scalar(
            "DELETE FROM sessions WHERE token_hash = $1 AND expires_at > $2 RETURNING user_id",
        )
        .bind(hash_token(secret))
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(user_id) = user {
            let name = user_name(&mut tx, user_id).await?;
            let who = Audit::new(format!("user:{name}"), address);
            insert_audit(
                &mut tx,
                &who.entry("logout", format!("user:{name}"), json!({})),
            )
            .await?;
        }
        tx.commit().await
    }

    /// "Log out everywhere": ends every session of `user_id` (API tokens are not
    /// sessions and keep working) with its `logout.all` row; how many ended.
    pub async fn end_all_sessions(&self, user_id: i64, address: Option<String>) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let name = user_name(&mut tx, user_id).await?;
        let n = end_user_sessions(&mut tx, user_id).await?;
        let who = Audit::new(format!("user:{name}"), address);
        insert_audit(
            &mut tx,
            &who.entry(
                "logout.all",
                format!("user:{name}"),
                json!({ "sessions_ended": n }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    /// How many unexpired sessions `user_id` has (the account page shows it).
    pub async fn session_count(&self, user_id: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE user_id = $1 AND expires_at > $2",
        )
        .bind(user_id)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?)
    }
}
