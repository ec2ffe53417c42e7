//! Performance jobs (`perf_jobs`, `perf_job_logs`, migration 0008): what users see of a
//! job, beside the `work_queue` row that executes it. Every write a worker makes while
//! running a job names the work item's fence ([`Fence`]); once the lease was taken
//! over, the old worker's writes match no row and are refused.

use sqlx::Row;

use super::queue::NewJob;
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

pub(super) fn unknown(col: &str, v: &str) -> StoreError {
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

pub(super) const COLS: &str =
    "id, project_id, purpose, state, sha, branch, head_ref, pr_number, base_sha,
    repeats, requested_by, work_id, definition_hash, testbed, output, stop_requested,
    error_class, error, verdict, report, run_ids, waits_for, check_run_id, created_at,
    started_at, finished_at, updated_at";

/// The condition that a fence still holds its work item; the fence's work id and
/// fence are bound at placeholders `$n` and `$n+1` (see [`fenced`]).
pub(super) fn holds(n: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM work_queue w WHERE w.id = ${n} AND w.fence = ${} AND w.state = 'leased')",
        n + 1
    )
}

pub(super) fn job(r: &sqlx::any::AnyRow) -> Result<PerfJobRow> {
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
