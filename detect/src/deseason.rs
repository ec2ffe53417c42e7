//! Change-point detection on production series that have daily and weekly cycles.
//!
//! Run on raw hourly traffic, E-Divisive sees every night and every weekend as a change.
//! [`deseasonalize`] removes the cycle first — a classical ratio-to-moving-median
//! decomposition on the local calendar ([`crate::calendar`]) — and detection then runs
//! on what is left: the level, its growth and any lasting shift.
//!
//! # Method
//!
//! 1. **Cycle**: points no more than 2 h apart make hourly buckets; 14 days or more of
//!    them give a weekly cycle (168 hour-of-week slots), 2 days or more a daily one (24
//!    slots). Points up to a day apart spanning 3 weeks give a weekday cycle (7 slots).
//!    Anything else has no cycle to remove (None: detect on the raw values).
//! 2. **Level** of each bucket: the median of the bucket means within half a cycle on
//!    either side (a centred moving median, robust to the shift itself and to outliers).
//! 3. **Seasonal factor** per slot: the median over the slot's buckets of mean ÷ level,
//!    normalised to average 1. When any value or level is ≤ 0 (zero traffic at night),
//!    the decomposition is additive instead: offsets mean − level, normalised to
//!    average 0. A slot seen fewer than twice keeps factor 1 (offset 0).
//! 4. **Adjusted** value of each point: value ÷ factor of its slot (value − offset).
//!
//! A lasting 15 % drop stays a 15 % step in the adjusted series; the nightly dip, the
//! weekend and a daylight-saving change (slots are local hours) do not appear in it.
//!
//! **Holidays** ([`deseasonalize_with`], the project's calendar): buckets on a holiday
//! (local date) are left out of the levels and the seasonal factors, and each holiday
//! point's adjusted value is replaced by the median of the adjusted normal points within
//! half a cycle — the seasonal expectation with the cycle removed. Replaced rather than dropped: change points index
//! the input points (the alert pipeline maps them back to runs and times), so the input
//! keeps its length; a replaced point carries no information either way, so a one-day
//! holiday drop is neither a drop nor a recovery (not two changes), while a lasting shift
//! that starts on a holiday is seen from the next normal day on.

use crate::calendar::{day_of_week, hour_of_day, hour_of_week, Tz};
use crate::holidays::Holidays;

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;

/// The cycle removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cycle {
    /// 24 hour-of-day slots.
    Day,
    /// 168 hour-of-week slots.
    Week,
    /// 7 day-of-week slots (daily points).
    Weekday,
}

impl Cycle {
    fn slots(self) -> usize {
        match self {
            Cycle::Day => 24,
            Cycle::Week => 168,
            Cycle::Weekday => 7,
        }
    }

    fn length_ms(self) -> i64 {
        match self {
            Cycle::Day => DAY,
            Cycle::Week | Cycle::Weekday => 7 * DAY,
        }
    }

    fn bucket_ms(self) -> i64 {
        match self {
            Cycle::Day | Cycle::Week => HOUR,
            Cycle::Weekday => DAY,
        }
    }

    fn slot(self, t_ms: i64, tz: Tz) -> Option<usize> {
        match self {
            Cycle::Day => hour_of_day(t_ms, tz),
            Cycle::Week => hour_of_week(t_ms, tz),
            Cycle::Weekday => day_of_week(t_ms, tz),
        }
    }
}

/// A series with its cycle removed.
#[derive(Debug, Clone, PartialEq)]
pub struct Deseasoned {
    pub cycle: Cycle,
    /// Factors (true) or offsets (false).
    pub multiplicative: bool,
    /// Per input point: the factor it was divided by, or the offset subtracted.
    pub seasonal: Vec<f64>,
    /// Per input point: the value with the cycle removed.
    pub adjusted: Vec<f64>,
}

/// Which cycle the points can carry, from their spacing and span.
pub fn cycle_of(times: &[i64]) -> Option<Cycle> {
    if times.len() < 8 {
        return None;
    }
    let mut t = times.to_vec();
    t.sort_unstable();
    let span = t[t.len() - 1].checked_sub(t[0])?;
    let mut gaps: Vec<i64> = t
        .windows(2)
        .map(|w| w[1] - w[0])
        .filter(|g| *g > 0)
        .collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort_unstable();
    let spacing = gaps[gaps.len() / 2];
    if spacing <= 2 * HOUR {
        if span >= 14 * DAY {
            Some(Cycle::Week)
        } else if span >= 2 * DAY {
            Some(Cycle::Day)
        } else {
            None
        }
    } else if spacing <= DAY && span >= 21 * DAY {
        Some(Cycle::Weekday)
    } else {
        None
    }
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        v[n / 2 - 1] / 2.0 + v[n / 2] / 2.0
    })
}

struct Bucket {
    /// Bucket start, ms.
    t: i64,
    mean: f64,
    slot: usize,
    /// On a holiday of the calendar.
    holiday: bool,
}

/// Removes the daily or weekly cycle of `points` (time ms, value; finite values, any
/// order) in timezone `tz`. None when the points carry no cycle that can be estimated
/// (too short, too sparse, non-finite values) — then detect on the raw values.
pub fn deseasonalize(points: &[(i64, f64)], tz: Tz) -> Option<Deseasoned> {
    deseasonalize_with(points, tz, &Holidays::default())
}

/// [`deseasonalize`] with a holiday calendar: holiday buckets shape neither the level nor
/// the factors, and holiday points are replaced by the adjusted median around them
/// (module docs).
pub fn deseasonalize_with(
    points: &[(i64, f64)],
    tz: Tz,
    holidays: &Holidays,
) -> Option<Deseasoned> {
    if points.iter().any(|p| !p.1.is_finite()) {
        return None;
    }
    let times: Vec<i64> = points.iter().map(|p| p.0).collect();
    let cycle = cycle_of(&times)?;
    let width = cycle.bucket_ms();

    // Bucket means, in time order.
    let mut acc: std::collections::BTreeMap<i64, (f64, usize)> = Default::default();
    for &(t, v) in points {
        let e = acc.entry(t.div_euclid(width)).or_insert((0.0, 0));
        e.0 += v;
        e.1 += 1;
    }
    let mut buckets = Vec::with_capacity(acc.len());
    for (k, (sum, n)) in acc {
        let t = k.checked_mul(width)?;
        let mean = sum / n as f64;
        if !mean.is_finite() {
            return None;
        }
        buckets.push(Bucket {
            t,
            mean,
            slot: cycle.slot(t, tz)?,
            // A daily bucket starts at UTC midnight: judge it by its middle.
            holiday: holidays.at(t.saturating_add(width / 2), tz).is_some(),
        });
    }

    // Centred moving median over one cycle.
    let half = cycle.length_ms() / 2;
    let mut levels = Vec::with_capacity(buckets.len());
    let (mut lo, mut hi) = (0usize, 0usize);
    for b in &buckets {
        while buckets[lo].t < b.t - half {
            lo += 1;
        }
        while hi < buckets.len() && buckets[hi].t < b.t + half {
            hi += 1;
        }
        let mut w: Vec<f64> = buckets[lo..hi]
            .iter()
            .filter(|x| !x.holiday)
            .map(|x| x.mean)
            .collect();
        if w.is_empty() {
            // Nothing but holidays around: their own median is all there is.
            w = buckets[lo..hi].iter().map(|x| x.mean).collect();
        }
        levels.push(median(&mut w)?);
    }

    let multiplicative = buckets.iter().all(|b| b.mean > 0.0) && levels.iter().all(|l| *l > 0.0);
    let slots = cycle.slots();
    let mut per_slot: Vec<Vec<f64>> = vec![Vec::new(); slots];
    for (b, l) in buckets.iter().zip(&levels).filter(|(b, _)| !b.holiday) {
        let r = if multiplicative {
            b.mean / l
        } else {
            b.mean - l
        };
        if r.is_finite() {
            per_slot[b.slot].push(r);
        }
    }
    let neutral = if multiplicative { 1.0 } else { 0.0 };
    let mut season: Vec<f64> = per_slot
        .iter_mut()
        .map(|r| {
            if r.len() >= 2 {
                median(r).unwrap_or(neutral)
            } else {
                neutral
            }
        })
        .collect();
    let mean = season.iter().sum::<f64>() / slots as f64;
    for s in &mut season {
        if multiplicative {
            *s /= mean;
        } else {
            *s -= mean;
        }
    }
    if season
        .iter()
        .any(|s| !s.is_finite() || (multiplicative && *s <= 1e-9))
    {
        return None;
    }

    let mut seasonal = Vec::with_capacity(points.len());
    let mut adjusted = Vec::with_capacity(points.len());
    // Holiday buckets, by bucket key.
    let holiday: std::collections::HashSet<i64> = buckets
        .iter()
        .filter(|b| b.holiday)
        .map(|b| b.t.div_euclid(width))
        .collect();
    let mut on_holiday = Vec::with_capacity(points.len());
    for &(t, v) in points {
        let s = season[cycle.slot(t, tz)?];
        let a = if multiplicative { v / s } else { v - s };
        if !a.is_finite() {
            return None;
        }
        seasonal.push(s);
        adjusted.push(a);
        on_holiday.push(holiday.contains(&t.div_euclid(width)));
    }
    if !holiday.is_empty() {
        // Each holiday point becomes the median of the adjusted normal points within half
        // a cycle: what the series shows around it once the cycle is removed.
        let mut normal: Vec<(i64, f64)> = points
            .iter()
            .zip(&adjusted)
            .zip(&on_holiday)
            .filter(|(_, h)| !**h)
            .map(|((p, a), _)| (p.0, *a))
            .collect();
        normal.sort_by_key(|p| p.0);
        for (i, &(t, _)) in points.iter().enumerate() {
            if !on_holiday[i] {
                continue;
            }
            let lo = normal.partition_point(|p| p.0 < t.saturating_sub(half));
            let hi = normal.partition_point(|p| p.0 <= t.saturating_add(half));
            let mut around: Vec<f64> = normal[lo..hi].iter().map(|p| p.1).collect();
            if let Some(m) = median(&mut around) {
                adjusted[i] = m;
            }
        }
    }
    Some(Deseasoned {
        cycle,
        multiplicative,
        seasonal,
        adjusted,
    })
}

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

/// Detection on a time-indexed series: its cycle removed ([`deseasonalize`]), then
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Hourly: day 100, night 30 (22–06), weekends × 0.6, from Monday 2026-11-02.
    fn traffic(days: i64, drop_at: Option<i64>) -> Vec<(i64, f64)> {
        let monday = 20_395 * DAY;
        (0..days * 24)
            .map(|h| {
                let t = monday + h * HOUR;
                let hour = h % 24;
                let dow = (h / 24) % 7;
                let mut v = if (6..22).contains(&hour) { 100.0 } else { 30.0 };
                if dow >= 5 {
                    v *= 0.6;
                }
                if drop_at.is_some_and(|d| h >= d) {
                    v *= 0.85;
                }
                (t, v)
            })
            .collect()
    }

    #[test]
    fn the_cycle_disappears_and_a_drop_stays() {
        let d = deseasonalize(&traffic(35, None), Tz::UTC).unwrap();
        assert_eq!(d.cycle, Cycle::Week);
        assert!(d.multiplicative);
        let (min, max) = d
            .adjusted
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
        assert!(
            max / min < 1.000_001,
            "flat after removing the cycle: {min}..{max}"
        );

        let pts = traffic(35, Some(30 * 24 + 20));
        let d = deseasonalize(&pts, Tz::UTC).unwrap();
        let before = d.adjusted[29 * 24];
        let after = d.adjusted[33 * 24];
        assert!((after / before - 0.85).abs() < 0.02, "{before} → {after}");
    }

    #[test]
    fn a_holiday_in_the_calendar_is_not_two_changes() {
        use crate::holidays::{Holiday, Holidays};
        // Day 24 (a Friday) at 40 %.
        let mut pts = traffic(35, None);
        for p in pts.iter_mut() {
            if p.0 >= 20_395 * DAY + 24 * DAY && p.0 < 20_395 * DAY + 25 * DAY {
                p.1 *= 0.4;
            }
        }
        let cal = Holidays::new(&[Holiday {
            date: Holidays::local_date(20_395 * DAY + 24 * DAY, Tz::UTC).unwrap(),
            name: "Christmas".into(),
        }]);
        let base = crate::DetectConfig::default();
        let changes = |cal: &Holidays| match detect_production_with(&pts, Tz::UTC, cal, &base) {
            Ok((_, crate::Detection::Done { change_points, .. })) => change_points.len(),
            other => panic!("{other:?}"),
        };
        assert!(
            changes(&Holidays::default()) >= 1,
            "blind: the holiday is a change"
        );
        assert_eq!(changes(&cal), 0, "with the calendar: nothing");
        let d = deseasonalize_with(&pts, Tz::UTC, &cal).unwrap();
        let (min, max) = d
            .adjusted
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
        assert!(
            max / min < 1.01,
            "flat with the holiday replaced: {min}..{max}"
        );
    }

    #[test]
    fn two_days_give_a_daily_cycle_and_zero_traffic_is_additive() {
        let mut pts = traffic(3, None);
        for p in pts.iter_mut() {
            p.1 -= 30.0; // nights at zero
        }
        let d = deseasonalize(&pts, Tz::UTC).unwrap();
        assert_eq!(d.cycle, Cycle::Day);
        assert!(!d.multiplicative);
        assert!(d.adjusted.iter().all(|a| a.is_finite()));
    }

    #[test]
    fn too_short_sparse_or_non_finite_has_no_cycle() {
        assert_eq!(deseasonalize(&traffic(1, None), Tz::UTC), None);
        assert_eq!(deseasonalize(&[], Tz::UTC), None);
        let sparse: Vec<(i64, f64)> = (0..40).map(|i| (i * 3 * DAY, 1.0)).collect();
        assert_eq!(deseasonalize(&sparse, Tz::UTC), None);
        let mut nan = traffic(20, None);
        nan[5].1 = f64::NAN;
        assert_eq!(deseasonalize(&nan, Tz::UTC), None);
        let huge: Vec<(i64, f64)> = (0..400).map(|i| (i * HOUR, f64::MAX)).collect();
        // Means overflow to ∞: refused, not a panic.
        let _ = deseasonalize(&huge, Tz::UTC);
        let extreme: Vec<(i64, f64)> = (0..20).map(|i| (i64::MAX - i, 1.0)).collect();
        let _ = deseasonalize(&extreme, Tz::UTC);
    }
}
