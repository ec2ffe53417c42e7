//! Deploys on holidays: judged against how far past holidays fell below their own
//! normal weeks, never against normal weeks directly.

use super::points::{level_scale, median, sample_sd, Sorted};
use super::reason::fmt_scale;
use super::{Expectation, SeasonalConfig, HOLIDAY_SIGMA_FLOOR, MAX_PAST_HOLIDAYS, MAX_WEEKS};
use crate::holidays::Holidays;

/// Whether a holiday touches the hours a window starting at `start` is judged by:
/// `[start − level, start + window)`.
pub(super) fn touches_holiday(
    cal: &Holidays,
    start: i128,
    cfg: &SeasonalConfig,
) -> Option<(chrono::NaiveDate, String)> {
    let (window, level) = (cfg.window_ms as i128, cfg.level_ms as i128);
    holiday_in(cal, start - level.max(0), start + window.max(0), cfg.tz)
}

/// A deploy on a holiday: what normal weeks predict (its level taken before the
/// holiday), and how far past holidays fell below their own normal weeks.
pub(super) struct HolidayBasis {
    normal: Option<f64>,
    /// Past holidays' factors with their labels (name and date).
    factors: Vec<(f64, String)>,
}

impl HolidayBasis {
    pub(super) fn find(
        s: &Sorted,
        cal: &Holidays,
        deploy_ms: i64,
        date: chrono::NaiveDate,
        name: &str,
        cfg: &SeasonalConfig,
    ) -> Self {
        let lead = cal
            .run_start(date, cfg.tz)
            .map(|hs| deploy_ms.saturating_sub(hs).max(0))
            .unwrap_or(0);
        let span_start = deploy_ms as i128 - lead as i128 - (cfg.level_ms as i128).max(0);
        Self {
            normal: normal_expectation(s, deploy_ms, lead, cfg, cal),
            factors: past_holiday_factors(s, cal, deploy_ms, date, name, span_start, cfg),
        }
    }

    /// Why a holiday deploy cannot be judged, when it cannot.
    pub(super) fn missing(&self) -> Option<&'static str> {
        if self.factors.is_empty() {
            Some(
                "the history holds no past holiday with data at the same hours and normal \
                 weeks before it",
            )
        } else if self.normal.is_none() {
            Some("fewer than 2 normal past weeks precede it")
        } else {
            None
        }
    }

    /// Normal weeks × the past holidays' median factor; `week_sigma` (the normal weeks'
    /// variation) widened for the factor's own error and holidays' spread.
    pub(super) fn expectation(&self, week_sigma: Option<f64>) -> Expectation {
        let fs = &self.factors;
        let f = median(fs.iter().map(|x| x.0).collect());
        let mut sigma = week_sigma;
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
        Expectation {
            expected: self
                .normal
                .zip(f)
                .map(|(n, f)| n * f)
                .filter(|e| e.is_finite()),
            sigma,
            basis: format!(
                "normal weeks scaled by the level before the holiday, ×{} as on {} past \
                 holiday{}: {}",
                f.map(fmt_scale).unwrap_or_default(),
                fs.len(),
                if fs.len() == 1 { "" } else { "s" },
                names.join(", ")
            ),
        }
    }
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
