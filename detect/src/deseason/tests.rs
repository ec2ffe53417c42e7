//! Cycles removed from synthetic traffic, with and without holidays and shifts.

use super::*;

/// Hourly: day 100, night 30 (22–06), weekends × 0.6, from Monday 2026-11-02.
fn traffic(days: i64, drop_at: Option<i64>) -> Vec<(i64, f64)> {
    let monday = 20_395 * DAY;
    (0..days * 24)
        .map(|h| {
            let t = monday + h * HOUR;
            let hour = h % 24;
            let dow = (h / 24) % 7;
            let mut v = if (6..22).contains(&hour) { 100.0 } else { 30.0 };
            if dow >= 5 {
                v *= 0.6;
            }
            if drop_at.is_some_and(|d| h >= d) {
                v *= 0.85;
            }
            (t, v)
        })
        .collect()
}

#[test]
fn the_cycle_disappears_and_a_drop_stays() {
    let d = deseasonalize(&traffic(35, None), Tz::UTC).unwrap();
    assert_eq!(d.cycle, Cycle::Week);
    assert!(d.multiplicative);
    let (min, max) = d
        .adjusted
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    assert!(
        max / min < 1.000_001,
        "flat after removing the cycle: {min}..{max}"
    );

    let pts = traffic(35, Some(30 * 24 + 20));
    let d = deseasonalize(&pts, Tz::UTC).unwrap();
    let before = d.adjusted[29 * 24];
    let after = d.adjusted[33 * 24];
    assert!((after / before - 0.85).abs() < 0.02, "{before} → {after}");
}

#[test]
fn a_holiday_in_the_calendar_is_not_two_changes() {
    use crate::holidays::{Holiday, Holidays};
    // Day 24 (a Friday) at 40 %.
    let mut pts = traffic(35, None);
    for p in pts.iter_mut() {
        if p.0 >= 20_395 * DAY + 24 * DAY && p.0 < 20_395 * DAY + 25 * DAY {
            p.1 *= 0.4;
        }
    }
    let cal = Holidays::new(&[Holiday {
        date: Holidays::local_date(20_395 * DAY + 24 * DAY, Tz::UTC).unwrap(),
        name: "Christmas".into(),
    }]);
    let base = crate::DetectConfig::default();
    let changes = |cal: &Holidays| match detect_production_with(&pts, Tz::UTC, cal, &base) {
        Ok((_, crate::Detection::Done { change_points, .. })) => change_points.len(),
        other => panic!("{other:?}"),
    };
    assert!(
        changes(&Holidays::default()) >= 1,
        "blind: the holiday is a change"
    );
    assert_eq!(changes(&cal), 0, "with the calendar: nothing");
    let d = deseasonalize_with(&pts, Tz::UTC, &cal).unwrap();
    let (min, max) = d
        .adjusted
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
    assert!(
        max / min < 1.01,
        "flat with the holiday replaced: {min}..{max}"
    );
}

#[test]
fn two_days_give_a_daily_cycle_and_zero_traffic_is_additive() {
    let mut pts = traffic(3, None);
    for p in pts.iter_mut() {
        p.1 -= 30.0; // nights at zero
    }
    let d = deseasonalize(&pts, Tz::UTC).unwrap();
    assert_eq!(d.cycle, Cycle::Day);
    assert!(!d.multiplicative);
    assert!(d.adjusted.iter().all(|a| a.is_finite()));
}

#[test]
fn too_short_sparse_or_non_finite_has_no_cycle() {
    assert_eq!(deseasonalize(&traffic(1, None), Tz::UTC), None);
    assert_eq!(deseasonalize(&[], Tz::UTC), None);
    let sparse: Vec<(i64, f64)> = (0..40).map(|i| (i * 3 * DAY, 1.0)).collect();
    assert_eq!(deseasonalize(&sparse, Tz::UTC), None);
    let mut nan = traffic(20, None);
    nan[5].1 = f64::NAN;
    assert_eq!(deseasonalize(&nan, Tz::UTC), None);
    let huge: Vec<(i64, f64)> = (0..400).map(|i| (i * HOUR, f64::MAX)).collect();
    // Means overflow to ∞: refused, not a panic.
    let _ = deseasonalize(&huge, Tz::UTC);
    let extreme: Vec<(i64, f64)> = (0..20).map(|i| (i64::MAX - i, 1.0)).collect();
    let _ = deseasonalize(&extreme, Tz::UTC);
}
