//! Reading performance jobs: one job, lists, logs, the queue's order, the previous
//! master set a new one is compared with.

use sqlx::Row;

use super::perf_jobs::{job, LogLine, PerfJobRow, PerfState, COLS};
use super::Store;
use crate::error::{Result, StoreError};

impl Store {
    pub async fn perf_job(&self, id: i64) -> Result<PerfJobRow> {
        let sql = format!("SELECT {COLS} FROM perf_jobs WHERE id = $1");
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
        job(&r)
    }

    /// Jobs newest first; of one project, PR or state when given.
    pub async fn perf_jobs(
        &self,
        project_id: Option<i64>,
        pr: Option<i64>,
        states: &[PerfState],
        limit: i64,
    ) -> Result<Vec<PerfJobRow>> {
        // sqlx's QueryBuilder writes `?` placeholders for `Any`, which PostgreSQL
        // refuses; the filters are few, so number them here.
        let mut sql = format!("SELECT {COLS} FROM perf_jobs WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            format!("${n}")
        };
        if project_id.is_some() {
            sql.push_str(&format!(" AND project_id = {}", next()));
        }
        if pr.is_some() {
            sql.push_str(&format!(" AND pr_number = {}", next()));
        }
        if !states.is_empty() {
            let ph: Vec<String> = states.iter().map(|_| next()).collect();
            sql.push_str(&format!(" AND state IN ({})", ph.join(", ")));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", next()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(p) = project_id {
            q = q.bind(p);
        }
        if let Some(p) = pr {
            q = q.bind(p);
        }
        for s in states {
            q = q.bind(s.as_str());
        }
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(job).collect()
    }

    /// Log lines after `after_seq`, oldest first; with `tail`, only the last `limit`.
    pub async fn perf_job_logs(&self, id: i64, after_seq: i64, limit: i64) -> Result<Vec<LogLine>> {
        let rows = sqlx::query(
            "SELECT seq, step, stream, line, at FROM perf_job_logs
             WHERE job_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(id)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LogLine {
                    seq: r.try_get("seq")?,
                    step: r.try_get("step")?,
                    stream: r.try_get("stream")?,
                    line: r.try_get("line")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// The execution finished: keeps its output, ends the work item and queues the
    /// storing of results (`then`), all in one transaction under `fence`. Storing is a
    /// job of its own, so a crash while storing never repeats a long run.
    /// The slug of a project by id.
    pub async fn project_slug_of(&self, project_id: i64) -> Result<String> {
        sqlx::query_scalar("SELECT slug FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))
    }

    /// When a worker of any kind last heartbeated a perf job (for "no worker online").
    pub async fn perf_last_worker_beat(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(heartbeat_at) FROM work_queue WHERE kind = 'perf.run'")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Queued jobs in the order runners claim them (priority, then age).
    pub async fn perf_queue_order(&self) -> Result<Vec<PerfJobRow>> {
        let sql = format!(
            "SELECT {} FROM perf_jobs j WHERE j.state = 'queued'
             ORDER BY (SELECT w.priority FROM work_queue w WHERE w.id = j.work_id) DESC, j.created_at, j.id
             LIMIT 500",
            COLS
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job).collect()
    }

    /// Run times (ms) of the last `n` jobs that finished executing.
    pub async fn perf_recent_durations(&self, n: i64) -> Result<Vec<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT finished_at - started_at FROM perf_jobs
             WHERE state = 'processed' AND started_at IS NOT NULL AND finished_at IS NOT NULL
             ORDER BY finished_at DESC LIMIT $1",
        )
        .bind(n)
        .fetch_all(&self.pool)
        .await?)
    }

    /// The newest processed master or backfill job of another commit with this
    /// definition, created before job `before`: the master set a new master commit is
    /// compared with.
    pub async fn perf_previous_master(
        &self,
        project_id: i64,
        before: i64,
        sha: &str,
        definition_hash: &str,
    ) -> Result<Option<PerfJobRow>> {
        let sql = format!(
            "SELECT {COLS} FROM perf_jobs WHERE project_id = $1 AND id < $2 AND sha <> $3
               AND purpose IN ('master', 'backfill') AND state = 'processed'
               AND definition_hash = $4 ORDER BY id DESC LIMIT 1"
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(before)
            .bind(sha)
            .bind(definition_hash)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(job).transpose()
    }
}
