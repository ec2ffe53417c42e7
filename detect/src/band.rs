//! The seasonal expected band of a production series: for each moment of a range, what
//! the same local time in past weeks predicts (scaled by the level), and how far a
//! normal moment lands from that prediction. Drawn behind the deploy page's sparklines
//! and the production series chart, so "outside the band" reads as "not what this hour
//! of the week usually does".
//!
//! Pure: points in, a [`Band`] out.
//!
//! # Method
//!
//! - **Expected at `t`**: for each past week `k = 1..=weeks`, the series' value at the
//!   same local time `k` weeks earlier ([`crate::calendar::weeks_before`], the nearest
//!   point within half the median spacing) times a level scale `s_k`; the expectation
//!   is the median over the weeks that have a value. At least two weeks are needed.
//! - **Scale**, [`Level::Anchored`]`(d)` (a deploy at `d`): `s_k = L(d) / L_k(d)`, the
//!   median of the `level_ms` before `d` over the same span `k` weeks earlier — the
//!   scaling of the deploy verdict ([`crate::seasonal`]), so the band after the deploy
//!   is what the verdict expects. [`Level::Trailing`] (a chart): per UTC day, the median
//!   of the 7 days before the day over the same 7 days `k` weeks earlier: a whole week
//!   holds every hour of the cycle, so the ratio carries growth, not the cycle.
//! - **Normal variation** `σ`: over the points of the 7 days before the band's start
//!   (before the deploy when anchored), the residuals `ln(value / expected)` with the
//!   trailing scale; `σ = 1.4826 × median |r|` (the spread around the expectation
//!   itself, so a bias of the expectation widens the band rather than hiding),
//!   floored at [`crate::seasonal::SIGMA_FLOOR`]. The band is `expected × exp(±1.96 σ)`.
//!   When a value or an expectation is ≤ 0 the residuals are differences and the band
//!   is `expected ± 1.96 σ`.
//!
//! Band times are a grid at the series' median spacing over `[from, to]` (coarsened to
//! at most `max_points`), so the band shows what was expected also where the observed
//! line has a gap.

use std::collections::HashMap;

use crate::calendar::{weeks_before, Tz};
use crate::seasonal::SIGMA_FLOOR;

const DAY_MS: i64 = 24 * 3_600_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// How past weeks are scaled to the present level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// By the level just before this moment (a deploy), like the deploy verdict.
    Anchored(i64),
    /// By the week before each day.
    Trailing,
}

/// Settings of a band.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BandConfig {
    /// Past weeks the expectation comes from.
    pub weeks: usize,
    /// Length of the level window of [`Level::Anchored`], ms.
    pub level_ms: i64,
    pub level: Level,
    pub tz: Tz,
    /// Most band points returned.
    pub max_points: usize,
}

/// One moment of the band.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BandPoint {
    pub t: i64,
    pub expected: f64,
    pub low: f64,
    pub high: f64,
}

/// The band over a range.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Band {
    /// Moments with an expectation, in time order.
    pub points: Vec<BandPoint>,
    /// The normal variation: log-scale when `multiplicative`, else in the series' unit.
    pub sigma: Option<f64>,
    pub multiplicative: bool,
}

struct Series {
    t: Vec<i64>,
    v: Vec<f64>,
    tol: i64,
}

impl Series {
    fn new(points: &[(i64, f64)]) -> Self {
        let mut p: Vec<(i64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
        p.sort_by_key(|p| p.0);
        let t: Vec<i64> = p.iter().map(|p| p.0).collect();
        let tol = (crate::deseason::median_spacing(&t) / 2).max(1);
        Self {
            v: p.iter().map(|p| p.1).collect(),
            t,
            tol,
        }
    }

    fn range(&self, start: i64, end: i64) -> std::ops::Range<usize> {
        let lo = self.t.partition_point(|&x| x < start);
        let hi = self.t.partition_point(|&x| x < end).max(lo);
        lo..hi
    }

    fn median_in(&self, start: i64, end: i64) -> Option<f64> {
        median(self.v[self.range(start, end)].to_vec())
    }

    /// The nearest point to `t` within the tolerance.
    fn at(&self, t: i64) -> Option<f64> {
        let i = self.t.partition_point(|&x| x < t);
        [i.checked_sub(1), Some(i)]
            .into_iter()
            .flatten()
            .filter_map(|j| Some((self.t.get(j)?.abs_diff(t), *self.v.get(j)?)))
            .filter(|(d, _)| *d <= self.tol as u64)
            .min_by_key(|(d, _)| *d)
            .map(|(_, v)| v)
    }
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
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

/// `a / b` for positive finite levels; 1 otherwise (the week is used unscaled).
fn ratio(a: Option<f64>, b: Option<f64>) -> f64 {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 && (a / b).is_finite() => a / b,
        _ => 1.0,
    }
}

struct Expecter<'a> {
    s: &'a Series,
    cfg: &'a BandConfig,
    /// Anchored scales per week (index k − 1).
    anchored: Option<Vec<f64>>,
    /// Trailing scales per (UTC day, week).
    trailing: HashMap<(i64, usize), f64>,
}

impl<'a> Expecter<'a> {
    fn new(s: &'a Series, cfg: &'a BandConfig) -> Self {
        let anchored = match cfg.level {
            Level::Anchored(d) => {
                let now = s.median_in(d.saturating_sub(cfg.level_ms), d);
                Some(
                    (1..=cfg.weeks)
                        .map(|k| {
                            let then = weeks_before(d, k as i64, cfg.tz)
                                .and_then(|p| s.median_in(p.saturating_sub(cfg.level_ms), p));
                            ratio(now, then)
                        })
                        .collect(),
                )
            }
            Level::Trailing => None,
        };
        Self {
            s,
            cfg,
            anchored,
            trailing: HashMap::new(),
        }
    }

    fn trailing_scale(&mut self, t: i64, k: usize) -> f64 {
        let day = t.div_euclid(DAY_MS) * DAY_MS;
        if let Some(x) = self.trailing.get(&(day, k)) {
            return *x;
        }
        let now = self.s.median_in(day - WEEK_MS, day);
        let then =
            weeks_before(day, k as i64, self.cfg.tz).and_then(|p| self.s.median_in(p - WEEK_MS, p));
        let x = ratio(now, then);
        self.trailing.insert((day, k), x);
        x
    }

    /// The expectation at `t` (None with fewer than two past weeks at that time).
    fn expected(&mut self, t: i64, trailing: bool) -> Option<f64> {
        let mut e = Vec::new();
        for k in 1..=self.cfg.weeks {
            let Some(v) = weeks_before(t, k as i64, self.cfg.tz).and_then(|p| self.s.at(p)) else {
                continue;
            };
            let scale = match (&self.anchored, trailing) {
                (Some(a), false) => a[k - 1],
                _ => self.trailing_scale(t, k),
            };
            e.push(v * scale);
        }
        if e.len() < 2 {
            return None;
        }
        median(e)
    }
}

/// The band of `points` (time ms, value; any order) over `[from, to]`.
pub fn seasonal_band(points: &[(i64, f64)], from: i64, to: i64, cfg: &BandConfig) -> Band {
    let s = Series::new(points);
    let empty = Band {
        points: Vec::new(),
        sigma: None,
        multiplicative: true,
    };
    if s.t.len() < 2 || to <= from || cfg.weeks < 2 || cfg.max_points == 0 {
        return empty;
    }
    let mut ex = Expecter::new(&s, cfg);

    // Normal variation from the week before the band (before the deploy when anchored).
    let calib_end = match cfg.level {
        Level::Anchored(d) => d.min(from),
        Level::Trailing => from,
    };
    let mut pairs = Vec::new();
    for i in s.range(calib_end.saturating_sub(WEEK_MS), calib_end) {
        if let Some(e) = ex.expected(s.t[i], true) {
            pairs.push((s.v[i], e));
        }
    }
    let multiplicative = pairs.iter().all(|(v, e)| *v > 0.0 && *e > 0.0);
    let residuals: Vec<f64> = pairs
        .iter()
        .map(|(v, e)| {
            if multiplicative {
                (v / e).ln().abs()
            } else {
                (v - e).abs()
            }
        })
        .collect();
    let sigma = median(residuals).map(|m| {
        let s = 1.4826 * m;
        if multiplicative {
            s.max(SIGMA_FLOOR)
        } else {
            s
        }
    });

    // The grid.
    let spacing = crate::deseason::median_spacing(&s.t).max(60_000);
    let span = to - from;
    let step = spacing.max(span / cfg.max_points as i64 + 1);
    let start = from.div_euclid(step) * step;
    let mut out = Vec::new();
    let mut t = start;
    while t <= to && out.len() < cfg.max_points {
        if t >= from {
            if let Some(e) = ex.expected(t, false) {
                let w = sigma.map_or(0.0, |s| 1.96 * s);
                let (low, high) = if multiplicative && e > 0.0 {
                    (e * (-w).exp(), e * w.exp())
                } else {
                    (e - w, e + w)
                };
                out.push(BandPoint {
                    t,
                    expected: e,
                    low,
                    high,
                });
            }
        }
        t += step;
    }
    Band {
        points: out,
        sigma,
        multiplicative,
    }
}

/// Whether the value at `t` lies outside the band (the nearest band moment within half
/// the band's step); None when no band moment is near.
pub fn outside(band: &Band, t: i64, v: f64) -> Option<bool> {
    let p = band.points.as_slice();
    let step = match p {
        [a, b, ..] => (b.t - a.t).max(1),
        _ => return None,
    };
    let i = p.partition_point(|x| x.t < t);
    let near = [i.checked_sub(1), Some(i)]
        .into_iter()
        .flatten()
        .filter_map(|j| p.get(j))
        .filter(|x| x.t.abs_diff(t) <= (step / 2) as u64 + 1)
        .min_by_key(|x| x.t.abs_diff(t))?;
    Some(v < near.low || v > near.high)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    /// Hourly: day 100, night (22–06) 30, weekend × 0.6, growth 1 %/week, ±2 % noise.
    fn series(weeks: i64, drop_at: Option<i64>) -> Vec<(i64, f64)> {
        let mut seed = 7u64;
        (0..weeks * 168)
            .map(|h| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let noise = ((seed >> 33) % 2001) as f64 / 1000.0 - 1.0;
                let t = h * HOUR;
                let hour = (h % 24) as u32;
                // 1970-01-01 was a Thursday: days 2 and 3 of each week are the weekend.
                let weekend = matches!((h / 24) % 7, 2 | 3);
                let mut v = 100.0 * (1.0 + 0.01 * h as f64 / 168.0);
                if !(6..22).contains(&hour) {
                    v *= 0.3;
                }
                if weekend {
                    v *= 0.6;
                }
                v *= 1.0 + 0.02 * noise;
                if drop_at.is_some_and(|d| t >= d) {
                    v *= 0.8;
                }
                (t, v)
            })
            .collect()
    }

    fn cfg(level: Level) -> BandConfig {
        BandConfig {
            weeks: 4,
            level_ms: 6 * HOUR,
            level,
            tz: Tz::UTC,
            max_points: 2000,
        }
    }

    #[test]
    fn the_band_follows_the_night_dip_and_holds_normal_points() {
        let pts = series(7, None);
        let from = 6 * 168 * HOUR;
        let b = seasonal_band(&pts, from, from + 48 * HOUR, &cfg(Level::Trailing));
        assert_eq!(b.points.len(), 49);
        let sigma = b.sigma.unwrap();
        assert!(sigma > 0.005 && sigma < 0.05, "{sigma}");
        let night = b.points.iter().find(|p| p.t == from + 2 * HOUR).unwrap();
        let day = b.points.iter().find(|p| p.t == from + 12 * HOUR).unwrap();
        assert!(night.expected < day.expected * 0.5, "{night:?} {day:?}");
        let inside = pts
            .iter()
            .filter(|p| p.0 >= from && p.0 <= from + 48 * HOUR)
            .filter(|p| outside(&b, p.0, p.1) == Some(false))
            .count();
        assert!(inside >= 45, "{inside} of 49 normal points inside");
    }

    #[test]
    fn a_drop_at_a_deploy_lands_below_the_anchored_band() {
        let d = 6 * 168 * HOUR + 20 * HOUR;
        let pts = series(7, Some(d));
        let b = seasonal_band(&pts, d - 24 * HOUR, d + 24 * HOUR, &cfg(Level::Anchored(d)));
        let (mut before_out, mut after_out) = (0, 0);
        for p in pts
            .iter()
            .filter(|p| p.0 >= d - 24 * HOUR && p.0 <= d + 24 * HOUR)
        {
            let out = outside(&b, p.0, p.1).unwrap();
            if p.0 < d {
                before_out += out as usize;
            } else {
                after_out += out as usize;
            }
        }
        assert!(before_out <= 2, "{before_out} of 24 normal points outside");
        assert!(after_out >= 22, "{after_out} of 25 dropped points outside");
    }

    #[test]
    fn too_little_history_gives_no_band() {
        let pts = series(1, None);
        let b = seasonal_band(&pts, 100 * HOUR, 120 * HOUR, &cfg(Level::Trailing));
        assert!(b.points.is_empty());
        assert!(seasonal_band(&[], 0, 10, &cfg(Level::Trailing))
            .points
            .is_empty());
    }

    #[test]
    fn a_long_range_is_coarsened_to_max_points() {
        let pts = series(8, None);
        let mut c = cfg(Level::Trailing);
        c.max_points = 100;
        let b = seasonal_band(&pts, 5 * 168 * HOUR, 8 * 168 * HOUR, &c);
        assert!(
            b.points.len() <= 100 && b.points.len() >= 90,
            "{}",
            b.points.len()
        );
    }

    #[test]
    fn zero_traffic_gives_an_additive_band() {
        let mut pts = series(7, None);
        for p in &mut pts {
            if (p.0 / HOUR) % 24 < 4 {
                p.1 = 0.0;
            }
        }
        let from = 6 * 168 * HOUR;
        let b = seasonal_band(&pts, from, from + 24 * HOUR, &cfg(Level::Trailing));
        assert!(!b.multiplicative);
        assert!(b
            .points
            .iter()
            .all(|p| p.low <= p.expected && p.expected <= p.high));
    }
}
