//! Retention of scheduled production series: raw points older than the schedule's
//! `raw_days` become hourly rollups (migration 0011), kept for good.

use perfwatch_core::rollup::{hourly, merge, Rollup};
use sqlx::Row;

use super::Store;
use crate::error::Result;

/// What one retention pass did.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Pruned {
    /// Raw runs deleted (their points are in the rollups now).
    pub runs: u64,
    /// Hourly rollup rows written.
    pub hours: u64,
}

/// Runs of a schedule older than a cutoff, except those an alert points at (the alert
/// keeps its first bad and last good point).
const AGED: &str = "r.project_id = $1 AND r.run_key LIKE $2 AND r.started_at < $3
     AND NOT EXISTS (SELECT 1 FROM alerts a
                     WHERE a.first_bad_run_id = r.id OR a.last_good_run_id = r.id)";

impl Store {
    /// Rolls the points of schedule `schedule_id`'s runs started before `cutoff` (ms) up
    /// by hour into `metric_rollups`, and deletes those runs — in one transaction, so a
    /// crash leaves either the raw points or their rollups, never neither or both.
    pub async fn prune_schedule_runs(
        &self,
        project_id: i64,
        schedule_id: i64,
        cutoff: i64,
    ) -> Result<Pruned> {
        let pattern = format!("sched-{schedule_id}-%");
        let mut tx = self.begin_write().await?;
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT m.series_id, m.started_at, m.median
             FROM measurements m JOIN runs r ON r.id = m.run_id WHERE {AGED}
             ORDER BY m.series_id"
        )))
        .bind(project_id)
        .bind(&pattern)
        .bind(cutoff)
        .fetch_all(&mut *tx)
        .await?;
        let mut by_series: std::collections::BTreeMap<i64, Vec<(i64, f64)>> = Default::default();
        for r in &rows {
            by_series
                .entry(r.try_get("series_id")?)
                .or_default()
                .push((r.try_get("started_at")?, r.try_get("median")?));
        }
        let mut hours = 0u64;
        for (series_id, points) in by_series {
            for new in hourly(&points) {
                let old = sqlx::query(
                    "SELECT hour, n, min, mean, max, p50, p95 FROM metric_rollups
                     WHERE series_id = $1 AND hour = $2",
                )
                .bind(series_id)
                .bind(new.hour)
                .fetch_optional(&mut *tx)
                .await?;
                let r = match old {
                    Some(o) => merge(&rollup(&o)?, &new),
                    None => new,
                };
                sqlx::query(
                    "INSERT INTO metric_rollups (series_id, hour, n, min, mean, max, p50, p95)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (series_id, hour) DO UPDATE SET n = excluded.n,
                         min = excluded.min, mean = excluded.mean, max = excluded.max,
                         p50 = excluded.p50, p95 = excluded.p95",
                )
                .bind(series_id)
                .bind(r.hour)
                .bind(r.n)
                .bind(r.min)
                .bind(r.mean)
                .bind(r.max)
                .bind(r.p50)
                .bind(r.p95)
                .execute(&mut *tx)
                .await?;
                hours += 1;
            }
        }
        let runs = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DELETE FROM runs WHERE id IN (SELECT r.id FROM runs r WHERE {AGED})"
        )))
        .bind(project_id)
        .bind(&pattern)
        .bind(cutoff)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(Pruned { runs, hours })
    }

    /// Hourly rollups of a series in `[from, to)` (ms), oldest first.
    pub async fn rollups(&self, series_id: i64, from: i64, to: i64) -> Result<Vec<Rollup>> {
        let rows = sqlx::query(
            "SELECT hour, n, min, mean, max, p50, p95 FROM metric_rollups
             WHERE series_id = $1 AND hour >= $2 AND hour < $3 ORDER BY hour",
        )
        .bind(series_id)
        .bind(from)
        .bind(to)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(rollup).collect()
    }
}

fn rollup(r: &sqlx::any::AnyRow) -> Result<Rollup> {
    Ok(Rollup {
        hour: r.try_get("hour")?,
        n: r.try_get("n")?,
        min: r.try_get("min")?,
        mean: r.try_get("mean")?,
        max: r.try_get("max")?,
        p50: r.try_get("p50")?,
        p95: r.try_get("p95")?,
    })
}
