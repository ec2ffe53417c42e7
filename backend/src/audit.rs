//! The audit log: who did which security-relevant action, to what, when and from where
//! (logins, logouts, tokens, users and roles, GitHub integrations, metric sources, job
//! commands). Admins read it (`GET /api/v1/audit`, `/admin/audit`); it lives in the
//! database with the rest of the data (`audit_log`, migration 0012).
//!
//! Changes made by the account code (users, memberships, tokens, sessions) write their
//! row in the same transaction as the change, so neither exists without the other.
//! Changes made elsewhere (integration settings, metric sources, job commands) are
//! recorded right after they committed, by the entry point that made them
//! ([`Store::audit_after`]): a crash between the two loses that one row, never the
//! change. Details never hold a secret: only which fields changed.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::Store;

/// The client's IP address, put in a request's extensions by the server so server
/// functions can name it in audit rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientAddress(pub String);

/// Who acts and from where: the actor's label (`user:NAME`, `token:NAME`,
/// `github:@LOGIN`, `local` for the command line) and the client's IP address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audit {
    pub actor: String,
    pub address: Option<String>,
}

impl Audit {
    pub fn new(actor: impl Into<String>, address: Option<String>) -> Self {
        Self {
            actor: actor.into(),
            address,
        }
    }

    /// The request's actor.
    pub fn of(actor: &Actor, address: Option<String>) -> Self {
        Self::new(actor.label(), address)
    }

    /// Changes made on the server's machine (the CLI, the demo data, tests' fixtures).
    pub fn local() -> Self {
        Self::new("local", None)
    }

    /// A row to write: `action` on `target`, with `details` (a JSON object).
    pub fn entry(&self, action: &str, target: impl Into<String>, details: Value) -> NewAudit {
        NewAudit {
            actor: self.actor.clone(),
            action: action.to_string(),
            target: target.into(),
            details,
            address: self.address.clone(),
        }
    }
}

/// A row before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAudit {
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: Value,
    pub address: Option<String>,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEntry {
    pub id: i64,
    /// ms since the epoch.
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub details: Value,
    pub address: Option<String>,
}

/// The recorded actions (the `action` filter accepts these and their families, e.g.
/// `job` for every `job.*`).
pub const ACTIONS: &[&str] = &[
    "login",
    "login.failed",
    "logout",
    "logout.all",
    "token.create",
    "token.revoke",
    "user.create",
    "membership.set",
    "github.integration",
    "metric_source.put",
    "job.enqueue",
    "job.cancel",
    "job.rerun",
    "job.command",
];

/// A page of the log, newest first.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AuditQuery {
    /// 1 to 500; 50 when absent.
    pub limit: Option<i64>,
    /// Only rows with a smaller id (the `next_before` of the previous page).
    pub before: Option<i64>,
    /// An action or a family (`job`).
    pub action: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next_before: Option<i64>,
}

impl AuditQuery {
    fn checked(&self) -> Result<(i64, Option<i64>, Option<String>)> {
        let limit = self.limit.unwrap_or(50);
        if !(1..=500).contains(&limit) {
            return Err(StoreError::invalid("limit", "1 to 500"));
        }
        if self.before.is_some_and(|b| b < 1) {
            return Err(StoreError::invalid("before", "a positive entry id"));
        }
        let action = self
            .action
            .as_deref()
            .map(str::trim)
            .filter(|a| !a.is_empty());
        if let Some(a) = action {
            let known = ACTIONS
                .iter()
                .any(|k| *k == a || k.split('.').next() == Some(a));
            if !known {
                return Err(StoreError::invalid(
                    "action",
                    format!("unknown action '{a}' (one of {})", ACTIONS.join(", ")),
                ));
            }
        }
        Ok((limit, self.before, action.map(str::to_string)))
    }
}

impl Store {
    /// Records an action that already happened outside the account code (its change
    /// committed in its own transaction). A failure is logged, not returned: the change
    /// is done, and answering an error would make the caller think it was not.
    pub async fn audit_after(&self, row: NewAudit) {
        if let Err(e) = self.audit_insert(&row).await {
            tracing::error!(error = %e, action = %row.action, target = %row.target, "audit row not written");
        }
    }

    /// A page of the audit log for a global admin.
    pub async fn audit_log(&self, actor: &Actor, q: &AuditQuery) -> Result<AuditPage> {
        actor.require(Right::Admin, None)?;
        let (limit, before, action) = q.checked()?;
        // One more than asked tells whether an older page exists.
        let mut entries = self
            .audit_rows(limit + 1, before, action.as_deref())
            .await?;
        let more = entries.len() as i64 > limit;
        entries.truncate(limit as usize);
        let next_before = if more {
            entries.last().map(|e| e.id)
        } else {
            None
        };
        Ok(AuditPage {
            entries,
            next_before,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_checks_its_fields() {
        let q = |limit, before, action: Option<&str>| AuditQuery {
            limit,
            before,
            action: action.map(str::to_string),
        };
        assert!(q(None, None, None).checked().is_ok());
        assert!(q(Some(0), None, None).checked().is_err());
        assert!(q(Some(501), None, None).checked().is_err());
        assert!(q(None, Some(0), None).checked().is_err());
        assert_eq!(
            q(None, None, Some("job")).checked().unwrap().2.as_deref(),
            Some("job")
        );
        assert!(q(None, None, Some("login.failed")).checked().is_ok());
        let e = q(None, None, Some("drop table")).checked().unwrap_err();
        assert!(format!("{e:?}").contains("action"));
    }
}
