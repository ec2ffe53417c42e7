//! `GET /api/v1/runs/{id}/baseline`: a run compared with its main-branch baseline.

use axum::extract::{Path, State};
use axum::Json;
use perfwatch_backend::baseline::{compare_run_to_baseline, RunVerdict};

use super::error::{ApiErrors, ApiResult};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/runs/{id}/baseline",
    tag = "runs",
    summary = "A run against its main-branch baseline",
    params(("id" = i64, Path, description = "Run id")),
    responses((status = 200, description = "The run compared with its main-branch baseline", body = perfwatch_backend::baseline::RunVerdict), ApiErrors)
)]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<RunVerdict>> {
    Ok(Json(compare_run_to_baseline(&state.store, id).await?))
}
