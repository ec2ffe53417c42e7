//! Projects: list, read, create.

use super::bodies::ProjectCreated;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::store::NewProject;
use perfwatch_core::validate::parse_json;
use perfwatch_core::view::ProjectInfo;

use super::auth::Who;
use super::error::{ApiError, ApiErrors, ApiResult};
use crate::state::AppState;
use perfwatch_backend::accounts::Right;

#[utoipa::path(
    get,
    path = "/projects",
    tag = "projects",
    summary = "List projects",
    responses((status = 200, description = "Every project", body = Vec<perfwatch_core::view::ProjectInfo>), ApiErrors)
)]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<ProjectInfo>>> {
    Ok(Json(state.store.list_projects().await?))
}

#[utoipa::path(
    get,
    path = "/projects/{slug}",
    tag = "projects",
    summary = "One project",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The project", body = perfwatch_core::view::ProjectInfo), ApiErrors)
)]
pub async fn get_one(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<ProjectInfo>> {
    Ok(Json(state.store.project(&slug).await?))
}

#[utoipa::path(
    post,
    path = "/projects",
    tag = "projects",
    summary = "Create a project",
    request_body(
        content = perfwatch_backend::store::NewProject,
        example = json!({"slug": "checkout", "name": "Checkout service", "main_branch": "main", "repo_url": "https://github.com/example/checkout"})
    ),
    responses((status = 201, description = "Created", body = super::bodies::ProjectCreated), ApiErrors)
)]
pub async fn create(
    State(state): State<AppState>,
    Who(actor): Who,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<ProjectCreated>)> {
    // A new project needs the admin right on every project (a project token lacks it).
    actor.require(Right::Admin, None)?;
    let p: NewProject =
        parse_json(&body).map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, e))?;
    let id = state.store.create_project(&p).await?;
    Ok((
        StatusCode::CREATED,
        Json(ProjectCreated { id, slug: p.slug }),
    ))
}
