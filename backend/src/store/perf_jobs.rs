//! Performance jobs (`perf_jobs`, `perf_job_logs`, migration 0008): what users see of a
//! job, beside the `work_queue` row that executes it. Every write a worker makes while
//! running a job names the work item's fence ([`Fence`]); once the lease was taken
//! over, the old worker's writes match no row and are refused.

use sqlx::Row;

use super::queue::{insert_job, queue_finish_in, Finish, NewJob};
use super::{Store, WriteTx};
use crate::error::{Result, StoreError};

/// Why a job exists (column `perf_jobs.purpose`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Purpose {
    /// A push to a master branch: part of the master set.
    Master,
    /// A pull-request head.
    Pr,
    /// A master commit measured because a PR needs it as its baseline.
    Backfill,
    /// Asked for by hand (UI, API, CLI).
    Manual,
    /// Re-runs a master commit that looked like a regression together with the
    /// previous master commit (ABAB), before anyone is told.
    Confirm,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Master => "master",
            Self::Pr => "pr",
            Self::Backfill => "backfill",
            Self::Manual => "manual",
            Self::Confirm => "confirm",
        }
    }
    pub fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "master" => Self::Master,
            "pr" => Self::Pr,
            "backfill" => Self::Backfill,
            "manual" => Self::Manual,
            "confirm" => Self::Confirm,
            other => return Err(unknown("purpose", other)),
        })
    }
    /// Master and backfill jobs go first: PRs wait for their baselines.
    pub fn priority(self) -> i64 {
        match self {
            Self::Master | Self::Backfill | Self::Confirm => 20,
            Self::Manual => 15,
            Self::Pr => 10,
        }
    }
    /// Results of these jobs form the master set.
    pub fn is_master_set(self) -> bool {
        matches!(self, Self::Master | Self::Backfill)
    }
}

/// Where a job is (column `perf_jobs.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum PerfState {
    Queued,
    Running,
    /// Executed; results not yet stored.
    Completed,
    /// Results stored and compared.
    Processed,
    Failed,
    Dead,
    Canceled,
    Superseded,
}

impl PerfState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Processed => "processed",
            Self::Failed => "failed",
            Self::Dead => "dead",
            Self::Canceled => "canceled",
            Self::Superseded => "superseded",
        }
    }
    pub fn from_db(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "completed" => Self::Completed,
            "processed" => Self::Processed,
            "failed" => Self::Failed,
            "dead" => Self::Dead,
            "canceled" => Self::Canceled,
            "superseded" => Self::Superseded,
            other => return Err(unknown("state", other)),
        })
    }
    /// No more work will happen on the job.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Processed | Self::Dead | Self::Canceled | Self::Superseded
        )
    }
}

fn unknown(col: &str, v: &str) -> StoreError {
    StoreError::Data(format!("perf_jobs.{col} holds unknown value {v:?}"))
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct NewPerfJob {
    pub project_id: i64,
    pub purpose: Purpose,
    pub sha: String,
    pub branch: Option<String>,
    pub head_ref: Option<String>,
    pub pr_number: Option<i64>,
    /// The commit to compare with, when known up front (`/perfwatch compare <sha>`).
    pub base_sha: Option<String>,
    /// 0: as the job definition says.
    pub repeats: i64,
    pub requested_by: String,
}

/// One job as users see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PerfJobRow {
    pub id: i64,
    pub project_id: i64,
    pub purpose: Purpose,
    pub state: PerfState,
    pub sha: String,
    pub branch: Option<String>,
    pub head_ref: Option<String>,
    pub pr_number: Option<i64>,
    pub base_sha: Option<String>,
    pub repeats: i64,
    pub requested_by: String,
    pub work_id: Option<i64>,
    pub definition_hash: Option<String>,
    pub testbed: Option<String>,
    #[serde(skip)]
    pub output: Option<String>,
    pub stop_requested: Option<String>,
    pub error_class: Option<String>,
    pub error: Option<String>,
    pub verdict: Option<String>,
    #[serde(skip)]
    pub report: Option<String>,
    pub run_ids: Vec<i64>,
    pub waits_for: Option<i64>,
    pub check_run_id: Option<i64>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
    pub updated_at: i64,
}

/// The lease a worker holds on a job's work item: its writes name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub work_id: i64,
    pub fence: i64,
}

/// One line of a step's log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LogLine {
    pub seq: i64,
    pub step: String,
    pub stream: String,
    pub line: String,
    pub at: i64,
}

const COLS: &str = "id, project_id, purpose, state, sha, branch, head_ref, pr_number, base_sha,
    repeats, requested_by, work_id, definition_hash, testbed, output, stop_requested,
    error_class, error, verdict, report, run_ids, waits_for, check_run_id, created_at,
    started_at, finished_at, updated_at";

/// The condition that a fence still holds its work item; the fence's work id and
/// fence are bound at placeholders `$n` and `$n+1` (see [`fenced`]).
fn holds(n: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM work_queue w WHERE w.id = ${n} AND w.fence = ${} AND w.state = 'leased')",
        n + 1
    )
}

fn job(r: &sqlx::any::AnyRow) -> Result<PerfJobRow> {
    let runs: Option<String> = r.try_get("run_ids")?;
    let run_ids = match runs {
        Some(t) => serde_json::from_str(&t)
            .map_err(|_| StoreError::Data("perf_jobs.run_ids is not a JSON list".into()))?,
        None => Vec::new(),
    };
    Ok(PerfJobRow {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        purpose: Purpose::from_db(&r.try_get::<String, _>("purpose")?)?,
        state: PerfState::from_db(&r.try_get::<String, _>("state")?)?,
        sha: r.try_get("sha")?,
        branch: r.try_get("branch")?,
        head_ref: r.try_get("head_ref")?,
        pr_number: r.try_get("pr_number")?,
        base_sha: r.try_get("base_sha")?,
        repeats: r.try_get("repeats")?,
        requested_by: r.try_get("requested_by")?,
        work_id: r.try_get("work_id")?,
        definition_hash: r.try_get("definition_hash")?,
        testbed: r.try_get("testbed")?,
        output: r.try_get("output")?,
        stop_requested: r.try_get("stop_requested")?,
        error_class: r.try_get("error_class")?,
        error: r.try_get("error")?,
        verdict: r.try_get("verdict")?,
        report: r.try_get("report")?,
        run_ids,
        waits_for: r.try_get("waits_for")?,
        check_run_id: r.try_get("check_run_id")?,
        created_at: r.try_get("created_at")?,
        started_at: r.try_get("started_at")?,
        finished_at: r.try_get("finished_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}

/// The `perf.run` work item of a job.
pub fn run_item(job_id: i64, priority: i64, now: i64) -> NewJob {
    NewJob {
        kind: crate::queue::kinds::PERF_RUN.into(),
        payload: serde_json::json!({ "job": job_id }).to_string(),
        priority,
        not_before: now,
        max_attempts: 3,
        backoff_ms: 10_000,
        coalesce_key: None,
    }
}

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

impl Store {
    /// The slug of a project by id.
    pub async fn project_slug_of(&self, project_id: i64) -> Result<String> {
        sqlx::query_scalar("SELECT slug FROM projects WHERE id = $1")
            .bind(project_id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("project {project_id}")))
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

    /// When a worker of any kind last heartbeated a perf job (for "no worker online").
    pub async fn perf_last_worker_beat(&self) -> Result<Option<i64>> {
        Ok(
            sqlx::query_scalar("SELECT MAX(heartbeat_at) FROM work_queue WHERE kind = 'perf.run'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}

impl Store {
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
}

impl Store {
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
