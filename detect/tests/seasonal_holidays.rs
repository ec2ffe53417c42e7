//! Holidays and past deploys in seasonal deploy verdicts (issue 13): known answers on the
//! synthetic production series of `seasonal.rs` with holiday days at 40 % of normal
//! traffic, robustness on arbitrary calendars, and the measured false alarms and recall
//! before (no calendar, week-to-week σ only) and after (the calendar, the past-deploy σ).
//!
//! The figures are printed by
//! `cargo test --release -p perfwatch-detect --test seasonal_holidays -- --nocapture corpus`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use chrono::NaiveDate;
use perfwatch_detect::corpus::production::{DeploySeries, DAY, FRIDAY_8PM, HOUR, MONDAY};
use perfwatch_detect::holidays::{Holiday, Holidays};
use perfwatch_detect::rng::Rng;
use perfwatch_detect::seasonal::{
    deploy_verdict, deploy_verdict_with, deviation, DeployVerdict, DeployVerdictKind,
    SeasonalConfig, VerdictContext, WEEK_MS,
};
use proptest::prelude::*;

/// Thursday 02:00: the window is on Thursday, the level window on Wednesday evening, so
/// a holiday Thursday moves one and not the other.
const THURSDAY_2AM: i64 = 3 * DAY + 2 * HOUR;
/// Traffic on a holiday, relative to a normal day at the same hour.
const HOLIDAY_LEVEL: f64 = 0.4;

fn date_of(t: i64) -> NaiveDate {
    Holidays::local_date(t, perfwatch_detect::calendar::Tz::UTC).expect("test times are in range")
}

/// The series of `seasonal.rs` (`corpus::production`: hourly, nightly dip to 30 %,
/// weekends at 60 %, growth 1 %/week, noise ±`noise`), with the days starting at
/// `holidays` (ms, UTC midnight) at [`HOLIDAY_LEVEL`]; `weeks_before` weeks before the
/// deploy week, the deploy at `offset` into it, `after` multiplying the points from the
/// deploy on.
fn series(
    weeks_before: i64,
    offset: i64,
    seed: u64,
    noise: f64,
    after: f64,
    holidays: &[i64],
) -> (Vec<(i64, f64)>, i64) {
    DeploySeries {
        weeks_before,
        deploy_offset: offset,
        seed,
        noise,
        after,
        holidays,
        holiday_level: HOLIDAY_LEVEL,
    }
    .points()
}

fn calendar(days: &[i64], name: &str) -> Holidays {
    Holidays::new(
        &days
            .iter()
            .map(|&d| Holiday {
                date: date_of(d),
                name: name.into(),
            })
            .collect::<Vec<_>>(),
    )
}

fn with(cal: &Holidays) -> VerdictContext<'_> {
    VerdictContext {
        holidays: Some(cal),
        past_deploys: &[],
    }
}

fn flagged(v: &DeployVerdict) -> bool {
    matches!(
        v.verdict,
        DeployVerdictKind::Higher | DeployVerdictKind::Lower
    )
}

/// Midnight of the day `t` falls on.
fn day_of(t: i64) -> i64 {
    t - t.rem_euclid(DAY)
}

#[test]
fn two_holiday_weeks_are_left_out_not_outvoted() {
    let cfg = SeasonalConfig::default();
    for seed in 0..5 {
        // The Thursdays one and two weeks before the deploy are holidays.
        let d0 = MONDAY + 5 * WEEK_MS + THURSDAY_2AM;
        let days = [day_of(d0 - WEEK_MS), day_of(d0 - 2 * WEEK_MS)];
        let (pts, d) = series(5, THURSDAY_2AM, seed, 0.03, 1.0, &days);
        assert_eq!(d, d0);
        // Blind, two low weeks of four pull the expectation down by a third and blow up
        // σ: the verdict is worthless (a +40 % "change" inside a ±1000 % interval).
        let blind = deploy_verdict(&pts, d, &cfg);
        assert!(blind.change_pct.unwrap() > 30.0, "{blind:?}");
        assert!(blind.high_pct.unwrap() > 1000.0, "{blind:?}");
        let cal = calendar(&days, "Bank holiday");
        let v = deploy_verdict_with(&pts, d, &cfg, &with(&cal));
        assert_eq!(v.verdict, DeployVerdictKind::Pass, "seed {seed}: {v:?}");
        assert_eq!(v.holiday_weeks_skipped, 2, "{v:?}");
        assert_eq!(
            v.weeks_used, 3,
            "weeks 3 and 4 and the one before are used: {v:?}"
        );
        assert!(v.change_pct.unwrap().abs() < 5.0, "{v:?}");
        assert!(v.high_pct.unwrap() < 15.0, "{v:?}");
        // And a real 25 % drop is seen again.
        let (pts, d) = series(5, THURSDAY_2AM, seed, 0.03, 0.75, &days);
        let v = deploy_verdict_with(&pts, d, &cfg, &with(&cal));
        assert_eq!(v.verdict, DeployVerdictKind::Lower, "seed {seed}: {v:?}");
    }
}

#[test]
fn a_deploy_on_a_holiday_without_a_past_one_is_inconclusive_naming_it() {
    let cfg = SeasonalConfig::default();
    for seed in 10..15 {
        let d0 = MONDAY + 5 * WEEK_MS + THURSDAY_2AM;
        let days = [day_of(d0)];
        let (pts, d) = series(5, THURSDAY_2AM, seed, 0.03, 1.0, &days);
        let blind = deploy_verdict(&pts, d, &cfg);
        assert_eq!(blind.verdict, DeployVerdictKind::Lower, "{blind:?}");
        let cal = calendar(&days, "Christmas");
        let v = deploy_verdict_with(&pts, d, &cfg, &with(&cal));
        assert_eq!(v.verdict, DeployVerdictKind::Inconclusive, "{v:?}");
        assert_eq!(v.holiday.as_deref(), Some("Christmas"));
        assert!(
            v.reason.contains("Christmas") && v.reason.contains("no past holiday"),
            "{}",
            v.reason
        );
    }
}

#[test]
fn a_deploy_on_a_holiday_is_judged_against_past_holidays() {
    let cfg = SeasonalConfig::default();
    for seed in 20..25 {
        // Thursday 02:00 of week 9 and, as last year, a Sunday of week 4: a holiday of
        // the same name on another weekday still gives how far a holiday falls.
        let d0 = MONDAY + 9 * WEEK_MS + THURSDAY_2AM;
        let days = [day_of(d0 - 5 * WEEK_MS + 3 * DAY), day_of(d0)];
        let cal = calendar(&days, "Founders' day");
        let blind = deploy_verdict(&series(9, THURSDAY_2AM, seed, 0.03, 1.0, &days).0, d0, &cfg);
        assert_eq!(blind.verdict, DeployVerdictKind::Lower, "{blind:?}");
        let (pts, d) = series(9, THURSDAY_2AM, seed, 0.03, 1.0, &days);
        let v = deploy_verdict_with(&pts, d, &cfg, &with(&cal));
        assert_eq!(v.verdict, DeployVerdictKind::Pass, "seed {seed}: {v:?}");
        assert!(v.reason.contains("1 past holiday"), "{}", v.reason);
        // A 30 % drop on the holiday is still seen.
        let (pts, d) = series(9, THURSDAY_2AM, seed, 0.03, 0.7, &days);
        let v = deploy_verdict_with(&pts, d, &cfg, &with(&cal));
        assert_eq!(v.verdict, DeployVerdictKind::Lower, "seed {seed}: {v:?}");
    }
}

#[test]
fn past_deploys_rank_the_change_and_widen_sigma() {
    let cfg = SeasonalConfig::default();
    let (pts, d) = series(5, FRIDAY_8PM, 30, 0.03, 0.75, &[]);
    // Twenty past deploys that moved by up to ±20 %: a −25 % change is larger than all.
    let past: Vec<f64> = (0..20).map(|i| (0.8f64 + 0.02 * i as f64).ln()).collect();
    let ctx = VerdictContext {
        holidays: None,
        past_deploys: &past,
    };
    let v = deploy_verdict_with(&pts, d, &cfg, &ctx);
    let r = v.past_deploys.clone().unwrap();
    assert_eq!((r.larger_than, r.of), (20, 20), "{v:?}");
    assert!(
        r.sets_sigma,
        "a ±20 % spread is wider than the weekly one: {v:?}"
    );
    assert!(
        v.reason.contains("larger than 20 of the last 20 deploys"),
        "{}",
        v.reason
    );
    assert!(
        v.reason.contains("variation at past deploys"),
        "{}",
        v.reason
    );
    let plain = deploy_verdict(&pts, d, &cfg);
    assert!(
        v.p_value.unwrap() > plain.p_value.unwrap(),
        "{v:?} {plain:?}"
    );
    // Under five past deploys: ranked, σ untouched.
    let few = VerdictContext {
        holidays: None,
        past_deploys: &past[..4],
    };
    let v = deploy_verdict_with(&pts, d, &cfg, &few);
    assert_eq!(v.p_value, plain.p_value);
    assert_eq!(v.past_deploys.unwrap().of, 4);
}

/// The holiday corpus: 200 seeds, a deploy at a random hour of the week after five
/// weeks of history; two random days of the four weeks before it are holidays, and in a
/// third of the seeds the deploy's own day is one. Each seed once without change and
/// once with a 15 % drop at the deploy. Before: no calendar; after: the calendar.
#[test]
fn corpus_holidays_before_and_after() {
    let cfg = SeasonalConfig::default();
    let runs = 200u64;
    let (mut fa, mut fa_cal, mut rec, mut rec_cal) = (0, 0, 0, 0);
    let (mut on_holiday, mut hol_lower, mut hol_lower_cal, mut hol_inconclusive) = (0, 0, 0, 0);
    let (mut rec_hol, mut rec_hol_cal) = (0, 0);
    for seed in 0..runs {
        let mut rng = Rng::new(50_000 + seed);
        let offset = rng.int(0, 7 * 24 - 1) as i64 * HOUR;
        let d0 = MONDAY + 5 * WEEK_MS + offset;
        let mut days: Vec<i64> = (0..2)
            .map(|_| day_of(d0) - rng.int(1, 28) as i64 * DAY)
            .collect();
        let holiday_deploy = seed % 3 == 0;
        if holiday_deploy {
            days.push(day_of(d0));
            on_holiday += 1;
        }
        let cal = calendar(&days, "Holiday");
        for (after, is_change) in [(1.0, false), (0.85, true)] {
            let (pts, d) = series(5, offset, 60_000 + seed, 0.03, after, &days);
            let blind = deploy_verdict(&pts, d, &cfg);
            let v = deploy_verdict_with(&pts, d, &cfg, &with(&cal));
            if is_change {
                rec += (blind.verdict == DeployVerdictKind::Lower) as usize;
                rec_cal += (v.verdict == DeployVerdictKind::Lower) as usize;
                if holiday_deploy {
                    rec_hol += (blind.verdict == DeployVerdictKind::Lower) as usize;
                    rec_hol_cal += (v.verdict == DeployVerdictKind::Lower) as usize;
                }
            } else {
                fa += flagged(&blind) as usize;
                fa_cal += flagged(&v) as usize;
                if holiday_deploy {
                    hol_lower += (blind.verdict == DeployVerdictKind::Lower) as usize;
                    hol_lower_cal += (v.verdict == DeployVerdictKind::Lower) as usize;
                    hol_inconclusive += (v.verdict == DeployVerdictKind::Inconclusive) as usize;
                }
            }
        }
    }
    eprintln!(
        "holiday corpus ({runs} seeds, {on_holiday} deploys on a holiday): false alarms \
         {fa}/{runs} without the calendar, {fa_cal}/{runs} with it; recall of a 15 % drop \
         {rec}/{runs} without, {rec_cal}/{runs} with (of them on a holiday: {rec_hol} and \
         {rec_hol_cal} of {on_holiday}); deploys on a holiday judged lower \
         without a change: {hol_lower}/{on_holiday} without, {hol_lower_cal}/{on_holiday} \
         with ({hol_inconclusive} inconclusive)"
    );
    assert_eq!(hol_lower_cal, 0, "never a false lower on a holiday");
    assert!(
        fa_cal < fa,
        "the calendar removes false alarms: {fa_cal} vs {fa}"
    );
    assert!(fa_cal as f64 <= 0.10 * runs as f64, "{fa_cal}");
}

/// The past-deploy σ on series without holidays: 200 seeds, ten weeks of history, twenty
/// past deploys at random hours of weeks 5–9 (no change at any of them), the deploy at a
/// random hour of week 10. Before: the week-to-week σ alone; after: σ = max(week-to-week,
/// past-deploy spread).
#[test]
fn corpus_past_deploys_before_and_after() {
    let cfg = SeasonalConfig::default();
    let runs = 200u64;
    for noise in [0.03, 0.10] {
        let (mut fa, mut fa_past, mut rej, mut rej_past, mut rec, mut rec_past) =
            (0, 0, 0, 0, 0, 0);
        for seed in 0..runs {
            let mut rng = Rng::new(70_000 + seed);
            let offset = rng.int(0, 7 * 24 - 1) as i64 * HOUR;
            let past_times: Vec<i64> = (0..20)
                .map(|_| MONDAY + 5 * WEEK_MS + rng.int(0, 5 * 7 * 24 - 12) as i64 * HOUR)
                .collect();
            for (after, is_change) in [(1.0, false), (0.85, true)] {
                let (pts, d) = series(10, offset, 80_000 + seed, noise, after, &[]);
                let past: Vec<f64> = past_times
                    .iter()
                    .filter_map(|&t| deviation(&deploy_verdict(&pts, t, &cfg)))
                    .collect();
                let ctx = VerdictContext {
                    holidays: None,
                    past_deploys: &past,
                };
                let plain = deploy_verdict(&pts, d, &cfg);
                let v = deploy_verdict_with(&pts, d, &cfg, &ctx);
                if is_change {
                    rec += (plain.verdict == DeployVerdictKind::Lower) as usize;
                    rec_past += (v.verdict == DeployVerdictKind::Lower) as usize;
                } else {
                    fa += flagged(&plain) as usize;
                    fa_past += flagged(&v) as usize;
                    rej += plain.p_value.is_some_and(|p| p < cfg.alpha) as usize;
                    rej_past += v.p_value.is_some_and(|p| p < cfg.alpha) as usize;
                }
            }
        }
        eprintln!(
        "past-deploy σ ({runs} seeds, noise ±{:.0} %, 20 past deploys each): false alarms {fa}/{runs} with \
         the week-to-week σ, {fa_past}/{runs} with max(week-to-week, past deploys) \
         (p < alpha alone: {rej} → {rej_past}); recall of a 15 % drop {rec}/{runs} → \
         {rec_past}/{runs}",
        noise * 100.0
    );
        assert!(fa_past <= fa, "{fa_past} vs {fa}");
        assert!(rej_past <= rej, "{rej_past} vs {rej}");
        assert!(rec_past * 2 >= runs as usize, "recall {rec_past}/{runs}");
    }
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0f64..1e6,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(0.0),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(perfwatch_core::proptest_cases(200)))]

    /// Arbitrary points, holidays anywhere (far past, future, every day) and arbitrary
    /// past deviations: a well-formed verdict, never a panic.
    #[test]
    fn never_panics_with_holidays_and_past_deploys(
        values in prop::collection::vec(value(), 0..(6 * 168)),
        deploy_hour in prop_oneof![0i64..(6 * 168), Just(-1_000_000_000i64)],
        hol in prop::collection::vec(-400i64..400, 0..40),
        past in prop::collection::vec(prop_oneof![-5.0f64..5.0, Just(f64::NAN), Just(f64::INFINITY)], 0..30),
        window_h in prop_oneof![-2i64..48, Just(i64::MAX / HOUR)],
    ) {
        let pts: Vec<(i64, f64)> =
            values.iter().enumerate().map(|(i, &v)| (MONDAY + i as i64 * HOUR, v)).collect();
        let cal = Holidays::new(&hol.iter().map(|&d| Holiday {
            date: date_of(MONDAY + d * DAY),
            name: format!("h{d} (x)"),
        }).collect::<Vec<_>>());
        let cfg = SeasonalConfig { window_ms: window_h.saturating_mul(HOUR), ..SeasonalConfig::default() };
        let ctx = VerdictContext { holidays: Some(&cal), past_deploys: &past };
        let v = deploy_verdict_with(&pts, MONDAY.saturating_add(deploy_hour.saturating_mul(HOUR)), &cfg, &ctx);
        for x in [v.observed, v.expected, v.change_pct, v.low_pct, v.high_pct].into_iter().flatten() {
            prop_assert!(x.is_finite(), "{:?}", v);
        }
        if let Some(p) = v.p_value {
            prop_assert!((0.0..=1.0).contains(&p), "{:?}", v);
        }
        if let Some(r) = &v.past_deploys {
            prop_assert!(r.larger_than <= r.of && r.of <= 20, "{:?}", v);
        }
        prop_assert!(!v.reason.is_empty());
        let a = perfwatch_detect::seasonal::with_adjusted_p(&v, 0.5, &cfg);
        prop_assert!(!a.reason.is_empty());
    }
}
