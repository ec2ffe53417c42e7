//! REST API v1 (documented in docs/api.md). Handlers are thin: parse, check the token,
//! call one use case, map the error.

pub mod alerts;
pub mod annotations;
pub mod auth;
pub mod baseline;
pub mod error;
pub mod projects;
pub mod runs;
pub mod series;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;

use crate::config::ServerConfig;
use crate::state::AppState;

pub fn routes(config: &ServerConfig) -> Router<AppState> {
    Router::new()
        .route("/runs", post(runs::submit))
        .route("/runs/{id}", get(runs::get_run))
        .route("/runs/{id}/baseline", get(baseline::get))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/{slug}", get(projects::get_one))
        .route("/projects/{slug}/series", get(series::list))
        .route("/projects/{slug}/annotations", get(annotations::list))
        .route("/annotations", post(annotations::create))
        .route("/series/{id}/points", get(series::points))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::get_one))
        .route("/alert-groups/{id}", get(alerts::group))
        .route("/projects/{slug}/detect", post(alerts::detect))
        .route(
            "/projects/{slug}/thresholds",
            get(alerts::list_thresholds).post(alerts::create_threshold),
        )
        .route("/thresholds/{id}", delete(alerts::delete_threshold))
        .layer(DefaultBodyLimit::max(config.body_limit))
}
