//! A running job's stop requests (`/perfwatch stop`, the job page's button): polled
//! while the steps run; one appearing cancels them.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::Store;

/// Polls job `id`'s stop request every `every`; cancels `cancel` when one appears.
pub(super) fn watch_stop(
    store: &Store,
    id: i64,
    every: Duration,
    cancel: CancellationToken,
) -> StopWatch {
    let store = store.clone();
    let done = CancellationToken::new();
    let until = done.clone();
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = until.cancelled() => return None,
                _ = cancel.cancelled() => return None,
                _ = tokio::time::sleep(every) => {}
            }
            if let Ok(Some(why)) = store.perf_job_stop_requested(id).await {
                tracing::info!(job = id, %why, "stop requested; killing the steps");
                cancel.cancel();
                return Some(why);
            }
        }
    });
    StopWatch { done, task }
}

/// The polling task; `finish` ends it and says whether a stop was requested (why).
pub(super) struct StopWatch {
    done: CancellationToken,
    task: tokio::task::JoinHandle<Option<String>>,
}

impl StopWatch {
    pub(super) async fn finish(self) -> Option<String> {
        self.done.cancel();
        self.task.await.ok().flatten()
    }
}
