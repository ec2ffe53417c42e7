//! Metric sources of projects (`metric_sources`, migration 0009). The bearer token
//! arrives sealed (`crate::secrets`).

use sqlx::{AssertSqlSafe, Row};

use super::Store;
use crate::error::{Result, StoreError};

/// One stored source.
#[derive(Clone, PartialEq, serde::Serialize)]
pub struct MetricSourceRow {
    pub id: i64,
    pub project_id: i64,
    pub name: String,
    pub kind: String,
    /// The `[metrics]` table as TOML text.
    pub config: String,
    /// Sealed.
    #[serde(skip)]
    pub bearer_token: Option<String>,
    pub updated_at: i64,
}

// By hand: bearer_token must never reach a log line.
impl std::fmt::Debug for MetricSourceRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricSourceRow")
            .field("id", &self.id)
            .field("project_id", &self.project_id)
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("config", &self.config)
            .field(
                "bearer_token",
                &perfwatch_core::redact::Redacted(&self.bearer_token),
            )
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

fn row(r: &sqlx::any::AnyRow) -> Result<MetricSourceRow> {
    let kind: String = r.try_get("kind")?;
    if kind != "prometheus" {
        return Err(StoreError::Data(format!(
            "metric_sources.kind holds unknown value {kind:?}"
        )));
    }
    Ok(MetricSourceRow {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        name: r.try_get("name")?,
        kind,
        config: r.try_get("config")?,
        bearer_token: r.try_get("bearer_token")?,
        updated_at: r.try_get("updated_at")?,
    })
}

const COLS: &str = "id, project_id, name, kind, config, bearer_token, updated_at";

impl Store {
    /// Creates or replaces source `name` of a project; `bearer_token` `None` keeps the
    /// stored one. Returns its id.
    pub async fn metric_source_put(
        &self,
        project_id: i64,
        name: &str,
        config: &str,
        bearer_token: Option<&str>,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO metric_sources (project_id, name, kind, config, bearer_token,
                 created_at, updated_at)
             VALUES ($1, $2, 'prometheus', $3, $4, $5, $5)
             ON CONFLICT (project_id, name) DO UPDATE SET config = excluded.config,
                 bearer_token = COALESCE(excluded.bearer_token, metric_sources.bearer_token),
                 updated_at = excluded.updated_at
             RETURNING id",
        )
        .bind(project_id)
        .bind(name)
        .bind(config)
        .bind(bearer_token.map(str::to_string))
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn metric_source(&self, project_id: i64, name: &str) -> Result<MetricSourceRow> {
        let sql = format!("SELECT {COLS} FROM metric_sources WHERE project_id = $1 AND name = $2");
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(name)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("metric source '{name}'")))?;
        row(&r)
    }

    pub async fn metric_source_by_id(&self, id: i64) -> Result<MetricSourceRow> {
        let sql = format!("SELECT {COLS} FROM metric_sources WHERE id = $1");
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("metric source {id}")))?;
        row(&r)
    }

    pub async fn metric_sources(&self, project_id: i64) -> Result<Vec<MetricSourceRow>> {
        let sql = format!("SELECT {COLS} FROM metric_sources WHERE project_id = $1 ORDER BY name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(row).collect()
    }
}

/// A scheduled production series.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScheduleRow {
    pub id: i64,
    pub source_id: i64,
    pub query_name: String,
    pub step_s: i64,
    /// The time of the last point stored (ms); the next chunk starts one step later.
    pub watermark: i64,
    #[serde(flatten)]
    pub settings: ScheduleSettings,
    /// The label value of the last deploy marker made from this schedule.
    pub last_marker: Option<String>,
}

/// What an admin chooses for a schedule besides its query and step.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ScheduleSettings {
    /// IANA timezone of the users behind the metric (local hours of the week).
    pub timezone: String,
    /// Alerts on its series are recorded but notify no one.
    pub dry_run: bool,
    /// A label of the query whose value changing marks a deploy (`version` of
    /// `build_info`); such a schedule stores markers, not points.
    pub marker_label: Option<String>,
    /// Raw points older than this many days are dropped once rolled up hourly.
    pub raw_days: i64,
}

/// Settings of the schedule that feeds a series, by (testbed, benchmark): scheduled
/// runs use testbed `prometheus:<source>` and the query's name as benchmark.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesSchedule {
    pub schedule_id: i64,
    pub testbed: String,
    pub query_name: String,
    pub settings: ScheduleSettings,
}

const SCHEDULE_COLUMNS: &str = "id, source_id, query_name, step_s, watermark, timezone, \
     dry_run, marker_label, last_marker, raw_days";

fn settings(r: &sqlx::any::AnyRow) -> Result<ScheduleSettings> {
    Ok(ScheduleSettings {
        timezone: r.try_get("timezone")?,
        dry_run: r.try_get::<i64, _>("dry_run")? != 0,
        marker_label: r.try_get("marker_label")?,
        raw_days: r.try_get("raw_days")?,
    })
}

fn schedule(r: &sqlx::any::AnyRow) -> Result<ScheduleRow> {
    Ok(ScheduleRow {
        id: r.try_get("id")?,
        source_id: r.try_get("source_id")?,
        query_name: r.try_get("query_name")?,
        step_s: r.try_get("step_s")?,
        watermark: r.try_get("watermark")?,
        settings: settings(r)?,
        last_marker: r.try_get("last_marker")?,
    })
}

impl Store {
    /// Creates a schedule, or changes its step and settings (the watermark of an
    /// existing one is kept, so nothing is read twice). Returns its id.
    pub async fn metric_schedule_put(
        &self,
        source_id: i64,
        query_name: &str,
        step_s: i64,
        watermark: i64,
        settings: &ScheduleSettings,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO metric_schedules (source_id, query_name, step_s, watermark,
                 created_at, updated_at, timezone, dry_run, marker_label, raw_days)
             VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9)
             ON CONFLICT (source_id, query_name) DO UPDATE SET step_s = excluded.step_s,
                 updated_at = excluded.updated_at, timezone = excluded.timezone,
                 dry_run = excluded.dry_run, marker_label = excluded.marker_label,
                 raw_days = excluded.raw_days
             RETURNING id",
        )
        .bind(source_id)
        .bind(query_name)
        .bind(step_s)
        .bind(watermark)
        .bind(now)
        .bind(&settings.timezone)
        .bind(settings.dry_run as i64)
        .bind(&settings.marker_label)
        .bind(settings.raw_days)
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn metric_schedule(&self, id: i64) -> Result<ScheduleRow> {
        let r = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM metric_schedules WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("schedule {id}")))?;
        schedule(&r)
    }

    pub async fn metric_schedules(&self) -> Result<Vec<ScheduleRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {SCHEDULE_COLUMNS} FROM metric_schedules ORDER BY id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(schedule).collect()
    }

    /// The schedules of a project's sources, with the testbed their runs are stored under.
    pub async fn series_schedules(&self, project_id: i64) -> Result<Vec<SeriesSchedule>> {
        let rows = sqlx::query(
            "SELECT sc.id, ms.name AS source, sc.query_name, sc.timezone, sc.dry_run,
                    sc.marker_label, sc.raw_days
             FROM metric_schedules sc JOIN metric_sources ms ON ms.id = sc.source_id
             WHERE ms.project_id = $1 ORDER BY sc.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SeriesSchedule {
                    schedule_id: r.try_get("id")?,
                    testbed: format!("prometheus:{}", r.try_get::<String, _>("source")?),
                    query_name: r.try_get("query_name")?,
                    settings: settings(r)?,
                })
            })
            .collect()
    }

    /// Deletes the schedule reading query `query_name` of a source (its stored points
    /// stay); whether one existed.
    pub async fn metric_schedule_delete(&self, source_id: i64, query_name: &str) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n =
            sqlx::query("DELETE FROM metric_schedules WHERE source_id = $1 AND query_name = $2")
                .bind(source_id)
                .bind(query_name)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        tx.commit().await?;
        Ok(n > 0)
    }

    /// Moves the watermark forward (never back).
    pub async fn metric_schedule_advance(&self, id: i64, watermark: i64, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE metric_schedules SET watermark = $1, updated_at = $2
             WHERE id = $3 AND watermark < $1",
        )
        .bind(watermark)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Records the label value of the newest deploy marker a schedule made.
    pub async fn metric_schedule_marked(&self, id: i64, value: &str, now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE metric_schedules SET last_marker = $1, updated_at = $2 WHERE id = $3")
            .bind(value)
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

/// The window of a run (for the "test query" button).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunWindow {
    pub run_id: i64,
    pub start: i64,
    pub end: i64,
}

impl Store {
    /// The newest run of a project with a window (finished after it started), leaving
    /// out the runs metric sources wrote themselves (schedules and collections).
    pub async fn latest_run_window(&self, project_id: i64) -> Result<Option<RunWindow>> {
        let r = sqlx::query(
            "SELECT id, started_at, finished_at FROM runs
             WHERE project_id = $1 AND finished_at IS NOT NULL AND finished_at > started_at
               AND (trigger_kind IS NULL OR trigger_kind NOT IN ('schedule', 'metrics'))
             ORDER BY started_at DESC, id DESC LIMIT 1",
        )
        .bind(project_id)
        .fetch_optional(&self.pool)
        .await?;
        r.map(|r| {
            Ok(RunWindow {
                run_id: r.try_get("id")?,
                start: r.try_get("started_at")?,
                end: r.try_get("finished_at")?,
            })
        })
        .transpose()
    }
}
