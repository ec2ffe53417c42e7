//! Backtest of a production series (docs/detection.md, "Backtest"): what the current
//! deploy verdicts and production detection would have said over the last `days` —
//! deploys flagged, the false-alarm rate at random non-deploy moments, alerts away from
//! deploys — so an admin sees a metric's empirical false-alarm rate before its alerts
//! notify anyone (the schedule's dry-run switch). Read → compute (pure,
//! `perfwatch_detect::backtest`) → no write.

use perfwatch_core::view::SeriesInfo;
use perfwatch_detect::backtest::{backtest, Backtest, BacktestSettings, DEFAULT_PROBES};
use perfwatch_detect::calendar::parse_tz;
use perfwatch_detect::seasonal::SeasonalConfig;
use perfwatch_detect::DetectConfig;
use serde::{Deserialize, Serialize};

use crate::error::{Result, StoreError};
use crate::store::PointFilter;
use crate::time::now_ms;
use crate::Store;

const DAY_MS: i64 = 86_400_000;

/// A series' backtest and the settings it ran with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BacktestView {
    pub series: SeriesInfo,
    pub days: i64,
    /// Timezone of the local hours of the week (the schedule's, else UTC).
    pub timezone: String,
    /// Whether the series' schedule is in dry run (alerts recorded, not announced).
    pub dry_run: bool,
    /// Deploy and release markers of the project in the period.
    pub markers: usize,
    pub report: Backtest,
}

/// Backtests series `series_id` over the `days` (1–365) before `to` (ms, default now)
/// with `probes` random non-deploy moments (1–1000, default 100).
pub async fn backtest_series(
    store: &Store,
    series_id: i64,
    days: i64,
    to: Option<i64>,
    probes: Option<usize>,
) -> Result<BacktestView> {
    if !(1..=365).contains(&days) {
        return Err(StoreError::invalid("days", "1 to 365"));
    }
    let probes = probes.unwrap_or(DEFAULT_PROBES);
    if !(1..=1000).contains(&probes) {
        return Err(StoreError::invalid("probes", "1 to 1000"));
    }
    let series = store.series(series_id).await?;
    let project = store.project(&series.project).await?;
    let schedule = store
        .series_schedules(project.id)
        .await?
        .into_iter()
        .find(|s| s.testbed == series.testbed && s.query_name == series.benchmark);
    let timezone = schedule
        .as_ref()
        .map(|s| s.settings.timezone.clone())
        .unwrap_or_else(|| "UTC".into());
    let seasonal = SeasonalConfig {
        tz: parse_tz(&timezone).map_err(|e| StoreError::invalid("timezone", e))?,
        ..SeasonalConfig::default()
    };
    let points: Vec<(i64, f64)> = store
        .points(series_id, &PointFilter::default())
        .await?
        .iter()
        .filter(|p| p.sha.is_none())
        .map(|p| (p.time, p.median))
        .collect();
    let to = to.unwrap_or_else(now_ms);
    let from = to - days * DAY_MS;
    let deploys: Vec<i64> = store
        .markers(project.id, None)
        .await?
        .iter()
        .filter(|m| m.kind == "deploy" || m.kind == "release")
        .map(|m| m.time)
        .collect();
    let settings = BacktestSettings {
        from,
        to,
        seasonal,
        detect: DetectConfig::default(),
        probes,
        // The same probes on every call for the same series and period length.
        seed: (series_id as u64) ^ ((days as u64) << 32),
        holidays: crate::holidays::calendar(store, project.id).await?,
    };
    let report = backtest(&points, &deploys, &settings);
    Ok(BacktestView {
        series,
        days,
        timezone,
        dry_run: schedule.is_some_and(|s| s.settings.dry_run),
        markers: deploys.iter().filter(|d| **d >= from && **d < to).count(),
        report,
    })
}
