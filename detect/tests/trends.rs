//! The trend pass: ramps and steady trends become one drift, with their slope and span;
//! flat noise and genuine staircases do not.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_detect::corpus::{unit_noise_for_tests as unit_noise, Noise, NOISES};
use perfwatch_detect::rng::Rng;
use perfwatch_detect::{detect, DetectConfig};
use proptest::prelude::*;

/// `level(i)` plus multiplicative noise of `cv` from the given model.
fn series(n: usize, cv: f64, noise: Noise, seed: u64, level: impl Fn(usize) -> f64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    let mut spike = false;
    (0..n)
        .map(|i| {
            let l = level(i);
            l + cv * l * unit_noise(&mut rng, noise, &mut spike)
        })
        .collect()
}

/// `steps` rises of `rise` (0.1 = +10 %) every `len` points under 1 % Gaussian noise:
/// the staircase the property and the cases it found are built from.
fn staircase(steps: usize, len: usize, rise: f64, seed: u64) -> Vec<f64> {
    series(len * (steps + 1), 0.01, Noise::Gaussian, seed, |i| {
        100.0 * (1.0 + rise).powi((i / len) as i32)
    })
}

/// Flat at 100 for 60 points, up 0.5 per point for 80 points, flat at 140 for 60.
fn plateau_ramp_plateau(i: usize) -> f64 {
    100.0 + 0.5 * (i.clamp(60, 140) - 60) as f64
}

#[test]
fn ramp_between_plateaus_is_one_drift_with_its_slope_and_span() {
    for (k, noise) in NOISES.into_iter().enumerate() {
        let v = series(200, 0.01, noise, 40 + k as u64, plateau_ramp_plateau);
        let d = detect(&v, &DetectConfig::default()).unwrap();
        assert_eq!(d.drifts().len(), 1, "{noise:?}: {d:?}");
        assert!(d.change_points().is_empty(), "{noise:?}: {d:?}");
        let drift = &d.drifts()[0];
        assert!(
            drift.start.abs_diff(60) <= 5,
            "{noise:?} start {}",
            drift.start
        );
        assert!(drift.end.abs_diff(140) <= 5, "{noise:?} end {}", drift.end);
        assert!(
            (drift.slope - 0.5).abs() < 0.05,
            "{noise:?} slope {}",
            drift.slope
        );
        assert!(
            (drift.relative_change - 0.4).abs() < 0.05,
            "{noise:?} {drift:?}"
        );
        assert!(
            drift.replaced >= 2,
            "a ramp is cut into several steps first"
        );
        assert_eq!(d.scored_indices(v.len()), vec![drift.start, drift.end]);
    }
}

#[test]
fn steady_creep_is_one_drift_not_a_cascade() {
    // Memory creeping from 100 to 150 MB over 300 commits, 1 % noise.
    let v = series(300, 0.01, Noise::Gaussian, 7, |i| 100.0 + i as f64 / 6.0);
    let without = DetectConfig {
        trends: false,
        ..DetectConfig::default()
    };
    let cascade = detect(&v, &without).unwrap();
    assert!(cascade.change_points().len() >= 5, "{cascade:?}");
    let d = detect(&v, &DetectConfig::default()).unwrap();
    assert!(d.change_points().is_empty(), "{d:?}");
    assert_eq!(d.drifts().len(), 1);
    let drift = &d.drifts()[0];
    assert_eq!((drift.start, drift.end), (0, 300));
    assert!((drift.slope - 1.0 / 6.0).abs() < 0.01, "{}", drift.slope);
    // A drift over the whole series changes nothing at a point inside it.
    assert!(d.scored_indices(v.len()).is_empty());
}

#[test]
fn ongoing_drift_runs_to_the_end() {
    let v = series(250, 0.01, Noise::HeavyTailed, 3, |i| {
        100.0 + 0.4 * i.saturating_sub(150) as f64
    });
    let d = detect(&v, &DetectConfig::default()).unwrap();
    assert_eq!(d.drifts().len(), 1, "{d:?}");
    assert!(d.drifts()[0].start.abs_diff(150) <= 5, "{d:?}");
    assert_eq!(d.drifts()[0].end, 250);
    assert!(d.change_points().is_empty());
}

#[test]
fn compound_growth_is_one_drift() {
    // Counts growing 1 % per day: exponential, linear in the logarithm.
    let v = series(300, 0.02, Noise::Gaussian, 5, |i| {
        50.0 * 1.01f64.powi(i as i32)
    });
    let d = detect(&v, &DetectConfig::default()).unwrap();
    assert!(d.change_points().is_empty(), "{d:?}");
    assert_eq!(d.drifts().len(), 1);
}

#[test]
fn short_ramp_is_one_change_point_at_its_middle() {
    // The level moves over 20 points: a step that took a while, reported once.
    let v = series(200, 0.01, Noise::Gaussian, 11, |i| {
        100.0 + 2.0 * (i.clamp(90, 110) - 90) as f64
    });
    let d = detect(&v, &DetectConfig::default()).unwrap();
    assert!(d.drifts().is_empty(), "{d:?}");
    let idx: Vec<usize> = d.change_points().iter().map(|c| c.index).collect();
    assert_eq!(idx.len(), 1, "{d:?}");
    assert!(idx[0].abs_diff(100) <= 3, "{idx:?}");
}

#[test]
fn step_on_a_trend_stays_a_step() {
    // A price with inflation and a 20 % repricing at 150.
    let v = series(300, 0.01, Noise::Gaussian, 17, |i| {
        let trend = 100.0 + i as f64 / 10.0;
        if i >= 150 {
            trend * 1.2
        } else {
            trend
        }
    });
    let d = detect(&v, &DetectConfig::default()).unwrap();
    let found = d.scored_indices(v.len());
    assert!(found.iter().any(|&i| i.abs_diff(150) <= 2), "{d:?}");
    assert!(found.len() <= 2, "{found:?}");
}

#[test]
fn staircase_with_a_misplaced_change_point_is_not_merged() {
    // Found by the staircase property: four 10 % steps 16 points apart, where the
    // segmentation puts the third step 4 points early. A short ramp then fits that
    // stretch better than the misplaced staircase, but the plateau between the change
    // points is flat, so the steps stay.
    let v = staircase(4, 16, 0.1, 10_283_673_486_254_043_363);
    let d = detect(&v, &DetectConfig::default()).unwrap();
    let without = DetectConfig {
        trends: false,
        ..DetectConfig::default()
    };
    assert_eq!(
        d.change_points(),
        detect(&v, &without).unwrap().change_points()
    );
    assert_eq!(d.change_points().len(), 4);
}

#[test]
fn staircase_of_short_ten_percent_steps_keeps_every_step() {
    // Found by the staircase property with a random seed: four +10 % steps 26 points
    // apart under 1 % noise had two of its steps merged into a drift: segmentation put
    // the third step 5 points early, and a ramp fitted that stretch better.
    let (steps, len) = (4, 26);
    let v = staircase(steps, len, 0.1, 134_448_268_236_664_361);
    let d = detect(&v, &DetectConfig::default()).unwrap();
    let without = DetectConfig {
        trends: false,
        ..DetectConfig::default()
    };
    let plain = detect(&v, &without).unwrap();
    assert!(d.drifts().is_empty(), "{d:?}\nwithout trends: {plain:?}");
    assert_eq!(d.change_points(), plain.change_points());
    assert_eq!(d.change_points().len(), steps, "{d:?}");
}

#[test]
fn each_step_of_a_short_staircase_is_found_where_it_is() {
    // Found by the staircase property with a random seed: four +10 % steps 15 points
    // apart under 1 % noise; binary segmentation split the middle plateau at 39 and
    // never found the step at 45.
    let (steps, len) = (4, 15);
    let v = staircase(steps, len, 0.1, 2_619_082_008_998_462_789);
    let d = detect(&v, &DetectConfig::default()).unwrap();
    let idx: Vec<usize> = d.change_points().iter().map(|c| c.index).collect();
    assert_eq!(idx.len(), steps, "{d:?}");
    for (k, i) in idx.iter().enumerate() {
        assert!(i.abs_diff((k + 1) * len) <= 5, "{idx:?}");
    }
}

#[test]
fn no_drift_without_change_points_and_none_in_the_json() {
    let v = series(300, 0.02, Noise::Gaussian, 1, |_| 100.0);
    let d = detect(&v, &DetectConfig::default()).unwrap();
    assert!(d.drifts().is_empty());
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, r#"{"outcome":"done","change_points":[]}"#);
}

proptest! {
    // Known weakness, found with a random seed and left for the next session:
    // seed = 134448268236664361, steps = 4, len = 26, rise = 0.1 (a staircase of +10 %
    // steps 26 points long) has two steps merged into a drift.
    #![proptest_config(ProptestConfig::with_cases(perfwatch_core::proptest_cases(64)))]

    #[test]
    fn flat_noise_reports_no_drift(
        seed in any::<u64>(),
        n in 60usize..600,
        cv in 0.005f64..0.2,
        noise in prop::sample::select(NOISES.to_vec()),
    ) {
        let v = series(n, cv, noise, seed, |_| 100.0);
        let d = detect(&v, &DetectConfig::default()).unwrap();
        prop_assert!(d.drifts().is_empty(), "{:?}", d);
    }

    #[test]
    fn clear_staircase_keeps_every_step(
        seed in any::<u64>(),
        steps in 2usize..5,
        len in 15usize..60,
        rise in 0.1f64..0.3,
    ) {
        // The segmentation's own placement is what it is; the trend pass must not touch it.
        // Same-direction steps of 10–30 % under 1 % noise, each plateau ≥ 15 points.
        let v = staircase(steps, len, rise, seed);
        let d = detect(&v, &DetectConfig::default()).unwrap();
        prop_assert!(d.drifts().is_empty(), "{:?}", d);
        // Exactly what the segmentation found, and every step within the scoring margin.
        let without = DetectConfig { trends: false, ..DetectConfig::default() };
        let plain = detect(&v, &without).unwrap();
        prop_assert_eq!(d.change_points(), plain.change_points());
        for k in 1..=steps {
            prop_assert!(
                d.change_points().iter().any(|c| c.index.abs_diff(k * len) <= 5),
                "step {} missing: {:?}", k * len, d.change_points()
            );
        }
    }

    #[test]
    /// Ramps of 20σ or more (0.2 % noise on 500, at least 20 in all): slope within 10 %.
    fn slope_is_recovered(
        seed in any::<u64>(),
        slope in 0.5f64..2.0,
        len in 40usize..200,
        down in any::<bool>(),
    ) {
        let sign = if down { -1.0 } else { 1.0 };
        let v = series(len + 100, 0.002, Noise::Gaussian, seed, |i| {
            500.0 + sign * slope * (i.clamp(50, 50 + len) - 50) as f64
        });
        let d = detect(&v, &DetectConfig::default()).unwrap();
        prop_assert_eq!(d.drifts().len(), 1, "{:?}", d);
        let got = d.drifts()[0].slope;
        prop_assert!((got - sign * slope).abs() <= 0.1 * slope, "slope {} want {}", got, sign * slope);
    }
}

#[test]
fn gaps_are_skipped_and_indices_are_rows() {
    use perfwatch_detect::detect_with_gaps;
    // A 20 % step at row 40; rows 10, 38 and 39 are missing.
    let mut v: Vec<Option<f64>> = series(80, 0.01, Noise::Gaussian, 9, |i| {
        if i >= 40 {
            120.0
        } else {
            100.0
        }
    })
    .into_iter()
    .map(Some)
    .collect();
    for i in [10, 38, 39] {
        v[i] = None;
    }
    let d = detect_with_gaps(&v, &DetectConfig::default()).unwrap();
    let cp = &d.change_points()[0];
    assert_eq!((cp.before_start, cp.index, cp.after_end), (0, 40, 80));
    // A step at row 38 while rows 38 and 39 are missing: the first point seen of the new
    // level is row 40, and that is where it is reported.
    let mut w: Vec<Option<f64>> = series(80, 0.01, Noise::Gaussian, 9, |i| {
        if i >= 38 {
            120.0
        } else {
            100.0
        }
    })
    .into_iter()
    .map(Some)
    .collect();
    w[38] = None;
    w[39] = None;
    let d = detect_with_gaps(&w, &DetectConfig::default()).unwrap();
    assert_eq!(d.change_points()[0].index, 40);
    // Too short counts present points; gaps only: too short, not an error.
    let few = [Some(1.0), None, Some(2.0)];
    assert_eq!(
        detect_with_gaps(&few, &DetectConfig::default()).unwrap(),
        perfwatch_detect::Detection::TooShort { needed: 10, got: 2 }
    );
    assert!(detect_with_gaps(&[None; 5], &DetectConfig::default()).is_ok());
}
