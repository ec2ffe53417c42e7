//! SQL of ticket templates (`ticket_templates`, migration 0004): one per project.

use sqlx::Row;

use super::Store;
use crate::error::{Result, StoreError};
use crate::tickets::TicketTemplate;

/// The tracker of a template (column `ticket_templates.kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketKind {
    Github,
    Jira,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Jira => "jira",
        }
    }
    /// User input: `None` for anything but `github` or `jira`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "github" => Some(Self::Github),
            "jira" => Some(Self::Jira),
            _ => None,
        }
    }
    fn from_db(s: &str) -> Result<Self> {
        Self::parse(s).ok_or_else(|| {
            StoreError::Data(format!("ticket_templates.kind holds unknown value {s:?}"))
        })
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
            let kind = TicketKind::from_db(&r.try_get::<String, _>("kind")?)?;
            Ok(TicketTemplate {
                kind: kind.as_str().to_string(),
                base_url: r.try_get("base_url")?,
                jira_project: r.try_get("jira_project")?,
            })
        })
        .transpose()
    }

    /// Replaces (or with `None` removes) a project's template, in one transaction.
    pub(crate) async fn replace_ticket_template(
        &self,
        project_id: i64,
        t: Option<(TicketKind, &TicketTemplate)>,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM ticket_templates WHERE project_id = $1")
            .bind(project_id)
            .execute(&mut *tx)
            .await?;
        if let Some((kind, t)) = t {
            sqlx::query(
                "INSERT INTO ticket_templates (project_id, kind, base_url, jira_project) VALUES ($1, $2, $3, $4)",
            )
            .bind(project_id)
            .bind(kind.as_str())
            .bind(&t.base_url)
            .bind(&t.jira_project)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }
}
