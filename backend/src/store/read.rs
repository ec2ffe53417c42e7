//! Read queries for the API and the pages.

use std::collections::HashMap;

use perfwatch_core::validity::reason_text;
use perfwatch_core::view::{
    CommitInfo, MeasurementView, Point, RunDetail, SeriesInfo, SeriesOverview,
};
use sqlx::{AssertSqlSafe, Row};

use super::rows::{series_from_row, SERIES_COLUMNS, SERIES_JOINS};
use super::{shaped_chunks, Store};
use crate::error::{Result, StoreError};

/// Which points of a series to read. Ranges are inclusive.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct PointFilter {
    /// Only runs on this branch (commit-indexed series); `None` reads every run.
    pub branch_id: Option<i64>,
    pub from_ord: Option<i64>,
    pub to_ord: Option<i64>,
    /// Milliseconds since the epoch.
    pub from_time: Option<i64>,
    pub to_time: Option<i64>,
}

/// One page of [`Store::points_page`]: at most `limit` points, after the point of run
/// `after` in the answer's order. The REST points answer is read this way so that its
/// size (and the server's memory for it) does not grow with the series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PointPage {
    pub after: Option<i64>,
    pub limit: i64,
}

impl PointFilter {
    pub fn with_branch(self, branch_id: Option<i64>) -> Self {
        Self { branch_id, ..self }
    }
}

const SPARK_POINTS: i64 = 60;

impl Store {
    pub async fn list_series(&self, project_id: i64) -> Result<Vec<SeriesInfo>> {
        let sql = format!(
            "SELECT {SERIES_COLUMNS} {SERIES_JOINS} WHERE s.project_id = $1 ORDER BY s.benchmark, s.params, m.name, t.name"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(project_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(series_from_row).collect()
    }

    pub async fn series(&self, series_id: i64) -> Result<SeriesInfo> {
        let sql = format!("SELECT {SERIES_COLUMNS} {SERIES_JOINS} WHERE s.id = $1");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(series_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("series {series_id}")))?;
        series_from_row(&row)
    }

    /// The same benchmark, measure and parameters on the project's other testbeds:
    /// what a chart can overlay.
    pub async fn sibling_series(&self, series_id: i64) -> Result<Vec<SeriesInfo>> {
        let sql = format!(
            "SELECT {SERIES_COLUMNS} {SERIES_JOINS}
             JOIN series o ON o.project_id = s.project_id AND o.benchmark = s.benchmark
                 AND o.measure_id = s.measure_id AND o.params = s.params
             WHERE o.id = $1 AND s.id <> $1 ORDER BY t.name"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(series_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(series_from_row).collect()
    }

    /// Every series of a project with its latest value, change and sparkline. Reads the
    /// last points of all series in one query (window function, both databases).
    /// Points of invalid runs are left out, as detection leaves them out: a rejected
    /// load run three times slower must not show as the latest value or a red change.
    /// Their validity is looked up for the few runs read, not filtered in the query,
    /// which would evaluate `runs.invalid_reason` (JSON of the metadata, on SQLite) for
    /// every point of the project.
    pub async fn series_overview(
        &self,
        project_id: i64,
        branch_id: Option<i64>,
    ) -> Result<Vec<SeriesOverview>> {
        let series = self.list_series(project_id).await?;
        let rows = sqlx::query(
            "SELECT series_id, median, run_id FROM (
                 SELECT m.series_id, m.median, m.run_id,
                        ROW_NUMBER() OVER (PARTITION BY m.series_id ORDER BY r.started_at DESC, r.id DESC) AS rn
                 FROM measurements m JOIN runs r ON r.id = m.run_id JOIN series s ON s.id = m.series_id
                 WHERE s.project_id = $1 AND (r.branch_id = $2 OR r.branch_id IS NULL OR $2 < 0)
             ) x WHERE rn <= $3 ORDER BY series_id, rn DESC",
        )
        .bind(project_id)
        .bind(branch_id.unwrap_or(-1))
        .bind(SPARK_POINTS)
        .fetch_all(&self.pool)
        .await?;
        let mut runs: Vec<i64> = rows
            .iter()
            .map(|r| r.try_get("run_id"))
            .collect::<std::result::Result<_, _>>()?;
        runs.sort_unstable();
        runs.dedup();
        let marks = self.run_marks(&runs).await?;
        let invalid = |run: i64| marks.get(&run).is_some_and(|m| m.invalid_reason.is_some());
        let mut sparks: HashMap<i64, Vec<f64>> = HashMap::new();
        for r in rows {
            if invalid(r.try_get("run_id")?) {
                continue;
            }
            sparks
                .entry(r.try_get("series_id")?)
                .or_default()
                .push(r.try_get("median")?);
        }
        Ok(series
            .into_iter()
            .map(|s| {
                let spark = sparks.remove(&s.id).unwrap_or_default();
                let latest = spark.last().copied();
                let change_pct = match spark.split_last() {
                    Some((last, before)) if !before.is_empty() => {
                        let window = &before[before.len().saturating_sub(10)..];
                        let mut w = window.to_vec();
                        w.sort_by(f64::total_cmp);
                        let base = perfwatch_core::summary::median_sorted(&w);
                        (base != 0.0).then(|| (last / base - 1.0) * 100.0)
                    }
                    _ => None,
                };
                SeriesOverview {
                    series: s,
                    latest,
                    change_pct,
                    spark,
                }
            })
            .collect())
    }

    /// Points of one series in chart order (commit order, then time).
    pub async fn points(&self, series_id: i64, f: &PointFilter) -> Result<Vec<Point>> {
        self.read_points(series_id, f, true, None).await
    }

    /// One page of [`Store::points`], in the same order (commit order, then time, then
    /// run). The database sorts and keeps only the page (a top-N sort), so memory is
    /// bounded by `limit`, not by the series. `after` must be a run with a point in the
    /// series.
    pub async fn points_page(
        &self,
        series_id: i64,
        f: &PointFilter,
        page: PointPage,
    ) -> Result<Vec<Point>> {
        self.read_points(series_id, f, true, Some(page)).await
    }

    /// Like [`Store::points`] without the commit sha, branch name and validity: charts read every
    /// point of a long series but show shas only for the few thousand they draw, and the
    /// text columns and their joins are most of the cost (see docs/benchmarks.md).
    pub async fn points_without_commits(
        &self,
        series_id: i64,
        f: &PointFilter,
    ) -> Result<Vec<Point>> {
        self.read_points(series_id, f, false, None).await
    }

    /// Commit shas of runs, by run id (runs without a commit are left out).
    pub async fn run_shas(&self, run_ids: &[i64]) -> Result<HashMap<i64, String>> {
        let mut out = HashMap::with_capacity(run_ids.len());
        for chunk in shaped_chunks(run_ids, 500) {
            let list: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
            let sql = format!(
                "SELECT r.id AS run_id, c.sha FROM runs r JOIN commits c ON c.id = r.commit_id WHERE r.id IN ({})",
                list.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(*id);
            }
            for row in q.fetch_all(&self.pool).await? {
                out.insert(row.try_get("run_id")?, row.try_get("sha")?);
            }
        }
        Ok(out)
    }

    async fn read_points(
        &self,
        series_id: i64,
        f: &PointFilter,
        with_commits: bool,
        page: Option<PointPage>,
    ) -> Result<Vec<Point>> {
        // Every column a chart needs is in the series-ordered measurements table
        // (migration 0005); the commit sha and branch name need joins and are read
        // only when asked for.
        let mut sql = if with_commits {
            String::from(
                "SELECT m.run_id, m.ord, m.started_at, c.sha, b.name AS branch, m.n, m.median, m.mean, m.min, m.max,
                        r.invalid_reason AS invalid_reason
                 FROM measurements m JOIN runs r ON r.id = m.run_id
                 LEFT JOIN commits c ON c.id = r.commit_id
                 LEFT JOIN branches b ON b.id = m.branch_id
                 WHERE m.series_id = $1",
            )
        } else {
            String::from(
                "SELECT m.run_id, m.ord, m.started_at, m.n, m.median, m.mean, m.min, m.max
                 FROM measurements m WHERE m.series_id = $1",
            )
        };
        // Every optional filter is bound; only the fixed text of the condition is spliced.
        let mut binds: Vec<i64> = Vec::new();
        let mut cond = |sql: &mut String, text: &str, v: Option<i64>| {
            if let Some(v) = v {
                binds.push(v);
                sql.push_str(&format!(" AND {text} ${}", binds.len() + 1));
            }
        };
        cond(&mut sql, "m.branch_id =", f.branch_id);
        cond(&mut sql, "m.ord >=", f.from_ord);
        cond(&mut sql, "m.ord <=", f.to_ord);
        cond(&mut sql, "m.started_at >=", f.from_time);
        cond(&mut sql, "m.started_at <=", f.to_time);
        if let Some(page) = page {
            // Commit orders start at 1, so 0 puts points without a commit first, as the
            // in-memory sort below does (`None` first).
            const KEY: &str = "COALESCE(m.ord, 0), m.started_at, m.run_id";
            if let Some(run) = page.after {
                let (ord, time) = self.point_key(series_id, run).await?;
                let n = binds.len() + 2;
                sql.push_str(&format!(" AND ({KEY}) > (${n}, ${}, ${})", n + 1, n + 2));
                binds.extend([ord, time, run]);
            }
            binds.push(page.limit);
            sql.push_str(&format!(" ORDER BY {KEY} LIMIT ${}", binds.len() + 1));
        }
        // Rows come in key order (run id); sorting here rather than in SQL keeps the
        // database from building a temporary sort of every point, and gives one order
        // on both databases (no commit order first).
        let mut q = sqlx::query(AssertSqlSafe(sql)).bind(series_id);
        for b in binds {
            q = q.bind(b);
        }
        let rows = q.fetch_all(&self.pool).await?;
        let mut points = rows
            .iter()
            .map(|r| {
                Ok(Point {
                    run_id: r.try_get("run_id")?,
                    ord: r.try_get("ord")?,
                    time: r.try_get("started_at")?,
                    sha: if with_commits {
                        r.try_get("sha")?
                    } else {
                        None
                    },
                    branch: if with_commits {
                        r.try_get("branch")?
                    } else {
                        None
                    },
                    n: r.try_get("n")?,
                    median: r.try_get("median")?,
                    mean: r.try_get("mean")?,
                    min: r.try_get("min")?,
                    max: r.try_get("max")?,
                    invalid_reason: if with_commits {
                        r.try_get::<Option<String>, _>("invalid_reason")?
                            .as_deref()
                            .map(reason_text)
                    } else {
                        None
                    },
                })
            })
            .collect::<Result<Vec<_>>>()?;
        points.sort_by_key(|p| (p.ord, p.time, p.run_id));
        Ok(points)
    }

    /// The sort key (commit order or 0, time) of run `run_id`'s point in a series: where
    /// a page that continues after it starts.
    async fn point_key(&self, series_id: i64, run_id: i64) -> Result<(i64, i64)> {
        let row = sqlx::query(
            "SELECT COALESCE(ord, 0) AS ord, started_at FROM measurements
             WHERE series_id = $1 AND run_id = $2",
        )
        .bind(series_id)
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::invalid("after", "no point of this run in the series"))?;
        Ok((row.try_get("ord")?, row.try_get("started_at")?))
    }

    pub async fn run_detail(&self, run_id: i64) -> Result<RunDetail> {
        let row = sqlx::query(
            "SELECT r.id AS run_id, p.slug AS project, b.name AS branch, c.sha, c.parent_sha,
                    c.author, c.message, c.committed_at, t.name AS testbed, r.run_key, r.started_at, r.finished_at, r.trigger_kind, r.metadata, p.repo_url,
                    r.invalid_reason AS invalid_reason
             FROM runs r JOIN projects p ON p.id = r.project_id
             JOIN testbeds t ON t.id = r.testbed_id
             LEFT JOIN branches b ON b.id = r.branch_id
             LEFT JOIN commits c ON c.id = r.commit_id
             WHERE r.id = $1",
        )
        .bind(run_id)
        .fetch_optional(&self.pool)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("run {run_id}")))?;
        let sha: Option<String> = row.try_get("sha")?;
        let repo_url: Option<String> = row.try_get("repo_url")?;
        let commit = match sha {
            Some(sha) => Some(CommitInfo {
                url: repo_url.map(|u| format!("{}/commit/{sha}", u.trim_end_matches('/'))),
                sha,
                parent: row.try_get("parent_sha")?,
                author: row.try_get("author")?,
                message: row.try_get("message")?,
                time: row.try_get("committed_at")?,
            }),
            None => None,
        };
        let metadata: String = row.try_get("metadata")?;
        let sql = format!(
            "SELECT {SERIES_COLUMNS}, x.n, x.median, x.mean, x.min, x.max, x.stddev, xs.samples
             FROM measurements x JOIN series s ON s.id = x.series_id
             JOIN measurement_samples xs ON xs.run_id = x.run_id AND xs.series_id = x.series_id
             JOIN projects p ON p.id = s.project_id JOIN measures m ON m.id = s.measure_id
             JOIN testbeds t ON t.id = s.testbed_id
             WHERE x.run_id = $1 ORDER BY s.benchmark, s.params, m.name"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(run_id)
            .fetch_all(&self.pool)
            .await?;
        let measurements = rows
            .iter()
            .map(|r| {
                let samples: String = r.try_get("samples")?;
                Ok(MeasurementView {
                    series: series_from_row(r)?,
                    n: r.try_get("n")?,
                    median: r.try_get("median")?,
                    mean: r.try_get("mean")?,
                    min: r.try_get("min")?,
                    max: r.try_get("max")?,
                    stddev: r.try_get("stddev")?,
                    samples: serde_json::from_str(&samples)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(RunDetail {
            id: row.try_get("run_id")?,
            project: row.try_get("project")?,
            branch: row.try_get("branch")?,
            commit,
            testbed: row.try_get("testbed")?,
            run_key: row.try_get("run_key")?,
            started_at: row.try_get("started_at")?,
            finished_at: row.try_get("finished_at")?,
            trigger: row.try_get("trigger_kind")?,
            metadata: serde_json::from_str(&metadata)?,
            invalid_reason: row
                .try_get::<Option<String>, _>("invalid_reason")?
                .as_deref()
                .map(reason_text),
            measurements,
        })
    }
}
