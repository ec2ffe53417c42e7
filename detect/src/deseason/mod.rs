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

mod production;
#[cfg(test)]
mod tests;

pub use production::{
    detect_production, detect_production_with, median_spacing, production_config, LASTING_MS,
    PRODUCTION_MIN_CHANGE,
};

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
    let buckets = bucket_means(points, cycle, tz, holidays)?;
    let half = cycle.length_ms() / 2;
    let levels = moving_levels(&buckets, half)?;
    let multiplicative = buckets.iter().all(|b| b.mean > 0.0) && levels.iter().all(|l| *l > 0.0);
    let season = seasonal_factors(&buckets, &levels, cycle, multiplicative)?;

    let width = cycle.bucket_ms();
    // Holiday buckets, by bucket key.
    let holiday: std::collections::HashSet<i64> = buckets
        .iter()
        .filter(|b| b.holiday)
        .map(|b| b.t.div_euclid(width))
        .collect();
    let mut seasonal = Vec::with_capacity(points.len());
    let mut adjusted = Vec::with_capacity(points.len());
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
        replace_holiday_points(points, &mut adjusted, &on_holiday, half);
    }
    Some(Deseasoned {
        cycle,
        multiplicative,
        seasonal,
        adjusted,
    })
}

/// Step 1: the mean of each bucket of the cycle, in time order.
fn bucket_means(
    points: &[(i64, f64)],
    cycle: Cycle,
    tz: Tz,
    holidays: &Holidays,
) -> Option<Vec<Bucket>> {
    let width = cycle.bucket_ms();
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
    Some(buckets)
}

/// Step 2: each bucket's level, the centred moving median of the normal buckets within
/// `half` a cycle.
fn moving_levels(buckets: &[Bucket], half: i64) -> Option<Vec<f64>> {
    let mut levels = Vec::with_capacity(buckets.len());
    let (mut lo, mut hi) = (0usize, 0usize);
    for b in buckets {
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
    Some(levels)
}

/// Step 3: per slot, the median of mean ÷ level (or mean − level) over the normal
/// buckets, normalised to average 1 (or 0). None when a factor is unusable.
fn seasonal_factors(
    buckets: &[Bucket],
    levels: &[f64],
    cycle: Cycle,
    multiplicative: bool,
) -> Option<Vec<f64>> {
    let slots = cycle.slots();
    let mut per_slot: Vec<Vec<f64>> = vec![Vec::new(); slots];
    for (b, l) in buckets.iter().zip(levels).filter(|(b, _)| !b.holiday) {
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
    let usable = season
        .iter()
        .all(|s| s.is_finite() && !(multiplicative && *s <= 1e-9));
    usable.then_some(season)
}

/// Each holiday point becomes the median of the adjusted normal points within `half` a
/// cycle: what the series shows around it once the cycle is removed.
fn replace_holiday_points(
    points: &[(i64, f64)],
    adjusted: &mut [f64],
    on_holiday: &[bool],
    half: i64,
) {
    let mut normal: Vec<(i64, f64)> = points
        .iter()
        .zip(adjusted.iter())
        .zip(on_holiday)
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
