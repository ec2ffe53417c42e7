//! Background follow-up work after ingest: change-point detection and pull-request
//! comparisons, off the request path.
//!
//! Why: detection reads every point of each touched series, so doing it inside the
//! request makes a burst of N runs cost N full passes. The worker drains everything
//! queued since its last pass and runs one detection pass per project over the union
//! of touched series, so a burst costs a few passes and the submitter's answer never
//! waits for detection. Work lives in memory: if the process stops with jobs queued,
//! the next run on those series (or `POST /projects/{slug}/detect`) catches up, since
//! every pass re-examines the whole series.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;

use crate::detection::{detect_project, DetectSettings, Scope};
use crate::ingest::follow_up;
use crate::store::StoredRun;
use crate::Store;

struct Job {
    stored: StoredRun,
    has_commit: bool,
}

/// Handle on the follow-up worker. Cheap to clone.
#[derive(Clone)]
pub struct FollowUps {
    tx: mpsc::UnboundedSender<Job>,
    pending: Arc<AtomicUsize>,
}

impl FollowUps {
    /// Starts the worker on the current tokio runtime.
    pub fn spawn(store: Store) -> Self {
        let (tx, rx) = mpsc::unbounded_channel();
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(worker(store, rx, pending.clone()));
        Self { tx, pending }
    }

    pub fn enqueue(&self, stored: &StoredRun, has_commit: bool) {
        if stored.duplicate {
            return;
        }
        self.pending.fetch_add(1, Ordering::SeqCst);
        let job = Job {
            stored: stored.clone(),
            has_commit,
        };
        if self.tx.send(job).is_err() {
            self.pending.fetch_sub(1, Ordering::SeqCst);
            tracing::error!(
                run_id = stored.run_id,
                "follow-up worker is gone; run stored without detection"
            );
        }
    }

    /// Jobs queued and not finished yet.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::SeqCst)
    }

    /// Waits until every job queued so far is done, or `timeout` passes.
    pub async fn idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.pending() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }
}

async fn worker(store: Store, mut rx: mpsc::UnboundedReceiver<Job>, pending: Arc<AtomicUsize>) {
    while let Some(first) = rx.recv().await {
        // Let a burst of submissions (a CI matrix, a backfill) gather, so it costs one
        // pass instead of one per run; half a second is invisible to people.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
        }
        let n = batch.len();
        // One detection pass per project over the union of the series the batch touched.
        let mut detect: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
        for job in &batch {
            let s = &job.stored;
            if s.on_main_branch || s.branch_id.is_none() {
                detect
                    .entry(s.project.clone())
                    .or_default()
                    .extend(&s.series_ids);
            } else {
                // Pull-request runs: the baseline comparison (and its webhook).
                follow_up(&store, s, job.has_commit).await;
            }
        }
        for (project, ids) in detect {
            let scope = Scope::Series(ids.into_iter().collect());
            if let Err(e) =
                detect_project(&store, &project, scope, &DetectSettings::default()).await
            {
                tracing::error!(%project, error = %e, "background detection failed");
            }
        }
        pending.fetch_sub(n, Ordering::SeqCst);
    }
}
