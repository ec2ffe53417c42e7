//! Server functions of the alert pages: thin. Each reads its input, calls the backend
//! and maps the error to a message without database text.

use leptos::prelude::*;

use crate::api_error::AppError;
use perfwatch_core::alerts::{AlertFilter, AlertGroupView, AlertView};
use perfwatch_core::chart::SeriesChart;
use serde::{Deserialize, Serialize};

/// The alerts page's data: the alerts and the projects to filter by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
    pub projects: Vec<String>,
    /// Whether the visitor may triage somewhere (bulk actions are shown; every alert
    /// is checked again when changed).
    #[serde(default)]
    pub can_triage: bool,
}

/// The alert-group page's data: the group and, per alert, a chart zoomed around its
/// change (same order as `group.alerts`; charts after the first 24 alerts are omitted).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertGroupPage {
    pub group: AlertGroupView,
    pub charts: Vec<Option<SeriesChart>>,
    /// Whether the visitor may triage this group (the page shows its controls then).
    #[serde(default)]
    pub can_triage: bool,
    /// Whether the project has a ticket template ("Open new issue" is offered then).
    #[serde(default)]
    pub has_ticket_template: bool,
}

#[cfg(feature = "ssr")]
mod server {
    use perfwatch_core::alerts::{AlertView, RangeAxis};
    use perfwatch_core::chart::{ChartQuery, XMode};

    pub const MAX_CHARTS: usize = 24;

    /// The chart window around an alert's change: 20 commits each side, or 15 times the
    /// suspect interval (at least an hour) each side on a time axis.
    pub fn window(a: &AlertView) -> ChartQuery {
        let (x, from, to) = match a.axis {
            RangeAxis::Commit => (XMode::Commit, a.range.lo - 20, a.range.hi + 20),
            RangeAxis::Time => {
                let span = (a.range.hi - a.range.lo).max(3_600_000);
                (XMode::Time, a.range.lo - 15 * span, a.range.hi + 15 * span)
            }
        };
        ChartQuery {
            x: Some(x),
            from: Some(from as f64),
            to: Some(to as f64),
            ..Default::default()
        }
    }
}

#[server(prefix = "/fn")]
pub async fn fetch_alert_list(filter: AlertFilter) -> Result<AlertList, AppError> {
    let store = crate::api_ctx::store()?;
    let alerts = store.list_alerts(&filter).await.map_err(AppError::from)?;
    let projects = store
        .list_projects()
        .await
        .map_err(AppError::from)?
        .into_iter()
        .map(|p| p.slug)
        .collect();
    let can_triage =
        crate::api_ctx::actor().can_somewhere(perfwatch_backend::accounts::Right::Triage);
    Ok(AlertList {
        alerts,
        projects,
        can_triage,
    })
}

#[server(prefix = "/fn")]
pub async fn fetch_alert_group_page(id: i64) -> Result<AlertGroupPage, AppError> {
    let store = crate::api_ctx::store()?;
    let group = store.alert_group(id).await.map_err(AppError::from)?;
    let mut charts = Vec::with_capacity(group.alerts.len());
    for (i, a) in group.alerts.iter().enumerate() {
        if i >= server::MAX_CHARTS {
            charts.push(None);
            continue;
        }
        let chart = perfwatch_backend::charts::series_chart(&store, a.series.id, server::window(a))
            .await
            .map_err(AppError::from)?;
        charts.push(Some(chart));
    }
    let project = store
        .project_ref(&group.project)
        .await
        .map_err(AppError::from)?;
    let can_triage =
        crate::api_ctx::actor().can(perfwatch_backend::accounts::Right::Triage, Some(project.id));
    let has_ticket_template = store
        .ticket_template(project.id)
        .await
        .map_err(AppError::from)?
        .is_some();
    Ok(AlertGroupPage {
        group,
        charts,
        can_triage,
        has_ticket_template,
    })
}
