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
use crate::store::perf_jobs::{Fence, NewPerfJob, PerfJobRow, PerfState, Purpose};
use crate::store::queue::Finish;
use crate::time::now_ms;
use crate::Store;

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

/// What to measure the head against, decided before anything runs.
enum Plan {
    Run {
        base: Option<String>,
        interleave: bool,
    },
    /// Wait for the master-set job `0` at the merge-base.
    Wait(i64),
}

impl Execution<'_> {
    #[expect(
        clippy::too_many_lines,
        reason = "the job's steps in order under one lease; to be split by job (issue 10 item 8)"
    )]
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
        let plan = match self.plan(&integ, &mirror_dir).await {
            Ok(p) => p,
            Err(JobError::Git(e)) => {
                return self.end_transient_or_dead(&format!("git: {e}")).await;
            }
            Err(e) => return self.end_error(&e).await,
        };
        let (base, interleave) = match plan {
            Plan::Wait(backfill) => {
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
                return Ok(Outcome::Finished);
            }
            Plan::Run { base, interleave } => (base, interleave),
        };
        self.store
            .perf_enqueue(
                &[report_item(&Report::Started { job: self.job.id }, now_ms())],
                now_ms(),
            )
            .await?;
        let cancel = CancellationToken::new();
        let (sink, flusher) =
            DbLogSink::start(self.store.clone(), self.job.id, self.fence, cancel.clone());
        let watcher = watch_stop(self.store, self.job.id, self.dirs.stop_poll, cancel.clone());
        let spec = JobSpec {
            repo_url: integ.clone_url.clone(),
            mirrors_dir: mirror_dir.clone(),
            work_root: self
                .dirs
                .work
                .join(format!("job-{}-{}", self.job.id, self.fence.fence)),
            head_sha: self.job.sha.clone(),
            base_sha: if interleave { base.clone() } else { None },
            fallback_definition: integ.definition.clone(),
            repeats_override: (self.job.repeats > 0).then_some(self.job.repeats as u32),
            force_interleave: self.job.purpose == Purpose::Confirm,
        };
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
        match result {
            Ok(output) => {
                self.executed(output, &mirror_dir, &integ.clone_url, interleave)
                    .await
            }
            // Asked to stop: however the steps ended (a canceled step, the whole job),
            // the job ends as canceled or superseded, never retried.
            Err(_) if stop_reason.is_some() => {
                let why = stop_reason.unwrap_or_default();
                let state = if why.starts_with("superseded") {
                    PerfState::Superseded
                } else {
                    PerfState::Canceled
                };
                self.end(state, Some(("canceled", &why)), &Finish::Done, true)
                    .await
            }
            Err(e) => self.end_error(&e).await,
        }
    }

    /// Decides the baseline. PR jobs compare with the master set at the merge-base
    /// unless the definition interleaves the base in the job itself.
    #[expect(
        clippy::too_many_lines,
        reason = "the baseline rules read top to bottom; to be split by job (issue 10 item 8)"
    )]
    async fn plan(
        &self,
        integ: &IntegrationRow,
        mirror_dir: &std::path::Path,
    ) -> std::result::Result<Plan, JobError> {
        if self.job.purpose == Purpose::Confirm {
            // Both sides run here, interleaved: no merge-base, no master set to wait for.
            return Ok(Plan::Run {
                base: self.job.base_sha.clone(),
                interleave: true,
            });
        }
        let wants_base = matches!(self.job.purpose, Purpose::Pr | Purpose::Manual)
            && self.job.base_sha.is_some();
        // A PR queued by hand without its base: compared at the merge-base with the
        // first master branch.
        let master_head = (self.job.purpose == Purpose::Pr && self.job.base_sha.is_none())
            .then(|| integ.master_branches.first().cloned())
            .flatten();
        let (dir, url, sha) = (
            mirror_dir.to_path_buf(),
            integ.clone_url.clone(),
            self.job.sha.clone(),
        );
        let given = self.job.base_sha.clone().filter(|_| wants_base);
        // A PR is compared where it branched off; a manual job (`/perfwatch compare
        // <sha>`, the API's `base`) with exactly the commit asked for.
        let exact = self.job.purpose == Purpose::Manual;
        let (file, merge_base) = tokio::task::spawn_blocking(move || {
            let mirror = Mirror::open(&dir, &url)?;
            mirror.fetch()?;
            let file = mirror.file_at(&sha, ".perfwatch.toml")?;
            let given = match (given, master_head) {
                (Some(b), _) => Some(b),
                (None, Some(branch)) => Some(mirror.branch_head(&branch)?),
                (None, None) => None,
            };
            let mb = given
                .map(|b| {
                    if exact {
                        mirror.resolve(&b)
                    } else {
                        mirror.merge_base(&sha, &b)
                    }
                })
                .transpose()?;
            Ok::<_, perfwatch_jobs::GitError>((file, mb))
        })
        .await
        .map_err(|e| JobError::Io(e.to_string()))?
        .map_err(JobError::Git)?;
        let text = match file {
            Some(t) => t,
            None => match &integ.definition {
                Some(d) => d.clone(),
                None => {
                    return Err(JobError::Definition(perfwatch_jobs::definition::DefinitionError::general(
                        ".perfwatch.toml",
                        "the commit has no .perfwatch.toml and the project stores no fallback definition",
                    )))
                }
            },
        };
        let def = perfwatch_jobs::definition::parse(&text).map_err(JobError::Definition)?;
        let Some(base) = merge_base else {
            return Ok(Plan::Run {
                base: None,
                interleave: false,
            });
        };
        if def.interleave {
            return Ok(Plan::Run {
                base: Some(base),
                interleave: true,
            });
        }
        if self.job.base_sha.as_deref() != Some(base.as_str()) {
            let _ = self.store.perf_job_set_base(self.job.id, &base).await;
        }
        let hash = def.hash();
        let have = self
            .store
            .perf_master_set(self.job.project_id, &base, &hash)
            .await
            .ok()
            .flatten();
        if have.is_some() {
            return Ok(Plan::Run {
                base: Some(base),
                interleave: false,
            });
        }
        if let Ok(Some(pending)) = self
            .store
            .perf_master_pending(self.job.project_id, &base)
            .await
        {
            return Ok(Plan::Wait(pending));
        }
        // A backfill that already ended without results: run anyway; the verdict says
        // there is no baseline.
        if let Some(w) = self.job.waits_for {
            if let Ok(j) = self.store.perf_job(w).await {
                if j.sha == base && j.state.is_final() {
                    return Ok(Plan::Run {
                        base: Some(base),
                        interleave: false,
                    });
                }
            }
        }
        let backfill = NewPerfJob {
            project_id: self.job.project_id,
            purpose: Purpose::Backfill,
            sha: base.clone(),
            branch: integ.master_branches.first().cloned(),
            head_ref: integ.master_branches.first().cloned(),
            pr_number: None,
            base_sha: None,
            repeats: 0,
            requested_by: format!("baseline of job {}", self.job.id),
        };
        match self.store.perf_job_create(&backfill, false, now_ms()).await {
            Ok((id, _)) => Ok(Plan::Wait(id)),
            Err(e) => Err(JobError::Io(format!("queueing the baseline: {e}"))),
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
