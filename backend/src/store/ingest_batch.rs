//! Group commit for SQLite: submissions that arrive while another is being written are
//! written together, in one transaction, each in its own savepoint.
//!
//! Why: a run of 100 series touches the last page of each of its 100 series in the
//! series-ordered measurements table, and every commit writes each touched page to the
//! WAL again. Runs written together share those pages and one commit. A run stays
//! all-or-nothing: a failing run rolls back to its savepoint and the others commit.
//!
//! How: a submitter queues its job and, if no writer task is running, starts one. The
//! writer takes the writer's turn (the same turn every SQLite write takes,
//! `write_tx.rs`), writes everything queued (up to `MAX_BATCH`), answers each job, and
//! repeats until the queue is empty; jobs that arrive during a batch form the next one,
//! so batches grow with the load. The writer is a spawned task, so a client that hangs
//! up cannot cancel a batch half-way and leave other submitters without an answer.

mod keys;

use std::sync::Mutex;

use perfwatch_core::validate::ValidRun;
use tokio::sync::oneshot;

use super::id_cache::Ids;
use super::ingest::{classify, existing_run, Failure, Written};
use super::ingest_followup::queue_follow_ups;
use super::ingest_rows::insert_run_rows;
use super::write_tx::{take_turn, WriterTurn};
use super::{IngestOptions, Store, StoredRun, WriteTx};
use crate::error::{Result, StoreError};
use crate::followup::{coalesce_jobs, follow_up_job};
use crate::time::now_ms;
pub(crate) use keys::Batch;

/// At most this many runs share a transaction (bounds the time a batch holds the lock).
const MAX_BATCH: usize = 32;

struct Job {
    run: ValidRun,
    opts: IngestOptions,
    /// Queue the run's follow-up job in the batch's transaction.
    follow_up: bool,
    answer: oneshot::Sender<Result<StoredRun>>,
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    /// A writer task is running; it drains the queue until it finds it empty.
    writing: bool,
}

#[derive(Default)]
pub(crate) struct IngestQueue(Mutex<Queue>);

impl std::fmt::Debug for IngestQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("IngestQueue")
    }
}

impl IngestQueue {
    /// Queues a job; true when no writer is running and the caller must start one.
    fn push(&self, job: Job) -> bool {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        q.jobs.push(job);
        !std::mem::replace(&mut q.writing, true)
    }

    /// The next batch; an empty one means the writer stops (decided under the same
    /// lock as `push`, so a job is never left without a writer).
    fn take_batch(&self) -> Vec<Job> {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let n = q.jobs.len().min(MAX_BATCH);
        if n == 0 {
            q.writing = false;
        }
        q.jobs.drain(..n).collect()
    }

    /// The writer task ended without finding the queue empty (it panicked): true when
    /// jobs are waiting and the caller must start a new writer; otherwise the next
    /// `push` starts one. Without this, `writing` stayed set and every later
    /// submission waited for an answer forever.
    fn writer_lost(&self) -> bool {
        let mut q = self.0.lock().unwrap_or_else(|p| p.into_inner());
        q.writing = !q.jobs.is_empty();
        q.writing
    }
}

/// Held by the writer task while it drains: if the task ends any other way than by
/// finding the queue empty (a panic in a batch), the queue gets a new writer. The
/// jobs of the batch that panicked are answered "interrupted" (their senders drop).
struct DrainGuard<'a> {
    store: &'a Store,
    finished: bool,
}

impl Drop for DrainGuard<'_> {
    fn drop(&mut self) {
        if !self.finished && self.store.ingest_queue.writer_lost() {
            tracing::error!("the SQLite ingest writer stopped mid-batch; starting a new one");
            let store = self.store.clone();
            writer_runtime().spawn(async move { store.drain_queue().await });
        }
    }
}

/// The writer's own thread and runtime. A batch awaits ~10 statements, each a round
/// trip to SQLite's connection thread; on the shared runtime every wake-up queued
/// behind request parsing and the other tasks.
fn writer_runtime() -> &'static tokio::runtime::Handle {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime for the SQLite writer");
        let handle = rt.handle().clone();
        std::thread::Builder::new()
            .name("perfwatch-writer".into())
            .spawn(move || rt.block_on(std::future::pending::<()>()))
            .expect("the SQLite writer thread");
        handle
    })
}

impl Store {
    pub(crate) async fn store_run_batched(
        &self,
        run: &ValidRun,
        opts: &IngestOptions,
        follow_up: bool,
    ) -> Result<StoredRun> {
        let (answer, reply) = oneshot::channel();
        let start_writer = self.ingest_queue.push(Job {
            run: run.clone(),
            opts: opts.clone(),
            follow_up,
            answer,
        });
        if start_writer {
            // Detached, so a client hanging up cannot cancel a batch half-way.
            let store = self.clone();
            writer_runtime().spawn(async move { store.drain_queue().await });
        }
        reply
            .await
            .unwrap_or_else(|_| Err(StoreError::Data("the write was interrupted".into())))
    }

    /// Writes batches until the queue is empty. Jobs that arrive while a batch is being
    /// written form the next batch, so batches grow with the load. The writer's turn is
    /// taken per batch, letting other writers (detection, triage) in between.
    async fn drain_queue(&self) {
        let Some(writer) = &self.writer else {
            // Only SQLite stores batch (see `store_run`).
            return;
        };
        let mut guard = DrainGuard {
            store: self,
            finished: false,
        };
        loop {
            let turn = take_turn(writer).await;
            let jobs = self.ingest_queue.take_batch();
            if jobs.is_empty() {
                guard.finished = true;
                return;
            }
            match self.write_jobs(turn, &jobs).await {
                Ok(outcomes) => {
                    for (job, outcome) in jobs.into_iter().zip(outcomes) {
                        let answer = outcome.map(|w| {
                            self.ids.learn(w.learned);
                            w.stored
                        });
                        let _ = job.answer.send(answer);
                    }
                }
                Err(e) => {
                    // The transaction itself failed (begin or commit): nothing was stored.
                    tracing::error!(error = %e, runs = jobs.len(), "ingest batch failed");
                    for job in jobs {
                        let _ = job
                            .answer
                            .send(Err(StoreError::Data("the run could not be stored".into())));
                    }
                }
            }
        }
    }

    /// One transaction for all jobs; the outer error means none of them was stored.
    ///
    /// Optimistic first: every job written straight into the transaction, the
    /// measurement and sample rows of all of them in shared multi-row inserts
    /// (`ingest_rows.rs`). Should anything fail, the whole transaction is rolled back
    /// and written again with a savepoint around each job (rows inserted per run), so
    /// the failure stays that job's alone. Failures are rare, and the two savepoint
    /// statements per run were a tenth of the writer's time.
    async fn write_jobs(&self, turn: WriterTurn, jobs: &[Job]) -> Result<Vec<Result<Written>>> {
        let mut tx = WriteTx::begin_sqlite(turn, std::panic::Location::caller()).await?;
        let mut outcomes = Vec::with_capacity(jobs.len());
        let run_keys = jobs.iter().filter_map(|j| {
            let key = j.run.run_key.as_deref()?;
            Some((j.run.project.as_str(), key))
        });
        let all_written = match keys::stored_keys(&mut tx, run_keys).await {
            Ok(keys) => {
                // The runs' measurement and sample rows, inserted together once all
                // runs are in.
                let mut batch = Batch {
                    rows: Vec::new(),
                    keys,
                };
                for job in jobs {
                    match self
                        .write_run(&mut tx, &job.run, &job.opts, Some(&mut batch), None)
                        .await
                    {
                        Ok(w) => outcomes.push(Ok(w)),
                        Err(_) => break,
                    }
                }
                outcomes.len() == jobs.len()
                    && insert_run_rows(self.dialect(), &mut tx, &batch.rows)
                        .await
                        .is_ok()
            }
            Err(_) => false,
        };
        if !all_written {
            tx = tx.restart(&self.pool).await?;
            outcomes.clear();
            for job in jobs {
                outcomes.push(self.write_in_savepoint(&mut tx, job).await?);
            }
        }
        self.queue_batch_follow_ups(&mut tx, jobs, &outcomes)
            .await?;
        tx.commit().await?;
        Ok(outcomes)
    }

    /// The follow-up jobs of the batch's stored runs, one queue write per project for
    /// detection; in the batch's transaction, so they commit with the runs.
    async fn queue_batch_follow_ups(
        &self,
        tx: &mut WriteTx,
        jobs: &[Job],
        outcomes: &[Result<Written>],
    ) -> Result<()> {
        let now = now_ms();
        let mut follow_ups = Vec::new();
        for (job, outcome) in jobs.iter().zip(outcomes) {
            if let (true, Ok(w)) = (job.follow_up, outcome) {
                follow_ups.extend(follow_up_job(&w.stored, job.run.commit.is_some(), now)?);
            }
        }
        let follow_ups = coalesce_jobs(follow_ups, now)?;
        queue_follow_ups(self.dialect(), tx, &follow_ups, now).await
    }

    /// Writes one job inside a savepoint; its own failure is its answer, not the batch's.
    async fn write_in_savepoint(&self, tx: &mut WriteTx, job: &Job) -> Result<Result<Written>> {
        let mut retried = false;
        loop {
            sqlx::query("SAVEPOINT run").execute(&mut **tx).await?;
            let outcome = self.write_run(tx, &job.run, &job.opts, None, None).await;
            if outcome.is_err() {
                sqlx::query("ROLLBACK TO run").execute(&mut **tx).await?;
            }
            sqlx::query("RELEASE run").execute(&mut **tx).await?;
            let e = match outcome {
                Ok(w) => return Ok(Ok(w)),
                Err(e) => e,
            };
            match classify(&e) {
                Failure::LostKeyRace if job.run.run_key.is_some() => {
                    return Ok(self.duplicate_in(tx, &job.run).await);
                }
                Failure::StaleCache if !retried => {
                    self.ids.forget_all();
                    retried = true;
                }
                _ => return Ok(Err(e)),
            }
        }
    }

    async fn duplicate_in(&self, tx: &mut WriteTx, run: &ValidRun) -> Result<Written> {
        let project_id: i64 = sqlx::query_scalar("SELECT id FROM projects WHERE slug = $1")
            .bind(&run.project)
            .fetch_one(&mut **tx)
            .await?;
        let key = run.run_key.as_deref().unwrap_or_default();
        let existing = existing_run(tx, project_id, key).await?.unwrap_or_default();
        Ok(Written {
            stored: StoredRun {
                run_id: existing,
                project_id,
                project: run.project.clone(),
                duplicate: true,
                series_ids: vec![],
                on_main_branch: false,
                branch_id: None,
            },
            learned: Ids::default(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        reason = "test code: a failing unwrap is the test failing"
    )]

    use super::{IngestQueue, Job};
    use perfwatch_core::validate::{parse_run_json, validate_run};

    fn job() -> (
        Job,
        tokio::sync::oneshot::Receiver<crate::error::Result<super::StoredRun>>,
    ) {
        let body = serde_json::json!({
            "project": "p", "testbed": "ci",
            "results": [{"benchmark": "b", "measure": "time", "unit": "ns", "samples": [1.0]}]
        });
        let run = validate_run(parse_run_json(body.to_string().as_bytes()).unwrap()).unwrap();
        let (answer, reply) = tokio::sync::oneshot::channel();
        let job = Job {
            run,
            opts: Default::default(),
            follow_up: false,
            answer,
        };
        (job, reply)
    }

    #[test]
    fn a_writer_lost_mid_batch_never_leaves_jobs_without_a_writer() {
        let q = IngestQueue::default();
        let (a, _ra) = job();
        assert!(q.push(a), "the first job starts a writer");
        let (b, _rb) = job();
        assert!(
            !q.push(b),
            "a writer is running: the second job waits for it"
        );
        // The writer takes both, then dies in the batch (a panic).
        assert_eq!(q.take_batch().len(), 2);
        let (c, _rc) = job();
        assert!(
            !q.push(c),
            "queued while the dying writer still counted as running"
        );
        assert!(q.writer_lost(), "a job is waiting: a new writer must start");
        // That writer drains and stops normally.
        assert_eq!(q.take_batch().len(), 1);
        assert!(q.take_batch().is_empty());
        let (d, _rd) = job();
        assert!(q.push(d), "no writer runs after a normal stop");
        // A writer lost with nothing queued: the next push starts one.
        assert_eq!(q.take_batch().len(), 1);
        assert!(!q.writer_lost());
        let (e, _re) = job();
        assert!(q.push(e));
    }
}
