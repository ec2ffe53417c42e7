//! SQL of accounts (migration 0004): `users` and `memberships`. Creating a user and
//! changing a membership write their audit row in the same transaction; a membership
//! change also ends every session of the user.

use std::collections::HashMap;

use serde_json::json;
use sqlx::any::AnyRow;
use sqlx::Row;

use super::audit::insert_audit;
use super::Store;
use crate::accounts::{Membership, Role, UserInfo};
use crate::audit::Audit;
use crate::error::{Result, StoreError};
use crate::time::now_ms;

/// `memberships.role`: unknown text is an error naming the column, never a lesser role.
fn role_from_db(s: &str) -> Result<Role> {
    Role::parse(s)
        .ok_or_else(|| StoreError::Data(format!("memberships.role holds unknown value {s:?}")))
}

fn membership(r: &AnyRow) -> Result<Membership> {
    Ok(Membership {
        project_id: r.try_get("project_id")?,
        project: r.try_get("slug")?,
        role: role_from_db(&r.try_get::<String, _>("role")?)?,
    })
}

impl Store {
    /// Writes a user (its password already hashed) and its global role, with the audit
    /// row (`user.create`), in one transaction. A taken name is a conflict on `name`.
    pub(crate) async fn insert_user(
        &self,
        who: &Audit,
        name: &str,
        password_hash: &str,
        role: Option<Role>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (name, password_hash, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(name)
        .bind(password_hash)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            if super::is_unique_violation(&e) {
                StoreError::Conflict {
                    field: "name".into(),
                    reason: format!("user '{name}' exists"),
                }
            } else {
                e.into()
            }
        })?;
        if let Some(role) = role {
            sqlx::query(
                "INSERT INTO memberships (user_id, project_id, role) VALUES ($1, NULL, $2)",
            )
            .bind(id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        }
        let details = json!({ "id": id, "role": role.map(Role::as_str) });
        insert_audit(
            &mut tx,
            &who.entry("user.create", format!("user:{name}"), details),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Gives a user a role on a project (or globally), replacing the one it had there.
    /// Recorded as done locally.
    pub async fn set_membership(
        &self,
        user_id: i64,
        project: Option<&str>,
        role: Role,
    ) -> Result<()> {
        self.set_membership_by(&Audit::local(), user_id, project, role)
            .await
    }

    /// Gives a user a role on a project (or globally), replacing the one it had there;
    /// ends every session of the user and writes the audit row (`membership.set`), all
    /// in one transaction.
    pub async fn set_membership_by(
        &self,
        who: &Audit,
        user_id: i64,
        project: Option<&str>,
        role: Role,
    ) -> Result<()> {
        let project_id = match project {
            Some(slug) => Some(self.project(slug).await?.id),
            None => None,
        };
        let mut tx = self.begin_write().await?;
        let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {user_id}")))?;
        let before: Option<String> = sqlx::query_scalar(
            "SELECT role FROM memberships WHERE user_id = $1 AND (project_id = $2 OR (project_id IS NULL AND $3 = 1))",
        )
        .bind(user_id)
        .bind(project_id.unwrap_or(-1))
        .bind(i64::from(project_id.is_none()))
        .fetch_optional(&mut *tx)
        .await?;
        let before = before.map(|r| role_from_db(&r)).transpose()?;
        sqlx::query(
            "DELETE FROM memberships WHERE user_id = $1 AND (project_id = $2 OR (project_id IS NULL AND $3 = 1))",
        )
        .bind(user_id)
        .bind(project_id.unwrap_or(-1))
        .bind(i64::from(project_id.is_none()))
        .execute(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO memberships (user_id, project_id, role) VALUES ($1, $2, $3)")
            .bind(user_id)
            .bind(project_id)
            .bind(role.as_str())
            .execute(&mut *tx)
            .await?;
        let ended = super::sessions::end_user_sessions(&mut tx, user_id).await?;
        let details = json!({
            "project": project,
            "role": role.as_str(),
            "previous_role": before.map(Role::as_str),
            "sessions_ended": ended,
        });
        insert_audit(
            &mut tx,
            &who.entry("membership.set", format!("user:{name}"), details),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn user_by_name(&self, name: &str) -> Result<UserInfo> {
        let id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user '{name}'")))?;
        self.user_info(id).await
    }

    pub async fn user_info(&self, id: i64) -> Result<UserInfo> {
        let name: String = sqlx::query_scalar("SELECT name FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        let rows = sqlx::query(
            "SELECT m.project_id, p.slug, m.role FROM memberships m
             LEFT JOIN projects p ON p.id = m.project_id WHERE m.user_id = $1 ORDER BY m.id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        Ok(UserInfo {
            id,
            name,
            memberships: rows.iter().map(membership).collect::<Result<_>>()?,
        })
    }

    /// Every user by name, with their memberships: two queries, whatever the number of
    /// users.
    pub async fn list_users(&self) -> Result<Vec<UserInfo>> {
        let users = sqlx::query("SELECT id, name FROM users ORDER BY name")
            .fetch_all(&self.pool)
            .await?;
        let rows = sqlx::query(
            "SELECT m.user_id, m.project_id, p.slug, m.role FROM memberships m
             LEFT JOIN projects p ON p.id = m.project_id ORDER BY m.id",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut by_user: HashMap<i64, Vec<Membership>> = HashMap::new();
        for r in &rows {
            by_user
                .entry(r.try_get("user_id")?)
                .or_default()
                .push(membership(r)?);
        }
        users
            .iter()
            .map(|u| {
                let id: i64 = u.try_get("id")?;
                Ok(UserInfo {
                    id,
                    name: u.try_get("name")?,
                    memberships: by_user.remove(&id).unwrap_or_default(),
                })
            })
            .collect()
    }

    /// The id and argon2 hash of the user of this name, if any.
    pub(crate) async fn password_hash_of(&self, name: &str) -> Result<Option<(i64, String)>> {
        let row = sqlx::query("SELECT id, password_hash FROM users WHERE name = $1")
            .bind(name)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| Ok((r.try_get("id")?, r.try_get("password_hash")?)))
            .transpose()
    }
}
