//! Known-answer cases for `detect`.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_detect::rng::Rng;
use perfwatch_detect::{
    detect, DetectConfig, DetectError, Detection, EnergyInput, SignificanceTest,
};

fn noisy(rng: &mut Rng, level: f64, sd: f64, n: usize) -> Vec<f64> {
    (0..n).map(|_| level + sd * rng.normal()).collect()
}

fn indices(d: &Detection) -> Vec<usize> {
    d.change_points().iter().map(|c| c.index).collect()
}

fn all_configs() -> Vec<DetectConfig> {
    let mut out = Vec::new();
    for energy_input in [EnergyInput::Ranks, EnergyInput::Values] {
        for test in [SignificanceTest::MannWhitney, SignificanceTest::Welch] {
            out.push(DetectConfig {
                energy_input,
                test,
                ..DetectConfig::default()
            });
        }
    }
    out
}

#[test]
fn obvious_step_is_found_at_the_right_index() {
    let mut rng = Rng::new(1);
    let mut v = noisy(&mut rng, 100.0, 1.0, 120);
    v.extend(noisy(&mut rng, 110.0, 1.0, 80));
    for cfg in all_configs() {
        let d = detect(&v, &cfg).unwrap();
        assert_eq!(indices(&d), vec![120], "{cfg:?}");
        let cp = &d.change_points()[0];
        assert!((cp.relative_change - 0.1).abs() < 0.01);
        assert!((cp.after_median - cp.before_median - cp.absolute_change).abs() < 1e-9);
        assert!(cp.p_value < 1e-10);
        assert!(cp.energy > 0.0);
        assert_eq!((cp.before_start, cp.after_end), (0, 200));
    }
}

#[test]
fn two_steps_are_both_found() {
    let mut rng = Rng::new(2);
    let mut v = noisy(&mut rng, 50.0, 0.5, 60);
    v.extend(noisy(&mut rng, 45.0, 0.5, 70));
    v.extend(noisy(&mut rng, 55.0, 0.5, 50));
    for cfg in all_configs() {
        let d = detect(&v, &cfg).unwrap();
        assert_eq!(indices(&d), vec![60, 130], "{cfg:?}");
        let cps = d.change_points();
        assert!(cps[0].relative_change < 0.0 && cps[1].relative_change > 0.0);
        assert_eq!(cps[0].after_end, 130);
        assert_eq!(cps[1].before_start, 60);
    }
}

#[test]
fn constant_series_has_no_change_points_and_no_nan() {
    let v = vec![42.0; 500];
    for cfg in all_configs() {
        assert_eq!(
            detect(&v, &cfg).unwrap(),
            Detection::Done {
                change_points: vec![],
                drifts: vec![]
            }
        );
    }
    let zeros = vec![0.0; 100];
    assert!(detect(&zeros, &DetectConfig::default())
        .unwrap()
        .change_points()
        .is_empty());
}

#[test]
fn short_series_says_how_many_points_are_needed() {
    let cfg = DetectConfig::default();
    let d = detect(&[1.0, 2.0, 3.0], &cfg).unwrap();
    assert_eq!(
        d,
        Detection::TooShort {
            needed: cfg.min_points(),
            got: 3
        }
    );
    assert_eq!(
        detect(&[], &cfg).unwrap(),
        Detection::TooShort {
            needed: cfg.min_points(),
            got: 0
        }
    );
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#"{"outcome":"too_short","needed":10,"got":3}"#);
}

#[test]
fn non_finite_values_are_rejected() {
    let mut v = vec![1.0; 50];
    v[17] = f64::NAN;
    assert_eq!(
        detect(&v, &DetectConfig::default()),
        Err(DetectError::NonFinite { index: 17 })
    );
    v[17] = f64::INFINITY;
    assert!(detect(&v, &DetectConfig::default()).is_err());
}

#[test]
fn invalid_config_is_rejected() {
    let v = vec![1.0; 50];
    for cfg in [
        DetectConfig {
            min_segment: 1,
            ..DetectConfig::default()
        },
        DetectConfig {
            max_p_value: 0.0,
            ..DetectConfig::default()
        },
        DetectConfig {
            max_p_value: f64::NAN,
            ..DetectConfig::default()
        },
        DetectConfig {
            min_relative_change: -1.0,
            ..DetectConfig::default()
        },
    ] {
        assert!(matches!(
            detect(&v, &cfg),
            Err(DetectError::InvalidConfig { .. })
        ));
    }
}

#[test]
fn heavy_ties_integer_data() {
    // Integer nanosecond-like readings with many ties, stepping from ~10 to ~12.
    let mut rng = Rng::new(3);
    let mut v: Vec<f64> = (0..80)
        .map(|_| 10.0 + (rng.uniform() * 2.0).floor())
        .collect();
    v.extend((0..80).map(|_| 12.0 + (rng.uniform() * 2.0).floor()));
    for cfg in all_configs() {
        assert_eq!(indices(&detect(&v, &cfg).unwrap()), vec![80], "{cfg:?}");
    }
    // Two alternating values only: no change.
    let alt: Vec<f64> = (0..200)
        .map(|i| if i % 2 == 0 { 5.0 } else { 6.0 })
        .collect();
    assert!(detect(&alt, &DetectConfig::default())
        .unwrap()
        .change_points()
        .is_empty());
}

#[test]
fn single_outlier_does_not_create_a_change_point() {
    let mut rng = Rng::new(4);
    for at in [0, 3, 50, 99, 146, 149] {
        let mut v = noisy(&mut rng, 100.0, 1.0, 150);
        v[at] = 10_000.0;
        for cfg in all_configs() {
            let d = detect(&v, &cfg).unwrap();
            assert!(
                d.change_points().is_empty(),
                "outlier at {at}: {d:?} {cfg:?}"
            );
        }
    }
}

#[test]
fn small_relative_change_is_filtered() {
    // A 0.5 % step on very quiet data is significant but below min_relative_change.
    let mut rng = Rng::new(5);
    let mut v = noisy(&mut rng, 1000.0, 0.1, 100);
    v.extend(noisy(&mut rng, 1005.0, 0.1, 100));
    assert!(detect(&v, &DetectConfig::default())
        .unwrap()
        .change_points()
        .is_empty());
    let loose = DetectConfig {
        min_relative_change: 0.0,
        ..DetectConfig::default()
    };
    assert_eq!(indices(&detect(&v, &loose).unwrap()), vec![100]);
}

#[test]
fn step_right_after_min_segment_is_found_at_the_end() {
    let cfg = DetectConfig::default();
    let mut rng = Rng::new(6);
    let mut v = noisy(&mut rng, 20.0, 0.2, 200);
    v.extend(noisy(&mut rng, 24.0, 0.2, cfg.min_segment));
    assert_eq!(indices(&detect(&v, &cfg).unwrap()), vec![200]);
}

#[test]
fn negative_and_zero_baselines_stay_finite() {
    let mut v = vec![0.0; 40];
    v.extend(vec![5.0; 40]);
    let d = detect(&v, &DetectConfig::default()).unwrap();
    let cp = &d.change_points()[0];
    assert_eq!(cp.index, 40);
    assert_eq!(cp.relative_change, f64::MAX);
    let json = serde_json::to_string(&d).unwrap();
    assert!(json.contains("e+308"), "{json}");
    let neg: Vec<f64> = v.iter().map(|x| -10.0 - x).collect();
    let d = detect(&neg, &DetectConfig::default()).unwrap();
    // −10 → −15: the value fell by half of |−10|.
    assert!((d.change_points()[0].relative_change + 0.5).abs() < 1e-12);
}

#[test]
fn config_round_trips_and_fills_defaults() {
    let cfg: DetectConfig = serde_json::from_str(r#"{"max_p_value": 0.001}"#).unwrap();
    assert_eq!(cfg.max_p_value, 0.001);
    assert_eq!(cfg.min_segment, DetectConfig::default().min_segment);
    let back: DetectConfig = serde_json::from_str(&serde_json::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
}
