//! Property tests: robustness on arbitrary finite input, structural guarantees, scale
//! invariance and the incremental contract.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_detect::{
    detect, detect_incremental, incremental_window_start, DetectConfig, Detection, EnergyInput,
    SignificanceTest,
};
use proptest::prelude::*;

/// Piecewise-constant levels plus bounded noise, to get series that actually have changes.
fn stepped() -> impl Strategy<Value = Vec<f64>> {
    (
        prop::collection::vec((1.0f64..100.0, 5usize..60), 1..6),
        prop::collection::vec(-1.0f64..1.0, 300),
        0.0f64..3.0,
    )
        .prop_map(|(segs, noise, sd)| {
            let mut v = Vec::new();
            for (level, len) in segs {
                for _ in 0..len {
                    v.push(level + sd * noise[v.len() % noise.len()]);
                }
            }
            v
        })
}

/// Piecewise-linear levels (ramps and plateaus) plus bounded noise, for the trend pass.
fn ramped() -> impl Strategy<Value = Vec<f64>> {
    (
        1.0f64..100.0,
        prop::collection::vec((-2.0f64..2.0, 5usize..120), 1..5),
        prop::collection::vec(-1.0f64..1.0, 300),
        0.0f64..3.0,
    )
        .prop_map(|(start, pieces, noise, sd)| {
            let mut v = Vec::new();
            let mut level = start;
            for (slope, len) in pieces {
                for _ in 0..len {
                    level += slope;
                    v.push(level + sd * noise[v.len() % noise.len()]);
                }
            }
            v
        })
}

fn any_config() -> impl Strategy<Value = DetectConfig> {
    (3usize..12, prop::bool::ANY, prop::bool::ANY, 0.0f64..0.05).prop_map(
        |(seg, ranks, mw, rel)| DetectConfig {
            min_segment: seg,
            energy_input: if ranks {
                EnergyInput::Ranks
            } else {
                EnergyInput::Values
            },
            test: if mw {
                SignificanceTest::MannWhitney
            } else {
                SignificanceTest::Welch
            },
            min_relative_change: rel,
            ..DetectConfig::default()
        },
    )
}

fn check_structure(values: &[f64], d: &Detection, cfg: &DetectConfig) -> Result<(), TestCaseError> {
    match d {
        Detection::TooShort { needed, got } => {
            prop_assert_eq!(*got, values.len());
            prop_assert!(values.len() < *needed);
        }
        Detection::Done {
            change_points,
            drifts,
        } => {
            let mut prev = 0;
            for d in drifts {
                prop_assert!(d.start < d.end && d.end <= values.len());
                prop_assert!(d.end - d.start >= cfg.min_drift_span);
                prop_assert!(d.p_value <= cfg.max_p_value);
                prop_assert!(d.relative_change.abs() >= cfg.min_relative_change);
                prop_assert!(
                    d.slope.is_finite() && d.start_level.is_finite() && d.end_level.is_finite()
                );
                prop_assert!((d.absolute_change > 0.0) == (d.slope > 0.0));
                prop_assert!(
                    !change_points
                        .iter()
                        .any(|c| c.index > d.start && c.index < d.end),
                    "a change point inside a drift"
                );
            }
            let edges: Vec<usize> = drifts.iter().flat_map(|d| [d.start, d.end]).collect();
            for cp in change_points {
                // A segment ends at the previous change point or at a drift's edge.
                let bound = edges
                    .iter()
                    .copied()
                    .filter(|&e| e < cp.index)
                    .fold(prev, usize::max);
                prop_assert!(
                    cp.index >= cp.before_start + cfg.min_segment,
                    "segment too short"
                );
                prop_assert!(
                    cp.after_end >= cp.index + cfg.min_segment,
                    "segment too short"
                );
                prop_assert_eq!(cp.before_start, bound);
                prop_assert!(cp.p_value <= cfg.max_p_value);
                prop_assert!(cp.relative_change.abs() >= cfg.min_relative_change);
                prop_assert!(cp.p_value.is_finite() && cp.energy.is_finite());
                prop_assert!(cp.before_median.is_finite() && cp.after_mean.is_finite());
                prev = cp.index;
            }
            if let Some(last) = change_points.last() {
                prop_assert!(last.index + cfg.min_segment <= values.len());
                if !edges.iter().any(|&e| e > last.index && e < values.len()) {
                    prop_assert_eq!(last.after_end, values.len());
                }
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: perfwatch_core::proptest_cases(200), ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_is_well_formed(
        values in prop::collection::vec(prop::num::f64::NORMAL | prop::num::f64::ZERO | prop::num::f64::SUBNORMAL, 0..200),
        cfg in any_config(),
    ) {
        // Any finite input, including huge magnitudes whose differences overflow to ±inf.
        let d = detect(&values, &cfg).unwrap();
        check_structure(&values, &d, &cfg)?;
    }

    #[test]
    fn stepped_series_are_well_formed(values in stepped(), cfg in any_config()) {
        let d = detect(&values, &cfg).unwrap();
        check_structure(&values, &d, &cfg)?;
    }

    #[test]
    fn ramped_series_are_well_formed(values in ramped(), cfg in any_config()) {
        let d = detect(&values, &cfg).unwrap();
        check_structure(&values, &d, &cfg)?;
    }

    #[test]
    fn scaling_by_a_positive_constant_keeps_indices(
        values in stepped(),
        c in prop::sample::select(vec![1e-3, 0.37, 2.0, 1000.0, 12_345.678]),
    ) {
        let cfg = DetectConfig::default();
        let idx = |v: &[f64]| -> Vec<usize> {
            detect(v, &cfg).unwrap().change_points().iter().map(|c| c.index).collect()
        };
        let scaled: Vec<f64> = values.iter().map(|v| v * c).collect();
        prop_assert_eq!(idx(&values), idx(&scaled));
    }

    #[test]
    fn incremental_equals_full_run_on_the_window(
        values in stepped(),
        extra in stepped(),
        margin in 0usize..120,
    ) {
        let cfg = DetectConfig { incremental_margin: margin, ..DetectConfig::default() };
        let previous = detect(&values, &cfg).unwrap().change_points().to_vec();
        let mut all = values.clone();
        all.extend_from_slice(&extra);
        let inc = detect_incremental(&all, &previous, &cfg).unwrap();
        let start = incremental_window_start(&previous, &cfg);
        if start == 0 {
            prop_assert_eq!(inc, detect(&all, &cfg).unwrap());
        } else {
            let mut expected: Vec<_> = previous.iter().filter(|c| c.index <= start).cloned().collect();
            let window = detect(&all[start..], &cfg).unwrap();
            for mut cp in window.change_points().iter().cloned() {
                cp.index += start;
                cp.before_start += start;
                cp.after_end += start;
                expected.push(cp);
            }
            let drifts = window.drifts().iter().cloned().map(|mut d| {
                d.start += start;
                d.end += start;
                d
            }).collect();
            prop_assert!(previous.iter().any(|c| c.index == start));
            prop_assert_eq!(inc, Detection::Done { change_points: expected, drifts });
        }
    }
}
