//! Hodges–Lehmann estimate of the shift between two samples, with Moses'
//! distribution-free confidence interval.
//!
//! The estimate is the median of all n·m pairwise differences `head_j − base_i`. It is
//! the shift that makes the Mann–Whitney statistic balanced, so the estimate and the
//! p-value tell one consistent story; it uses every sample (more efficient than a
//! difference of two medians) yet shrugs off outliers.
//!
//! Interval (Moses): under a pure shift Δ, the number of differences below Δ has the
//! null distribution of U, so `[D₍ₖ₎, D₍ₙₘ₊₁₋ₖ₎]` covers Δ with probability
//! `1 − 2·P(U ≤ k − 1)`. k comes from the exact U distribution when the test is exact,
//! otherwise from the tie-corrected normal approximation with continuity correction.
//! When no k reaches the requested confidence (tiny samples) we use the extreme
//! differences (k = 1) and report the coverage achieved — the same policy as the
//! median interval.

use crate::mann_whitney::UDistribution;
use crate::pairwise::PairwiseDiffs;
use perfwatch_core::dist::{normal_cdf, normal_quantile};
use serde::{Deserialize, Serialize};

/// A point estimate with an interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ShiftEstimate {
    pub estimate: f64,
    pub low: f64,
    pub high: f64,
    /// Coverage of `[low, high]` (exact, or normal-approximate with ties/large samples).
    pub confidence: f64,
}

/// Rank `k` of Moses' interval and its coverage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MosesRank {
    pub k: usize,
    pub coverage: f64,
}

/// k from the exact U distribution: the largest k with `P(U ≤ k − 1) ≤ (1 − conf)/2`,
/// at least 1.
pub fn moses_rank_exact(dist: &UDistribution, confidence: f64) -> MosesRank {
    let (n, m) = dist.sizes();
    let tail = (1.0 - confidence) / 2.0;
    let max_k = (n * m).div_ceil(2).max(1);
    let mut k = 1;
    // Same rounding tolerance as the median interval: lets exact-boundary cases pass.
    while k < max_k && dist.cdf(k as i64) <= tail * (1.0 + 1e-12) {
        k += 1;
    }
    MosesRank {
        k,
        coverage: (1.0 - 2.0 * dist.cdf(k as i64 - 1)).max(0.0),
    }
}

/// k from the normal approximation: `P(U ≤ k − 1) ≈ Φ((k − ½ − nm/2)/σ)`, so
/// `k = ⌊nm/2 + ½ − z·σ⌋`, clamped to `1..=⌈nm/2⌉`.
pub fn moses_rank_normal(n: usize, m: usize, sigma: f64, confidence: f64) -> MosesRank {
    let nm = (n * m) as f64;
    let max_k = (n * m).div_ceil(2).max(1);
    if sigma <= 0.0 {
        // Every pooled value is equal, so every difference is 0: the interval [0, 0]
        // is certain.
        return MosesRank {
            k: 1,
            coverage: 1.0,
        };
    }
    let z = normal_quantile(1.0 - (1.0 - confidence) / 2.0);
    let raw = (nm / 2.0 + 0.5 - z * sigma).floor();
    let k = if raw < 1.0 {
        1
    } else {
        (raw as usize).min(max_k)
    };
    let coverage = 1.0 - 2.0 * normal_cdf((k as f64 - 0.5 - nm / 2.0) / sigma);
    MosesRank {
        k,
        coverage: coverage.clamp(0.0, 1.0),
    }
}

/// Hodges–Lehmann shift `head − base` of sorted, finite, non-empty samples with the
/// interval of rank `rank.k`.
pub fn hodges_lehmann_sorted(base: &[f64], head: &[f64], rank: MosesRank) -> ShiftEstimate {
    let mut d = PairwiseDiffs::new(base, head);
    let len = d.len();
    let k = rank.k.clamp(1, len.div_ceil(2));
    // Ranks in ascending order: k ≤ ⌈nm/2⌉ ≤ the middle ranks ≤ nm + 1 − k.
    let [low, mid_lo, mid_hi, high] = d.kths([k, len.div_ceil(2), len / 2 + 1, len + 1 - k]);
    let estimate = if len % 2 == 1 {
        mid_lo
    } else {
        // Halving each avoids overflow and keeps −median(−D) = median(D) exact.
        mid_lo / 2.0 + mid_hi / 2.0
    };
    ShiftEstimate {
        estimate,
        low,
        high,
        confidence: rank.coverage,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mann_whitney::u_sigma;
    use proptest::prelude::*;

    fn exact_rank(n: usize, m: usize, conf: f64) -> MosesRank {
        moses_rank_exact(&UDistribution::new(n, m).unwrap(), conf)
    }

    #[test]
    fn hand_computed_example() {
        // base = [1, 2, 4], head = [3, 5, 8]. The nine differences head − base:
        //   3−1=2, 3−2=1, 3−4=−1, 5−1=4, 5−2=3, 5−4=1, 8−1=7, 8−2=6, 8−4=4
        // sorted: −1, 1, 1, 2, 3, 4, 4, 6, 7 → median (5th) = 3.
        // 3 vs 3: P(U ≤ 0) = 1/20 > 0.025, so no interval reaches 95 %; k = 1 gives
        // [−1, 7] with coverage 1 − 2/20 = 0.9.
        let r = exact_rank(3, 3, 0.95);
        assert_eq!(r.k, 1);
        assert!((r.coverage - 0.9).abs() < 1e-15);
        let s = hodges_lehmann_sorted(&[1.0, 2.0, 4.0], &[3.0, 5.0, 8.0], r);
        assert_eq!((s.estimate, s.low, s.high), (3.0, -1.0, 7.0));
        // At 80 %: P(U ≤ 1) = 2/20 = 0.1 ≤ 0.1 → k = 2: [1, 6], coverage 0.8.
        let r = exact_rank(3, 3, 0.80);
        assert_eq!(r.k, 2);
        let s = hodges_lehmann_sorted(&[1.0, 2.0, 4.0], &[3.0, 5.0, 8.0], r);
        assert_eq!((s.low, s.high), (1.0, 6.0));
    }

    #[test]
    fn permeability_example_ten_vs_five() {
        // Hollander & Wolfe's permeability data (R's wilcox.test example):
        // x = (0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46),
        // y = (1.15, 0.88, 0.90, 0.74, 1.21). Head = x, base = y. Checked in Python by
        // listing all 50 differences x_i − y_j (median 0.305) and enumerating all
        // C(15, 5) = 3003 rank arrangements: P(U ≤ 8) = 60/3003 = 0.01998 ≤ 0.025 <
        // P(U ≤ 9) = 83/3003, so k = 9 and the interval is [D₍₉₎, D₍₄₂₎] = [−0.15, 0.76]
        // with coverage 1 − 120/3003 = 0.96004.
        let mut y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let mut x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        y.sort_by(f64::total_cmp);
        x.sort_by(f64::total_cmp);
        let r = exact_rank(5, 10, 0.95);
        assert_eq!(r.k, 9);
        assert!((r.coverage - (1.0 - 120.0 / 3003.0)).abs() < 1e-12);
        let s = hodges_lehmann_sorted(&y, &x, r);
        assert!((s.estimate - 0.305).abs() < 1e-12, "{}", s.estimate);
        assert!(
            (s.low + 0.15).abs() < 1e-12 && (s.high - 0.76).abs() < 1e-12,
            "{s:?}"
        );
    }

    #[test]
    fn normal_rank_close_to_exact_for_moderate_sizes() {
        // 20 vs 20: critical U at two-sided 0.05 is 127 (Mann–Whitney tables; checked by
        // a Python DP: P(U ≤ 127) = 0.02455, P(U ≤ 128) = 0.02620), so k = 128. The
        // normal approximation lands within one rank.
        let exact = exact_rank(20, 20, 0.95);
        assert_eq!(exact.k, 128);
        let normal = moses_rank_normal(20, 20, u_sigma(20, 20, 0.0), 0.95);
        assert!(normal.k.abs_diff(exact.k) <= 1, "{normal:?}");
        assert!((normal.coverage - exact.coverage).abs() < 0.01);
    }

    #[test]
    fn all_equal_values_give_a_point_interval() {
        let r = moses_rank_normal(5, 5, 0.0, 0.95);
        let s = hodges_lehmann_sorted(&[2.0; 5], &[2.0; 5], r);
        assert_eq!(
            (s.estimate, s.low, s.high, s.confidence),
            (0.0, 0.0, 0.0, 1.0)
        );
    }

    proptest! {
        #[test]
        fn interval_contains_estimate_and_swaps(
            mut a in proptest::collection::vec(-1e6f64..1e6, 1..30),
            mut b in proptest::collection::vec(-1e6f64..1e6, 1..30),
            conf in 0.5f64..0.999,
        ) {
            a.sort_by(f64::total_cmp);
            b.sort_by(f64::total_cmp);
            let r = match UDistribution::new(a.len(), b.len()) {
                Some(d) => moses_rank_exact(&d, conf),
                None => moses_rank_normal(a.len(), b.len(), u_sigma(a.len(), b.len(), 0.0), conf),
            };
            let s = hodges_lehmann_sorted(&a, &b, r);
            prop_assert!(s.low <= s.estimate && s.estimate <= s.high);
            prop_assert!((0.0..=1.0).contains(&s.confidence));
            // Swapping the samples negates everything exactly.
            let t = hodges_lehmann_sorted(&b, &a, r);
            prop_assert_eq!(t.estimate, -s.estimate);
            prop_assert_eq!((t.low, t.high), (-s.high, -s.low));
        }
    }
}
