//! Reading alerts and alert groups: the lists, one alert, one group with its triage,
//! the counts and the chart marks.

use perfwatch_core::alerts::{
    AlertDirection, AlertFilter, AlertGroupView, AlertKind, AlertPoint, AlertView, RangeAxis,
    SuspectRange, TriageState,
};
use sqlx::any::AnyRow;
use sqlx::{AssertSqlSafe, Row};

use super::rows::{series_from_row, SERIES_COLUMNS};
use super::suspects::commit_url;
use super::Store;
use crate::error::{Result, StoreError};
use crate::time::now_ms;

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

/// The alert block of a row, under fixed aliases that [`alert_from_row`] reads by name
/// (none clashes with the `series_*` aliases of [`SERIES_COLUMNS`]).
const ALERT_COLUMNS: &str = "a.id AS id, a.group_id AS group_id, a.kind AS kind,
    a.direction AS direction, a.relative_change AS relative_change,
    a.absolute_change AS absolute_change, a.before_median AS before_median,
    a.after_median AS after_median, a.p_value AS p_value, a.details AS details, a.axis AS axis,
    a.range_lo AS range_lo, a.range_hi AS range_hi, a.first_bad_run_id AS first_bad_run_id,
    a.last_good_run_id AS last_good_run_id, a.first_bad_at AS first_bad_at,
    c1.sha AS first_bad_sha, c2.sha AS last_good_sha, r2.started_at AS last_good_started_at,
    p.repo_url AS repo_url, a.status AS status, a.detected_at AS detected_at,
    a.created_at AS created_at, a.updated_at AS updated_at, a.project_id AS project_id,
    a.assignee AS assignee, a.fixed_commit AS fixed_commit";

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

impl Store {
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
            "SELECT g.id AS id, p.slug AS project, g.axis AS axis, g.range_lo AS range_lo,
                g.range_hi AS range_hi, g.created_at AS created_at, g.updated_at AS updated_at,
                g.state AS state, g.assignee AS assignee, g.fixed_commit AS fixed_commit,
                g.ticket_key AS ticket_key, g.ticket_url AS ticket_url
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
        let project: String = g.try_get("project")?;
        self.fill_suspects(&project, &repo, &mut alerts).await?;
        let axis: String = g.try_get("axis")?;
        Ok(AlertGroupView {
            id: g.try_get("id")?,
            project: g.try_get("project")?,
            axis: RangeAxis::parse(&axis).unwrap_or(RangeAxis::Commit),
            range: SuspectRange {
                lo: g.try_get("range_lo")?,
                hi: g.try_get("range_hi")?,
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
            created_at: g.try_get("created_at")?,
            updated_at: g.try_get("updated_at")?,
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
                let kind: String = r.try_get("kind")?;
                let dir: String = r.try_get("direction")?;
                let axis: String = r.try_get("axis")?;
                Ok(AlertMark {
                    id: r.try_get("id")?,
                    group_id: r.try_get("group_id")?,
                    kind: AlertKind::parse(&kind).unwrap_or(AlertKind::Changepoint),
                    direction: AlertDirection::parse(&dir).unwrap_or(AlertDirection::Regression),
                    axis: RangeAxis::parse(&axis).unwrap_or(RangeAxis::Commit),
                    range: SuspectRange {
                        lo: r.try_get("range_lo")?,
                        hi: r.try_get("range_hi")?,
                    },
                    first_bad_at: r.try_get("first_bad_at")?,
                    relative_change: r.try_get("relative_change")?,
                    state: TriageState::parse(&r.try_get::<String, _>("status")?)
                        .unwrap_or_default(),
                })
            })
            .collect()
    }
}

fn alert_from_row(r: &AnyRow) -> Result<AlertView> {
    let series = series_from_row(r)?;
    let kind: String = r.try_get("kind")?;
    let dir: String = r.try_get("direction")?;
    let details: Option<String> = r.try_get("details")?;
    let axis: String = r.try_get("axis")?;
    let axis = RangeAxis::parse(&axis).unwrap_or(RangeAxis::Commit);
    let range = SuspectRange {
        lo: r.try_get("range_lo")?,
        hi: r.try_get("range_hi")?,
    };
    let repo: Option<String> = r.try_get("repo_url")?;
    let bad_sha: Option<String> = r.try_get("first_bad_sha")?;
    let good_sha: Option<String> = r.try_get("last_good_sha")?;
    let good_run: Option<i64> = r.try_get("last_good_run_id")?;
    let good_time: Option<i64> = r.try_get("last_good_started_at")?;
    let commit_axis = axis == RangeAxis::Commit;
    Ok(AlertView {
        id: r.try_get("id")?,
        group_id: r.try_get("group_id")?,
        project: series.project.clone(),
        kind: AlertKind::parse(&kind).unwrap_or(AlertKind::Changepoint),
        direction: AlertDirection::parse(&dir).unwrap_or(AlertDirection::Regression),
        relative_change: r.try_get("relative_change")?,
        absolute_change: r.try_get("absolute_change")?,
        before_median: r.try_get("before_median")?,
        after_median: r.try_get("after_median")?,
        p_value: r.try_get("p_value")?,
        details: details.and_then(|d| serde_json::from_str(&d).ok()),
        axis,
        range,
        first_bad: AlertPoint {
            run_id: r.try_get("first_bad_run_id")?,
            url: bad_sha.as_deref().and_then(|s| commit_url(&repo, s)),
            sha: bad_sha,
            ord: commit_axis.then_some(range.hi),
            time: r.try_get("first_bad_at")?,
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
        status: r.try_get("status")?,
        assignee: r.try_get("assignee")?,
        fixed_commit: r.try_get("fixed_commit")?,
        detected_at: r.try_get("detected_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        series,
    })
}
