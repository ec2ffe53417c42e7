//! Ticket templates: per project, a tracker (GitHub issues or Jira) whose "new issue"
//! page opens prefilled with the alert group's summary.

use perfwatch_core::alerts::AlertGroupView;
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::notify::group_summary;
use crate::Store;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TicketTemplate {
    /// `github` or `jira`.
    pub kind: String,
    /// GitHub: the repository URL (`https://github.com/org/repo`); Jira: the site
    /// (`https://example.atlassian.net`).
    pub base_url: String,
    /// Jira project id (numeric `pid`) or key.
    pub jira_project: Option<String>,
}

fn enc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The prefilled "new issue" URL for a group (pure).
pub fn new_ticket_url(t: &TicketTemplate, g: &AlertGroupView, base: &str) -> String {
    let s = group_summary(g, base);
    let root = t.base_url.trim_end_matches('/');
    match t.kind.as_str() {
        "jira" => format!(
            "{root}/secure/CreateIssueDetails!init.jspa?pid={}&issuetype=1&summary={}&description={}",
            enc(t.jira_project.as_deref().unwrap_or("")),
            enc(&s.title),
            enc(&s.body)
        ),
        _ => format!(
            "{root}/issues/new?title={}&body={}&labels=performance",
            enc(&s.title),
            enc(&s.body)
        ),
    }
}

impl Store {
    pub async fn ticket_template(&self, project_id: i64) -> Result<Option<TicketTemplate>> {
        let r = sqlx::query(
            "SELECT kind, base_url, jira_project FROM ticket_templates WHERE project_id = $1",
        )
        .bind(project_id)
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| {
            Ok(TicketTemplate {
                kind: r.try_get(0)?,
                base_url: r.try_get(1)?,
                jira_project: r.try_get(2)?,
            })
        })
        .transpose()
    }

    /// Sets (or with `None` removes) a project's ticket template. Admins only.
    pub async fn set_ticket_template(
        &self,
        actor: &Actor,
        project: &str,
        t: Option<TicketTemplate>,
    ) -> Result<()> {
        let p = self.project(project).await?;
        actor.require(Right::Admin, Some(p.id))?;
        sqlx::query("DELETE FROM ticket_templates WHERE project_id = $1")
            .bind(p.id)
            .execute(&self.pool)
            .await?;
        if let Some(t) = t {
            if !matches!(t.kind.as_str(), "github" | "jira") {
                return Err(StoreError::invalid("kind", "github or jira"));
            }
            if !t.base_url.starts_with("https://") && !t.base_url.starts_with("http://") {
                return Err(StoreError::invalid("base_url", "an http(s) URL"));
            }
            sqlx::query(
                "INSERT INTO ticket_templates (project_id, kind, base_url, jira_project) VALUES ($1, $2, $3, $4)",
            )
            .bind(p.id)
            .bind(&t.kind)
            .bind(&t.base_url)
            .bind(&t.jira_project)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }
}
