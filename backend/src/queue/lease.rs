//! One worker's handle on the queue: claim, heartbeat, complete, fail, release. Every
//! write after a claim carries the claim's fence; a stale fence (the lease expired and
//! another worker took the job over) is refused with [`QueueError::StaleLease`].

use std::time::Duration;

use super::clock::Clock;
use super::retry::after_failure;
use crate::error::StoreError;
use crate::store::queue::{ClaimedRow, Finish, JobState};
use crate::Store;

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    /// The job's lease was taken over (or the job already ended): this worker's write
    /// was refused and nothing was changed.
    #[error("job {job_id}: lease with fence {fence} is no longer held")]
    StaleLease { job_id: i64, fence: i64 },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobFailure {
    /// Worth another attempt after the backoff (a receiver down, a database hiccup).
    Retry(String),
    /// Will fail the same way every time (a payload that does not decode or render):
    /// the attempt counts and the job is dead at once.
    Permanent(String),
}

impl JobFailure {
    pub fn message(&self) -> &str {
        match self {
            Self::Retry(m) | Self::Permanent(m) => m,
        }
    }
}

impl From<StoreError> for JobFailure {
    fn from(e: StoreError) -> Self {
        Self::Retry(e.to_string())
    }
}

/// A claimed job and the fence that authorises this worker's writes to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    pub job_id: i64,
    pub kind: String,
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: i64,
    pub max_attempts: i64,
    pub backoff_ms: i64,
    pub fence: i64,
    pub owner: String,
    pub expires_at: i64,
}

impl From<ClaimedRow> for Lease {
    fn from(r: ClaimedRow) -> Self {
        Self {
            job_id: r.id,
            kind: r.kind,
            payload: r.payload,
            attempt: r.attempts,
            max_attempts: r.max_attempts,
            backoff_ms: r.backoff_ms,
            fence: r.fence,
            owner: r.lease_owner,
            expires_at: r.lease_expires_at,
        }
    }
}

/// The queue as one worker identity (`owner`) sees it.
#[derive(Debug, Clone)]
pub struct Queue {
    store: Store,
    owner: String,
    lease_ms: i64,
    clock: Clock,
}

impl Queue {
    pub fn new(store: Store, owner: impl Into<String>, lease: Duration) -> Self {
        Self {
            store,
            owner: owner.into(),
            lease_ms: lease.as_millis() as i64,
            clock: Clock::System,
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn owner(&self) -> &str {
        &self.owner
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn lease_duration(&self) -> Duration {
        Duration::from_millis(self.lease_ms.max(0) as u64)
    }

    /// The next due job of one of `kinds`, leased to this worker.
    pub async fn claim(&self, kinds: &[&str]) -> Result<Option<Lease>, QueueError> {
        let row = self
            .store
            .queue_claim(kinds, &self.owner, self.now_ms(), self.lease_ms)
            .await?;
        Ok(row.map(Lease::from))
    }

    /// Extends the lease by the lease duration from now.
    pub async fn heartbeat(&self, lease: &Lease) -> Result<(), QueueError> {
        let ok = self
            .store
            .queue_heartbeat(lease.job_id, lease.fence, self.now_ms(), self.lease_ms)
            .await?;
        fenced(ok, lease)
    }

    pub async fn complete(&self, lease: &Lease) -> Result<(), QueueError> {
        self.finish(lease, &Finish::Done).await
    }

    /// Ends a failed attempt: back to the queue after the backoff, or dead. Returns the
    /// job's new state.
    pub async fn fail(&self, lease: &Lease, why: &JobFailure) -> Result<JobState, QueueError> {
        let how = self.after(lease, why);
        self.finish(lease, &how).await?;
        Ok(match how {
            Finish::Dead { .. } => JobState::Dead,
            _ => JobState::Queued,
        })
    }

    /// Gives the job back without counting the attempt (shutdown before it finished).
    pub async fn release(&self, lease: &Lease) -> Result<(), QueueError> {
        self.finish(lease, &Finish::Release).await
    }

    /// What failing `lease` with `why` makes of the job (for handlers that record the
    /// outcome with their own effects, see `Store::finish_delivery`).
    pub fn after(&self, lease: &Lease, why: &JobFailure) -> Finish {
        after_failure(
            lease.attempt,
            lease.max_attempts,
            lease.backoff_ms,
            matches!(why, JobFailure::Permanent(_)),
            why.message().to_string(),
            self.now_ms(),
        )
    }

    async fn finish(&self, lease: &Lease, how: &Finish) -> Result<(), QueueError> {
        let ok = self
            .store
            .queue_finish(lease.job_id, lease.fence, how, self.now_ms())
            .await?;
        fenced(ok, lease)
    }
}

/// `Ok` when the fenced write matched the job, else the typed refusal.
pub(crate) fn fenced(ok: bool, lease: &Lease) -> Result<(), QueueError> {
    if ok {
        Ok(())
    } else {
        Err(QueueError::StaleLease {
            job_id: lease.job_id,
            fence: lease.fence,
        })
    }
}
