//! Detection on production series: the cycle removed first, then settings for shifts
//! that last rather than for commit-to-commit steps.

use super::{deseasonalize_with, Cycle, DAY, HOUR};
use crate::calendar::Tz;
use crate::holidays::Holidays;

/// Smallest relative change a production-series alert needs (5 %): week-to-week
/// variation of real traffic is a few per cent, and Ops asked to hear of drops and
/// spikes, not of every wobble.
pub const PRODUCTION_MIN_CHANGE: f64 = 0.05;

/// How long a shift must last before it is an alert (6 h): a dip that recovers within
/// the deploy window is the deploy verdict's business, not a lasting change.
pub const LASTING_MS: i64 = 6 * HOUR;

/// Detection settings for a production series whose points are `spacing_ms` apart, from
/// the project's settings for commit series: the shift must outlast [`LASTING_MS`]
/// (segments of at least that many points) and be at least [`PRODUCTION_MIN_CHANGE`];
/// the ramp pass is off (growth is not a regression).
pub fn production_config(base: &crate::DetectConfig, spacing_ms: i64) -> crate::DetectConfig {
    let per_window = if spacing_ms > 0 {
        (LASTING_MS / spacing_ms).clamp(1, 10_000) as usize
    } else {
        1
    };
    let mut c = base.clone();
    c.min_segment = c.min_segment.max(per_window);
    c.min_relative_change = c.min_relative_change.max(PRODUCTION_MIN_CHANGE);
    c.trends = false;
    c
}

/// Median spacing of the points' times, ms (0 when fewer than two distinct times).
pub fn median_spacing(times: &[i64]) -> i64 {
    let mut t = times.to_vec();
    t.sort_unstable();
    let mut gaps: Vec<i64> = t
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .filter(|g| *g > 0)
        .collect();
    if gaps.is_empty() {
        return 0;
    }
    gaps.sort_unstable();
    gaps[gaps.len() / 2]
}

/// Detection on a time-indexed series: its cycle removed ([`deseasonalize`](super::deseasonalize)), then
/// [`crate::detect`] with [`production_config`]. Change points index the input points
/// (time order expected, as stored). Returns the cycle removed; a series too short or
/// sparse to show its cycle is [`crate::Detection::TooShort`].
pub fn detect_production(
    points: &[(i64, f64)],
    tz: Tz,
    base: &crate::DetectConfig,
) -> Result<(Option<Cycle>, crate::Detection), crate::DetectError> {
    detect_production_with(points, tz, &Holidays::default(), base)
}

/// [`detect_production`] with the project's holidays: holiday points are replaced by the
/// seasonal expectation before detection ([`deseasonalize_with`]).
pub fn detect_production_with(
    points: &[(i64, f64)],
    tz: Tz,
    holidays: &Holidays,
    base: &crate::DetectConfig,
) -> Result<(Option<Cycle>, crate::Detection), crate::DetectError> {
    let times: Vec<i64> = points.iter().map(|p| p.0).collect();
    let cfg = production_config(base, median_spacing(&times));
    match deseasonalize_with(points, tz, holidays) {
        Some(d) => Ok((Some(d.cycle), crate::detect(&d.adjusted, &cfg)?)),
        // Without two days of sub-daily points (three weeks of daily ones) the cycle is
        // unknown, and on raw values the first night would look like a drop: wait.
        None => {
            let needed = match median_spacing(&times) {
                s if s > 0 && s <= 2 * HOUR => (2 * DAY / s) as usize + 1,
                _ => 22,
            };
            Ok((
                None,
                crate::Detection::TooShort {
                    needed: needed.max(points.len() + 1),
                    got: points.len(),
                },
            ))
        }
    }
}
