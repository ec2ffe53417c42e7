//! Backtest of a production series: what the current settings would have said over a
//! past period, before a rule starts notifying anyone. "Over the last 90 days this would
//! have flagged N of M deploys and raised X alerts away from any deploy" — the empirical
//! false-alarm rate of this series, not a nominal one.
//!
//! Two questions, two measurements:
//! - **Deploy verdicts** ([`crate::seasonal::deploy_verdict`]) at every deploy of the
//!   period, and at `probes` moments drawn (seeded) from the period at least one window
//!   away from every deploy: each probe flagged higher/lower is a false alarm, so
//!   `probes_flagged / probes_judged` is the verdict's false-alarm rate on this series.
//! - **Alerts** from production detection ([`crate::deseason::detect_production`]) over
//!   the period: each change point is either near a deploy (starting from 2 h before to
//!   12 h after one) or away from every deploy.

use serde::{Deserialize, Serialize};

use crate::deseason::detect_production_with;
use crate::holidays::Holidays;
use crate::rng::Rng;
use crate::seasonal::{deploy_verdict_with, DeployVerdictKind, SeasonalConfig, VerdictContext};
use crate::{DetectConfig, Detection};

/// A change point counts as near a deploy when it starts within this long after it…
pub const NEAR_DEPLOY_MS: i64 = 12 * 3_600_000;
/// …or this little before it (a change point can land a point early in the noise, and
/// a deploy marker is often written when the rollout finished).
pub const EARLY_MS: i64 = 2 * 3_600_000;

/// Whether a change starting at `t` goes with the deploy at `d`.
pub fn near_deploy(t: i64, d: i64) -> bool {
    t >= d.saturating_sub(EARLY_MS) && t.saturating_sub(d) <= NEAR_DEPLOY_MS
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeployOutcome {
    pub time: i64,
    pub verdict: DeployVerdictKind,
    pub change_pct: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Backtest {
    /// Period judged, ms.
    pub from: i64,
    pub to: i64,
    pub deploys: Vec<DeployOutcome>,
    /// Deploys judged higher or lower.
    pub deploys_flagged: usize,
    /// Probes at random non-deploy moments that had a verdict (not no data / inconclusive).
    pub probes_judged: usize,
    /// Of those, judged higher or lower: false alarms.
    pub probes_flagged: usize,
    /// `probes_flagged / probes_judged` (None when nothing was judged).
    pub false_alarm_rate: Option<f64>,
    /// Alerts production detection raises in the period, within 12 h after a deploy…
    pub alerts_near_deploys: usize,
    /// …and away from every deploy.
    pub alerts_elsewhere: usize,
    /// Times of the alerts away from deploys (first changed point).
    pub alerts_elsewhere_at: Vec<i64>,
}

fn flagged(k: DeployVerdictKind) -> bool {
    matches!(k, DeployVerdictKind::Higher | DeployVerdictKind::Lower)
}

/// What to backtest over and with which settings.
#[derive(Debug, Clone)]
pub struct BacktestSettings {
    /// Period judged, `[from, to)` ms.
    pub from: i64,
    pub to: i64,
    pub seasonal: SeasonalConfig,
    pub detect: DetectConfig,
    /// Random non-deploy moments judged (default [`DEFAULT_PROBES`]).
    pub probes: usize,
    pub seed: u64,
    /// The project's holidays: verdicts and detection know them, and no probe is drawn
    /// whose window or level window touches one (a holiday is not a random normal hour).
    pub holidays: Holidays,
}

/// Backtests `points` (time ms, value) with deploy times `deploys`. Never panics: empty
/// or non-finite input gives an empty report.
pub fn backtest(points: &[(i64, f64)], deploys: &[i64], set: &BacktestSettings) -> Backtest {
    let (from, to, cfg) = (set.from, set.to, &set.seasonal);
    let ctx = VerdictContext {
        holidays: Some(&set.holidays),
        past_deploys: &[],
    };
    let mut pts: Vec<(i64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
    pts.sort_by_key(|p| p.0);
    let in_period: Vec<i64> = deploys
        .iter()
        .copied()
        .filter(|d| *d >= from && *d < to)
        .collect();

    let outcomes: Vec<DeployOutcome> = in_period
        .iter()
        .map(|&d| {
            let v = deploy_verdict_with(&pts, d, cfg, &ctx);
            DeployOutcome {
                time: d,
                verdict: v.verdict,
                change_pct: v.change_pct,
            }
        })
        .collect();
    let deploys_flagged = outcomes.iter().filter(|o| flagged(o.verdict)).count();

    let (judged, hits) = judge_probes(&pts, deploys, set, &ctx);
    let alerts = alerts_by_place(&pts, deploys, set);
    Backtest {
        from,
        to,
        deploys: outcomes,
        deploys_flagged,
        probes_judged: judged,
        probes_flagged: hits,
        false_alarm_rate: (judged > 0).then(|| hits as f64 / judged as f64),
        alerts_near_deploys: alerts.near,
        alerts_elsewhere: alerts.elsewhere,
        alerts_elsewhere_at: alerts.elsewhere_at,
    }
}

/// Judges random non-deploy moments: how often a verdict flags a change where no deploy
/// happened. Returns (probes judged, probes flagged); NoData and Inconclusive verdicts
/// are not judged.
///
/// Probes are uniform in the period, at least one window away from every deploy, and a
/// whole window before `to` (so they are judged on complete data).
fn judge_probes(
    pts: &[(i64, f64)],
    deploys: &[i64],
    set: &BacktestSettings,
    ctx: &VerdictContext,
) -> (usize, usize) {
    let (from, to, cfg, probes) = (set.from, set.to, &set.seasonal, set.probes);
    let window = cfg.window_ms.max(1);
    let (mut judged, mut hits) = (0usize, 0usize);
    let last = to.saturating_sub(window);
    if last <= from || pts.is_empty() {
        return (judged, hits);
    }
    let mut rng = Rng::new(set.seed);
    let span = (last - from) as f64;
    let mut tries = 0;
    let mut drawn = 0;
    while drawn < probes && tries < probes * 20 {
        tries += 1;
        let t = from + (rng.uniform() * span) as i64;
        if deploys.iter().any(|d| (t - d).abs() < window) {
            continue;
        }
        let span_start = t.saturating_sub(cfg.level_ms.max(0));
        if set
            .holidays
            .touching(span_start, t.saturating_add(window), cfg.tz)
            .is_some()
        {
            continue;
        }
        drawn += 1;
        let v = deploy_verdict_with(pts, t, cfg, ctx);
        if matches!(
            v.verdict,
            DeployVerdictKind::NoData | DeployVerdictKind::Inconclusive
        ) {
            continue;
        }
        judged += 1;
        hits += flagged(v.verdict) as usize;
    }
    (judged, hits)
}

/// Detection's alerts in the period, split by whether a deploy explains them.
struct AlertPlaces {
    near: usize,
    elsewhere: usize,
    elsewhere_at: Vec<i64>,
}

/// Runs detection over everything up to `to` and counts the alerts from `from` on.
fn alerts_by_place(pts: &[(i64, f64)], deploys: &[i64], set: &BacktestSettings) -> AlertPlaces {
    let upto: Vec<(i64, f64)> = pts.iter().copied().filter(|p| p.0 < set.to).collect();
    let mut places = AlertPlaces {
        near: 0,
        elsewhere: 0,
        elsewhere_at: Vec::new(),
    };
    let Ok((_, Detection::Done { change_points, .. })) =
        detect_production_with(&upto, set.seasonal.tz, &set.holidays, &set.detect)
    else {
        return places;
    };
    for cp in change_points {
        let Some(&(t, _)) = upto.get(cp.index) else {
            continue;
        };
        if t < set.from {
            continue;
        }
        if deploys.iter().any(|d| near_deploy(t, *d)) {
            places.near += 1;
        } else {
            places.elsewhere += 1;
            places.elsewhere_at.push(t);
        }
    }
    places
}

/// Probes drawn by default.
pub const DEFAULT_PROBES: usize = 100;
