//! Pure mappings from what the detector found (change points, drifts, threshold
//! breaches) to the alerts they raise, located on the series' range axis.

use perfwatch_core::alerts::{AlertDirection, AlertKind, RangeAxis, SuspectRange};
use perfwatch_core::units::Direction;
use perfwatch_core::view::SeriesInfo;
use perfwatch_detect::threshold::{Breach, Side};
use perfwatch_detect::{relative_change, ChangePoint, Drift};

use crate::store::{DetectPoint, NewAlert, StoredRule};

/// Whether a stored rule covers a series: its series, its measure, or (neither) all.
pub fn rule_applies(rule: &StoredRule, s: &SeriesInfo) -> bool {
    match (&rule.series_id, &rule.measure) {
        (Some(id), _) => *id == s.id,
        (None, Some(m)) => *m == s.measure,
        (None, None) => true,
    }
}

/// Position of a point on the range axis.
pub(super) fn position(axis: RangeAxis, p: &DetectPoint) -> i64 {
    match axis {
        RangeAxis::Commit => p.ord.unwrap_or_default(),
        RangeAxis::Time => p.time,
    }
}

/// The alert fields that locate a change at `index`: the first bad point is the point at
/// `index`, the last good one the point before it.
fn locate(
    axis: RangeAxis,
    points: &[DetectPoint],
    index: usize,
) -> Option<(&DetectPoint, Option<&DetectPoint>, SuspectRange)> {
    let bad = points.get(index)?;
    let good = index.checked_sub(1).and_then(|i| points.get(i));
    let range = SuspectRange::between(good.map(|g| position(axis, g)), position(axis, bad));
    Some((bad, good, range))
}

/// What a detector found at `index`: the fields in which change-point, drift and
/// threshold alerts differ. Where it lies (runs, commits, suspect range) comes from the
/// points, in [`alert_at`].
struct Finding {
    kind: AlertKind,
    rule_id: Option<i64>,
    direction: AlertDirection,
    index: usize,
    before: f64,
    after: f64,
    relative_change: f64,
    absolute_change: f64,
    p_value: Option<f64>,
    details: Option<String>,
}

impl Finding {
    /// A change found by a statistical test (a change point, or a drift taken as one):
    /// no rule, its direction from the sign of the change and what is better.
    fn of_change(
        kind: AlertKind,
        cp: &ChangePoint,
        better: Direction,
        details: Option<String>,
    ) -> Self {
        Finding {
            kind,
            rule_id: None,
            direction: AlertDirection::of_change(cp.absolute_change, better),
            index: cp.index,
            before: cp.before_median,
            after: cp.after_median,
            relative_change: cp.relative_change,
            absolute_change: cp.absolute_change,
            p_value: Some(cp.p_value),
            details,
        }
    }
}

/// The alert a finding raises on series `s`, located on `axis`; `None` when its index is
/// past the points read.
fn alert_at(
    s: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    f: Finding,
) -> Option<NewAlert> {
    let (bad, good, range) = locate(axis, points, f.index)?;
    Some(NewAlert {
        series_id: s.id,
        kind: f.kind,
        rule_id: f.rule_id,
        direction: f.direction,
        axis,
        range,
        index: f.index,
        first_bad_run_id: bad.run_id,
        last_good_run_id: good.map(|g| g.run_id),
        first_bad_commit_id: bad.commit_id,
        last_good_commit_id: good.and_then(|g| g.commit_id),
        first_bad_at: bad.time,
        before_median: f.before,
        after_median: f.after,
        // A change from zero has no finite ratio; the column holds a number.
        relative_change: finite_or_zero(f.relative_change),
        absolute_change: f.absolute_change,
        p_value: f.p_value,
        details: f.details,
    })
}

/// Maps a change point of a series to the alert it raises.
pub fn changepoint_alert(
    s: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    cp: &ChangePoint,
) -> Option<NewAlert> {
    let f = Finding::of_change(AlertKind::Changepoint, cp, s.direction, None);
    alert_at(s, axis, points, f)
}

/// A drift as the hypothesis Benjamini–Hochberg counts: its start and its p-value.
pub(super) fn drift_as_hypothesis(d: &Drift) -> ChangePoint {
    ChangePoint {
        index: d.start,
        before_start: d.start,
        after_end: d.end,
        before_median: d.start_level,
        after_median: d.end_level,
        before_mean: d.start_level,
        after_mean: d.end_level,
        relative_change: d.relative_change,
        absolute_change: d.absolute_change,
        p_value: d.p_value,
        energy: 0.0,
    }
}

/// What a drift alert stores in `details`: the drift as found (start, end, slope per
/// point, levels, p-value), with `"kind": "drift"`, plus whether it is still going on.
fn drift_details(d: &Drift, len: usize) -> Option<String> {
    let mut v = serde_json::to_value(d).ok()?;
    let o = v.as_object_mut()?;
    o.insert("kind".into(), "drift".into());
    o.insert("ongoing".into(), (d.end >= len).into());
    Some(v.to_string())
}

/// Maps a drift to the alert it raises: its suspect range is where the creep started
/// (last point before the ramp, first point on it); before/after are the fitted levels
/// at the ramp's start and end, and `details` has the slope and span.
pub fn drift_alert(
    s: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    d: &Drift,
) -> Option<NewAlert> {
    let details = drift_details(d, points.len());
    let f = Finding::of_change(
        AlertKind::Drift,
        &drift_as_hypothesis(d),
        s.direction,
        details,
    );
    alert_at(s, axis, points, f)
}

/// Maps a threshold breach to the alert it raises.
pub fn threshold_alert(
    s: &SeriesInfo,
    axis: RangeAxis,
    points: &[DetectPoint],
    rule_id: i64,
    b: &Breach,
) -> Option<NewAlert> {
    let signed = match b.side {
        Side::Decrease => -1.0,
        _ => 1.0,
    };
    // A breach is judged by the side of the bound it crossed.
    let direction = match (signed > 0.0, s.direction) {
        (true, Direction::Lower) | (false, Direction::Higher) => AlertDirection::Regression,
        _ => AlertDirection::Improvement,
    };
    let f = Finding {
        kind: AlertKind::Threshold,
        rule_id: Some(rule_id),
        direction,
        index: b.index,
        before: b.baseline,
        after: b.value,
        relative_change: relative_change(b.baseline, b.value),
        absolute_change: b.value - b.baseline,
        p_value: None,
        details: serde_json::to_string(b).ok(),
    };
    alert_at(s, axis, points, f)
}

fn finite_or_zero(v: f64) -> f64 {
    if v.is_finite() {
        v
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(direction: Direction) -> SeriesInfo {
        SeriesInfo {
            id: 7,
            project: "p".into(),
            benchmark: "b".into(),
            measure: "time".into(),
            unit: "ns".into(),
            display_unit: "ns".into(),
            direction,
            testbed: "t".into(),
            params: String::new(),
        }
    }

    fn pts() -> Vec<DetectPoint> {
        (0..6)
            .map(|i| DetectPoint {
                run_id: 100 + i,
                commit_id: Some(200 + i),
                ord: Some(10 + 2 * i),
                time: 1000 * i,
                median: 1.0,
            })
            .collect()
    }

    fn cp(index: usize, before: f64, after: f64) -> ChangePoint {
        ChangePoint {
            index,
            before_start: 0,
            after_end: 6,
            before_median: before,
            after_median: after,
            before_mean: before,
            after_mean: after,
            relative_change: (after - before) / before,
            absolute_change: after - before,
            p_value: 1e-6,
            energy: 1.0,
        }
    }

    #[test]
    fn change_point_maps_to_first_bad_and_last_good_commits() {
        let a = changepoint_alert(
            &info(Direction::Lower),
            RangeAxis::Commit,
            &pts(),
            &cp(3, 10.0, 12.0),
        )
        .unwrap();
        assert_eq!(a.first_bad_run_id, 103);
        assert_eq!(a.last_good_run_id, Some(102));
        assert_eq!(a.first_bad_commit_id, Some(203));
        assert_eq!(a.last_good_commit_id, Some(202));
        // Commit 14 is the last good one, 16 the first bad: the suspects are (14, 16].
        assert_eq!(a.range, SuspectRange { lo: 14, hi: 16 });
        assert_eq!(a.direction, AlertDirection::Regression);
        assert!((a.relative_change - 0.2).abs() < 1e-12);
    }

    #[test]
    fn direction_depends_on_the_measure() {
        let a = changepoint_alert(
            &info(Direction::Higher),
            RangeAxis::Time,
            &pts(),
            &cp(2, 10.0, 12.0),
        )
        .unwrap();
        assert_eq!(a.direction, AlertDirection::Improvement);
        assert_eq!(a.range, SuspectRange { lo: 1000, hi: 2000 });
    }

    #[test]
    fn drift_maps_to_a_drift_alert_at_its_start_with_slope_and_span() {
        let d = Drift {
            start: 2,
            end: 6,
            slope: 0.5,
            start_level: 10.0,
            end_level: 12.0,
            relative_change: 0.2,
            absolute_change: 2.0,
            p_value: 1e-5,
            replaced: 3,
        };
        let a = drift_alert(&info(Direction::Lower), RangeAxis::Commit, &pts(), &d).unwrap();
        assert_eq!(a.kind, AlertKind::Drift);
        assert_eq!((a.first_bad_run_id, a.last_good_run_id), (102, Some(101)));
        assert_eq!(a.range, SuspectRange { lo: 12, hi: 14 });
        assert_eq!(a.direction, AlertDirection::Regression);
        assert_eq!((a.before_median, a.after_median), (10.0, 12.0));
        let details: serde_json::Value = serde_json::from_str(&a.details.unwrap()).unwrap();
        assert_eq!(details["kind"], "drift");
        assert_eq!(details["slope"], 0.5);
        assert_eq!(
            (details["start"].as_u64(), details["end"].as_u64()),
            (Some(2), Some(6))
        );
        // It runs to the last point read: still going on.
        assert_eq!(details["ongoing"], true);
    }

    #[test]
    fn breach_maps_to_a_threshold_alert_of_its_rule() {
        let b = Breach {
            index: 4,
            value: 8.0,
            rule: "static".into(),
            baseline: 10.0,
            limit: 9.0,
            excess: 1.0,
            score: 8.0,
            side: Side::Decrease,
            baseline_label: "bound".into(),
        };
        let a = threshold_alert(&info(Direction::Higher), RangeAxis::Time, &pts(), 9, &b).unwrap();
        assert_eq!(a.kind, AlertKind::Threshold);
        assert_eq!(a.rule_id, Some(9));
        // Below the floor of a higher-is-better measure.
        assert_eq!(a.direction, AlertDirection::Regression);
        assert_eq!((a.first_bad_run_id, a.last_good_run_id), (104, Some(103)));
        assert_eq!(a.range, SuspectRange { lo: 3000, hi: 4000 });
        assert_eq!((a.before_median, a.after_median), (10.0, 8.0));
        assert!((a.relative_change + 0.2).abs() < 1e-12);
        assert_eq!(a.p_value, None);
        let details: serde_json::Value = serde_json::from_str(&a.details.unwrap()).unwrap();
        assert_eq!(details["limit"], 9.0);
    }

    #[test]
    fn out_of_range_index_raises_nothing() {
        assert!(changepoint_alert(
            &info(Direction::Lower),
            RangeAxis::Commit,
            &pts(),
            &cp(9, 1.0, 2.0)
        )
        .is_none());
    }

    #[test]
    fn rules_apply_by_series_measure_or_project() {
        let s = info(Direction::Lower);
        let r = |series_id, measure: Option<&str>| StoredRule {
            id: 1,
            series_id,
            measure: measure.map(str::to_string),
            rule: String::new(),
        };
        assert!(rule_applies(&r(Some(7), None), &s));
        assert!(!rule_applies(&r(Some(8), None), &s));
        assert!(rule_applies(&r(None, Some("time")), &s));
        assert!(!rule_applies(&r(None, Some("rss")), &s));
        assert!(rule_applies(&r(None, None), &s));
    }
}
