//! The work queue's SQL (`work_queue`, migration 0006). The rules — when a job is
//! retried, when it is dead, how long a lease lasts — live in `crate::queue`; this file
//! only reads and writes rows.
//!
//! Claim is one statement: on SQLite inside `BEGIN IMMEDIATE` on the one writer
//! connection (`write_tx.rs`), so two claimers in this process or another one take
//! turns; on PostgreSQL the candidate row is picked with `FOR UPDATE SKIP LOCKED`, so
//! concurrent claimers skip each other's rows instead of waiting or sharing them.
//! Every write after the claim names the fence the claim returned: once a lease has
//! been taken over (fence bumped), the old worker's writes match no row.

use sqlx::Row;

use super::{Dialect, Store, WriteTx};
use crate::error::{Result, StoreError};

/// The state of a job (column `work_queue.state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum JobState {
    /// Waiting for `not_before`, or claimable.
    Queued,
    /// Claimed by a worker until `lease_expires_at`.
    Leased,
    Done,
    /// Gave up (attempts exhausted or a permanent error); admins may re-queue it.
    Dead,
}

impl JobState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Leased => "leased",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    /// Checked decode: unknown text in the database is an error naming the column.
    pub fn from_db(s: &str) -> Result<Self> {
        match s {
            "queued" => Ok(Self::Queued),
            "leased" => Ok(Self::Leased),
            "done" => Ok(Self::Done),
            "dead" => Ok(Self::Dead),
            other => Err(StoreError::Data(format!(
                "work_queue.state holds unknown value {other:?}"
            ))),
        }
    }
}

/// A job to insert.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: String,
    /// JSON text.
    pub payload: String,
    pub priority: i64,
    pub not_before: i64,
    pub max_attempts: i64,
    pub backoff_ms: i64,
    /// Jobs with the same key coalesce while queued (see [`Store::queue_enqueue_coalesced`]).
    pub coalesce_key: Option<String>,
}

/// What a claim returns: the job as of the claim and the fence that authorises the
/// claimer's later writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimedRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    /// Including this one.
    pub attempts: i64,
    pub max_attempts: i64,
    pub backoff_ms: i64,
    pub fence: i64,
    pub lease_owner: String,
    pub lease_expires_at: i64,
}

/// How a leased job ends its attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    Done,
    /// Back to the queue, claimable from `not_before`.
    Retry {
        not_before: i64,
        error: String,
    },
    Dead {
        error: String,
    },
    /// Given back unattempted (shutdown): the attempt is not counted.
    Release,
}

/// A job as admins see it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JobRow {
    pub id: i64,
    pub kind: String,
    pub payload: String,
    pub priority: i64,
    pub state: JobState,
    pub not_before: i64,
    pub attempts: i64,
    pub max_attempts: i64,
    pub backoff_ms: i64,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<i64>,
    pub fence: i64,
    pub heartbeat_at: Option<i64>,
    pub takeovers: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Queue depth of one kind in one state (for metrics).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct QueueDepth {
    pub kind: String,
    pub state: JobState,
    pub jobs: i64,
    /// Creation time of the oldest job, ms since the epoch.
    pub oldest_created_at: i64,
}

/// How a merge into a queued job moves the job's start (`not_before`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gather {
    /// The queued job keeps its start (scheduled passes: their time is the point).
    Keep,
    /// Each merge moves the start to the new job's (`now` + its wait), never past
    /// `created_at + max_ms`: while a burst keeps arriving the job waits for its end,
    /// and a steady stream still gets a pass every `max_ms`.
    Until { max_ms: i64 },
}

impl Gather {
    /// The queued job's new start, when a merge at `now` should move it from `old`.
    /// The move is written only when the start is less than half the wait away, so a
    /// burst of runs costs a write every half wait, not one per run.
    fn moved_start(self, old: i64, created_at: i64, wanted: i64, now: i64) -> Option<i64> {
        let Self::Until { max_ms } = self else {
            return None;
        };
        let wait = wanted - now;
        let new = wanted.min(created_at.saturating_add(max_ms));
        (old < now + wait / 2 && new > old).then_some(new)
    }
}

/// [`Store::queue_enqueue_coalesced`] inside the caller's transaction, so the job commits
/// with the caller's other writes (ingest queues a run's detection with the run).
///
/// On PostgreSQL the queued row stays locked until the caller commits, so a worker
/// cannot claim the job (its claim skips locked rows) before the writes it is about
/// are visible. The lock is `FOR KEY SHARE`, which concurrent enqueuers share, and a
/// merge's `UPDATE` (a `FOR NO KEY UPDATE` lock) lets them through: with `FOR UPDATE`
/// every run of a project waited for the one before it to commit. Two merges that
/// both change the row take turns on the update, and the second, finding the payload
/// it merged into changed, reads again and merges again (optimistic, so no lost
/// series). A concurrent enqueuer may insert between our read and insert:
/// `insert_job`'s `ON CONFLICT DO NOTHING` then waits for it and returns nothing
/// (without aborting the transaction), and the next round reads and merges into its
/// job.
pub(crate) async fn enqueue_coalesced_in(
    dialect: Dialect,
    tx: &mut WriteTx,
    job: &NewJob,
    now: i64,
    gather: Gather,
    merge: impl Fn(&str) -> Result<String>,
) -> Result<i64> {
    let key = job
        .coalesce_key
        .as_deref()
        .ok_or_else(|| StoreError::invalid("coalesce_key", "required to coalesce"))?;
    let lock = match dialect {
        Dialect::Postgres => " FOR KEY SHARE",
        Dialect::Sqlite => "",
    };
    let sql = format!(
        "SELECT id, payload, not_before, created_at FROM work_queue
         WHERE coalesce_key = $1 AND state = 'queued'{lock}"
    );
    // Each round that finds nothing to do or wins its update returns; a lost race
    // means another enqueuer committed a change, so rounds are bounded by them.
    for _ in 0..MERGE_ROUNDS {
        let row = sqlx::query(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(key)
            .fetch_optional(&mut **tx)
            .await?;
        if let Some(row) = row {
            let id: i64 = row.try_get("id")?;
            let old: String = row.try_get("payload")?;
            let new = merge(&old)?;
            let start = gather.moved_start(
                row.try_get("not_before")?,
                row.try_get("created_at")?,
                job.not_before,
                now,
            );
            // The same series again (every run of a project's benchmarks) and the
            // start not due to move: no write.
            if new == old && start.is_none() {
                return Ok(id);
            }
            let updated = sqlx::query(
                "UPDATE work_queue SET payload = $1, updated_at = $2,
                     not_before = CASE WHEN $3 > not_before THEN $3 ELSE not_before END
                 WHERE id = $4 AND payload = $5 AND state = 'queued'",
            )
            .bind(new)
            .bind(now)
            .bind(start)
            .bind(id)
            .bind(old)
            .execute(&mut **tx)
            .await?
            .rows_affected();
            if updated == 1 {
                return Ok(id);
            }
            continue;
        }
        if let Some(id) = insert_job(tx, job, now).await? {
            return Ok(id);
        }
    }
    Err(StoreError::Conflict {
        field: "coalesce_key".into(),
        reason: "could not insert or merge the job".into(),
    })
}

/// How many times a coalescing enqueue reads and merges before it gives up.
const MERGE_ROUNDS: usize = 64;

/// `$first, $first+1, …` for `n` values.
pub(super) fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Inserts a job; returns its id.
    pub async fn queue_insert(&self, job: &NewJob, now: i64) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert_job(&mut tx, job, now).await?;
        tx.commit().await?;
        id.ok_or_else(|| StoreError::Conflict {
            field: "coalesce_key".into(),
            reason: "a queued job with this key exists".into(),
        })
    }

    /// Inserts a job, or — when a queued job with the same `coalesce_key` exists —
    /// replaces that job's payload by `merge(old payload)`, so a burst of requests for
    /// the same work makes one job. A job already claimed is not touched: the work it
    /// holds has started, so new requests make a new queued job.
    pub async fn queue_enqueue_coalesced(
        &self,
        job: &NewJob,
        now: i64,
        merge: impl Fn(&str) -> Result<String>,
    ) -> Result<i64> {
        self.queue_enqueue_gathering(job, now, Gather::Keep, merge)
            .await
    }

    /// [`Store::queue_enqueue_coalesced`], with `gather` saying whether the merge moves
    /// the queued job's start.
    pub async fn queue_enqueue_gathering(
        &self,
        job: &NewJob,
        now: i64,
        gather: Gather,
        merge: impl Fn(&str) -> Result<String>,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = enqueue_coalesced_in(self.dialect, &mut tx, job, now, gather, merge).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Claims the next due job of one of `kinds` — highest priority first, then oldest —
    /// or a leased one whose lease expired (a takeover): one statement that sets the
    /// lease, counts the attempt and bumps the fence.
    pub async fn queue_claim(
        &self,
        kinds: &[&str],
        owner: &str,
        now: i64,
        lease_ms: i64,
    ) -> Result<Option<ClaimedRow>> {
        if kinds.is_empty() {
            return Ok(None);
        }
        let skip_locked = match self.dialect {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "UPDATE work_queue SET state = 'leased', lease_owner = $2, lease_expires_at = $3,
                 heartbeat_at = $1, fence = fence + 1, attempts = attempts + 1,
                 takeovers = takeovers + CASE WHEN state = 'leased' THEN 1 ELSE 0 END,
                 updated_at = $1
             WHERE id = (
                 SELECT id FROM work_queue
                 WHERE kind IN ({kinds})
                   AND ((state = 'queued' AND not_before <= $1)
                        OR (state = 'leased' AND lease_expires_at <= $1 AND attempts < max_attempts))
                 ORDER BY priority DESC, created_at, id
                 LIMIT 1{skip_locked})
             RETURNING id, kind, payload, attempts, max_attempts, backoff_ms, fence,
                 lease_owner, lease_expires_at",
            kinds = placeholders(4, kinds.len()),
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(now)
            .bind(owner)
            .bind(now + lease_ms);
        for k in kinds {
            q = q.bind(*k);
        }
        let mut tx = self.begin_write().await?;
        let row = q.fetch_optional(&mut *tx).await?;
        tx.commit().await?;
        row.map(|r| {
            Ok(ClaimedRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                payload: r.try_get("payload")?,
                attempts: r.try_get("attempts")?,
                max_attempts: r.try_get("max_attempts")?,
                backoff_ms: r.try_get("backoff_ms")?,
                fence: r.try_get("fence")?,
                lease_owner: r.try_get("lease_owner")?,
                lease_expires_at: r.try_get("lease_expires_at")?,
            })
        })
        .transpose()
    }

    /// Extends a lease; `false` when the fence is stale (the job was taken over or
    /// finished).
    pub async fn queue_heartbeat(
        &self,
        id: i64,
        fence: i64,
        now: i64,
        lease_ms: i64,
    ) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE work_queue SET heartbeat_at = $1, lease_expires_at = $2, updated_at = $1
             WHERE id = $3 AND fence = $4 AND state = 'leased'",
        )
        .bind(now)
        .bind(now + lease_ms)
        .bind(id)
        .bind(fence)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Ends an attempt; `false` when the fence is stale (nothing written).
    pub async fn queue_finish(&self, id: i64, fence: i64, how: &Finish, now: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let ok = queue_finish_in(&mut tx, id, fence, how, now).await?;
        tx.commit().await?;
        Ok(ok)
    }

    /// Marks dead the jobs whose lease expired after their last allowed attempt (a
    /// worker died on each of them): takeover would exceed `max_attempts`.
    pub async fn queue_bury_expired(&self, now: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE work_queue SET state = 'dead', lease_owner = NULL, lease_expires_at = NULL,
                 last_error = 'the lease of the last attempt expired', updated_at = $1
             WHERE state = 'leased' AND lease_expires_at <= $1 AND attempts >= max_attempts",
        )
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if n > 0 {
            // A performance job whose work item just died this way would otherwise show
            // "running" for ever: it ends dead with it, in the same transaction.
            sqlx::query(
                "UPDATE perf_jobs SET state = 'dead', updated_at = $1,
                     error = 'the runner stopped renewing its lease on the last attempt'
                 WHERE state IN ('queued', 'running')
                   AND work_id IN (SELECT id FROM work_queue
                                   WHERE state = 'dead' AND kind = 'perf.run')",
            )
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Puts a dead job back in the queue with its attempts reset; `false` when the job
    /// is not dead.
    pub async fn queue_requeue_dead(&self, id: i64, now: i64) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query(
            "UPDATE work_queue SET state = 'queued', attempts = 0, not_before = $1, updated_at = $1
             WHERE id = $2 AND state = 'dead'",
        )
        .bind(now)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        Ok(n == 1)
    }

    /// Deletes finished jobs last updated before `before`.
    pub async fn queue_prune_done(&self, before: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let n = sqlx::query("DELETE FROM work_queue WHERE state = 'done' AND updated_at < $1")
            .bind(before)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(n)
    }
}

/// Inserts a job; `None` when a queued job with the same coalesce key exists.
pub(super) async fn insert_job(tx: &mut WriteTx, job: &NewJob, now: i64) -> Result<Option<i64>> {
    let id = sqlx::query_scalar(
        "INSERT INTO work_queue (kind, payload, coalesce_key, priority, state, not_before,
             attempts, max_attempts, backoff_ms, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'queued', $5, 0, $6, $7, $8, $8)
         ON CONFLICT (coalesce_key) WHERE state = 'queued' AND coalesce_key IS NOT NULL
         DO NOTHING RETURNING id",
    )
    .bind(&job.kind)
    .bind(&job.payload)
    .bind(&job.coalesce_key)
    .bind(job.priority)
    .bind(job.not_before)
    .bind(job.max_attempts.max(1))
    .bind(job.backoff_ms.max(0))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(id)
}

/// Ends an attempt inside a transaction the caller also writes the job's effects in
/// (e.g. a delivery's outcome), so effects and the end of the lease commit together or
/// not at all; `false` when the fence is stale.
pub(crate) async fn queue_finish_in(
    tx: &mut WriteTx,
    id: i64,
    fence: i64,
    how: &Finish,
    now: i64,
) -> Result<bool> {
    let (state, not_before, error, uncount): (&str, Option<i64>, Option<&str>, i64) = match how {
        Finish::Done => ("done", None, None, 0),
        Finish::Retry { not_before, error } => ("queued", Some(*not_before), Some(error), 0),
        Finish::Dead { error } => ("dead", None, Some(error), 0),
        Finish::Release => ("queued", None, None, 1),
    };
    let n = sqlx::query(
        "UPDATE work_queue SET state = $1, not_before = COALESCE($2, not_before),
             last_error = COALESCE($3, last_error), attempts = attempts - $4,
             lease_owner = NULL, lease_expires_at = NULL, updated_at = $5
         WHERE id = $6 AND fence = $7 AND state = 'leased'",
    )
    .bind(state)
    .bind(not_before)
    .bind(error)
    .bind(uncount)
    .bind(now)
    .bind(id)
    .bind(fence)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(n == 1)
}
