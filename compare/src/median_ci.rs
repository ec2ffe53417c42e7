//! Median of one side with a distribution-free confidence interval from order
//! statistics, as Go's benchstat does.
//!
//! Why order statistics: benchmark samples are skewed and have outliers (GC pauses,
//! noisy neighbours), so a mean ± t·s interval is misleading. For any continuous
//! distribution the number of samples below the true median is Binomial(n, ½), so the
//! interval [x₍ₖ₎, x₍ₙ₊₁₋ₖ₎] covers the median with probability exactly
//! 1 − 2·P(B ≤ k − 1), whatever the distribution. We take the narrowest such interval
//! whose coverage is at least the requested confidence. Ties only make it conservative.
//!
//! For small n no pair of ranks reaches the requested confidence (95 % needs n ≥ 6,
//! since [min, max] covers with 1 − 2·½ⁿ). Then we widen to [min, max] and report the
//! confidence actually achieved instead of pretending: n = 5 gives 93.75 %, n = 1 gives 0.

use serde::{Deserialize, Serialize};

/// Median with its order-statistic interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MedianCi {
    pub median: f64,
    pub low: f64,
    pub high: f64,
    /// Exact coverage of `[low, high]` for continuous data (≥ the requested level
    /// whenever the sample is big enough; lower, down to 0, when it is not).
    pub confidence: f64,
    /// 1-based rank of `low` in the sorted sample; `high` is rank `n + 1 - rank`.
    pub rank: usize,
}

/// Ranks `(k, coverage)` of the order-statistic interval for the median of `n`
/// samples at `confidence`: `[x₍ₖ₎, x₍ₙ₊₁₋ₖ₎]`, `k ≥ 1`. `n` must be ≥ 1.
pub fn median_ci_rank(n: usize, confidence: f64) -> (usize, f64) {
    debug_assert!(n >= 1);
    let tail = (1.0 - confidence) / 2.0;
    // Walk the Binomial(n, ½) CDF upward in log space (½ⁿ underflows for n > 1074):
    // ln pmf(c + 1) = ln pmf(c) + ln(n − c) − ln(c + 1).
    let nf = n as f64;
    let mut ln_pmf = -nf * std::f64::consts::LN_2;
    let mut cdf = ln_pmf.exp();
    // cdf_at_k_minus_1 is P(B ≤ k − 1) for the current k.
    let mut k = 1;
    let mut cdf_at_k_minus_1 = cdf;
    // The tolerance lets exact-boundary cases (coverage == requested) pass despite
    // rounding; it is far below any confidence anyone would set.
    let mut c = 0usize;
    while c + 1 < n.div_ceil(2) {
        ln_pmf += ((n - c) as f64).ln() - ((c + 1) as f64).ln();
        let next = cdf + ln_pmf.exp();
        if next > tail * (1.0 + 1e-12) {
            break;
        }
        c += 1;
        cdf = next;
        k = c + 1;
        cdf_at_k_minus_1 = cdf;
    }
    // If even P(B ≤ 0) exceeds the tail, k stays 1: the [min, max] fallback.
    let coverage = (1.0 - 2.0 * cdf_at_k_minus_1).max(0.0);
    (k, coverage)
}

/// Median of a sorted, non-empty slice. Like `perfwatch_core::summary::median_sorted`
/// but the midpoint of the two middle values never overflows (two values near
/// f64::MAX) nor underflows out of their range (halving 5e-324 gives 0), so it always
/// lies between them.
pub fn median_of_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        return sorted[n / 2];
    }
    let (a, b) = (sorted[n / 2 - 1], sorted[n / 2]);
    let mid = if (a < 0.0) == (b < 0.0) {
        // Same sign: b − a cannot overflow.
        a + (b - a) / 2.0
    } else {
        // Opposite signs: a + b cannot overflow.
        (a + b) / 2.0
    };
    mid.clamp(a, b)
}

/// Median and interval of an already sorted, non-empty, finite sample.
pub fn median_ci_sorted(sorted: &[f64], confidence: f64) -> MedianCi {
    let n = sorted.len();
    let (k, coverage) = median_ci_rank(n, confidence);
    MedianCi {
        median: median_of_sorted(sorted),
        low: sorted[k - 1],
        high: sorted[n - k],
        confidence: coverage,
        rank: k,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_median_of_two_middle_values_stays_between_them() {
        let tiny = f64::from_bits(1); // 5e-324, the smallest subnormal
        assert_eq!(median_of_sorted(&[tiny, tiny]), tiny);
        assert_eq!(median_of_sorted(&[f64::MAX, f64::MAX]), f64::MAX);
        assert_eq!(median_of_sorted(&[-f64::MAX, f64::MAX]), 0.0);
        assert_eq!(median_of_sorted(&[1.0, 2.0]), 1.5);
        assert_eq!(median_of_sorted(&[-3.0, -1.0]), -2.0);
    }

    #[test]
    fn ranks_for_ten_samples_match_binomial_tables() {
        // Binomial(10, ½): P(B ≤ 1) = 11/1024 ≤ 0.025 < P(B ≤ 2) = 56/1024, so the 95 %
        // interval is [x₍₂₎, x₍₉₎] with coverage 1 − 22/1024 = 0.978515625 (the standard
        // table value; benchstat picks the same ranks).
        let (k, cov) = median_ci_rank(10, 0.95);
        assert_eq!(k, 2);
        assert!((cov - (1.0 - 22.0 / 1024.0)).abs() < 1e-12);
        let s: Vec<f64> = (1..=10).map(f64::from).collect();
        let ci = median_ci_sorted(&s, 0.95);
        assert_eq!((ci.low, ci.median, ci.high), (2.0, 5.5, 9.0));
    }

    #[test]
    fn other_table_ranks() {
        // n = 6: [min, max] covers 1 − 2/64 = 0.96875, the smallest n reaching 95 %.
        assert_eq!(median_ci_rank(6, 0.95), (1, 1.0 - 2.0 / 64.0));
        // n = 20: P(B ≤ 5) = 21700/1048576 = 0.0207 ≤ 0.025 < P(B ≤ 6) = 0.0577 → k = 6.
        let (k, cov) = median_ci_rank(20, 0.95);
        assert_eq!(k, 6);
        assert!((cov - (1.0 - 2.0 * 21700.0 / 1_048_576.0)).abs() < 1e-12);
        // n = 100: the textbook ranks are 40 and 61 (P(B ≤ 39) = 0.0176).
        assert_eq!(median_ci_rank(100, 0.95).0, 40);
        // 99 % at n = 10: P(B ≤ 0) = 1/1024 ≤ 0.005 < P(B ≤ 1) → k = 1.
        assert_eq!(median_ci_rank(10, 0.99).0, 1);
    }

    #[test]
    fn small_samples_widen_and_report_achieved_confidence() {
        assert_eq!(median_ci_rank(5, 0.95), (1, 0.9375));
        assert_eq!(median_ci_rank(2, 0.95), (1, 0.5));
        assert_eq!(median_ci_rank(1, 0.95), (1, 0.0));
        let ci = median_ci_sorted(&[3.0], 0.95);
        assert_eq!(
            (ci.low, ci.median, ci.high, ci.confidence),
            (3.0, 3.0, 3.0, 0.0)
        );
    }

    #[test]
    fn huge_samples_do_not_underflow() {
        // Normal approximation: k ≈ n/2 − 1.96·√n/2 = 50000 − 310 → about 49690.
        let (k, cov) = median_ci_rank(100_000, 0.95);
        assert!((49_685..=49_695).contains(&k), "{k}");
        assert!((0.95..0.951).contains(&cov), "{cov}");
    }

    proptest! {
        #[test]
        fn interval_contains_median(mut v in proptest::collection::vec(-1e9f64..1e9, 1..300),
                                    conf in 0.5f64..0.999) {
            v.sort_by(f64::total_cmp);
            let ci = median_ci_sorted(&v, conf);
            prop_assert!(ci.low <= ci.median && ci.median <= ci.high);
            prop_assert!((0.0..=1.0).contains(&ci.confidence));
            // Either the requested level is met, or the interval is already [min, max].
            prop_assert!(ci.confidence >= conf - 1e-9 || ci.rank == 1);
        }
    }
}
