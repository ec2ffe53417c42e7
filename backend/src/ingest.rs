//! The ingest use case: store a validated run; then the follow-up work a new run makes
//! necessary: change-point detection for runs on the main branch, and for pull-request
//! runs (another branch, with a commit) the comparison with the main-branch baseline,
//! announced to the project's `comparison.finished` webhook subscribers.

use perfwatch_core::validate::ValidRun;

use crate::baseline::compare_run_to_baseline;
use crate::detection::{detect_project, DetectSettings, Scope};
use crate::error::Result;
use crate::notify::{comparison_event, EVENTS};
use crate::store::{IngestOptions, StoredRun};
use crate::Store;

/// Stores a run and does its follow-up work before returning (CLI, demo, tests, and
/// servers started with `--detect-inline`).
pub async fn ingest_run(store: &Store, run: &ValidRun, opts: &IngestOptions) -> Result<StoredRun> {
    let stored = store.store_run(run, opts).await?;
    follow_up(store, &stored, run.commit.is_some()).await;
    Ok(stored)
}

/// Stores a run and queues its follow-up work (a job of the persistent work queue):
/// the answer to the submitter does not wait for detection, and a burst of runs is
/// detected in a few coalesced passes instead of one pass per run (see `followup.rs`).
pub async fn ingest_run_deferred(
    store: &Store,
    run: &ValidRun,
    opts: &IngestOptions,
    followups: &crate::followup::FollowUps,
) -> Result<StoredRun> {
    // The job is written in the run's transaction: one commit per run (per batch on
    // SQLite) instead of two, and a stored run always has its follow-up queued.
    let stored = store.store_run_queued(run, opts).await?;
    followups.queued(&stored, run.commit.is_some());
    Ok(stored)
}

/// Detection for main-branch and time-indexed runs; the baseline comparison for
/// pull-request runs. Errors are logged, never returned: the run is stored.
pub(crate) async fn follow_up(store: &Store, stored: &StoredRun, has_commit: bool) {
    // Detection follows runs on the main branch and time-indexed runs (no branch). The
    // run is stored either way: a detection failure is logged, not returned, and the
    // next pass (or `POST /projects/{slug}/detect`) catches up.
    if !stored.duplicate && (stored.on_main_branch || stored.branch_id.is_none()) {
        let scope = Scope::Series(stored.series_ids.clone());
        if let Err(e) =
            detect_project(store, &stored.project, scope, &DetectSettings::default()).await
        {
            tracing::error!(run_id = stored.run_id, error = %e, "detection after ingest failed");
        }
    }
    // A pull-request run: compare it with its baseline and tell the subscribers. Never
    // fails the ingest: the run is stored, the comparison can be had on the compare page.
    if !stored.duplicate && !stored.on_main_branch && stored.branch_id.is_some() && has_commit {
        if let Err(e) = announce_comparison(store, stored.project_id, stored.run_id).await {
            tracing::error!(run_id = stored.run_id, error = %e, "comparison after ingest failed");
        }
    }
}

/// Compares a stored run with its main-branch baseline and queues `comparison.finished`
/// for the subscribers; skipped (nothing computed) when nobody subscribes.
pub(crate) async fn announce_comparison(
    store: &Store,
    project_id: i64,
    run_id: i64,
) -> Result<usize> {
    let name = EVENTS[2];
    if !store.wants_event(project_id, name).await? {
        return Ok(0);
    }
    let verdict = compare_run_to_baseline(store, run_id).await?;
    let head_url = store.run_detail(run_id).await?.commit.and_then(|c| c.url);
    match comparison_event(&verdict, head_url) {
        Some(event) => store.enqueue_event(project_id, event).await,
        None => Ok(0),
    }
}
