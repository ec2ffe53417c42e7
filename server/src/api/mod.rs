//! REST API v1 (documented in docs/api.md). Handlers are thin: parse, check the token,
//! call one use case, map the error.

pub mod admin;
pub mod alerts;
pub mod annotations;
pub mod auth;
pub mod baseline;
pub mod chart_image;
pub mod compare;
pub mod error;
pub mod github;
pub mod jobs;
pub mod metric_sources;
pub mod projects;
pub mod runs;
pub mod series;
pub mod session;
pub mod triage;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;

use crate::config::ServerConfig;
use crate::state::AppState;

pub fn routes(config: &ServerConfig, state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/runs", post(runs::submit))
        .route("/runs/{id}", get(runs::get_run))
        .route("/runs/{id}/baseline", get(baseline::get))
        .route("/projects", get(projects::list).post(projects::create))
        .route("/projects/{slug}", get(projects::get_one))
        .route("/projects/{slug}/series", get(series::list))
        .route("/projects/{slug}/annotations", get(annotations::list))
        .route("/projects/{slug}/compare", get(compare::compare))
        .route(
            "/projects/{slug}/compare/short",
            post(compare::create_short),
        )
        .route("/annotations", post(annotations::create))
        .route("/series/{id}/points", get(series::points))
        .route("/series/{id}/chart.svg", get(chart_image::series_svg))
        .route("/series/{id}/chart.png", get(chart_image::series_png))
        .route("/alerts", get(alerts::list))
        .route("/alerts/{id}", get(alerts::get_one))
        .route("/alert-groups/{id}", get(alerts::group))
        .route("/projects/{slug}/detect", post(alerts::detect))
        .route(
            "/projects/{slug}/thresholds",
            get(alerts::list_thresholds).post(alerts::create_threshold),
        )
        .route("/thresholds/{id}", delete(alerts::delete_threshold))
        .route("/alert-groups/{id}/state", post(triage::group_state))
        .route("/alert-groups/{id}/assignee", post(triage::assignee))
        .route("/alert-groups/{id}/notes", post(triage::note))
        .route("/alert-groups/{id}/ticket", post(triage::ticket))
        .route("/alert-groups/{id}/new-ticket", get(triage::new_ticket))
        .route("/alerts/{id}/state", post(triage::alert_state))
        .route("/alerts/bulk-state", post(triage::bulk_state))
        .route(
            "/series/{id}/sensitivity",
            get(triage::sensitivity).delete(triage::reset_sensitivity),
        )
        .route(
            "/projects/{slug}/ticket-template",
            put(admin::set_ticket_template),
        )
        .route(
            "/projects/{slug}/webhooks",
            get(admin::list_webhooks).post(admin::create_webhook),
        )
        .route("/projects/{slug}/deliveries", get(admin::deliveries))
        .route("/webhooks/{id}", delete(admin::delete_webhook))
        .route("/tokens", get(admin::list_tokens).post(admin::create_token))
        .route("/tokens/{id}", delete(admin::revoke_token))
        .route("/users", get(admin::list_users).post(admin::create_user))
        .route("/users/{name}/memberships", post(admin::set_membership))
        .route("/admin/jobs", get(jobs::list))
        .route("/admin/jobs/{id}/requeue", post(jobs::requeue))
        .route(
            "/projects/{slug}/github",
            get(github::get_integration).put(github::put_integration),
        )
        .route(
            "/projects/{slug}/jobs",
            get(github::list_jobs).post(github::enqueue),
        )
        .route("/jobs/{id}", get(github::get_job))
        .route("/jobs/{id}/cancel", post(github::cancel))
        .route("/jobs/{id}/rerun", post(github::rerun))
        .route("/queue", get(github::queue))
        .route("/projects/{slug}/metric-sources", get(metric_sources::list))
        .route(
            "/projects/{slug}/metric-sources/{name}",
            put(metric_sources::put),
        )
        .route("/runs/{id}/metrics", post(metric_sources::collect))
        .route(
            "/projects/{slug}/metric-sources/{name}/schedule",
            put(metric_sources::schedule),
        )
        .route("/projects/{slug}/deploys/{id}", get(metric_sources::deploy))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_rights,
        ))
        .layer(DefaultBodyLimit::max(config.body_limit))
}
