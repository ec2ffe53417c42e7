//! Seasonal deploy verdicts: did a production series move when a deploy landed, given
//! that it has daily and weekly cycles and grows?
//!
//! Pure: points in, one [`DeployVerdict`] out. No clock, no timezone database, no IO.
//!
//! # Method
//!
//! Let `d` be the deploy time, `W` one week (7 × 24 h in ms, timezone-free).
//!
//! - **Observed**: the median of the finite points in `[d, d + window)`.
//! - **Past weeks** `k = 1..=weeks`: the same window shifted back, `[d − kW, d − kW + window)`,
//!   with median `m_k`, and its level window `[d − kW − level, d − kW)` with median `L_k`.
//!   The current level `L_0` is the median of `[d − level, d)`. A week is *used* when both
//!   its window and its level window have data.
//! - **Expected**: `e_k = m_k × L_0 / L_k` (growth and any level shift since week `k` are
//!   absorbed; when `L_0` or `L_k` is missing or ≤ 0 the week is used unscaled), and
//!   `expected = median(e_k)`.
//! - **Week-to-week variation**: for every used week `k` with at least two other used
//!   weeks, the leave-one-out log-ratio `r_k = ln(m_k / median_{j≠k}(m_j × L_k / L_j))`:
//!   how far a normal week lands from the seasonal expectation the other weeks give it.
//!   `σ = b_n × 1.4826 × MAD(r)`, where `b_n` is the small-sample correction of the MAD
//!   (Croux & Rousseeuw 1992: 1.495 for 3 values, 1.363 for 4, 1.206 for 5, …,
//!   `n/(n − 0.8)` above 9), floored at [`SIGMA_FLOOR`] (0.5 %) so that a perfectly
//!   regular synthetic series still gives a finite z.
//! - **Test**: `z = ln(observed / expected) / σ`, two-sided p from the standard normal;
//!   the 95 % interval of the change is `exp(ln ratio ± 1.96 σ) − 1`, in %.
//! - **Verdict**: [`DeployVerdictKind::NoData`] when the post-deploy window is empty;
//!   [`DeployVerdictKind::Inconclusive`] when fewer than two weeks are used (no past week
//!   at all included), when fewer than three leave-one-out ratios exist (then the change
//!   is still reported, without a p-value), or when the expected value is ≤ 0 (a relative
//!   change is undefined); [`DeployVerdictKind::Higher`] / [`DeployVerdictKind::Lower`]
//!   when `p < alpha` and `|change| ≥ min_effect_pct`; else [`DeployVerdictKind::Pass`].
//!
//! With the default 4 weeks a verdict needs at least 3 weeks with data (the leave-one-out
//! set needs two other weeks per week).
//!
//! Weeks are local calendar weeks in the configured timezone ([`SeasonalConfig::tz`],
//! [`crate::calendar::weeks_before`]): a deploy on Monday 09:00 Amsterdam time is compared
//! with Mondays 09:00 local, 168 h apart in winter and 169 h across the autumn change.
//! In UTC (the default) a week is exactly 168 h. Holidays are not modelled.
//!
//! Non-finite values are skipped; the function never panics (empty input, NaN, ±1e308,
//! negative or huge times, a deploy outside the data).

use perfwatch_core::dist::normal_two_sided_p;
use serde::{Deserialize, Serialize};

/// One week, ms (timezone-free: 7 × 24 h).
pub const WEEK_MS: i64 = 7 * 24 * 3_600_000;

/// Smallest σ of the weekly log-ratios (0.5 %).
pub const SIGMA_FLOOR: f64 = 0.005;

/// Most past weeks looked at, whatever the configuration says (5 years).
pub const MAX_WEEKS: usize = 260;

/// Settings of a deploy verdict.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeasonalConfig {
    /// Length of the post-deploy window judged, ms (default 6 h).
    pub window_ms: i64,
    /// Past weeks used for the expectation (default 4; at least 2 are needed, else Inconclusive).
    pub weeks: usize,
    /// Length of the pre-deploy window giving the current level, ms (default 6 h).
    pub level_ms: i64,
    /// Significance before any many-metrics correction (default 0.05).
    pub alpha: f64,
    /// Smallest change that counts, % (default 5.0).
    pub min_effect_pct: f64,
    /// Timezone of the series' users: "the same hours of the week" are local hours
    /// (default UTC).
    pub tz: crate::calendar::Tz,
}

impl Default for SeasonalConfig {
    fn default() -> Self {
        Self {
            window_ms: 6 * 3_600_000,
            weeks: 4,
            level_ms: 6 * 3_600_000,
            alpha: 0.05,
            min_effect_pct: 5.0,
            tz: crate::calendar::Tz::UTC,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DeployVerdictKind {
    Pass,
    Higher,
    Lower,
    NoData,
    Inconclusive,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployVerdict {
    pub verdict: DeployVerdictKind,
    /// Median of the points in the post-deploy window.
    pub observed: Option<f64>,
    /// What the same hours of the week in past weeks predict, scaled by the level just before the deploy.
    pub expected: Option<f64>,
    /// observed vs expected, %, with a 95 % interval from the series' own week-to-week variation.
    pub change_pct: Option<f64>,
    pub low_pct: Option<f64>,
    pub high_pct: Option<f64>,
    /// Two-sided p-value of the change against the week-to-week variation (None when not computed).
    pub p_value: Option<f64>,
    /// Past weeks that had data in both their window and their level window.
    pub weeks_used: usize,
    /// One sentence: why this verdict.
    pub reason: String,
    /// Past weeks left out because their window or level window touches a holiday (each
    /// is replaced by the week before it).
    #[serde(default)]
    pub holiday_weeks_skipped: usize,
    /// The holiday the deploy's window or level window falls on; then the expectation
    /// comes from past holidays at the same local hours, not from normal weeks.
    #[serde(default)]
    pub holiday: Option<String>,
    /// How this change compares with the metric's changes at the service's past deploys.
    #[serde(default)]
    pub past_deploys: Option<PastDeployRank>,
}

/// The change at this deploy against the changes at the series' past deploys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PastDeployRank {
    /// Past deploys whose |change| was smaller than this one's.
    pub larger_than: usize,
    /// Past deploys compared (at most [`MAX_PAST_DEPLOYS`]).
    pub of: usize,
    /// Robust spread (σ of the log-ratio, as a ±95 % half-width in %) of the past
    /// deploys' changes; None under [`MIN_PAST_DEPLOYS`].
    pub spread_pct: Option<f64>,
    /// Whether that spread, wider than the week-to-week variation, set the interval and p.
    pub sets_sigma: bool,
}

/// Past deploys compared with (the newest ones).
pub const MAX_PAST_DEPLOYS: usize = 20;
/// Past deploys needed before their spread is used as a second σ.
pub const MIN_PAST_DEPLOYS: usize = 5;
/// Smallest σ of a verdict on a holiday (10 %: a change must clearly exceed how much
/// holidays differ from one another; measured on the holiday corpus, docs/detection.md).
pub const HOLIDAY_SIGMA_FLOOR: f64 = 0.10;
/// Past holidays compared with a deploy on a holiday (the newest ones).
pub const MAX_PAST_HOLIDAYS: usize = 10;

/// What a verdict knows beyond the points: the project's holidays and the metric's
/// deviations at the service's past deploys.
#[derive(Debug, Clone, Copy, Default)]
pub struct VerdictContext<'a> {
    pub holidays: Option<&'a crate::holidays::Holidays>,
    /// `ln(observed / expected)` at past deploys of this series ([`deviation`]), newest
    /// first; the first [`MAX_PAST_DEPLOYS`] are used.
    pub past_deploys: &'a [f64],
}

/// The log-ratio `ln(observed / expected)` of a verdict, when both are > 0: what the
/// next deploy's verdict compares itself with.
pub fn deviation(v: &DeployVerdict) -> Option<f64> {
    match (v.observed, v.expected) {
        (Some(o), Some(e)) if o > 0.0 && e > 0.0 => Some(o.ln() - e.ln()).filter(|x| x.is_finite()),
        _ => None,
    }
}

/// Finite points sorted by time.
struct Sorted {
    t: Vec<i64>,
    v: Vec<f64>,
}

impl Sorted {
    fn new(points: &[(i64, f64)]) -> Self {
        let mut p: Vec<(i64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
        p.sort_by_key(|p| p.0);
        Self {
            t: p.iter().map(|p| p.0).collect(),
            v: p.iter().map(|p| p.1).collect(),
        }
    }

    /// Median of the values with time in `[start, end)` (bounds in i128: no overflow).
    fn median_in(&self, start: i128, end: i128) -> Option<f64> {
        if end <= start {
            return None;
        }
        let lo = self.t.partition_point(|&t| (t as i128) < start);
        let hi = self.t.partition_point(|&t| (t as i128) < end);
        if hi <= lo {
            return None;
        }
        median(self.v[lo..hi].to_vec())
    }
}

impl Sorted {
    /// Half the median spacing of the points (at least 1 ms): how far a point may be
    /// from a time to stand for it.
    fn half_spacing(&self) -> i64 {
        let mut gaps: Vec<i64> = self
            .t
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]))
            .filter(|g| *g > 0)
            .collect();
        if gaps.is_empty() {
            return 1;
        }
        gaps.sort_unstable();
        (gaps[gaps.len() / 2] / 2).max(1)
    }

    /// The value at `t` (the nearest point within `tol`).
    fn at(&self, t: i64, tol: i64) -> Option<f64> {
        let i = self.t.partition_point(|&x| x < t);
        let mut best: Option<(i64, f64)> = None;
        for j in [i.checked_sub(1), Some(i)].into_iter().flatten() {
            if let (Some(&x), Some(&v)) = (self.t.get(j), self.v.get(j)) {
                let dist = x.abs_diff(t).min(i64::MAX as u64) as i64;
                if dist <= tol && best.is_none_or(|b| dist < b.0) {
                    best = Some((dist, v));
                }
            }
        }
        best.map(|b| b.1)
    }

    /// Median over the points in `[start, end)` of value now ÷ value at the same local
    /// time `k` weeks earlier, over the pairs where both exist and are > 0.
    fn matched_ratio(
        &self,
        start: i128,
        end: i128,
        k: i64,
        tz: crate::calendar::Tz,
        tol: i64,
    ) -> Option<f64> {
        if end <= start {
            return None;
        }
        let lo = self.t.partition_point(|&t| (t as i128) < start);
        let hi = self.t.partition_point(|&t| (t as i128) < end);
        let mut r = Vec::new();
        for i in lo..hi {
            let (t, v) = (self.t[i], self.v[i]);
            let Some(then) = crate::calendar::weeks_before(t, k, tz).and_then(|b| self.at(b, tol))
            else {
                continue;
            };
            if v > 0.0 && then > 0.0 {
                let x = v / then;
                if x.is_finite() && x > 0.0 {
                    r.push(x);
                }
            }
        }
        median(r)
    }
}

/// Median of finite values (mean of the middle two for an even count); None when empty.
fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        // Halve first: no overflow near f64::MAX.
        v[n / 2 - 1] / 2.0 + v[n / 2] / 2.0
    };
    Some(m)
}

/// Sample standard deviation of finite values (at least two).
fn sample_sd(v: &[f64]) -> Option<f64> {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    Some(var.sqrt()).filter(|s| s.is_finite())
}

/// Small-sample correction factor of the MAD (Croux & Rousseeuw 1992).
fn mad_correction(n: usize) -> f64 {
    match n {
        0 | 1 => 1.0,
        2 => 1.196,
        3 => 1.495,
        4 => 1.363,
        5 => 1.206,
        6 => 1.200,
        7 => 1.140,
        8 => 1.129,
        9 => 1.107,
        _ => n as f64 / (n as f64 - 0.8),
    }
}

/// Robust σ of `r` (at least three values), floored at [`SIGMA_FLOOR`].
fn robust_sigma(r: &[f64]) -> Option<f64> {
    if r.len() < 3 {
        return None;
    }
    let med = median(r.to_vec())?;
    let mad = median(r.iter().map(|x| (x - med).abs()).collect())?;
    let s = mad_correction(r.len()) * 1.4826 * mad;
    if s.is_finite() {
        Some(s.max(SIGMA_FLOOR))
    } else {
        None
    }
}

/// `a / b` when both are finite and > 0 and the ratio is finite.
fn level_scale(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
            Some(a / b).filter(|s| s.is_finite() && *s > 0.0)
        }
        _ => None,
    }
}

#[derive(Clone)]
struct Week {
    /// Median of the week's window.
    m: f64,
    /// Median of the week's level window.
    level: f64,
}

/// `points`: (time ms since the epoch, value), any order, may have gaps; `deploy_ms`: the marker's time.
/// No holidays, no past deploys: [`deploy_verdict_with`] with an empty context.
pub fn deploy_verdict(
    points: &[(i64, f64)],
    deploy_ms: i64,
    cfg: &SeasonalConfig,
) -> DeployVerdict {
    deploy_verdict_with(points, deploy_ms, cfg, &VerdictContext::default())
}

/// The first holiday that `[start, end)` touches (bounds clamped to i64).
fn holiday_in(
    cal: &crate::holidays::Holidays,
    start: i128,
    end: i128,
    tz: crate::calendar::Tz,
) -> Option<(chrono::NaiveDate, String)> {
    let clamp = |x: i128| x.clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    cal.touching(clamp(start), clamp(end), tz)
        .map(|(d, n)| (d, n.to_string()))
}

/// What normal weeks predict for the window starting at `t` when its level window must
/// end `lead` ms before `t` (at the start of a holiday): the median over past weeks that
/// touch no holiday of their window's median, scaled by level now ÷ level then. None
/// under 2 such weeks.
fn normal_expectation(
    s: &Sorted,
    t: i64,
    lead: i64,
    cfg: &SeasonalConfig,
    cal: &crate::holidays::Holidays,
) -> Option<f64> {
    let (window, level) = (cfg.window_ms as i128, cfg.level_ms as i128);
    let lead = lead as i128;
    let t128 = t as i128;
    let level_now = s.median_in(t128 - lead - level, t128 - lead);
    let earliest = *s.t.first()? as i128;
    let (mut es, mut skipped, mut k) = (Vec::new(), 0usize, 0usize);
    while k < (cfg.weeks.min(MAX_WEEKS) + skipped).min(MAX_WEEKS) {
        k += 1;
        let Some(sh) = crate::calendar::weeks_before(t, k as i64, cfg.tz) else {
            break;
        };
        let sh = sh as i128;
        if sh + window.max(0) <= earliest {
            break;
        }
        if holiday_in(cal, sh - lead - level.max(0), sh + window.max(0), cfg.tz).is_some() {
            skipped += 1;
            continue;
        }
        let (Some(m), Some(l)) = (
            s.median_in(sh, sh + window),
            s.median_in(sh - lead - level, sh - lead),
        ) else {
            continue;
        };
        let e = level_scale(level_now, Some(l))
            .map(|sc| m * sc)
            .filter(|e| e.is_finite())
            .unwrap_or(m);
        es.push(e);
    }
    if es.len() < 2 {
        return None;
    }
    median(es)
}

/// How far a holiday moves the series: for the deploy at `deploy_ms` on (or next to)
/// holiday `date` named `name`, each past holiday's window at the same local hours
/// divided by what normal weeks predicted for it ([`normal_expectation`], its level
/// taken before the holiday). Holidays of the same name when any has such a factor,
/// else any; the newest [`MAX_PAST_HOLIDAYS`]; each must end before the deploy's span.
/// Comparing factors, not raw values, makes a Thursday holiday comparable with a
/// Sunday one.
fn past_holiday_factors(
    s: &Sorted,
    cal: &crate::holidays::Holidays,
    deploy_ms: i64,
    date: chrono::NaiveDate,
    name: &str,
    span_start: i128,
    cfg: &SeasonalConfig,
) -> Vec<(f64, String)> {
    let window = cfg.window_ms as i128;
    let mut found = Vec::new();
    for (past, past_name) in cal.before(date) {
        let Some(t) = crate::holidays::Holidays::same_local_time(deploy_ms, date, past, cfg.tz)
        else {
            continue;
        };
        if t as i128 + window.max(0) > span_start {
            continue; // overlaps the deploy's own span (the same run of holidays)
        }
        let lead = cal
            .run_start(past, cfg.tz)
            .map(|hs| t.saturating_sub(hs).max(0))
            .unwrap_or(0);
        let Some(m) = s.median_in(t as i128, t as i128 + window) else {
            continue;
        };
        let Some(normal) = normal_expectation(s, t, lead, cfg, cal) else {
            continue;
        };
        let f = m / normal;
        if m > 0.0 && normal > 0.0 && f.is_finite() {
            // Parentheses would end the basis that `with_adjusted_p` reads back.
            let label = format!("{} {past}", past_name.replace(['(', ')'], ""));
            found.push((f, label, past_name == name));
        }
        if found.len() >= 4 * MAX_PAST_HOLIDAYS {
            break;
        }
    }
    let same = found.iter().any(|f| f.2);
    found
        .into_iter()
        .filter(|f| !same || f.2)
        .take(MAX_PAST_HOLIDAYS)
        .map(|(f, l, _)| (f, l))
        .collect()
}

/// [`deploy_verdict`] knowing the project's holidays and the metric's past deploys
/// ([`VerdictContext`]).
pub fn deploy_verdict_with(
    points: &[(i64, f64)],
    deploy_ms: i64,
    cfg: &SeasonalConfig,
    ctx: &VerdictContext,
) -> DeployVerdict {
    let no_holidays = crate::holidays::Holidays::default();
    let cal = ctx.holidays.unwrap_or(&no_holidays);
    let s = Sorted::new(points);
    let d = deploy_ms as i128;
    let window = cfg.window_ms as i128;
    let level = cfg.level_ms as i128;
    let observed = s.median_in(d, d + window);
    let level_now = s.median_in(d - level, d);
    let earliest = s.t.first().map(|&t| t as i128);
    let tol = s.half_spacing();
    // Does a holiday touch `[start − level, start + window)`?
    let touches =
        |start: i128| holiday_in(cal, start - level.max(0), start + window.max(0), cfg.tz);
    let deploy_holiday = touches(d);

    let mut weeks: Vec<Week> = Vec::new();
    let mut skipped = 0usize;
    let mut k = 0usize;
    // A week left out for a holiday is replaced by the week before it.
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
        if touches(shifted).is_some() {
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
        let m = s
            .matched_ratio(d, d + window, k as i64, cfg.tz, tol)
            .zip(observed)
            .map(|(r, o)| o / r)
            .filter(|x| x.is_finite())
            .unwrap_or(m);
        let l = s
            .matched_ratio(d - level, d, k as i64, cfg.tz, tol)
            .zip(level_now)
            .map(|(r, o)| o / r)
            .filter(|x| x.is_finite())
            .unwrap_or(l);
        weeks.push(Week { m, level: l });
    }

    // Expected value from each used week, scaled by the level when possible.
    let scaled = level_now.is_some_and(|l| l > 0.0);
    let scale_of = |w: &Week| -> Option<f64> {
        if scaled {
            level_scale(level_now, Some(w.level))
        } else {
            None
        }
    };
    let expect_from = |ws: &[Week]| -> (Option<f64>, Option<f64>) {
        let mut expected_k = Vec::new();
        let mut scales = Vec::new();
        for w in ws {
            let sc = scale_of(w);
            let e = w.m * sc.unwrap_or(1.0);
            expected_k.push(if e.is_finite() { e } else { w.m });
            scales.push(sc.unwrap_or(1.0));
        }
        (median(expected_k), median(scales))
    };
    let used: Vec<&Week> = weeks.iter().collect();
    let weeks_used = used.len();
    let (week_expected, week_scale) = expect_from(&weeks);

    // Leave-one-out log-ratios.
    let mut loo = Vec::new();
    if weeks_used >= 3 {
        for (k, wk) in used.iter().enumerate() {
            let others: Vec<f64> = used
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
    }
    let mut sigma = robust_sigma(&loo);

    // A deploy on a holiday: what normal weeks predict (its level taken before the
    // holiday), times how far past holidays fell below their own normal weeks.
    let holiday_factors = deploy_holiday.as_ref().map(|(date, name)| {
        let lead = cal
            .run_start(*date, cfg.tz)
            .map(|hs| deploy_ms.saturating_sub(hs).max(0))
            .unwrap_or(0);
        let span_start = d - lead as i128 - level.max(0);
        let normal = normal_expectation(&s, deploy_ms, lead, cfg, cal);
        let factors = past_holiday_factors(&s, cal, deploy_ms, *date, name, span_start, cfg);
        (normal, factors)
    });
    let (expected, basis) = match &holiday_factors {
        None => (
            week_expected,
            Basis {
                weeks_used,
                scaled,
                median_scale: week_scale,
                level_ms: cfg.level_ms,
            }
            .describe(),
        ),
        Some((normal, fs)) => {
            let f = median(fs.iter().map(|x| x.0).collect());
            // The factor rests on n holidays, each as noisy as a week: its own error
            // adds to the deploy's (σ × √(1 + 1/n)). Holidays also differ from one
            // another (and a window half on a holiday is matched less well), more than
            // weeks do: σ is at least the factors' own spread and HOLIDAY_SIGMA_FLOOR.
            if !fs.is_empty() {
                let logs: Vec<f64> = fs.iter().map(|x| x.0.ln()).collect();
                let spread = sample_sd(&logs).unwrap_or(0.0);
                sigma = sigma.map(|x| {
                    (x * (1.0 + 1.0 / fs.len() as f64).sqrt())
                        .max(spread)
                        .max(HOLIDAY_SIGMA_FLOOR)
                });
            }
            let names: Vec<&str> = fs.iter().map(|h| h.1.as_str()).collect();
            (
                normal.zip(f).map(|(n, f)| n * f).filter(|e| e.is_finite()),
                format!(
                    "normal weeks scaled by the level before the holiday, ×{} as on {} past \
                     holiday{}: {}",
                    f.map(fmt_scale).unwrap_or_default(),
                    fs.len(),
                    if fs.len() == 1 { "" } else { "s" },
                    names.join(", ")
                ),
            )
        }
    };

    let mut v = DeployVerdict {
        verdict: DeployVerdictKind::Inconclusive,
        observed,
        expected,
        change_pct: None,
        low_pct: None,
        high_pct: None,
        p_value: None,
        weeks_used,
        reason: String::new(),
        holiday_weeks_skipped: skipped,
        holiday: deploy_holiday.as_ref().map(|h| h.1.clone()),
        past_deploys: None,
    };

    let Some(obs) = observed else {
        v.verdict = DeployVerdictKind::NoData;
        v.reason = format!(
            "no data in the {} after the deploy",
            fmt_duration(cfg.window_ms)
        );
        return v;
    };
    if let (Some((date, name)), Some((normal, fs))) = (&deploy_holiday, &holiday_factors) {
        if fs.is_empty() || normal.is_none() {
            v.expected = None;
            let why = if fs.is_empty() {
                "the history holds no past holiday with data at the same hours and normal \
                 weeks before it"
            } else {
                "fewer than 2 normal past weeks precede it"
            };
            v.reason = format!(
                "the deploy's hours fall on the holiday {name} ({date}) and {why}; a holiday \
                 is not judged against normal weeks"
            );
            return v;
        }
    }
    let Some(exp) = expected else {
        v.reason = "no past week has data at the same hours of the week and in its level window; \
                    no seasonal expectation"
            .to_string();
        return v;
    };
    if exp <= 0.0 {
        v.reason = format!(
            "the expected value is {} ({basis}); a relative change is undefined",
            fmt_num(exp),
        );
        return v;
    }

    // ln(observed / expected); −∞ when observed ≤ 0.
    let lr = if obs > 0.0 {
        obs.ln() - exp.ln()
    } else {
        f64::NEG_INFINITY
    };
    let change = if lr.is_finite() {
        clamp_pct(lr.exp_m1() * 100.0)
    } else {
        clamp_pct((obs / exp - 1.0) * 100.0)
    };
    v.change_pct = Some(change);

    // This change against the changes at past deploys.
    let past: Vec<f64> = ctx
        .past_deploys
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .take(MAX_PAST_DEPLOYS)
        .collect();
    let past_sigma = if past.len() >= MIN_PAST_DEPLOYS {
        robust_sigma(&past)
    } else {
        None
    };
    if !past.is_empty() {
        v.past_deploys = Some(PastDeployRank {
            larger_than: past.iter().filter(|x| x.abs() < lr.abs()).count(),
            of: past.len(),
            spread_pct: past_sigma.map(|s| (1.96 * s).exp_m1() * 100.0),
            sets_sigma: false,
        });
    }

    if weeks_used < 2 {
        v.reason = format!(
            "{} the expected {} ({basis}); at least 2 past weeks are needed for a verdict",
            fmt_change(change),
            fmt_num(exp),
        );
        return v;
    }
    let Some(mut sigma) = sigma else {
        v.reason = format!(
            "{} the expected {} ({basis}); the week-to-week variation needs at least 3 past \
             weeks with data",
            fmt_change(change),
            fmt_num(exp),
        );
        return v;
    };
    // Two estimates of the normal variation: the week-to-week one (from few weeks, often
    // too small) and the spread at past deploys; the wider one is used.
    if let (Some(ps), Some(r)) = (past_sigma, v.past_deploys.as_mut()) {
        if ps > sigma {
            sigma = ps;
            r.sets_sigma = true;
        }
    }

    let (low, high) = if lr.is_finite() {
        (
            clamp_pct((lr - 1.96 * sigma).exp_m1() * 100.0),
            clamp_pct((lr + 1.96 * sigma).exp_m1() * 100.0),
        )
    } else {
        (change, change)
    };
    v.low_pct = Some(low);
    v.high_pct = Some(high);
    let p = normal_two_sided_p(lr / sigma);
    v.p_value = Some(p);
    let variation = (1.96 * sigma).exp_m1() * 100.0;
    decide(&mut v, p, cfg, &basis, variation);
    v
}

/// Verdict again after a many-metrics correction: `p_adjusted` replaces the p-value when
/// deciding Higher/Lower (Pass if it is no longer significant). Pure helper the backend
/// calls after Benjamini–Hochberg across one deploy's metrics.
///
/// NoData and Inconclusive verdicts are returned unchanged. Otherwise the returned
/// `p_value` is `p_adjusted` (a NaN counts as 1) and the reason is rewritten.
pub fn with_adjusted_p(v: &DeployVerdict, p_adjusted: f64, cfg: &SeasonalConfig) -> DeployVerdict {
    let mut out = v.clone();
    match v.verdict {
        DeployVerdictKind::NoData | DeployVerdictKind::Inconclusive => return out,
        DeployVerdictKind::Pass | DeployVerdictKind::Higher | DeployVerdictKind::Lower => {}
    }
    if v.change_pct.is_none() || v.expected.is_none() {
        return out;
    }
    let p = if p_adjusted.is_nan() {
        1.0
    } else {
        p_adjusted.clamp(0.0, 1.0)
    };
    out.p_value = Some(p);
    // The basis and variation are recovered from the original reason when possible.
    let basis = between(&v.reason, "(", ")").unwrap_or_else(|| "seasonal expectation".into());
    let variation = match (v.change_pct, v.low_pct, v.high_pct) {
        (Some(c), Some(l), Some(h)) => {
            // Half-width of the interval in log space.
            let (lc, ll, lh) = (ln1p_pct(c), ln1p_pct(l), ln1p_pct(h));
            let hw = ((lh - lc).max(lc - ll)).max(0.0);
            if hw.is_finite() {
                hw.exp_m1() * 100.0
            } else {
                f64::NAN
            }
        }
        _ => f64::NAN,
    };
    decide(&mut out, p, cfg, &basis, variation);
    out.reason = format!("{} (p adjusted across the deploy's metrics)", out.reason);
    out
}

fn ln1p_pct(pct: f64) -> f64 {
    (pct / 100.0).ln_1p()
}

fn between(s: &str, open: &str, close: &str) -> Option<String> {
    let a = s.find(open)? + open.len();
    let b = a + s[a..].find(close)?;
    Some(s[a..b].to_string())
}

/// Sets the verdict and reason from `p`, the change and the effect gate.
fn decide(v: &mut DeployVerdict, p: f64, cfg: &SeasonalConfig, basis: &str, variation: f64) {
    let (Some(change), Some(exp)) = (v.change_pct, v.expected) else {
        return;
    };
    let significant = p < cfg.alpha;
    let big = change.abs() >= cfg.min_effect_pct;
    let from_past = v.past_deploys.as_ref().is_some_and(|r| r.sets_sigma);
    let var = if !variation.is_finite() {
        String::new()
    } else if from_past {
        format!(
            "; the variation at past deploys is ±{} % (wider than week to week)",
            fmt_pct(variation)
        )
    } else {
        format!("; the weekly variation is ±{} %", fmt_pct(variation))
    };
    let rank = match &v.past_deploys {
        Some(r) => format!(
            "; larger than {} of the last {} deploy{}",
            r.larger_than,
            r.of,
            if r.of == 1 { "" } else { "s" }
        ),
        None => String::new(),
    };
    let head = format!(
        "{} the expected {} ({}){}{}",
        fmt_change(change),
        fmt_num(exp),
        basis,
        var,
        rank
    );
    if significant && big {
        v.verdict = if change > 0.0 {
            DeployVerdictKind::Higher
        } else {
            DeployVerdictKind::Lower
        };
        v.reason = format!("{head}; {}", fmt_p(p));
    } else if !significant {
        v.verdict = DeployVerdictKind::Pass;
        v.reason = format!("{head}; within the week-to-week variation ({})", fmt_p(p));
    } else {
        v.verdict = DeployVerdictKind::Pass;
        v.reason = format!(
            "{head}; significant ({}) but under the {} % minimum effect",
            fmt_p(p),
            fmt_num(cfg.min_effect_pct)
        );
    }
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

fn clamp_pct(x: f64) -> f64 {
    if x.is_nan() {
        0.0
    } else {
        x.clamp(-f64::MAX, f64::MAX)
    }
}

fn fmt_change(pct: f64) -> String {
    let a = pct.abs();
    if a < 0.05 {
        "equal to".to_string()
    } else if pct > 0.0 {
        format!("{} % above", fmt_pct(a))
    } else {
        format!("{} % below", fmt_pct(a))
    }
}

/// A percentage for a sentence: whole numbers from 10 %, one decimal below.
fn fmt_pct(a: f64) -> String {
    if a >= 1e6 {
        fmt_num(a)
    } else if a >= 10.0 {
        format!("{a:.0}")
    } else {
        format!("{a:.1}")
    }
}

/// A number for a sentence: about three significant digits.
fn fmt_num(x: f64) -> String {
    if !x.is_finite() {
        return format!("{x}");
    }
    let a = x.abs();
    if a >= 1e6 || (a < 1e-3 && a > 0.0) {
        format!("{x:.3e}")
    } else if a >= 100.0 {
        format!("{x:.0}")
    } else if a >= 10.0 {
        format!("{x:.1}")
    } else if a >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn fmt_scale(s: f64) -> String {
    if (0.01..100.0).contains(&s) {
        format!("{s:.2}")
    } else {
        fmt_num(s)
    }
}

/// "p = 0.012" or "p < 0.001".
fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        "p < 0.001".to_string()
    } else {
        format!("p = {p:.3}")
    }
}

fn fmt_duration(ms: i64) -> String {
    if ms > 0 && ms % 3_600_000 == 0 {
        format!("{} h", ms / 3_600_000)
    } else if ms > 0 && ms % 60_000 == 0 {
        format!("{} min", ms / 60_000)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    const HOUR: i64 = 3_600_000;
    const DAY: i64 = 24 * HOUR;
    /// Monday 2026-11-02 00:00 UTC.
    const MONDAY: i64 = 20_395 * DAY;

    /// Hourly points over `weeks_before` weeks before the Friday 20:00 of the last week,
    /// and 2 days after; `after` multiplies the points from the deploy on.
    fn series(weeks_before: i64, seed: u64, after: f64) -> (Vec<(i64, f64)>, i64) {
        let start = MONDAY;
        let deploy = start + weeks_before * WEEK_MS + 4 * DAY + 20 * HOUR;
        let mut rng = Rng::new(seed);
        let mut pts = Vec::new();
        let mut t = start;
        while t < deploy + 2 * DAY {
            let hour = ((t % DAY) / HOUR) as f64;
            let dow = ((t / DAY) + 3) % 7; // 0 = Monday
            let daily =
                0.3 + 0.7 * (1.0 - (2.0 * std::f64::consts::PI * (hour - 4.0) / 24.0).cos()) / 2.0;
            let weekend = if dow >= 5 { 0.6 } else { 1.0 };
            let growth = 1.01f64.powf((t - start) as f64 / WEEK_MS as f64);
            let noise = 1.0 + rng.range(-0.03, 0.03);
            let mut v = 400.0 * daily * weekend * growth * noise;
            if t >= deploy {
                v *= after;
            }
            pts.push((t, v));
            t += HOUR;
        }
        (pts, deploy)
    }

    #[test]
    fn monday_constant_is_a_monday() {
        assert_eq!(((MONDAY / DAY) + 3) % 7, 0);
    }

    #[test]
    fn friday_evening_without_change_passes() {
        let (pts, d) = series(5, 1, 1.0);
        let v = deploy_verdict(&pts, d, &SeasonalConfig::default());
        assert_eq!(v.verdict, DeployVerdictKind::Pass, "{v:?}");
        assert_eq!(v.weeks_used, 4);
        assert!(v.change_pct.unwrap().abs() < 5.0, "{v:?}");
        // The window dips well under the level before the deploy, and that is expected.
        assert!(v.observed.unwrap() < 0.8 * v.expected.unwrap().max(1.0) + 100.0);
    }

    #[test]
    fn a_quarter_drop_is_lower() {
        let (pts, d) = series(5, 2, 0.75);
        let v = deploy_verdict(&pts, d, &SeasonalConfig::default());
        assert_eq!(v.verdict, DeployVerdictKind::Lower, "{v:?}");
        let c = v.change_pct.unwrap();
        assert!((c + 25.0).abs() <= 5.0, "{v:?}");
        assert!(v.low_pct.unwrap() <= c && c <= v.high_pct.unwrap(), "{v:?}");
        assert!(v.reason.contains("below"), "{}", v.reason);
    }

    #[test]
    fn a_doubling_is_higher() {
        let (pts, d) = series(5, 3, 2.0);
        let v = deploy_verdict(&pts, d, &SeasonalConfig::default());
        assert_eq!(v.verdict, DeployVerdictKind::Higher, "{v:?}");
        assert!((v.change_pct.unwrap() - 100.0).abs() < 15.0, "{v:?}");
    }

    #[test]
    fn one_week_of_history_is_inconclusive() {
        let (pts, d) = series(1, 4, 1.0);
        let v = deploy_verdict(&pts, d, &SeasonalConfig::default());
        assert_eq!(v.verdict, DeployVerdictKind::Inconclusive, "{v:?}");
        assert_eq!(v.weeks_used, 1);
        assert!(v.change_pct.is_some() && v.p_value.is_none());
    }

    #[test]
    fn two_weeks_give_a_change_without_p() {
        let (pts, d) = series(2, 5, 0.75);
        let v = deploy_verdict(&pts, d, &SeasonalConfig::default());
        assert_eq!(v.verdict, DeployVerdictKind::Inconclusive, "{v:?}");
        assert_eq!(v.weeks_used, 2);
        assert!(v.change_pct.is_some() && v.p_value.is_none());
    }

    #[test]
    fn nothing_after_the_deploy_is_no_data() {
        let (pts, d) = series(5, 6, 1.0);
        let before: Vec<_> = pts.into_iter().filter(|p| p.0 < d).collect();
        let v = deploy_verdict(&before, d, &SeasonalConfig::default());
        assert_eq!(v.verdict, DeployVerdictKind::NoData, "{v:?}");
        assert!(v.observed.is_none() && v.expected.is_some());
    }

    #[test]
    fn empty_and_degenerate_inputs() {
        let cfg = SeasonalConfig::default();
        assert_eq!(
            deploy_verdict(&[], 0, &cfg).verdict,
            DeployVerdictKind::NoData
        );
        let v = deploy_verdict(&[(5, f64::NAN), (6, 1.0)], 0, &cfg);
        assert_eq!(v.verdict, DeployVerdictKind::Inconclusive);
        for d in [i64::MIN, i64::MAX, 0, -1] {
            let pts = [
                (i64::MIN, 1.0),
                (i64::MAX, f64::MAX),
                (0, -f64::MAX),
                (1, f64::INFINITY),
            ];
            let _ = deploy_verdict(&pts, d, &cfg);
        }
    }

    #[test]
    fn adjusted_p_turns_lower_into_pass() {
        let cfg = SeasonalConfig::default();
        let v = DeployVerdict {
            verdict: DeployVerdictKind::Lower,
            observed: Some(300.0),
            expected: Some(412.0),
            change_pct: Some(-27.2),
            low_pct: Some(-35.0),
            high_pct: Some(-18.0),
            p_value: Some(0.01),
            weeks_used: 4,
            reason: "27.2 % below the expected 412 (same hours of the last 4 weeks, scaled ×1.03 by the level before the deploy); p = 0.010".into(),
            holiday_weeks_skipped: 0,
            holiday: None,
            past_deploys: None,
        };
        let a = with_adjusted_p(&v, 0.2, &cfg);
        assert_eq!(a.verdict, DeployVerdictKind::Pass, "{a:?}");
        assert_eq!(a.p_value, Some(0.2));
        assert!(a.reason.contains("scaled ×1.03"), "{}", a.reason);
        let b = with_adjusted_p(&v, 0.02, &cfg);
        assert_eq!(b.verdict, DeployVerdictKind::Lower);
    }

    #[test]
    fn adjusted_p_keeps_the_basis_of_a_pass() {
        let (pts, d) = series(5, 8, 1.0);
        let cfg = SeasonalConfig::default();
        let v = deploy_verdict(&pts, d, &cfg);
        assert_eq!(v.verdict, DeployVerdictKind::Pass, "{v:?}");
        let a = with_adjusted_p(&v, 0.9, &cfg);
        assert_eq!(a.verdict, DeployVerdictKind::Pass);
        assert!(
            a.reason
                .contains("(same hours of the last 4 weeks, scaled ×"),
            "{}",
            a.reason
        );
        assert!(
            !a.reason.contains("p = 0.") || a.reason.contains("p = 0.900"),
            "{}",
            a.reason
        );
    }

    #[test]
    fn print_reasons() {
        let cfg = SeasonalConfig::default();
        for (seed, after) in [(1, 1.0), (2, 0.72), (3, 2.0)] {
            let (pts, d) = series(5, seed, after);
            eprintln!("{}", deploy_verdict(&pts, d, &cfg).reason);
        }
        let (pts, d) = series(1, 4, 1.0);
        eprintln!("{}", deploy_verdict(&pts, d, &cfg).reason);
        let (pts, d) = series(5, 4, 1.0);
        let no_level: Vec<_> = pts
            .into_iter()
            .filter(|p| p.0 < d - 6 * HOUR || p.0 >= d)
            .collect();
        eprintln!("{}", deploy_verdict(&no_level, d, &cfg).reason);
    }

    #[test]
    fn serde_names() {
        let s = serde_json::to_string(&DeployVerdictKind::NoData).unwrap();
        assert_eq!(s, "\"no_data\"");
    }
}
