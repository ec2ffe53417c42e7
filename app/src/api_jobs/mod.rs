//! Server functions of the job pages (queue, one job, a project's integration and its
//! jobs panel): thin. Each finds the request's actor, checks the right where the page
//! changes something or shows settings, calls the backend (`perfwatch_backend::perf`)
//! and maps the error. The types here are the pages' own: the backend's rows never
//! travel to the browser (they hold the job's raw output and report). One file per
//! page: `queue.rs`, `job.rs` (one job and its commands), `integration.rs`,
//! `project.rs` (the project page's panel); `server.rs` holds their shared helpers.

use serde::{Deserialize, Serialize};

/// One performance job as the pages show it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobSummary {
    pub id: i64,
    /// The project's slug.
    pub project: String,
    /// `master`, `pr`, `backfill` or `manual`.
    pub purpose: String,
    /// `queued`, `running`, `completed`, `processed`, `failed`, `dead`, `canceled`, `superseded`.
    pub state: String,
    pub sha: String,
    pub branch: Option<String>,
    pub pr_number: Option<i64>,
    pub base_sha: Option<String>,
    pub requested_by: String,
    pub verdict: Option<String>,
    pub error_class: Option<String>,
    pub error: Option<String>,
    pub stop_requested: Option<String>,
    pub created_at: i64,
    pub started_at: Option<i64>,
    pub finished_at: Option<i64>,
}

impl JobSummary {
    /// No more work will happen on the job (the live views stop polling).
    pub fn is_final(&self) -> bool {
        is_final_state(&self.state)
    }
}

/// Whether a job in `state` is done for good (failed jobs may still be retried).
pub fn is_final_state(state: &str) -> bool {
    matches!(state, "processed" | "dead" | "canceled" | "superseded")
}

/// One line of a job's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogLineView {
    pub seq: i64,
    pub step: String,
    pub stream: String,
    pub line: String,
    pub at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuedEntry {
    /// 1: claimed next.
    pub position: usize,
    /// Expected start, ms from `QueuePage::now`.
    pub eta_ms: Option<i64>,
    pub job: JobSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunningEntry {
    pub job: JobSummary,
    /// The last lines of its log, oldest first.
    pub tail: Vec<LogLineView>,
}

/// The queue page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueuePage {
    pub queued: Vec<QueuedEntry>,
    pub running: Vec<RunningEntry>,
    /// Median run time of recent jobs, ms.
    pub typical_ms: Option<i64>,
    /// When a runner last heartbeated a job.
    pub last_runner_beat: Option<i64>,
    /// The server's clock when the page was made (ms since the epoch).
    pub now: i64,
}

impl QueuePage {
    /// Jobs wait and no runner heartbeated in the last two minutes.
    pub fn no_worker(&self) -> bool {
        !self.queued.is_empty()
            && self
                .last_runner_beat
                .is_none_or(|t| self.now - t > NO_WORKER_AFTER_MS)
    }
}

/// A runner silent for this long counts as offline.
pub const NO_WORKER_AFTER_MS: i64 = 120_000;

/// How many log lines the queue page shows per running job.
pub const QUEUE_TAIL: i64 = 30;

/// At most this many log lines are sent with the job page; the rest stays on the API.
pub const PAGE_LOG_LIMIT: i64 = 5_000;

/// One step of an executed job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepView {
    pub step: String,
    /// `head` or `base`.
    pub side: String,
    pub repeat: i64,
    pub duration_ms: i64,
    pub outcome: String,
}

/// The job page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobPage {
    pub job: JobSummary,
    pub head_ref: Option<String>,
    pub repeats: i64,
    pub definition_hash: Option<String>,
    pub testbed: Option<String>,
    pub waits_for: Option<i64>,
    pub run_ids: Vec<i64>,
    /// The job's runs the validity gate rejected: (run id, reason).
    #[serde(default)]
    pub invalid_runs: Vec<(i64, String)>,
    /// The job's Markdown report (shown as text).
    pub report: Option<String>,
    pub steps: Vec<StepView>,
    /// The first `PAGE_LOG_LIMIT` lines.
    pub log: Vec<LogLineView>,
    /// More lines exist than were sent.
    pub log_cut: bool,
    /// `https://github.com/{repo}/pull/{n}` when the project has an integration.
    pub pr_url: Option<String>,
    /// The compare page between `base_sha` and `sha`.
    pub compare_url: Option<String>,
    /// Whether the visitor may cancel and re-run it.
    pub can_triage: bool,
}

/// What changed on a job since the browser's last look.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobLive {
    pub state: String,
    /// Lines after the asked-for `after`, oldest first (only the last `keep` when the
    /// browser asked for a tail and more arrived).
    pub lines: Vec<LogLineView>,
    /// Lines were skipped between `after` and `lines` (the tail jumped ahead).
    pub skipped: bool,
}

/// The integration page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrationPage {
    pub slug: String,
    pub integration: Option<perfwatch_core::integration::IntegrationView>,
    /// Where GitHub sends the webhook.
    pub webhook_url: String,
}

/// The project page's job panel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectJobs {
    pub last_master: Option<JobSummary>,
    /// The newest job of each PR among the project's recent jobs, newest PR first.
    pub prs: Vec<JobSummary>,
    pub has_integration: bool,
    pub is_admin: bool,
}

mod integration;
mod job;
mod project;
mod queue;
#[cfg(feature = "ssr")]
pub(crate) mod server;

pub use integration::*;
pub use job::*;
pub use project::*;
pub use queue::*;
