//! The verdict of one series: regression, improvement, no change, or too few samples.
//!
//! Rules, in order:
//! 1. **Not enough samples** when even the most extreme data could not be significant:
//!    the exact Mann–Whitney minimum p, `2 / C(n+m, n)`, exceeds `min(alpha, fdr_q)`.
//!    `needed` is the smallest equal per-side count that can reach significance
//!    (4 at 0.05). Saying so beats a silent "no change" that was never testable.
//! 2. **Significant** when the raw p ≤ `alpha` *and* the BH-adjusted p ≤ `fdr_q`.
//! 3. **Large enough** when the estimated change clears `min_change`. On the log scale
//!    the test is `|ln(head/base)| ≥ ln(1 + min_change)`, symmetric so that swapping
//!    base and head never flips a verdict at the threshold (a 1 % slowdown and the
//!    matching speed-up, ratio 1/1.01, are treated alike).
//! 4. Significant and large enough → Regression or Improvement by the measure's
//!    [`Direction`]; anything else → NoChange.

use crate::config::CompareConfig;
use crate::mann_whitney::{min_p_value, samples_needed_per_side};
use crate::run_level::{runs_needed, RunTest};
use perfwatch_core::Direction;
use serde::{Deserialize, Serialize};

/// Outcome for one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly worse, by at least the minimum change.
    Regression,
    /// Significantly better, by at least the minimum change.
    Improvement,
    /// Not significant, or smaller than the minimum change.
    NoChange,
    /// The sample sizes can never give a significant result; `needed` samples per
    /// side can.
    NotEnoughSamples { needed: usize },
    /// Present in head only.
    Added,
    /// Present in base only.
    Removed,
}

/// The size of a change, in whichever form could be estimated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect {
    /// `ln(head/base)` (Hodges–Lehmann on log values).
    LogRatio(f64),
    /// `(head − base) / |base median|` as a fraction.
    Relative(f64),
    /// Base median is zero: only the absolute shift `head − base` is known, so any
    /// non-zero shift counts as large enough.
    ShiftOnly(f64),
    /// No estimate (e.g. it overflowed).
    Unknown,
}

impl Effect {
    /// Sign of the change (+1 head larger, −1 head smaller, 0 none) and whether it
    /// clears `min_change`.
    fn sign_and_large(self, min_change: f64) -> (f64, bool) {
        let sign = |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                0.0
            }
        };
        match self {
            Effect::LogRatio(l) => (sign(l), l != 0.0 && l.abs() >= min_change.ln_1p()),
            Effect::Relative(r) => (sign(r), r != 0.0 && r.abs() >= min_change),
            Effect::ShiftOnly(s) => (sign(s), s != 0.0),
            Effect::Unknown => (0.0, false),
        }
    }
}

/// Evidence for one series with both sides present.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Evidence {
    pub n_base: usize,
    pub n_head: usize,
    pub p_value: f64,
    /// BH-adjusted p; `None` when the series is not in the FDR family (too few samples).
    pub p_adjusted: Option<f64>,
    pub effect: Effect,
    /// The run-level test, when the series' history was given: it then decides (see
    /// [`crate::run_level`]) and `p_value` is its p.
    pub run: Option<RunTest>,
}

impl Evidence {
    /// Whether this series takes part in the FDR family (could be significant at all).
    pub fn testable(&self, cfg: &CompareConfig) -> bool {
        self.run.is_some() || testable(self.n_base, self.n_head, cfg)
    }
}

/// Whether sizes `n`, `m` can ever be significant under `cfg`.
pub fn testable(n: usize, m: usize, cfg: &CompareConfig) -> bool {
    min_p_value(n, m) <= cfg.alpha.min(cfg.fdr_q)
}

/// Equal per-side sample count that can reach significance under `cfg`.
pub fn samples_needed(cfg: &CompareConfig) -> usize {
    samples_needed_per_side(cfg.alpha.min(cfg.fdr_q))
}

/// Verdict and "statistically significant" flag (the latter regardless of size).
pub fn decide(direction: Direction, ev: &Evidence, cfg: &CompareConfig) -> (Verdict, bool) {
    if let Some(t) = ev.run {
        return decide_runs(direction, &t, ev.p_adjusted, cfg);
    }
    if !testable(ev.n_base, ev.n_head, cfg) {
        let needed = samples_needed(cfg);
        return (Verdict::NotEnoughSamples { needed }, false);
    }
    let significant = ev.p_value <= cfg.alpha && ev.p_adjusted.is_some_and(|q| q <= cfg.fdr_q);
    let (sign, large) = ev.effect.sign_and_large(cfg.min_change);
    if !(significant && large) || sign == 0.0 {
        return (Verdict::NoChange, significant);
    }
    (by_direction(direction, sign > 0.0), significant)
}

/// The run-level rule: within the noise fence → no change; beyond it and significant
/// → by direction; beyond it but not significant → inconclusive, needing
/// [`runs_needed`] runs per side.
fn decide_runs(
    direction: Direction,
    t: &RunTest,
    p_adjusted: Option<f64>,
    cfg: &CompareConfig,
) -> (Verdict, bool) {
    let significant = t.p_value <= cfg.alpha && p_adjusted.is_some_and(|q| q <= cfg.fdr_q);
    if t.within_fence() || t.estimate == 0.0 {
        return (Verdict::NoChange, significant);
    }
    if !significant {
        let needed = runs_needed(t, cfg);
        return (Verdict::NotEnoughSamples { needed }, false);
    }
    (by_direction(direction, t.estimate > 0.0), significant)
}

fn by_direction(direction: Direction, head_larger: bool) -> Verdict {
    let worse = match direction {
        Direction::Lower => head_larger,
        Direction::Higher => !head_larger,
    };
    if worse {
        Verdict::Regression
    } else {
        Verdict::Improvement
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(n: usize, p: f64, effect: Effect) -> Evidence {
        Evidence {
            n_base: n,
            n_head: n,
            p_value: p,
            p_adjusted: Some(p),
            effect,
            run: None,
        }
    }

    #[test]
    fn direction_decides_regression_or_improvement() {
        let cfg = CompareConfig::default();
        let slower = ev(10, 0.001, Effect::LogRatio(0.1));
        assert_eq!(
            decide(Direction::Lower, &slower, &cfg).0,
            Verdict::Regression
        );
        assert_eq!(
            decide(Direction::Higher, &slower, &cfg).0,
            Verdict::Improvement
        );
        let faster = ev(10, 0.001, Effect::Relative(-0.1));
        assert_eq!(
            decide(Direction::Lower, &faster, &cfg).0,
            Verdict::Improvement
        );
        assert_eq!(
            decide(Direction::Higher, &faster, &cfg).0,
            Verdict::Regression
        );
    }

    #[test]
    fn needs_significance_and_size() {
        let cfg = CompareConfig::default();
        // Not significant.
        let (v, sig) = decide(Direction::Lower, &ev(10, 0.2, Effect::LogRatio(0.5)), &cfg);
        assert_eq!((v, sig), (Verdict::NoChange, false));
        // Significant but only 0.5 %.
        let small = ev(10, 1e-4, Effect::LogRatio(0.005f64.ln_1p()));
        assert_eq!(
            decide(Direction::Lower, &small, &cfg),
            (Verdict::NoChange, true)
        );
        // Raw p fine but BH-adjusted p too large.
        let mut e = ev(10, 0.01, Effect::LogRatio(0.2));
        e.p_adjusted = Some(0.2);
        assert_eq!(
            decide(Direction::Lower, &e, &cfg),
            (Verdict::NoChange, false)
        );
        // fdr_q = 1 switches FDR off: alpha alone decides.
        let off = CompareConfig { fdr_q: 1.0, ..cfg };
        assert_eq!(decide(Direction::Lower, &e, &off).0, Verdict::Regression);
    }

    #[test]
    fn threshold_is_symmetric_on_the_log_scale() {
        let cfg = CompareConfig {
            min_change: 0.01,
            ..Default::default()
        };
        let up = 1.01f64.ln();
        let (v_up, _) = decide(Direction::Lower, &ev(10, 1e-4, Effect::LogRatio(up)), &cfg);
        let (v_dn, _) = decide(Direction::Lower, &ev(10, 1e-4, Effect::LogRatio(-up)), &cfg);
        assert_eq!((v_up, v_dn), (Verdict::Regression, Verdict::Improvement));
    }

    #[test]
    fn zero_base_median_uses_the_sign_of_the_shift() {
        let cfg = CompareConfig::default();
        let e = ev(10, 1e-4, Effect::ShiftOnly(3.0));
        assert_eq!(decide(Direction::Lower, &e, &cfg).0, Verdict::Regression);
        let e = ev(10, 1e-4, Effect::Unknown);
        assert_eq!(decide(Direction::Lower, &e, &cfg).0, Verdict::NoChange);
    }

    #[test]
    fn too_few_samples_says_how_many() {
        let cfg = CompareConfig::default();
        let e = ev(3, 0.1, Effect::LogRatio(1.0));
        assert_eq!(
            decide(Direction::Lower, &e, &cfg).0,
            Verdict::NotEnoughSamples { needed: 4 }
        );
        // 4 vs 4 is testable at 0.05: minimum p = 2/70.
        assert!(testable(4, 4, &cfg));
        // Unbalanced sizes can be enough: 2 vs 10 reaches 2/66 = 0.03.
        assert!(testable(2, 10, &cfg));
        assert!(!testable(1, 20, &cfg)); // 2/21 = 0.095
                                         // A stricter FDR level raises the bar: at q = 0.01 one needs 5 per side.
        let strict = CompareConfig { fdr_q: 0.01, ..cfg };
        assert_eq!(
            decide(
                Direction::Lower,
                &ev(4, 0.03, Effect::LogRatio(1.0)),
                &strict
            )
            .0,
            Verdict::NotEnoughSamples { needed: 5 }
        );
    }

    #[test]
    fn verdict_json_shape() {
        let j = serde_json::to_string(&Verdict::NotEnoughSamples { needed: 4 }).unwrap();
        assert_eq!(j, r#"{"kind":"not_enough_samples","needed":4}"#);
        assert_eq!(
            serde_json::to_string(&Verdict::Regression).unwrap(),
            r#"{"kind":"regression"}"#
        );
    }
}
