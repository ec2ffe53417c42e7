//! Threshold rule behaviour and JSON form.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_detect::threshold::{Baseline, Side, ThresholdRule};

#[test]
fn static_bounds() {
    let rule = ThresholdRule::Static {
        min: None,
        max: Some(0.01),
    };
    assert!(rule.evaluate_latest(&[0.0, 0.005, 0.01]).is_none());
    let b = rule.evaluate_latest(&[0.0, 0.02]).unwrap();
    assert_eq!((b.index, b.side, b.limit), (1, Side::Increase, 0.01));
    assert!((b.excess - 0.01).abs() < 1e-15);
    let low = ThresholdRule::Static {
        min: Some(100.0),
        max: None,
    };
    let b = low.evaluate_latest(&[150.0, 90.0]).unwrap();
    assert_eq!((b.side, b.excess), (Side::Decrease, 10.0));
    assert_eq!(
        low.evaluate_history(&[150.0, 90.0, 120.0, 80.0])
            .iter()
            .map(|b| b.index)
            .collect::<Vec<_>>(),
        vec![1, 3]
    );
    assert!(low.evaluate_latest(&[]).is_none());
}

#[test]
fn percent_change_against_median_of_last_n() {
    let rule = ThresholdRule::PercentChange {
        baseline: Baseline::MedianOfLast { n: 3 },
        max_increase: Some(0.10),
        max_decrease: None,
    };
    // Not enough history: not evaluated.
    assert!(rule.evaluate_latest(&[100.0, 200.0]).is_none());
    // Median of [100, 102, 98] = 100; 111 is +11 %.
    let b = rule.evaluate_latest(&[100.0, 102.0, 98.0, 111.0]).unwrap();
    assert_eq!((b.baseline, b.limit), (100.0, 110.0));
    assert!((b.score - 0.11).abs() < 1e-12);
    assert!((b.excess - 1.0).abs() < 1e-12);
    assert_eq!(b.baseline_label, "median of last 3 points");
    // Falls are allowed when max_decrease is None.
    assert!(rule.evaluate_latest(&[100.0, 102.0, 98.0, 10.0]).is_none());
    assert!(rule.evaluate_latest(&[100.0, 102.0, 98.0, 110.0]).is_none());
}

#[test]
fn percent_change_against_pinned_release() {
    let rule = ThresholdRule::PercentChange {
        baseline: Baseline::Pinned {
            value: 50.0,
            label: Some("v1.2.0 median".into()),
        },
        max_increase: None,
        max_decrease: Some(0.2),
    };
    let b = rule.evaluate_latest(&[39.0]).unwrap();
    assert_eq!(
        (b.side, b.limit, b.baseline_label.as_str()),
        (Side::Decrease, 40.0, "v1.2.0 median")
    );
    assert!((b.score + 0.22).abs() < 1e-12);
    assert!(rule.evaluate_latest(&[41.0]).is_none());
}

#[test]
fn z_score_with_guard_for_zero_spread() {
    let rule = ThresholdRule::ZScore {
        lookback: 4,
        max_z: 3.0,
        side: Side::Both,
    };
    // Lookback [10, 12, 10, 12]: mean 11, sd 1.1547; 15 is z = 3.46.
    let b = rule
        .evaluate_latest(&[10.0, 12.0, 10.0, 12.0, 15.0])
        .unwrap();
    assert!((b.score - 4.0 / (4.0f64 / 3.0).sqrt()).abs() < 1e-12);
    assert_eq!(b.baseline, 11.0);
    assert!(rule
        .evaluate_latest(&[10.0, 12.0, 10.0, 12.0, 14.0])
        .is_none());
    // Zero spread: equal value is fine, anything else is a saturated breach (finite JSON).
    assert!(rule.evaluate_latest(&[5.0; 5]).is_none());
    let b = rule.evaluate_latest(&[5.0, 5.0, 5.0, 5.0, 4.0]).unwrap();
    assert_eq!((b.score, b.side), (-f64::MAX, Side::Decrease));
    assert!(serde_json::to_string(&b).is_ok());
    let up_only = ThresholdRule::ZScore {
        lookback: 4,
        max_z: 3.0,
        side: Side::Increase,
    };
    assert!(up_only
        .evaluate_latest(&[5.0, 5.0, 5.0, 5.0, 4.0])
        .is_none());
    // Backfill judges each point only against the points before it.
    let h = rule.evaluate_history(&[10.0, 12.0, 10.0, 12.0, 15.0, 11.0]);
    assert_eq!(h.iter().map(|b| b.index).collect::<Vec<_>>(), vec![4]);
}

#[test]
fn rules_are_tagged_json_and_validated() {
    let json = r#"[
        {"kind": "static", "max": 0.01},
        {"kind": "percent_change", "baseline": {"kind": "median_of_last", "n": 10}, "max_increase": 0.05},
        {"kind": "percent_change", "baseline": {"kind": "pinned", "value": 12.5, "label": "v2"}, "max_decrease": 0.1},
        {"kind": "z_score", "lookback": 30, "max_z": 4.0}
    ]"#;
    let rules: Vec<ThresholdRule> = serde_json::from_str(json).unwrap();
    assert_eq!(rules.len(), 4);
    assert!(rules.iter().all(|r| r.validate().is_ok()));
    assert_eq!(
        rules[3],
        ThresholdRule::ZScore {
            lookback: 30,
            max_z: 4.0,
            side: Side::Both
        }
    );
    let back: Vec<ThresholdRule> =
        serde_json::from_str(&serde_json::to_string(&rules).unwrap()).unwrap();
    assert_eq!(back, rules);
    for bad in [
        ThresholdRule::Static {
            min: None,
            max: None,
        },
        ThresholdRule::Static {
            min: Some(2.0),
            max: Some(1.0),
        },
        ThresholdRule::PercentChange {
            baseline: Baseline::MedianOfLast { n: 0 },
            max_increase: Some(0.1),
            max_decrease: None,
        },
        ThresholdRule::PercentChange {
            baseline: Baseline::MedianOfLast { n: 5 },
            max_increase: Some(-0.1),
            max_decrease: None,
        },
        ThresholdRule::ZScore {
            lookback: 1,
            max_z: 3.0,
            side: Side::Both,
        },
        ThresholdRule::ZScore {
            lookback: 10,
            max_z: 0.0,
            side: Side::Both,
        },
    ] {
        assert!(bad.validate().is_err(), "{bad:?}");
    }
}
