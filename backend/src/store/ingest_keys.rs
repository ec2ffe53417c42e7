//! Resolving a run's keys while it is stored: its project (created when allowed), its
//! branch, its measures and its series, each found or created in the run's transaction.

use std::collections::{BTreeSet, HashMap};

use perfwatch_core::validate::ValidRun;
use sqlx::{AssertSqlSafe, Row};

use super::id_cache::{Ids, SeriesKey};
use super::ingest::{upsert_branch, IngestOptions, SERIES_CHUNK};
use super::{shaped_chunks, values_rows, Store, WriteTx};
use crate::error::{Result, StoreError};
use crate::time::now_ms;

impl Store {
    pub(super) async fn branch_for_ingest(
        &self,
        tx: &mut WriteTx,
        project_id: i64,
        name: &str,
        learned: &mut Ids,
    ) -> Result<i64> {
        if let Some(id) = self
            .ids
            .read(|i| i.branches.get(&(project_id, name.to_string())).copied())
        {
            return Ok(id);
        }
        let id = upsert_branch(tx, project_id, name).await?;
        learned.branches.insert((project_id, name.to_string()), id);
        Ok(id)
    }

    pub(super) async fn project_for_ingest(
        &self,
        tx: &mut WriteTx,
        slug: &str,
        opts: &IngestOptions,
        learned: &mut Ids,
    ) -> Result<(i64, String)> {
        let (id, main) = match self.ids.read(|i| i.projects.get(slug).cloned()) {
            Some(known) => known,
            None => {
                let known = self.find_or_create_project(tx, slug, opts).await?;
                learned.projects.insert(slug.to_string(), known.clone());
                known
            }
        };
        Ok((id, main))
    }

    pub(super) async fn find_or_create_project(
        &self,
        tx: &mut WriteTx,
        slug: &str,
        opts: &IngestOptions,
    ) -> Result<(i64, String)> {
        let row = sqlx::query("SELECT id, main_branch FROM projects WHERE slug = $1")
            .bind(slug)
            .fetch_optional(&mut **tx)
            .await?;
        match row {
            Some(r) => Ok((r.try_get::<i64, _>("id")?, r.try_get::<String, _>("main_branch")?)),
            None if opts.auto_create_project => {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO projects (slug, name, main_branch, created_at) VALUES ($1, $1, 'main', $2)
                     ON CONFLICT (slug) DO UPDATE SET slug = excluded.slug RETURNING id",
                )
                .bind(slug)
                .bind(now_ms())
                .fetch_one(&mut **tx)
                .await?;
                Ok((id, "main".to_string()))
            }
            None => Err(StoreError::invalid(
                "project",
                format!(
                    "unknown project '{slug}': create it first (`perfwatch project add {slug}` or POST /api/v1/projects)"
                ),
            )),
        }
    }

    pub(super) async fn measures_for_ingest(
        &self,
        tx: &mut WriteTx,
        project_id: i64,
        run: &ValidRun,
        learned: &mut Ids,
    ) -> Result<HashMap<(String, String), i64>> {
        let mut out = HashMap::new();
        let distinct: BTreeSet<(&str, &str)> = run
            .results
            .iter()
            .map(|r| (r.measure.as_str(), r.unit.as_str()))
            .collect();
        for (measure, unit) in distinct {
            let key = (project_id, measure.to_string(), unit.to_string());
            let id = match self.ids.read(|i| i.measures.get(&key).copied()) {
                Some(id) => id,
                None => {
                    let r = run
                        .results
                        .iter()
                        .find(|r| r.measure == measure && r.unit == unit)
                        .expect("taken from the results");
                    // The first submission fixes the direction and display unit of a
                    // measure. Insert-or-nothing, then read (no row lock: see testbeds).
                    sqlx::query(
                        "INSERT INTO measures (project_id, name, unit, display_unit, direction) VALUES ($1, $2, $3, $4, $5)
                         ON CONFLICT (project_id, name, unit) DO NOTHING",
                    )
                    .bind(project_id)
                    .bind(measure)
                    .bind(unit)
                    .bind(&r.display_unit)
                    .bind(r.direction.as_str())
                    .execute(&mut **tx)
                    .await?;
                    let id: i64 = sqlx::query_scalar(
                        "SELECT id FROM measures WHERE project_id = $1 AND name = $2 AND unit = $3",
                    )
                    .bind(project_id)
                    .bind(measure)
                    .bind(unit)
                    .fetch_one(&mut **tx)
                    .await?;
                    learned.measures.insert(key, id);
                    id
                }
            };
            out.insert((measure.to_string(), unit.to_string()), id);
        }
        Ok(out)
    }

    /// Finds or creates every series of the run, returning their ids in result order.
    /// Known series cost nothing; only the new ones are written.
    pub(super) async fn series_for_ingest(
        &self,
        tx: &mut WriteTx,
        project_id: i64,
        testbed_id: i64,
        run: &ValidRun,
        measure_ids: &HashMap<(String, String), i64>,
        learned: &mut Ids,
    ) -> Result<Vec<i64>> {
        let keys: Vec<SeriesKey> = run
            .results
            .iter()
            .map(|r| {
                let mid = measure_ids[&(r.measure.clone(), r.unit.clone())];
                (testbed_id, r.benchmark.clone(), mid, r.params_key.clone())
            })
            .collect();
        let mut ids: Vec<Option<i64>> = self
            .ids
            .read(|i| keys.iter().map(|k| i.series.get(k).copied()).collect());
        let mut missing: Vec<usize> = (0..keys.len()).filter(|&i| ids[i].is_none()).collect();
        // In key order, so two PostgreSQL transactions inserting the same new series
        // wait for each other in one direction and never deadlock.
        missing.sort_by(|&a, &b| keys[a].cmp(&keys[b]));
        if !missing.is_empty() {
            // Insert-or-nothing (no row locks, see testbeds), then read every series of
            // the testbed: a miss is rare (a new testbed or benchmark), and the read
            // fills the cache for the runs that follow.
            for chunk in shaped_chunks(&missing, SERIES_CHUNK) {
                let sql = format!(
                    "INSERT INTO series (project_id, testbed_id, benchmark, measure_id, params) VALUES {}
                     ON CONFLICT (project_id, testbed_id, benchmark, measure_id, params) DO NOTHING",
                    values_rows(self.dialect(), chunk.len(), 5)
                );
                let mut q = sqlx::query(AssertSqlSafe(sql));
                for &i in chunk {
                    let (_, benchmark, mid, params) = &keys[i];
                    q = q
                        .bind(project_id)
                        .bind(testbed_id)
                        .bind(benchmark)
                        .bind(*mid)
                        .bind(params);
                }
                q.execute(&mut **tx).await?;
            }
            let rows = sqlx::query(
                "SELECT id, benchmark, measure_id, params FROM series WHERE project_id = $1 AND testbed_id = $2",
            )
            .bind(project_id)
            .bind(testbed_id)
            .fetch_all(&mut **tx)
            .await?;
            let mut all: std::collections::HashMap<SeriesKey, i64> =
                std::collections::HashMap::with_capacity(rows.len());
            for row in rows {
                let key: SeriesKey = (
                    testbed_id,
                    row.try_get("benchmark")?,
                    row.try_get("measure_id")?,
                    row.try_get("params")?,
                );
                all.insert(key, row.try_get("id")?);
            }
            for &i in &missing {
                ids[i] = all.get(&keys[i]).copied();
            }
            learned.series.extend(all);
        }
        ids.into_iter()
            .zip(&run.results)
            .map(|(id, r)| {
                id.ok_or_else(|| {
                    StoreError::Data(format!("series for '{}' not returned", r.benchmark))
                })
            })
            .collect()
    }
}
