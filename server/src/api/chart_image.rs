//! `GET /api/v1/series/{id}/chart.svg?<chart query>` and
//! `GET /api/v1/series/{id}/chart.png?<chart query>`: the trend chart of a series as a
//! standalone image (for pull-request comments and chat), drawn with plotters (SVG
//! backend, or bitmap backend encoded as PNG). The query keys are those of the series
//! page (`x`, `scale`, `from`, `to`, `branch`, `overlay`, `branches`), so the page's URL
//! maps to its image. Text is laid out (and, in PNG, rasterised) with DejaVu Sans
//! embedded in the binary, so no system font is needed. The drawing itself is shared
//! by both formats: see [`draw`].

pub mod draw;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use perfwatch_core::chart::{ChartQuery, SeriesChart};
use perfwatch_core::comparison::decode_query;

use super::error::{ApiError, ApiErrors, ApiResult};
use crate::state::AppState;

/// Image size in pixels, both formats.
pub const WIDTH: u32 = 800;
pub const HEIGHT: u32 = 360;

async fn load(state: &AppState, id: i64, raw: Option<String>) -> ApiResult<SeriesChart> {
    let pairs = decode_query(raw.as_deref().unwrap_or(""));
    let query = ChartQuery::from_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Ok(perfwatch_backend::charts::series_chart(&state.store, id, query).await?)
}

fn image(content_type: &'static str, drawn: Result<Vec<u8>, String>) -> ApiResult<Response> {
    let body = drawn.map_err(|e| {
        tracing::error!(error = %e, "chart drawing failed");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "chart drawing failed")
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "max-age=60"),
        ],
        body,
    )
        .into_response())
}

#[utoipa::path(
    get,
    path = "/series/{id}/chart.svg",
    tag = "series",
    summary = "Trend chart as SVG",
    params(("id" = i64, Path, description = "Series id"),
        ("x" = Option<String>, Query, description = "`commit` or `time`"),
        ("scale" = Option<String>, Query, description = "`linear` or `log`"),
        ("from" = Option<String>, Query, description = "Range start"),
        ("to" = Option<String>, Query, description = "Range end"),
        ("branch" = Option<String>, Query, description = "Branch drawn"),
        ("overlay" = Option<String>, Query, description = "Overlays"),
        ("branches" = Option<String>, Query, description = "Other branches drawn")
    ),
    responses((status = 200, description = "The trend chart", content_type = "image/svg+xml", body = String), ApiErrors)
)]
pub async fn series_svg(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let chart = load(&state, id, raw).await?;
    let svg = draw::render_svg(&chart, WIDTH, HEIGHT).map(String::into_bytes);
    image("image/svg+xml", svg)
}

#[utoipa::path(
    get,
    path = "/series/{id}/chart.png",
    tag = "series",
    summary = "Trend chart as PNG",
    params(("id" = i64, Path, description = "Series id"),
        ("x" = Option<String>, Query, description = "`commit` or `time`"),
        ("scale" = Option<String>, Query, description = "`linear` or `log`"),
        ("from" = Option<String>, Query, description = "Range start"),
        ("to" = Option<String>, Query, description = "Range end"),
        ("branch" = Option<String>, Query, description = "Branch drawn"),
        ("overlay" = Option<String>, Query, description = "Overlays"),
        ("branches" = Option<String>, Query, description = "Other branches drawn")
    ),
    responses((status = 200, description = "The trend chart", content_type = "image/png", body = Vec<u8>), ApiErrors)
)]
pub async fn series_png(
    State(state): State<AppState>,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> ApiResult<Response> {
    let chart = load(&state, id, raw).await?;
    // Rasterising and deflating take a few milliseconds of CPU: off the async threads.
    let png = tokio::task::spawn_blocking(move || draw::render_png(&chart, WIDTH, HEIGHT))
        .await
        .unwrap_or_else(|e| Err(format!("drawing task failed: {e}")));
    image("image/png", png)
}
