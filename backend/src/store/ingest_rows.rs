//! SQLite: the measurement and sample rows of one run or of a whole batch of runs, in
//! multi-row inserts.
//!
//! Why whole batches: every statement is a round trip to sqlx's SQLite worker thread
//! and back (two thread wake-ups), and a profile of the server during the ingest
//! bench showed more time in those wake-ups than in SQLite. Runs written together
//! (`ingest_batch.rs`) therefore insert their measurements in one statement per
//! 256 rows and their samples likewise, instead of two statements per run; each in
//! its table's key order, so rows that land on one page go in together. On SQLite the
//! two inserts of a chunk travel in one call.

use std::sync::OnceLock;

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
    let rows: Vec<Row<'_>> = runs
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
    let mut by_series = rows.clone();
    by_series.sort_by_key(|(facts, _, sid)| (*sid, facts.run_id));
    let mut by_run = rows;
    by_run.sort_by_key(|(facts, _, sid)| (facts.run_id, *sid));
    // `shaped_chunks` cuts by length alone, so the two orders give chunks of equal
    // sizes, pair by pair.
    let chunks = shaped_chunks(&by_series, CHUNK).zip(shaped_chunks(&by_run, CHUNK));
    for (measurements, samples) in chunks {
        match dialect {
            // One call into the writer's connection for both tables: sqlx runs the
            // two statements in turn, binding the anonymous parameters in order.
            Dialect::Sqlite => {
                let q = sqlx::query(sqlite_rows_sql(measurements.len()));
                let q = bind_samples(bind_measurements(q, measurements)?, samples)?;
                q.execute(&mut **tx).await?;
            }
            Dialect::Postgres => {
                let sql = format!(
                    "{MEASUREMENTS} {}",
                    values_rows(dialect, measurements.len(), 13)
                );
                bind_measurements(sqlx::query(AssertSqlSafe(sql)), measurements)?
                    .execute(&mut **tx)
                    .await?;
                let sql = format!("{SAMPLES} {}", values_rows(dialect, samples.len(), 3));
                bind_samples(sqlx::query(AssertSqlSafe(sql)), samples)?
                    .execute(&mut **tx)
                    .await?;
            }
        }
    }
    Ok(())
}

const MEASUREMENTS: &str =
    "INSERT INTO measurements (series_id, run_id, branch_id, ord, started_at, n, mean, median,
                               min, max, stddev, iterations, percentiles) VALUES";
const SAMPLES: &str = "INSERT INTO measurement_samples (run_id, series_id, samples) VALUES";

/// The SQLite text for `rows` measurement rows and `rows` sample rows, built once per
/// size (sizes are powers of two up to `CHUNK`, `shaped_chunks`): the text of 256 rows
/// is some 10 KB, formatted and then hashed by sqlx's statement cache on every call.
fn sqlite_rows_sql(rows: usize) -> &'static str {
    const SIZES: usize = CHUNK.trailing_zeros() as usize + 1;
    static SQL: [OnceLock<String>; SIZES] = [const { OnceLock::new() }; SIZES];
    debug_assert!(rows.is_power_of_two() && rows <= CHUNK);
    SQL[rows.trailing_zeros() as usize].get_or_init(|| {
        format!(
            "{MEASUREMENTS} {}; {SAMPLES} {}",
            values_rows(Dialect::Sqlite, rows, 13),
            values_rows(Dialect::Sqlite, rows, 3)
        )
    })
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>;

fn bind_measurements<'q>(mut q: Query<'q>, rows: &[Row<'_>]) -> Result<Query<'q>> {
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
    Ok(q)
}

fn bind_samples<'q>(mut q: Query<'q>, rows: &[Row<'_>]) -> Result<Query<'q>> {
    for (facts, r, sid) in rows {
        q = q
            .bind(facts.run_id)
            .bind(*sid)
            .bind(serde_json::to_string(&r.samples)?);
    }
    Ok(q)
}
