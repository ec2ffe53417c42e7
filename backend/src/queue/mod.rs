//! The persistent work queue: every piece of background work (detection passes,
//! pull-request comparisons, webhook deliveries) is a row in `work_queue`, claimed
//! under a lease with a fencing token, retried with exponential backoff, dead after
//! its last attempt. Work survives restarts and is shared safely between several
//! server processes on one database. docs/architecture.md ("Work queue") describes the
//! states; the SQL is in `store/queue.rs`.
//!
//! - [`Queue`]: claim / heartbeat / complete / fail / release for one worker identity.
//! - [`retry`]: the pure rule deciding what a failed attempt becomes.
//! - [`worker`]: the loop that claims jobs of some kinds and runs their [`Handler`].
//! - [`lifecycle`]: starts every background worker of a server, with one shutdown signal.

mod clock;
mod lease;
pub mod lifecycle;
pub mod retry;
pub mod worker;

pub use crate::store::queue::{Finish, Gather, JobRow, JobState, NewJob, QueueDepth};
pub use clock::Clock;
pub use lease::{JobFailure, Lease, Queue, QueueError};
pub use worker::{Handler, HandlerFuture, Outcome};

/// Job kinds, as stored in `work_queue.kind`.
pub mod kinds {
    /// A detection pass over some series of one project (payload: `DetectJob`).
    pub const DETECT: &str = "detect.series";
    /// The baseline comparison of a pull-request run (payload: `CompareJob`).
    pub const COMPARE: &str = "compare.run";
    /// One webhook delivery (payload: `{"delivery_id": …}`).
    pub const WEBHOOK: &str = "webhook.delivery";
    /// Processing of one stored GitHub webhook delivery (payload: `{"delivery_id": …}`).
    pub const GITHUB_DELIVERY: &str = "github.delivery";
    /// Executing one performance job (payload: `{"job": id}`); runs on a runner slot.
    pub const PERF_RUN: &str = "perf.run";
    /// Storing and comparing the results of an executed job (payload: `{"job": id}`).
    pub const PERF_STORE: &str = "perf.store";
    /// One report to GitHub from the outbox (payload: `Report`).
    pub const GITHUB_REPORT: &str = "github.report";
    /// Asking GitHub for master and PR heads that have no job (payload: `{"project_id": …}`).
    pub const GITHUB_RECONCILE: &str = "github.reconcile";
    /// Metric values over a run's window from a project's metric source (payload:
    /// `CollectJob`).
    pub const METRICS_COLLECT: &str = "metrics.collect";
    /// One pass of a scheduled production series (payload: `SchedulePass`).
    pub const METRICS_SCHEDULE: &str = "metrics.schedule";
}
