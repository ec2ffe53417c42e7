//! Server functions: thin. Each reads its input, calls one backend use case and maps
//! the error to an [`AppError`] (no database text).

use leptos::prelude::*;

use crate::api_error::AppError;
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

#[server(prefix = "/fn")]
pub async fn fetch_projects() -> Result<Vec<ProjectInfo>, AppError> {
    crate::api_ctx::store()?
        .list_projects()
        .await
        .map_err(AppError::from)
}

#[server(prefix = "/fn")]
pub async fn fetch_project_overview(slug: String) -> Result<ProjectOverview, AppError> {
    let store = crate::api_ctx::store()?;
    let project = store.project(&slug).await.map_err(AppError::from)?;
    let branch_id = store
        .branch_id(project.id, &project.main_branch)
        .await
        .map_err(AppError::from)?;
    let series = store
        .series_overview(project.id, branch_id)
        .await
        .map_err(AppError::from)?;
    let branches = store.branches(project.id).await.map_err(AppError::from)?;
    let open_alert_series = store
        .series_with_open_alerts(project.id)
        .await
        .map_err(AppError::from)?;
    let recent_runs = store
        .recent_runs(project.id, 20)
        .await
        .map_err(AppError::from)?;
    Ok(ProjectOverview {
        project,
        series,
        branches,
        open_alert_series,
        recent_runs,
    })
}

#[server(prefix = "/fn")]
pub async fn fetch_series_chart(id: i64, query: ChartQuery) -> Result<SeriesChart, AppError> {
    let store = crate::api_ctx::store()?;
    perfwatch_backend::charts::series_chart(&store, id, query)
        .await
        .map_err(AppError::from)
}

#[server(prefix = "/fn")]
pub async fn fetch_run_detail(id: i64) -> Result<RunDetail, AppError> {
    crate::api_ctx::store()?
        .run_detail(id)
        .await
        .map_err(AppError::from)
}
