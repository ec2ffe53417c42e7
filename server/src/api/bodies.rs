//! Small answer bodies of the REST API that have no type of their own in the backend
//! (ids of what a request created, counts). Typed rather than `json!` so that the
//! OpenAPI document (`/api/v1/openapi.json`) is generated from what is really sent.

use perfwatch_backend::store::perf_jobs::{LogLine, PerfJobRow};
use serde::Serialize;
use utoipa::ToSchema;

/// The id of what the request created.
#[derive(Debug, Serialize, ToSchema)]
pub struct Created {
    pub id: i64,
}

/// A created project.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectCreated {
    pub id: i64,
    pub slug: String,
}

/// A short permalink of a comparison.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortLink {
    pub id: String,
    /// `/c/<id>`.
    pub path: String,
    /// The full URL of `path` on this server.
    pub url: String,
    /// The compare page the link leads to.
    pub target: String,
}

/// How many alerts a bulk state change changed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Changed {
    pub changed: usize,
}

/// The prefilled "new issue" URL of a ticket template.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketUrl {
    pub url: String,
}

/// The learned sensitivity of a series (`null` when none was learned).
#[derive(Debug, Serialize, ToSchema)]
pub struct SensitivityBody {
    pub learned: Option<perfwatch_backend::triage::Sensitivity>,
}

/// A new API token: its secret is shown this once.
#[derive(Serialize, ToSchema)]
pub struct TokenCreated {
    pub id: i64,
    pub token: String,
}

// By hand: token must never reach a log line.
impl std::fmt::Debug for TokenCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCreated")
            .field("id", &self.id)
            .field("token", &perfwatch_core::redact::Redacted(&self.token))
            .finish()
    }
}

/// A new webhook and its signing secret (shown this once).
#[derive(Serialize, ToSchema)]
pub struct WebhookCreated {
    pub id: i64,
    pub secret: String,
}

// By hand: secret must never reach a log line.
impl std::fmt::Debug for WebhookCreated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookCreated")
            .field("id", &self.id)
            .field("secret", &perfwatch_core::redact::Redacted(&self.secret))
            .finish()
    }
}

/// A queued performance job and its page.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobQueued {
    pub id: i64,
    pub url: String,
}

/// One performance job with its report, steps and the requested part of its log.
#[derive(Debug, Serialize, ToSchema)]
pub struct JobDetail {
    pub job: PerfJobRow,
    /// Slug of the job's project.
    pub project: String,
    /// The job's report (Markdown), once it has one.
    pub report: Option<String>,
    /// The steps of the job's output (build, service, load, metrics), once it ran.
    pub steps: Option<serde_json::Value>,
    pub log: Vec<LogLine>,
}

/// Whether a cancel request stopped the job.
#[derive(Debug, Serialize, ToSchema)]
pub struct Canceled {
    pub canceled: bool,
}

/// A queued metrics collection and when it is due (ms since the epoch). The CLI reads
/// it with this type too.
#[derive(Debug, Serialize, serde::Deserialize, ToSchema)]
pub struct CollectQueued {
    pub queued: i64,
    pub not_before: i64,
}

/// The id of a created or re-timed metrics schedule.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleCreated {
    pub schedule: i64,
}

/// A GitHub delivery was stored for processing.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryStored {
    pub stored: bool,
}

/// A GitHub delivery id seen before: nothing stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryReplay {
    pub replay: bool,
}
