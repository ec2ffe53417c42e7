//! Ticket templates: per project, a tracker (GitHub issues or Jira) whose "new issue"
//! page opens prefilled with the alert group's summary.

use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::notify::group_digest;
use crate::store::tickets::TicketKind;
use crate::Store;
use perfwatch_core::alerts::AlertGroupView;
use perfwatch_core::digest::to_markdown;
use perfwatch_core::http_url::HttpUrl;
use serde::{Deserialize, Serialize};

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

/// RFC 3986's unreserved characters stay raw; everything else is escaped.
const COMPONENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn enc(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, COMPONENT).to_string()
}

/// The prefilled "new issue" URL for a group (pure): the group's digest, its title as
/// the issue title and its Markdown as the body.
pub fn new_ticket_url(t: &TicketTemplate, g: &AlertGroupView, base: &str) -> String {
    let d = group_digest(g, base);
    let body = to_markdown(&d);
    let root = t.base_url.trim_end_matches('/');
    match t.kind.as_str() {
        "jira" => format!(
            "{root}/secure/CreateIssueDetails!init.jspa?pid={}&issuetype=1&summary={}&description={}",
            enc(t.jira_project.as_deref().unwrap_or("")),
            enc(&d.title),
            enc(&body)
        ),
        _ => format!(
            "{root}/issues/new?title={}&body={}&labels=performance",
            enc(&d.title),
            enc(&body)
        ),
    }
}

/// Sets (or with `None` removes) a project's ticket template. Admins only; the input is
/// checked before anything is written.
pub async fn set_ticket_template(
    store: &Store,
    actor: &Actor,
    project: &str,
    t: Option<TicketTemplate>,
) -> Result<()> {
    let p = store.project(project).await?;
    actor.require(Right::Admin, Some(p.id))?;
    let checked = match &t {
        None => None,
        Some(t) => {
            let kind = TicketKind::parse(&t.kind)
                .ok_or_else(|| StoreError::invalid("kind", "github or jira"))?;
            HttpUrl::parse("base_url", &t.base_url).map_err(|e| StoreError::Invalid(e.into()))?;
            Some((kind, t))
        }
    };
    store.replace_ticket_template(p.id, checked).await
}

#[cfg(test)]
mod tests {
    use super::enc;

    #[test]
    fn ticket_fields_are_escaped_as_url_components() {
        assert_eq!(enc("a b/ü&=#-_.~"), "a%20b%2F%C3%BC%26%3D%23-_.~");
    }
}
