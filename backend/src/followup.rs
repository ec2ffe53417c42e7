//! Follow-up work after ingest — change-point detection and pull-request comparisons —
//! as jobs of the persistent work queue (`crate::queue`), off the request path.
//!
//! Why a queue: detection reads every point of each touched series, so doing it
//! inside the request makes a burst of N runs cost N full passes; and work held in
//! memory was lost when the process stopped. A main-branch run now adds its series to
//! the one queued "detect project P" job (coalesce key `detect:P`), whose start waits
//! half a second for the rest of a burst (a CI matrix, a backfill); each run that
//! joins it moves the start on, so the pass runs once the burst has been quiet for
//! half a second, or [`MAX_GATHER_MS`] after the job was queued if the runs keep
//! coming. Once a worker has claimed it, new runs make the next one. A burst therefore
//! costs a pass every two seconds at most (one for a short burst), the submitter never waits
//! for detection, and queued work survives a restart.
//!
//! Why the start moves: a pass reads the last 1,000 points of every series it names,
//! and during a burst each pass is redone by the next one. With a fixed half second,
//! the passes took 46 % of a PostgreSQL server's CPU while 8 clients posted runs
//! (docs/benchmarks.md, ingestion, fourth pass).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use crate::detection::{detect_project, DetectSettings, Scope};
use crate::error::{Result, StoreError};
use crate::ingest::announce_comparison;
use crate::queue::{
    kinds, Gather, Handler, HandlerFuture, JobFailure, Lease, NewJob, Outcome, Queue,
};
use crate::store::StoredRun;
use crate::time::now_ms;
use crate::Store;

/// How long a new detection job waits for more runs of the burst (and, moved on by each
/// run that joins it, how long the burst must be quiet).
pub const GATHER_MS: i64 = 500;

/// The longest a queued detection job waits while runs keep joining it: a steady
/// stream of runs still sees its alerts within seconds (with 10 s, a 20-second soak
/// at 18 runs/s raised none for its triagers to act on).
pub const MAX_GATHER_MS: i64 = 2_000;

/// How ingest's merges move a queued detection job's start.
pub(crate) const DETECT_GATHER: Gather = Gather::Until {
    max_ms: MAX_GATHER_MS,
};

/// Payload of a [`kinds::DETECT`] job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectJob {
    pub project: String,
    pub series: BTreeSet<i64>,
}

/// Payload of a [`kinds::COMPARE`] job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareJob {
    pub run_id: i64,
    pub project_id: i64,
}

/// Queues the follow-up work of stored runs. Cheap to clone.
#[derive(Clone)]
pub struct FollowUps {
    store: Store,
    /// Rung after each enqueue: the follow-up worker of this process claims at once.
    wake: Arc<Notify>,
}

impl FollowUps {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            wake: Arc::default(),
        }
    }

    /// What the follow-up worker waits on besides its poll.
    pub fn wake_handle(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Queues detection (main-branch and time-indexed runs) or the baseline comparison
    /// (pull-request runs with a commit) of a stored run. A duplicate run needs none.
    /// (`POST /runs` queues it in the run's own transaction instead:
    /// `Store::store_run_queued`.)
    pub async fn enqueue(&self, stored: &StoredRun, has_commit: bool) -> Result<()> {
        let now = now_ms();
        match follow_up_job(stored, has_commit, now)? {
            Some(FollowUpJob::Detect { job, add }) => {
                self.store
                    .queue_enqueue_gathering(&job, now, DETECT_GATHER, |old| {
                        merge_detect(old, &add)
                    })
                    .await?;
            }
            Some(FollowUpJob::Compare(job)) => {
                self.store.queue_insert(&job, now).await?;
                // Due at once, unlike detection (see `queued`).
                self.wake();
            }
            None => {}
        }
        Ok(())
    }

    /// Tells this process's follow-up worker that jobs were queued.
    pub fn wake(&self) {
        self.wake.notify_waiters();
    }

    /// Wakes the worker for the follow-up job a stored run queued, when that job is due
    /// at once (a pull-request comparison). A detection job waits [`GATHER_MS`] for the
    /// rest of its burst, and the worker's poll claims it soon after: woken by every
    /// run, the worker tried a claim per run, on SQLite a write transaction each.
    pub fn queued(&self, stored: &StoredRun, has_commit: bool) {
        if follow_up_of(stored, has_commit) == FollowUp::Compare {
            self.wake();
        }
    }

    /// Follow-up jobs queued or running (in the database, from any process).
    pub async fn pending(&self) -> Result<i64> {
        self.store
            .queue_unfinished(&[kinds::DETECT, kinds::COMPARE])
            .await
    }

    /// Waits until no follow-up job is queued or running, or `timeout` passes.
    pub async fn idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if matches!(self.pending().await, Ok(0)) {
                return true;
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// The follow-up job of a stored run.
pub(crate) enum FollowUpJob {
    /// Detection over `add`'s series, coalesced into the project's queued job.
    Detect { job: NewJob, add: DetectJob },
    /// The baseline comparison of a pull-request run.
    Compare(NewJob),
}

/// The follow-up job a stored run needs, if any: detection for main-branch and
/// time-indexed runs, the baseline comparison for pull-request runs with a commit,
/// nothing for a duplicate.
pub(crate) fn follow_up_job(
    stored: &StoredRun,
    has_commit: bool,
    now: i64,
) -> Result<Option<FollowUpJob>> {
    Ok(match follow_up_of(stored, has_commit) {
        FollowUp::Nothing => None,
        FollowUp::Detect => {
            let add = DetectJob {
                project: stored.project.clone(),
                series: stored.series_ids.iter().copied().collect(),
            };
            Some(FollowUpJob::Detect {
                job: detect_job(&add, now)?,
                add,
            })
        }
        FollowUp::Compare => Some(FollowUpJob::Compare(compare_job(stored, now)?)),
    })
}

fn compare_job(stored: &StoredRun, now: i64) -> Result<NewJob> {
    Ok(NewJob {
        kind: kinds::COMPARE.into(),
        payload: serde_json::to_string(&CompareJob {
            run_id: stored.run_id,
            project_id: stored.project_id,
        })?,
        priority: 5,
        not_before: now,
        max_attempts: 3,
        backoff_ms: 10_000,
        coalesce_key: None,
    })
}

/// Which follow-up a stored run needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FollowUp {
    Nothing,
    Detect,
    Compare,
}

/// Main-branch and time-indexed runs are detected on; pull-request runs with a commit
/// are compared with their baseline; a duplicate needs nothing.
fn follow_up_of(stored: &StoredRun, has_commit: bool) -> FollowUp {
    if stored.duplicate {
        FollowUp::Nothing
    } else if stored.on_main_branch || stored.branch_id.is_none() {
        FollowUp::Detect
    } else if has_commit {
        FollowUp::Compare
    } else {
        FollowUp::Nothing
    }
}

fn detect_job(add: &DetectJob, now: i64) -> Result<NewJob> {
    Ok(NewJob {
        kind: kinds::DETECT.into(),
        payload: serde_json::to_string(add)?,
        priority: 10,
        not_before: now + GATHER_MS,
        max_attempts: 5,
        backoff_ms: 5_000,
        coalesce_key: Some(format!("detect:{}", add.project)),
    })
}

/// The follow-up jobs of runs written together, with the detection of each project
/// joined into one job: one queue write per project per batch instead of one per run.
pub(crate) fn coalesce_jobs(jobs: Vec<FollowUpJob>, now: i64) -> Result<Vec<FollowUpJob>> {
    let mut detects: Vec<DetectJob> = Vec::new();
    let mut out = Vec::new();
    for j in jobs {
        match j {
            FollowUpJob::Detect { add, .. } => {
                match detects.iter_mut().find(|d| d.project == add.project) {
                    Some(d) => d.series.extend(add.series),
                    None => detects.push(add),
                }
            }
            compare => out.push(compare),
        }
    }
    for add in detects {
        out.push(FollowUpJob::Detect {
            job: detect_job(&add, now)?,
            add,
        });
    }
    Ok(out)
}

/// Ingest's merge: a queued payload that does not decode (it can only fail as a job)
/// is replaced by the new run's series rather than failing the run being stored.
pub(crate) fn merge_for_ingest(old: &str, add: &DetectJob) -> Result<String> {
    merge_detect(old, add).or_else(|e| {
        tracing::warn!(error = %e, "replacing an undecodable queued detect job");
        Ok(serde_json::to_string(add)?)
    })
}

/// The queued job's payload with `add`'s series joined in.
fn merge_detect(old: &str, add: &DetectJob) -> Result<String> {
    let mut job: DetectJob = serde_json::from_str(old)
        .map_err(|e| StoreError::Data(format!("work_queue.payload of a detect job: {e}")))?;
    job.series.extend(&add.series);
    Ok(serde_json::to_string(&job)?)
}

/// A payload that does not decode will never decode: the job is dead at once.
fn decode<T: serde::de::DeserializeOwned>(lease: &Lease) -> Result<T, JobFailure> {
    serde_json::from_str(&lease.payload)
        .map_err(|e| JobFailure::Permanent(format!("payload of {}: {e}", lease.kind)))
}

/// A missing project or run will stay missing; anything else may pass.
fn failure(e: StoreError) -> JobFailure {
    match e {
        StoreError::NotFound(_) => JobFailure::Permanent(e.to_string()),
        e => JobFailure::Retry(e.to_string()),
    }
}

/// Runs [`kinds::DETECT`] jobs: one detection pass over the job's series.
pub struct DetectHandler {
    pub store: Store,
}

impl Handler for DetectHandler {
    fn kind(&self) -> &'static str {
        kinds::DETECT
    }

    fn run<'a>(&'a self, _: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let job: DetectJob = decode(lease)?;
            let scope = Scope::Series(job.series.into_iter().collect());
            detect_project(&self.store, &job.project, scope, &DetectSettings::default())
                .await
                .map_err(failure)?;
            Ok(Outcome::Done)
        })
    }
}

/// Runs [`kinds::COMPARE`] jobs: a pull-request run against its baseline, announced to
/// the `comparison.finished` subscribers.
pub struct CompareHandler {
    pub store: Store,
}

impl Handler for CompareHandler {
    fn kind(&self) -> &'static str {
        kinds::COMPARE
    }

    fn run<'a>(&'a self, _: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let job: CompareJob = decode(lease)?;
            announce_comparison(&self.store, job.project_id, job.run_id)
                .await
                .map_err(failure)?;
            Ok(Outcome::Done)
        })
    }
}
