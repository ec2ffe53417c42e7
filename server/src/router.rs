//! Router assembly: REST API under `/api/v1`, Leptos pages and server functions,
//! the stylesheet and the wasm bundle. Serving it is `crate::lifecycle`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::http::{header, StatusCode};
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use leptos::prelude::*;
use leptos_axum::{generate_route_list, LeptosRoutes};
use perfwatch_app::{shell, App};
use perfwatch_backend::followup::FollowUps;
use perfwatch_backend::secrets::SealKey;
use perfwatch_backend::Store;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

use crate::config::ServerConfig;
use crate::state::AppState;

const CSS: &str = include_str!("../../style/perfwatch.css");

/// Builds the whole application on an open store.
pub fn build_router(config: ServerConfig, store: Store, bound: SocketAddr) -> Router {
    let followups = (!config.detect_inline).then(|| FollowUps::new(store.clone()));
    let seal = config.seal_key().unwrap_or_else(|_| SealKey::generate());
    build_app(config, store, bound, followups, Arc::default(), seal)
}

/// The application, queueing follow-up work through `followups` (`None`: inline).
pub(crate) fn build_app(
    config: ServerConfig,
    store: Store,
    bound: SocketAddr,
    followups: Option<FollowUps>,
    metrics: Arc<perfwatch_backend::observe::Metrics>,
    seal: SealKey,
) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("perfwatch")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(bound)
        .build();
    let state = AppState {
        leptos_options: leptos_options.clone(),
        store: store.clone(),
        config: Arc::new(config.clone()),
        public_url: public_base(&config, bound).into(),
        followups,
        metrics,
        login_guard: Arc::new(perfwatch_backend::login_guard::LoginGuard::new(
            config.login.clone(),
        )),
        seal: seal.clone(),
    };
    let (api, api_doc) = crate::api::routes(&config, &state);
    let pages = generate_route_list(App);
    Router::new()
        .nest("/api/v1", api)
        .merge(doc_routes(api_doc))
        .merge(session_routes(config.body_limit))
        .merge(service_routes())
        .nest_service(
            "/pkg",
            ServeDir::new(config.site_root.join("pkg")).precompressed_gzip(),
        )
        .leptos_routes_with_context(
            &state,
            pages,
            move || {
                provide_context(store.clone());
                // The integration page seals the secrets it saves.
                provide_context(seal.clone());
            },
            move || shell(leptos_options.clone()),
        )
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::api::auth::resolve_actor,
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::security::headers,
        ))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::observe::track,
        ))
        .with_state(state)
}

/// Base URL of links: `--public-url`, else the bound address.
pub(crate) fn public_base(config: &ServerConfig, bound: SocketAddr) -> String {
    config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"))
        .trim_end_matches('/')
        .to_string()
}

/// The OpenAPI document and its reading page.
fn doc_routes(api_doc: utoipa::openapi::OpenApi) -> Router<AppState> {
    let (doc_json, doc_page) = crate::openapi_page::prepare(crate::openapi::document(api_doc));
    Router::new()
        .route(
            "/api/v1/openapi.json",
            get(crate::openapi::openapi_json).layer(axum::Extension(doc_json)),
        )
        .route(
            "/api/docs",
            get(crate::openapi_page::page).layer(axum::Extension(doc_page)),
        )
}

/// Logging in and out, and GitHub's webhook (which signs instead of authenticating).
fn session_routes(body_limit: usize) -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route(
            "/api/v1/github/webhook",
            post(crate::api::github::webhook)
                .layer(axum::extract::DefaultBodyLimit::max(body_limit)),
        )
        .route("/auth/login", post(crate::api::session::login))
        .route("/auth/logout", post(crate::api::session::logout))
        .route("/auth/logout-all", post(crate::api::session::logout_all))
}

/// The stylesheet, health, metrics, CSP reports and short compare links.
fn service_routes() -> Router<AppState> {
    Router::new()
        .route("/pkg/perfwatch.css", get(stylesheet))
        .route("/healthz", get(|| async { "ok" }))
        .route("/metrics", get(crate::observe::metrics))
        .route(
            "/csp-report",
            axum::routing::post(crate::security::report).layer(
                axum::extract::DefaultBodyLimit::max(crate::security::MAX_REPORT_BYTES),
            ),
        )
        .route("/c/{id}", get(crate::api::compare::follow_short))
}

async fn stylesheet() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        CSS,
    )
}

async fn not_found() -> impl IntoResponse {
    (StatusCode::NOT_FOUND, "not found")
}
