//! Series and their points, for scripts.

use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use perfwatch_backend::store::{PointFilter, PointPage};
use perfwatch_core::view::{Point, SeriesInfo};
use serde::{Deserialize, Serialize};

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

/// Points in one answer when `limit` is not given: a few months of daily runs, and an
/// answer of ~170 KB. Every answer is bounded so that a long series cannot make the
/// server build megabytes of JSON per request (docs/benchmarks.md "Soak").
pub const DEFAULT_POINTS_LIMIT: i64 = 1000;
/// Largest `limit` accepted.
pub const MAX_POINTS_LIMIT: i64 = 5000;

/// Filters of `GET /series/{id}/points`. Times are RFC 3339 or milliseconds since the epoch.
/// Serialized again for the `Link` header of the next page.
#[derive(Debug, Deserialize, Serialize, Default)]
#[serde(deny_unknown_fields)]
pub struct PointsQuery {
    /// Points in this answer, 1 to [`MAX_POINTS_LIMIT`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<i64>,
    /// Continue after the point of this run (the last `run_id` of the previous page).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_commit: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_ord: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to_ord: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
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
        ("to_time" = Option<String>, Query, description = "Up to this time: RFC 3339 or ms since the epoch"),
        ("limit" = Option<i64>, Query, description = "Points in this answer: 1 to 5000, default 1000"),
        ("after" = Option<i64>, Query, description = "Continue after the point of this run: the last run_id of the previous page")
    ),
    responses((status = 200, description = "Points, oldest first, at most `limit`; a full page has a `Link` header (rel=\"next\") to the next one", body = Vec<perfwatch_core::view::Point>,
        headers(("Link" = String, description = "The next page, when this one is full"))), ApiErrors)
)]
pub async fn points(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    Query(q): Query<PointsQuery>,
) -> ApiResult<(HeaderMap, Json<Vec<Point>>)> {
    let limit = q.limit.unwrap_or(DEFAULT_POINTS_LIMIT);
    if !(1..=MAX_POINTS_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            StatusCode::BAD_REQUEST,
            perfwatch_core::ValidationErrors {
                errors: vec![perfwatch_core::FieldError::new(
                    "limit",
                    format!("must be 1 to {MAX_POINTS_LIMIT}"),
                )],
            },
        ));
    }
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
    let page = PointPage {
        after: q.after,
        limit,
    };
    let points = state.store.points_page(id, &f, page).await?;
    let mut headers = HeaderMap::new();
    // A full page may have more after it; the client follows `rel="next"` until a page
    // comes without one.
    if let (true, Some(last)) = (points.len() as i64 == limit, points.last()) {
        let next = PointsQuery {
            after: Some(last.run_id),
            ..q
        };
        let query = serde_urlencoded::to_string(&next).unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&format!(
            "</api/v1/series/{id}/points?{query}>; rel=\"next\""
        )) {
            headers.insert(header::LINK, v);
        }
    }
    Ok((headers, Json(points)))
}
