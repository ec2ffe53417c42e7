//! The run-level verdict rule on simulated series: its false-positive rate on
//! change-free series stays within the bound written in docs/statistics.md, and it
//! finds shifts of 3× the run-to-run noise with ≥ 95 % power from 8 runs per side.
//!
//! Each trial is what perfwatch does for a release step: 60 runs of main-branch history
//! give the noise, then k base runs and l head runs (each with 3 samples around its run
//! level) are compared. Rates are over 2,000 seeded trials, so they are exact for the
//! seed and the bounds have room for the Monte-Carlo error (±1 % at 5 %).
#![allow(
    clippy::unwrap_used,
    clippy::too_many_lines,
    clippy::cognitive_complexity,
    reason = "test code: a failing unwrap is the test failing; scenarios read top to bottom"
)]

use perfwatch_compare::{
    compare_all_with_history, run_noise, CompareConfig, RunLevels, Scale, SeriesInput, Verdict,
};
use perfwatch_core::Direction;
use proptest::prelude::*;

struct Rng(u64);

impl Rng {
    fn uniform(&mut self) -> f64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 11) as f64 + 0.5) / ((1u64 << 53) as f64)
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.uniform(), self.uniform());
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }
    /// Student t with 3 degrees of freedom, scaled to unit variance: heavy tails.
    fn heavy(&mut self) -> f64 {
        let z = self.normal();
        let chi: f64 = (0..3).map(|_| self.normal().powi(2)).sum();
        z / (chi / 3.0).sqrt() / 3f64.sqrt()
    }
}

#[derive(Clone, Copy)]
enum Noise {
    Normal,
    Heavy,
}

/// One trial: the verdict of a step of `shift` (a log-ratio) with `k` runs per side.
fn trial(rng: &mut Rng, sigma: f64, k: usize, shift: f64, noise: Noise) -> Verdict {
    let level = |rng: &mut Rng, at: f64| {
        let e = match noise {
            Noise::Normal => rng.normal(),
            Noise::Heavy => rng.heavy(),
        };
        100.0 * (at + sigma * e).exp()
    };
    let history: Vec<f64> = (0..60).map(|_| level(rng, 0.0)).collect();
    let base_runs: Vec<f64> = (0..k).map(|_| level(rng, 0.0)).collect();
    let head_runs: Vec<f64> = (0..k).map(|_| level(rng, shift)).collect();
    // Three samples per run around its level (within-run noise of σ/2).
    let samples = |runs: &[f64], rng: &mut Rng| -> Vec<f64> {
        runs.iter()
            .flat_map(|r| {
                (0..3)
                    .map(|_| r * (0.5 * sigma * rng.normal()).exp())
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let noise = run_noise(&history, Scale::Log).expect("60 runs give a noise estimate");
    let input = SeriesInput {
        key: 0,
        group: "g".into(),
        direction: Direction::Lower,
        base: Some(samples(&base_runs, rng)),
        head: Some(samples(&head_runs, rng)),
    };
    let levels = RunLevels {
        base: base_runs,
        head: head_runs,
        noise,
    };
    let (rows, _) =
        compare_all_with_history(vec![(input, Some(levels))], &CompareConfig::default())
            .expect("the default configuration is valid");
    rows[0].verdict
}

/// Share of `trials` trials with each outcome: (called in the right direction, called
/// the wrong way or on a null, inconclusive).
fn rates(seed: u64, sigma: f64, k: usize, shift: f64, noise: Noise) -> (f64, f64, f64) {
    let mut rng = Rng(seed);
    let trials = 2000;
    let (mut right, mut wrong, mut undecided) = (0, 0, 0);
    for _ in 0..trials {
        match trial(&mut rng, sigma, k, shift, noise) {
            Verdict::Regression if shift > 0.0 => right += 1,
            Verdict::Regression | Verdict::Improvement => wrong += 1,
            Verdict::NotEnoughSamples { .. } => undecided += 1,
            _ => {}
        }
    }
    let f = |c: i32| c as f64 / trials as f64;
    (f(right), f(wrong), f(undecided))
}

#[test]
fn false_positive_rate_on_change_free_series_is_within_the_documented_bound() {
    // docs/statistics.md: per series and before FDR control, ≤ 6 % with 1–3 runs per
    // side (≤ 10 % under heavy-tailed t₃ noise), ≤ 1.5 % from 8 runs, ≤ 0.5 % from 15.
    let mut failures = Vec::new();
    for (k, normal, heavy) in [
        (1, 0.06, 0.1),
        (3, 0.06, 0.1),
        (8, 0.015, 0.015),
        (15, 0.005, 0.005),
    ] {
        for noise in [Noise::Normal, Noise::Heavy] {
            let bound = match noise {
                Noise::Normal => normal,
                Noise::Heavy => heavy,
            };
            for sigma in [0.005, 0.03] {
                let (_, fp, undecided) = rates(11 + k as u64, sigma, k, 0.0, noise);
                eprintln!(
                    "null k={k} sigma={sigma} heavy={}: false positives {:.2} %, inconclusive {:.2} %",
                    matches!(noise, Noise::Heavy),
                    fp * 100.0,
                    undecided * 100.0
                );
                failures
                    .extend((fp > bound).then(|| format!("k={k} sigma={sigma}: {fp} > {bound}")));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn shifts_of_three_times_the_noise_are_found_with_95_percent_power() {
    for k in [8, 15] {
        for sigma in [0.005, 0.03] {
            let (power, wrong, _) = rates(29 + k as u64, sigma, k, 3.0 * sigma, Noise::Normal);
            eprintln!("3σ shift k={k} sigma={sigma}: power {:.2} %", power * 100.0);
            assert!(power >= 0.95, "k={k} sigma={sigma}: power {power}");
            assert_eq!(wrong, 0.0);
        }
    }
    // One run per side cannot reach 95 % (the difference of two runs has sd √2·σ), but
    // a large change is still decided, and in the right direction.
    let (power, wrong, _) = rates(5, 0.01, 1, 6.0 * 0.01, Noise::Normal);
    assert!(power >= 0.95 && wrong == 0.0, "single runs, 6σ: {power}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(perfwatch_core::proptest_cases(64)))]

    /// Swapping base and head turns a regression into an improvement (and keeps any
    /// other verdict), whatever the levels and noise.
    #[test]
    fn swapping_sides_mirrors_the_verdict(
        base in prop::collection::vec(1.0f64..1000.0, 1..12),
        head in prop::collection::vec(1.0f64..1000.0, 1..12),
        sigma in 0.0f64..0.3,
    ) {
        let noise = perfwatch_compare::Noise { scale: Scale::Log, sigma, runs: 60 };
        let run = |b: &Vec<f64>, h: &Vec<f64>| {
            let input = SeriesInput {
                key: 0,
                group: "g".into(),
                direction: Direction::Lower,
                base: Some(b.clone()),
                head: Some(h.clone()),
            };
            let levels = RunLevels { base: b.clone(), head: h.clone(), noise };
            compare_all_with_history(vec![(input, Some(levels))], &CompareConfig::default())
                .unwrap()
                .0
                .remove(0)
        };
        let (ab, ba) = (run(&base, &head), run(&head, &base));
        let mirrored = match ab.verdict {
            Verdict::Regression => Verdict::Improvement,
            Verdict::Improvement => Verdict::Regression,
            v => v,
        };
        prop_assert_eq!(ba.verdict, mirrored);
        // Every figure is finite and the p-value a probability.
        let p = ab.p_value.unwrap();
        prop_assert!((0.0..=1.0).contains(&p));
        prop_assert!(ab.change_pct.is_some_and(f64::is_finite));
    }
}
