//! Storing an executed job (`perf.store` work items): each measured run becomes a
//! perfwatch run (branch, commit, PR, job id, trigger `job`; idempotent by run key, so
//! a crash while storing repeats nothing), master-set runs feed detection, and a PR's
//! head is compared with its baseline — the base side of the same job when it
//! interleaved, else the master set at the merge-base with the same definition. A run
//! whose load or metrics step produced no data is invalid, never "no change".

use perfwatch_core::comparison::{CompareSpec, ComparisonView, RowVerdict, SideSpec};
use serde::Deserialize;

use super::enqueue::{report_item, Report};
use super::run::StoredOutput;
use super::summary::{render, Verdict};
use crate::comparison::{build_view, side_from_runs};
use crate::error::{Result, StoreError};
use crate::followup::FollowUps;
use crate::queue::{Handler, HandlerFuture, JobFailure, Lease, Outcome, Queue};
use crate::store::perf_jobs::{Fence, PerfJobRow, PerfState, Purpose};
use crate::time::now_ms;
use crate::Store;

mod runs;

use runs::{is_master_like, store_runs, StoredRuns};

/// Runs `perf.store` work items.
pub struct StoreHandler {
    pub store: Store,
    /// Base URL of links in reports.
    pub public_url: String,
}

#[derive(Deserialize)]
struct Payload {
    job: i64,
}

impl Handler for StoreHandler {
    fn kind(&self) -> &'static str {
        crate::queue::kinds::PERF_STORE
    }

    fn run<'a>(&'a self, _queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let p: Payload = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload: {e}")))?;
            let job = self.store.perf_job(p.job).await?;
            if job.state != PerfState::Completed {
                return Ok(Outcome::Done);
            }
            let f = Fence {
                work_id: lease.job_id,
                fence: lease.fence,
            };
            let (run_ids, verdict, report) = store_and_compare(&self.store, &job, &self.public_url)
                .await
                .map_err(|e| match e {
                    StoreError::Invalid(_) | StoreError::Data(_) => {
                        JobFailure::Permanent(e.to_string())
                    }
                    other => JobFailure::Retry(other.to_string()),
                })?;
            let now = now_ms();
            let reports = [report_item(&Report::Finished { job: job.id }, now)];
            self.store
                .perf_job_processed(job.id, f, &run_ids, &verdict, &report, &reports, now)
                .await?;
            Ok(Outcome::Finished)
        })
    }
}

/// Stores the runs of `job` and decides its verdict; returns the run ids, the verdict
/// word and the Markdown report.
pub async fn store_and_compare(
    store: &Store,
    job: &PerfJobRow,
    public_url: &str,
) -> Result<(Vec<i64>, String, String)> {
    let out = read_output(job)?;
    let project = store.project_slug_of(job.project_id).await?;
    let master = master_branch(store, job.project_id).await?;
    let runs = store_runs(store, job, &out, &project, &master).await?;
    let (verdict, view) = if is_master_like(job.purpose) {
        let hash = &out.output.definition_hash;
        let (verdict, view) =
            master_verdict(store, job, &project, hash, &runs.head, &runs.base).await?;
        // Master results reach detection (and so alerts and notifications) only once
        // a regression is confirmed by the re-run of both sides, or there is none.
        if verdict != Verdict::Unconfirmed {
            let followups = FollowUps::new(store.clone());
            for stored in &runs.to_detect {
                let _ = followups.enqueue(stored, true).await;
            }
        }
        (verdict, view)
    } else {
        pr_verdict(store, job, &out, &project, &runs).await?
    };
    let ctx = Context {
        store,
        job,
        project: &project,
        public_url,
        invalid: &runs.invalid,
    };
    let report = render(&ctx.report(verdict, view.as_ref()));
    Ok((runs.all, verdict.as_str().into(), report))
}

/// What the running step left for this one.
fn read_output(job: &PerfJobRow) -> Result<StoredOutput> {
    let text = job
        .output
        .as_deref()
        .ok_or_else(|| StoreError::Data(format!("job {} has no output", job.id)))?;
    serde_json::from_str(text).map_err(|e| StoreError::Data(format!("job {} output: {e}", job.id)))
}

/// The project's master branch: the integration's first, else `main`.
async fn master_branch(store: &Store, project_id: i64) -> Result<String> {
    Ok(store
        .github_integration(project_id)
        .await?
        .and_then(|i| i.master_branches.first().cloned())
        .unwrap_or_else(|| "main".into()))
}

/// The verdict of a PR or manual job: its head against the base side it ran itself
/// (interleaved), else against the master set at its base with the same definition.
/// Without a base (and no interleaving) the head is only a baseline.
async fn pr_verdict(
    store: &Store,
    job: &PerfJobRow,
    out: &StoredOutput,
    project: &str,
    runs: &StoredRuns,
) -> Result<(Verdict, Option<ComparisonView>)> {
    if job.base_sha.is_none() && !out.interleaved {
        let v = if runs.head.is_empty() {
            Verdict::Invalid
        } else {
            Verdict::Baseline
        };
        return Ok((v, None));
    }
    let base = if out.interleaved {
        runs.base.clone()
    } else {
        master_set_runs(store, job, &out.output.definition_hash).await?
    };
    if runs.head.is_empty() {
        return Ok((Verdict::Invalid, None));
    }
    if base.is_empty() {
        return Ok((missing_baseline(store, job).await?, None));
    }
    let view = compare(store, job, project, &base, &runs.head).await?;
    Ok((verdict_of(&view.rows, !runs.invalid.is_empty()), Some(view)))
}

/// Why a PR has nothing to compare with: the master set at its base exists only under
/// another definition (not comparable), or not at all, or is still being measured (no
/// baseline yet).
async fn missing_baseline(store: &Store, job: &PerfJobRow) -> Result<Verdict> {
    let comparable = match &job.base_sha {
        Some(b) => {
            store
                .perf_master_pending(job.project_id, b)
                .await?
                .is_none()
                && any_master_set(store, job, b).await?
        }
        None => false,
    };
    Ok(if comparable {
        Verdict::NotComparable
    } else {
        Verdict::NoBaseline
    })
}

/// The pieces a report is rendered from.
pub struct Context<'a> {
    pub store: &'a Store,
    pub job: &'a PerfJobRow,
    pub project: &'a str,
    pub public_url: &'a str,
    pub invalid: &'a [String],
}

/// Head runs of the newest processed master-set job at the job's base with the same
/// definition (and so the same testbed).
async fn master_set_runs(store: &Store, job: &PerfJobRow, hash: &str) -> Result<Vec<i64>> {
    let Some(base) = &job.base_sha else {
        return Ok(Vec::new());
    };
    Ok(store
        .perf_master_set(job.project_id, base, hash)
        .await?
        .map(|m| m.run_ids)
        .unwrap_or_default())
}

/// Whether any master set (any definition) exists at `sha`: then a missing match
/// means the definitions differ.
async fn any_master_set(store: &Store, job: &PerfJobRow, sha: &str) -> Result<bool> {
    let done = store
        .perf_jobs(Some(job.project_id), None, &[PerfState::Processed], 200)
        .await?;
    Ok(done
        .iter()
        .any(|j| j.purpose.is_master_set() && j.sha == sha && !j.run_ids.is_empty()))
}

async fn compare(
    store: &Store,
    job: &PerfJobRow,
    slug: &str,
    base: &[i64],
    head: &[i64],
) -> Result<perfwatch_core::comparison::ComparisonView> {
    let project = store.project(slug).await?;
    let mut base_runs = Vec::new();
    for id in base {
        base_runs.extend(store.run_of_project(job.project_id, *id).await?);
    }
    let mut head_runs = Vec::new();
    for id in head {
        head_runs.extend(store.run_of_project(job.project_id, *id).await?);
    }
    let base_sha = base_runs
        .iter()
        .find_map(|r| r.sha.clone())
        .unwrap_or_default();
    let b = side_from_runs(store, SideSpec::Commit(base_sha), base_runs).await?;
    let h = side_from_runs(store, SideSpec::Commit(job.sha.clone()), head_runs).await?;
    let spec = CompareSpec {
        base: Some(b.info.spec.clone()),
        head: Some(h.info.spec.clone()),
        ..CompareSpec::default()
    };
    let series = store.list_series(job.project_id).await?;
    Ok(build_view(&project, spec, false, b, h, &series))
}

/// One word for the whole comparison: any regression wins, then improvements; a
/// comparison with invalid runs is invalid, never "no change".
pub fn verdict_of(rows: &[perfwatch_core::comparison::CompareRow], any_invalid: bool) -> Verdict {
    let has = |v: RowVerdict| rows.iter().any(|r| r.verdict == v);
    if has(RowVerdict::Regression) {
        Verdict::Regression
    } else if any_invalid {
        Verdict::Invalid
    } else if has(RowVerdict::Improvement) {
        Verdict::Improvement
    } else if rows.iter().any(|r| r.verdict == RowVerdict::NoChange) {
        Verdict::NoChange
    } else {
        Verdict::Inconclusive
    }
}

/// The verdict of a master-set job. A master commit is compared with the previous
/// master set of the same definition; a regression there is not reported as such but
/// queues a confirmation job that re-runs both commits together (ABAB), whose own
/// verdict is the one that counts. Backfills are baselines only.
async fn master_verdict(
    store: &Store,
    job: &PerfJobRow,
    project: &str,
    hash: &str,
    head: &[i64],
    base: &[i64],
) -> Result<(Verdict, Option<perfwatch_core::comparison::ComparisonView>)> {
    if head.is_empty() {
        return Ok((Verdict::Invalid, None));
    }
    match job.purpose {
        Purpose::Confirm => {
            if base.is_empty() {
                return Ok((Verdict::Invalid, None));
            }
            let view = compare(store, job, project, base, head).await?;
            Ok((verdict_of(&view.rows, false), Some(view)))
        }
        Purpose::Master => {
            let prev = store
                .perf_previous_master(job.project_id, job.id, &job.sha, hash)
                .await?
                .filter(|p| !p.run_ids.is_empty());
            let Some(prev) = prev else {
                return Ok((Verdict::Baseline, None));
            };
            let view = compare(store, job, project, &prev.run_ids, head).await?;
            let verdict = verdict_of(&view.rows, false);
            if verdict != Verdict::Regression {
                return Ok((verdict, Some(view)));
            }
            let confirm = crate::store::perf_jobs::NewPerfJob {
                project_id: job.project_id,
                purpose: Purpose::Confirm,
                sha: job.sha.clone(),
                branch: job.branch.clone(),
                head_ref: job.head_ref.clone(),
                pr_number: None,
                base_sha: Some(prev.sha.clone()),
                repeats: 0,
                requested_by: format!("confirmation of job {}", job.id),
            };
            store.perf_job_create(&confirm, false, now_ms()).await?;
            Ok((Verdict::Unconfirmed, Some(view)))
        }
        _ => Ok((Verdict::Baseline, None)),
    }
}
