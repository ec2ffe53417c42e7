//! Alerts, alert groups and threshold rules.
//!
//! Writes for one series happen in one transaction that first takes the project's row
//! lock (`UPDATE projects SET slug = slug`): on PostgreSQL a row lock, on SQLite the
//! write lock. Detection passes on one project therefore never interleave, and grouping
//! (which reads and merges the project's groups) sees a stable picture.

use perfwatch_core::alerts::{AlertDirection, AlertKind, RangeAxis, SuspectRange};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::alert_groups::assign_group;
use super::float_bind::nullable;
use super::{Store, WriteTx};
use crate::error::{Result, StoreError};
use crate::time::now_ms;

mod changepoint;

/// One measurement of a series as detection reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct DetectPoint {
    pub run_id: i64,
    pub commit_id: Option<i64>,
    pub ord: Option<i64>,
    pub time: i64,
    pub median: f64,
}

/// An alert to create or update, computed by the detection use case.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub series_id: i64,
    pub kind: AlertKind,
    pub rule_id: Option<i64>,
    pub direction: AlertDirection,
    pub axis: RangeAxis,
    pub range: SuspectRange,
    /// Index of the first bad point in the points the detection read.
    pub index: usize,
    pub first_bad_run_id: i64,
    pub last_good_run_id: Option<i64>,
    pub first_bad_commit_id: Option<i64>,
    pub last_good_commit_id: Option<i64>,
    pub first_bad_at: i64,
    pub before_median: f64,
    pub after_median: f64,
    pub relative_change: f64,
    pub absolute_change: f64,
    pub p_value: Option<f64>,
    pub details: Option<String>,
}

/// What happened to each alert written.
/// How new change points are matched to a series' existing alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matching {
    /// A change point within this many points of an alert's first bad point is that alert.
    pub tolerance: usize,
    /// Alerts whose first bad point is before this position (commit order or time) are
    /// settled: the detection did not judge that part of the series.
    pub settled_before: Option<i64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Untriaged alerts that the current detection no longer supports, deleted.
    pub retracted: usize,
}

impl Store {
    /// The points detection reads for a series: its runs on the main branch in commit
    /// order when it has any, otherwise its runs without a branch in time order. Invalid
    /// runs (`runs.invalid_reason`, migration 0015) are left out: they never raise or
    /// clear an alert.
    pub async fn detection_points(
        &self,
        series_id: i64,
        main_branch_id: Option<i64>,
    ) -> Result<(RangeAxis, Vec<DetectPoint>)> {
        let (axis, points, _) = self
            .recent_detection_points(series_id, main_branch_id, None)
            .await?;
        Ok((axis, points))
    }

    /// [`Store::detection_points`], on the commit axis only the newest `window` points
    /// (all with `None`); the flag says whether older points were left out. The database
    /// keeps only the window (a top-N sort), so a pass's memory does not grow with the
    /// history. Time-indexed series are read whole: their seasonal expectation looks back
    /// whole weeks, whatever the point spacing.
    pub async fn recent_detection_points(
        &self,
        series_id: i64,
        main_branch_id: Option<i64>,
        window: Option<usize>,
    ) -> Result<(RangeAxis, Vec<DetectPoint>, bool)> {
        let map = |r: &AnyRow| -> Result<DetectPoint> {
            Ok(DetectPoint {
                run_id: r.try_get("run_id")?,
                commit_id: r.try_get("commit_id")?,
                ord: r.try_get("ord")?,
                time: r.try_get("started_at")?,
                median: r.try_get("median")?,
            })
        };
        if let Some(bid) = main_branch_id {
            // One row more than the window tells whether older points exist.
            let limit = window.map_or(i64::MAX, |w| w.saturating_add(1) as i64);
            let rows = sqlx::query(
                "SELECT r.id AS run_id, r.commit_id AS commit_id, m.ord AS ord, m.started_at AS started_at,
                        m.median AS median
                 FROM measurements m JOIN runs r ON r.id = m.run_id
                 WHERE m.series_id = $1 AND m.branch_id = $2 AND m.ord IS NOT NULL
                   AND r.invalid_reason IS NULL
                 ORDER BY m.ord DESC, m.started_at DESC, m.run_id DESC LIMIT $3",
            )
            .bind(series_id)
            .bind(bid)
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
            if !rows.is_empty() {
                let truncated = window.is_some_and(|w| rows.len() > w);
                let keep = window.unwrap_or(rows.len()).min(rows.len());
                let mut points = rows[..keep].iter().map(map).collect::<Result<Vec<_>>>()?;
                points.reverse();
                return Ok((RangeAxis::Commit, points, truncated));
            }
        }
        let rows = sqlx::query(
            "SELECT r.id AS run_id, r.commit_id AS commit_id, r.started_at AS started_at, m.median AS median
             FROM measurements m JOIN runs r ON r.id = m.run_id
             WHERE m.series_id = $1 AND r.branch_id IS NULL AND r.invalid_reason IS NULL
             ORDER BY r.started_at, r.id",
        )
        .bind(series_id)
        .fetch_all(&self.pool)
        .await?;
        let points = rows
            .iter()
            .map(|r| {
                Ok(DetectPoint {
                    run_id: r.try_get("run_id")?,
                    commit_id: r.try_get("commit_id")?,
                    ord: None,
                    time: r.try_get("started_at")?,
                    median: r.try_get("median")?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((RangeAxis::Time, points, false))
    }

    /// Creates threshold alerts; a breach already stored (same rule, same first bad run)
    /// is not stored again.
    pub async fn upsert_threshold_alerts(
        &self,
        project_id: i64,
        alerts: &[NewAlert],
    ) -> Result<UpsertCounts> {
        let mut counts = UpsertCounts::default();
        if alerts.is_empty() {
            return Ok(counts);
        }
        let mut tx = self.begin_write().await?;
        lock_project(&mut tx, project_id).await?;
        let now = now_ms();
        for a in alerts {
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM alerts WHERE series_id = $1 AND kind = 'threshold' AND first_bad_run_id = $2
                 AND (rule_id = $3 OR (rule_id IS NULL AND $3 < 0))",
            )
            .bind(a.series_id)
            .bind(a.first_bad_run_id)
            .bind(a.rule_id.unwrap_or(-1))
            .fetch_optional(&mut *tx)
            .await?;
            if found.is_some() {
                counts.unchanged += 1;
                continue;
            }
            let id = insert_alert(&mut tx, project_id, a, now).await?;
            assign_group(&mut tx, project_id, id, a.axis, a.range, None, now).await?;
            counts.created += 1;
        }
        tx.commit().await?;
        Ok(counts)
    }
}

/// Takes the project's detection lock (see the module comment) and checks, under it,
/// that the group still exists: a triage write waits for a running detection pass
/// instead of deadlocking with it, and a group the pass merged away is "not found"
/// instead of a foreign-key failure.
pub(crate) async fn lock_group(tx: &mut WriteTx, project_id: i64, group_id: i64) -> Result<()> {
    lock_project(tx, project_id).await?;
    let found: Option<i64> =
        sqlx::query_scalar("SELECT id FROM alert_groups WHERE id = $1 AND project_id = $2")
            .bind(group_id)
            .bind(project_id)
            .fetch_optional(&mut **tx)
            .await?;
    found
        .map(|_| ())
        .ok_or_else(|| StoreError::NotFound(format!("alert group {group_id}")))
}

/// The project's detection lock alone (for a triage write on one alert).
pub(crate) async fn lock_project_for_triage(tx: &mut WriteTx, project_id: i64) -> Result<()> {
    lock_project(tx, project_id).await
}

async fn lock_project(tx: &mut WriteTx, project_id: i64) -> Result<()> {
    sqlx::query("UPDATE projects SET slug = slug WHERE id = $1")
        .bind(project_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn insert_alert(tx: &mut WriteTx, project_id: i64, a: &NewAlert, now: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO alerts (project_id, series_id, kind, rule_id, direction, axis, range_lo, range_hi,
             first_bad_run_id, last_good_run_id, first_bad_commit_id, last_good_commit_id, first_bad_at,
             before_median, after_median, relative_change, absolute_change, p_value, details,
             detected_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $20, $20)
         RETURNING id",
    )
    .bind(project_id)
    .bind(a.series_id)
    .bind(a.kind.as_str())
    .bind(a.rule_id)
    .bind(a.direction.as_str())
    .bind(a.axis.as_str())
    .bind(a.range.lo)
    .bind(a.range.hi)
    .bind(a.first_bad_run_id)
    .bind(a.last_good_run_id)
    .bind(a.first_bad_commit_id)
    .bind(a.last_good_commit_id)
    .bind(a.first_bad_at)
    .bind(a.before_median)
    .bind(a.after_median)
    .bind(a.relative_change)
    .bind(a.absolute_change)
    .bind(nullable(a.p_value))
    .bind(a.details.clone())
    .bind(now)
    .fetch_one(&mut **tx)
    .await?)
}

async fn update_alert(tx: &mut WriteTx, id: i64, a: &NewAlert, now: i64) -> Result<()> {
    sqlx::query(
        "UPDATE alerts SET direction = $2, axis = $3, range_lo = $4, range_hi = $5, first_bad_run_id = $6,
             last_good_run_id = $7, first_bad_commit_id = $8, last_good_commit_id = $9, first_bad_at = $10,
             before_median = $11, after_median = $12, relative_change = $13, absolute_change = $14,
             p_value = $15, updated_at = $16, kind = $17, details = $18
         WHERE id = $1",
    )
    .bind(id)
    .bind(a.direction.as_str())
    .bind(a.axis.as_str())
    .bind(a.range.lo)
    .bind(a.range.hi)
    .bind(a.first_bad_run_id)
    .bind(a.last_good_run_id)
    .bind(a.first_bad_commit_id)
    .bind(a.last_good_commit_id)
    .bind(a.first_bad_at)
    .bind(a.before_median)
    .bind(a.after_median)
    .bind(a.relative_change)
    .bind(a.absolute_change)
    .bind(nullable(a.p_value))
    .bind(now)
    .bind(a.kind.as_str())
    .bind(a.details.clone())
    .execute(&mut **tx)
    .await?;
    Ok(())
}
