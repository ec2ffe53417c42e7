//! Step logs into the database while a job runs: lines are batched (every 300 ms or
//! 200 lines) and written under the job's fence, so a worker that lost its lease
//! stops writing — and stops running, since its cancel token is fired — at the next
//! batch. A job keeps at most `MAX_LINES` lines; the rest is counted, not stored.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use perfwatch_jobs::{LogSink, Stream};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::store::perf_jobs::Fence;
use crate::time::now_ms;
use crate::Store;

const MAX_LINES: usize = 20_000;
const MAX_LINE_CHARS: usize = 2_000;

type Line = (String, String, String, i64);

/// A `LogSink` that feeds the batching task.
pub struct DbLogSink {
    tx: mpsc::UnboundedSender<Line>,
    seen: AtomicUsize,
}

impl DbLogSink {
    /// The sink and the task writing its lines; the task ends once every clone of the
    /// sink is dropped and the last batch is written.
    pub fn start(
        store: Store,
        job: i64,
        fence: Fence,
        cancel: CancellationToken,
    ) -> (Arc<DbLogSink>, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(write_batches(store, job, fence, cancel, rx));
        (
            Arc::new(DbLogSink {
                tx,
                seen: AtomicUsize::new(0),
            }),
            task,
        )
    }
}

impl LogSink for DbLogSink {
    fn line(&self, step: &str, stream: Stream, text: &str) {
        let n = self.seen.fetch_add(1, Ordering::Relaxed);
        if n > MAX_LINES {
            return;
        }
        let text = if n == MAX_LINES {
            format!("… log cut at {MAX_LINES} lines")
        } else {
            text.chars().take(MAX_LINE_CHARS).collect()
        };
        let stream = match stream {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
            Stream::System => "system",
        };
        let _ = self
            .tx
            .send((step.to_string(), stream.to_string(), text, now_ms()));
    }
}

async fn write_batches(
    store: Store,
    job: i64,
    fence: Fence,
    cancel: CancellationToken,
    mut rx: mpsc::UnboundedReceiver<Line>,
) {
    let mut open = true;
    while open {
        let mut batch = Vec::new();
        let deadline = tokio::time::sleep(Duration::from_millis(300));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                line = rx.recv() => match line {
                    Some(l) => {
                        batch.push(l);
                        if batch.len() >= 200 { break; }
                    }
                    None => { open = false; break; }
                },
                _ = &mut deadline => break,
            }
        }
        if batch.is_empty() {
            continue;
        }
        match store.perf_job_log_append(job, fence, &batch).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!(job, "lease lost: log refused, stopping the run");
                cancel.cancel();
                return;
            }
            Err(e) => tracing::warn!(job, error = %e, "writing log lines failed"),
        }
    }
}
