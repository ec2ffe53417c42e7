//! The verdict when samples alone cannot decide: compare *run levels* (one median per
//! run) against the series' known run-to-run noise.
//!
//! A release has one tagged run; a pull request often one run per side. Three samples
//! vs three can never reach p ≤ 0.05 with a rank test, and pooled samples of several
//! runs overstate certainty (samples of one run share its machine state). The history
//! on the main branch does know how much one run's level moves from run to run
//! ([`crate::noise::run_noise`]), so:
//!
//! * **estimate** `Δ` = Hodges–Lehmann shift of the head run levels over the base run
//!   levels (median of pairwise differences) on the noise scale (log-ratio when all
//!   values are positive);
//! * **standard error** `se = σ · √(π/3 · (1/k + 1/l))` for k base and l head runs (the
//!   variance of a difference of means, inflated by 1/0.955, Hodges–Lehmann's
//!   efficiency relative to the mean under normal noise);
//! * **p** = two-sided Student-t p of `Δ / se` with `df = (history runs − 1) / 3`, the
//!   interval `Δ ± t·se`: σ is itself estimated (a MAD of about a third of a standard
//!   deviation's efficiency), and treating it as known would let a history that
//!   happens to look quiet call noise a change;
//! * **fence** = `max(ln(1 + min_change), NOISE_FENCE · σ)`: a change smaller than 1.5×
//!   the typical run-to-run variation is within noise, whatever the run counts.
//!
//! Verdict: `|Δ| < fence` → no change (within noise); `|Δ| ≥ fence` and significant
//! (raw p ≤ α, BH-adjusted p ≤ q) → regression or improvement by direction; otherwise
//! inconclusive, with the runs per side that would make this `Δ` significant.

use crate::config::CompareConfig;
use crate::noise::{Noise, Scale};
use perfwatch_core::dist::student_t_two_sided_p;
use perfwatch_core::summary::median_sorted;
use serde::{Deserialize, Serialize};

/// A change must be at least this many run-noise σ to count. 1.5 keeps ≥ 95 % power
/// for a 3σ shift from 8 runs per side (2σ would need about 12) while a change-free
/// release window of 8+ runs crosses it < 1 % of the time (tests/run_level.rs).
pub const NOISE_FENCE: f64 = 1.5;

/// Variance inflation of the Hodges–Lehmann estimate relative to a difference of
/// means under normal noise (its asymptotic efficiency is 3/π).
const HL_INFLATION: f64 = std::f64::consts::PI / 3.0;

/// Run levels of both sides and the noise of the series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunLevels {
    /// Per-run medians of the runs on each side.
    pub base: Vec<f64>,
    pub head: Vec<f64>,
    pub noise: Noise,
}

/// The run-level test of one series.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RunTest {
    pub base_runs: usize,
    pub head_runs: usize,
    /// Δ on the noise scale.
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    pub confidence: f64,
    pub p_value: f64,
    /// The smallest |Δ| that counts, on the noise scale.
    pub fence: f64,
    pub noise: Noise,
}

impl RunTest {
    pub fn within_fence(&self) -> bool {
        self.estimate.abs() < self.fence
    }
}

/// Runs the test; `None` when a side has no finite level.
pub fn run_test(levels: &RunLevels, cfg: &CompareConfig) -> Option<RunTest> {
    let scale = levels.noise.scale;
    let side = |v: &[f64]| -> Vec<f64> {
        v.iter()
            .filter(|x| x.is_finite() && (scale != Scale::Log || **x > 0.0))
            .map(|x| scale.apply(*x))
            .collect()
    };
    let (b, h) = (side(&levels.base), side(&levels.head));
    if b.is_empty() || h.is_empty() {
        return None;
    }
    let mut diffs: Vec<f64> = b
        .iter()
        .flat_map(|x| h.iter().map(move |y| y - x))
        .collect();
    diffs.sort_by(f64::total_cmp);
    let estimate = median_sorted(&diffs);
    let (k, l) = (b.len() as f64, h.len() as f64);
    let sigma = levels.noise.sigma;
    let se = sigma * (HL_INFLATION * (1.0 / k + 1.0 / l)).sqrt();
    let df = noise_df(&levels.noise);
    let z = t_quantile(1.0 - cfg.confidence, df);
    let p_value = if se > 0.0 {
        student_t_two_sided_p(estimate / se, df)
    } else if estimate != 0.0 {
        0.0
    } else {
        1.0
    };
    let min_change = match scale {
        Scale::Log => cfg.min_change.ln_1p(),
        Scale::Relative { .. } => cfg.min_change,
    };
    Some(RunTest {
        base_runs: b.len(),
        head_runs: h.len(),
        estimate,
        low: estimate - z * se,
        high: estimate + z * se,
        confidence: cfg.confidence,
        p_value,
        fence: min_change.max(NOISE_FENCE * sigma),
        noise: levels.noise,
    })
}

/// Runs per side that would make a change of the observed size significant at
/// `min(alpha, fdr_q)`; at least one more than the larger side has now.
pub fn runs_needed(t: &RunTest, cfg: &CompareConfig) -> usize {
    let now = t.base_runs.max(t.head_runs) + 1;
    let z = t_quantile(cfg.alpha.min(cfg.fdr_q), noise_df(&t.noise));
    let d = t.estimate.abs();
    if d == 0.0 || t.noise.sigma == 0.0 {
        return now;
    }
    // |Δ| / (σ √(π/3 · 2/k)) ≥ z  ⇔  k ≥ 2·π/3·(zσ/Δ)².
    let k = (2.0 * HL_INFLATION * (z * t.noise.sigma / d).powi(2)).ceil();
    if k.is_finite() {
        (k as usize).clamp(now, 10_000)
    } else {
        now
    }
}

/// Degrees of freedom credited to a MAD-based σ from `runs` history levels.
fn noise_df(noise: &Noise) -> f64 {
    ((noise.runs.saturating_sub(1)) as f64 / 3.0).max(1.0)
}

/// `t` with two-sided tail probability `p` under Student's t with `df` (bisection on
/// the p-function; it is monotone).
fn t_quantile(p: f64, df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0f64, 1e4f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if student_t_two_sided_p(mid, df) > p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn noise(sigma: f64) -> Noise {
        Noise {
            scale: Scale::Log,
            sigma,
            runs: 100,
        }
    }

    #[test]
    fn single_runs_with_a_large_change_are_decided() {
        let cfg = CompareConfig::default();
        // +40 % with 5 % run noise: 6.7 σ.
        let t = run_test(
            &RunLevels {
                base: vec![41.0],
                head: vec![57.4],
                noise: noise(0.05),
            },
            &cfg,
        )
        .unwrap();
        assert!((t.estimate - 1.4f64.ln()).abs() < 1e-12);
        assert!(t.p_value < 0.01 && t.low > 0.0 && !t.within_fence());
    }

    #[test]
    fn small_changes_are_within_the_fence() {
        let cfg = CompareConfig::default();
        let t = run_test(
            &RunLevels {
                base: vec![100.0; 10],
                head: vec![101.2; 10],
                noise: noise(0.01),
            },
            &cfg,
        )
        .unwrap();
        assert!((t.fence - 0.015).abs() < 1e-12);
        assert!(t.within_fence());
    }

    #[test]
    fn needed_runs_make_the_observed_change_significant() {
        let cfg = CompareConfig::default();
        let t = run_test(
            &RunLevels {
                base: vec![100.0],
                head: vec![103.0],
                noise: noise(0.012),
            },
            &cfg,
        )
        .unwrap();
        assert!(t.p_value > 0.05, "{}", t.p_value);
        let k = runs_needed(&t, &cfg);
        let again = run_test(
            &RunLevels {
                base: vec![100.0; k],
                head: vec![103.0; k],
                noise: noise(0.012),
            },
            &cfg,
        )
        .unwrap();
        assert!(again.p_value <= 0.05, "k={k} p={}", again.p_value);
        let fewer = run_test(
            &RunLevels {
                base: vec![100.0; k - 1],
                head: vec![103.0; k - 1],
                noise: noise(0.012),
            },
            &cfg,
        )
        .unwrap();
        assert!(fewer.p_value > 0.05 || k == 2, "k={k}");
    }

    #[test]
    fn t_quantile_matches_tables() {
        // t(0.975; 10) = 2.228, t(0.975; 30) = 2.042.
        assert!((t_quantile(0.05, 10.0) - 2.228).abs() < 2e-3);
        assert!((t_quantile(0.05, 30.0) - 2.042).abs() < 2e-3);
    }

    #[test]
    fn no_noise_decides_any_change_beyond_min_change() {
        let cfg = CompareConfig::default();
        let t = run_test(
            &RunLevels {
                base: vec![78.0],
                head: vec![98.0],
                noise: noise(0.0),
            },
            &cfg,
        )
        .unwrap();
        assert_eq!(t.p_value, 0.0);
        assert!(!t.within_fence());
        let same = run_test(
            &RunLevels {
                base: vec![78.0],
                head: vec![78.0],
                noise: noise(0.0),
            },
            &cfg,
        )
        .unwrap();
        assert_eq!(same.p_value, 1.0);
        assert!(same.within_fence());
    }
}
