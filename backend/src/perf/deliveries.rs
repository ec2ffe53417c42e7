//! Processing a stored webhook delivery (`github.delivery` jobs): pushes to a master
//! branch make master jobs, pull-request heads make PR jobs (forks only by a
//! maintainer's command), a closed PR cancels its jobs, comments are commands, and a
//! re-requested check run runs its job again. The outcome is written on the delivery.

use perfwatch_github::events::{self, Event, PullRequest, Push};

use super::commands;
use super::enqueue::{report_item, Report};
use crate::error::{Result, StoreError};
use crate::queue::{Handler, HandlerFuture, JobFailure, Lease, Outcome, Queue};
use crate::secrets::SealKey;
use crate::store::github::IntegrationRow;
use crate::store::perf_jobs::{NewPerfJob, Purpose};
use crate::time::now_ms;
use crate::Store;

/// Runs `github.delivery` jobs.
pub struct DeliveryProcessor {
    pub store: Store,
    pub key: SealKey,
}

#[derive(serde::Deserialize)]
struct Payload {
    delivery_id: String,
}

impl Handler for DeliveryProcessor {
    fn kind(&self) -> &'static str {
        crate::queue::kinds::GITHUB_DELIVERY
    }

    fn run<'a>(&'a self, _queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let p: Payload = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload: {e}")))?;
            let d = self.store.github_delivery(&p.delivery_id).await?;
            if d.processed_at.is_some() {
                return Ok(Outcome::Done);
            }
            let Some(integ) = self.store.github_integration(d.project_id).await? else {
                let outcome = "ignored: the project has no integration any more";
                self.store
                    .github_delivery_processed(&d.delivery_id, outcome, now_ms())
                    .await?;
                return Ok(Outcome::Done);
            };
            let outcome = match events::parse(&d.event, d.body.as_bytes()) {
                Ok(ev) => process(&self.store, &self.key, &integ, ev).await?,
                Err(e) => format!("ignored: {e}"),
            };
            tracing::info!(delivery = %d.delivery_id, event = %d.event, %outcome, "delivery processed");
            self.store
                .github_delivery_processed(&d.delivery_id, &outcome, now_ms())
                .await?;
            Ok(Outcome::Done)
        })
    }
}

/// What one event does; returns the outcome text stored on the delivery.
pub async fn process(
    store: &Store,
    key: &SealKey,
    integ: &IntegrationRow,
    ev: Event,
) -> Result<String> {
    match ev {
        Event::Ping { .. } => Ok("pong".into()),
        Event::Push(p) => push(store, integ, &p).await,
        Event::PullRequest(pr) => pull_request(store, integ, &pr).await,
        Event::IssueComment(c) => commands::on_comment(store, key, integ, &c).await,
        Event::CheckRun(c) if c.action == "rerequested" => {
            let Some(job) = c
                .external_id
                .as_deref()
                .and_then(|x| x.strip_prefix("perfwatch-job-"))
                .and_then(|x| x.parse::<i64>().ok())
            else {
                return Ok("ignored: a check run perfwatch did not create".into());
            };
            let old = match store.perf_job(job).await {
                Ok(j) if j.project_id == integ.project_id => j,
                Ok(_) | Err(StoreError::NotFound(_)) => return Ok("ignored: unknown job".into()),
                Err(e) => return Err(e),
            };
            let id = rerun(store, &old, "check run re-requested").await?;
            Ok(format!("queued job {id} (re-run of job {job})"))
        }
        Event::CheckRun(c) => Ok(format!("ignored: check_run {}", c.action)),
        Event::Release(r) => super::markers::release(store, integ, &r).await,
        Event::DeploymentStatus(d) => super::markers::deployment(store, integ, &d).await,
        Event::Other(name) => Ok(format!("ignored: event {name}")),
    }
}

async fn push(store: &Store, integ: &IntegrationRow, p: &Push) -> Result<String> {
    let Some(branch) = &p.branch else {
        return Ok("ignored: not a branch push".into());
    };
    if p.deleted || p.after.chars().all(|c| c == '0') {
        return Ok("ignored: branch deleted".into());
    }
    if !integ.master_branches.iter().any(|b| b == branch) {
        return Ok(format!("ignored: {branch} is not a master branch"));
    }
    let new = NewPerfJob {
        project_id: integ.project_id,
        purpose: Purpose::Master,
        sha: p.after.to_ascii_lowercase(),
        branch: Some(branch.clone()),
        head_ref: Some(branch.clone()),
        pr_number: None,
        base_sha: None,
        repeats: 0,
        requested_by: format!("push by {}", p.pusher),
    };
    let (id, created) = store.perf_job_create(&new, false, now_ms()).await?;
    Ok(if created {
        format!("queued job {id}")
    } else {
        format!("job {id} exists for this commit")
    })
}

async fn pull_request(store: &Store, integ: &IntegrationRow, pr: &PullRequest) -> Result<String> {
    let n = pr.number as i64;
    match pr.action.as_str() {
        "opened" | "synchronize" | "reopened" => {
            if pr.from_fork() {
                return Ok(format!(
                    "ignored: PR #{n} comes from a fork; a maintainer can run it with /perfwatch run"
                ));
            }
            let (id, created) =
                pr_job(store, integ, pr, 0, &format!("@{}", pr.author), false).await?;
            Ok(if created {
                format!("queued job {id} for PR #{n}")
            } else {
                format!("job {id} exists for this head")
            })
        }
        "closed" => {
            let k = store
                .perf_jobs_cancel_pr(integ.project_id, n, "the pull request was closed", now_ms())
                .await?;
            Ok(format!("canceled {k} job(s) of PR #{n}"))
        }
        other => Ok(format!("ignored: pull_request {other}")),
    }
}

/// A PR job at the PR's current head.
pub async fn pr_job(
    store: &Store,
    integ: &IntegrationRow,
    pr: &PullRequest,
    repeats: i64,
    who: &str,
    force: bool,
) -> Result<(i64, bool)> {
    let new = NewPerfJob {
        project_id: integ.project_id,
        purpose: Purpose::Pr,
        sha: pr.head_sha.to_ascii_lowercase(),
        branch: Some(pr.head_ref.clone()),
        head_ref: Some(pr.head_ref.clone()),
        pr_number: Some(pr.number as i64),
        base_sha: Some(pr.base_sha.to_ascii_lowercase()),
        repeats,
        requested_by: who.to_string(),
    };
    store.perf_job_create(&new, force, now_ms()).await
}

/// A new job doing what `old` did.
pub async fn rerun(
    store: &Store,
    old: &crate::store::perf_jobs::PerfJobRow,
    who: &str,
) -> Result<i64> {
    let new = NewPerfJob {
        project_id: old.project_id,
        purpose: old.purpose,
        sha: old.sha.clone(),
        branch: old.branch.clone(),
        head_ref: old.head_ref.clone(),
        pr_number: old.pr_number,
        base_sha: old.base_sha.clone(),
        repeats: old.repeats,
        requested_by: who.to_string(),
    };
    let (id, _) = store.perf_job_create(&new, true, now_ms()).await?;
    Ok(id)
}

/// Queues a short answer on a PR.
pub async fn reply(store: &Store, project_id: i64, pr: i64, body: String) -> Result<()> {
    let now = now_ms();
    store
        .perf_enqueue(
            &[report_item(
                &Report::Reply {
                    project_id,
                    pr,
                    body,
                },
                now,
            )],
            now,
        )
        .await
}

/// A PR as GitHub's API has it now, in the shape its webhook events have (commands and
/// the reconciler act on the current head, not on an event).
pub fn pull_as_event(p: perfwatch_github::PullInfo, repo: &str, action: &str) -> PullRequest {
    PullRequest {
        action: action.into(),
        number: p.number,
        head_sha: p.head_sha,
        head_ref: p.head_ref,
        head_repo: p.head_repo,
        base_ref: p.base_ref,
        base_sha: p.base_sha,
        base_repo: repo.to_string(),
        author: String::new(),
        author_association: String::new(),
        merged: false,
        draft: false,
    }
}
