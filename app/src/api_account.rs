//! Server functions of the account page and the audit log page: thin reads. The
//! audit log is for global admins (the backend checks); the account page shows the
//! visitor who they are and how many sessions they have.

use leptos::prelude::*;

use crate::api_error::AppError;
use serde::{Deserialize, Serialize};

/// Who is logged in, as the account page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccountView {
    pub name: String,
    /// `role@project` (`*`: every project).
    pub roles: Vec<String>,
    /// Unexpired login sessions, this one included.
    pub sessions: i64,
}

/// The logged-in user, or `None` (anonymous or an API token).
#[server(prefix = "/fn", endpoint = "account")]
pub async fn fetch_account() -> Result<Option<AccountView>, AppError> {
    let actor = crate::api_ctx::actor();
    let Some(u) = actor.user() else {
        return Ok(None);
    };
    let sessions = crate::api_ctx::store()?
        .session_count(u.id)
        .await
        .map_err(AppError::from)?;
    Ok(Some(AccountView {
        name: u.name.clone(),
        roles: u
            .memberships
            .iter()
            .map(|m| {
                format!(
                    "{}@{}",
                    m.role.as_str(),
                    m.project.as_deref().unwrap_or("*")
                )
            })
            .collect(),
        sessions,
    }))
}

/// One row of the audit log as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The details as compact JSON.
    pub details: String,
    pub address: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditList {
    pub rows: Vec<AuditRow>,
    pub next_before: Option<i64>,
}

/// A page of the audit log (global admins), newest first.
#[server(prefix = "/fn", endpoint = "audit_log")]
pub async fn fetch_audit(
    action: Option<String>,
    before: Option<i64>,
) -> Result<AuditList, AppError> {
    let q = perfwatch_backend::audit::AuditQuery {
        limit: Some(100),
        before,
        action: action.filter(|a| !a.trim().is_empty()),
    };
    let page = crate::api_ctx::store()?
        .audit_log(&crate::api_ctx::actor(), &q)
        .await
        .map_err(AppError::from)?;
    Ok(AuditList {
        rows: page
            .entries
            .into_iter()
            .map(|e| AuditRow {
                id: e.id,
                at: e.at,
                actor: e.actor,
                action: e.action,
                target: e.target,
                details: e.details.to_string(),
                address: e.address,
            })
            .collect(),
        next_before: page.next_before,
    })
}
