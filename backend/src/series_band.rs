//! The seasonal band behind a production series chart (docs/ui.md, "Series page"):
//! over the visible range, what the same local hours of past weeks predict, scaled by
//! the week before each day, ± the series' normal variation
//! ([`perfwatch_detect::band`], trailing level). Local hours are counted in the
//! timezone of the schedule feeding the series (UTC when none). Read → compute → no
//! write.
//!
//! After the schedule's `raw_days` only hourly rollups remain of old points. When any
//! of the weeks the band reads are rolled up, the band is computed on hourly points:
//! each hour's **p50** at the start of the hour — the rollup's, or, for hours still
//! raw, the p50 of the raw points rolled up the same way ([`hourly`]). p50 because it
//! is the value the chart draws for a rolled-up hour (so the band describes the drawn
//! line), and because the band is median-based throughout: an hour's mean would carry
//! one outlier scrape into the expectation of every later week. One resolution for
//! the whole computation, because the band matches a past week's point within half the
//! median spacing: 5-minute points next to hourly ones would find no match in the
//! rolled-up weeks.

use perfwatch_core::rollup::{hourly, Rollup};
use perfwatch_detect::band::{seasonal_band, Band, BandConfig, Level};
use perfwatch_detect::calendar::{parse_tz, Tz};

use crate::error::{Result, StoreError};
use crate::Store;

/// Past weeks the chart's expectation comes from.
pub const WEEKS: usize = 4;
/// Band points drawn at most (the chart is 2,000 px wide at most; a point per few px).
pub const MAX_POINTS: usize = 600;
/// Longest range a band is computed for (a year): beyond that the hours of a week are
/// below a pixel.
pub const MAX_RANGE_MS: i64 = 366 * 24 * 3_600_000;

const WEEK_MS: i64 = 7 * 24 * 3_600_000;

/// The band of series `series_id` over `[from, to]` (ms). An empty band when the
/// series is measured per commit or has too little history.
pub async fn series_band(store: &Store, series_id: i64, from: i64, to: i64) -> Result<Band> {
    if to <= from {
        return Err(StoreError::invalid("to", "must be after from"));
    }
    if to - from > MAX_RANGE_MS {
        return Err(StoreError::invalid(
            "from",
            "the range is longer than a year",
        ));
    }
    // A series measured per commit has no band; its newest points tell, where reading
    // the range would scan the whole series (no index on time): 1.6 s at a million
    // points, on every time-axis page of a CI series (docs/benchmarks.md).
    if !store.measured_over_time(series_id).await? {
        return Ok(Band {
            points: Vec::new(),
            sigma: None,
            multiplicative: false,
        });
    }
    let s = store.series(series_id).await?;
    let project = store.project_ref(&s.project).await?;
    let tz = store
        .series_schedules(project.id)
        .await?
        .into_iter()
        .find(|x| x.testbed == s.testbed && x.query_name == s.benchmark)
        .and_then(|x| parse_tz(&x.settings.timezone).ok())
        .unwrap_or(Tz::UTC);
    // Past weeks, plus the week before the range (normal variation) and the week
    // before that (its level), plus one week of slack for a daylight-saving hour.
    let need = (WEEKS as i64 + 3) * WEEK_MS;
    let raw = store
        .time_only_points(series_id, from.saturating_sub(need), to)
        .await?;
    let hours = store
        .rollups(series_id, from.saturating_sub(need), to.saturating_add(1))
        .await?;
    let points = with_rollups(raw, &hours);
    Ok(seasonal_band(
        &points,
        from,
        to,
        &BandConfig {
            weeks: WEEKS,
            level_ms: 6 * 3_600_000,
            level: Level::Trailing,
            tz,
            max_points: MAX_POINTS,
        },
    ))
}

/// The points the band is computed on: `raw` unchanged when nothing is rolled up, else
/// one point per hour at the hour's start: the rollup's p50 where the hour was rolled
/// up, the p50 of its raw points elsewhere (an hour holding both — a point an alert
/// keeps raw — uses the rollup, which holds all its other points).
fn with_rollups(raw: Vec<(i64, f64)>, hours: &[Rollup]) -> Vec<(i64, f64)> {
    if hours.is_empty() {
        return raw;
    }
    let mut by_hour: std::collections::BTreeMap<i64, f64> =
        hourly(&raw).into_iter().map(|r| (r.hour, r.p50)).collect();
    by_hour.extend(hours.iter().map(|r| (r.hour, r.p50)));
    by_hour.into_iter().collect()
}
