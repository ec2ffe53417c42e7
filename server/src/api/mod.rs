//! REST API v1 (documented in docs/api.md). Handlers are thin: parse, check the token,
//! call one use case, map the error.

pub mod admin;
pub mod alerts;
pub mod annotations;
pub mod audit;
pub mod auth;
pub mod baseline;
pub mod bodies;
pub mod chart_image;
pub mod compare;
pub mod error;
pub mod github;
pub mod holidays;
pub mod jobs;
pub mod json_body;
pub mod metric_sources;
pub mod projects;
pub mod runs;
pub mod series;
pub mod session;
pub mod triage;

use axum::extract::DefaultBodyLimit;
use axum::Router;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::config::ServerConfig;
use crate::state::AppState;

/// The `/api/v1` routes and their OpenAPI document (see `crate::openapi`): every
/// handler is registered with its `#[utoipa::path]` annotation through `routes!`, so
/// a route cannot be added without its documentation being added too. The groups
/// below keep each path (all its methods) in one group, so merging them joins no path.
pub fn routes(
    config: &ServerConfig,
    state: &AppState,
) -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::new()
        .merge(run_routes())
        .merge(project_routes())
        .merge(chart_routes())
        .merge(alert_routes())
        .merge(triage_routes())
        .merge(admin_routes())
        .merge(job_routes())
        .merge(metric_source_routes())
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_rights,
        ))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record_routes,
        ))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .split_for_parts()
}

/// Submitting and reading runs, and the baseline a run is compared with.
fn run_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(runs::submit))
        .routes(routes!(runs::get_run))
        .routes(routes!(baseline::get))
}

/// Projects, their series and annotations, and their holiday calendars.
fn project_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(projects::list, projects::create))
        .routes(routes!(projects::get_one))
        .routes(routes!(series::list))
        .routes(routes!(annotations::list))
        .routes(routes!(annotations::create))
        .routes(routes!(holidays::get, holidays::put))
}

/// A series' points and chart images, and comparisons with their short links.
fn chart_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(series::points))
        .routes(routes!(chart_image::series_svg))
        .routes(routes!(chart_image::series_png))
        .routes(routes!(compare::compare))
        .routes(routes!(compare::create_short))
}

/// Alerts, detection on demand and threshold rules.
fn alert_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(alerts::list))
        .routes(routes!(alerts::get_one))
        .routes(routes!(alerts::group))
        .routes(routes!(alerts::detect))
        .routes(routes!(alerts::list_thresholds, alerts::create_threshold))
        .routes(routes!(alerts::delete_threshold))
}

/// Triage of alert groups and alerts.
fn triage_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(triage::group_state))
        .routes(routes!(triage::assignee))
        .routes(routes!(triage::note))
        .routes(routes!(triage::ticket))
        .routes(routes!(triage::new_ticket))
        .routes(routes!(triage::alert_state))
        .routes(routes!(triage::bulk_state))
        .routes(routes!(triage::sensitivity, triage::reset_sensitivity))
}

/// Administration: ticket template, webhooks, tokens, users, the audit log.
fn admin_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(admin::set_ticket_template))
        .routes(routes!(admin::list_webhooks, admin::create_webhook))
        .routes(routes!(admin::deliveries))
        .routes(routes!(admin::delete_webhook))
        .routes(routes!(admin::list_tokens, admin::create_token))
        .routes(routes!(admin::revoke_token))
        .routes(routes!(admin::list_users, admin::create_user))
        .routes(routes!(admin::set_membership))
        .routes(routes!(audit::list))
}

/// The job queue and the GitHub integration's perf jobs.
fn job_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::requeue))
        .routes(routes!(github::get_integration, github::put_integration))
        .routes(routes!(github::list_jobs, github::enqueue))
        .routes(routes!(github::get_job))
        .routes(routes!(github::cancel))
        .routes(routes!(github::rerun))
        .routes(routes!(github::queue))
}

/// Metric sources: queries, collection, schedules, deploy verdicts, rollups.
fn metric_source_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(metric_sources::list))
        .routes(routes!(metric_sources::put))
        .routes(routes!(metric_sources::test_query))
        .routes(routes!(metric_sources::collect))
        .routes(routes!(metric_sources::schedule))
        .routes(routes!(metric_sources::deploy))
        .routes(routes!(metric_sources::backtest))
        .routes(routes!(metric_sources::rollups))
}
