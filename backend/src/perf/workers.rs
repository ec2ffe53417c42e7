//! Starting the job system's workers: the GitHub lane (deliveries, storing results,
//! reports, reconcile passes) in every server, and `slots` runner lanes claiming
//! `perf.run` items — one by default, so load tests run alone and noise stays low.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::deliveries::DeliveryProcessor;
use super::reconcile::{schedule_all, ReconcileHandler};
use super::report::ReportHandler;
use super::results::StoreHandler;
use super::run::{RunHandler, RunnerDirs};
use crate::observe::Metrics;
use crate::queue::lifecycle::owner;
use crate::queue::worker::{Worker, WorkerOptions};
use crate::queue::Queue;
use crate::secrets::SealKey;
use crate::Store;

/// Settings of the job system's workers.
#[derive(Debug, Clone)]
pub struct PerfConfig {
    pub key: SealKey,
    pub public_url: String,
    /// Runner slots in this process (0: this process runs no jobs).
    pub slots: usize,
    /// Whether this process also runs the GitHub lane.
    pub github_lane: bool,
    pub data_dir: PathBuf,
    pub lease: Duration,
    pub grace: Duration,
    pub poll: Duration,
    pub stop_poll: Duration,
    pub metrics: Arc<Metrics>,
    /// Lanes start claiming only after this delay (`--worker-start-delay-ms`).
    pub start_delay: Duration,
}

/// Starts the lanes; they stop when `stop` is cancelled.
pub async fn spawn_perf_workers(
    store: &Store,
    cfg: &PerfConfig,
    stop: CancellationToken,
) -> Vec<JoinHandle<()>> {
    let opts = WorkerOptions {
        poll: cfg.poll,
        grace: cfg.grace,
    };
    let mut lanes = Vec::new();
    if cfg.github_lane {
        if let Err(e) = schedule_all(store).await {
            tracing::warn!(error = %e, "scheduling reconcile passes failed");
        }
        if let Err(e) = crate::metric_schedules::schedule_all(store).await {
            tracing::warn!(error = %e, "scheduling production series passes failed");
        }
        let w = Worker::new(
            Queue::new(store.clone(), owner("github"), cfg.lease),
            opts.clone(),
            Arc::default(),
        )
        .observed_by(cfg.metrics.clone())
        .handle(Arc::new(DeliveryProcessor {
            store: store.clone(),
            key: cfg.key.clone(),
        }))
        .handle(Arc::new(StoreHandler {
            store: store.clone(),
            public_url: cfg.public_url.clone(),
        }))
        .handle(Arc::new(ReportHandler {
            store: store.clone(),
            key: cfg.key.clone(),
            public_url: cfg.public_url.clone(),
        }))
        .handle(Arc::new(crate::window_metrics::CollectHandler {
            store: store.clone(),
            key: cfg.key.clone(),
        }))
        .handle(Arc::new(crate::metric_schedules::ScheduleHandler {
            store: store.clone(),
            key: cfg.key.clone(),
        }))
        .handle(Arc::new(ReconcileHandler {
            store: store.clone(),
            key: cfg.key.clone(),
        }));
        lanes.push(w);
    }
    for slot in 0..cfg.slots {
        let dirs = RunnerDirs {
            mirrors: cfg.data_dir.join(format!("mirrors/slot{slot}")),
            work: cfg.data_dir.join("work"),
            stop_poll: cfg.stop_poll,
        };
        let w = Worker::new(
            Queue::new(store.clone(), owner(&format!("runner{slot}")), cfg.lease),
            opts.clone(),
            Arc::default(),
        )
        .observed_by(cfg.metrics.clone())
        .handle(Arc::new(RunHandler {
            store: store.clone(),
            dirs,
        }));
        lanes.push(w);
    }
    lanes
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
        .collect()
}
