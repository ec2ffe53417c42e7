//! Server functions: thin. Each reads its input, calls one backend use case and maps
//! the error to a message without database text.

use leptos::prelude::*;
use perfwatch_core::chart::{ChartQuery, SeriesChart};
use perfwatch_core::view::{ProjectInfo, RunBrief, RunDetail, SeriesOverview};
use serde::{Deserialize, Serialize};

/// A project page's data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectOverview {
    pub project: ProjectInfo,
    pub series: Vec<SeriesOverview>,
    pub branches: Vec<String>,
    /// Series with an untriaged or acknowledged alert.
    #[serde(default)]
    pub open_alert_series: Vec<i64>,
    /// The newest runs, newest first, with their validity.
    #[serde(default)]
    pub recent_runs: Vec<RunBrief>,
}

#[cfg(feature = "ssr")]
pub(crate) mod ctx {
    use leptos::prelude::*;
    use perfwatch_backend::{Store, StoreError};

    pub fn store() -> Result<Store, ServerFnError> {
        use_context::<Store>().ok_or_else(|| ServerFnError::new("storage is not configured"))
    }

    /// Not-found and input errors are shown; anything else is logged and hidden.
    pub fn map_err(e: StoreError) -> ServerFnError {
        match e {
            StoreError::NotFound(what) => ServerFnError::new(format!("{what} not found")),
            StoreError::Invalid(v) => ServerFnError::new(v.to_string()),
            other => {
                tracing::error!(error = %other, "server function failed");
                ServerFnError::new("internal error")
            }
        }
    }
}

#[server(prefix = "/fn")]
pub async fn fetch_projects() -> Result<Vec<ProjectInfo>, ServerFnError> {
    ctx::store()?.list_projects().await.map_err(ctx::map_err)
}

#[server(prefix = "/fn")]
pub async fn fetch_project_overview(slug: String) -> Result<ProjectOverview, ServerFnError> {
    let store = ctx::store()?;
    let project = store.project(&slug).await.map_err(ctx::map_err)?;
    let branch_id = store
        .branch_id(project.id, &project.main_branch)
        .await
        .map_err(ctx::map_err)?;
    let series = store
        .series_overview(project.id, branch_id)
        .await
        .map_err(ctx::map_err)?;
    let branches = store.branches(project.id).await.map_err(ctx::map_err)?;
    let open_alert_series = store
        .series_with_open_alerts(project.id)
        .await
        .map_err(ctx::map_err)?;
    let recent_runs = store
        .recent_runs(project.id, 20)
        .await
        .map_err(ctx::map_err)?;
    Ok(ProjectOverview {
        project,
        series,
        branches,
        open_alert_series,
        recent_runs,
    })
}

#[server(prefix = "/fn")]
pub async fn fetch_series_chart(id: i64, query: ChartQuery) -> Result<SeriesChart, ServerFnError> {
    let store = ctx::store()?;
    perfwatch_backend::charts::series_chart(&store, id, query)
        .await
        .map_err(ctx::map_err)
}

#[server(prefix = "/fn")]
pub async fn fetch_run_detail(id: i64) -> Result<RunDetail, ServerFnError> {
    ctx::store()?.run_detail(id).await.map_err(ctx::map_err)
}
