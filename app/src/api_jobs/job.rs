//! The job page's server functions: the job, its live log, and cancel, queue and
//! re-run (triage right on the job's project).

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server;
use super::*;
use crate::api_error::AppError;

#[server(prefix = "/fn", endpoint = "job_page")]
pub async fn fetch_job_page(id: i64) -> Result<JobPage, AppError> {
    use perfwatch_backend::accounts::Right;
    let store = crate::api_ctx::store()?;
    let j = store.perf_job(id).await.map_err(AppError::from)?;
    let slug = store
        .project_slug_of(j.project_id)
        .await
        .map_err(AppError::from)?;
    let integration = store
        .github_integration(j.project_id)
        .await
        .map_err(AppError::from)?;
    let mut log = store
        .perf_job_logs(id, 0, PAGE_LOG_LIMIT + 1)
        .await
        .map_err(AppError::from)?;
    let log_cut = log.len() as i64 > PAGE_LOG_LIMIT;
    log.truncate(PAGE_LOG_LIMIT as usize);
    let pr_url = match (&integration, j.pr_number) {
        (Some(i), Some(n)) => Some(format!("https://github.com/{}/pull/{n}", i.repo)),
        _ => None,
    };
    let marks = store.run_marks(&j.run_ids).await.map_err(AppError::from)?;
    let mut invalid_runs: Vec<(i64, String)> = marks
        .into_iter()
        .filter_map(|(id, m)| Some((id, m.invalid_reason?)))
        .collect();
    invalid_runs.sort_unstable();
    let compare_url = j.base_sha.as_ref().map(|b| {
        format!(
            "/projects/{slug}/compare?base=commit:{b}&head=commit:{}",
            j.sha
        )
    });
    Ok(JobPage {
        job: server::summary(&j, &slug),
        head_ref: j.head_ref.clone(),
        repeats: j.repeats,
        definition_hash: j.definition_hash.clone(),
        testbed: j.testbed.clone(),
        waits_for: j.waits_for,
        run_ids: j.run_ids.clone(),
        invalid_runs,
        report: j.report.clone(),
        steps: server::steps(j.output.as_deref()),
        log: log.into_iter().map(server::line).collect(),
        log_cut,
        pr_url,
        compare_url,
        can_triage: crate::api_ctx::actor().can(Right::Triage, Some(j.project_id)),
    })
}

/// The job's state and its log lines after `after` (`keep` > 0: only the last `keep`).
#[server(prefix = "/fn", endpoint = "job_live")]
pub async fn fetch_job_live(id: i64, after: i64, keep: i64) -> Result<JobLive, AppError> {
    let store = crate::api_ctx::store()?;
    let j = store.perf_job(id).await.map_err(AppError::from)?;
    let (lines, skipped) = server::lines_after(&store, id, after.max(0), keep.clamp(0, 500), 500)
        .await
        .map_err(AppError::from)?;
    Ok(JobLive {
        state: j.state.as_str().to_string(),
        lines,
        skipped,
    })
}

/// Cancels a job (triage right on its project): a queued job ends, a running one is
/// asked to stop. Answers whether anything changed.
#[server(prefix = "/fn", endpoint = "cancel_perf_job")]
pub async fn cancel_perf_job(id: i64) -> Result<bool, AppError> {
    use perfwatch_backend::accounts::Right;
    let store = crate::api_ctx::store()?;
    let job = server::job_with_right(&store, id, Right::Triage).await?;
    let n = perfwatch_backend::perf::enqueue::cancel_job(
        &store,
        &job,
        &crate::api_ctx::actor().label(),
    )
    .await
    .map_err(AppError::from)?;
    let audit = crate::api_ctx::audit();
    let details = serde_json::json!({ "canceled": n });
    store
        .audit_after(audit.entry("job.cancel", format!("jobs/{id}/cancel"), details))
        .await;
    Ok(n)
}

/// Queues a job for any commit of a project (triage right on it), as a PR's
/// head when `pr` is given; answers its id.
#[server(prefix = "/fn", endpoint = "queue_perf_job")]
pub async fn queue_perf_job(project: String, commit: String, pr: String) -> Result<i64, AppError> {
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::perf::enqueue::{manual, ManualRequest};
    let store = crate::api_ctx::store()?;
    let p = store
        .project(project.trim())
        .await
        .map_err(AppError::from)?;
    let actor = crate::api_ctx::actor();
    actor
        .require(Right::Triage, Some(p.id))
        .map_err(AppError::from)?;
    let pr = match pr.trim() {
        "" => None,
        n => Some(
            n.trim_start_matches('#')
                .parse::<i64>()
                .map_err(|_| AppError::invalid("pr", "expected a pull request number"))?,
        ),
    };
    let req = ManualRequest {
        commit: commit.trim().to_string(),
        pr,
        ..ManualRequest::default()
    };
    let id = manual(&store, &p.slug, &req, &actor.label())
        .await
        .map_err(AppError::from)?;
    let audit = crate::api_ctx::audit();
    let details = serde_json::json!({ "id": id, "commit": req.commit, "pr": req.pr });
    store
        .audit_after(audit.entry("job.enqueue", format!("projects/{}/jobs", p.slug), details))
        .await;
    Ok(id)
}

/// Queues a new job doing the same (triage right on its project); answers its id.
#[server(prefix = "/fn", endpoint = "rerun_perf_job")]
pub async fn rerun_perf_job(id: i64) -> Result<i64, AppError> {
    use perfwatch_backend::accounts::Right;
    let store = crate::api_ctx::store()?;
    let job = server::job_with_right(&store, id, Right::Triage).await?;
    let new =
        perfwatch_backend::perf::deliveries::rerun(&store, &job, &crate::api_ctx::actor().label())
            .await
            .map_err(AppError::from)?;
    let audit = crate::api_ctx::audit();
    let details = serde_json::json!({ "id": new });
    store
        .audit_after(audit.entry("job.rerun", format!("jobs/{id}/rerun"), details))
        .await;
    Ok(new)
}
