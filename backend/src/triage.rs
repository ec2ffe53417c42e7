//! The triage workflow: alert and alert-group states, assignee, notes, tickets, the
//! history of every change, and learning from alerts marked invalid.
//!
//! Every use case takes the [`Actor`] and checks its right itself, so the REST API
//! and the server functions cannot disagree on who may do what. Each reads, checks,
//! then writes the change and its history rows in one transaction; the SQL is in
//! `store/triage.rs`.

use perfwatch_core::alerts::{group_state, TriageState};
use perfwatch_core::http_url::HttpUrl;
use serde::{Deserialize, Serialize};

use crate::accounts::{Actor, Right};
use crate::error::{Result, StoreError};
use crate::notify::Event;
use crate::store::triage::{self as sql, AlertTriage, History};
use crate::store::WriteTx;
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

/// Sets a group's state (and the state of every alert in it).
pub async fn set_group_state(
    store: &Store,
    actor: &Actor,
    group_id: i64,
    state: TriageState,
    fixed_commit: Option<String>,
) -> Result<()> {
    let group = store.triage_group(group_id).await?;
    let project_id = group.project_id;
    actor.require(Right::Triage, Some(project_id))?;
    let fixed = check_fixed(state, &fixed_commit)?;
    let alerts = store.group_alerts_for_triage(group_id).await?;
    let states: Vec<TriageState> = alerts.iter().map(|a| a.state).collect();
    let before = group_state(group.state, &states);
    let label = actor.label();
    let mut tx = store.begin_write().await?;
    crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
    sql::set_group_state(&mut tx, group_id, state, &fixed).await?;
    if before != state || group.fixed_commit != fixed {
        sql::record_history(
            &mut tx,
            History::group(
                project_id,
                group_id,
                &label,
                "state",
                Some(before.as_str().into()),
                Some(match &fixed {
                    Some(c) => format!("{} ({c})", state.as_str()),
                    None => state.as_str().into(),
                }),
            ),
        )
        .await?;
    }
    let changed: Vec<&AlertTriage> = alerts
        .iter()
        .filter(|a| a.state != state || a.fixed_commit != fixed)
        .collect();
    let ids: Vec<i64> = changed.iter().map(|a| a.id).collect();
    sql::set_alerts_state(&mut tx, &ids, state, &fixed).await?;
    if state == TriageState::Invalid {
        for a in changed.iter().filter(|a| a.state != TriageState::Invalid) {
            learn(&mut tx, a, &label).await?;
        }
    }
    tx.commit().await?;
    if before != state {
        store
            .enqueue_event(
                project_id,
                Event::StateChanged {
                    group_id,
                    from: before,
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
    store: &Store,
    actor: &Actor,
    alert_id: i64,
    state: TriageState,
    fixed_commit: Option<String>,
) -> Result<()> {
    let a = store
        .alerts_for_triage(&[alert_id])
        .await?
        .pop()
        .ok_or_else(|| StoreError::NotFound(format!("alert {alert_id}")))?;
    actor.require(Right::Triage, Some(a.project_id))?;
    let fixed = check_fixed(state, &fixed_commit)?;
    apply_alert_state(store, actor, &a, state, &fixed).await
}

/// Writes one alert's new state, its history and what it teaches, then announces the
/// change of its group. Rights and input are checked by the caller.
async fn apply_alert_state(
    store: &Store,
    actor: &Actor,
    a: &AlertTriage,
    state: TriageState,
    fixed: &Option<String>,
) -> Result<()> {
    if a.state == state && a.fixed_commit == *fixed {
        return Ok(());
    }
    let label = actor.label();
    let mut tx = store.begin_write().await?;
    crate::store::alerts_lock_project(&mut tx, a.project_id).await?;
    sql::set_alerts_state(&mut tx, &[a.id], state, fixed).await?;
    sql::record_history(
        &mut tx,
        History {
            project_id: a.project_id,
            group_id: a.group_id,
            alert_id: Some(a.id),
            actor: &label,
            field: "state",
            from: Some(a.state.as_str().into()),
            to: Some(state.as_str().into()),
        },
    )
    .await?;
    if state == TriageState::Invalid && a.state != TriageState::Invalid {
        learn(&mut tx, a, &label).await?;
    }
    tx.commit().await?;
    if let Some(group_id) = a.group_id {
        store
            .enqueue_event(
                a.project_id,
                Event::StateChanged {
                    group_id,
                    from: a.state,
                    to: state,
                    actor: label,
                },
            )
            .await?;
    }
    Ok(())
}

/// Bulk action of the alerts list: one state for many alerts. All or nothing on
/// rights: every alert is read (one query) and checked before any changes.
pub async fn bulk_set_alert_state(
    store: &Store,
    actor: &Actor,
    alert_ids: &[i64],
    state: TriageState,
    fixed_commit: Option<String>,
) -> Result<usize> {
    if alert_ids.is_empty() || alert_ids.len() > 500 {
        return Err(StoreError::invalid("ids", "choose 1 to 500 alerts"));
    }
    let fixed = check_fixed(state, &fixed_commit)?;
    let alerts = store.alerts_for_triage(alert_ids).await?;
    for a in &alerts {
        actor.require(Right::Triage, Some(a.project_id))?;
    }
    // An id given twice changes once, as before (the second time finds it done).
    let mut seen = std::collections::HashSet::new();
    for a in alerts.iter().filter(|a| seen.insert(a.id)) {
        apply_alert_state(store, actor, a, state, &fixed).await?;
    }
    Ok(alert_ids.len())
}

/// Assigns a group (and its alerts) to someone, or nobody.
pub async fn set_group_assignee(
    store: &Store,
    actor: &Actor,
    group_id: i64,
    assignee: Option<String>,
) -> Result<()> {
    let group = store.triage_group(group_id).await?;
    let project_id = group.project_id;
    actor.require(Right::Triage, Some(project_id))?;
    let assignee = check_assignee(&assignee)?;
    if group.assignee == assignee {
        return Ok(());
    }
    let label = actor.label();
    let mut tx = store.begin_write().await?;
    crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
    sql::set_group_assignee(&mut tx, group_id, &assignee).await?;
    sql::record_history(
        &mut tx,
        History::group(
            project_id,
            group_id,
            &label,
            "assignee",
            group.assignee,
            assignee,
        ),
    )
    .await?;
    tx.commit().await
}

/// Adds a note to a group; returns its id.
pub async fn add_note(store: &Store, actor: &Actor, group_id: i64, body: &str) -> Result<i64> {
    let project_id = store.triage_group(group_id).await?.project_id;
    actor.require(Right::Triage, Some(project_id))?;
    let body = body.trim();
    if body.is_empty() || body.len() > 10_000 {
        return Err(StoreError::invalid("body", "1 to 10000 characters"));
    }
    let label = actor.label();
    let mut tx = store.begin_write().await?;
    crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
    let id = sql::insert_note(&mut tx, group_id, &label, body).await?;
    let short: String = body.chars().take(80).collect();
    sql::record_history(
        &mut tx,
        History::group(project_id, group_id, &label, "note", None, Some(short)),
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Links a ticket (tracker key and URL) to a group; an empty key unlinks.
pub async fn link_ticket(
    store: &Store,
    actor: &Actor,
    group_id: i64,
    key: &str,
    url: &str,
) -> Result<()> {
    let group = store.triage_group(group_id).await?;
    let project_id = group.project_id;
    actor.require(Right::Triage, Some(project_id))?;
    let key = key.trim();
    let url = url.trim();
    let (key, url) = if key.is_empty() {
        (None, None)
    } else {
        if key.len() > 100 {
            return Err(StoreError::invalid("key", "at most 100 characters"));
        }
        let url = HttpUrl::parse("url", url).map_err(|e| StoreError::Invalid(e.into()))?;
        (Some(key.to_string()), Some(url.into_string()))
    };
    let label = actor.label();
    let mut tx = store.begin_write().await?;
    crate::store::alerts_lock_group(&mut tx, project_id, group_id).await?;
    sql::set_group_ticket(&mut tx, group_id, &key, &url).await?;
    sql::record_history(
        &mut tx,
        History::group(
            project_id,
            group_id,
            &label,
            "ticket",
            group.ticket_key,
            key,
        ),
    )
    .await?;
    tx.commit().await
}

/// Undoes what triage taught a series: detection uses the default sensitivity again.
pub async fn reset_sensitivity(store: &Store, actor: &Actor, series_id: i64) -> Result<()> {
    let project_id = store.series_project_id(series_id).await?;
    actor.require(Right::Triage, Some(project_id))?;
    let Some(before) = store.sensitivity(series_id).await? else {
        return Err(StoreError::NotFound(format!(
            "learned sensitivity of series {series_id}"
        )));
    };
    let label = actor.label();
    let mut tx = store.begin_write().await?;
    sql::delete_sensitivity(&mut tx, series_id).await?;
    sql::record_history(
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
    tx.commit().await
}

/// What an alert marked invalid teaches its series (read → compute → write, inside
/// the transaction of the state change).
async fn learn(tx: &mut WriteTx, a: &AlertTriage, actor: &str) -> Result<()> {
    let current = sql::min_change_in(tx, a.series_id).await?;
    let next = learned_min_change(current, a.relative_change);
    if current == Some(next) {
        return Ok(());
    }
    sql::upsert_sensitivity(tx, a.series_id, next, a.id, actor).await?;
    sql::record_history(
        tx,
        History {
            project_id: a.project_id,
            group_id: None,
            alert_id: Some(a.id),
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
