//! Queries of the comparison use case: which runs a side means, their samples, the
//! releases of a project and short permalinks.

use std::collections::HashMap;

use sha2::{Digest, Sha256};
use sqlx::{AssertSqlSafe, Row};

use super::{shaped_chunks, Store};
use crate::error::{Result, StoreError};
use crate::time::now_ms;

/// One run a side resolved to.
#[derive(Debug, Clone, PartialEq)]
pub struct SideRun {
    pub run_id: i64,
    pub started_at: i64,
    pub sha: Option<String>,
    pub branch: Option<String>,
    /// Why the run is invalid (`runs.invalid_reason`, migration 0015): a JSON array of
    /// reasons. An invalid run is shown on its side but left out of the verdict.
    pub invalid_reason: Option<String>,
}

/// One run's level (its median) of one series on the main branch.
#[derive(Debug, Clone, PartialEq)]
pub struct MainLevel {
    pub series_id: i64,
    pub run_id: i64,
    pub ord: Option<i64>,
    pub started_at: i64,
    pub median: f64,
    pub sha: Option<String>,
}

/// A release annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct ReleaseRow {
    pub name: String,
    pub at: i64,
    pub sha: Option<String>,
}

const RUN_COLUMNS: &str = "SELECT r.id, r.started_at, c.sha, b.name, r.invalid_reason FROM runs r
     LEFT JOIN commits c ON c.id = r.commit_id LEFT JOIN branches b ON b.id = r.branch_id";

/// `$1, $2, …, $n`.
fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn side_runs(rows: Vec<sqlx::any::AnyRow>) -> Result<Vec<SideRun>> {
    rows.iter()
        .map(|r| {
            Ok(SideRun {
                run_id: r.try_get("id")?,
                started_at: r.try_get("started_at")?,
                sha: r.try_get("sha")?,
                branch: r.try_get("name")?,
                invalid_reason: r.try_get("invalid_reason")?,
            })
        })
        .collect()
}

impl Store {
    /// Every run of the project at the commit whose sha starts with `prefix`. A prefix
    /// that matches two commits is rejected (naming the field `field`).
    pub async fn runs_at_commit(
        &self,
        project_id: i64,
        prefix: &str,
        field: &str,
    ) -> Result<Vec<SideRun>> {
        let like = format!("{}%", prefix.to_ascii_lowercase().replace(['%', '_'], ""));
        let shas: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT c.sha FROM commits c JOIN runs r ON r.commit_id = c.id
             WHERE c.project_id = $1 AND c.sha LIKE $2 LIMIT 2",
        )
        .bind(project_id)
        .bind(&like)
        .fetch_all(&self.pool)
        .await?;
        match shas.len() {
            0 => Err(StoreError::NotFound(format!(
                "results at commit '{prefix}'"
            ))),
            1 => self.runs_at_sha(project_id, &shas[0]).await,
            _ => Err(StoreError::invalid(
                field,
                format!("commit prefix '{prefix}' is ambiguous: give more digits"),
            )),
        }
    }

    async fn runs_at_sha(&self, project_id: i64, sha: &str) -> Result<Vec<SideRun>> {
        let sql = format!(
            "{RUN_COLUMNS} WHERE r.project_id = $1 AND c.sha = $2 ORDER BY r.started_at, r.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(project_id)
            .bind(sha)
            .fetch_all(&self.pool)
            .await?;
        side_runs(rows)
    }

    /// The head of a branch: every run at its latest commit (in branch order) that has
    /// results; a branch without commits gives its latest run.
    pub async fn runs_at_branch_head(&self, project_id: i64, branch: &str) -> Result<Vec<SideRun>> {
        let branch_id = self
            .branch_id(project_id, branch)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("branch '{branch}'")))?;
        let sha: Option<String> = sqlx::query_scalar(
            "SELECT c.sha FROM runs r JOIN commits c ON c.id = r.commit_id
             JOIN branch_commits bc ON bc.branch_id = r.branch_id AND bc.commit_id = r.commit_id
             WHERE r.branch_id = $1 ORDER BY bc.ord DESC, r.started_at DESC LIMIT 1",
        )
        .bind(branch_id)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(sha) = sha {
            return self.runs_at_sha(project_id, &sha).await;
        }
        let sql = format!(
            "{RUN_COLUMNS} WHERE r.branch_id = $1 ORDER BY r.started_at DESC, r.id DESC LIMIT 1"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(branch_id)
            .fetch_all(&self.pool)
            .await?;
        let runs = side_runs(rows)?;
        if runs.is_empty() {
            return Err(StoreError::NotFound(format!(
                "results on branch '{branch}'"
            )));
        }
        Ok(runs)
    }

    /// The time a branch started: its first commit's time (or, without one, the start
    /// of its first run).
    pub async fn branch_start_time(&self, project_id: i64, branch: &str) -> Result<Option<i64>> {
        let Some(branch_id) = self.branch_id(project_id, branch).await? else {
            return Ok(None);
        };
        let row = sqlx::query(
            "SELECT MIN(COALESCE(c.committed_at, r.started_at)) AS started FROM runs r
             LEFT JOIN commits c ON c.id = r.commit_id
             WHERE r.branch_id = $1",
        )
        .bind(branch_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get::<Option<i64>, _>("started")?)
    }

    /// Runs at the latest main-branch commit with valid results whose time (commit
    /// time, or run start without one) is at or before `at`.
    pub async fn runs_at_main_before(
        &self,
        project_id: i64,
        main_branch: &str,
        at: i64,
    ) -> Result<Vec<SideRun>> {
        let Some(main_id) = self.branch_id(project_id, main_branch).await? else {
            return Ok(vec![]);
        };
        let sha: Option<String> = sqlx::query_scalar(
            "SELECT c.sha FROM runs r JOIN commits c ON c.id = r.commit_id
             JOIN branch_commits bc ON bc.branch_id = r.branch_id AND bc.commit_id = r.commit_id
             WHERE r.branch_id = $1 AND COALESCE(c.committed_at, r.started_at) <= $2
               AND r.invalid_reason IS NULL
             ORDER BY bc.ord DESC LIMIT 1",
        )
        .bind(main_id)
        .bind(at)
        .fetch_optional(&self.pool)
        .await?;
        match sha {
            Some(sha) => self.runs_at_sha(project_id, &sha).await,
            None => Ok(vec![]),
        }
    }

    pub async fn run_of_project(&self, project_id: i64, run_id: i64) -> Result<Vec<SideRun>> {
        let sql = format!("{RUN_COLUMNS} WHERE r.project_id = $1 AND r.id = $2");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(project_id)
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        let runs = side_runs(rows)?;
        if runs.is_empty() {
            return Err(StoreError::NotFound(format!("run {run_id}")));
        }
        Ok(runs)
    }

    pub async fn runs_in_window(
        &self,
        project_id: i64,
        from: i64,
        to: i64,
    ) -> Result<Vec<SideRun>> {
        let sql = format!(
            "{RUN_COLUMNS} WHERE r.project_id = $1 AND r.started_at >= $2 AND r.started_at <= $3
             ORDER BY r.started_at, r.id"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(project_id)
            .bind(from)
            .bind(to)
            .fetch_all(&self.pool)
            .await?;
        side_runs(rows)
    }

    /// Release annotations of a project, oldest first.
    pub async fn releases(&self, project_id: i64) -> Result<Vec<ReleaseRow>> {
        let rows = sqlx::query(
            "SELECT a.name, a.at, c.sha FROM annotations a LEFT JOIN commits c ON c.id = a.commit_id
             WHERE a.project_id = $1 AND a.kind = 'release' ORDER BY a.at, a.id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReleaseRow {
                    name: r.try_get("name")?,
                    at: r.try_get("at")?,
                    sha: r.try_get("sha")?,
                })
            })
            .collect()
    }

    /// Pooled raw samples per series over `run_ids`.
    pub async fn pooled_samples(&self, run_ids: &[i64]) -> Result<HashMap<i64, Vec<f64>>> {
        let mut out: HashMap<i64, Vec<f64>> = HashMap::new();
        for chunk in shaped_chunks(run_ids, 200) {
            let list = (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "SELECT series_id, samples FROM measurement_samples WHERE run_id IN ({list}) ORDER BY run_id"
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                let samples: String = r.try_get("samples")?;
                let v: Vec<f64> = serde_json::from_str(&samples)?;
                out.entry(r.try_get("series_id")?).or_default().extend(v);
            }
        }
        Ok(out)
    }

    /// Every run level of every series of the project on branch `branch_id`, in
    /// commit order (then start time, run id) per series; invalid runs left out.
    pub async fn main_levels(&self, project_id: i64, branch_id: i64) -> Result<Vec<MainLevel>> {
        let rows = sqlx::query(
            "SELECT m.series_id, m.run_id, m.ord, m.started_at, m.median, c.sha
             FROM measurements m JOIN series s ON s.id = m.series_id JOIN runs r ON r.id = m.run_id
             LEFT JOIN commits c ON c.id = r.commit_id
             WHERE s.project_id = $1 AND m.branch_id = $2 AND r.invalid_reason IS NULL",
        )
        .bind(project_id)
        .bind(branch_id)
        .fetch_all(&self.pool)
        .await?;
        main_levels_from_rows(&rows)
    }

    /// The last `per_series` rows of [`Store::main_levels`] for each series, in the same
    /// order: what a comparison's noise estimate needs. The database picks them, so a
    /// comparison reads at most `per_series` rows per series however long the history
    /// (reading all of it made every comparison's memory grow with the data).
    pub async fn recent_main_levels(
        &self,
        project_id: i64,
        branch_id: i64,
        per_series: usize,
    ) -> Result<Vec<MainLevel>> {
        // The window's order is the reverse of main_levels' sort key, where a run
        // without a commit order (None) comes first; NULL placement differs between
        // the databases, hence the explicit CASE.
        let rows = sqlx::query(
            "SELECT series_id, run_id, ord, started_at, median, sha FROM (
                 SELECT m.series_id, m.run_id, m.ord, m.started_at, m.median, c.sha,
                        ROW_NUMBER() OVER (PARTITION BY m.series_id
                            ORDER BY CASE WHEN m.ord IS NULL THEN 1 ELSE 0 END,
                                     m.ord DESC, m.started_at DESC, m.run_id DESC) AS rn
                 FROM measurements m JOIN series s ON s.id = m.series_id JOIN runs r ON r.id = m.run_id
                 LEFT JOIN commits c ON c.id = r.commit_id
                 WHERE s.project_id = $1 AND m.branch_id = $2 AND r.invalid_reason IS NULL
             ) x WHERE rn <= $3",
        )
        .bind(project_id)
        .bind(branch_id)
        .bind(i64::try_from(per_series).unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await?;
        main_levels_from_rows(&rows)
    }

    /// Run levels (medians) per series over `run_ids`, in run-id order.
    pub async fn run_levels(&self, run_ids: &[i64]) -> Result<HashMap<i64, Vec<f64>>> {
        let mut rows: Vec<(i64, i64, f64)> = Vec::new();
        for chunk in shaped_chunks(run_ids, 200) {
            let sql = format!(
                "SELECT series_id, run_id, median FROM measurements WHERE run_id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                rows.push((
                    r.try_get("series_id")?,
                    r.try_get("run_id")?,
                    r.try_get("median")?,
                ));
            }
        }
        rows.sort_by_key(|r| (r.0, r.1));
        let mut out: HashMap<i64, Vec<f64>> = HashMap::new();
        for (series, _, median) in rows {
            out.entry(series).or_default().push(median);
        }
        Ok(out)
    }

    /// Raw samples per (series, run) over `run_ids`.
    pub async fn samples_by_run(&self, run_ids: &[i64]) -> Result<HashMap<(i64, i64), Vec<f64>>> {
        let mut out = HashMap::new();
        for chunk in shaped_chunks(run_ids, 200) {
            let sql = format!(
                "SELECT series_id, run_id, samples FROM measurement_samples WHERE run_id IN ({})",
                placeholders(chunk.len())
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for r in q.fetch_all(&self.pool).await? {
                let samples: String = r.try_get("samples")?;
                let v: Vec<f64> = serde_json::from_str(&samples)?;
                out.insert((r.try_get("series_id")?, r.try_get("run_id")?), v);
            }
        }
        Ok(out)
    }

    /// Stores a short permalink for a compare query; the same query gets the same id.
    pub async fn create_short_link(&self, project_id: i64, query: &str) -> Result<String> {
        let digest = Sha256::digest(format!("{project_id}\n{query}").as_bytes());
        let id = hex::encode(&digest[..5]);
        sqlx::query(
            "INSERT INTO short_links (id, project_id, query, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(&id)
        .bind(project_id)
        .bind(query)
        .bind(now_ms())
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    /// `(project slug, query)` of a short permalink.
    pub async fn short_link(&self, id: &str) -> Result<(String, String)> {
        let row = sqlx::query(
            "SELECT p.slug, s.query FROM short_links s JOIN projects p ON p.id = s.project_id
             WHERE s.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("short link '{id}'")))?;
        Ok((row.try_get("slug")?, row.try_get("query")?))
    }

    /// How many short permalinks exist (the rights tests prove a refused call made none).
    pub async fn short_link_count(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM short_links")
            .fetch_one(&self.pool)
            .await?)
    }
}

/// Rows of `series_id, run_id, ord, started_at, median, sha`, sorted here: one order
/// on both databases without a database-side sort.
fn main_levels_from_rows(rows: &[sqlx::any::AnyRow]) -> Result<Vec<MainLevel>> {
    let mut out = rows
        .iter()
        .map(|r| {
            Ok(MainLevel {
                series_id: r.try_get("series_id")?,
                run_id: r.try_get("run_id")?,
                ord: r.try_get("ord")?,
                started_at: r.try_get("started_at")?,
                median: r.try_get("median")?,
                sha: r.try_get("sha")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|l| (l.series_id, l.ord, l.started_at, l.run_id));
    Ok(out)
}
