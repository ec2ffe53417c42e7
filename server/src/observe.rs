//! Request tracking and `GET /metrics`: every request gets an id (its tracing span,
//! its `x-request-id` answer header and any "internal error (request <id>)" share it),
//! and is counted and timed by matched route in [`Metrics`].

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use perfwatch_backend::observe::{
    new_request_id, read_queue_gauges, with_request_id, OPENMETRICS_CONTENT_TYPE,
};
use tracing::Instrument;

use crate::api::error::ApiResult;
use crate::state::AppState;

/// Label for requests no route matched (the fallback), so unknown paths cannot grow
/// the label space.
const UNMATCHED: &str = "unmatched";

/// Outer middleware: id, span, count, time.
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED.to_string(), |m| m.as_str().to_string());
    let id = new_request_id();
    let span = tracing::info_span!("request", id = %id, method = %method, route = %route);
    let mut resp = with_request_id(id.clone(), next.run(req))
        .instrument(span.clone())
        .await;
    let took = started.elapsed();
    let status = resp.status().as_u16();
    state.metrics.observe_request(&method, &route, status, took);
    span.in_scope(|| {
        tracing::debug!(status, ms = took.as_secs_f64() * 1e3, "answered");
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().insert("x-request-id", v);
    }
    resp
}

/// `GET /metrics`: Prometheus/OpenMetrics exposition. Readable like every other read:
/// by anyone, or with `--private-reads` by a token (Prometheus: `authorization` in the
/// scrape config) or a logged-in user.
pub async fn metrics(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let now = perfwatch_backend::time::now_ms();
    let (queue, takeovers) = read_queue_gauges(&state.store, now).await?;
    Ok((
        [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
        state.metrics.render(&queue, &takeovers),
    ))
}
