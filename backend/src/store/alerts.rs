//! Alerts, alert groups and threshold rules.
//!
//! Writes for one series happen in one transaction that first takes the project's row
//! lock (`UPDATE projects SET slug = slug`): on PostgreSQL a row lock, on SQLite the
//! write lock. Detection passes on one project therefore never interleave, and grouping
//! (which reads and merges the project's groups) sees a stable picture.

use perfwatch_core::alerts::{
    match_moved, AlertDirection, AlertFilter, AlertGroupView, AlertKind, AlertPoint, AlertView,
    RangeAxis, SuspectRange, ThresholdRuleView, TriageState,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::float_bind::nullable;
use super::rows::{series_from_row, SERIES_COLUMNS};
use super::suspects::commit_url;
use super::{Store, WriteTx};
use crate::error::{Result, StoreError};
use crate::time::now_ms;

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
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Untriaged alerts that the current detection no longer supports, deleted.
    pub retracted: usize,
}

/// An alert's position for drawing it on a chart.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertMark {
    pub id: i64,
    pub group_id: Option<i64>,
    pub kind: AlertKind,
    pub direction: AlertDirection,
    pub axis: RangeAxis,
    pub range: SuspectRange,
    pub first_bad_at: i64,
    pub relative_change: f64,
    pub state: TriageState,
}

/// A threshold rule as stored (the rule is JSON).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRule {
    pub id: i64,
    pub series_id: Option<i64>,
    pub measure: Option<String>,
    pub rule: String,
}

/// Where an existing change-point alert sits.
struct Existing {
    id: i64,
    first_bad_run_id: i64,
    last_good_run_id: Option<i64>,
    range: SuspectRange,
    direction: String,
    before_median: f64,
    after_median: f64,
    p_value: Option<f64>,
    group_id: Option<i64>,
    status: String,
    /// `changepoint` or `drift`: a staircase of change points can become a drift (and
    /// back) as history grows; the alert stays one alert and takes the new kind.
    kind: String,
    details: Option<String>,
}

const ALERT_COLUMNS: &str = "a.id, a.group_id, a.kind, a.direction, a.relative_change, a.absolute_change,
    a.before_median, a.after_median, a.p_value, a.details, a.axis, a.range_lo, a.range_hi,
    a.first_bad_run_id, a.last_good_run_id, a.first_bad_at, c1.sha, c2.sha, r2.started_at, p.repo_url,
    a.status, a.detected_at, a.created_at, a.updated_at, a.project_id, a.assignee, a.fixed_commit";

const ALERT_JOINS: &str = "FROM alerts a JOIN series s ON s.id = a.series_id
    JOIN projects p ON p.id = s.project_id JOIN measures m ON m.id = s.measure_id
    JOIN testbeds t ON t.id = s.testbed_id
    LEFT JOIN commits c1 ON c1.id = a.first_bad_commit_id
    LEFT JOIN commits c2 ON c2.id = a.last_good_commit_id
    LEFT JOIN runs r2 ON r2.id = a.last_good_run_id";

const MAX_LIST: i64 = 500;

enum Bind {
    I(i64),
    F(f64),
    S(String),
}

fn same(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
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
        let map = |r: &AnyRow| -> Result<DetectPoint> {
            Ok(DetectPoint {
                run_id: r.try_get(0)?,
                commit_id: r.try_get(1)?,
                ord: r.try_get(2)?,
                time: r.try_get(3)?,
                median: r.try_get(4)?,
            })
        };
        if let Some(bid) = main_branch_id {
            let rows = sqlx::query(
                "SELECT r.id, r.commit_id, m.ord, m.started_at, m.median
                 FROM measurements m JOIN runs r ON r.id = m.run_id
                 WHERE m.series_id = $1 AND m.branch_id = $2 AND m.ord IS NOT NULL
                   AND r.invalid_reason IS NULL
                 ORDER BY m.ord, m.started_at, m.run_id",
            )
            .bind(series_id)
            .bind(bid)
            .fetch_all(&self.pool)
            .await?;
            if !rows.is_empty() {
                return Ok((
                    RangeAxis::Commit,
                    rows.iter().map(map).collect::<Result<_>>()?,
                ));
            }
        }
        let rows = sqlx::query(
            "SELECT r.id, r.commit_id, NULL, r.started_at, m.median
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
                    run_id: r.try_get(0)?,
                    commit_id: r.try_get(1)?,
                    ord: None,
                    time: r.try_get(3)?,
                    median: r.try_get(4)?,
                })
            })
            .collect::<Result<_>>()?;
        Ok((RangeAxis::Time, points))
    }

    /// Creates or updates the change-point alerts of one series. An alert whose first
    /// bad point lies within `tolerance` points of a new change point is that change
    /// point's alert (it moved as data arrived) and is updated; the others are created.
    ///
    /// An existing alert that matches nothing is retracted (deleted) when it is still
    /// untriaged and no change point of the current detection (`supported`: every
    /// change point found, before false-discovery-rate control) lies within `tolerance`
    /// of it: it was an artefact of a shorter history. Triaged alerts always stay.
    pub async fn upsert_changepoint_alerts(
        &self,
        project_id: i64,
        series_id: i64,
        points: &[DetectPoint],
        alerts: &[NewAlert],
        supported: &[usize],
        tolerance: usize,
    ) -> Result<UpsertCounts> {
        if alerts.is_empty() {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM alerts WHERE series_id = $1 AND kind IN ('changepoint', 'drift')",
            )
            .bind(series_id)
            .fetch_one(&self.pool)
            .await?;
            if n == 0 {
                return Ok(UpsertCounts::default());
            }
        }
        let mut tx = self.begin_write().await?;
        lock_project(&mut tx, project_id).await?;
        let rows = sqlx::query(
            "SELECT id, first_bad_run_id, last_good_run_id, range_lo, range_hi, direction, before_median,
                    after_median, p_value, group_id, status, kind, details
             FROM alerts WHERE series_id = $1 AND kind IN ('changepoint', 'drift') ORDER BY id",
        )
        .bind(series_id)
        .fetch_all(&mut *tx)
        .await?;
        let existing = rows
            .iter()
            .map(|r| {
                Ok(Existing {
                    id: r.try_get(0)?,
                    first_bad_run_id: r.try_get(1)?,
                    last_good_run_id: r.try_get(2)?,
                    range: SuspectRange {
                        lo: r.try_get(3)?,
                        hi: r.try_get(4)?,
                    },
                    direction: r.try_get(5)?,
                    before_median: r.try_get(6)?,
                    after_median: r.try_get(7)?,
                    p_value: r.try_get(8)?,
                    group_id: r.try_get(9)?,
                    status: r.try_get(10)?,
                    kind: r.try_get(11)?,
                    details: r.try_get(12)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let positions: Vec<Option<usize>> = existing
            .iter()
            .map(|e| points.iter().position(|p| p.run_id == e.first_bad_run_id))
            .collect();
        let new_pos: Vec<usize> = alerts.iter().map(|a| a.index).collect();
        let matches = match_moved(&positions, &new_pos, tolerance);
        let mut counts = UpsertCounts::default();
        let now = now_ms();
        let mut matched = vec![false; existing.len()];
        for ei in matches.iter().flatten() {
            matched[*ei] = true;
        }
        for (ei, e) in existing.iter().enumerate() {
            let near =
                positions[ei].is_some_and(|p| supported.iter().any(|s| s.abs_diff(p) <= tolerance));
            if matched[ei] || near || e.status != "untriaged" {
                continue;
            }
            sqlx::query("DELETE FROM alerts WHERE id = $1")
                .bind(e.id)
                .execute(&mut *tx)
                .await?;
            if let Some(g) = e.group_id {
                refresh_group(&mut tx, g, now).await?;
            }
            counts.retracted += 1;
        }
        for (a, m) in alerts.iter().zip(matches) {
            match m {
                Some(ei) => {
                    let e = &existing[ei];
                    let unchanged = e.first_bad_run_id == a.first_bad_run_id
                        && e.last_good_run_id == a.last_good_run_id
                        && e.range == a.range
                        && e.direction == a.direction.as_str()
                        && same(e.before_median, a.before_median)
                        && same(e.after_median, a.after_median)
                        && e.p_value.zip(a.p_value).is_none_or(|(x, y)| same(x, y))
                        && e.kind == a.kind.as_str()
                        && e.details == a.details;
                    if unchanged {
                        counts.unchanged += 1;
                        continue;
                    }
                    update_alert(&mut tx, e.id, a, now).await?;
                    if e.range != a.range || e.group_id.is_none() {
                        assign_group(&mut tx, project_id, e.id, a.axis, a.range, e.group_id, now)
                            .await?;
                    }
                    counts.updated += 1;
                }
                None => {
                    let id = insert_alert(&mut tx, project_id, a, now).await?;
                    assign_group(&mut tx, project_id, id, a.axis, a.range, None, now).await?;
                    counts.created += 1;
                }
            }
        }
        tx.commit().await?;
        Ok(counts)
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

    /// Alerts matching a filter, newest first. Suspect commit lists are left empty
    /// (only their count is filled); [`Store::alert`] and [`Store::alert_group`] fill them.
    pub async fn list_alerts(&self, f: &AlertFilter) -> Result<Vec<AlertView>> {
        let mut sql = format!("SELECT {SERIES_COLUMNS}, {ALERT_COLUMNS} {ALERT_JOINS} WHERE 1 = 1");
        let mut binds = Vec::new();
        let mut cond = |sql: &mut String, text: &str, b: Bind| {
            binds.push(b);
            sql.push_str(&format!(" AND {text} ${}", binds.len()));
        };
        if let Some(p) = &f.project {
            cond(&mut sql, "p.slug =", Bind::S(p.clone()));
        }
        if let Some(d) = f.direction {
            cond(&mut sql, "a.direction =", Bind::S(d.as_str().into()));
        }
        if let Some(k) = f.kind {
            cond(&mut sql, "a.kind =", Bind::S(k.as_str().into()));
        }
        if let Some(m) = f.min_change {
            cond(&mut sql, "ABS(a.relative_change) >=", Bind::F(m / 100.0));
        }
        if let Some(days) = f.max_age_days {
            cond(
                &mut sql,
                "a.detected_at >=",
                Bind::I(now_ms() - days.saturating_mul(86_400_000)),
            );
        }
        if let Some(s) = f.series_id {
            cond(&mut sql, "a.series_id =", Bind::I(s));
        }
        if let Some(st) = f.state {
            cond(&mut sql, "a.status =", Bind::S(st.as_str().into()));
        }
        match f.assignee.as_deref() {
            Some("none") => sql.push_str(" AND a.assignee IS NULL"),
            Some(who) => cond(&mut sql, "a.assignee =", Bind::S(who.into())),
            None => {}
        }
        let limit = f.limit.unwrap_or(200).clamp(1, MAX_LIST);
        sql.push_str(&format!(
            " ORDER BY a.detected_at DESC, a.id DESC LIMIT {limit}"
        ));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = match b {
                Bind::I(v) => q.bind(v),
                Bind::F(v) => q.bind(v),
                Bind::S(v) => q.bind(v),
            };
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut out = rows
            .iter()
            .map(alert_from_row)
            .collect::<Result<Vec<_>>>()?;
        self.count_suspects(&mut out).await?;
        Ok(out)
    }

    /// One alert with its suspect commits.
    pub async fn alert(&self, id: i64) -> Result<AlertView> {
        let sql = format!("SELECT {SERIES_COLUMNS}, {ALERT_COLUMNS} {ALERT_JOINS} WHERE a.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("alert {id}")))?;
        let repo: Option<String> = row.try_get("repo_url")?;
        let mut a = [alert_from_row(&row)?];
        let project = a[0].project.clone();
        self.fill_suspects(&project, &repo, &mut a).await?;
        let [a] = a;
        Ok(a)
    }

    /// An alert group with every alert and their suspect commits.
    pub async fn alert_group(&self, id: i64) -> Result<AlertGroupView> {
        let g = sqlx::query(
            "SELECT g.id, p.slug, g.axis, g.range_lo, g.range_hi, g.created_at, g.updated_at,
                g.state, g.assignee, g.fixed_commit, g.ticket_key, g.ticket_url
             FROM alert_groups g JOIN projects p ON p.id = g.project_id WHERE g.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("alert group {id}")))?;
        let sql = format!(
            "SELECT {SERIES_COLUMNS}, {ALERT_COLUMNS} {ALERT_JOINS} WHERE a.group_id = $1
             ORDER BY ABS(a.relative_change) DESC, a.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(id)
            .fetch_all(&self.pool)
            .await?;
        let mut alerts = rows
            .iter()
            .map(alert_from_row)
            .collect::<Result<Vec<_>>>()?;
        let repo: Option<String> = match rows.first() {
            Some(r) => r.try_get("repo_url")?,
            None => None,
        };
        let project: String = g.try_get(1)?;
        self.fill_suspects(&project, &repo, &mut alerts).await?;
        let axis: String = g.try_get(2)?;
        Ok(AlertGroupView {
            id: g.try_get(0)?,
            project: g.try_get(1)?,
            axis: RangeAxis::parse(&axis).unwrap_or(RangeAxis::Commit),
            range: SuspectRange {
                lo: g.try_get(3)?,
                hi: g.try_get(4)?,
            },
            regressions: alerts
                .iter()
                .filter(|a| a.direction == AlertDirection::Regression)
                .count(),
            improvements: alerts
                .iter()
                .filter(|a| a.direction == AlertDirection::Improvement)
                .count(),
            triage: super::triage::group_triage(&g, &alerts)?,
            history: self.triage_history(id).await?,
            notes: self.triage_notes(id).await?,
            alerts,
            created_at: g.try_get(5)?,
            updated_at: g.try_get(6)?,
        })
    }

    /// Ids of a project's alert groups.
    pub async fn alert_group_ids(&self, project_id: i64) -> Result<Vec<i64>> {
        Ok(
            sqlx::query_scalar("SELECT id FROM alert_groups WHERE project_id = $1 ORDER BY id")
                .bind(project_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// The series whose alerts are in a group.
    pub async fn alert_group_series(&self, group_id: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT DISTINCT series_id FROM alerts WHERE group_id = $1 ORDER BY series_id",
        )
        .bind(group_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Alert counts of a project: (alerts, groups).
    pub async fn alert_counts(&self, project_id: i64) -> Result<(i64, i64)> {
        let a: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(&self.pool)
            .await?;
        let g: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM alert_groups WHERE project_id = $1")
            .bind(project_id)
            .fetch_one(&self.pool)
            .await?;
        Ok((a, g))
    }

    /// The alerts of a series, for chart markers.
    pub async fn alert_marks(&self, series_id: i64) -> Result<Vec<AlertMark>> {
        let rows = sqlx::query(
            "SELECT id, group_id, kind, direction, axis, range_lo, range_hi, first_bad_at, relative_change, status
             FROM alerts WHERE series_id = $1 ORDER BY range_hi",
        )
        .bind(series_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let kind: String = r.try_get(2)?;
                let dir: String = r.try_get(3)?;
                let axis: String = r.try_get(4)?;
                Ok(AlertMark {
                    id: r.try_get(0)?,
                    group_id: r.try_get(1)?,
                    kind: AlertKind::parse(&kind).unwrap_or(AlertKind::Changepoint),
                    direction: AlertDirection::parse(&dir).unwrap_or(AlertDirection::Regression),
                    axis: RangeAxis::parse(&axis).unwrap_or(RangeAxis::Commit),
                    range: SuspectRange {
                        lo: r.try_get(5)?,
                        hi: r.try_get(6)?,
                    },
                    first_bad_at: r.try_get(7)?,
                    relative_change: r.try_get(8)?,
                    state: TriageState::parse(&r.try_get::<String, _>(9)?).unwrap_or_default(),
                })
            })
            .collect()
    }

    pub async fn create_threshold_rule(
        &self,
        project_id: i64,
        series_id: Option<i64>,
        measure: Option<&str>,
        rule_json: &str,
    ) -> Result<i64> {
        if series_id.is_some() && measure.is_some() {
            return Err(StoreError::invalid(
                "series_id",
                "give series_id or measure, not both",
            ));
        }
        if let Some(sid) = series_id {
            let owner: Option<i64> =
                sqlx::query_scalar("SELECT project_id FROM series WHERE id = $1")
                    .bind(sid)
                    .fetch_optional(&self.pool)
                    .await?;
            if owner != Some(project_id) {
                return Err(StoreError::invalid(
                    "series_id",
                    format!("series {sid} is not in this project"),
                ));
            }
        }
        Ok(sqlx::query_scalar(
            "INSERT INTO threshold_rules (project_id, series_id, measure, rule, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(project_id)
        .bind(series_id)
        .bind(measure.map(str::to_string))
        .bind(rule_json)
        .bind(now_ms())
        .fetch_one(&self.pool)
        .await?)
    }

    pub async fn threshold_rules(&self, project_id: i64) -> Result<Vec<StoredRule>> {
        let rows = sqlx::query("SELECT id, series_id, measure, rule FROM threshold_rules WHERE project_id = $1 ORDER BY id")
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(StoredRule {
                    id: r.try_get(0)?,
                    series_id: r.try_get(1)?,
                    measure: r.try_get(2)?,
                    rule: r.try_get(3)?,
                })
            })
            .collect()
    }

    pub async fn threshold_rule_views(&self, project_id: i64) -> Result<Vec<ThresholdRuleView>> {
        let rows = sqlx::query(
            "SELECT r.id, p.slug, r.series_id, r.measure, r.rule, r.created_at
             FROM threshold_rules r JOIN projects p ON p.id = r.project_id WHERE r.project_id = $1 ORDER BY r.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let rule: String = r.try_get(4)?;
                Ok(ThresholdRuleView {
                    id: r.try_get(0)?,
                    project: r.try_get(1)?,
                    series_id: r.try_get(2)?,
                    measure: r.try_get(3)?,
                    rule: serde_json::from_str(&rule)?,
                    created_at: r.try_get(5)?,
                })
            })
            .collect()
    }

    /// Deletes a rule; a project-scoped token may delete only its project's rules.
    /// Alerts the rule raised stay (their `rule_id` becomes empty).
    /// The project a threshold rule belongs to.
    pub async fn threshold_rule_project(&self, id: i64) -> Result<i64> {
        sqlx::query_scalar("SELECT project_id FROM threshold_rules WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("threshold rule {id}")))
    }

    pub async fn delete_threshold_rule(&self, id: i64, token_project: Option<i64>) -> Result<()> {
        let owner: Option<i64> =
            sqlx::query_scalar("SELECT project_id FROM threshold_rules WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(owner) = owner else {
            return Err(StoreError::NotFound(format!("threshold rule {id}")));
        };
        if token_project.is_some_and(|p| p != owner) {
            return Err(StoreError::Forbidden(
                "this token may not change that project's rules".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE alerts SET rule_id = NULL WHERE rule_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM threshold_rules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

fn alert_from_row(r: &AnyRow) -> Result<AlertView> {
    let series = series_from_row(r, 0)?;
    let o = 9;
    let kind: String = r.try_get(o + 2)?;
    let dir: String = r.try_get(o + 3)?;
    let details: Option<String> = r.try_get(o + 9)?;
    let axis: String = r.try_get(o + 10)?;
    let axis = RangeAxis::parse(&axis).unwrap_or(RangeAxis::Commit);
    let range = SuspectRange {
        lo: r.try_get(o + 11)?,
        hi: r.try_get(o + 12)?,
    };
    let repo: Option<String> = r.try_get(o + 19)?;
    let bad_sha: Option<String> = r.try_get(o + 16)?;
    let good_sha: Option<String> = r.try_get(o + 17)?;
    let good_run: Option<i64> = r.try_get(o + 14)?;
    let good_time: Option<i64> = r.try_get(o + 18)?;
    let commit_axis = axis == RangeAxis::Commit;
    Ok(AlertView {
        id: r.try_get(o)?,
        group_id: r.try_get(o + 1)?,
        project: series.project.clone(),
        kind: AlertKind::parse(&kind).unwrap_or(AlertKind::Changepoint),
        direction: AlertDirection::parse(&dir).unwrap_or(AlertDirection::Regression),
        relative_change: r.try_get(o + 4)?,
        absolute_change: r.try_get(o + 5)?,
        before_median: r.try_get(o + 6)?,
        after_median: r.try_get(o + 7)?,
        p_value: r.try_get(o + 8)?,
        details: details.and_then(|d| serde_json::from_str(&d).ok()),
        axis,
        range,
        first_bad: AlertPoint {
            run_id: r.try_get(o + 13)?,
            url: bad_sha.as_deref().and_then(|s| commit_url(&repo, s)),
            sha: bad_sha,
            ord: commit_axis.then_some(range.hi),
            time: r.try_get(o + 15)?,
        },
        last_good: good_run.map(|run_id| AlertPoint {
            run_id,
            url: good_sha.as_deref().and_then(|s| commit_url(&repo, s)),
            sha: good_sha,
            ord: commit_axis.then_some(range.lo),
            time: good_time.unwrap_or_default(),
        }),
        suspect_commits: vec![],
        suspect_total: 0,
        status: r.try_get(o + 20)?,
        assignee: r.try_get(o + 25)?,
        fixed_commit: r.try_get(o + 26)?,
        detected_at: r.try_get(o + 21)?,
        created_at: r.try_get(o + 22)?,
        updated_at: r.try_get(o + 23)?,
        series,
    })
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

/// Puts an alert into the group its range overlaps, merging groups its range (or the
/// grown group's range) bridges, or into a new group.
async fn assign_group(
    tx: &mut WriteTx,
    project_id: i64,
    alert_id: i64,
    axis: RangeAxis,
    range: SuspectRange,
    old_group: Option<i64>,
    now: i64,
) -> Result<i64> {
    let mut span = range;
    let mut gid: Option<i64> = None;
    loop {
        let rows = sqlx::query(
            "SELECT id FROM alert_groups WHERE project_id = $1 AND axis = $2 AND range_lo < $3 AND $4 < range_hi
             AND id <> $5 ORDER BY id",
        )
        .bind(project_id)
        .bind(axis.as_str())
        .bind(span.hi)
        .bind(span.lo)
        .bind(gid.unwrap_or(-1))
        .fetch_all(&mut **tx)
        .await?;
        let ids: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get(0))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            break;
        }
        let target = match gid {
            Some(g) => g.min(ids[0]),
            None => ids[0],
        };
        for other in gid
            .into_iter()
            .chain(ids.iter().copied())
            .filter(|g| *g != target)
        {
            sqlx::query("UPDATE alerts SET group_id = $1 WHERE group_id = $2")
                .bind(target)
                .bind(other)
                .execute(&mut **tx)
                .await?;
            sqlx::query("DELETE FROM alert_groups WHERE id = $1")
                .bind(other)
                .execute(&mut **tx)
                .await?;
        }
        gid = Some(target);
        sqlx::query("UPDATE alerts SET group_id = $1 WHERE id = $2")
            .bind(target)
            .bind(alert_id)
            .execute(&mut **tx)
            .await?;
        let grown = refresh_group(tx, target, now).await?.unwrap_or(span);
        if grown == span {
            break;
        }
        span = grown;
    }
    let gid = match gid {
        Some(g) => g,
        None => {
            let g: i64 = sqlx::query_scalar(
                "INSERT INTO alert_groups (project_id, axis, range_lo, range_hi, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
            )
            .bind(project_id)
            .bind(axis.as_str())
            .bind(range.lo)
            .bind(range.hi)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?;
            sqlx::query("UPDATE alerts SET group_id = $1 WHERE id = $2")
                .bind(g)
                .bind(alert_id)
                .execute(&mut **tx)
                .await?;
            refresh_group(tx, g, now).await?;
            g
        }
    };
    if let Some(old) = old_group.filter(|o| *o != gid) {
        refresh_group(tx, old, now).await?;
    }
    Ok(gid)
}

/// Sets a group's range and commits from its alerts; deletes it when it has none.
/// Returns the new range.
async fn refresh_group(tx: &mut WriteTx, gid: i64, now: i64) -> Result<Option<SuspectRange>> {
    let row = sqlx::query(
        "SELECT MIN(range_lo), MAX(range_hi), COUNT(*) FROM alerts WHERE group_id = $1",
    )
    .bind(gid)
    .fetch_one(&mut **tx)
    .await?;
    let n: i64 = row.try_get(2)?;
    if n == 0 {
        sqlx::query("DELETE FROM alert_groups WHERE id = $1")
            .bind(gid)
            .execute(&mut **tx)
            .await?;
        return Ok(None);
    }
    let range = SuspectRange {
        lo: row.try_get(0)?,
        hi: row.try_get(1)?,
    };
    let first: Option<i64> = sqlx::query_scalar(
        "SELECT last_good_commit_id FROM alerts WHERE group_id = $1 ORDER BY range_lo, id LIMIT 1",
    )
    .bind(gid)
    .fetch_optional(&mut **tx)
    .await?
    .flatten();
    let last: Option<i64> = sqlx::query_scalar(
        "SELECT first_bad_commit_id FROM alerts WHERE group_id = $1 ORDER BY range_hi DESC, id LIMIT 1",
    )
    .bind(gid)
    .fetch_optional(&mut **tx)
    .await?
    .flatten();
    sqlx::query(
        "UPDATE alert_groups SET range_lo = $2, range_hi = $3, first_commit_id = $4, last_commit_id = $5,
             updated_at = $6 WHERE id = $1",
    )
    .bind(gid)
    .bind(range.lo)
    .bind(range.hi)
    .bind(first)
    .bind(last)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(Some(range))
}
