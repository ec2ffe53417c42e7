//! Deploy verdicts (docs/detection.md, "Seasonal deploy verdicts"): for a release or
//! deploy marker of a project, each time-indexed (production) series is judged against
//! what the same hours of the week in past weeks predict, scaled by the level just
//! before the deploy — so a nightly dip or a weekend is expected, not a regression —
//! with Benjamini–Hochberg across the deploy's metrics. Read → compute (pure,
//! `perfwatch_detect::seasonal`) → no write.

use perfwatch_core::fdr::bh_adjusted;
use perfwatch_core::view::{Marker, SeriesInfo};
use perfwatch_detect::seasonal::{
    deploy_verdict, with_adjusted_p, DeployVerdict, DeployVerdictKind, SeasonalConfig,
};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::PointFilter;
use crate::Store;

/// One metric's verdict at a deploy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MetricVerdict {
    pub series: SeriesInfo,
    pub verdict: DeployVerdict,
    /// Benjamini–Hochberg adjusted p across the deploy's metrics.
    pub p_adjusted: Option<f64>,
}

/// A deploy (or release) marker and its verdict per production series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployView {
    pub project: String,
    pub marker: Marker,
    pub window_ms: i64,
    pub weeks: usize,
    pub metrics: Vec<MetricVerdict>,
}

/// Judges every time-indexed series of `slug` at marker `marker_id`.
pub async fn deploy_verdicts(
    store: &Store,
    slug: &str,
    marker_id: i64,
    cfg: &SeasonalConfig,
) -> Result<DeployView> {
    let project = store.project(slug).await?;
    let marker = store
        .markers(project.id, None)
        .await?
        .into_iter()
        .find(|m| m.id == marker_id)
        .ok_or_else(|| StoreError::NotFound(format!("marker {marker_id}")))?;
    let schedules = store.series_schedules(project.id).await?;
    let mut metrics = Vec::new();
    for s in store.list_series(project.id).await? {
        // Local hours of the week in the timezone of the schedule feeding the series.
        let mut cfg = *cfg;
        if let Some(tz) = schedules
            .iter()
            .find(|x| x.testbed == s.testbed && x.query_name == s.benchmark)
            .and_then(|x| perfwatch_detect::calendar::parse_tz(&x.settings.timezone).ok())
        {
            cfg.tz = tz;
        }
        let cfg = &cfg;
        let points = store.points(s.id, &PointFilter::default()).await?;
        // Production series have no commits; series measured per commit are judged by
        // the release comparisons instead.
        let timed: Vec<(i64, f64)> = points
            .iter()
            .filter(|p| p.sha.is_none())
            .map(|p| (p.time, p.median))
            .collect();
        if timed.is_empty() {
            continue;
        }
        metrics.push(MetricVerdict {
            series: s,
            verdict: deploy_verdict(&timed, marker.time, cfg),
            p_adjusted: None,
        });
    }
    // One correction over the metrics that have a p-value.
    let idx: Vec<usize> = (0..metrics.len())
        .filter(|&i| metrics[i].verdict.p_value.is_some())
        .collect();
    let ps: Vec<f64> = idx
        .iter()
        .filter_map(|&i| metrics[i].verdict.p_value)
        .collect();
    for (k, adj) in bh_adjusted(&ps).into_iter().enumerate() {
        let m = &mut metrics[idx[k]];
        m.verdict = with_adjusted_p(&m.verdict, adj, cfg);
        m.p_adjusted = Some(adj);
    }
    // Changes first, then the rest by name.
    metrics.sort_by_key(|m| {
        (
            !matches!(
                m.verdict.verdict,
                DeployVerdictKind::Higher | DeployVerdictKind::Lower
            ),
            m.series.benchmark.clone(),
            m.series.params.clone(),
        )
    });
    Ok(DeployView {
        project: project.slug,
        marker,
        window_ms: cfg.window_ms,
        weeks: cfg.weeks,
        metrics,
    })
}
