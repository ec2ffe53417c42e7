//! Incremental detection and the FDR filter across series.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_detect::fdr::{fdr_filter, fdr_mask};
use perfwatch_detect::rng::Rng;
use perfwatch_detect::{
    detect, detect_incremental, incremental_window_start, ChangePoint, DetectConfig, DetectError,
};

fn steps(levels: &[(f64, usize)], seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    levels
        .iter()
        .flat_map(|&(l, n)| {
            (0..n)
                .map(|_| l * (1.0 + 0.01 * rng.normal()))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn cp(index: usize, p_value: f64) -> ChangePoint {
    ChangePoint {
        index,
        before_start: 0,
        after_end: index + 10,
        before_median: 1.0,
        after_median: 2.0,
        before_mean: 1.0,
        after_mean: 2.0,
        relative_change: 1.0,
        absolute_change: 1.0,
        p_value,
        energy: 1.0,
    }
}

#[test]
fn window_starts_at_a_boundary_at_least_margin_before_the_newest_change() {
    let cfg = DetectConfig {
        incremental_margin: 100,
        ..DetectConfig::default()
    };
    assert_eq!(incremental_window_start(&[], &cfg), 0);
    assert_eq!(incremental_window_start(&[cp(50, 0.0)], &cfg), 0);
    let prev = [cp(100, 0.0), cp(300, 0.0), cp(450, 0.0)];
    // 450 − 100 = 350: the latest boundary ≤ 350 is 300.
    assert_eq!(incremental_window_start(&prev, &cfg), 300);
    let cfg = DetectConfig {
        incremental_margin: 200,
        ..cfg
    };
    assert_eq!(incremental_window_start(&prev, &cfg), 100);
}

#[test]
fn appended_regression_is_found_and_old_changes_are_kept() {
    let cfg = DetectConfig::default();
    let v = steps(&[(100.0, 300), (80.0, 300), (120.0, 300), (90.0, 300)], 9);
    let previous = detect(&v, &cfg).unwrap().change_points().to_vec();
    assert_eq!(
        previous.iter().map(|c| c.index).collect::<Vec<_>>(),
        vec![300, 600, 900]
    );
    let mut more = v.clone();
    more.extend(steps(&[(130.0, 20)], 10));
    let inc = detect_incremental(&more, &previous, &cfg).unwrap();
    let idx: Vec<usize> = inc.change_points().iter().map(|c| c.index).collect();
    assert_eq!(idx, vec![300, 600, 900, 1200]);
    // The confirmed prefix is returned untouched.
    assert_eq!(inc.change_points()[0], previous[0]);
    assert_eq!(inc.change_points()[..2], previous[..2]);
    // Same answer as the full run here.
    let full: Vec<usize> = detect(&more, &cfg)
        .unwrap()
        .change_points()
        .iter()
        .map(|c| c.index)
        .collect();
    assert_eq!(idx, full);
}

#[test]
fn previous_change_point_beyond_the_series_is_an_error() {
    let v = vec![1.0; 50];
    assert_eq!(
        detect_incremental(&v, &[cp(60, 0.0)], &DetectConfig::default()),
        Err(DetectError::PreviousOutOfRange { index: 60, len: 50 })
    );
}

#[test]
fn fdr_counts_silent_series_and_keeps_strong_findings() {
    // Three series: one strong, one weak change, and one silent series counting as a test.
    let a = vec![cp(10, 1e-8)];
    let b = vec![cp(20, 0.02)];
    let c: Vec<ChangePoint> = vec![];
    // m = 3, sorted p = [1e-8, 0.02, 1]: 1e-8 ≤ 0.05/3 and 0.02 ≤ 0.1/3 pass; 1 > 0.05.
    assert_eq!(
        fdr_mask(&[a.clone(), b.clone(), c.clone()], 0.05),
        vec![vec![true], vec![true], vec![]]
    );
    // With 20 silent series, m = 22: 0.02 > 2·0.05/22 = 0.0045 and is dropped.
    let mut many = vec![a.clone(), b.clone()];
    many.extend(std::iter::repeat_n(c.clone(), 20));
    let kept = fdr_filter(&many, 0.05);
    assert_eq!(kept[0].len(), 1);
    assert!(kept[1].is_empty());
    assert!(kept[2..].iter().all(Vec::is_empty));
    assert!(fdr_mask::<Vec<ChangePoint>>(&[], 0.05).is_empty());
}
