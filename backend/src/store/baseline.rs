//! Reads of a run's baseline (`crate::baseline`): the raw samples of the base runs of
//! every series of the run, one query for all series (not one per series).

use std::collections::HashMap;

use sqlx::Row;

use super::Store;
use crate::error::Result;

/// The base of one series: the raw samples of its base runs, concatenated in run
/// order, and where they come from.
#[derive(Debug, Clone, Default)]
pub(crate) struct BaseSamples {
    pub samples: Vec<f64>,
    /// The base commit (none for commit-less runs).
    pub sha: Option<String>,
    /// Its order on the main branch.
    pub ord: Option<i64>,
    pub runs: Vec<i64>,
}

/// Adds one base run's row to the base of its series.
fn push(
    out: &mut HashMap<i64, BaseSamples>,
    series: i64,
    run: i64,
    sha: Option<String>,
    ord: Option<i64>,
    samples: &str,
) -> Result<()> {
    let samples: Vec<f64> = serde_json::from_str(samples)?;
    let b = out.entry(series).or_insert_with(|| BaseSamples {
        sha,
        ord,
        ..BaseSamples::default()
    });
    b.samples.extend(samples);
    b.runs.push(run);
    Ok(())
}

impl Store {
    /// Highest order on branch `main` of a commit made no later than `time` (ms).
    pub(crate) async fn main_ord_at_time(&self, main: i64, time: i64) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT MAX(bc.ord) FROM branch_commits bc JOIN commits c ON c.id = bc.commit_id
             WHERE bc.branch_id = $1 AND c.committed_at IS NOT NULL AND c.committed_at <= $2",
        )
        .bind(main)
        .bind(time)
        .fetch_one(&self.pool)
        .await?)
    }

    /// For every series of run `run_id`: the samples of every run on branch `main` at
    /// the newest commit (order ≤ `max_ord`) that has valid results for that series, the
    /// run itself and invalid runs (`runs.invalid_reason`) excluded. Series without such a commit are absent.
    pub(crate) async fn bases_at_ord(
        &self,
        run_id: i64,
        main: i64,
        max_ord: i64,
    ) -> Result<HashMap<i64, BaseSamples>> {
        let rows = sqlx::query(
            "SELECT m.series_id, r.id AS run_id, c.sha, m.ord, ms.samples FROM measurements m
             JOIN (SELECT m2.series_id, MAX(m2.ord) AS best FROM measurements m2
                   JOIN runs r2 ON r2.id = m2.run_id
                   WHERE m2.series_id IN (SELECT series_id FROM measurements WHERE run_id = $2)
                     AND m2.branch_id = $1 AND m2.run_id <> $2 AND m2.ord <= $3
                     AND r2.invalid_reason IS NULL
                   GROUP BY m2.series_id) b ON b.series_id = m.series_id AND b.best = m.ord
             JOIN measurement_samples ms ON ms.run_id = m.run_id AND ms.series_id = m.series_id
             JOIN runs r ON r.id = m.run_id
             JOIN commits c ON c.id = r.commit_id
             WHERE m.branch_id = $1 AND m.run_id <> $2 AND r.invalid_reason IS NULL
             ORDER BY m.series_id, r.id",
        )
        .bind(main)
        .bind(run_id)
        .bind(max_ord)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for r in &rows {
            push(
                &mut out,
                r.try_get("series_id")?,
                r.try_get("run_id")?,
                Some(r.try_get("sha")?),
                Some(r.try_get("ord")?),
                &r.try_get::<String, _>("samples")?,
            )?;
        }
        Ok(out)
    }

    /// For every series of run `run_id`: the samples of the newest commit-less run of
    /// the series started before `time`, the run itself and invalid runs excluded.
    pub(crate) async fn bases_in_time(
        &self,
        run_id: i64,
        time: i64,
    ) -> Result<HashMap<i64, BaseSamples>> {
        let rows = sqlx::query(
            "SELECT series_id, run_id, samples FROM (
                 SELECT m.series_id, r.id AS run_id, ms.samples,
                        ROW_NUMBER() OVER (PARTITION BY m.series_id
                                           ORDER BY r.started_at DESC, r.id DESC) AS newest
                 FROM measurements m JOIN runs r ON r.id = m.run_id
                 JOIN measurement_samples ms ON ms.run_id = m.run_id AND ms.series_id = m.series_id
                 WHERE m.series_id IN (SELECT series_id FROM measurements WHERE run_id = $1)
                   AND r.id <> $1 AND r.commit_id IS NULL AND r.started_at < $2
                   AND r.invalid_reason IS NULL
             ) x WHERE newest = 1",
        )
        .bind(run_id)
        .bind(time)
        .fetch_all(&self.pool)
        .await?;
        let mut out = HashMap::new();
        for r in &rows {
            push(
                &mut out,
                r.try_get("series_id")?,
                r.try_get("run_id")?,
                None,
                None,
                &r.try_get::<String, _>("samples")?,
            )?;
        }
        Ok(out)
    }
}
