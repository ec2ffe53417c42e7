//! Making jobs: from events, commands, the reconciler and by hand. One place decides a
//! job's purpose, so priorities and supersede rules stay the same whatever asked.

use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::queue::{kinds, NewJob};
use crate::store::perf_jobs::{NewPerfJob, Purpose};
use crate::time::now_ms;
use crate::Store;

/// A report for the outbox (payload of a `github.report` job).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Report {
    /// The job started: check run / status "in progress".
    Started { job: i64 },
    /// The job ended (a verdict, or a failure): check run / status, and for PRs the
    /// sticky comment.
    Finished { job: i64 },
    /// A short answer on a PR (commands, refusals, help).
    Reply {
        project_id: i64,
        pr: i64,
        body: String,
    },
}

/// The outbox item for `report`.
pub fn report_item(report: &Report, now: i64) -> NewJob {
    NewJob {
        kind: kinds::GITHUB_REPORT.into(),
        payload: serde_json::to_string(report).unwrap_or_default(),
        priority: 5,
        not_before: now,
        max_attempts: 12,
        backoff_ms: 2_000,
        coalesce_key: None,
    }
}

/// A manual request (UI, API, CLI): a commit, optionally as a PR's head.
#[derive(Debug, Clone, Default, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ManualRequest {
    pub commit: String,
    #[serde(default)]
    pub pr: Option<i64>,
    #[serde(default)]
    pub branch: Option<String>,
    /// The commit to compare with (PR jobs default to the merge-base).
    #[serde(default)]
    pub base: Option<String>,
    #[serde(default)]
    pub repeats: Option<i64>,
}

fn check_sha(field: &str, sha: &str) -> Result<String> {
    let ok = (7..=40).contains(&sha.len()) && sha.chars().all(|c| c.is_ascii_hexdigit());
    if ok {
        Ok(sha.to_ascii_lowercase())
    } else {
        Err(StoreError::invalid(
            field,
            "expected a commit sha (7 to 40 hex digits)",
        ))
    }
}

/// Queues a job by hand for project `slug`; returns its id. Always a new job.
pub async fn manual(store: &Store, slug: &str, req: &ManualRequest, who: &str) -> Result<i64> {
    let project = store.project(slug).await?;
    if store.github_integration(project.id).await?.is_none() {
        return Err(StoreError::invalid(
            "project",
            "link a repository first (perfwatch github set / PUT …/github)",
        ));
    }
    let sha = check_sha("commit", &req.commit)?;
    let base = req
        .base
        .as_deref()
        .map(|b| check_sha("base", b))
        .transpose()?;
    if let Some(r) = req.repeats {
        if !(1..=50).contains(&r) {
            return Err(StoreError::invalid("repeats", "1 to 50"));
        }
    }
    // A PR's head without a base is a PR job (compared at its merge-base, superseded by
    // a newer head); with a base it is compared with exactly that commit.
    let purpose = if req.pr.is_some() && base.is_none() {
        Purpose::Pr
    } else {
        Purpose::Manual
    };
    let new = NewPerfJob {
        project_id: project.id,
        purpose,
        sha,
        branch: req.branch.clone(),
        head_ref: req.branch.clone(),
        pr_number: req.pr,
        base_sha: base,
        repeats: req.repeats.unwrap_or(0),
        requested_by: who.to_string(),
    };
    let (id, _) = store.perf_job_create(&new, true, now_ms()).await?;
    Ok(id)
}

/// Cancels one job (a PR's queued job ends, a running one stops within one poll).
pub async fn cancel_job(
    store: &Store,
    job: &crate::store::perf_jobs::PerfJobRow,
    who: &str,
) -> Result<bool> {
    store
        .perf_job_cancel(job.id, &format!("canceled by {who}"), now_ms())
        .await
}

/// The queue as the queue page shows it.
#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueueView {
    pub queued: Vec<QueuedJob>,
    pub running: Vec<crate::store::perf_jobs::PerfJobRow>,
    /// Median run time of recent jobs, ms.
    pub typical_ms: Option<i64>,
    /// When a runner last heartbeated a job (ms since the epoch).
    pub last_runner_beat: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct QueuedJob {
    pub position: usize,
    /// Expected start, ms from now (one runner slot assumed).
    pub eta_ms: Option<i64>,
    pub job: crate::store::perf_jobs::PerfJobRow,
}

pub async fn queue_view(store: &Store) -> Result<QueueView> {
    use crate::store::perf_jobs::PerfState;
    let mut d = store.perf_recent_durations(20).await?;
    d.sort_unstable();
    let typical_ms = d.get(d.len() / 2).copied();
    let running = store
        .perf_jobs(None, None, &[PerfState::Running], 100)
        .await?;
    let queued = store
        .perf_queue_order()
        .await?
        .into_iter()
        .enumerate()
        .map(|(i, job)| QueuedJob {
            position: i + 1,
            eta_ms: typical_ms.map(|t| t * (i as i64 + running.len().min(1) as i64)),
            job,
        })
        .collect();
    Ok(QueueView {
        queued,
        running,
        typical_ms,
        last_runner_beat: store.perf_last_worker_beat().await?,
    })
}
