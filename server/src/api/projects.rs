//! Projects: list, read, create.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_backend::store::NewProject;
use perfwatch_core::validate::parse_json;
use perfwatch_core::view::ProjectInfo;
use serde_json::{json, Value};

use super::auth::Token;
use super::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<ProjectInfo>>> {
    Ok(Json(state.store.list_projects().await?))
}

pub async fn get_one(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<ProjectInfo>> {
    Ok(Json(state.store.project(&slug).await?))
}

pub async fn create(
    State(state): State<AppState>,
    Token(token): Token,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    if token.project_id.is_some() {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "a project-scoped token may not create projects",
        ));
    }
    let p: NewProject =
        parse_json(&body).map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, e))?;
    let id = state.store.create_project(&p).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "slug": p.slug })),
    ))
}
