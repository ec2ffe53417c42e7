//! The project page's jobs panel.

use leptos::prelude::*;

#[cfg(feature = "ssr")]
use super::server;
use super::*;
use crate::api_error::AppError;

/// The project page's job panel: the last master job and the newest job of each PR
/// among the last 50 jobs (PRs whose newest job was canceled count as closed).
#[server(prefix = "/fn", endpoint = "project_jobs")]
pub async fn fetch_project_jobs(slug: String) -> Result<ProjectJobs, AppError> {
    use perfwatch_backend::accounts::Right;
    use perfwatch_backend::store::perf_jobs::{PerfState, Purpose};
    let store = crate::api_ctx::store()?;
    let project = store.project(&slug).await.map_err(AppError::from)?;
    let has_integration = store
        .github_integration(project.id)
        .await
        .map_err(AppError::from)?
        .is_some();
    let jobs = store
        .perf_jobs(Some(project.id), None, &[], 50)
        .await
        .map_err(AppError::from)?;
    let last_master = jobs
        .iter()
        .find(|j| j.purpose == Purpose::Master)
        .map(|j| server::summary(j, &slug));
    let mut seen = std::collections::HashSet::new();
    let prs = jobs
        .iter()
        .filter(|j| j.pr_number.is_some_and(|n| seen.insert(n)))
        .filter(|j| j.state != PerfState::Canceled)
        .map(|j| server::summary(j, &slug))
        .collect();
    Ok(ProjectJobs {
        last_master,
        prs,
        has_integration,
        is_admin: crate::api_ctx::actor().can(Right::Admin, Some(project.id)),
    })
}
