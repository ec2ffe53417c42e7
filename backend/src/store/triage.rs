//! SQL of the triage workflow (migration 0004): the triage columns of `alerts` and
//! `alert_groups`, `triage_history`, `triage_notes` and `series_sensitivity`. The rules
//! (who may, what is valid, what is learned) are in `crate::triage`; the writes here
//! take the caller's transaction so a change and its history row commit together.

use std::collections::HashMap;

use perfwatch_core::alerts::{
    group_state, AlertView, GroupTriage, HistoryEntry, TriageNote, TriageState,
};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::{shaped_chunks, Store, WriteTx};
use crate::error::{Result, StoreError};
use crate::time::now_ms;
use crate::triage::Sensitivity;

/// A state read from `table.column`: unknown text is an error naming both.
fn state_from_db(column: &str, s: &str) -> Result<TriageState> {
    TriageState::parse(s)
        .ok_or_else(|| StoreError::Data(format!("{column} holds unknown value {s:?}")))
}

/// The triage fields of an alert group row (columns `state`, `assignee`,
/// `fixed_commit`, `ticket_key`, `ticket_url`) and its alerts' states.
pub(crate) fn group_triage(r: &AnyRow, alerts: &[AlertView]) -> Result<GroupTriage> {
    let set: Option<String> = r.try_get("state")?;
    let set = set
        .map(|s| state_from_db("alert_groups.state", &s))
        .transpose()?;
    let states = alerts
        .iter()
        .map(|a| state_from_db("alerts.status", &a.status))
        .collect::<Result<Vec<_>>>()?;
    Ok(GroupTriage {
        state: group_state(set, &states),
        state_set: set.is_some(),
        assignee: r.try_get("assignee")?,
        fixed_commit: r.try_get("fixed_commit")?,
        ticket_key: r.try_get("ticket_key")?,
        ticket_url: r.try_get("ticket_url")?,
    })
}

/// The triage columns of one alert: what a state change reads.
#[derive(Debug, Clone)]
pub(crate) struct AlertTriage {
    pub id: i64,
    pub project_id: i64,
    pub group_id: Option<i64>,
    pub series_id: i64,
    pub state: TriageState,
    pub fixed_commit: Option<String>,
    pub relative_change: f64,
}

/// The triage columns of one alert group.
#[derive(Debug, Clone)]
pub(crate) struct GroupTriageRow {
    pub project_id: i64,
    /// Set on the group itself (else it follows its alerts).
    pub state: Option<TriageState>,
    pub assignee: Option<String>,
    pub fixed_commit: Option<String>,
    pub ticket_key: Option<String>,
}

/// One row of `triage_history`.
pub(crate) struct History<'a> {
    pub project_id: i64,
    pub group_id: Option<i64>,
    pub alert_id: Option<i64>,
    pub actor: &'a str,
    pub field: &'a str,
    pub from: Option<String>,
    pub to: Option<String>,
}

impl<'a> History<'a> {
    /// A change of alert group `group_id` as a whole (state, assignee, note, ticket).
    pub fn group(
        project_id: i64,
        group_id: i64,
        actor: &'a str,
        field: &'a str,
        from: Option<String>,
        to: Option<String>,
    ) -> Self {
        Self {
            project_id,
            group_id: Some(group_id),
            alert_id: None,
            actor,
            field,
            from,
            to,
        }
    }
}

const ALERT_TRIAGE_COLUMNS: &str =
    "a.id, a.project_id, a.group_id, a.series_id, a.status, a.fixed_commit, a.relative_change";

fn alert_triage(r: &AnyRow) -> Result<AlertTriage> {
    Ok(AlertTriage {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        group_id: r.try_get("group_id")?,
        series_id: r.try_get("series_id")?,
        state: state_from_db("alerts.status", &r.try_get::<String, _>("status")?)?,
        fixed_commit: r.try_get("fixed_commit")?,
        relative_change: r.try_get("relative_change")?,
    })
}

/// `$first, $first+1, …` for `n` values (sqlx's `Any` needs numbered placeholders on
/// PostgreSQL, and they must be contiguous).
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// The triage columns of a group; `NotFound` when there is no such group.
    pub(crate) async fn triage_group(&self, group_id: i64) -> Result<GroupTriageRow> {
        let r = sqlx::query(
            "SELECT project_id, state, assignee, fixed_commit, ticket_key FROM alert_groups WHERE id = $1",
        )
        .bind(group_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("alert group {group_id}")))?;
        let state: Option<String> = r.try_get("state")?;
        Ok(GroupTriageRow {
            project_id: r.try_get("project_id")?,
            state: state
                .map(|s| state_from_db("alert_groups.state", &s))
                .transpose()?,
            assignee: r.try_get("assignee")?,
            fixed_commit: r.try_get("fixed_commit")?,
            ticket_key: r.try_get("ticket_key")?,
        })
    }

    /// The triage columns of the alerts of a group, biggest change first (the order of
    /// the group page).
    pub(crate) async fn group_alerts_for_triage(&self, group_id: i64) -> Result<Vec<AlertTriage>> {
        let sql = format!(
            "SELECT {ALERT_TRIAGE_COLUMNS} FROM alerts a WHERE a.group_id = $1
             ORDER BY ABS(a.relative_change) DESC, a.id"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(group_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(alert_triage).collect()
    }

    /// The triage columns of these alerts, in the order of `ids`, read in one query;
    /// `NotFound` names the first id that has no alert.
    pub(crate) async fn alerts_for_triage(&self, ids: &[i64]) -> Result<Vec<AlertTriage>> {
        let mut found: HashMap<i64, AlertTriage> = HashMap::with_capacity(ids.len());
        // Chunks keep the statement under SQLite's parameter limit.
        for chunk in shaped_chunks(ids, 500) {
            let sql = format!(
                "SELECT {ALERT_TRIAGE_COLUMNS} FROM alerts a WHERE a.id IN ({})",
                placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                let a = alert_triage(&r)?;
                found.insert(a.id, a);
            }
        }
        ids.iter()
            .map(|id| {
                found
                    .get(id)
                    .cloned()
                    .ok_or_else(|| StoreError::NotFound(format!("alert {id}")))
            })
            .collect()
    }

    /// The project of a series; `NotFound` when there is no such series.
    pub(crate) async fn series_project_id(&self, series_id: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT project_id FROM series WHERE id = $1")
            .bind(series_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("series {series_id}")))
    }

    /// Every change of a group and of its alerts, oldest first.
    pub async fn triage_history(&self, group_id: i64) -> Result<Vec<HistoryEntry>> {
        let rows = sqlx::query(
            "SELECT h.id, h.group_id, h.alert_id, h.actor, h.field, h.from_value, h.to_value, h.at
             FROM triage_history h WHERE h.group_id = $1
                OR h.alert_id IN (SELECT id FROM alerts WHERE group_id = $1)
             ORDER BY h.at, h.id",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(HistoryEntry {
                    id: r.try_get("id")?,
                    group_id: r.try_get("group_id")?,
                    alert_id: r.try_get("alert_id")?,
                    actor: r.try_get("actor")?,
                    field: r.try_get("field")?,
                    from: r.try_get("from_value")?,
                    to: r.try_get("to_value")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    pub async fn triage_notes(&self, group_id: i64) -> Result<Vec<TriageNote>> {
        let rows = sqlx::query(
            "SELECT id, author, body, created_at FROM triage_notes WHERE group_id = $1 ORDER BY id",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TriageNote {
                    id: r.try_get("id")?,
                    author: r.try_get("author")?,
                    body: r.try_get("body")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    /// The learned sensitivity of a series, if any.
    pub async fn sensitivity(&self, series_id: i64) -> Result<Option<Sensitivity>> {
        let r = sqlx::query(
            "SELECT series_id, min_change, alert_id, set_by, set_at FROM series_sensitivity WHERE series_id = $1",
        )
        .bind(series_id)
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| {
            Ok(Sensitivity {
                series_id: r.try_get("series_id")?,
                min_change: r.try_get("min_change")?,
                alert_id: r.try_get("alert_id")?,
                set_by: r.try_get("set_by")?,
                set_at: r.try_get("set_at")?,
            })
        })
        .transpose()
    }

    /// Learned minimum relative changes of a project's series (series id → fraction).
    pub async fn sensitivities(&self, project_id: i64) -> Result<HashMap<i64, f64>> {
        let rows = sqlx::query(
            "SELECT ss.series_id, ss.min_change FROM series_sensitivity ss
             JOIN series s ON s.id = ss.series_id WHERE s.project_id = $1",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("series_id")?, r.try_get("min_change")?)))
            .collect()
    }
}

/// Writes one history row inside the caller's transaction.
pub(crate) async fn record_history(tx: &mut WriteTx, h: History<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO triage_history (project_id, group_id, alert_id, actor, field, from_value, to_value, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(h.project_id)
    .bind(h.group_id)
    .bind(h.alert_id)
    .bind(h.actor)
    .bind(h.field)
    .bind(h.from)
    .bind(h.to)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Sets the state a group carries itself.
pub(crate) async fn set_group_state(
    tx: &mut WriteTx,
    group_id: i64,
    state: TriageState,
    fixed: &Option<String>,
) -> Result<()> {
    sqlx::query("UPDATE alert_groups SET state = $1, fixed_commit = $2 WHERE id = $3")
        .bind(state.as_str())
        .bind(fixed)
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Sets the state of these alerts, in one statement per 500.
pub(crate) async fn set_alerts_state(
    tx: &mut WriteTx,
    ids: &[i64],
    state: TriageState,
    fixed: &Option<String>,
) -> Result<()> {
    for chunk in shaped_chunks(ids, 500) {
        let sql = format!(
            "UPDATE alerts SET status = $1, fixed_commit = $2 WHERE id IN ({})",
            placeholders(3, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.as_str())
            .bind(fixed);
        for id in chunk {
            q = q.bind(*id);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Assigns a group and every alert in it.
pub(crate) async fn set_group_assignee(
    tx: &mut WriteTx,
    group_id: i64,
    assignee: &Option<String>,
) -> Result<()> {
    sqlx::query("UPDATE alert_groups SET assignee = $1 WHERE id = $2")
        .bind(assignee)
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("UPDATE alerts SET assignee = $1 WHERE group_id = $2")
        .bind(assignee)
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub(crate) async fn insert_note(
    tx: &mut WriteTx,
    group_id: i64,
    author: &str,
    body: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO triage_notes (group_id, author, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(group_id)
    .bind(author)
    .bind(body)
    .bind(now_ms())
    .fetch_one(&mut **tx)
    .await?)
}

/// Links a ticket (both `None`: unlinks).
pub(crate) async fn set_group_ticket(
    tx: &mut WriteTx,
    group_id: i64,
    key: &Option<String>,
    url: &Option<String>,
) -> Result<()> {
    sqlx::query("UPDATE alert_groups SET ticket_key = $1, ticket_url = $2 WHERE id = $3")
        .bind(key)
        .bind(url)
        .bind(group_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The learned minimum change of a series, read inside the transaction that may
/// raise it.
pub(crate) async fn min_change_in(tx: &mut WriteTx, series_id: i64) -> Result<Option<f64>> {
    Ok(
        sqlx::query_scalar("SELECT min_change FROM series_sensitivity WHERE series_id = $1")
            .bind(series_id)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

/// Records what an invalid alert taught a series.
pub(crate) async fn upsert_sensitivity(
    tx: &mut WriteTx,
    series_id: i64,
    min_change: f64,
    alert_id: i64,
    actor: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO series_sensitivity (series_id, min_change, alert_id, set_by, set_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (series_id) DO UPDATE SET min_change = $2, alert_id = $3, set_by = $4, set_at = $5",
    )
    .bind(series_id)
    .bind(min_change)
    .bind(alert_id)
    .bind(actor)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

pub(crate) async fn delete_sensitivity(tx: &mut WriteTx, series_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM series_sensitivity WHERE series_id = $1")
        .bind(series_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}
