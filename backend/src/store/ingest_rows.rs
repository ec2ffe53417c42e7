//! SQLite: the measurement and sample rows of one run or of a whole batch of runs, in
//! multi-row inserts.
//!
//! Why whole batches: every statement is a round trip to sqlx's SQLite worker thread
//! and back (two thread wake-ups), and a profile of the server during the ingest
//! bench showed more time in those wake-ups than in SQLite. Runs written together
//! (`ingest_batch.rs`) therefore insert their measurements in one statement per
//! 1,000 rows and their samples likewise, instead of two statements per run; each in
//! its table's key order, so rows that land on one page go in together.

use perfwatch_core::validate::{ValidResult, ValidRun};
use sqlx::AssertSqlSafe;

use super::{shaped_chunks, values_rows, Dialect, WriteTx};
use crate::error::Result;

/// Rows per multi-row insert (13 parameters each: under SQLite's 32,766).
const CHUNK: usize = 256;

/// The facts of a run every measurement carries, so a chart reads one table.
pub(super) struct RunFacts {
    pub run_id: i64,
    pub branch_id: Option<i64>,
    pub ord: Option<i64>,
    pub started_at: i64,
}

/// A written run whose measurement and sample rows are still to be inserted.
pub(crate) struct RunRows<'r> {
    pub(super) facts: RunFacts,
    pub(super) run: &'r ValidRun,
    /// The series of `run.results`, in the same order.
    pub(super) series_ids: Vec<i64>,
}

/// One measurement: its run's facts, the result and its series.
type Row<'a> = (&'a RunFacts, &'a ValidResult, i64);

/// Inserts the measurement and sample rows of `runs`.
pub(super) async fn insert_run_rows(
    dialect: Dialect,
    tx: &mut WriteTx,
    runs: &[RunRows<'_>],
) -> Result<()> {
    let mut rows: Vec<Row<'_>> = runs
        .iter()
        .flat_map(|r| {
            r.run
                .results
                .iter()
                .zip(&r.series_ids)
                .map(move |(res, &sid)| (&r.facts, res, sid))
        })
        .collect();
    // Each table in its own key order: measurements by series, samples by run.
    rows.sort_by_key(|(facts, _, sid)| (*sid, facts.run_id));
    for chunk in shaped_chunks(&rows, CHUNK) {
        insert_measurements(dialect, tx, chunk).await?;
    }
    rows.sort_by_key(|(facts, _, sid)| (facts.run_id, *sid));
    for chunk in shaped_chunks(&rows, CHUNK) {
        insert_samples(dialect, tx, chunk).await?;
    }
    Ok(())
}

async fn insert_measurements(dialect: Dialect, tx: &mut WriteTx, rows: &[Row<'_>]) -> Result<()> {
    let sql = format!(
        "INSERT INTO measurements (series_id, run_id, branch_id, ord, started_at, n, mean, median,
                                   min, max, stddev, iterations, percentiles) VALUES {}",
        values_rows(dialect, rows.len(), 13)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (facts, r, sid) in rows {
        let s = &r.summary;
        let percentiles = if r.percentiles.is_empty() {
            None
        } else {
            Some(serde_json::to_string(&r.percentiles)?)
        };
        q = q
            .bind(*sid)
            .bind(facts.run_id)
            .bind(facts.branch_id)
            .bind(facts.ord)
            .bind(facts.started_at)
            .bind(s.n as i64)
            .bind(s.mean)
            .bind(s.median)
            .bind(s.min)
            .bind(s.max)
            .bind(s.stddev)
            .bind(r.iterations.map(|i| i.min(i64::MAX as u64) as i64))
            .bind(percentiles);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}

async fn insert_samples(dialect: Dialect, tx: &mut WriteTx, rows: &[Row<'_>]) -> Result<()> {
    let sql = format!(
        "INSERT INTO measurement_samples (run_id, series_id, samples) VALUES {}",
        values_rows(dialect, rows.len(), 3)
    );
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for (facts, r, sid) in rows {
        q = q
            .bind(facts.run_id)
            .bind(*sid)
            .bind(serde_json::to_string(&r.samples)?);
    }
    q.execute(&mut **tx).await?;
    Ok(())
}
