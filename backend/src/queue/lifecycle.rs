//! Starts every background worker of a server from one place, with one shutdown
//! signal: on cancel, workers stop claiming, let the job in hand finish for a grace
//! period, then give its lease back.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::kinds;
use super::lease::Queue;
use super::retry::RetryPolicy;
use super::worker::{Worker, WorkerOptions};
use crate::delivery::DeliveryHandler;
use crate::followup::{CompareHandler, DetectHandler, FollowUps};
use crate::notify::NotifyConfig;
use crate::observe::Metrics;
use crate::secrets::SealKey;
use crate::Store;

/// What the workers need from the server's configuration.
#[derive(Debug, Clone)]
pub struct WorkersConfig {
    /// Base URL of links in webhook messages.
    pub public_url: String,
    pub notify: NotifyConfig,
    /// How long a claim holds a job without a heartbeat.
    pub lease: Duration,
    /// After the shutdown signal, how long a running job may still finish.
    pub grace: Duration,
    /// Workers start claiming only after this delay (a test and operations knob:
    /// `--worker-start-delay-ms`; queued work waits in the database meanwhile).
    pub start_delay: Duration,
    /// Where the workers count how their attempts end (`GET /metrics`).
    pub metrics: Arc<Metrics>,
    /// Opens the webhooks' sealed signing secrets.
    pub seal: SealKey,
}

impl WorkersConfig {
    pub fn new(public_url: String, notify: NotifyConfig, seal: SealKey) -> Self {
        Self {
            public_url,
            notify,
            seal,
            lease: Duration::from_secs(30),
            grace: Duration::from_secs(3),
            start_delay: Duration::ZERO,
            metrics: Arc::default(),
        }
    }
}

/// The running workers.
pub struct Workers {
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

/// A worker identity unique to this process and lane: host, pid, lane, random.
pub(crate) fn owner(lane: &str) -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into());
    let mut r = [0u8; 4];
    let _ = getrandom::fill(&mut r);
    format!("{host}:{}:{lane}:{}", std::process::id(), hex::encode(r))
}

/// Starts the follow-up lane (detection, comparisons) and the webhook lane, each
/// claiming its own kinds so a slow receiver never holds up detection. `followups`
/// wakes the follow-up lane when this process queues work.
pub fn spawn_all(
    store: &Store,
    cfg: &WorkersConfig,
    followups: Option<&FollowUps>,
    stop: CancellationToken,
) -> Workers {
    store.set_retry_policy(
        kinds::WEBHOOK,
        RetryPolicy {
            max_attempts: cfg.notify.max_attempts,
            backoff_ms: cfg.notify.backoff.as_millis() as i64,
        },
    );
    let opts = |poll| WorkerOptions {
        poll,
        grace: cfg.grace,
    };
    let wake = followups.map_or_else(Arc::<Notify>::default, FollowUps::wake_handle);
    let follow = Worker::new(
        Queue::new(store.clone(), owner("followup"), cfg.lease),
        opts(Duration::from_millis(200)),
        wake,
    )
    .observed_by(cfg.metrics.clone())
    .handle(Arc::new(DetectHandler {
        store: store.clone(),
    }))
    .handle(Arc::new(CompareHandler {
        store: store.clone(),
    }));
    let webhooks = Worker::new(
        Queue::new(store.clone(), owner("webhook"), cfg.lease),
        opts(cfg.notify.poll),
        Arc::default(),
    )
    .observed_by(cfg.metrics.clone())
    .handle(Arc::new(DeliveryHandler {
        store: store.clone(),
        client: reqwest::Client::new(),
        base: cfg.public_url.clone(),
        timeout: cfg.notify.timeout,
        seal: cfg.seal.clone(),
    }));
    let tasks = [follow, webhooks]
        .into_iter()
        .map(|w| {
            let stop = stop.clone();
            let delay = cfg.start_delay;
            tokio::spawn(async move {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                w.run(stop).await
            })
        })
        .collect();
    Workers { stop, tasks }
}

impl Workers {
    /// Signals shutdown and waits for the workers (at most `within`); returns whether
    /// all of them ended in time.
    pub async fn shutdown(self, within: Duration) -> bool {
        self.stop.cancel();
        let all = futures_join(self.tasks);
        tokio::time::timeout(within, all).await.is_ok()
    }
}

async fn futures_join(tasks: Vec<JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}
