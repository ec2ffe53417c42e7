//! Behaviour of `compare_all` through the public API: known answers for whole
//! comparisons, edge cases, and properties.
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_compare::{
    compare_all, ChangeMethod, CompareConfig, CompareError, Note, PMethod, SeriesComparison,
    SeriesInput, Verdict,
};
use perfwatch_core::Direction;
use proptest::prelude::*;

fn input(
    key: &str,
    group: &str,
    dir: Direction,
    base: &[f64],
    head: &[f64],
) -> SeriesInput<String> {
    SeriesInput {
        key: key.to_string(),
        group: group.to_string(),
        direction: dir,
        base: Some(base.to_vec()),
        head: Some(head.to_vec()),
    }
}

fn run(
    inputs: Vec<SeriesInput<String>>,
) -> (
    Vec<SeriesComparison<String>>,
    perfwatch_compare::ComparisonSummary,
) {
    compare_all(inputs, &CompareConfig::default()).expect("the default configuration is valid")
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

const BASE: [f64; 10] = [
    100.0, 101.0, 99.0, 102.0, 98.0, 100.5, 101.5, 99.5, 100.2, 99.8,
];

#[test]
fn pr_ten_percent_slower_is_a_regression() {
    let head: Vec<f64> = BASE.iter().map(|v| v * 1.1).collect();
    let (rows, sum) = run(vec![input("op", "suite", Direction::Lower, &BASE, &head)]);
    let r = &rows[0];
    assert_eq!(r.verdict, Verdict::Regression);
    assert!(r.significant);
    assert_eq!(r.p_method, Some(PMethod::Exact));
    // Overlap is small but not zero: U is computed from the data, p from the exact law.
    assert!(r.p_value.unwrap() < 0.001);
    // Head is exactly base·1.1, so every log-difference median is ln 1.1 up to rounding.
    close(r.ratio.unwrap(), 1.1, 0.02);
    let ci = r.change_ci.unwrap();
    assert!(ci.low <= r.change_pct.unwrap() && r.change_pct.unwrap() <= ci.high);
    assert!(ci.low > 0.0);
    assert_eq!(r.change_method, Some(ChangeMethod::LogRatio));
    assert_eq!(sum.regressions, 1);
    // The same data read as throughput (higher is better) is an improvement.
    let (rows, _) = run(vec![input("op", "suite", Direction::Higher, &BASE, &head)]);
    assert_eq!(rows[0].verdict, Verdict::Improvement);
}

#[test]
fn identical_samples_mean_no_change() {
    let (rows, sum) = run(vec![input("op", "s", Direction::Lower, &BASE, &BASE)]);
    let r = &rows[0];
    assert_eq!(r.p_value, Some(1.0));
    assert_eq!(r.ratio, Some(1.0));
    assert_eq!(r.change_pct, Some(0.0));
    assert_eq!(r.verdict, Verdict::NoChange);
    assert_eq!(sum.unchanged, 1);
    close(sum.overall.ratio.unwrap(), 1.0, 0.0);
}

#[test]
fn fully_separated_four_vs_four_is_the_smallest_significant_case() {
    let (rows, _) = run(vec![input(
        "op",
        "s",
        Direction::Lower,
        &[1.0, 2.0, 3.0, 4.0],
        &[5.0, 6.0, 7.0, 8.0],
    )]);
    // scipy.stats.mannwhitneyu([1,2,3,4],[5,6,7,8]) → p = 0.028571 (exact).
    close(rows[0].p_value.unwrap(), 2.0 / 70.0, 1e-15);
    assert_eq!(rows[0].verdict, Verdict::Regression);
    // 3 vs 3 can never reach 0.05 (best p = 0.1): say how many are needed.
    let (rows, sum) = run(vec![input(
        "op",
        "s",
        Direction::Lower,
        &[1.0, 2.0, 3.0],
        &[5.0, 6.0, 7.0],
    )]);
    assert_eq!(rows[0].verdict, Verdict::NotEnoughSamples { needed: 4 });
    assert_eq!(rows[0].p_adjusted, None);
    assert!(rows[0].ratio.is_some(), "the estimate is still shown");
    assert_eq!(sum.inconclusive, 1);
}

#[test]
fn single_samples_are_not_enough_but_still_estimated() {
    let (rows, _) = run(vec![input("op", "s", Direction::Lower, &[10.0], &[12.0])]);
    let r = &rows[0];
    assert_eq!(r.verdict, Verdict::NotEnoughSamples { needed: 4 });
    assert_eq!(r.p_value, Some(1.0));
    close(r.ratio.unwrap(), 1.2, 1e-12);
    let b = r.base.unwrap();
    assert_eq!(
        (b.n, b.median, b.ci_low, b.ci_high, b.confidence),
        (1, 10.0, 10.0, 10.0, 0.0)
    );
    assert!(r.notes.contains(&Note::LowConfidenceInterval));
}

#[test]
fn benjamini_hochberg_across_series() {
    // Three fully separated 4-vs-4 series (raw p = 2/70 each) and one identical (p = 1).
    // BH with m = 4: adjusted = 2/70 · 4/3 = 0.0381 for the three → significant at 0.05.
    let sep = |k: &str| {
        input(
            k,
            "s",
            Direction::Lower,
            &[1.0, 2.0, 3.0, 4.0],
            &[5.0, 6.0, 7.0, 8.0],
        )
    };
    let same = |k: &str| {
        input(
            k,
            "s",
            Direction::Lower,
            &[1.0, 2.0, 3.0, 4.0],
            &[1.0, 2.0, 3.0, 4.0],
        )
    };
    let (rows, sum) = run(vec![sep("a"), sep("b"), sep("c"), same("d")]);
    for r in &rows[..3] {
        close(r.p_adjusted.unwrap(), 2.0 / 70.0 * 4.0 / 3.0, 1e-15);
        assert_eq!(r.verdict, Verdict::Regression);
    }
    assert_eq!(rows[3].p_adjusted, Some(1.0));
    assert_eq!(sum.regressions, 3);
    // With ten more null series m = 14: adjusted = 2/70 · 14/3 = 0.133 → nothing passes,
    // though each raw p is below 0.05. Raw p-values are reported unchanged.
    let mut inputs = vec![sep("a"), sep("b"), sep("c")];
    inputs.extend((0..11).map(|i| same(&format!("n{i}"))));
    let (rows, sum) = run(inputs);
    for r in &rows[..3] {
        close(r.p_value.unwrap(), 2.0 / 70.0, 1e-15);
        close(r.p_adjusted.unwrap(), 2.0 / 70.0 * 14.0 / 3.0, 1e-15);
        assert_eq!(r.verdict, Verdict::NoChange);
        assert!(!r.significant);
    }
    assert_eq!(sum.regressions, 0);
    // fdr_q = 1 turns FDR control off: alpha alone decides again.
    let cfg = CompareConfig {
        fdr_q: 1.0,
        ..Default::default()
    };
    let mut inputs = vec![sep("a")];
    inputs.extend((0..11).map(|i| same(&format!("n{i}"))));
    let (rows, _) = compare_all(inputs, &cfg).unwrap();
    assert_eq!(rows[0].verdict, Verdict::Regression);
}

#[test]
fn geomean_per_group_and_overall() {
    let (_, sum) = run(vec![
        input("a1", "A", Direction::Lower, &[100.0], &[200.0]),
        input("a2", "A", Direction::Lower, &[100.0], &[50.0]),
        input("b1", "B", Direction::Higher, &[10.0], &[40.0]),
        SeriesInput {
            key: "new".into(),
            group: "B".into(),
            direction: Direction::Lower,
            base: None,
            head: Some(vec![1.0]),
        },
        SeriesInput {
            key: "old".into(),
            group: "C".into(),
            direction: Direction::Lower,
            base: Some(vec![1.0]),
            head: None,
        },
    ]);
    assert_eq!((sum.added, sum.removed, sum.total), (1, 1, 5));
    // Only groups with series on both sides appear.
    assert_eq!(
        sum.groups
            .iter()
            .map(|g| g.group.as_str())
            .collect::<Vec<_>>(),
        ["A", "B"]
    );
    let a = &sum.groups[0].geomean;
    close(a.ratio.unwrap(), 1.0, 1e-12); // √(2 · 0.5)
    close(a.better_ratio.unwrap(), 1.0, 1e-12);
    let b = &sum.groups[1].geomean;
    close(b.ratio.unwrap(), 4.0, 1e-12);
    close(b.better_pct.unwrap(), 300.0, 1e-9); // throughput ×4 = 300 % better
                                               // Overall over the three series: ∛(2 · 0.5 · 4) = 4^(1/3) = 1.587401…
    close(sum.overall.ratio.unwrap(), 4f64.powf(1.0 / 3.0), 1e-12);
    // Direction-aware: ∛(0.5 · 2 · 4) — the same here, since the halving and doubling
    // swap roles.
    close(
        sum.overall.better_ratio.unwrap(),
        4f64.powf(1.0 / 3.0),
        1e-12,
    );
    assert_eq!(sum.overall.series, 3);
}

#[test]
fn added_and_removed_series() {
    let (rows, _) = run(vec![
        SeriesInput {
            key: "new".into(),
            group: "g".into(),
            direction: Direction::Lower,
            base: None,
            head: Some(vec![1.0, 2.0]),
        },
        SeriesInput {
            key: "old".into(),
            group: "g".into(),
            direction: Direction::Lower,
            base: Some(vec![1.0]),
            head: None,
        },
    ]);
    assert_eq!(rows[0].verdict, Verdict::Added);
    assert!(rows[0].base.is_none() && rows[0].head.is_some());
    assert_eq!(rows[1].verdict, Verdict::Removed);
    assert_eq!(rows[0].p_value, None);
}

#[test]
fn zero_base_median_has_no_ratio_but_still_a_verdict() {
    // Error counts: base always 0, head 3..=7 — clearly worse, but no ratio exists.
    let base = [0.0; 8];
    let head = [3.0, 4.0, 5.0, 6.0, 7.0, 3.0, 4.0, 5.0];
    let (rows, sum) = run(vec![input("errors", "s", Direction::Lower, &base, &head)]);
    let r = &rows[0];
    assert_eq!(
        (r.ratio, r.change_pct, r.change_ci, r.median_ratio),
        (None, None, None, None)
    );
    assert!(r.notes.contains(&Note::RatioUndefined));
    assert!(r.notes.contains(&Note::RelativeToBaseMedian));
    assert_eq!(r.shift.unwrap().estimate, 4.5);
    assert_eq!(r.verdict, Verdict::Regression);
    assert_eq!(sum.overall.excluded, 1);
    // Nothing non-finite leaks: the JSON round-trips exactly.
    let json = serde_json::to_string(&rows).unwrap();
    let back: Vec<SeriesComparison<String>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rows);
}

#[test]
fn a_subnormal_base_median_gives_no_percentage_rather_than_infinity() {
    // Found by the property test below: shift / |median| is finite (~5e307) but ×100 is
    // not, and an infinite change would be written to JSON as null.
    let base = [-8.084_186_775_315_483e-300];
    let head = [-450_383_233.261_084_9];
    let (rows, _) = run(vec![input("x", "s", Direction::Lower, &base, &head)]);
    let r = &rows[0];
    assert_eq!((r.ratio, r.change_pct, r.change_ci), (None, None, None));
    assert!(r.notes.contains(&Note::RatioUndefined));
    let json = serde_json::to_string(&rows).unwrap();
    let back: Vec<SeriesComparison<String>> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, rows);
}

#[test]
fn non_positive_values_use_the_shift_over_the_base_median() {
    let base = [-1.0, 0.0, 1.0, 2.0, 3.0, 2.0, 1.0, 2.0];
    let head = [9.0, 10.0, 11.0, 12.0, 13.0, 12.0, 11.0, 12.0];
    let (rows, _) = run(vec![input("delta", "s", Direction::Higher, &base, &head)]);
    let r = &rows[0];
    assert_eq!(r.change_method, Some(ChangeMethod::ShiftOverBaseMedian));
    // Shift is exactly +10 (head = base + 10); base median 1.5 → +666.7 %.
    assert_eq!(r.shift.unwrap().estimate, 10.0);
    close(r.change_pct.unwrap(), 1000.0 / 1.5, 1e-9);
    assert_eq!(r.verdict, Verdict::Improvement);
}

#[test]
fn non_finite_samples_are_skipped_and_reported() {
    let base = [1.0, f64::NAN, 2.0, 3.0, 4.0];
    let head = [5.0, 6.0, f64::INFINITY, 7.0, 8.0, f64::NEG_INFINITY];
    let (rows, _) = run(vec![input("op", "s", Direction::Lower, &base, &head)]);
    let r = &rows[0];
    assert_eq!((r.base.unwrap().n, r.head.unwrap().n), (4, 4));
    assert!(r
        .notes
        .contains(&Note::NonFiniteDropped { base: 1, head: 2 }));
    close(r.p_value.unwrap(), 2.0 / 70.0, 1e-15);
    // A side with nothing finite left is present but untestable, not "removed".
    let (rows, _) = run(vec![input(
        "op",
        "s",
        Direction::Lower,
        &[f64::NAN],
        &[1.0, 2.0],
    )]);
    assert!(rows[0].base.is_none());
    assert_eq!(rows[0].verdict, Verdict::NotEnoughSamples { needed: 4 });
}

#[test]
fn invalid_config_is_an_error() {
    let cfg = CompareConfig {
        confidence: 1.5,
        ..Default::default()
    };
    let err = compare_all(Vec::<SeriesInput<u32>>::new(), &cfg).unwrap_err();
    assert!(matches!(
        err,
        CompareError::InvalidConfig {
            field: "confidence",
            ..
        }
    ));
}

#[test]
fn large_series_use_the_normal_and_bisection_paths() {
    // 400 vs 400 (160k pairs > the 100k materialisation limit; n·m > 2500 → normal p).
    let base: Vec<f64> = (0..400)
        .map(|i| 1000.0 + (i % 37) as f64 + i as f64 * 1e-3)
        .collect();
    let head: Vec<f64> = base.iter().map(|v| v * 1.05).collect();
    let (rows, _) = run(vec![input("big", "s", Direction::Lower, &base, &head)]);
    let r = &rows[0];
    assert_eq!(r.p_method, Some(PMethod::Normal));
    assert!(r.p_value.unwrap() < 1e-10);
    close(r.ratio.unwrap(), 1.05, 0.01);
    assert_eq!(r.verdict, Verdict::Regression);
}

fn samples() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![
            8 => 1e-3f64..1e6,
            1 => Just(0.0),
            1 => -1e3f64..1e3,
            1 => prop::num::f64::ANY,
            1 => prop::sample::select(vec![1.0, 2.0, 1e300, -1e300, 5e-324]),
        ],
        0..25,
    )
}

fn positive() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(
        prop_oneof![4 => 1e-3f64..1e6, 1 => prop::sample::select(vec![1.0, 2.0, 3.0])],
        1..25,
    )
}

fn flip(v: Verdict) -> Verdict {
    match v {
        Verdict::Regression => Verdict::Improvement,
        Verdict::Improvement => Verdict::Regression,
        other => other,
    }
}

proptest! {
    // No failure-persistence file: integration tests have no lib.rs beside them.
    #![proptest_config(ProptestConfig { cases: perfwatch_core::proptest_cases(400), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn never_panics_and_outputs_are_sane(
        series in prop::collection::vec((prop::option::weighted(0.9, samples()), prop::option::weighted(0.9, samples()), any::<bool>()), 0..12),
    ) {
        let inputs: Vec<SeriesInput<usize>> = series.into_iter().enumerate().map(|(i, (b, h, higher))| SeriesInput {
            key: i, group: format!("g{}", i % 3),
            direction: if higher { Direction::Higher } else { Direction::Lower },
            base: b, head: h,
        }).collect();
        let (rows, sum) = compare_all(inputs, &CompareConfig::default()).unwrap();
        for r in &rows {
            if let Some(p) = r.p_value { prop_assert!((0.0..=1.0).contains(&p)); }
            if let Some(q) = r.p_adjusted {
                prop_assert!((0.0..=1.0).contains(&q));
                // BH never lowers a p-value (up to rounding of p·m/rank).
                prop_assert!(q >= r.p_value.unwrap() * (1.0 - 1e-12));
            }
            for s in [r.base, r.head].into_iter().flatten() {
                prop_assert!(s.ci_low <= s.median && s.median <= s.ci_high);
            }
            if let (Some(c), Some(ci)) = (r.change_pct, r.change_ci) {
                prop_assert!(ci.low <= c && c <= ci.high, "{:?}", r);
            }
            if let Some(s) = r.shift { prop_assert!(s.low <= s.estimate && s.estimate <= s.high); }
        }
        // No NaN/∞ anywhere: serde_json would write null and fail to read it back.
        let json = serde_json::to_string(&(&rows, &sum)).unwrap();
        let back: (Vec<SeriesComparison<usize>>, perfwatch_compare::ComparisonSummary) = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(back.0, rows);
        prop_assert_eq!(back.1, sum);
    }

    #[test]
    fn swapping_base_and_head_inverts_the_ratio_and_the_verdict(b in positive(), h in positive(), higher in any::<bool>()) {
        let dir = if higher { Direction::Higher } else { Direction::Lower };
        let fwd = compare_all(vec![input("x", "g", dir, &b, &h)], &CompareConfig::default()).unwrap().0.remove(0);
        let rev = compare_all(vec![input("x", "g", dir, &h, &b)], &CompareConfig::default()).unwrap().0.remove(0);
        prop_assert_eq!(fwd.p_value, rev.p_value);
        let (rf, rr) = (fwd.ratio.unwrap(), rev.ratio.unwrap());
        prop_assert!((rf * rr - 1.0).abs() < 1e-9, "{} · {}", rf, rr);
        prop_assert_eq!(flip(fwd.verdict), rev.verdict);
        let (cf, cr) = (fwd.change_ci.unwrap(), rev.change_ci.unwrap());
        // Interval of 1/ratio is [1/high, 1/low].
        prop_assert!(((1.0 + cf.low / 100.0) * (1.0 + cr.high / 100.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn scaling_all_samples_leaves_p_and_ratio_unchanged(b in positive(), h in positive(), pow in -30i32..30) {
        let c = 2f64.powi(pow);
        let sb: Vec<f64> = b.iter().map(|v| v * c).collect();
        let sh: Vec<f64> = h.iter().map(|v| v * c).collect();
        let one = compare_all(vec![input("x", "g", Direction::Lower, &b, &h)], &CompareConfig::default()).unwrap().0.remove(0);
        let two = compare_all(vec![input("x", "g", Direction::Lower, &sb, &sh)], &CompareConfig::default()).unwrap().0.remove(0);
        prop_assert_eq!(one.p_value, two.p_value);
        prop_assert!((one.ratio.unwrap() / two.ratio.unwrap() - 1.0).abs() < 1e-9);
        prop_assert_eq!(one.verdict, two.verdict);
    }
}

#[test]
fn a_ratio_too_large_for_percent_leaves_the_geomean_percent_empty() {
    let inputs = vec![SeriesInput {
        key: 0usize,
        group: "g0".into(),
        direction: Direction::Lower,
        base: Some(vec![3.1566524307877543e-302]),
        head: Some(vec![878468.9656582308]),
    }];
    let (rows, sum) = compare_all(inputs, &CompareConfig::default()).unwrap();
    assert_eq!(sum.overall.change_pct, None);
    // What is written can be read back: no ∞ became a JSON null in an f64 field.
    let json = serde_json::to_string(&(&rows, &sum)).unwrap();
    let back: (
        Vec<SeriesComparison<usize>>,
        perfwatch_compare::ComparisonSummary,
    ) = serde_json::from_str(&json).unwrap();
    assert_eq!(back.1, sum);
}
