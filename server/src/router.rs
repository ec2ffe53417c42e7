//! Router assembly: REST API under `/api/v1`, Leptos pages and server functions,
//! the stylesheet and the wasm bundle.

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
use perfwatch_backend::Store;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

use crate::config::ServerConfig;
use crate::state::AppState;

const CSS: &str = include_str!("../../style/perfwatch.css");

/// Builds the whole application on an open store.
pub fn build_router(config: ServerConfig, store: Store, bound: SocketAddr) -> Router {
    let leptos_options = LeptosOptions::builder()
        .output_name("perfwatch")
        .site_root(config.site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(bound)
        .build();
    let public_url: Arc<str> = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"))
        .trim_end_matches('/')
        .into();
    let state = AppState {
        leptos_options: leptos_options.clone(),
        store: store.clone(),
        config: Arc::new(config.clone()),
        public_url,
        followups: (!config.detect_inline)
            .then(|| perfwatch_backend::followup::FollowUps::spawn(store.clone())),
        metrics: Arc::new(perfwatch_backend::observe::Metrics::new()),
    };
    let routes = generate_route_list(App);
    let pkg_dir = config.site_root.join("pkg");
    let ctx_store = store.clone();
    Router::new()
        .nest("/api/v1", crate::api::routes(&config, &state))
        .route(
            "/auth/login",
            axum::routing::post(crate::api::session::login),
        )
        .route(
            "/auth/logout",
            axum::routing::post(crate::api::session::logout),
        )
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
        .nest_service("/pkg", ServeDir::new(pkg_dir).precompressed_gzip())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(ctx_store.clone()),
            {
                let opts = leptos_options.clone();
                move || shell(opts.clone())
            },
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

/// Opens the store, loads the demo into an empty database when asked, binds and serves
/// until the process ends. `on_bound` hears the bound address (port 0 picks one).
pub async fn serve(config: ServerConfig, on_bound: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let store = Store::connect(&config.database_url).await?;
    if config.demo_if_empty && store.list_projects().await?.is_empty() {
        tracing::info!("empty database: loading the demo data set");
        perfwatch_backend::demo::load(&store).await?;
    }
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let bound = listener.local_addr()?;
    let base = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("http://{bound}"))
        .trim_end_matches('/')
        .to_string();
    perfwatch_backend::notify::spawn_worker(store.clone(), base, config.notify.clone());
    let app = build_router(config, store, bound);
    on_bound(bound);
    axum::serve(listener, app.into_make_service()).await?;
    Ok(())
}
