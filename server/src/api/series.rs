//! Series and their points, for scripts.

use axum::extract::{Path, Query, State};
use axum::Json;
use perfwatch_backend::store::PointFilter;
use perfwatch_core::view::{Point, SeriesInfo};
use serde::Deserialize;

use super::error::{ApiError, ApiErrors, ApiResult};
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/projects/{slug}/series",
    tag = "series",
    summary = "A project's series",
    params(("slug" = String, Path, description = "Project slug")),
    responses((status = 200, description = "The project's series", body = Vec<perfwatch_core::view::SeriesInfo>), ApiErrors)
)]
pub async fn list(
    State(state): State<AppState>,
    Path(slug): Path<String>,
) -> ApiResult<Json<Vec<SeriesInfo>>> {
    let project = state.store.project(&slug).await?;
    Ok(Json(state.store.list_series(project.id).await?))
}

/// Filters of `GET /series/{id}/points`. Times are RFC 3339 or milliseconds since the epoch.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PointsQuery {
    pub branch: Option<String>,
    pub from_commit: Option<String>,
    pub to_commit: Option<String>,
    pub from_ord: Option<i64>,
    pub to_ord: Option<i64>,
    pub from_time: Option<String>,
    pub to_time: Option<String>,
}

fn parse_time(field: &str, v: &Option<String>) -> ApiResult<Option<i64>> {
    let Some(v) = v else { return Ok(None) };
    if let Ok(ms) = v.parse::<i64>() {
        return Ok(Some(ms));
    }
    chrono::DateTime::parse_from_rfc3339(v)
        .map(|t| Some(t.timestamp_millis()))
        .map_err(|_| {
            ApiError::invalid(
                axum::http::StatusCode::BAD_REQUEST,
                perfwatch_core::ValidationErrors {
                    errors: vec![perfwatch_core::FieldError::new(
                        field,
                        "must be RFC 3339 or milliseconds since the epoch",
                    )],
                },
            )
        })
}

#[utoipa::path(
    get,
    path = "/series/{id}/points",
    tag = "series",
    summary = "Points of a series",
    params(
        ("id" = i64, Path, description = "Series id"),
        ("branch" = Option<String>, Query, description = "Only points of this branch"),
        ("from_commit" = Option<String>, Query, description = "From this commit (its order on the branch)"),
        ("to_commit" = Option<String>, Query, description = "Up to this commit"),
        ("from_ord" = Option<i64>, Query, description = "From this commit order"),
        ("to_ord" = Option<i64>, Query, description = "Up to this commit order"),
        ("from_time" = Option<String>, Query, description = "From this time: RFC 3339 or ms since the epoch"),
        ("to_time" = Option<String>, Query, description = "Up to this time: RFC 3339 or ms since the epoch")
    ),
    responses((status = 200, description = "Points, oldest first", body = Vec<perfwatch_core::view::Point>), ApiErrors)
)]
pub async fn points(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<PointsQuery>,
) -> ApiResult<Json<Vec<Point>>> {
    let series = state.store.series(id).await?;
    let project = state.store.project(&series.project).await?;
    let branch_id = match &q.branch {
        Some(b) => Some(state.store.branch_id(project.id, b).await?.ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::NOT_FOUND,
                format!("branch '{b}' not found"),
            )
        })?),
        None => None,
    };
    let mut f = PointFilter {
        branch_id,
        from_ord: q.from_ord,
        to_ord: q.to_ord,
        from_time: parse_time("from_time", &q.from_time)?,
        to_time: parse_time("to_time", &q.to_time)?,
    };
    // Commit bounds are resolved to their order on the branch.
    for (sha, slot) in [
        (&q.from_commit, &mut f.from_ord),
        (&q.to_commit, &mut f.to_ord),
    ] {
        if let Some(sha) = sha {
            let bid = branch_id.or(state
                .store
                .branch_id(project.id, &project.main_branch)
                .await?);
            let ord = state.store.commit_order(project.id, bid, sha).await?;
            *slot = Some(ord.ok_or_else(|| {
                ApiError::new(
                    axum::http::StatusCode::NOT_FOUND,
                    format!("commit '{sha}' not found on the branch"),
                )
            })?);
        }
    }
    Ok(Json(state.store.points(id, &f).await?))
}
