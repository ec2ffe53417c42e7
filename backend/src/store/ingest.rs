//! Storing a validated run: all of it in one transaction, or nothing.

use std::collections::{BTreeSet, HashMap};

use perfwatch_core::validate::ValidRun;
use sqlx::{Any, AssertSqlSafe, Row, Transaction};

use super::{is_unique_violation, values_rows, Store};
use crate::error::{Result, StoreError};
use crate::time::{now_ms, to_ms};

/// How a submission may touch projects.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// Create the project when its slug is unknown (server flag `--auto-create-projects`).
    pub auto_create_project: bool,
    /// The project the submitting token is limited to, if any.
    pub token_project: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    pub run_id: i64,
    pub project_id: i64,
    pub project: String,
    /// A run with the same key existed: nothing was written.
    pub duplicate: bool,
    pub series_ids: Vec<i64>,
    /// Whether the run is on the project's main branch (detection runs after those).
    pub on_main_branch: bool,
    pub branch_id: Option<i64>,
}

const SERIES_CHUNK: usize = 50;
const MEASUREMENT_CHUNK: usize = 25;

impl Store {
    pub async fn store_run(&self, run: &ValidRun, opts: &IngestOptions) -> Result<StoredRun> {
        let mut tx = self.begin_write().await?;
        let (project_id, main_branch) =
            self.project_for_ingest(&mut tx, &run.project, opts).await?;
        if let Some(key) = &run.run_key {
            if let Some(existing) = existing_run(&mut tx, project_id, key).await? {
                tx.rollback().await?;
                return Ok(StoredRun {
                    run_id: existing,
                    project_id,
                    project: run.project.clone(),
                    duplicate: true,
                    series_ids: vec![],
                    on_main_branch: false,
                    branch_id: None,
                });
            }
        }
        let testbed_id: i64 = sqlx::query_scalar(
            "INSERT INTO testbeds (project_id, name) VALUES ($1, $2)
             ON CONFLICT (project_id, name) DO UPDATE SET name = excluded.name RETURNING id",
        )
        .bind(project_id)
        .bind(&run.testbed)
        .fetch_one(&mut *tx)
        .await?;

        let branch_name = match (&run.branch, &run.commit) {
            (Some(b), _) => Some(b.clone()),
            (None, Some(_)) => Some(main_branch.clone()),
            (None, None) => None,
        };
        let branch_id = match &branch_name {
            Some(b) => Some(upsert_branch(&mut tx, project_id, b).await?),
            None => None,
        };
        let commit_id = match (&run.commit, branch_id) {
            (Some(c), Some(bid)) => {
                let cid: i64 = sqlx::query_scalar(
                    "INSERT INTO commits (project_id, sha, parent_sha, author, message, committed_at)
                     VALUES ($1, $2, $3, $4, $5, $6)
                     ON CONFLICT (project_id, sha) DO UPDATE SET
                       parent_sha = COALESCE(commits.parent_sha, excluded.parent_sha),
                       author = COALESCE(commits.author, excluded.author),
                       message = COALESCE(commits.message, excluded.message),
                       committed_at = COALESCE(commits.committed_at, excluded.committed_at)
                     RETURNING id",
                )
                .bind(project_id)
                .bind(c.sha.to_ascii_lowercase())
                .bind(c.parent.as_ref().map(|p| p.to_ascii_lowercase()))
                .bind(c.author.clone())
                .bind(c.message.clone())
                .bind(c.time.map(to_ms))
                .fetch_one(&mut *tx)
                .await?;
                // Commits take the next order on their branch when first seen there. The
                // branch upsert above locks the branch row (PostgreSQL), so two runs on one
                // branch cannot take the same order.
                sqlx::query(
                    "INSERT INTO branch_commits (branch_id, commit_id, ord)
                     SELECT $1, $2, COALESCE(MAX(ord), 0) + 1 FROM branch_commits WHERE branch_id = $1
                     ON CONFLICT (branch_id, commit_id) DO NOTHING",
                )
                .bind(bid)
                .bind(cid)
                .execute(&mut *tx)
                .await?;
                Some(cid)
            }
            _ => None,
        };
        let started_at = run
            .started_at
            .or_else(|| run.commit.as_ref().and_then(|c| c.time))
            .map(to_ms)
            .unwrap_or_else(now_ms);
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO runs (project_id, branch_id, commit_id, testbed_id, run_key, started_at,
                               finished_at, trigger_kind, metadata, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        )
        .bind(project_id)
        .bind(branch_id)
        .bind(commit_id)
        .bind(testbed_id)
        .bind(run.run_key.clone())
        .bind(started_at)
        .bind(run.finished_at.map(to_ms))
        .bind(run.trigger.clone())
        .bind(serde_json::Value::Object(run.metadata.clone()).to_string())
        .bind(now_ms())
        .fetch_one(&mut *tx)
        .await;
        let run_id = match inserted {
            Ok(id) => id,
            Err(e) if is_unique_violation(&e) => {
                // Another submission with the same key won the race: report it as a duplicate.
                tx.rollback().await?;
                let key = run.run_key.clone().unwrap_or_default();
                let existing = existing_run_pool(self, project_id, &key).await?;
                return Ok(StoredRun {
                    run_id: existing.unwrap_or_default(),
                    project_id,
                    project: run.project.clone(),
                    duplicate: true,
                    series_ids: vec![],
                    on_main_branch: false,
                    branch_id: None,
                });
            }
            Err(e) => return Err(e.into()),
        };

        let measure_ids = upsert_measures(&mut tx, project_id, run).await?;
        let series_ids = upsert_series(&mut tx, project_id, testbed_id, run, &measure_ids).await?;
        insert_measurements(&mut tx, run_id, run, &series_ids).await?;
        tx.commit().await?;
        Ok(StoredRun {
            run_id,
            project_id,
            project: run.project.clone(),
            duplicate: false,
            series_ids,
            on_main_branch: branch_name.as_deref() == Some(main_branch.as_str()),
            branch_id,
        })
    }

    async fn project_for_ingest(
        &self,
        tx: &mut Transaction<'static, Any>,
        slug: &str,
        opts: &IngestOptions,
    ) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT id, main_branch FROM projects WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut **tx)
            .await?;
        let (id, main) = match row {
            Some(r) => (r.try_get::<i64, _>(0)?, r.try_get::<String, _>(1)?),
            None if opts.auto_create_project && opts.token_project.is_none() => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO projects (slug, name, main_branch, created_at) VALUES ($1, $1, 'main', $2)
                     ON CONFLICT (slug) DO UPDATE SET slug = excluded.slug RETURNING id",
                )
                .bind(slug)
                .bind(now_ms())
                .fetch_one(&mut **tx)
                .await?;
                (id, "main".to_string())
            }
            None => {
                return Err(StoreError::invalid(
                    "project",
                    format!(
                        "unknown project '{slug}': create it first (`perfwatch project add {slug}` or POST /api/v1/projects)"
                    ),
                ))
            }
        };
        if let Some(scope) = opts.token_project {
            if scope != id {
                return Err(StoreError::Forbidden(format!(
                    "this token may not submit to project '{slug}'"
                )));
            }
        }
        Ok((id, main))
    }
}

async fn existing_run(
    tx: &mut Transaction<'static, Any>,
    project_id: i64,
    key: &str,
) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM runs WHERE project_id = $1 AND run_key = $2")
            .bind(project_id)
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?,
    )
}

async fn existing_run_pool(store: &Store, project_id: i64, key: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar("SELECT id FROM runs WHERE project_id = $1 AND run_key = $2")
            .bind(project_id)
            .bind(key)
            .fetch_optional(&store.pool)
            .await?,
    )
}

pub(crate) async fn upsert_branch(
    tx: &mut Transaction<'static, Any>,
    project_id: i64,
    name: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO branches (project_id, name) VALUES ($1, $2)
         ON CONFLICT (project_id, name) DO UPDATE SET name = excluded.name RETURNING id",
    )
    .bind(project_id)
    .bind(name)
    .fetch_one(&mut **tx)
    .await?)
}

async fn upsert_measures(
    tx: &mut Transaction<'static, Any>,
    project_id: i64,
    run: &ValidRun,
) -> Result<HashMap<(String, String), i64>> {
    let mut out = HashMap::new();
    let distinct: BTreeSet<(&str, &str)> = run
        .results
        .iter()
        .map(|r| (r.measure.as_str(), r.unit.as_str()))
        .collect();
    for (measure, unit) in distinct {
        let r = run
            .results
            .iter()
            .find(|r| r.measure == measure && r.unit == unit)
            .expect("taken from the results");
        // The first submission fixes the direction and display unit of a measure.
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO measures (project_id, name, unit, display_unit, direction) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (project_id, name, unit) DO UPDATE SET unit = excluded.unit RETURNING id",
        )
        .bind(project_id)
        .bind(measure)
        .bind(unit)
        .bind(&r.display_unit)
        .bind(r.direction.as_str())
        .fetch_one(&mut **tx)
        .await?;
        out.insert((measure.to_string(), unit.to_string()), id);
    }
    Ok(out)
}

/// Finds or creates every series of the run, returning their ids in result order.
async fn upsert_series(
    tx: &mut Transaction<'static, Any>,
    project_id: i64,
    testbed_id: i64,
    run: &ValidRun,
    measure_ids: &HashMap<(String, String), i64>,
) -> Result<Vec<i64>> {
    let mut ids: HashMap<(String, i64, String), i64> = HashMap::with_capacity(run.results.len());
    for chunk in run.results.chunks(SERIES_CHUNK) {
        let sql = format!(
            "INSERT INTO series (project_id, testbed_id, benchmark, measure_id, params) VALUES {}
             ON CONFLICT (project_id, testbed_id, benchmark, measure_id, params)
             DO UPDATE SET params = excluded.params
             RETURNING id, benchmark, measure_id, params",
            values_rows(chunk.len(), 5)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            let mid = measure_ids[&(r.measure.clone(), r.unit.clone())];
            q = q
                .bind(project_id)
                .bind(testbed_id)
                .bind(&r.benchmark)
                .bind(mid)
                .bind(&r.params_key);
        }
        for row in q.fetch_all(&mut **tx).await? {
            ids.insert(
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?),
                row.try_get(0)?,
            );
        }
    }
    run.results
        .iter()
        .map(|r| {
            let mid = measure_ids[&(r.measure.clone(), r.unit.clone())];
            ids.get(&(r.benchmark.clone(), mid, r.params_key.clone()))
                .copied()
                .ok_or_else(|| {
                    StoreError::Data(format!("series for '{}' not returned", r.benchmark))
                })
        })
        .collect()
}

async fn insert_measurements(
    tx: &mut Transaction<'static, Any>,
    run_id: i64,
    run: &ValidRun,
    series_ids: &[i64],
) -> Result<()> {
    let rows: Vec<_> = run.results.iter().zip(series_ids).collect();
    for chunk in rows.chunks(MEASUREMENT_CHUNK) {
        let sql = format!(
            "INSERT INTO measurements (run_id, series_id, n, mean, median, min, max, stddev, iterations,
                                       percentiles, samples) VALUES {}",
            values_rows(chunk.len(), 11)
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (r, sid) in chunk {
            let s = &r.summary;
            let percentiles = if r.percentiles.is_empty() {
                None
            } else {
                Some(serde_json::to_string(&r.percentiles)?)
            };
            q = q
                .bind(run_id)
                .bind(**sid)
                .bind(s.n as i64)
                .bind(s.mean)
                .bind(s.median)
                .bind(s.min)
                .bind(s.max)
                .bind(s.stddev)
                .bind(r.iterations.map(|i| i.min(i64::MAX as u64) as i64))
                .bind(percentiles)
                .bind(serde_json::to_string(&r.samples)?);
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
