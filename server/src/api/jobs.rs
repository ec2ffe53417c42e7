//! `/api/v1/admin/jobs`: the work queue as global admins see it — dead jobs (and any
//! other state) to inspect, and re-queueing a dead job.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::accounts::{Actor, Right};
use perfwatch_backend::queue::{JobRow, JobState};
use perfwatch_backend::StoreError;
use serde::Deserialize;

use super::auth::Who;
use super::error::{ApiErrors, ApiResult};
use crate::state::AppState;

fn global_admin(actor: &Actor) -> Result<(), StoreError> {
    actor.require(Right::Admin, None)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobsQuery {
    /// `queued`, `leased`, `done` or `dead` (the default).
    #[serde(default)]
    pub state: Option<String>,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[utoipa::path(
    get,
    path = "/admin/jobs",
    tag = "admin",
    summary = "Work-queue jobs",
    params(
        ("state" = Option<String>, Query, description = "`queued`, `leased`, `done` or `dead` (the default)"),
        ("limit" = Option<i64>, Query, description = "1 to 1000 (default 100)")
    ),
    responses((status = 200, description = "Work-queue jobs", body = Vec<perfwatch_backend::queue::JobRow>), ApiErrors)
)]
pub async fn list(
    State(st): State<AppState>,
    Who(actor): Who,
    Query(q): Query<JobsQuery>,
) -> ApiResult<Json<Vec<JobRow>>> {
    global_admin(&actor)?;
    let state = match q.state.as_deref() {
        None => JobState::Dead,
        Some(s) => JobState::from_db(s)
            .map_err(|_| StoreError::invalid("state", "one of queued, leased, done, dead"))?,
    };
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    Ok(Json(st.store.queue_jobs(state, limit).await?))
}

#[utoipa::path(
    post,
    path = "/admin/jobs/{id}/requeue",
    tag = "admin",
    summary = "Re-queue a dead job",
    params(("id" = i64, Path, description = "Work-queue job id")),
    responses((status = 204, description = "Queued again, attempts reset"), ApiErrors)
)]
pub async fn requeue(
    State(st): State<AppState>,
    Who(actor): Who,
    Path(id): Path<i64>,
) -> ApiResult<StatusCode> {
    global_admin(&actor)?;
    let now = perfwatch_backend::time::now_ms();
    if st.store.queue_requeue_dead(id, now).await? {
        return Ok(StatusCode::NO_CONTENT);
    }
    // Tell a missing job from one that is not dead.
    let job = st.store.queue_job(id).await?;
    Err(StoreError::Conflict {
        field: "state".into(),
        reason: format!("job {id} is {}, not dead", job.state.as_str()),
    }
    .into())
}
