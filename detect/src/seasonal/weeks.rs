//! The expectation from normal weeks: the same local hours in past weeks, scaled by
//! the level before the deploy, and their week-to-week variation.

use super::holiday::touches_holiday;
use super::points::{level_scale, median, robust_sigma, Sorted};
use super::reason::{fmt_duration, fmt_scale};
use super::{Expectation, SeasonalConfig, MAX_WEEKS};
use crate::holidays::Holidays;

#[derive(Clone)]
pub(super) struct Week {
    /// Median of the week's window.
    m: f64,
    /// Median of the week's level window.
    level: f64,
}

/// The past weeks compared with a deploy.
pub(super) struct PastWeeks {
    /// Weeks with data in both their window and their level window.
    pub(super) weeks: Vec<Week>,
    /// Weeks left out because their hours touch a holiday.
    pub(super) holiday_skipped: usize,
}

/// Past weeks `k = 1, 2, …` before the deploy, at the same local hours. A week whose
/// hours touch a holiday is left out and replaced by the week before it.
pub(super) fn past_weeks(
    s: &Sorted,
    deploy_ms: i64,
    observed: Option<f64>,
    level_now: Option<f64>,
    cfg: &SeasonalConfig,
    cal: &Holidays,
) -> PastWeeks {
    let d = deploy_ms as i128;
    let window = cfg.window_ms as i128;
    let level = cfg.level_ms as i128;
    let earliest = s.t.first().map(|&t| t as i128);
    let tol = s.half_spacing();
    // `now` divided by the median ratio now ÷ week k over matched hours.
    let via_matched =
        |r: Option<f64>, now: Option<f64>| r.zip(now).map(|(r, o)| o / r).filter(|x| x.is_finite());
    let mut weeks: Vec<Week> = Vec::new();
    let mut skipped = 0usize;
    let mut k = 0usize;
    while k < (cfg.weeks.min(MAX_WEEKS) + skipped).min(MAX_WEEKS) {
        k += 1;
        let Some(shifted) = crate::calendar::weeks_before(deploy_ms, k as i64, cfg.tz) else {
            break; // out of the calendar's range: so are all older weeks
        };
        let shifted = shifted as i128;
        match earliest {
            Some(e) if shifted + window.max(0) > e => {}
            _ => break, // this week and all older ones are before the first point
        }
        if touches_holiday(cal, shifted, cfg).is_some() {
            skipped += 1;
            continue;
        }
        let (Some(m), Some(l)) = (
            s.median_in(shifted, shifted + window),
            s.median_in(shifted - level, shifted),
        ) else {
            continue;
        };
        // Compare like with like: when either side misses points, the window median
        // would move along the daily curve; the median ratio over matched hours
        // (this week's point at the same local time) carries the comparison instead.
        let m = via_matched(
            s.matched_ratio(d, d + window, k as i64, cfg.tz, tol),
            observed,
        )
        .unwrap_or(m);
        let l = via_matched(
            s.matched_ratio(d - level, d, k as i64, cfg.tz, tol),
            level_now,
        )
        .unwrap_or(l);
        weeks.push(Week { m, level: l });
    }
    PastWeeks {
        weeks,
        holiday_skipped: skipped,
    }
}

/// The expectation from normal weeks: the median of each week's value scaled by level
/// now ÷ its level (when there is a level now), with σ from the leave-one-out ratios.
pub(super) fn week_expectation(
    weeks: &[Week],
    level_now: Option<f64>,
    cfg: &SeasonalConfig,
) -> Expectation {
    let scaled = level_now.is_some_and(|l| l > 0.0);
    let mut expected_k = Vec::new();
    let mut scales = Vec::new();
    for w in weeks {
        let sc = if scaled {
            level_scale(level_now, Some(w.level))
        } else {
            None
        };
        let e = w.m * sc.unwrap_or(1.0);
        expected_k.push(if e.is_finite() { e } else { w.m });
        scales.push(sc.unwrap_or(1.0));
    }
    Expectation {
        expected: median(expected_k),
        sigma: robust_sigma(&leave_one_out(weeks, scaled)),
        basis: Basis {
            weeks_used: weeks.len(),
            scaled,
            median_scale: median(scales),
            level_ms: cfg.level_ms,
        }
        .describe(),
    }
}

/// For every week with at least two others: ln(its value ÷ what the others predict
/// for it). Empty under three weeks.
fn leave_one_out(weeks: &[Week], scaled: bool) -> Vec<f64> {
    let mut loo = Vec::new();
    if weeks.len() < 3 {
        return loo;
    }
    for (k, wk) in weeks.iter().enumerate() {
        let others: Vec<f64> = weeks
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != k)
            .map(|(_, wj)| {
                let sc = if scaled {
                    level_scale(Some(wk.level), Some(wj.level))
                } else {
                    None
                };
                let e = wj.m * sc.unwrap_or(1.0);
                if e.is_finite() {
                    e
                } else {
                    wj.m
                }
            })
            .collect();
        let Some(e) = median(others) else { continue };
        if wk.m > 0.0 && e > 0.0 {
            let r = wk.m.ln() - e.ln();
            if r.is_finite() {
                loo.push(r);
            }
        }
    }
    loo
}

struct Basis {
    weeks_used: usize,
    scaled: bool,
    median_scale: Option<f64>,
    level_ms: i64,
}

impl Basis {
    fn describe(&self) -> String {
        let weeks = if self.weeks_used == 1 {
            "same hours of 1 past week".to_string()
        } else {
            format!("same hours of the last {} weeks", self.weeks_used)
        };
        match (self.scaled, self.median_scale) {
            (true, Some(s)) => format!(
                "{weeks}, scaled ×{} by the level before the deploy",
                fmt_scale(s)
            ),
            _ => format!(
                "{weeks}, unscaled: no level in the {} before the deploy",
                fmt_duration(self.level_ms)
            ),
        }
    }
}
