//! The deploy page's data: a marker and, per production series, the observed value
//! after it, the seasonal expectation, the change with its interval and the verdict
//! (backend `deploy_verdicts`, pure statistics in `perfwatch_detect::seasonal`).

use leptos::prelude::*;

use crate::api_error::AppError;
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
    /// The day before and after the deploy against the expected band.
    pub spark: Option<crate::components::BandSpark>,
    /// Points from the deploy on, and how many lie outside the expected band.
    pub after: usize,
    pub after_outside: usize,
    /// The query that reads the series (scheduled series only).
    pub query: Option<QueryLink>,
}

/// The query behind a production series and the source's graph of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryLink {
    pub source: String,
    pub text: String,
    pub graph_url: Option<String>,
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
pub async fn fetch_deploy(slug: String, id: i64) -> Result<DeployPage, AppError> {
    let store = crate::api_ctx::store()?;
    let cfg = perfwatch_detect::seasonal::SeasonalConfig::default();
    let v = perfwatch_backend::deploy_verdicts::deploy_verdicts(&store, &slug, id, &cfg)
        .await
        .map_err(AppError::from)?;
    let mut sparks = perfwatch_backend::deploy_band::deploy_sparklines(&store, &slug, id, &cfg)
        .await
        .map_err(AppError::from)?;
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
                let s = sparks
                    .iter()
                    .position(|s| s.series_id == m.series.id)
                    .map(|i| sparks.swap_remove(i));
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
                    after: s.as_ref().map_or(0, |s| s.after),
                    after_outside: s.as_ref().map_or(0, |s| s.after_outside),
                    query: s.as_ref().and_then(|s| s.query.clone()).map(|q| QueryLink {
                        source: q.source,
                        text: q.text,
                        graph_url: q.graph_url,
                    }),
                    spark: s.map(band_spark),
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
pub async fn fetch_deploy_markers(slug: String) -> Result<Vec<DeployMarker>, AppError> {
    let store = crate::api_ctx::store()?;
    let project = store.project_ref(&slug).await.map_err(AppError::from)?;
    let mut markers: Vec<DeployMarker> = store
        .markers(project.id, None)
        .await
        .map_err(AppError::from)?
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

#[cfg(feature = "ssr")]
fn band_spark(s: perfwatch_backend::deploy_band::Sparkline) -> crate::components::BandSpark {
    use perfwatch_detect::band::outside;
    crate::components::BandSpark {
        from: s.from,
        to: s.to,
        marker: s.deploy,
        outside: s
            .observed
            .iter()
            .filter(|(t, v)| outside(&s.band, *t, *v) == Some(true))
            .map(|p| p.0)
            .collect(),
        band: s
            .band
            .points
            .iter()
            .map(|b| (b.t, b.low, b.expected, b.high))
            .collect(),
        observed: s.observed,
    }
}

/// The release trend of a project: metric × release, coloured by verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendPage {
    pub project: String,
    /// (marker id, name, time), oldest first.
    pub releases: Vec<(i64, String, i64)>,
    pub rows: Vec<TrendRowData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendRowData {
    pub series_id: i64,
    pub name: String,
    /// `lower` or `higher` is better.
    pub direction: String,
    pub cells: Vec<TrendCellData>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendCellData {
    pub marker_id: i64,
    /// `pass`, `higher`, `lower`, `no_data`, `inconclusive`.
    pub verdict: String,
    /// `better`, `worse`, `same`, `unknown`.
    pub reading: String,
    pub change_pct: Option<f64>,
    pub low_pct: Option<f64>,
    pub high_pct: Option<f64>,
}

#[server(prefix = "/fn")]
pub async fn fetch_release_trend(slug: String, last: usize) -> Result<TrendPage, AppError> {
    let store = crate::api_ctx::store()?;
    let cfg = perfwatch_detect::seasonal::SeasonalConfig::default();
    let t = perfwatch_backend::release_trend::release_trend(&store, &slug, last, &cfg)
        .await
        .map_err(AppError::from)?;
    let word = |v: serde_json::Result<serde_json::Value>| {
        v.ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    };
    Ok(TrendPage {
        project: t.project,
        releases: t
            .releases
            .into_iter()
            .map(|r| (r.id, r.name, r.time))
            .collect(),
        rows: t
            .rows
            .into_iter()
            .map(|r| {
                let mut name = r.series.benchmark.clone();
                if !r.series.params.is_empty() {
                    name.push_str(&format!(" [{}]", r.series.params));
                }
                TrendRowData {
                    series_id: r.series.id,
                    name,
                    direction: r.series.direction.as_str().to_string(),
                    cells: r
                        .cells
                        .into_iter()
                        .map(|c| TrendCellData {
                            marker_id: c.marker_id,
                            verdict: word(serde_json::to_value(c.verdict)),
                            reading: word(serde_json::to_value(c.reading)),
                            change_pct: c.change_pct,
                            low_pct: c.low_pct,
                            high_pct: c.high_pct,
                        })
                        .collect(),
                }
            })
            .collect(),
    })
}

/// The seasonal expected band of a production series over `[from, to]` (ms):
/// (time, low, expected, high), empty when the series is measured per commit or has
/// under two weeks of history.
#[server(prefix = "/fn")]
pub async fn fetch_series_band(
    id: i64,
    from: i64,
    to: i64,
) -> Result<Vec<(i64, f64, f64, f64)>, AppError> {
    let store = crate::api_ctx::store()?;
    let band = perfwatch_backend::series_band::series_band(&store, id, from, to)
        .await
        .map_err(AppError::from)?;
    Ok(band
        .points
        .iter()
        .map(|b| (b.t, b.low, b.expected, b.high))
        .collect())
}
