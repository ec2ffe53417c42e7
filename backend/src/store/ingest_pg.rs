//! A run on PostgreSQL: its commit and the commit's order on the branch in a short
//! transaction of their own, then the run, its measurements and samples in one
//! statement.
//!
//! Why: several servers share a PostgreSQL database, and every run of a branch takes
//! that branch's row lock before it orders a new commit (two runs must not take the
//! same order). Written statement by statement in the run's transaction, a run held the
//! lock for six round trips and two 1,300-parameter inserts (~4 ms); in one statement
//! it still held it while the run's 200 rows were written, so runs of one branch went
//! one at a time at any number of clients or servers. Now the lock is held only inside
//! one function call, `perfwatch_order_commit` (migration 0017, which says why it reads
//! the order correctly), in its own transaction ([`Store::order_commit`]), and the
//! run's own transaction takes no lock another run waits for long. The measurements
//! travel as one JSON parameter
//! (`json_to_recordset`; sqlx's `Any` driver binds no arrays), which PostgreSQL parses
//! faster than it binds 1,300 parameters, and the duplicate check is the run insert's
//! own `ON CONFLICT DO NOTHING`.

use perfwatch_core::model::CommitInput;
use perfwatch_core::validate::ValidRun;
use std::sync::LazyLock;

use serde::Serialize;
use sqlx::Row;

use super::id_cache::Ids;
use super::ingest::branch_of;
use super::{IngestOptions, Store, WriteTx};
use crate::error::{Result, StoreError};
use crate::time::{now_ms, to_ms};

/// What a run's statement needs besides the run itself.
pub(crate) struct PgRun<'a> {
    pub project_id: i64,
    pub testbed_id: i64,
    pub branch_id: Option<i64>,
    pub started_at: i64,
    pub run: &'a ValidRun,
    pub series_ids: &'a [i64],
    /// The run's commit, already ordered on its branch.
    pub ordered: Option<Ordered>,
}

/// A commit ordered on a branch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ordered {
    pub commit_id: i64,
    pub ord: i64,
}

/// The run's branch (inserted when new), its commit (details filled where missing) and
/// the commit's order on the branch, in one call that is its own transaction
/// (migration 0017 has the function and why).
const ORDER_COMMIT: &str =
    "SELECT o_branch, o_commit, o_ord FROM perfwatch_order_commit($1, $2, $3, $4, $5, $6, $7)";

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

/// The run insert; `o` holds the commit's id and order (or NULLs).
const RUN: &str = "
    r AS (
        INSERT INTO runs (project_id, branch_id, commit_id, testbed_id, run_key, started_at,
                          finished_at, trigger_kind, metadata, created_at)
        SELECT $1, $3, o.commit_id, $2, $4, $5, $6, $7, $8, $9 FROM o
        ON CONFLICT (project_id, run_key) DO NOTHING
        RETURNING id
    ),";

/// The run statement of a run at a commit ordered on its branch (`$11` the commit,
/// `$12` its order), and of a run without a commit.
static AT_COMMIT: LazyLock<String> = LazyLock::new(|| {
    format!("WITH o AS (SELECT $11::bigint AS commit_id, $12::bigint AS ord),{RUN}{ROWS}")
});
static WITHOUT_COMMIT: LazyLock<String> = LazyLock::new(|| {
    format!("WITH o AS (SELECT NULL::bigint AS commit_id, NULL::bigint AS ord),{RUN}{ROWS}")
});

/// Writes the run's rows and returns the run's id; a run at a commit must come with
/// the commit's order ([`Store::order_commit`]). `None` when a run with the same key
/// exists: nothing was written.
pub(crate) async fn write_rows(tx: &mut WriteTx, w: &PgRun<'_>) -> Result<Option<i64>> {
    let sql: &str = match (&w.run.commit, w.ordered) {
        (_, Some(_)) => &AT_COMMIT,
        (None, None) => &WITHOUT_COMMIT,
        (Some(_), None) => {
            return Err(StoreError::invalid(
                "commit",
                "must be ordered on its branch before the run is written",
            ))
        }
    };
    let json = measurements_json(w.run, w.series_ids)?;
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
    if let Some(o) = w.ordered {
        q = q.bind(o.commit_id).bind(o.ord);
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

impl Store {
    /// PostgreSQL: the run's commit and its order on the branch, before and apart from
    /// the run's own transaction, in one call (`perfwatch_order_commit`).
    ///
    /// Why apart from the run: two runs of a branch must not take the same order, so
    /// ordering a new commit takes the branch's row lock; taken in the run's
    /// transaction, it was held while the run's 200 rows were written, and every run of
    /// a branch waited for the one before it, at any number of clients or servers. The
    /// cost of the split: a run whose own transaction then fails leaves its commit on
    /// the branch without runs, as a commit nobody benchmarked is (a retry finds it
    /// there and keeps its order).
    pub(super) async fn order_commit(
        &self,
        run: &ValidRun,
        opts: &IngestOptions,
    ) -> Result<Ordered> {
        let commit = run
            .commit
            .as_ref()
            .ok_or_else(|| StoreError::invalid("commit", "required to order a commit"))?;
        let (project_id, main_branch) = self.project_to_order_in(run, opts).await?;
        let branch = branch_of(run, &main_branch).unwrap_or(main_branch);
        let q = sqlx::query(ORDER_COMMIT)
            .bind(project_id)
            .bind(branch.clone());
        let row = bind_commit(q, commit).fetch_one(&self.pool).await?;
        let mut learned = Ids::default();
        learned
            .branches
            .insert((project_id, branch), row.try_get("o_branch")?);
        self.ids.learn(learned);
        Ok(Ordered {
            commit_id: row.try_get("o_commit")?,
            ord: row.try_get("o_ord")?,
        })
    }

    /// The run's project: known ids from the cache, else found (or created, when
    /// allowed) in a transaction of its own.
    async fn project_to_order_in(
        &self,
        run: &ValidRun,
        opts: &IngestOptions,
    ) -> Result<(i64, String)> {
        if let Some(known) = self.ids.read(|i| i.projects.get(&run.project).cloned()) {
            return Ok(known);
        }
        let mut learned = Ids::default();
        let mut tx = self.begin_write().await?;
        match self
            .project_for_ingest(&mut tx, &run.project, opts, &mut learned)
            .await
        {
            Ok(known) => {
                tx.commit().await?;
                self.ids.learn(learned);
                Ok(known)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }
}
