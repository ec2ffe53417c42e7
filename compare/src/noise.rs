//! What a series' history says about its run-to-run noise, and which neighbouring runs
//! share a release's level.
//!
//! Both work on *run levels*: one number per run (the run's median), in commit order.
//! Values are compared on the log scale when all are positive (so noise reads as a
//! relative "±x % run to run"), otherwise relative to the history's median magnitude.

use perfwatch_core::summary::median_sorted;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// Fewer history runs than this give no noise estimate (a MAD of a handful of
/// differences is too unstable to decide on).
pub const MIN_HISTORY: usize = 8;

/// Split threshold of [`level_window`]: a shift between two parts of the window must
/// reach this many standard errors. High because the split point is searched over the
/// whole window (a scan of ~100 correlated z-scores); a missed small shift only
/// dilutes the window slightly, a false split only shortens it.
pub const SPLIT_Z: f64 = 4.0;

/// How run levels are put on a common, unit-free scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Scale {
    /// `ln(x)`: every value is positive; differences are log-ratios.
    Log,
    /// `x / |m|`, `m` the history median: some value is ≤ 0.
    Relative { magnitude: f64 },
}

impl Scale {
    /// The scale for these values: log when all are positive, else relative to the
    /// median magnitude of `history`; `None` when that magnitude is 0 or non-finite.
    pub fn choose(history: &[f64], others: &[&[f64]]) -> Option<Scale> {
        let all = history.iter().chain(others.iter().flat_map(|s| s.iter()));
        if all.clone().all(|v| *v > 0.0 && v.is_finite()) {
            return Some(Scale::Log);
        }
        let mut h: Vec<f64> = history.iter().copied().filter(|v| v.is_finite()).collect();
        if h.is_empty() {
            return None;
        }
        h.sort_by(f64::total_cmp);
        let magnitude = median_sorted(&h).abs();
        (magnitude > 0.0 && magnitude.is_finite()).then_some(Scale::Relative { magnitude })
    }

    pub fn apply(self, v: f64) -> f64 {
        match self {
            Scale::Log => v.ln(),
            Scale::Relative { magnitude } => v / magnitude,
        }
    }

    /// A difference on this scale as a relative change in % (`exp(d) − 1` on the log
    /// scale).
    pub fn to_pct(self, d: f64) -> f64 {
        match self {
            Scale::Log => d.exp_m1() * 100.0,
            Scale::Relative { .. } => d * 100.0,
        }
    }
}

/// Run-to-run noise of a series: the standard deviation of one run's level, on its
/// [`Scale`], estimated robustly from adjacent differences.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Noise {
    pub scale: Scale,
    /// σ of one run's level (on the log scale: ≈ the relative spread, 0.01 = ±1 %).
    pub sigma: f64,
    /// History runs the estimate is based on.
    pub runs: usize,
}

impl Noise {
    /// σ as a percentage ("±x % run to run").
    pub fn pct(&self) -> f64 {
        self.scale.to_pct(self.sigma)
    }
}

/// σ from the adjacent differences of `levels` (commit order):
/// `σ = 1.4826 · MAD(dᵢ) / √2` with `dᵢ = xᵢ₊₁ − xᵢ`.
///
/// Why adjacent differences: a step change in the history moves a single difference,
/// which the median absolute deviation ignores, so the estimate stays the noise and not
/// the size of past regressions (rustc-perf reads its IQR fence off the same
/// differences). `1.4826·MAD` is σ for normal data; `√2` because a difference of two
/// independent runs has twice the variance of one.
pub fn run_noise(levels: &[f64], scale: Scale) -> Option<Noise> {
    let x: Vec<f64> = levels
        .iter()
        .filter(|v| v.is_finite())
        .map(|v| scale.apply(*v))
        .filter(|v| v.is_finite())
        .collect();
    if x.len() < MIN_HISTORY {
        return None;
    }
    // The estimator is core's, so the pages' "±x % run to run" is the same number.
    let sigma = perfwatch_core::confidence::adjacent_sigma(&x)?;
    sigma.is_finite().then_some(Noise {
        scale,
        sigma,
        runs: x.len(),
    })
}

/// The runs around position `at` that sit at the same level as `at`: the part of
/// `levels` (already on the noise scale) containing `at` after binary segmentation.
///
/// Repeatedly, the best split of the current window (largest standardised difference
/// of the means on either side) is taken when it reaches [`SPLIT_Z`] standard errors
/// (with `sigma` the run noise), and the window shrinks to the side holding `at`.
/// With `sigma = 0` any difference of means splits.
pub fn level_window(levels: &[f64], at: usize, sigma: f64) -> Range<usize> {
    let (mut lo, mut hi) = (0, levels.len());
    if at >= hi {
        return at..at;
    }
    loop {
        let Some(split) = best_split(&levels[lo..hi], sigma) else {
            return lo..hi;
        };
        let split = lo + split;
        if at < split {
            hi = split;
        } else {
            lo = split;
        }
    }
}

/// Index (within `w`) where a significant shift starts, if any.
fn best_split(w: &[f64], sigma: f64) -> Option<usize> {
    let n = w.len();
    if n < 2 {
        return None;
    }
    let total: f64 = w.iter().sum();
    let mut left = 0.0;
    // The split is chosen by the shift in standard errors of unit noise, then tested
    // against `sigma` (with no noise any real difference is a level shift).
    let mut best: Option<(usize, f64)> = None;
    for s in 1..n {
        left += w[s - 1];
        let (a, b) = (s as f64, (n - s) as f64);
        let diff = (total - left) / b - left / a;
        let score = diff.abs() / (1.0 / a + 1.0 / b).sqrt();
        if best.is_none_or(|(_, bs)| score > bs) {
            best = Some((s, score));
        }
    }
    let (s, score) = best?;
    let split = if sigma > 0.0 {
        score / sigma >= SPLIT_Z
    } else {
        score > 1e-12
    };
    split.then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: &mut u64) -> f64 {
        *seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((*seed >> 11) as f64) / ((1u64 << 53) as f64)
    }

    fn normal(seed: &mut u64) -> f64 {
        let (u, v) = (lcg(seed).max(1e-300), lcg(seed));
        (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
    }

    #[test]
    fn noise_recovers_sigma_and_ignores_steps() {
        let mut seed = 7;
        let levels: Vec<f64> = (0..400)
            .map(|i| {
                let step = if i >= 200 { 1.3 } else { 1.0 };
                100.0 * step * (0.02 * normal(&mut seed)).exp()
            })
            .collect();
        let n = run_noise(&levels, Scale::Log).unwrap();
        assert!((n.sigma - 0.02).abs() < 0.003, "{}", n.sigma);
        assert!((n.pct() - 2.0).abs() < 0.35);
    }

    #[test]
    fn short_history_has_no_estimate() {
        assert_eq!(run_noise(&[1.0; 7], Scale::Log), None);
        let n = run_noise(&[5.0; 8], Scale::Log).unwrap();
        assert_eq!(n.sigma, 0.0);
    }

    #[test]
    fn scale_falls_back_to_the_history_magnitude() {
        assert_eq!(Scale::choose(&[1.0, 2.0], &[&[3.0]]), Some(Scale::Log));
        assert_eq!(
            Scale::choose(&[0.0, 2.0, 4.0], &[]),
            Some(Scale::Relative { magnitude: 2.0 })
        );
        assert_eq!(Scale::choose(&[0.0, 0.0, 1.0], &[]), None);
    }

    #[test]
    fn window_stops_at_level_shifts_on_both_sides() {
        let mut seed = 3;
        // Levels: 0 for 20 runs, +0.1 for 15 runs (holding `at` = 25), 0 again.
        let levels: Vec<f64> = (0..50)
            .map(|i| {
                let l = if (20..35).contains(&i) { 0.1 } else { 0.0 };
                l + 0.01 * normal(&mut seed)
            })
            .collect();
        assert_eq!(level_window(&levels, 25, 0.01), 20..35);
        assert_eq!(level_window(&levels, 5, 0.01), 0..20);
        // No shift: the whole window.
        let flat: Vec<f64> = (0..50).map(|_| 0.01 * normal(&mut seed)).collect();
        assert_eq!(level_window(&flat, 10, 0.01), 0..50);
        // No noise: exact steps split, equal values do not.
        assert_eq!(level_window(&[1.0, 1.0, 2.0, 2.0], 0, 0.0), 0..2);
        assert_eq!(level_window(&[1.0; 4], 3, 0.0), 0..4);
        assert_eq!(level_window(&[], 0, 0.1), 0..0);
    }
}
