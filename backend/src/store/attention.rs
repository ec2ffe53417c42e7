//! Queries of the home page's attention panel, the project page's open-alert badges
//! and the compare page's pickers.

use perfwatch_core::alerts::{group_state, AlertDirection, TriageState};
use perfwatch_core::attention::UntriagedAlert;
use sqlx::Row;

use super::Store;
use crate::error::{Result, StoreError};

/// A branch with its newest run.
#[derive(Debug, Clone, PartialEq)]
pub struct RecentBranch {
    pub name: String,
    pub last_run_at: i64,
    pub runs: i64,
    /// Runs the validity gate rejected (left out of comparisons).
    pub invalid_runs: i64,
    /// One of their reasons, readable, when there are any.
    pub invalid_reason: Option<String>,
}

fn direction(s: &str) -> Result<AlertDirection> {
    AlertDirection::parse(s)
        .ok_or_else(|| StoreError::Data(format!("alerts.direction holds unknown value {s:?}")))
}

impl Store {
    /// The alerts of a project's groups whose effective state is untriaged: a group's
    /// own state when set, else the one its alerts share, else untriaged while any is
    /// ([`group_state`]), so the panel counts what the alert pages show.
    pub async fn untriaged_group_alerts(&self, project_id: i64) -> Result<Vec<UntriagedAlert>> {
        let rows = sqlx::query(
            "SELECT g.id AS group_id, g.state AS group_state, g.created_at AS group_created_at,
                a.status, a.relative_change, a.direction
             FROM alert_groups g JOIN alerts a ON a.group_id = g.id
             WHERE g.project_id = $1 AND (g.state IS NULL OR g.state = 'untriaged')
             ORDER BY g.id, a.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        // Group the rows, then keep the groups that come out untriaged.
        let mut out = Vec::new();
        let mut start = 0;
        while start < rows.len() {
            let gid: i64 = rows[start].try_get("group_id")?;
            let mut end = start;
            while end < rows.len() && rows[end].try_get::<i64, _>("group_id")? == gid {
                end += 1;
            }
            let group = &rows[start..end];
            let set: Option<String> = group[0].try_get("group_state")?;
            let states: Vec<TriageState> = group
                .iter()
                .map(|r| {
                    let s: String = r.try_get("status")?;
                    Ok(TriageState::parse(&s).unwrap_or_default())
                })
                .collect::<Result<_>>()?;
            if group_state(set.as_deref().and_then(TriageState::parse), &states)
                == TriageState::Untriaged
            {
                for r in group {
                    let d: String = r.try_get("direction")?;
                    out.push(UntriagedAlert {
                        group_id: gid,
                        group_created_at: r.try_get("group_created_at")?,
                        relative_change: r.try_get("relative_change")?,
                        direction: direction(&d)?,
                    });
                }
            }
            start = end;
        }
        Ok(out)
    }

    /// Series of a project with an open alert: untriaged or acknowledged, by the
    /// group's state when one is set on the group, else by the alert's own.
    pub async fn series_with_open_alerts(&self, project_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT a.series_id FROM alerts a LEFT JOIN alert_groups g ON g.id = a.group_id
             WHERE a.project_id = $1
               AND COALESCE(g.state, a.status) IN ('untriaged', 'acknowledged')
             ORDER BY a.series_id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A project's branches with their newest run, most recently run first.
    pub async fn recent_branches(&self, project_id: i64, limit: i64) -> Result<Vec<RecentBranch>> {
        let rows = sqlx::query(
            "SELECT b.name, MAX(r.started_at) AS last_run_at, COUNT(*) AS runs,
                    SUM(CASE WHEN r.invalid_reason IS NULL THEN 0 ELSE 1 END) AS invalid_runs,
                    MAX(r.invalid_reason) AS invalid_reason
             FROM runs r JOIN branches b ON b.id = r.branch_id
             WHERE r.project_id = $1
             GROUP BY b.name ORDER BY last_run_at DESC, b.name LIMIT $2",
        )
        .bind(project_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RecentBranch {
                    name: r.try_get("name")?,
                    last_run_at: r.try_get("last_run_at")?,
                    runs: r.try_get("runs")?,
                    invalid_runs: r.try_get("invalid_runs")?,
                    invalid_reason: r
                        .try_get::<Option<String>, _>("invalid_reason")?
                        .as_deref()
                        .map(perfwatch_core::validity::reason_text),
                })
            })
            .collect()
    }
}
