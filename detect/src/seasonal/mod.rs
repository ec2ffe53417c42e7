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

mod holiday;
mod points;
mod reason;
#[cfg(test)]
mod tests;
mod weeks;

use perfwatch_core::dist::normal_two_sided_p;
use serde::{Deserialize, Serialize};

use holiday::{touches_holiday, HolidayBasis};
use points::{robust_sigma, Sorted};
pub use reason::with_adjusted_p;
use reason::{clamp_pct, decide, fmt_change, fmt_duration, fmt_num};
use weeks::{past_weeks, week_expectation};

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

/// `points`: (time ms since the epoch, value), any order, may have gaps; `deploy_ms`: the marker's time.
/// No holidays, no past deploys: [`deploy_verdict_with`] with an empty context.
pub fn deploy_verdict(
    points: &[(i64, f64)],
    deploy_ms: i64,
    cfg: &SeasonalConfig,
) -> DeployVerdict {
    deploy_verdict_with(points, deploy_ms, cfg, &VerdictContext::default())
}

/// What the deploy's window is compared with: the expected value, the σ of the
/// log-ratio when the history allows one, and how the expectation was found (for the
/// reason sentence).
struct Expectation {
    expected: Option<f64>,
    sigma: Option<f64>,
    basis: String,
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
    let observed = s.median_in(d, d + cfg.window_ms as i128);
    let level_now = s.median_in(d - cfg.level_ms as i128, d);
    let deploy_holiday = touches_holiday(cal, d, cfg);
    let past = past_weeks(&s, deploy_ms, observed, level_now, cfg, cal);
    let weekly = week_expectation(&past.weeks, level_now, cfg);
    let holiday = deploy_holiday
        .as_ref()
        .map(|(date, name)| HolidayBasis::find(&s, cal, deploy_ms, *date, name, cfg));
    let expectation = match &holiday {
        None => weekly,
        Some(h) => h.expectation(weekly.sigma),
    };

    let mut v = DeployVerdict {
        verdict: DeployVerdictKind::Inconclusive,
        observed,
        expected: expectation.expected,
        change_pct: None,
        low_pct: None,
        high_pct: None,
        p_value: None,
        weeks_used: past.weeks.len(),
        reason: String::new(),
        holiday_weeks_skipped: past.holiday_skipped,
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
    if let (Some((date, name)), Some(why)) = (
        &deploy_holiday,
        holiday.as_ref().and_then(HolidayBasis::missing),
    ) {
        v.expected = None;
        v.reason = format!(
            "the deploy's hours fall on the holiday {name} ({date}) and {why}; a holiday \
             is not judged against normal weeks"
        );
        return v;
    }
    let Some(exp) = expectation.expected else {
        v.reason = "no past week has data at the same hours of the week and in its level window; \
                    no seasonal expectation"
            .to_string();
        return v;
    };
    if exp <= 0.0 {
        v.reason = format!(
            "the expected value is {} ({}); a relative change is undefined",
            fmt_num(exp),
            expectation.basis,
        );
        return v;
    }
    judge(v, obs, exp, &expectation, ctx, cfg)
}

/// The change against a positive expectation, its interval and p, and the verdict.
fn judge(
    mut v: DeployVerdict,
    obs: f64,
    exp: f64,
    expectation: &Expectation,
    ctx: &VerdictContext,
    cfg: &SeasonalConfig,
) -> DeployVerdict {
    let basis = &expectation.basis;
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
    let past_sigma = rank_against_past_deploys(&mut v, ctx.past_deploys, lr);

    if v.weeks_used < 2 {
        v.reason = format!(
            "{} the expected {} ({basis}); at least 2 past weeks are needed for a verdict",
            fmt_change(change),
            fmt_num(exp),
        );
        return v;
    }
    let Some(mut sigma) = expectation.sigma else {
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
    decide(&mut v, p, cfg, basis, variation);
    v
}

/// Ranks the log-ratio `lr` among the changes at the newest past deploys (into
/// `v.past_deploys`); returns their robust σ when there are enough of them.
fn rank_against_past_deploys(v: &mut DeployVerdict, past_deploys: &[f64], lr: f64) -> Option<f64> {
    let past: Vec<f64> = past_deploys
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
    past_sigma
}
