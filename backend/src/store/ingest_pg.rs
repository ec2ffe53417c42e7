//! The rows of one run on PostgreSQL in one statement: commit, its order on the
//! branch, the run, its measurements and samples.
//!
//! Why: several servers share a PostgreSQL database, and every run of a branch takes
//! that branch's row lock before it orders its commit (two runs must not take the same
//! order). Written statement by statement, a run held the lock for six round trips and
//! two 1,300-parameter inserts (~4 ms), so runs of one branch went one at a time at any
//! number of clients or servers. Here the lock is taken by the statement before this
//! one (so this statement's snapshot sees the order the previous holder committed) and
//! held for this statement and the commit only; the measurements travel as one JSON
//! parameter (`json_to_recordset`; sqlx's `Any` driver binds no arrays), which
//! PostgreSQL parses faster than it binds 1,300 parameters, and the duplicate check is
//! the run insert's own `ON CONFLICT DO NOTHING`.

use perfwatch_core::model::CommitInput;
use perfwatch_core::validate::ValidRun;
use serde::Serialize;
use sqlx::Row;

use super::WriteTx;
use crate::error::Result;
use crate::time::{now_ms, to_ms};

/// What a run's statement needs besides the run itself.
pub(crate) struct PgRun<'a> {
    pub project_id: i64,
    pub testbed_id: i64,
    pub branch_id: Option<i64>,
    pub started_at: i64,
    pub run: &'a ValidRun,
    pub series_ids: &'a [i64],
}

/// One measurement as `json_to_recordset` reads it (the names are its column names).
#[derive(Serialize)]
struct MeasurementJson {
    s: i64,
    n: i64,
    mean: f64,
    median: f64,
    min: f64,
    max: f64,
    sd: f64,
    it: Option<i64>,
    /// Percentiles and samples as the JSON text the columns hold (as on SQLite).
    p: Option<String>,
    x: String,
}

fn measurements_json(run: &ValidRun, series_ids: &[i64]) -> Result<String> {
    let rows = run
        .results
        .iter()
        .zip(series_ids)
        .map(|(r, &s)| {
            Ok(MeasurementJson {
                s,
                n: r.summary.n as i64,
                mean: r.summary.mean,
                median: r.summary.median,
                min: r.summary.min,
                max: r.summary.max,
                sd: r.summary.stddev,
                it: r.iterations.map(|i| i.min(i64::MAX as u64) as i64),
                p: if r.percentiles.is_empty() {
                    None
                } else {
                    Some(serde_json::to_string(&r.percentiles)?)
                },
                x: serde_json::to_string(&r.samples)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::to_string(&rows)?)
}

/// The measurement and sample inserts, reading `r` (the run) and `o` (the order).
const ROWS: &str = "
    m AS (
        INSERT INTO measurements (series_id, run_id, branch_id, ord, started_at, n, mean,
                                  median, min, max, stddev, iterations, percentiles)
        SELECT x.s, r.id, $3, o.ord, $5, x.n, x.mean, x.median, x.min, x.max, x.sd, x.it, x.p
        FROM r, o, json_to_recordset($10::json) AS x(s bigint, n bigint, mean float8,
             median float8, min float8, max float8, sd float8, it bigint, p text)
    ),
    s AS (
        INSERT INTO measurement_samples (run_id, series_id, samples)
        SELECT r.id, x.s, x.x FROM r, json_to_recordset($10::json) AS x(s bigint, x text)
    )
    SELECT r.id FROM r";

/// The run insert; `$11` is the commit id (from `c`) or NULL.
const RUN: &str = "
    r AS (
        INSERT INTO runs (project_id, branch_id, commit_id, testbed_id, run_key, started_at,
                          finished_at, trigger_kind, metadata, created_at)
        SELECT $1, $3, COMMIT_ID, $2, $4, $5, $6, $7, $8, $9 FROM ONE_ROW
        ON CONFLICT (project_id, run_key) DO NOTHING
        RETURNING id
    ),";

/// Writes the run's rows and returns the run's id; the branch row must already be
/// locked by this transaction when the run has a commit (its order is taken here).
/// `None` when a run with the same key exists: the caller rolls back, since the commit
/// rows written here must not stay.
pub(crate) async fn write_rows(tx: &mut WriteTx, w: &PgRun<'_>) -> Result<Option<i64>> {
    let json = measurements_json(w.run, w.series_ids)?;
    let sql = match &w.run.commit {
        Some(_) => format!(
            "WITH c AS (
                INSERT INTO commits (project_id, sha, parent_sha, author, message, committed_at)
                VALUES ($1, $11, $12, $13, $14, $15)
                ON CONFLICT (project_id, sha) DO UPDATE SET
                  parent_sha = COALESCE(commits.parent_sha, excluded.parent_sha),
                  author = COALESCE(commits.author, excluded.author),
                  message = COALESCE(commits.message, excluded.message),
                  committed_at = COALESCE(commits.committed_at, excluded.committed_at)
                RETURNING id
            ),
            o AS (
                INSERT INTO branch_commits (branch_id, commit_id, ord)
                SELECT $3, c.id,
                       (SELECT COALESCE(MAX(ord), 0) + 1 FROM branch_commits WHERE branch_id = $3)
                FROM c
                ON CONFLICT (branch_id, commit_id) DO UPDATE SET ord = branch_commits.ord
                RETURNING ord
            ),{}{}",
            RUN.replace("COMMIT_ID", "c.id").replace("ONE_ROW", "c"),
            ROWS
        ),
        None => format!(
            "WITH o AS (SELECT NULL::bigint AS ord),{}{}",
            RUN.replace("COMMIT_ID", "NULL::bigint")
                .replace("ONE_ROW", "o"),
            ROWS
        ),
    };
    let run = w.run;
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(w.project_id)
        .bind(w.testbed_id)
        .bind(w.branch_id)
        .bind(run.run_key.clone())
        .bind(w.started_at)
        .bind(run.finished_at.map(to_ms))
        .bind(run.trigger.clone())
        .bind(serde_json::Value::Object(run.metadata.clone()).to_string())
        .bind(now_ms())
        .bind(json);
    if let Some(c) = &run.commit {
        q = bind_commit(q, c);
    }
    let row = q.fetch_optional(&mut **tx).await?;
    Ok(match row {
        Some(row) => Some(row.try_get("id")?),
        None => None,
    })
}

fn bind_commit<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    c: &CommitInput,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(c.sha.to_ascii_lowercase())
        .bind(c.parent.as_ref().map(|p| p.to_ascii_lowercase()))
        .bind(c.author.clone())
        .bind(c.message.clone())
        .bind(c.time.map(to_ms))
}
