//! Router assembly: REST API under `/api/v1`, Leptos pages and server functions,
//! the stylesheet and the wasm bundle.

use std::future::IntoFuture;
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
use perfwatch_backend::queue::lifecycle::{self, WorkersConfig};
use perfwatch_backend::secrets::SealKey;
use perfwatch_backend::Store;
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::services::ServeDir;

use crate::config::ServerConfig;
use crate::state::AppState;

/// After the shutdown signal, how long in-flight requests may still run.
pub const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// Then how long the background workers may take to finish or give back their jobs.
pub const WORKER_GRACE: std::time::Duration = std::time::Duration::from_secs(4);

const CSS: &str = include_str!("../../style/perfwatch.css");

/// Builds the whole application on an open store.
pub fn build_router(config: ServerConfig, store: Store, bound: SocketAddr) -> Router {
    let followups = (!config.detect_inline).then(|| FollowUps::new(store.clone()));
    let seal = config.seal_key().unwrap_or_else(|_| SealKey::generate());
    build_app(config, store, bound, followups, Arc::default(), seal)
}

/// The application, queueing follow-up work through `followups` (`None`: inline).
fn build_app(
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
        followups,
        metrics,
        login_guard: Arc::new(perfwatch_backend::login_guard::LoginGuard::new(
            config.login.clone(),
        )),
        seal: seal.clone(),
    };
    let routes = generate_route_list(App);
    let pkg_dir = config.site_root.join("pkg");
    let ctx_store = store.clone();
    let (api, api_doc) = crate::api::routes(&config, &state);
    let (doc_json, doc_page) = crate::openapi_page::prepare(crate::openapi::document(api_doc));
    Router::new()
        .nest("/api/v1", api)
        .route(
            "/api/v1/openapi.json",
            get(crate::openapi::openapi_json).layer(axum::Extension(doc_json)),
        )
        .route(
            "/api/docs",
            get(crate::openapi_page::page).layer(axum::Extension(doc_page)),
        )
        .route(
            "/api/v1/github/webhook",
            axum::routing::post(crate::api::github::webhook)
                .layer(axum::extract::DefaultBodyLimit::max(config.body_limit)),
        )
        .route(
            "/auth/login",
            axum::routing::post(crate::api::session::login),
        )
        .route(
            "/auth/logout",
            axum::routing::post(crate::api::session::logout),
        )
        .route(
            "/auth/logout-all",
            axum::routing::post(crate::api::session::logout_all),
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
            move || {
                provide_context(ctx_store.clone());
                // The integration page seals the secrets it saves.
                provide_context(seal.clone());
            },
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

/// Opens the store, loads the demo data into an empty database when asked, binds and
/// serves until SIGTERM or Ctrl-C (see [`serve_until`]). `on_bound` hears the bound
/// address (port 0 picks one).
pub async fn serve(config: ServerConfig, on_bound: impl FnOnce(SocketAddr)) -> anyhow::Result<()> {
    let stop = CancellationToken::new();
    tokio::spawn(crate::shutdown::on_signal(stop.clone()));
    serve_until(config, on_bound, stop).await
}

/// Serves until `stop` is cancelled, then shuts down in order: stop accepting, let
/// in-flight requests finish (at most [`REQUEST_GRACE`]), let the background workers
/// finish their jobs or give their leases back (at most [`WORKER_GRACE`] more).
pub async fn serve_until(
    config: ServerConfig,
    on_bound: impl FnOnce(SocketAddr),
    stop: CancellationToken,
) -> anyhow::Result<()> {
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
    let seal = config.seal_key()?;
    // Before the webhook lane sends anything: secrets an older version stored in plain
    // text are sealed now.
    let sealed = perfwatch_backend::notify::seal_stored_webhook_secrets(&store, &seal).await?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "sealed webhook signing secrets stored in plain text"
        );
    }
    let mut workers_cfg = WorkersConfig::new(base.clone(), config.notify.clone(), seal.clone());
    workers_cfg.start_delay = config.worker_start_delay;
    // `--lease-ms` holds for every lane: a killed server's detection pass or delivery is
    // taken over once its lease expires, so the lease bounds that wait.
    workers_cfg.lease = config.lease;
    let followups = (!config.detect_inline).then(|| FollowUps::new(store.clone()));
    let workers =
        lifecycle::spawn_all(&store, &workers_cfg, followups.as_ref(), stop.child_token());
    let perf_cfg = config.perf_config(
        seal.clone(),
        base.clone(),
        workers_cfg.metrics.clone(),
        true,
    );
    let perf_stop = stop.child_token();
    let perf_lanes =
        perfwatch_backend::perf::spawn_perf_workers(&store, &perf_cfg, perf_stop.clone()).await;
    let app = build_app(
        config,
        store.clone(),
        bound,
        followups,
        workers_cfg.metrics.clone(),
        seal,
    );
    on_bound(bound);
    // The peer address feeds login throttling per client.
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned());
    let mut server = tokio::spawn(server.into_future());
    let served = tokio::select! {
        r = &mut server => Some(r),
        _ = stop.cancelled() => None,
    };
    let served = match served {
        Some(r) => Some(r),
        None => match tokio::time::timeout(REQUEST_GRACE, &mut server).await {
            Ok(r) => Some(r),
            Err(_) => {
                tracing::warn!("requests still running after the grace period; closing");
                server.abort();
                None
            }
        },
    };
    perf_stop.cancel();
    let perf_done = async {
        for l in perf_lanes {
            let _ = l.await;
        }
    };
    let (workers_ok, perf_ok) = tokio::join!(
        workers.shutdown(WORKER_GRACE),
        tokio::time::timeout(WORKER_GRACE, perf_done)
    );
    if !workers_ok || perf_ok.is_err() {
        tracing::warn!("background workers did not stop in time");
    }
    store.close().await;
    tracing::info!("stopped");
    match served {
        Some(Ok(r)) => Ok(r?),
        Some(Err(e)) if !e.is_cancelled() => Err(e.into()),
        _ => Ok(()),
    }
}
