//! The reconciler (`github.reconcile` work items, one queued per integration): asks
//! GitHub for the heads of the master branches and of the open PRs and queues what has
//! no job yet, so a lost webhook costs minutes, not data. Each pass queues the next.

use super::deliveries::{pr_job, pull_as_event};
use super::integration::client;
use crate::error::{Result, StoreError};
use crate::queue::{kinds, Handler, HandlerFuture, JobFailure, Lease, NewJob, Outcome, Queue};
use crate::secrets::SealKey;
use crate::store::perf_jobs::{NewPerfJob, Purpose};
use crate::time::now_ms;
use crate::Store;

/// The reconcile item of a project, due at `at`; one queued per project (coalesced).
pub fn reconcile_item(project_id: i64, at: i64) -> NewJob {
    NewJob {
        kind: kinds::GITHUB_RECONCILE.into(),
        payload: serde_json::json!({ "project_id": project_id }).to_string(),
        priority: 1,
        not_before: at,
        max_attempts: 3,
        backoff_ms: 30_000,
        coalesce_key: Some(format!("reconcile:{project_id}")),
    }
}

/// Queues a reconcile pass for every integration that wants one (at start-up).
pub async fn schedule_all(store: &Store) -> Result<()> {
    let now = now_ms();
    let items: Vec<NewJob> = store
        .github_integrations()
        .await?
        .iter()
        .filter(|i| i.reconcile_every_s > 0)
        .map(|i| reconcile_item(i.project_id, now + i.reconcile_every_s * 1000))
        .collect();
    store.perf_enqueue(&items, now).await
}

/// Runs `github.reconcile` work items.
pub struct ReconcileHandler {
    pub store: Store,
    pub key: SealKey,
}

#[derive(serde::Deserialize)]
struct Payload {
    project_id: i64,
}

impl Handler for ReconcileHandler {
    fn kind(&self) -> &'static str {
        kinds::GITHUB_RECONCILE
    }

    fn run<'a>(&'a self, _queue: &'a Queue, lease: &'a Lease) -> HandlerFuture<'a> {
        Box::pin(async move {
            let p: Payload = serde_json::from_str(&lease.payload)
                .map_err(|e| JobFailure::Permanent(format!("payload: {e}")))?;
            let queued = reconcile(&self.store, &self.key, p.project_id).await?;
            if queued > 0 {
                tracing::info!(
                    project = p.project_id,
                    queued,
                    "reconciler queued missed commits"
                );
            }
            if let Some(i) = self.store.github_integration(p.project_id).await? {
                if i.reconcile_every_s > 0 {
                    let now = now_ms();
                    let next = reconcile_item(p.project_id, now + i.reconcile_every_s * 1000);
                    self.store.perf_enqueue(&[next], now).await?;
                }
            }
            Ok(Outcome::Done)
        })
    }
}

/// One pass; returns how many jobs it queued.
pub async fn reconcile(store: &Store, key: &SealKey, project_id: i64) -> Result<usize> {
    let Some(integ) = store.github_integration(project_id).await? else {
        return Ok(0);
    };
    let Some(gh) = client(key, &integ)? else {
        return Ok(0);
    };
    let gh_err = |e: perfwatch_github::ClientError| StoreError::Data(format!("GitHub: {e}"));
    let mut queued = 0;
    for branch in &integ.master_branches {
        let sha = gh.branch_head(&integ.repo, branch).await.map_err(gh_err)?;
        if !store.perf_job_exists(project_id, &sha, None).await? {
            let new = NewPerfJob {
                project_id,
                purpose: Purpose::Master,
                sha,
                branch: Some(branch.clone()),
                head_ref: Some(branch.clone()),
                pr_number: None,
                base_sha: None,
                repeats: 0,
                requested_by: "reconciler".into(),
            };
            if store.perf_job_create(&new, false, now_ms()).await?.1 {
                queued += 1;
            }
        }
    }
    for p in gh.list_open_pulls(&integ.repo).await.map_err(gh_err)? {
        let fork = p.head_repo.as_deref() != Some(integ.repo.as_str());
        if fork
            || store
                .perf_job_exists(project_id, &p.head_sha, Some(p.number as i64))
                .await?
        {
            continue;
        }
        let pr = pull_as_event(p, &integ.repo, "reconcile");
        if pr_job(store, &integ, &pr, 0, "reconciler", false).await?.1 {
            queued += 1;
        }
    }
    Ok(queued)
}
