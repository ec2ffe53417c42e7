//! The job queue page's server function.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server;
use super::*;
use crate::api_error::AppError;

#[server(prefix = "/fn", endpoint = "jobs_queue")]
pub async fn fetch_queue() -> Result<QueuePage, AppError> {
    let store = crate::api_ctx::store()?;
    let q = perfwatch_backend::perf::enqueue::queue_view(&store)
        .await
        .map_err(AppError::from)?;
    let mut slugs = server::Slugs::default();
    let mut queued = Vec::with_capacity(q.queued.len());
    for e in &q.queued {
        let slug = slugs
            .get(&store, e.job.project_id)
            .await
            .map_err(AppError::from)?;
        queued.push(QueuedEntry {
            position: e.position,
            eta_ms: e.eta_ms,
            job: server::summary(&e.job, &slug),
        });
    }
    let mut running = Vec::with_capacity(q.running.len());
    for j in &q.running {
        let slug = slugs
            .get(&store, j.project_id)
            .await
            .map_err(AppError::from)?;
        let (tail, _) = server::lines_after(&store, j.id, 0, QUEUE_TAIL, QUEUE_TAIL)
            .await
            .map_err(AppError::from)?;
        running.push(RunningEntry {
            job: server::summary(j, &slug),
            tail,
        });
    }
    Ok(QueuePage {
        queued,
        running,
        typical_ms: q.typical_ms,
        last_runner_beat: q.last_runner_beat,
        now: perfwatch_backend::time::now_ms(),
    })
}
