//! A job whose handler holds a write transaction across an await while its lease's
//! heartbeat falls due still finishes. On SQLite every write of the process takes one
//! writer turn in turn (`store/write_tx.rs`); a heartbeat beaten from the same task as
//! the handler waited for the turn the suspended handler held, and the job — and every
//! SQLite write of the server — hung for good (seen as detection passes that never
//! finished after a restart in `crash_safety`).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use std::sync::Arc;
use std::time::Duration;

use perfwatch_backend::queue::worker::{Worker, WorkerOptions};
use perfwatch_backend::queue::{Handler, HandlerFuture, JobState, Lease, NewJob, Outcome, Queue};
use perfwatch_backend::Store;
use tokio_util::sync::CancellationToken;

/// Beats every 30 ms.
const LEASE: Duration = Duration::from_millis(90);

/// Holds a write transaction for ten heartbeat periods, then commits.
struct SlowWriter {
    store: Store,
}

impl Handler for SlowWriter {
    fn kind(&self) -> &'static str {
        "test.slow_writer"
    }

    fn run<'a>(&'a self, _: &'a Queue, _: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let tx = self.store.begin_write().await.unwrap();
            tokio::time::sleep(LEASE * 10).await;
            tx.commit().await.unwrap();
            Ok(Outcome::Done)
        })
    }
}

async fn a_handler_inside_a_write_transaction_outlives_its_heartbeats(store: Store) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let id = store
        .queue_insert(
            &NewJob {
                kind: "test.slow_writer".into(),
                payload: "{}".into(),
                priority: 0,
                not_before: now,
                max_attempts: 3,
                backoff_ms: 100,
                coalesce_key: None,
            },
            now,
        )
        .await
        .unwrap();
    let worker = Worker::new(
        Queue::new(store.clone(), "w", LEASE),
        WorkerOptions {
            poll: Duration::from_millis(20),
            grace: Duration::from_secs(1),
        },
        Arc::default(),
    )
    .handle(Arc::new(SlowWriter {
        store: store.clone(),
    }));
    let stop = CancellationToken::new();
    let running = tokio::spawn(worker.run(stop.clone()));
    let done = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if store.queue_job(id).await.unwrap().state == JobState::Done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    stop.cancel();
    let row = store.queue_job(id).await.unwrap();
    assert!(
        done.is_ok(),
        "the job did not finish in 20 s: {:?}, attempt {}, takeovers {}, last error {:?}",
        row.state,
        row.attempts,
        row.takeovers,
        row.last_error
    );
    assert_eq!(
        (row.attempts, row.takeovers),
        (1, 0),
        "one attempt, never taken over"
    );
    // Writes of the process still go through afterwards.
    let tx = tokio::time::timeout(Duration::from_secs(5), store.begin_write())
        .await
        .expect("the writer turn is free again")
        .unwrap();
    tx.commit().await.unwrap();
    tokio::time::timeout(Duration::from_secs(5), running)
        .await
        .expect("the worker stops")
        .unwrap();
}

perfwatch_backend::on_both!(a_handler_inside_a_write_transaction_outlives_its_heartbeats);
