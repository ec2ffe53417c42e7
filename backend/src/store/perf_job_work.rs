//! A worker's writes while it runs a job: every one names the work item's fence
//! ([`Fence`]) and matches no row once the lease was taken over.

use super::perf_jobs::{holds, Fence, PerfState};
use super::queue::{insert_job, queue_finish_in, Finish, NewJob};
use super::{Store, WriteTx};
use crate::error::Result;

impl Store {
    /// Marks the job running under `fence` (also a dead job whose work item an admin
    /// put back); `false` when the fence is stale or the job was canceled or
    /// superseded meanwhile.
    pub async fn perf_job_start(&self, id: i64, f: Fence, now: i64) -> Result<bool> {
        self.perf_job_start_within(id, f, now, i64::MAX).await
    }

    /// [`perf_job_start`](Self::perf_job_start), unless `limit` other jobs of the same
    /// project are running already (the integration's concurrency). The count is part
    /// of the update: on SQLite's single writer two runners never both pass it.
    pub async fn perf_job_start_within(
        &self,
        id: i64,
        f: Fence,
        now: i64,
        limit: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE perf_jobs SET state = 'running', work_id = $3,
                 started_at = COALESCE(started_at, $2), updated_at = $2, error = NULL
             WHERE id = $1 AND state IN ('queued', 'running', 'dead') AND {}
               AND (SELECT COUNT(*) FROM perf_jobs o WHERE o.project_id = perf_jobs.project_id
                      AND o.state = 'running' AND o.id <> $1) < $5",
            holds(3)
        );
        let n = fenced(sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).bind(now), f)
            .bind(limit)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Gives a work item back without counting the attempt, due again at `not_before`
    /// (a project at its concurrency limit); `false` when the fence is stale.
    pub async fn perf_work_later(&self, f: Fence, not_before: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let ok = give_back(&mut tx, f, not_before, now).await?;
        tx.commit().await?;
        Ok(ok)
    }

    /// What the job was asked to stop for, if anything.
    pub async fn perf_job_stop_requested(&self, id: i64) -> Result<Option<String>> {
        let v: Option<Option<String>> =
            sqlx::query_scalar("SELECT stop_requested FROM perf_jobs WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(v.flatten())
    }

    /// Appends log lines under `fence`; `false` (nothing written) when it is stale.
    pub async fn perf_job_log_append(
        &self,
        id: i64,
        f: Fence,
        lines: &[(String, String, String, i64)],
    ) -> Result<bool> {
        if lines.is_empty() {
            return Ok(true);
        }
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "SELECT COUNT(*) FROM perf_jobs WHERE id = $1 AND {}",
            holds(2)
        );
        let holds: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(f.work_id)
            .bind(f.fence)
            .fetch_one(&mut *tx)
            .await?;
        if holds == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        let mut seq: i64 =
            sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM perf_job_logs WHERE job_id = $1")
                .bind(id)
                .fetch_one(&mut *tx)
                .await?;
        for (step, stream, line, at) in lines {
            seq += 1;
            sqlx::query(
                "INSERT INTO perf_job_logs (job_id, seq, step, stream, line, at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(id)
            .bind(seq)
            .bind(step)
            .bind(stream)
            .bind(line)
            .bind(*at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    #[expect(
        clippy::too_many_arguments,
        reason = "one fenced transaction: every value is written together"
    )]
    pub async fn perf_job_executed(
        &self,
        id: i64,
        f: Fence,
        output: &str,
        definition_hash: &str,
        testbed: Option<&str>,
        then: &NewJob,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE perf_jobs SET state = 'completed', output = $2, definition_hash = $3,
                 testbed = $4, updated_at = $5
             WHERE id = $1 AND state = 'running' AND {}",
            holds(6)
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(output)
            .bind(definition_hash)
            .bind(testbed.map(str::to_string))
            .bind(now);
        let n = fenced(q, f).execute(&mut *tx).await?.rows_affected();
        if n != 1 || !queue_finish_in(&mut tx, f.work_id, f.fence, &Finish::Done, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        insert_job(&mut tx, then, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Ends a job's attempt without results: `state` is `queued` (a transient failure,
    /// retried), `failed`/`dead`, `canceled` or `superseded`; the work item ends as
    /// `finish` says. `reports` are queued with it (the outbox). `false` when stale.
    #[expect(
        clippy::too_many_arguments,
        reason = "one fenced transaction: every value is written together"
    )]
    pub async fn perf_job_end(
        &self,
        id: i64,
        f: Fence,
        state: PerfState,
        error: Option<(&str, &str)>,
        finish: &Finish,
        reports: &[NewJob],
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE perf_jobs SET state = $2, error_class = $3, error = $4, updated_at = $5,
                 finished_at = CASE WHEN $2 = 'queued' THEN NULL ELSE $5 END
             WHERE id = $1 AND {}",
            holds(6)
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(state.as_str())
            // A stop is no failure: the reason is kept, the class stays empty.
            .bind(error.map(|e| e.0.to_string()).filter(|c| c != "canceled"))
            .bind(error.map(|e| e.1.to_string()))
            .bind(now);
        let n = fenced(q, f).execute(&mut *tx).await?.rows_affected();
        if n != 1 || !queue_finish_in(&mut tx, f.work_id, f.fence, finish, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        for r in reports {
            insert_job(&mut tx, r, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Gives the work item back without counting the attempt, due again at
    /// `not_before`, the job waiting for `waits_for` (a backfill of its baseline).
    pub async fn perf_job_defer(
        &self,
        id: i64,
        f: Fence,
        waits_for: i64,
        not_before: i64,
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let sql = format!(
            "UPDATE perf_jobs SET state = 'queued', waits_for = $2, updated_at = $3
             WHERE id = $1 AND {}",
            holds(4)
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .bind(waits_for)
            .bind(now);
        let n = fenced(q, f).execute(&mut *tx).await?.rows_affected();
        if n != 1 || !give_back(&mut tx, f, not_before, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Results stored: the run ids, verdict and report of the job, the `perf.store`
    /// item ended and the reports queued, in one transaction under `fence`.
    #[expect(
        clippy::too_many_arguments,
        reason = "one fenced transaction: every value is written together"
    )]
    pub async fn perf_job_processed(
        &self,
        id: i64,
        f: Fence,
        run_ids: &[i64],
        verdict: &str,
        report: &str,
        reports: &[NewJob],
        now: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE perf_jobs SET state = 'processed', run_ids = $2, verdict = $3, report = $4,
                 finished_at = $5, updated_at = $5
             WHERE id = $1 AND state = 'completed'",
        )
        .bind(id)
        .bind(serde_json::to_string(run_ids)?)
        .bind(verdict)
        .bind(report)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n != 1 || !queue_finish_in(&mut tx, f.work_id, f.fence, &Finish::Done, now).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        for r in reports {
            insert_job(&mut tx, r, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// Remembers the check run created for a job.
    pub async fn perf_job_set_check_run(&self, id: i64, check_run_id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE perf_jobs SET check_run_id = $1 WHERE id = $2")
            .bind(check_run_id)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }

    /// Queues any job (reports, reconcile passes) in its own transaction.
    pub async fn perf_enqueue(&self, jobs: &[NewJob], now: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for j in jobs {
            insert_job(&mut tx, j, now).await?;
        }
        tx.commit().await
    }

    /// Records the merge-base a PR job is compared at.
    pub async fn perf_job_set_base(&self, id: i64, base_sha: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query("UPDATE perf_jobs SET base_sha = $1 WHERE id = $2")
            .bind(base_sha)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    }
}

/// Puts a leased work item back in the queue, due at `not_before`, without counting
/// the attempt (waiting for a baseline or a free slot is no failure); `false` when the
/// fence is stale.
async fn give_back(tx: &mut WriteTx, f: Fence, not_before: i64, now: i64) -> Result<bool> {
    let n = sqlx::query(
        "UPDATE work_queue SET state = 'queued', attempts = attempts - 1, not_before = $1,
             lease_owner = NULL, lease_expires_at = NULL, updated_at = $2
         WHERE id = $3 AND fence = $4 AND state = 'leased'",
    )
    .bind(not_before)
    .bind(now)
    .bind(f.work_id)
    .bind(f.fence)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}

/// Binds a fence's two values after the statement's other parameters ([`holds`]).
fn fenced<'q>(
    q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    f: Fence,
) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
    q.bind(f.work_id).bind(f.fence)
}
