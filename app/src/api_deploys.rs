//! The deploy page's data: a marker and, per production series, the observed value
//! after it, the seasonal expectation, the change with its interval and the verdict
//! (backend `deploy_verdicts`, pure statistics in `perfwatch_detect::seasonal`).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// One production series at a deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployRow {
    pub series_id: i64,
    pub name: String,
    pub unit: String,
    /// `pass`, `higher`, `lower`, `no_data`, `inconclusive`.
    pub verdict: String,
    pub observed: Option<f64>,
    pub expected: Option<f64>,
    pub change_pct: Option<f64>,
    pub low_pct: Option<f64>,
    pub high_pct: Option<f64>,
    pub p_adjusted: Option<f64>,
    pub weeks_used: usize,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployPage {
    pub project: String,
    pub name: String,
    pub kind: String,
    pub time: i64,
    pub window_h: i64,
    pub weeks: usize,
    pub rows: Vec<DeployRow>,
}

#[server(prefix = "/fn")]
pub async fn fetch_deploy(slug: String, id: i64) -> Result<DeployPage, ServerFnError> {
    let store = crate::api::ctx::store()?;
    let cfg = perfwatch_detect::seasonal::SeasonalConfig::default();
    let v = perfwatch_backend::deploy_verdicts::deploy_verdicts(&store, &slug, id, &cfg)
        .await
        .map_err(crate::api::ctx::map_err)?;
    let verdict = |k| {
        serde_json::to_value(k)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    Ok(DeployPage {
        project: v.project,
        name: v.marker.name,
        kind: v.marker.kind,
        time: v.marker.time,
        window_h: v.window_ms / 3_600_000,
        weeks: v.weeks,
        rows: v
            .metrics
            .into_iter()
            .map(|m| {
                let mut name = m.series.benchmark.clone();
                if !m.series.params.is_empty() {
                    name.push_str(&format!(" [{}]", m.series.params));
                }
                DeployRow {
                    series_id: m.series.id,
                    name,
                    unit: m.series.unit.clone(),
                    verdict: verdict(m.verdict.verdict),
                    observed: m.verdict.observed,
                    expected: m.verdict.expected,
                    change_pct: m.verdict.change_pct,
                    low_pct: m.verdict.low_pct,
                    high_pct: m.verdict.high_pct,
                    p_adjusted: m.p_adjusted,
                    weeks_used: m.verdict.weeks_used,
                    reason: m.verdict.reason,
                }
            })
            .collect(),
    })
}

/// A release or deploy marker, for the list of deploys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployMarker {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub time: i64,
    pub description: Option<String>,
}

#[server(prefix = "/fn")]
pub async fn fetch_deploy_markers(slug: String) -> Result<Vec<DeployMarker>, ServerFnError> {
    let store = crate::api::ctx::store()?;
    let project = store
        .project(&slug)
        .await
        .map_err(crate::api::ctx::map_err)?;
    let mut markers: Vec<DeployMarker> = store
        .markers(project.id, None)
        .await
        .map_err(crate::api::ctx::map_err)?
        .into_iter()
        .filter(|m| m.kind == "deploy" || m.kind == "release")
        .map(|m| DeployMarker {
            id: m.id,
            name: m.name,
            kind: m.kind,
            time: m.time,
            description: m.description,
        })
        .collect();
    markers.reverse();
    Ok(markers)
}
