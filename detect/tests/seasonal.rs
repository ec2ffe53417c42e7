//! Seasonal deploy verdicts: known answers on a synthetic production series, robustness on
//! arbitrary input, and the measured false-alarm rate.
//!
//! The false-alarm rate is printed by
//! `cargo test -p perfwatch-detect --test seasonal -- --nocapture false_alarm`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_detect::corpus::production::{DeploySeries, DAY, FRIDAY_8PM, HOUR, MONDAY};
use perfwatch_detect::rng::Rng;
use perfwatch_detect::seasonal::{
    deploy_verdict, with_adjusted_p, DeployVerdict, DeployVerdictKind, SeasonalConfig, WEEK_MS,
};
use proptest::prelude::*;

/// The shared synthetic series (`corpus::production`: hourly, a daily cycle whose night
/// dip (04:00) reaches 30 % of the afternoon peak, weekends at 60 %, growth of 1 %/week,
/// multiplicative noise uniform in ±`noise`). `weeks_before` full weeks precede the
/// week of the deploy; the deploy is at `deploy_offset` ms after the Monday of that
/// week; points run 2 days past the deploy and are multiplied by `after` from the
/// deploy on.
fn series(
    weeks_before: i64,
    deploy_offset: i64,
    seed: u64,
    noise: f64,
    after: f64,
) -> (Vec<(i64, f64)>, i64) {
    DeploySeries {
        weeks_before,
        deploy_offset,
        seed,
        noise,
        after,
        ..DeploySeries::default()
    }
    .points()
}

fn verdict(weeks_before: i64, seed: u64, after: f64) -> DeployVerdict {
    let (pts, d) = series(weeks_before, FRIDAY_8PM, seed, 0.03, after);
    deploy_verdict(&pts, d, &SeasonalConfig::default())
}

#[test]
fn friday_evening_deploy_without_change_passes() {
    for seed in 0..5 {
        let v = verdict(5, seed, 1.0);
        assert_eq!(v.verdict, DeployVerdictKind::Pass, "seed {seed}: {v:?}");
        assert_eq!(v.weeks_used, 4);
        let (lo, c, hi) = (
            v.low_pct.unwrap(),
            v.change_pct.unwrap(),
            v.high_pct.unwrap(),
        );
        assert!(lo <= 0.0 && 0.0 <= hi, "{v:?}");
        assert!(c.abs() < 5.0, "{v:?}");
    }
}

#[test]
fn the_dip_and_weekend_are_in_the_expectation() {
    let (pts, d) = series(5, FRIDAY_8PM, 7, 0.03, 1.0);
    let level: Vec<f64> = pts
        .iter()
        .filter(|p| p.0 >= d - 6 * HOUR && p.0 < d)
        .map(|p| p.1)
        .collect();
    let level = level.iter().sum::<f64>() / level.len() as f64;
    let v = deploy_verdict(&pts, d, &SeasonalConfig::default());
    // The window is far below the level just before the deploy...
    assert!(v.observed.unwrap() < 0.75 * level, "{v:?} level {level}");
    // ...and still a pass.
    assert_eq!(v.verdict, DeployVerdictKind::Pass, "{v:?}");
}

#[test]
fn a_quarter_drop_is_lower_with_its_interval() {
    for seed in 10..15 {
        let v = verdict(5, seed, 0.75);
        assert_eq!(v.verdict, DeployVerdictKind::Lower, "seed {seed}: {v:?}");
        let c = v.change_pct.unwrap();
        assert!((c + 25.0).abs() <= 5.0, "{v:?}");
        assert!(v.low_pct.unwrap() <= c && c <= v.high_pct.unwrap(), "{v:?}");
        assert!(v.p_value.unwrap() < 0.05);
        assert!(v.reason.contains("below the expected"), "{}", v.reason);
    }
}

#[test]
fn a_doubling_is_higher() {
    for seed in 20..25 {
        let v = verdict(5, seed, 2.0);
        assert_eq!(v.verdict, DeployVerdictKind::Higher, "seed {seed}: {v:?}");
        assert!((v.change_pct.unwrap() - 100.0).abs() < 15.0, "{v:?}");
    }
}

#[test]
fn one_week_of_history_is_inconclusive() {
    let v = verdict(1, 30, 0.75);
    assert_eq!(v.verdict, DeployVerdictKind::Inconclusive, "{v:?}");
    assert_eq!(v.weeks_used, 1);
    assert!(v.change_pct.is_some() && v.p_value.is_none(), "{v:?}");
}

#[test]
fn no_points_after_the_deploy_is_no_data() {
    let (pts, d) = series(5, FRIDAY_8PM, 31, 0.03, 1.0);
    let before: Vec<_> = pts.into_iter().filter(|p| p.0 < d).collect();
    let v = deploy_verdict(&before, d, &SeasonalConfig::default());
    assert_eq!(v.verdict, DeployVerdictKind::NoData, "{v:?}");
    assert_eq!(v.observed, None);
    assert!(v.expected.is_some());
}

#[test]
fn gaps_and_non_finite_values_are_skipped() {
    let (mut pts, d) = series(5, FRIDAY_8PM, 32, 0.03, 0.75);
    // Knock out every third point, poison some with NaN and infinity, shuffle the order.
    pts.retain(|p| (p.0 / HOUR) % 3 != 0);
    for (i, p) in pts.iter_mut().enumerate() {
        if i % 11 == 0 {
            p.1 = if i % 2 == 0 { f64::NAN } else { f64::INFINITY };
        }
    }
    pts.reverse();
    let v = deploy_verdict(&pts, d, &SeasonalConfig::default());
    assert_eq!(v.verdict, DeployVerdictKind::Lower, "{v:?}");
}

#[test]
fn adjusted_p_turns_a_lower_into_a_pass() {
    let cfg = SeasonalConfig::default();
    let v = DeployVerdict {
        verdict: DeployVerdictKind::Lower,
        observed: Some(300.0),
        expected: Some(412.0),
        change_pct: Some(-27.2),
        low_pct: Some(-33.0),
        high_pct: Some(-20.0),
        p_value: Some(0.01),
        weeks_used: 4,
        reason: "27.2 % below the expected 412 (same hours of the last 4 weeks, scaled ×1.03 \
                 by the level before the deploy); the weekly variation is ±9 %; p = 0.010"
            .into(),
        holiday_weeks_skipped: 0,
        holiday: None,
        past_deploys: None,
    };
    let a = with_adjusted_p(&v, 0.2, &cfg);
    assert_eq!(a.verdict, DeployVerdictKind::Pass, "{a:?}");
    assert_eq!(a.p_value, Some(0.2));
    assert_eq!(a.change_pct, v.change_pct);
    // A real verdict, too.
    let real = verdict(5, 40, 0.75);
    assert_eq!(
        with_adjusted_p(&real, 0.2, &cfg).verdict,
        DeployVerdictKind::Pass
    );
    assert_eq!(
        with_adjusted_p(&real, 0.001, &cfg).verdict,
        DeployVerdictKind::Lower
    );
    // NoData and Inconclusive stay as they are.
    let inc = verdict(1, 41, 0.75);
    assert_eq!(with_adjusted_p(&inc, 0.0, &cfg), inc);
}

/// False alarms on series without a change: 200 seeds, each a random hour of the deploy
/// week, noise ±3 % (the asserted case) and ±10 % (reported). Prints the measured rates.
#[test]
fn false_alarm_rate_without_change() {
    let cfg = SeasonalConfig::default();
    let runs = 200u64;
    for noise in [0.03, 0.10] {
        let mut alarms = 0;
        let mut rejections = 0; // p < alpha, before the effect gate
        for seed in 0..runs {
            let mut rng = Rng::new(1_000 + seed);
            let offset = rng.int(0, 7 * 24 - 1) as i64 * HOUR;
            let (pts, d) = series(5, offset, 2_000 + seed, noise, 1.0);
            let v = deploy_verdict(&pts, d, &cfg);
            assert!(
                matches!(
                    v.verdict,
                    DeployVerdictKind::Pass | DeployVerdictKind::Higher | DeployVerdictKind::Lower
                ),
                "{v:?}"
            );
            if matches!(
                v.verdict,
                DeployVerdictKind::Higher | DeployVerdictKind::Lower
            ) {
                alarms += 1;
            }
            if v.p_value.is_some_and(|p| p < cfg.alpha) {
                rejections += 1;
            }
        }
        let rate = alarms as f64 / runs as f64;
        eprintln!(
            "seasonal false alarms, noise ±{:.0} %: {alarms}/{runs} = {:.1} % \
             (p < alpha alone: {rejections}/{runs})",
            noise * 100.0,
            rate * 100.0
        );
        assert!(rate <= 0.10, "noise {noise}: false-alarm rate {rate}");
    }
}

/// Recall of a 15 % drop at random hours (printed; asserted loosely).
#[test]
fn recall_of_a_fifteen_percent_drop() {
    let cfg = SeasonalConfig::default();
    let runs = 200u64;
    let mut found = 0;
    for seed in 0..runs {
        let mut rng = Rng::new(5_000 + seed);
        let offset = rng.int(0, 7 * 24 - 1) as i64 * HOUR;
        let (pts, d) = series(5, offset, 6_000 + seed, 0.03, 0.85);
        if deploy_verdict(&pts, d, &cfg).verdict == DeployVerdictKind::Lower {
            found += 1;
        }
    }
    eprintln!("seasonal recall of a 15 % drop: {found}/{runs}");
    assert!(found * 2 >= runs, "recall {found}/{runs}");
}

fn kind_ok(v: &DeployVerdict) -> bool {
    matches!(
        v.verdict,
        DeployVerdictKind::Pass
            | DeployVerdictKind::Higher
            | DeployVerdictKind::Lower
            | DeployVerdictKind::NoData
            | DeployVerdictKind::Inconclusive
    )
}

fn value() -> impl Strategy<Value = f64> {
    prop_oneof![
        -1e3f64..1e3,
        0.0f64..1e6,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(f64::MAX),
        Just(-f64::MAX),
        Just(0.0),
        Just(f64::MIN_POSITIVE),
        Just(1e-310),
    ]
}

fn time() -> impl Strategy<Value = i64> {
    prop_oneof![
        any::<i64>(),
        -10 * WEEK_MS..10 * WEEK_MS,
        Just(i64::MIN),
        Just(i64::MAX),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(perfwatch_core::proptest_cases(300)))]

    #[test]
    fn never_panics_on_arbitrary_points(
        pts in prop::collection::vec((time(), value()), 0..60),
        deploy in time(),
        weeks in prop_oneof![0usize..8, Just(usize::MAX)],
        window_ms in prop_oneof![-HOUR..(30 * DAY), Just(i64::MAX), Just(i64::MIN)],
        level_ms in prop_oneof![-HOUR..(30 * DAY), Just(i64::MAX), Just(i64::MIN)],
        p_adj in prop_oneof![0.0f64..1.0, Just(f64::NAN), Just(-1.0), Just(2.0)],
    ) {
        let cfg = SeasonalConfig { window_ms, weeks, level_ms, ..SeasonalConfig::default() };
        let v = deploy_verdict(&pts, deploy, &cfg);
        prop_assert!(kind_ok(&v));
        prop_assert!(v.weeks_used <= weeks.min(260));
        for x in [v.observed, v.expected, v.change_pct, v.low_pct, v.high_pct].into_iter().flatten() {
            prop_assert!(x.is_finite(), "{:?}", v);
        }
        if let Some(p) = v.p_value {
            prop_assert!((0.0..=1.0).contains(&p), "{:?}", v);
        }
        prop_assert!(!v.reason.is_empty());
        let a = with_adjusted_p(&v, p_adj, &cfg);
        prop_assert!(kind_ok(&a));
        let json = serde_json::to_string(&a).unwrap();
        let back: DeployVerdict = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.verdict, a.verdict);
    }

    /// Points laid out every hour around the deploy, arbitrary values: still well formed.
    #[test]
    fn never_panics_on_dense_arbitrary_series(
        values in prop::collection::vec(value(), 0..(6 * 168)),
        deploy_hour in 0i64..(6 * 168),
    ) {
        let pts: Vec<(i64, f64)> =
            values.iter().enumerate().map(|(i, &v)| (MONDAY + i as i64 * HOUR, v)).collect();
        let v = deploy_verdict(&pts, MONDAY + deploy_hour * HOUR, &SeasonalConfig::default());
        prop_assert!(kind_ok(&v));
        if matches!(v.verdict, DeployVerdictKind::Higher | DeployVerdictKind::Lower) {
            prop_assert!(v.p_value.unwrap() < 0.05);
            prop_assert!(v.change_pct.unwrap().abs() >= 5.0);
        }
    }

    /// Scaling every value by a positive constant does not change the verdict.
    #[test]
    fn verdict_is_scale_free(seed in 0u64..1_000, scale in 0.01f64..100.0, after in 0.5f64..1.5) {
        let (pts, d) = series(5, FRIDAY_8PM, seed, 0.03, after);
        let scaled: Vec<_> = pts.iter().map(|&(t, v)| (t, v * scale)).collect();
        let cfg = SeasonalConfig::default();
        let a = deploy_verdict(&pts, d, &cfg);
        let b = deploy_verdict(&scaled, d, &cfg);
        prop_assert_eq!(a.verdict, b.verdict);
        prop_assert!((a.change_pct.unwrap() - b.change_pct.unwrap()).abs() < 1e-6);
    }
}
