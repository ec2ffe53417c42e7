//! Deploy verdicts (docs/detection.md, "Seasonal deploy verdicts"): for a release or
//! deploy marker of a project, each time-indexed (production) series is judged against
//! what the same hours of the week in past weeks predict, scaled by the level just
//! before the deploy — so a nightly dip or a weekend is expected, not a regression —
//! with Benjamini–Hochberg across the deploy's metrics. The project's holidays keep
//! holiday weeks out of the expectation (a deploy on a holiday is judged against past
//! holidays), and each metric's change is ranked against its changes at the last 20
//! deploys, whose spread is a second estimate of σ. Read → compute (pure,
//! `perfwatch_detect::seasonal`) → no write.

use std::collections::HashMap;

use perfwatch_core::fdr::bh_adjusted;
use perfwatch_core::view::{Marker, SeriesInfo};
use perfwatch_detect::calendar::Tz;
use perfwatch_detect::holidays::Holidays;
use perfwatch_detect::seasonal::{
    deploy_verdict_with, deviation, with_adjusted_p, DeployVerdict, DeployVerdictKind,
    SeasonalConfig, VerdictContext, MAX_PAST_DEPLOYS,
};
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::metric_sources::SeriesSchedule;
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

/// A production series with its points and the timezone of the schedule feeding it.
#[derive(Debug, Clone)]
pub struct Production {
    pub series: SeriesInfo,
    /// Local hours of the week are counted in this timezone.
    pub tz: Tz,
    /// (time ms, value) of the runs without a commit.
    pub points: Vec<(i64, f64)>,
    /// The schedule that reads it from a metric source, if any.
    pub schedule: Option<SeriesSchedule>,
}

/// Every time-indexed series of a project, read once (the deploy page, the release
/// trend and the sparklines all judge the same points).
pub async fn production_series(store: &Store, project_id: i64) -> Result<Vec<Production>> {
    let schedules = store.series_schedules(project_id).await?;
    let mut out = Vec::new();
    for s in store.list_series(project_id).await? {
        let schedule = schedules
            .iter()
            .find(|x| x.testbed == s.testbed && x.query_name == s.benchmark)
            .cloned();
        let tz = schedule
            .as_ref()
            .and_then(|x| perfwatch_detect::calendar::parse_tz(&x.settings.timezone).ok())
            .unwrap_or(Tz::UTC);
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
        out.push(Production {
            series: s,
            tz,
            points: timed,
            schedule,
        });
    }
    Ok(out)
}

/// What verdicts know beyond a series' points: the project's holidays and when its
/// deploys were.
#[derive(Debug, Clone, Default)]
pub struct JudgeContext {
    pub holidays: Holidays,
    /// Times of the project's deploy and release markers, ascending.
    pub deploy_times: Vec<i64>,
    /// `ln(observed / expected)` per (series id, deploy time), computed once per page.
    deviations: HashMap<(i64, i64), Option<f64>>,
}

impl JudgeContext {
    pub fn new(holidays: Holidays, mut deploy_times: Vec<i64>) -> Self {
        deploy_times.sort_unstable();
        deploy_times.dedup();
        Self {
            holidays,
            deploy_times,
            deviations: HashMap::new(),
        }
    }

    /// The deviations of `p` at the newest [`MAX_PAST_DEPLOYS`] deploys whose window
    /// ended by `deploy_ms` (newest first), each judged with the holidays but without
    /// past deploys of its own.
    fn past_deviations(
        &mut self,
        p: &Production,
        deploy_ms: i64,
        cfg: &SeasonalConfig,
    ) -> Vec<f64> {
        let before: Vec<i64> = self
            .deploy_times
            .iter()
            .copied()
            .filter(|t| t.saturating_add(cfg.window_ms.max(0)) <= deploy_ms)
            .collect();
        let ctx = VerdictContext {
            holidays: Some(&self.holidays),
            past_deploys: &[],
        };
        let mut out = Vec::new();
        for &t in before.iter().rev().take(MAX_PAST_DEPLOYS) {
            let dev = *self
                .deviations
                .entry((p.series.id, t))
                .or_insert_with(|| deviation(&deploy_verdict_with(&p.points, t, cfg, &ctx)));
            out.extend(dev);
        }
        out
    }
}

/// The project's holidays and deploy/release marker times.
pub async fn judge_context(store: &Store, project_id: i64) -> Result<JudgeContext> {
    let times = store
        .markers(project_id, None)
        .await?
        .iter()
        .filter(|m| m.kind == "deploy" || m.kind == "release")
        .map(|m| m.time)
        .collect();
    Ok(JudgeContext::new(
        crate::holidays::calendar(store, project_id).await?,
        times,
    ))
}

/// The verdict of every production series at `deploy_ms`, Benjamini–Hochberg across
/// them, changes first; no holidays and no past deploys. Pure.
pub fn judge(series: &[Production], deploy_ms: i64, cfg: &SeasonalConfig) -> Vec<MetricVerdict> {
    judge_with(series, deploy_ms, cfg, &mut JudgeContext::default())
}

/// [`judge`] knowing the project's holidays and its past deploys. Pure.
pub fn judge_with(
    series: &[Production],
    deploy_ms: i64,
    cfg: &SeasonalConfig,
    ctx: &mut JudgeContext,
) -> Vec<MetricVerdict> {
    let mut metrics: Vec<MetricVerdict> = series
        .iter()
        .map(|p| {
            let cfg = SeasonalConfig { tz: p.tz, ..*cfg };
            let past = ctx.past_deviations(p, deploy_ms, &cfg);
            let vctx = VerdictContext {
                holidays: Some(&ctx.holidays),
                past_deploys: &past,
            };
            MetricVerdict {
                series: p.series.clone(),
                verdict: deploy_verdict_with(&p.points, deploy_ms, &cfg, &vctx),
                p_adjusted: None,
            }
        })
        .collect();
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
    metrics
}

/// A release or deploy marker of a project, by id.
pub async fn marker(store: &Store, project_id: i64, marker_id: i64) -> Result<Marker> {
    store
        .markers(project_id, None)
        .await?
        .into_iter()
        .find(|m| m.id == marker_id)
        .ok_or_else(|| StoreError::NotFound(format!("marker {marker_id}")))
}

/// Judges every time-indexed series of `slug` at marker `marker_id`.
pub async fn deploy_verdicts(
    store: &Store,
    slug: &str,
    marker_id: i64,
    cfg: &SeasonalConfig,
) -> Result<DeployView> {
    let project = store.project(slug).await?;
    let marker = marker(store, project.id, marker_id).await?;
    let series = production_series(store, project.id).await?;
    let mut ctx = judge_context(store, project.id).await?;
    Ok(DeployView {
        metrics: judge_with(&series, marker.time, cfg, &mut ctx),
        project: project.slug,
        marker,
        window_ms: cfg.window_ms,
        weeks: cfg.weeks,
    })
}
