//! The triage workflow: alert and alert-group states, assignee, notes, tickets, the
//! history of every change, and learning from alerts marked invalid.
//!
//! Every use case takes the [`Actor`] and checks its right itself, so the REST API
//! and the server functions cannot disagree on who may do what.

use perfwatch_core::alerts::{group_state, GroupTriage, HistoryEntry, TriageNote, TriageState};
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::Row;

use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::notify::Event;
use crate::store::WriteTx;
use crate::time::now_ms;
use crate::Store;

/// The learned sensitivity of a series: its minimum relative change for detection.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Sensitivity {
    pub series_id: i64,
    /// A fraction (0.08 = 8 %).
    pub min_change: f64,
    /// The invalid alert that taught it.
    pub alert_id: Option<i64>,
    pub set_by: String,
    pub set_at: i64,
}

/// The rule: a series whose alert is marked invalid no longer reports changes as small
/// as that one: its minimum relative change rises to the invalid change's size plus
/// 1 % of it (never lowers).
pub fn learned_min_change(current: Option<f64>, invalid_change: f64) -> f64 {
    let learned = invalid_change.abs() * 1.01;
    current.map_or(learned, |c| c.max(learned))
}

/// Reads the triage fields of an alert group row (columns from `o`: state, assignee,
/// fixed_commit, ticket_key, ticket_url).
pub(crate) fn group_triage(
    r: &AnyRow,
    o: usize,
    alerts: &[perfwatch_core::alerts::AlertView],
) -> Result<GroupTriage> {
    let set: Option<String> = r.try_get(o)?;
    let set = set.as_deref().and_then(TriageState::parse);
    let states: Vec<TriageState> = alerts
        .iter()
        .map(|a| TriageState::parse(&a.status).unwrap_or_default())
        .collect();
    Ok(GroupTriage {
        state: group_state(set, &states),
        state_set: set.is_some(),
        assignee: r.try_get(o + 1)?,
        fixed_commit: r.try_get(o + 2)?,
        ticket_key: r.try_get(o + 3)?,
        ticket_url: r.try_get(o + 4)?,
    })
}

struct History<'a> {
    project_id: i64,
    group_id: Option<i64>,
    alert_id: Option<i64>,
    actor: &'a str,
    field: &'a str,
    from: Option<String>,
    to: Option<String>,
}

async fn record(tx: &mut WriteTx, h: History<'_>) -> Result<()> {
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

fn check_fixed(state: TriageState, fixed_commit: &Option<String>) -> Result<Option<String>> {
    let fc = fixed_commit
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string);
    if state == TriageState::Fixed {
        match &fc {
            None => {
                return Err(StoreError::invalid(
                    "fixed_commit",
                    "name the fixing commit",
                ))
            }
            Some(c)
                if c.len() > 64
                    || !c.chars().all(|ch| {
                        ch.is_ascii_alphanumeric() || ch == '.' || ch == '-' || ch == '_'
                    }) =>
            {
                return Err(StoreError::invalid(
                    "fixed_commit",
                    "a commit sha or tag, at most 64 characters",
                ))
            }
            _ => {}
        }
        Ok(fc)
    } else {
        Ok(None)
    }
}

fn check_assignee(a: &Option<String>) -> Result<Option<String>> {
    let a = a.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if a.is_some_and(|s| s.len() > 64) {
        return Err(StoreError::invalid("assignee", "at most 64 characters"));
    }
    Ok(a.map(str::to_string))
}

impl Store {
    async fn group_project(&self, group_id: i64) -> Result<(i64, Option<String>)> {
        let r = sqlx::query("SELECT project_id, state FROM alert_groups WHERE id = $1")
            .bind(group_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("alert group {group_id}")))?;
        Ok((r.try_get(0)?, r.try_get(1)?))
    }

    /// Sets a group's state (and the state of every alert in it).
    pub async fn set_group_state(
        &self,
        actor: &Actor,
        group_id: i64,
        state: TriageState,
        fixed_commit: Option<String>,
    ) -> Result<()> {
        let (project_id, _) = self.group_project(group_id).await?;
        actor.require(Right::Triage, Some(project_id))?;
        let fixed = check_fixed(state, &fixed_commit)?;
        let before = self.alert_group(group_id).await?;
        let label = actor.label();
        let mut tx = self.begin_write().await?;
        crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
        sqlx::query("UPDATE alert_groups SET state = $1, fixed_commit = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(&fixed)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        if before.triage.state != state || before.triage.fixed_commit != fixed {
            record(
                &mut tx,
                History {
                    project_id,
                    group_id: Some(group_id),
                    alert_id: None,
                    actor: &label,
                    field: "state",
                    from: Some(before.triage.state.as_str().into()),
                    to: Some(match &fixed {
                        Some(c) => format!("{} ({c})", state.as_str()),
                        None => state.as_str().into(),
                    }),
                },
            )
            .await?;
        }
        let mut invalid = Vec::new();
        for a in &before.alerts {
            if a.status != state.as_str() || a.fixed_commit != fixed {
                sqlx::query("UPDATE alerts SET status = $1, fixed_commit = $2 WHERE id = $3")
                    .bind(state.as_str())
                    .bind(&fixed)
                    .bind(a.id)
                    .execute(&mut *tx)
                    .await?;
                if state == TriageState::Invalid && a.status != "invalid" {
                    invalid.push((a.series.id, a.id, a.relative_change));
                }
            }
        }
        for (series, alert, change) in invalid {
            learn(&mut tx, series, alert, change, &label).await?;
        }
        tx.commit().await?;
        if before.triage.state != state {
            self.enqueue_event(
                project_id,
                Event::StateChanged {
                    group_id,
                    from: before.triage.state,
                    to: state,
                    actor: label,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Sets one alert's state; a group without a state of its own follows.
    pub async fn set_alert_state(
        &self,
        actor: &Actor,
        alert_id: i64,
        state: TriageState,
        fixed_commit: Option<String>,
    ) -> Result<()> {
        let a = self.alert(alert_id).await?;
        let project_id = self.project(&a.project).await?.id;
        actor.require(Right::Triage, Some(project_id))?;
        let fixed = check_fixed(state, &fixed_commit)?;
        if a.status == state.as_str() && a.fixed_commit == fixed {
            return Ok(());
        }
        let label = actor.label();
        let mut tx = self.begin_write().await?;
        crate::store::alerts_lock_project(&mut tx, project_id).await?;
        sqlx::query("UPDATE alerts SET status = $1, fixed_commit = $2 WHERE id = $3")
            .bind(state.as_str())
            .bind(&fixed)
            .bind(alert_id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            History {
                project_id,
                group_id: a.group_id,
                alert_id: Some(alert_id),
                actor: &label,
                field: "state",
                from: Some(a.status.clone()),
                to: Some(state.as_str().into()),
            },
        )
        .await?;
        if state == TriageState::Invalid && a.status != "invalid" {
            learn(&mut tx, a.series.id, alert_id, a.relative_change, &label).await?;
        }
        tx.commit().await?;
        if let Some(group_id) = a.group_id {
            self.enqueue_event(
                project_id,
                Event::StateChanged {
                    group_id,
                    from: TriageState::parse(&a.status).unwrap_or_default(),
                    to: state,
                    actor: label,
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Bulk action of the alerts list: one state for many alerts. All or nothing on
    /// rights: every alert is checked before any changes.
    pub async fn bulk_set_alert_state(
        &self,
        actor: &Actor,
        alert_ids: &[i64],
        state: TriageState,
        fixed_commit: Option<String>,
    ) -> Result<usize> {
        if alert_ids.is_empty() || alert_ids.len() > 500 {
            return Err(StoreError::invalid("ids", "choose 1 to 500 alerts"));
        }
        check_fixed(state, &fixed_commit)?;
        for id in alert_ids {
            let a = self.alert(*id).await?;
            let pid = self.project(&a.project).await?.id;
            actor.require(Right::Triage, Some(pid))?;
        }
        for id in alert_ids {
            self.set_alert_state(actor, *id, state, fixed_commit.clone())
                .await?;
        }
        Ok(alert_ids.len())
    }

    /// Assigns a group (and its alerts) to someone, or nobody.
    pub async fn set_group_assignee(
        &self,
        actor: &Actor,
        group_id: i64,
        assignee: Option<String>,
    ) -> Result<()> {
        let (project_id, _) = self.group_project(group_id).await?;
        actor.require(Right::Triage, Some(project_id))?;
        let assignee = check_assignee(&assignee)?;
        let before: Option<String> =
            sqlx::query_scalar("SELECT assignee FROM alert_groups WHERE id = $1")
                .bind(group_id)
                .fetch_one(&self.pool)
                .await?;
        if before == assignee {
            return Ok(());
        }
        let label = actor.label();
        let mut tx = self.begin_write().await?;
        crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
        sqlx::query("UPDATE alert_groups SET assignee = $1 WHERE id = $2")
            .bind(&assignee)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("UPDATE alerts SET assignee = $1 WHERE group_id = $2")
            .bind(&assignee)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            History {
                project_id,
                group_id: Some(group_id),
                alert_id: None,
                actor: &label,
                field: "assignee",
                from: before,
                to: assignee,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_note(&self, actor: &Actor, group_id: i64, body: &str) -> Result<i64> {
        let (project_id, _) = self.group_project(group_id).await?;
        actor.require(Right::Triage, Some(project_id))?;
        let body = body.trim();
        if body.is_empty() || body.len() > 10_000 {
            return Err(StoreError::invalid("body", "1 to 10000 characters"));
        }
        let label = actor.label();
        let mut tx = self.begin_write().await?;
        crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO triage_notes (group_id, author, body, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(group_id)
        .bind(&label)
        .bind(body)
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await?;
        let short: String = body.chars().take(80).collect();
        record(
            &mut tx,
            History {
                project_id,
                group_id: Some(group_id),
                alert_id: None,
                actor: &label,
                field: "note",
                from: None,
                to: Some(short),
            },
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Links a ticket (tracker key and URL) to a group; an empty key unlinks.
    pub async fn link_ticket(
        &self,
        actor: &Actor,
        group_id: i64,
        key: &str,
        url: &str,
    ) -> Result<()> {
        let (project_id, _) = self.group_project(group_id).await?;
        actor.require(Right::Triage, Some(project_id))?;
        let key = key.trim();
        let url = url.trim();
        let (key, url) = if key.is_empty() {
            (None, None)
        } else {
            if key.len() > 100 {
                return Err(StoreError::invalid("key", "at most 100 characters"));
            }
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > 2000 {
                return Err(StoreError::invalid("url", "an http(s) URL"));
            }
            (Some(key.to_string()), Some(url.to_string()))
        };
        let before: Option<String> =
            sqlx::query_scalar("SELECT ticket_key FROM alert_groups WHERE id = $1")
                .bind(group_id)
                .fetch_one(&self.pool)
                .await?;
        let label = actor.label();
        let mut tx = self.begin_write().await?;
        crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
        sqlx::query("UPDATE alert_groups SET ticket_key = $1, ticket_url = $2 WHERE id = $3")
            .bind(&key)
            .bind(&url)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            History {
                project_id,
                group_id: Some(group_id),
                alert_id: None,
                actor: &label,
                field: "ticket",
                from: before,
                to: key,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

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
                    id: r.try_get(0)?,
                    group_id: r.try_get(1)?,
                    alert_id: r.try_get(2)?,
                    actor: r.try_get(3)?,
                    field: r.try_get(4)?,
                    from: r.try_get(5)?,
                    to: r.try_get(6)?,
                    at: r.try_get(7)?,
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
                    id: r.try_get(0)?,
                    author: r.try_get(1)?,
                    body: r.try_get(2)?,
                    created_at: r.try_get(3)?,
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
                series_id: r.try_get(0)?,
                min_change: r.try_get(1)?,
                alert_id: r.try_get(2)?,
                set_by: r.try_get(3)?,
                set_at: r.try_get(4)?,
            })
        })
        .transpose()
    }

    /// Learned minimum relative changes of a project's series (series id → fraction).
    pub async fn sensitivities(
        &self,
        project_id: i64,
    ) -> Result<std::collections::HashMap<i64, f64>> {
        let rows = sqlx::query(
            "SELECT ss.series_id, ss.min_change FROM series_sensitivity ss
             JOIN series s ON s.id = ss.series_id WHERE s.project_id = $1",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Undoes what triage taught a series: detection uses the default sensitivity again.
    pub async fn reset_sensitivity(&self, actor: &Actor, series_id: i64) -> Result<()> {
        let s = self.series(series_id).await?;
        let project_id = self.project(&s.project).await?.id;
        actor.require(Right::Triage, Some(project_id))?;
        let Some(before) = self.sensitivity(series_id).await? else {
            return Err(StoreError::NotFound(format!(
                "learned sensitivity of series {series_id}"
            )));
        };
        let label = actor.label();
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM series_sensitivity WHERE series_id = $1")
            .bind(series_id)
            .execute(&mut *tx)
            .await?;
        record(
            &mut tx,
            History {
                project_id,
                group_id: None,
                alert_id: before.alert_id,
                actor: &label,
                field: "sensitivity",
                from: Some(format!("{:.4}", before.min_change)),
                to: None,
            },
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

async fn learn(
    tx: &mut WriteTx,
    series_id: i64,
    alert_id: i64,
    change: f64,
    actor: &str,
) -> Result<()> {
    let current: Option<f64> =
        sqlx::query_scalar("SELECT min_change FROM series_sensitivity WHERE series_id = $1")
            .bind(series_id)
            .fetch_optional(&mut **tx)
            .await?;
    let next = learned_min_change(current, change);
    if current == Some(next) {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO series_sensitivity (series_id, min_change, alert_id, set_by, set_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (series_id) DO UPDATE SET min_change = $2, alert_id = $3, set_by = $4, set_at = $5",
    )
    .bind(series_id)
    .bind(next)
    .bind(alert_id)
    .bind(actor)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    let project_id: i64 = sqlx::query_scalar("SELECT project_id FROM series WHERE id = $1")
        .bind(series_id)
        .fetch_one(&mut **tx)
        .await?;
    record(
        tx,
        History {
            project_id,
            group_id: None,
            alert_id: Some(alert_id),
            actor,
            field: "sensitivity",
            from: current.map(|c| format!("{c:.4}")),
            to: Some(format!("{next:.4}")),
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_changes_raise_the_minimum_never_lower_it() {
        assert!((learned_min_change(None, -0.10) - 0.101).abs() < 1e-12);
        assert!((learned_min_change(Some(0.2), 0.10) - 0.2).abs() < 1e-12);
        assert!((learned_min_change(Some(0.05), 0.10) - 0.101).abs() < 1e-12);
    }
}
