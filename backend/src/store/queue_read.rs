//! Reads of the work queue: one job, jobs by state (the admin view), unfinished work
//! (tests' `idle()`), and the depth and takeover counts metrics will export.

use sqlx::any::AnyRow;
use sqlx::Row;

use super::queue::{placeholders, JobRow, JobState, QueueDepth};
use super::Store;
use crate::error::{Result, StoreError};

const JOB_COLUMNS: &str = "id, kind, payload, priority, state, not_before, attempts, max_attempts,
    backoff_ms, lease_owner, lease_expires_at, fence, heartbeat_at, takeovers, last_error,
    created_at, updated_at";

fn job_from_row(r: &AnyRow) -> Result<JobRow> {
    let state: String = r.try_get("state")?;
    Ok(JobRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        payload: r.try_get("payload")?,
        priority: r.try_get("priority")?,
        state: JobState::from_db(&state)?,
        not_before: r.try_get("not_before")?,
        attempts: r.try_get("attempts")?,
        max_attempts: r.try_get("max_attempts")?,
        backoff_ms: r.try_get("backoff_ms")?,
        lease_owner: r.try_get("lease_owner")?,
        lease_expires_at: r.try_get("lease_expires_at")?,
        fence: r.try_get("fence")?,
        heartbeat_at: r.try_get("heartbeat_at")?,
        takeovers: r.try_get("takeovers")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

impl Store {
    /// One job.
    pub async fn queue_job(&self, id: i64) -> Result<JobRow> {
        let sql = format!("SELECT {JOB_COLUMNS} FROM work_queue WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("job {id}")))?;
        job_from_row(&row)
    }

    /// Jobs in one state, newest first (at most `limit`).
    pub async fn queue_jobs(&self, state: JobState, limit: i64) -> Result<Vec<JobRow>> {
        let sql = format!(
            "SELECT {JOB_COLUMNS} FROM work_queue WHERE state = $1 ORDER BY updated_at DESC, id DESC LIMIT $2"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(state.as_str())
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(job_from_row).collect()
    }

    /// Jobs of these kinds still to do (queued or leased).
    pub async fn queue_unfinished(&self, kinds: &[&str]) -> Result<i64> {
        let sql = format!(
            "SELECT COUNT(*) FROM work_queue WHERE state IN ('queued', 'leased') AND kind IN ({})",
            placeholders(1, kinds.len())
        );
        let mut q = sqlx::query_scalar(sqlx::AssertSqlSafe(sql));
        for k in kinds {
            q = q.bind(*k);
        }
        Ok(q.fetch_one(&self.pool).await?)
    }

    /// Depth and oldest job by kind and state, finished jobs left out (for metrics).
    pub async fn queue_depth(&self) -> Result<Vec<QueueDepth>> {
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS jobs, MIN(created_at) AS oldest
             FROM work_queue WHERE state <> 'done' GROUP BY kind, state ORDER BY kind, state",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let state: String = r.try_get("state")?;
                Ok(QueueDepth {
                    kind: r.try_get("kind")?,
                    state: JobState::from_db(&state)?,
                    jobs: r.try_get("jobs")?,
                    oldest_created_at: r.try_get("oldest")?,
                })
            })
            .collect()
    }

    /// Lease takeovers (claims of a job whose lease had expired) by kind, over the jobs
    /// still in the table.
    pub async fn queue_takeovers(&self) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query(
            "SELECT kind, CAST(SUM(takeovers) AS BIGINT) AS n FROM work_queue GROUP BY kind ORDER BY kind",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("kind")?, r.try_get("n")?)))
            .collect()
    }
}
