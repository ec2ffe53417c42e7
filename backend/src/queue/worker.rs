//! The worker loop: claims jobs of the kinds it has handlers for, runs each under a
//! heartbeat, and ends the attempt from the handler's answer. On shutdown it stops
//! claiming, lets the job in hand finish for a grace period, then releases its lease
//! (the attempt is not counted) so another process can take the job at once.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::lease::{JobFailure, Lease, Queue, QueueError};
use crate::observe::Metrics;
use crate::store::queue::JobState;

/// How a handler's attempt ended, when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The worker completes the job.
    Done,
    /// The handler already ended the attempt itself, in the transaction that wrote its
    /// effects (through a fenced store method).
    Finished,
}

pub type HandlerFuture<'a> = Pin<Box<dyn Future<Output = Result<Outcome, JobFailure>> + Send + 'a>>;

/// Runs the jobs of one kind.
pub trait Handler: Send + Sync {
    fn kind(&self) -> &'static str;
    fn run<'a>(&'a self, queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a>;
}

/// Worker settings.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Wait between claims when the queue has nothing due.
    pub poll: Duration,
    /// After the shutdown signal, how long the job in hand may still run.
    pub grace: Duration,
}

/// One claiming loop over a set of handlers.
pub struct Worker {
    queue: Queue,
    handlers: HashMap<&'static str, Arc<dyn Handler>>,
    opts: WorkerOptions,
    /// Rung by local enqueuers so a new job is claimed without waiting for the poll.
    wake: Arc<Notify>,
    metrics: Option<Arc<Metrics>>,
}

impl Worker {
    pub fn new(queue: Queue, opts: WorkerOptions, wake: Arc<Notify>) -> Self {
        Self {
            queue,
            handlers: HashMap::new(),
            opts,
            wake,
            metrics: None,
        }
    }

    /// Counts how each attempt ends in `metrics`.
    pub fn observed_by(mut self, metrics: Arc<Metrics>) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn handle(mut self, h: Arc<dyn Handler>) -> Self {
        self.handlers.insert(h.kind(), h);
        self
    }

    /// Claims and runs jobs until `stop` is cancelled.
    pub async fn run(self, stop: CancellationToken) {
        let kinds: Vec<&str> = self.handlers.keys().copied().collect();
        let mut last_sweep = 0i64;
        while !stop.is_cancelled() {
            let now = self.queue.now_ms();
            if now - last_sweep > 10_000 {
                last_sweep = now;
                self.sweep(now).await;
            }
            match self.queue.claim(&kinds).await {
                Ok(Some(lease)) => self.run_one(lease, &stop).await,
                Ok(None) => self.idle(&stop).await,
                Err(e) => {
                    tracing::warn!(owner = self.queue.owner(), error = %e, "claiming a job failed");
                    self.idle(&stop).await;
                }
            }
        }
    }

    async fn idle(&self, stop: &CancellationToken) {
        tokio::select! {
            _ = stop.cancelled() => {}
            _ = self.wake.notified() => {}
            _ = tokio::time::sleep(self.opts.poll) => {}
        }
    }

    /// Housekeeping: expired last attempts become dead; finished jobs older than a day
    /// are deleted.
    async fn sweep(&self, now: i64) {
        let store = self.queue.store();
        if let Err(e) = store.queue_bury_expired(now).await {
            tracing::warn!(error = %e, "marking expired jobs dead failed");
        }
        if let Err(e) = store.queue_prune_done(now - 86_400_000).await {
            tracing::warn!(error = %e, "deleting finished jobs failed");
        }
    }

    async fn run_one(&self, lease: Lease, stop: &CancellationToken) {
        let Some(handler) = self.handlers.get(lease.kind.as_str()) else {
            return;
        };
        let span = tracing::info_span!("job", id = lease.job_id, kind = %lease.kind, attempt = lease.attempt);
        self.attempt(handler.as_ref(), &lease, stop)
            .instrument(span)
            .await;
    }

    async fn attempt(&self, handler: &dyn Handler, lease: &Lease, stop: &CancellationToken) {
        let Some(result) = self.drive(handler, lease, stop).await else {
            return;
        };
        let outcome = self.end(lease, result).await;
        if let (Some(m), Some(outcome)) = (&self.metrics, outcome) {
            m.observe_job(&lease.kind, outcome);
        }
    }

    /// Runs the handler while beating the lease. `None`: the lease is lost and the
    /// attempt abandoned; `Some(None)`: the grace after the stop signal ran out.
    ///
    /// The heartbeat runs as a task of its own. Beaten from this task's `select!`, a
    /// heartbeat that waited for SQLite's writer turn (`store/write_tx.rs`) while the
    /// handler, suspended inside its own write transaction, held that turn could never
    /// get it: the handler is not polled while a `select!` arm runs, so the job, and
    /// every SQLite write of the process, hung for good.
    async fn drive(
        &self,
        handler: &dyn Handler,
        lease: &Lease,
        stop: &CancellationToken,
    ) -> Option<Option<Result<Outcome, JobFailure>>> {
        let run = handler.run(&self.queue, lease);
        tokio::pin!(run);
        let (lost, mut lease_lost) = tokio::sync::oneshot::channel();
        let beats = AbortOnDrop(tokio::spawn(
            keep_lease(self.queue.clone(), lease.clone(), lost).in_current_span(),
        ));
        let mut deadline: Option<tokio::time::Instant> = None;
        let result = loop {
            tokio::select! {
                r = &mut run => break Some(Some(r)),
                // Lost, or the heartbeat task died: either way the lease is not kept.
                _ = &mut lease_lost => break None,
                _ = stop.cancelled(), if deadline.is_none() => {
                    deadline = Some(tokio::time::Instant::now() + self.opts.grace);
                }
                _ = sleep_until(deadline), if deadline.is_some() => break Some(None),
            }
        };
        drop(beats);
        result
    }

    /// Ends the attempt from the handler's answer (`None`: released at shutdown); the
    /// outcome's metric label, `None` when ending it failed.
    async fn end(
        &self,
        lease: &Lease,
        result: Option<Result<Outcome, JobFailure>>,
    ) -> Option<&'static str> {
        let end = self.record_end(lease, result).await;
        match end {
            Ok(how) => {
                tracing::debug!(how, "job ended");
                Some(how)
            }
            Err(QueueError::StaleLease { .. }) => {
                tracing::warn!("job taken over before it ended; its result was refused");
                Some("refused")
            }
            Err(e) => {
                tracing::error!(error = %e, "ending the job failed");
                None
            }
        }
    }
    /// Writes how the attempt ended: released, done, or failed (retry or dead).
    async fn record_end(
        &self,
        lease: &Lease,
        result: Option<Result<Outcome, JobFailure>>,
    ) -> Result<&'static str, QueueError> {
        match result {
            None => self.queue.release(lease).await.map(|_| "released"),
            Some(Ok(Outcome::Done)) => self.queue.complete(lease).await.map(|_| "done"),
            Some(Ok(Outcome::Finished)) => Ok("done"),
            Some(Err(why)) => self.queue.fail(lease, &why).await.map(|state| {
                tracing::warn!(error = why.message(), next = state.as_str(), "job failed");
                if state == JobState::Dead {
                    "dead"
                } else {
                    "retry"
                }
            }),
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Aborts the task when dropped (the heartbeat stops with the attempt, however it ends).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Renews `lease` every third of its duration until the attempt ends (the task is
/// aborted); sends on `lost` when the attempt must be abandoned.
async fn keep_lease(queue: Queue, lease: Lease, lost: tokio::sync::oneshot::Sender<()>) {
    let beat = (queue.lease_duration() / 3).max(Duration::from_millis(10));
    let mut heartbeat = tokio::time::interval_at(tokio::time::Instant::now() + beat, beat);
    let mut renewed = tokio::time::Instant::now();
    loop {
        heartbeat.tick().await;
        if !beat_once(&queue, &lease, &mut renewed).await {
            let _ = lost.send(());
            return;
        }
    }
}

/// Renews the lease once; `false` when the attempt must be abandoned.
async fn beat_once(queue: &Queue, lease: &Lease, renewed: &mut tokio::time::Instant) -> bool {
    match queue.heartbeat(lease).await {
        Ok(()) => {
            *renewed = tokio::time::Instant::now();
            true
        }
        // Taken over: whatever this attempt writes from now on would be refused, so
        // stop it (its processes die with the future).
        Err(e @ QueueError::StaleLease { .. }) => {
            tracing::warn!(error = %e, "lost the lease; abandoning the job");
            false
        }
        // A database hiccup (busy, a dropped connection) is not a lost lease: keep
        // working and beat again, unless the lease has run out meanwhile and another
        // worker may already hold the job.
        Err(e) if renewed.elapsed() >= queue.lease_duration() => {
            tracing::warn!(error = %e, "lease ran out unrenewed; abandoning the job");
            false
        }
        Err(e) => {
            tracing::warn!(error = %e, "heartbeat failed; retrying");
            true
        }
    }
}
