//! SQL that tests and benchmarks need beside the store's own interface: looking at
//! rows directly (that a secret is stored hashed, that each run key is stored once),
//! damaging data to test recovery, and bulk fixtures. Reached through
//! `crate::testing`; nothing in the product calls it.

use std::collections::HashMap;

use sqlx::Row;

use super::{values_rows, Dialect, Store, WriteTx};
use crate::error::Result;

impl Store {
    /// Per run key of project `slug`: how many runs carry it and the lowest run id
    /// (a run without a key counts under "").
    pub(crate) async fn testing_run_keys(&self, slug: &str) -> Result<HashMap<String, (i64, i64)>> {
        let rows = sqlx::query(
            "SELECT r.run_key AS run_key, COUNT(*) AS n, MIN(r.id) AS id FROM runs r
             JOIN projects p ON p.id = r.project_id WHERE p.slug = $1 GROUP BY r.run_key",
        )
        .bind(slug)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let key: Option<String> = r.try_get("run_key")?;
                Ok((key.unwrap_or_default(), (r.try_get("n")?, r.try_get("id")?)))
            })
            .collect()
    }

    /// Every stored token hash.
    pub(crate) async fn testing_token_hashes(&self) -> Result<Vec<String>> {
        Ok(sqlx::query_scalar("SELECT token_hash FROM api_tokens")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Every commit order of every branch.
    pub(crate) async fn testing_branch_orders(&self) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar("SELECT ord FROM branch_commits")
            .fetch_all(&self.pool)
            .await?)
    }

    /// How many projects have this slug (0 or 1).
    pub(crate) async fn testing_projects_named(&self, slug: &str) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM projects WHERE slug = $1")
                .bind(slug)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Deletes the `n` latest runs of a project (with their measurements): an
    /// interrupted load.
    pub(crate) async fn testing_delete_latest_runs(&self, project_id: i64, n: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "DELETE FROM runs WHERE id IN
               (SELECT id FROM runs WHERE project_id = $1 ORDER BY started_at DESC LIMIT $2)",
        )
        .bind(project_id)
        .bind(n)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Deletes a project's annotation by name.
    pub(crate) async fn testing_delete_annotation(
        &self,
        project_id: i64,
        name: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("DELETE FROM annotations WHERE project_id = $1 AND name = $2")
            .bind(project_id)
            .bind(name)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Overwrites a group's own state with any text (no CHECK constraint guards the
    /// column), as a damaged or newer database could hold.
    pub(crate) async fn testing_set_group_state_text(
        &self,
        group_id: i64,
        text: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE alert_groups SET state = $1 WHERE id = $2")
            .bind(text)
            .bind(group_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Overwrites a token's scopes with any text.
    pub(crate) async fn testing_set_token_scopes_text(
        &self,
        token_id: i64,
        text: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE api_tokens SET scopes = $1 WHERE id = $2")
            .bind(text)
            .bind(token_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Writes project `long` with one series of `points` points on `main` (one run per
    /// point, a spike of +500 every 25,000 points) by multi-row inserts of 100 rows,
    /// far faster than submitting runs; returns the series id. Ids start at 1,000,000,
    /// above what the other tables of a test database hold.
    pub(crate) async fn testing_load_long_series(&self, points: i64) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let pid: i64 = sqlx::query_scalar("INSERT INTO projects (slug, name, main_branch, created_at) VALUES ('long', 'long', 'main', 0) RETURNING id")
            .fetch_one(&mut *tx)
            .await?;
        let tid: i64 = sqlx::query_scalar(
            "INSERT INTO testbeds (project_id, name) VALUES ($1, 'box') RETURNING id",
        )
        .bind(pid)
        .fetch_one(&mut *tx)
        .await?;
        let mid: i64 = sqlx::query_scalar("INSERT INTO measures (project_id, name, unit, display_unit, direction) VALUES ($1, 'time', 'ns', 'ns', 'lower') RETURNING id")
            .bind(pid)
            .fetch_one(&mut *tx)
            .await?;
        let sid: i64 = sqlx::query_scalar("INSERT INTO series (project_id, benchmark, measure_id, testbed_id, params) VALUES ($1, 'Long', $2, $3, '') RETURNING id")
            .bind(pid)
            .bind(mid)
            .bind(tid)
            .fetch_one(&mut *tx)
            .await?;
        let bid: i64 = sqlx::query_scalar(
            "INSERT INTO branches (project_id, name) VALUES ($1, 'main') RETURNING id",
        )
        .bind(pid)
        .fetch_one(&mut *tx)
        .await?;
        let ids = LongSeriesIds { pid, tid, sid, bid };
        const CHUNK: i64 = 100;
        let mut i = 0;
        while i < points {
            let n = CHUNK.min(points - i);
            insert_long_chunk(&mut tx, self.dialect, &ids, i, n).await?;
            i += n;
        }
        tx.commit().await?;
        Ok(sid)
    }
}

/// Ids of the long series' project, testbed, series and main branch.
struct LongSeriesIds {
    pid: i64,
    tid: i64,
    sid: i64,
    bid: i64,
}

/// Points `i .. i + n` of the long series: their commits, main-branch orders, runs,
/// measurements and samples, one multi-row insert per table.
async fn insert_long_chunk(
    tx: &mut WriteTx,
    dialect: Dialect,
    ids: &LongSeriesIds,
    i: i64,
    n: i64,
) -> Result<()> {
    let tables: [(&str, usize); 5] = [
        ("commits (id, project_id, sha, committed_at)", 4),
        ("branch_commits (branch_id, commit_id, ord)", 3),
        ("runs (id, project_id, branch_id, commit_id, testbed_id, started_at, created_at)", 7),
        ("measurements (run_id, series_id, branch_id, ord, started_at, n, mean, median, min, max, stddev, iterations, percentiles)", 13),
        ("measurement_samples (run_id, series_id, samples)", 3),
    ];
    for (t, (table, cols)) in tables.iter().enumerate() {
        let sql = format!(
            "INSERT INTO {table} VALUES {}",
            values_rows(dialect, n as usize, *cols)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for r in 0..n {
            let k = i + r + 1_000_000;
            let at = k * 60_000;
            let v =
                1000.0 + ((k * 31) % 97) as f64 + if (i + r) % 25_000 == 0 { 500.0 } else { 0.0 };
            q = match t {
                0 => q.bind(k).bind(ids.pid).bind(format!("{k:040x}")).bind(at),
                1 => q.bind(ids.bid).bind(k).bind(i + r + 1),
                2 => q
                    .bind(k)
                    .bind(ids.pid)
                    .bind(ids.bid)
                    .bind(k)
                    .bind(ids.tid)
                    .bind(at)
                    .bind(at),
                3 => q
                    .bind(k)
                    .bind(ids.sid)
                    .bind(ids.bid)
                    .bind(i + r + 1)
                    .bind(at)
                    .bind(5i64)
                    .bind(v)
                    .bind(v)
                    .bind(v - 5.0)
                    .bind(v + 5.0)
                    .bind(2.0)
                    .bind(None::<i64>)
                    .bind(None::<String>),
                _ => q.bind(k).bind(ids.sid).bind(format!("[{v}]")),
            };
        }
        q.execute(&mut **tx).await?;
    }
    Ok(())
}
