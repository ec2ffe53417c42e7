//! Change-point detection on production series with daily and weekly cycles: the
//! measured quality on a seeded corpus of our own, before (E-Divisive on the raw
//! values, what perfwatch did) and after (the cycle removed first, `detect_production`).
//!
//! The figures in docs/detection.md come from
//! `cargo test -p perfwatch-detect --test seasonal_detect -- --nocapture`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::{Datelike, TimeZone, Timelike};
use perfwatch_detect::calendar::{parse_tz, Tz};
use perfwatch_detect::corpus::production::load;
use perfwatch_detect::deseason::detect_production;
use perfwatch_detect::rng::Rng;
use perfwatch_detect::{detect, DetectConfig, Detection};

const HOUR: i64 = 3_600_000;
const DAY: i64 = 24 * HOUR;
const WEEKS: i64 = 6;
/// Monday 2026-10-05 00:00 UTC: the corpus spans the end of summer time in Europe.
const START: i64 = 20_366 * DAY;

struct Case {
    points: Vec<(i64, f64)>,
    /// Time of the lasting shift, if any, and its sign.
    shift: Option<(i64, f64)>,
}

/// Hourly series in local time `tz`: a smooth daily cycle with its trough (30 % of the
/// peak) at 04:00, weekends at 60 %, 1 %/week growth, multiplicative noise uniform in
/// ±`noise`, 3 % of the points missing, one 6-hour gap, two single-point spikes ×3; half
/// the cases shift by ±15 % at a random hour of weeks 4–5, lasting to the end.
fn case(seed: u64, noise: f64, tz: Tz) -> Case {
    let mut rng = Rng::new(seed);
    let shift = if seed.is_multiple_of(2) {
        let at = START + 3 * 7 * DAY + rng.int(0, 14 * 24) as i64 * HOUR;
        let sign = if rng.uniform() < 0.5 { -1.0 } else { 1.0 };
        Some((at, sign))
    } else {
        None
    };
    let gap_at = START + rng.int(0, (WEEKS * 7 * 24) as usize) as i64 * HOUR;
    let spikes = [
        START + rng.int(0, (WEEKS * 7 * 24) as usize) as i64 * HOUR,
        START + rng.int(0, (WEEKS * 7 * 24) as usize) as i64 * HOUR,
    ];
    let mut points = Vec::new();
    for h in 0..WEEKS * 7 * 24 {
        let t = START + h * HOUR;
        let skip = rng.uniform() < 0.03 || (gap_at..gap_at + 6 * HOUR).contains(&t);
        let l = chrono::Utc
            .timestamp_millis_opt(t)
            .unwrap()
            .with_timezone(&tz);
        let jitter = 1.0 + rng.range(-noise, noise);
        let dow = l.weekday().num_days_from_monday();
        let mut v = load(1500.0, l.hour() as f64, dow, h as f64 / 168.0, jitter);
        if let Some((at, sign)) = shift {
            if t >= at {
                v *= 1.0 + sign * 0.15;
            }
        }
        if spikes.contains(&t) {
            v *= 3.0;
        }
        if !skip {
            points.push((t, v));
        }
    }
    Case { points, shift }
}

#[derive(Default, Debug)]
struct Score {
    shifts: usize,
    found: usize,
    false_alarms: usize,
    series_weeks: f64,
}

impl Score {
    fn add(&mut self, c: &Case, found_at: &[(i64, f64)]) {
        self.series_weeks += WEEKS as f64;
        let mut matched = false;
        for &(t, change) in found_at {
            let hit = c.shift.is_some_and(|(at, sign)| {
                !matched && (t - at).abs() <= 12 * HOUR && change.signum() == sign
            });
            if hit {
                matched = true;
            } else {
                self.false_alarms += 1;
            }
        }
        if c.shift.is_some() {
            self.shifts += 1;
            self.found += matched as usize;
        }
    }

    fn recall(&self) -> f64 {
        self.found as f64 / self.shifts.max(1) as f64
    }

    fn per_series_week(&self) -> f64 {
        self.false_alarms as f64 / self.series_weeks
    }
}

fn changes(c: &Case, d: Detection) -> Vec<(i64, f64)> {
    match d {
        Detection::TooShort { .. } => vec![],
        Detection::Done {
            change_points,
            drifts,
        } => change_points
            .iter()
            .map(|cp| (c.points[cp.index].0, cp.relative_change))
            .chain(
                drifts
                    .iter()
                    .map(|d| (c.points[d.start].0, d.relative_change)),
            )
            .collect(),
    }
}

fn measure(noise: f64, tz: Tz, cases: u64) -> (Score, Score) {
    let cfg = DetectConfig::default();
    let (mut before, mut after) = (Score::default(), Score::default());
    for seed in 0..cases {
        let c = case(seed, noise, tz);
        let raw: Vec<f64> = c.points.iter().map(|p| p.1).collect();
        before.add(&c, &changes(&c, detect(&raw, &cfg).expect("finite values")));
        let (cycle, d) = detect_production(&c.points, tz, &cfg).expect("finite values");
        assert!(
            cycle.is_some(),
            "six weeks of hourly points carry a weekly cycle"
        );
        after.add(&c, &changes(&c, d));
    }
    (before, after)
}

fn report(label: &str, before: &Score, after: &Score) {
    println!(
        "{label}: raw E-Divisive recall {}/{} ({:.2}), false alarms {} ({:.2}/series-week) | \
         cycle removed recall {}/{} ({:.2}), false alarms {} ({:.3}/series-week)",
        before.found,
        before.shifts,
        before.recall(),
        before.false_alarms,
        before.per_series_week(),
        after.found,
        after.shifts,
        after.recall(),
        after.false_alarms,
        after.per_series_week()
    );
}

#[test]
fn removing_the_cycle_finds_lasting_shifts_without_alarming_on_it() {
    let (before, after) = measure(0.03, Tz::UTC, 60);
    report("UTC, ±3 % noise, 60 series × 6 weeks", &before, &after);
    assert!(after.recall() >= 0.9, "{after:?}");
    assert!(after.per_series_week() <= 0.05, "{after:?}");
    // What it replaces alarms on the cycle itself.
    assert!(before.per_series_week() > 10.0 * after.per_series_week().max(0.01));
}

#[test]
fn noisier_series_and_a_daylight_saving_change() {
    let tz = parse_tz("Europe/Amsterdam").unwrap();
    let (before, after) = measure(0.10, tz, 60);
    report(
        "Europe/Amsterdam (summer time ends in week 4), ±10 % noise, 60 series × 6 weeks",
        &before,
        &after,
    );
    assert!(after.recall() >= 0.85, "{after:?}");
    assert!(after.per_series_week() <= 0.1, "{after:?}");
}

#[test]
fn backtest_counts_flagged_deploys_and_alarms_elsewhere() {
    use perfwatch_detect::backtest::{backtest, BacktestSettings, DEFAULT_PROBES};
    use perfwatch_detect::seasonal::SeasonalConfig;
    // Seed 0 shifts; seed 1 does not. Deploys every 3 days at 10:00, plus one at the shift.
    for seed in [0u64, 1] {
        let c = case(seed, 0.03, Tz::UTC);
        let mut deploys: Vec<i64> = (1..14).map(|d| START + d * 3 * DAY + 10 * HOUR).collect();
        if let Some((at, _)) = c.shift {
            deploys.retain(|d| (d - at).abs() > 2 * DAY);
            deploys.push(at);
        }
        let set = BacktestSettings {
            from: START,
            to: START + WEEKS * 7 * DAY,
            seasonal: SeasonalConfig::default(),
            detect: DetectConfig::default(),
            probes: DEFAULT_PROBES,
            seed: 7,
            holidays: Default::default(),
        };
        let b = backtest(&c.points, &deploys, &set);
        println!(
            "seed {seed}: {} of {} deploys flagged, {}/{} probes flagged, alerts {} near deploys, {} elsewhere",
            b.deploys_flagged,
            b.deploys.len(),
            b.probes_flagged,
            b.probes_judged,
            b.alerts_near_deploys,
            b.alerts_elsewhere
        );
        assert_eq!(b.deploys.len(), deploys.len());
        assert_eq!(b.deploys_flagged, c.shift.is_some() as usize, "{b:?}");
        assert_eq!(b.alerts_near_deploys, c.shift.is_some() as usize, "{b:?}");
        assert_eq!(b.alerts_elsewhere, 0, "{b:?}");
        assert!(b.probes_judged >= 50, "{b:?}");
        assert!(b.false_alarm_rate.unwrap() <= 0.1, "{b:?}");
    }
    // Nothing in, nothing out.
    let empty = backtest(
        &[],
        &[],
        &BacktestSettings {
            from: 0,
            to: 1,
            seasonal: SeasonalConfig::default(),
            detect: DetectConfig::default(),
            probes: 10,
            seed: 1,
            holidays: Default::default(),
        },
    );
    assert_eq!(empty.false_alarm_rate, None);
}
