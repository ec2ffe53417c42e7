//! The job system over REST: the GitHub webhook inbox (authenticated by its signature,
//! not by a token), a project's integration settings (admins), and performance jobs:
//! list, one job with its log tail, manual enqueue, cancel, re-run, the queue.

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use perfwatch_backend::accounts::{Actor, Right};
use perfwatch_backend::perf::enqueue::{manual, ManualRequest};
use perfwatch_backend::perf::inbox::{accept, Accepted, InboxError};
use perfwatch_backend::perf::{integration, IntegrationInput, IntegrationView};
use perfwatch_backend::store::perf_jobs::{PerfJobRow, PerfState};
use perfwatch_backend::StoreError;
use serde::Deserialize;
use serde_json::Value;

use super::bodies::{Canceled, Created, DeliveryReplay, DeliveryStored, JobDetail, JobQueued};

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use super::json_body::JsonBody;
use crate::state::AppState;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// `POST /api/v1/github/webhook`: 401 and nothing stored unless the signature
/// verifies against the secret of the repository the payload names; a replayed
/// delivery id stores nothing (200 with `replay: true`); processing happens later.
#[utoipa::path(
    post,
    path = "/api/v1/github/webhook",
    tag = "webhooks",
    summary = "GitHub webhook inbox",
    request_body(
        content = serde_json::Value,
        description = "A GitHub webhook delivery (push, pull_request, issue_comment, ping…), signed with the integration's webhook secret",
        example = json!({"zen": "Keep it logically awesome.", "hook_id": 1, "repository": {"full_name": "example/checkout"}})
    ),
    params(
        ("X-GitHub-Event" = String, Header, description = "Event name"),
        ("X-GitHub-Delivery" = String, Header, description = "Delivery id (replays store nothing)"),
        ("X-Hub-Signature-256" = String, Header, description = "`sha256=<hex HMAC-SHA256 of the body>`")
    ),
    responses(
        (status = 202, description = "Stored for processing", body = super::bodies::DeliveryStored),
        (status = 200, description = "A delivery id seen before: nothing stored", body = super::bodies::DeliveryReplay),
        ApiErrors
    ),
    security(("github_signature" = []))
)]
pub async fn webhook(
    State(st): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Response> {
    let event = header(&headers, "x-github-event").unwrap_or_default();
    let delivery = header(&headers, "x-github-delivery").unwrap_or_default();
    let sig = header(&headers, "x-hub-signature-256");
    match accept(&st.store, &st.seal, event, delivery, sig, &body).await {
        Ok(Accepted::Stored) => {
            Ok((StatusCode::ACCEPTED, Json(DeliveryStored { stored: true })).into_response())
        }
        Ok(Accepted::Replay) => Ok(Json(DeliveryReplay { replay: true }).into_response()),
        Err(InboxError::Unauthorized) => Err(ApiError::unauthorized(
            "X-Hub-Signature-256 does not verify for this repository",
        )),
        Err(InboxError::BadRequest(m)) => Err(ApiError::new(StatusCode::BAD_REQUEST, m)),
        Err(InboxError::Store(e)) => Err(e.into()),
    }
}

async fn project_id(st: &AppState, slug: &str) -> Result<i64, StoreError> {
    Ok(st.store.project(slug).await?.id)
}

/// `GET /api/v1/projects/{slug}/github` (admins of the project): settings, no secret.
#[utoipa::path(
    get,
    path = "/projects/{slug}/github",
    tag = "jobs",
    summary = "GitHub integration settings",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The integration's settings (no secrets), or null", body = Option<perfwatch_backend::perf::IntegrationView>), ApiErrors)
)]
pub async fn get_integration(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
) -> ApiResult<Json<Option<IntegrationView>>> {
    let id = project_id(&st, &slug).await?;
    actor.require(Right::Admin, Some(id))?;
    Ok(Json(integration::view(&st.store, &slug).await?))
}

/// `PUT /api/v1/projects/{slug}/github` (admins): secrets are sealed and never shown again.
#[utoipa::path(
    put,
    path = "/projects/{slug}/github",
    tag = "jobs",
    summary = "Save the GitHub integration",
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = perfwatch_backend::perf::IntegrationInput, example = json!({"repo": "example/checkout", "webhook_secret": "a-long-random-webhook-secret", "clone_url": "https://git.example.com/example/checkout.git", "master_branches": ["main"], "concurrency": 1})),
    responses((status = 200, description = "Saved; secrets are sealed and never shown again", body = perfwatch_backend::perf::IntegrationView), ApiErrors)
)]
pub async fn put_integration(
    State(st): State<AppState>,
    Path(slug): Path<String>,
    JsonBody(b): JsonBody<IntegrationInput>,
) -> ApiResult<Json<IntegrationView>> {
    Ok(Json(integration::put(&st.store, &st.seal, &slug, b).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    #[serde(default)]
    pub pr: Option<i64>,
    /// Comma-separated states.
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

fn states(q: &Option<String>) -> Result<Vec<PerfState>, StoreError> {
    q.as_deref()
        .unwrap_or("")
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| {
            PerfState::from_db(s.trim()).map_err(|_| {
                StoreError::invalid(
                    "state",
                    "queued, running, completed, processed, failed, dead, canceled or superseded",
                )
            })
        })
        .collect()
}

/// `GET /api/v1/projects/{slug}/jobs`
#[utoipa::path(
    get,
    path = "/projects/{slug}/jobs",
    tag = "jobs",
    summary = "A project's performance jobs",
    params(("slug" = String, Path, description = "Project slug"),
        ("pr" = Option<i64>, Query, description = "Pull request number"),
        ("state" = Option<String>, Query, description = "Comma-separated states"),
        ("limit" = Option<i64>, Query, description = "1 to 500 (default 50)")
    ),
    responses((status = 200, description = "Performance jobs, newest first", body = Vec<perfwatch_backend::store::perf_jobs::PerfJobRow>), ApiErrors)
)]
pub async fn list_jobs(
    State(st): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<Vec<PerfJobRow>>> {
    let id = project_id(&st, &slug).await?;
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    Ok(Json(
        st.store
            .perf_jobs(Some(id), q.pr, &states(&q.state)?, limit)
            .await?,
    ))
}

/// `POST /api/v1/projects/{slug}/jobs`: queue a job for any commit.
#[utoipa::path(
    post,
    path = "/projects/{slug}/jobs",
    tag = "jobs",
    summary = "Queue a performance job",
    params(("slug" = String, Path, description = "Project slug")),
    request_body(content = perfwatch_backend::perf::enqueue::ManualRequest, example = json!({"commit": "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39", "branch": "main", "repeats": 3})),
    responses((status = 201, description = "Queued", body = super::bodies::JobQueued), ApiErrors)
)]
pub async fn enqueue(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(slug): Path<String>,
    JsonBody(b): JsonBody<ManualRequest>,
) -> ApiResult<(StatusCode, Json<JobQueued>)> {
    let id = manual(&st.store, &slug, &b, &actor.label()).await?;
    Ok((
        StatusCode::CREATED,
        Json(JobQueued {
            id,
            url: format!("{}/jobs/{id}", st.public_url),
        }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    #[serde(default)]
    pub after: Option<i64>,
    #[serde(default)]
    pub limit: Option<i64>,
}

/// `GET /api/v1/jobs/{id}`: the job, its report and the log lines after `after`.
#[utoipa::path(
    get,
    path = "/jobs/{id}",
    tag = "jobs",
    summary = "One performance job with its log",
    params(("id" = i64, Path, description = "Performance job id"),
        ("after" = Option<i64>, Query, description = "Log lines after this sequence number"),
        ("limit" = Option<i64>, Query, description = "1 to 5000 log lines (default 500)")
    ),
    responses((status = 200, description = "The job, its report, steps and log", body = super::bodies::JobDetail), ApiErrors)
)]
pub async fn get_job(
    State(st): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<JobDetail>> {
    let job = st.store.perf_job(id).await?;
    let slug = st.store.project_slug_of(job.project_id).await?;
    let log = st
        .store
        .perf_job_logs(
            id,
            q.after.unwrap_or(0),
            q.limit.unwrap_or(500).clamp(1, 5000),
        )
        .await?;
    let steps = job
        .output
        .as_deref()
        .and_then(|o| serde_json::from_str::<Value>(o).ok())
        .and_then(|v| v.pointer("/output/steps").cloned());
    Ok(Json(JobDetail {
        report: job.report.clone(),
        job,
        project: slug,
        steps,
        log,
    }))
}

async fn job_project(
    st: &AppState,
    actor: &Actor,
    id: i64,
    right: Right,
) -> Result<PerfJobRow, StoreError> {
    let job = st.store.perf_job(id).await?;
    actor.require(right, Some(job.project_id))?;
    Ok(job)
}

/// `POST /api/v1/jobs/{id}/cancel`
#[utoipa::path(
    post,
    path = "/jobs/{id}/cancel",
    tag = "jobs",
    summary = "Cancel a performance job",
    params(("id" = i64, Path, description = "Performance job id")),
    responses((status = 200, description = "Whether the job was stopped", body = super::bodies::Canceled), ApiErrors)
)]
pub async fn cancel(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<Json<Canceled>> {
    let job = job_project(&st, &actor, id, Right::Triage).await?;
    let n = perfwatch_backend::perf::enqueue::cancel_job(&st.store, &job, &actor.label()).await?;
    Ok(Json(Canceled { canceled: n }))
}

/// `POST /api/v1/jobs/{id}/rerun`: a new job doing the same.
#[utoipa::path(
    post,
    path = "/jobs/{id}/rerun",
    tag = "jobs",
    summary = "Run a performance job again",
    params(("id" = i64, Path, description = "Performance job id")),
    responses((status = 201, description = "The new job", body = super::bodies::Created), ApiErrors)
)]
pub async fn rerun(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let job = job_project(&st, &actor, id, Right::Triage).await?;
    let new = perfwatch_backend::perf::deliveries::rerun(&st.store, &job, &actor.label()).await?;
    Ok((StatusCode::CREATED, Json(Created { id: new })))
}

/// `GET /api/v1/queue`: queued jobs in claim order with position and an ETA from
/// recent durations, running jobs, and when a runner last heartbeated.
#[utoipa::path(
    get,
    path = "/queue",
    tag = "jobs",
    summary = "The performance-job queue",
    responses((status = 200, description = "Queued jobs in claim order with ETA, running jobs, runner heartbeat", body = perfwatch_backend::perf::enqueue::QueueView), ApiErrors)
)]
pub async fn queue(
    State(st): State<AppState>,
) -> ApiResult<Json<perfwatch_backend::perf::enqueue::QueueView>> {
    Ok(Json(
        perfwatch_backend::perf::enqueue::queue_view(&st.store).await?,
    ))
}
