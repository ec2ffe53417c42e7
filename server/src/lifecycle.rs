//! Serving: open the store, start the background workers, serve the router, and on
//! the stop signal shut down in order.

use std::future::IntoFuture;
use std::net::SocketAddr;

use perfwatch_backend::followup::FollowUps;
use perfwatch_backend::queue::lifecycle::{self, Workers, WorkersConfig};
use perfwatch_backend::secrets::SealKey;
use perfwatch_backend::Store;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::router::{build_app, public_base};

/// After the shutdown signal, how long in-flight requests may still run.
pub const REQUEST_GRACE: std::time::Duration = std::time::Duration::from_secs(5);
/// Then how long the background workers may take to finish or give back their jobs.
pub const WORKER_GRACE: std::time::Duration = std::time::Duration::from_secs(4);

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
    let store = open_store(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    let bound = listener.local_addr()?;
    let base = public_base(&config, bound);
    let seal = config.seal_key()?;
    seal_plain_secrets(&store, &seal).await?;
    let background = Background::start(&config, &store, base, &seal, &stop).await;
    let app = build_app(
        config,
        store.clone(),
        bound,
        background.followups.clone(),
        background.metrics.clone(),
        seal,
    );
    on_bound(bound);
    // The peer address feeds login throttling per client.
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(stop.clone().cancelled_owned());
    let served = drain(tokio::spawn(server.into_future()), &stop).await;
    background.stop().await;
    store.close().await;
    tracing::info!("stopped");
    match served {
        Some(Ok(r)) => Ok(r?),
        Some(Err(e)) if !e.is_cancelled() => Err(e.into()),
        _ => Ok(()),
    }
}

/// Connects, and loads the demo data into an empty database when asked.
async fn open_store(config: &ServerConfig) -> anyhow::Result<Store> {
    let store = Store::connect(&config.database_url).await?;
    if config.demo_if_empty && store.list_projects().await?.is_empty() {
        tracing::info!("empty database: loading the demo data set");
        perfwatch_backend::demo::load(&store).await?;
    }
    Ok(store)
}

/// Seals the webhook secrets an older version stored in plain text; runs before the
/// webhook lane sends anything.
async fn seal_plain_secrets(store: &Store, seal: &SealKey) -> anyhow::Result<()> {
    let sealed = perfwatch_backend::notify::seal_stored_webhook_secrets(store, seal).await?;
    if sealed > 0 {
        tracing::info!(
            sealed,
            "sealed webhook signing secrets stored in plain text"
        );
    }
    Ok(())
}

/// Waits for the server to end, or after `stop`, at most [`REQUEST_GRACE`] for its
/// in-flight requests; `None` when it had to be cut off.
async fn drain(
    mut server: JoinHandle<std::io::Result<()>>,
    stop: &CancellationToken,
) -> Option<Result<std::io::Result<()>, tokio::task::JoinError>> {
    tokio::select! {
        r = &mut server => return Some(r),
        _ = stop.cancelled() => {}
    }
    match tokio::time::timeout(REQUEST_GRACE, &mut server).await {
        Ok(r) => Some(r),
        Err(_) => {
            tracing::warn!("requests still running after the grace period; closing");
            server.abort();
            None
        }
    }
}

/// The server's background work: the queue lanes (detection, comparisons, webhooks,
/// metric windows) and the performance-job lanes.
struct Background {
    workers: Workers,
    perf_lanes: Vec<JoinHandle<()>>,
    perf_stop: CancellationToken,
    followups: Option<FollowUps>,
    metrics: std::sync::Arc<perfwatch_backend::observe::Metrics>,
}

impl Background {
    async fn start(
        config: &ServerConfig,
        store: &Store,
        base: String,
        seal: &SealKey,
        stop: &CancellationToken,
    ) -> Self {
        let mut workers_cfg = WorkersConfig::new(base.clone(), config.notify.clone(), seal.clone());
        workers_cfg.start_delay = config.worker_start_delay;
        // `--lease-ms` holds for every lane: a killed server's detection pass or delivery
        // is taken over once its lease expires, so the lease bounds that wait.
        workers_cfg.lease = config.lease;
        let followups = (!config.detect_inline).then(|| FollowUps::new(store.clone()));
        let workers =
            lifecycle::spawn_all(store, &workers_cfg, followups.as_ref(), stop.child_token());
        let perf_cfg = config.perf_config(seal.clone(), base, workers_cfg.metrics.clone(), true);
        let perf_stop = stop.child_token();
        let perf_lanes =
            perfwatch_backend::perf::spawn_perf_workers(store, &perf_cfg, perf_stop.clone()).await;
        Self {
            workers,
            perf_lanes,
            perf_stop,
            followups,
            metrics: workers_cfg.metrics,
        }
    }

    /// Lets every lane finish its job or give its lease back, at most [`WORKER_GRACE`].
    async fn stop(self) {
        self.perf_stop.cancel();
        let perf_done = async {
            for l in self.perf_lanes {
                let _ = l.await;
            }
        };
        let (workers_ok, perf_ok) = tokio::join!(
            self.workers.shutdown(WORKER_GRACE),
            tokio::time::timeout(WORKER_GRACE, perf_done)
        );
        if !workers_ok || perf_ok.is_err() {
            tracing::warn!("background workers did not stop in time");
        }
    }
}
