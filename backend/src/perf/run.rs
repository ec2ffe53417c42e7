//! Executing a job (`perf.run` work items, one per runner slot): find the baseline a
//! PR needs (queueing a master backfill at the merge-base and waiting for it), run the
//! steps with `perfwatch-jobs`, stream the logs into the database, and keep the output
//! for the separate storing step. Every write names the work item's fence; a stop
//! request (new head, PR closed, `/perfwatch cancel`) kills the steps within one poll.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use perfwatch_jobs::git::Mirror;
use perfwatch_jobs::runner::{run_job, JobError, JobOutput, JobSpec};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::enqueue::{report_item, Report};
use super::logs::DbLogSink;
use super::metrics_step::PromCollector;
use super::stop_watch::watch_stop;
use crate::queue::{Handler, HandlerFuture, JobFailure, Lease, NewJob, Outcome, Queue};
use crate::store::github::IntegrationRow;
use crate::store::perf_jobs::{Fence, PerfJobRow, PerfState, Purpose};
use crate::store::queue::Finish;
use crate::time::now_ms;
use crate::Store;

mod plan;

use plan::{Baseline, Plan};

/// Where a runner keeps mirrors and work trees, and how often it looks for stop
/// requests.
#[derive(Debug, Clone)]
pub struct RunnerDirs {
    pub mirrors: PathBuf,
    pub work: PathBuf,
    pub stop_poll: Duration,
}

/// What an executed job leaves for the storing step: the runner's output and what the
/// mirror knows of each commit measured.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredOutput {
    pub output: JobOutput,
    pub commits: BTreeMap<String, CommitMeta>,
    /// Whether the base side ran in this job (ABAB).
    pub interleaved: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommitMeta {
    pub parent: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    pub time: Option<chrono::DateTime<chrono::Utc>>,
}

/// Runs `perf.run` work items.
pub struct RunHandler {
    pub store: Store,
    pub dirs: RunnerDirs,
}

#[derive(Deserialize)]
struct Payload {
    job: i64,
}

impl Handler for RunHandler {
    fn kind(&self) -> &'static str {
        crate::queue::kinds::PERF_RUN
    }

    fn run<'a>(&'a self, queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let p: Payload = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload: {e}")))?;
            let job = self.store.perf_job(p.job).await?;
            // A dead job's work item put back by an admin runs again; every other
            // ended job stays ended.
            if job.state.is_final() && job.state != PerfState::Dead {
                return Ok(Outcome::Done);
            }
            let f = Fence {
                work_id: lease.job_id,
                fence: lease.fence,
            };
            // The integration's concurrency: how many jobs of the project may run at
            // once across every runner (default 1, so load tests never overlap).
            let limit = match self.store.github_integration(job.project_id).await? {
                Some(i) => i.concurrency.max(1),
                None => i64::MAX,
            };
            if !self
                .store
                .perf_job_start_within(job.id, f, now_ms(), limit)
                .await?
            {
                let again = self.store.perf_job(job.id).await?;
                if again.state.is_final() && again.state != PerfState::Dead {
                    return Ok(Outcome::Done);
                }
                // At the limit (or the lease is gone, then this write is refused too).
                let _ = self
                    .store
                    .perf_work_later(f, now_ms() + 2_000, now_ms())
                    .await;
                return Ok(Outcome::Finished);
            }
            let run = Execution {
                store: &self.store,
                dirs: &self.dirs,
                queue,
                lease,
                fence: f,
                job,
            };
            run.go().await
        })
    }
}

struct Execution<'a> {
    store: &'a Store,
    dirs: &'a RunnerDirs,
    queue: &'a Queue,
    lease: &'a Lease,
    fence: Fence,
    job: PerfJobRow,
}

impl Execution<'_> {
    /// The job's steps in order under one lease: decide the baseline (or wait for
    /// it), run the steps, then keep the output for the storing step or end the job.
    async fn go(self) -> std::result::Result<Outcome, JobFailure> {
        let Some(integ) = self.store.github_integration(self.job.project_id).await? else {
            return self
                .end_failed("permanent", "the project has no repository linked")
                .await;
        };
        let mirror_dir = self
            .dirs
            .mirrors
            .join(format!("project-{}", self.job.project_id));
        let baseline = match self.plan(&integ, &mirror_dir).await {
            Ok(Plan::Run(b)) => b,
            Ok(Plan::Wait(backfill)) => return self.wait_for(backfill).await,
            Err(JobError::Git(e)) => {
                return self.end_transient_or_dead(&format!("git: {e}")).await;
            }
            Err(e) => return self.end_error(&e).await,
        };
        self.store
            .perf_enqueue(
                &[report_item(&Report::Started { job: self.job.id }, now_ms())],
                now_ms(),
            )
            .await?;
        let (result, stop_reason) = self.run_steps(&integ, &mirror_dir, &baseline).await;
        match (result, stop_reason) {
            (Ok(output), _) => {
                self.executed(output, &mirror_dir, &integ.clone_url, baseline.interleave)
                    .await
            }
            // Asked to stop: however the steps ended (a canceled step, the whole job),
            // the job ends as canceled or superseded, never retried.
            (Err(_), Some(why)) => self.end_stopped(&why).await,
            (Err(e), None) => self.end_error(&e).await,
        }
    }

    /// Puts the job back until the master-set job `backfill` it waits for is done.
    async fn wait_for(self, backfill: i64) -> std::result::Result<Outcome, JobFailure> {
        let ok = self
            .store
            .perf_job_defer(
                self.job.id,
                self.fence,
                backfill,
                now_ms() + 1_000,
                now_ms(),
            )
            .await?;
        tracing::info!(job = self.job.id, backfill, ok, "waiting for the baseline");
        Ok(Outcome::Finished)
    }

    /// Runs the steps with their logs streamed into the database and a watch for stop
    /// requests; returns what they produced and why they were asked to stop, if they were.
    async fn run_steps(
        &self,
        integ: &IntegrationRow,
        mirror_dir: &std::path::Path,
        baseline: &Baseline,
    ) -> (std::result::Result<JobOutput, JobError>, Option<String>) {
        let cancel = CancellationToken::new();
        let (sink, flusher) =
            DbLogSink::start(self.store.clone(), self.job.id, self.fence, cancel.clone());
        let watcher = watch_stop(self.store, self.job.id, self.dirs.stop_poll, cancel.clone());
        let spec = self.spec(integ, mirror_dir, baseline);
        let collector: Arc<dyn perfwatch_jobs::runner::MetricsCollector> =
            Arc::new(PromCollector {
                commit: Some(self.job.sha.clone()),
                job: self.job.id,
            });
        let result = run_job(&spec, sink.clone(), Some(collector), cancel.clone()).await;
        let stop_reason = watcher.finish().await;
        drop(sink);
        // A step's reader task may still hold the sink (a killed process group whose
        // pipe closes late): wait a little for the last lines, not for ever.
        let _ = tokio::time::timeout(Duration::from_secs(3), flusher).await;
        (result, stop_reason)
    }

    /// What the runner is told: the repository, a work tree of its own per lease, the
    /// head, the base when it runs here, and the fallback definition.
    fn spec(
        &self,
        integ: &IntegrationRow,
        mirror_dir: &std::path::Path,
        baseline: &Baseline,
    ) -> JobSpec {
        JobSpec {
            repo_url: integ.clone_url.clone(),
            mirrors_dir: mirror_dir.to_path_buf(),
            work_root: self
                .dirs
                .work
                .join(format!("job-{}-{}", self.job.id, self.fence.fence)),
            head_sha: self.job.sha.clone(),
            base_sha: if baseline.interleave {
                baseline.base.clone()
            } else {
                None
            },
            fallback_definition: integ.definition.clone(),
            repeats_override: (self.job.repeats > 0).then_some(self.job.repeats as u32),
            force_interleave: self.job.purpose == Purpose::Confirm,
        }
    }

    async fn executed(
        self,
        output: JobOutput,
        mirror_dir: &std::path::Path,
        url: &str,
        interleaved: bool,
    ) -> std::result::Result<Outcome, JobFailure> {
        let shas: Vec<String> = output.runs.iter().map(|r| r.sha.clone()).collect();
        let (dir, url) = (mirror_dir.to_path_buf(), url.to_string());
        let commits = tokio::task::spawn_blocking(move || {
            let mut commits = BTreeMap::new();
            if let Ok(mirror) = Mirror::open(&dir, &url) {
                for sha in shas {
                    if commits.contains_key(&sha) {
                        continue;
                    }
                    if let Ok(m) = mirror.commit_info(&sha) {
                        commits.insert(
                            sha,
                            CommitMeta {
                                parent: m.parent,
                                author: Some(m.author),
                                message: Some(m.message),
                                time: Some(m.time),
                            },
                        );
                    }
                }
            }
            commits
        })
        .await
        .unwrap_or_default();
        let hash = output.definition_hash.clone();
        let testbed = output.testbed.clone();
        let stored = StoredOutput {
            output,
            commits,
            interleaved,
        };
        let text =
            serde_json::to_string(&stored).map_err(|e| JobFailure::Permanent(e.to_string()))?;
        let then = NewJob {
            kind: crate::queue::kinds::PERF_STORE.into(),
            payload: serde_json::json!({ "job": self.job.id }).to_string(),
            priority: 25,
            not_before: now_ms(),
            max_attempts: 5,
            backoff_ms: 2_000,
            coalesce_key: None,
        };
        let ok = self
            .store
            .perf_job_executed(
                self.job.id,
                self.fence,
                &text,
                &hash,
                testbed.as_deref(),
                &then,
                now_ms(),
            )
            .await?;
        if !ok {
            tracing::warn!(
                job = self.job.id,
                "the job's lease was taken over; its output was refused"
            );
        }
        Ok(Outcome::Finished)
    }

    /// Ends a job asked to stop: superseded (a new head) or canceled.
    async fn end_stopped(self, why: &str) -> std::result::Result<Outcome, JobFailure> {
        let state = if why.starts_with("superseded") {
            PerfState::Superseded
        } else {
            PerfState::Canceled
        };
        self.end(state, Some(("canceled", why)), &Finish::Done, true)
            .await
    }

    async fn end_error(self, e: &JobError) -> std::result::Result<Outcome, JobFailure> {
        let msg = e.to_string();
        if e.is_permanent() {
            self.end_failed("permanent", &msg).await
        } else {
            self.end_transient_or_dead(&msg).await
        }
    }

    async fn end_failed(self, class: &str, msg: &str) -> std::result::Result<Outcome, JobFailure> {
        let finish = Finish::Dead {
            error: msg.to_string(),
        };
        self.end(PerfState::Failed, Some((class, msg)), &finish, true)
            .await
    }

    async fn end_transient_or_dead(self, msg: &str) -> std::result::Result<Outcome, JobFailure> {
        let finish = self
            .queue
            .after(self.lease, &JobFailure::Retry(msg.to_string()));
        let (state, report) = match finish {
            Finish::Dead { .. } => (PerfState::Dead, true),
            _ => (PerfState::Queued, false),
        };
        self.end(state, Some(("transient", msg)), &finish, report)
            .await
    }

    async fn end(
        self,
        state: PerfState,
        error: Option<(&str, &str)>,
        finish: &Finish,
        report: bool,
    ) -> std::result::Result<Outcome, JobFailure> {
        let now = now_ms();
        let reports: Vec<NewJob> = if report {
            vec![report_item(&Report::Finished { job: self.job.id }, now)]
        } else {
            Vec::new()
        };
        let ok = self
            .store
            .perf_job_end(self.job.id, self.fence, state, error, finish, &reports, now)
            .await?;
        tracing::info!(job = self.job.id, state = state.as_str(), ok, "job ended");
        Ok(Outcome::Finished)
    }
}
