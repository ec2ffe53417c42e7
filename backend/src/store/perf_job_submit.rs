//! Creating and cancelling performance jobs: the master set, PR jobs (superseded by a
//! newer head), manual jobs, cancellation by users.

use super::perf_jobs::{job, run_item, NewPerfJob, PerfJobRow, Purpose, COLS};
use super::queue::insert_job;
use super::{Store, WriteTx};
use crate::error::{Result, StoreError};

impl Store {
    /// Creates a job and its work item. Unless `force`, an existing live or processed
    /// job for the same commit, purpose and PR is returned instead (a replayed webhook
    /// or the reconciler asking again creates nothing). A new PR job supersedes the
    /// PR's queued jobs and asks its running one to stop; master jobs are never
    /// superseded. Returns the job id and whether it was created.
    pub async fn perf_job_create(
        &self,
        new: &NewPerfJob,
        force: bool,
        now: i64,
    ) -> Result<(i64, bool)> {
        let mut tx = self.begin_write().await?;
        if !force {
            let existing: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM perf_jobs WHERE project_id = $1 AND sha = $2 AND purpose = $3
                   AND COALESCE(pr_number, -1) = COALESCE($4, -1)
                   AND state NOT IN ('failed', 'dead', 'canceled', 'superseded')
                 ORDER BY id DESC LIMIT 1",
            )
            .bind(new.project_id)
            .bind(&new.sha)
            .bind(new.purpose.as_str())
            .bind(new.pr_number)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(id) = existing {
                tx.commit().await?;
                return Ok((id, false));
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO perf_jobs (project_id, purpose, state, sha, branch, head_ref, pr_number,
                 base_sha, repeats, requested_by, created_at, updated_at)
             VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8, $9, $10, $10) RETURNING id",
        )
        .bind(new.project_id)
        .bind(new.purpose.as_str())
        .bind(&new.sha)
        .bind(new.branch.clone())
        .bind(new.head_ref.clone())
        .bind(new.pr_number)
        .bind(new.base_sha.clone())
        .bind(new.repeats)
        .bind(&new.requested_by)
        .bind(now)
        .fetch_one(&mut *tx)
        .await?;
        if let (Purpose::Pr, Some(pr)) = (new.purpose, new.pr_number) {
            let why = format!("superseded by job {id}");
            stop_pr_jobs(
                &mut tx,
                new.project_id,
                pr,
                Some(id),
                "superseded",
                &why,
                now,
            )
            .await?;
        }
        let work = insert_job(&mut tx, &run_item(id, new.purpose.priority(), now), now)
            .await?
            .ok_or_else(|| StoreError::Data("work item not inserted".into()))?;
        sqlx::query("UPDATE perf_jobs SET work_id = $1 WHERE id = $2")
            .bind(work)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok((id, true))
    }

    /// Cancels the queued jobs of a PR and asks its running one to stop (PR closed,
    /// `/perfwatch cancel`). Returns how many jobs were touched.
    pub async fn perf_jobs_cancel_pr(
        &self,
        project_id: i64,
        pr: i64,
        why: &str,
        now: i64,
    ) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = stop_pr_jobs(&mut tx, project_id, pr, None, "canceled", why, now).await?;
        tx.commit().await?;
        Ok(n)
    }

    /// Whether any job exists for this commit and purpose (the reconciler's question).
    pub async fn perf_job_exists(
        &self,
        project_id: i64,
        sha: &str,
        pr: Option<i64>,
    ) -> Result<bool> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM perf_jobs WHERE project_id = $1 AND sha = $2
               AND COALESCE(pr_number, -1) = COALESCE($3, -1)",
        )
        .bind(project_id)
        .bind(sha)
        .bind(pr)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }

    /// The newest processed master-set job at `sha` with this definition and testbed.
    pub async fn perf_master_set(
        &self,
        project_id: i64,
        sha: &str,
        definition_hash: &str,
    ) -> Result<Option<PerfJobRow>> {
        let sql = format!(
            "SELECT {COLS} FROM perf_jobs WHERE project_id = $1 AND sha = $2
               AND purpose IN ('master', 'backfill') AND state = 'processed'
               AND definition_hash = $3 ORDER BY id DESC LIMIT 1"
        );
        let r = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(project_id)
            .bind(sha)
            .bind(definition_hash)
            .fetch_optional(&self.pool)
            .await?;
        r.as_ref().map(job).transpose()
    }

    /// A live master-set job at `sha` (queued, running or completed), if any.
    pub async fn perf_master_pending(&self, project_id: i64, sha: &str) -> Result<Option<i64>> {
        Ok(sqlx::query_scalar(
            "SELECT id FROM perf_jobs WHERE project_id = $1 AND sha = $2
               AND purpose IN ('master', 'backfill')
               AND state IN ('queued', 'running', 'completed') ORDER BY id DESC LIMIT 1",
        )
        .bind(project_id)
        .bind(sha)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Cancels one job: a queued job ends at once, a running one is asked to stop.
    /// Returns whether anything changed.
    pub async fn perf_job_cancel(&self, id: i64, why: &str, now: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "UPDATE work_queue SET state = 'done', last_error = $1, updated_at = $2
             WHERE state = 'queued' AND id = (SELECT work_id FROM perf_jobs WHERE id = $3 AND state = 'queued')",
        )
        .bind(why)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?;
        let queued = sqlx::query(
            "UPDATE perf_jobs SET state = 'canceled', error = $1, finished_at = $2, updated_at = $2
             WHERE id = $3 AND state = 'queued'",
        )
        .bind(why)
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        let running = sqlx::query(
            "UPDATE perf_jobs SET stop_requested = $1, updated_at = $2 WHERE id = $3 AND state = 'running'",
        )
        .bind(format!("canceled: {why}"))
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(queued + running > 0)
    }
}

/// Cancels or supersedes the PR's queued jobs (their work items end) and asks its
/// running job to stop; `keep` is spared. Master-set jobs are never touched.
async fn stop_pr_jobs(
    tx: &mut WriteTx,
    project_id: i64,
    pr: i64,
    keep: Option<i64>,
    state: &str,
    why: &str,
    now: i64,
) -> Result<u64> {
    let keep = keep.unwrap_or(-1);
    let done = sqlx::query(
        "UPDATE work_queue SET state = 'done', last_error = $1, lease_owner = NULL,
             lease_expires_at = NULL, updated_at = $2
         WHERE state = 'queued' AND id IN (SELECT work_id FROM perf_jobs
             WHERE project_id = $3 AND pr_number = $4 AND purpose = 'pr' AND id <> $5
               AND state = 'queued' AND work_id IS NOT NULL)",
    )
    .bind(why)
    .bind(now)
    .bind(project_id)
    .bind(pr)
    .bind(keep)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let queued = sqlx::query(
        "UPDATE perf_jobs SET state = $1, error = $2, finished_at = $3, updated_at = $3
         WHERE project_id = $4 AND pr_number = $5 AND purpose = 'pr' AND id <> $6
           AND state = 'queued'",
    )
    .bind(state)
    .bind(why)
    .bind(now)
    .bind(project_id)
    .bind(pr)
    .bind(keep)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let running = sqlx::query(
        "UPDATE perf_jobs SET stop_requested = $1, updated_at = $2
         WHERE project_id = $3 AND pr_number = $4 AND purpose = 'pr' AND id <> $5
           AND state = 'running'",
    )
    .bind(format!("{state}: {why}"))
    .bind(now)
    .bind(project_id)
    .bind(pr)
    .bind(keep)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    let _ = done;
    Ok(queued + running)
}
