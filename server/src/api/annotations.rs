//! Releases and annotations.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use perfwatch_core::model::AnnotationInput;
use perfwatch_core::validate::parse_json;
use perfwatch_core::view::Marker;
use serde_json::{json, Value};

use super::auth::Token;
use super::error::{ApiError, ApiResult};
use crate::state::AppState;

pub async fn create(
    State(state): State<AppState>,
    Token(token): Token,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let a: AnnotationInput =
        parse_json(&body).map_err(|e| ApiError::invalid(StatusCode::BAD_REQUEST, e))?;
    let id = state.store.add_annotation(&a, token.project_id).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

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
