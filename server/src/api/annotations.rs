//! Releases and annotations.

use super::bodies::Created;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_core::model::AnnotationInput;
use perfwatch_core::validate::parse_json;
use perfwatch_core::view::Marker;

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use crate::state::AppState;
use perfwatch_backend::accounts::Right;

#[utoipa::path(
    post,
    path = "/annotations",
    tag = "annotations",
    summary = "Add a release, deploy or note",
    request_body(
        content = perfwatch_core::model::AnnotationInput,
        example = json!({"project": "checkout", "name": "v1.4.0", "kind": "release", "commit": "4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39", "description": "Spring release"})
    ),
    responses((status = 201, description = "Created", body = super::bodies::Created), ApiErrors)
)]
pub async fn create(
    State(state): State<AppState>,
    Who(actor): Who,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let a: AnnotationInput =
        parse_json(&body).map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, e))?;
    // The project is named in the body: the policy decides on it once it is known (an
    // unknown project is the store's "invalid project" answer).
    match state.store.project(&a.project).await {
        Ok(p) => actor.require(Right::Ingest, Some(p.id))?,
        Err(perfwatch_backend::StoreError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    let id = state.store.add_annotation(&a).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

#[utoipa::path(
    get,
    path = "/projects/{slug}/annotations",
    tag = "annotations",
    summary = "A project's releases and annotations",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "Releases and annotations of the main branch", body = Vec<perfwatch_core::view::Marker>), ApiErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<Marker>>> {
    let project = state.store.project(&slug).await?;
    let branch = state
        .store
        .branch_id(project.id, &project.main_branch)
        .await?;
    Ok(Json(state.store.markers(project.id, branch).await?))
}
