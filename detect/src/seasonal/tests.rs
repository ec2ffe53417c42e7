//! Verdicts on synthetic seasonal series.

use super::*;
use crate::corpus::production::{DeploySeries, HOUR};

/// Hourly points over `weeks_before` weeks before the Friday 20:00 of the last week,
/// and 2 days after; `after` multiplies the points from the deploy on.
fn series(weeks_before: i64, seed: u64, after: f64) -> (Vec<(i64, f64)>, i64) {
    DeploySeries {
        weeks_before,
        seed,
        after,
        ..DeploySeries::default()
    }
    .points()
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
