//! Two-sample tests between the segments either side of a candidate change point.
//!
//! Both are deterministic. Mann–Whitney (the default, chosen by the quality corpus) works
//! on ranks, so one wild outlier moves it no more than any other point above the median,
//! and heavy-tailed noise does not inflate its false-alert rate. Welch's t-test is what
//! Otava/hunter use; it is kept for comparison and for users who want mean-based tests.

use perfwatch_core::dist::{normal_two_sided_p, student_t_two_sided_p};
use serde::{Deserialize, Serialize};

/// Which two-sample test decides whether a split is significant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignificanceTest {
    /// Mann–Whitney U (Wilcoxon rank-sum), normal approximation with tie and continuity
    /// corrections.
    MannWhitney,
    /// Welch's unequal-variance t-test on the raw values.
    Welch,
}

/// Two-sided Mann–Whitney p-value from two sorted samples.
pub(crate) fn mann_whitney_sorted(x: &[f64], y: &[f64]) -> f64 {
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    // Walk the merge of both sorted samples one tie group at a time.
    let (mut i, mut j) = (0, 0);
    let mut rank_sum_x = 0.0;
    let mut tie_term = 0.0;
    let mut pos = 0usize;
    while i < n1 || j < n2 {
        let v = match (x.get(i), y.get(j)) {
            (Some(a), Some(b)) => a.min(*b),
            (Some(a), None) => *a,
            (None, Some(b)) => *b,
            (None, None) => unreachable!(),
        };
        let (mut cx, mut cy) = (0usize, 0usize);
        while i < n1 && x[i] == v {
            i += 1;
            cx += 1;
        }
        while j < n2 && y[j] == v {
            j += 1;
            cy += 1;
        }
        let t = (cx + cy) as f64;
        // 1-based mid-rank of positions pos..pos+t.
        let mid = pos as f64 + (t + 1.0) / 2.0;
        rank_sum_x += cx as f64 * mid;
        tie_term += t * t * t - t;
        pos += cx + cy;
    }
    let (a, b) = (n1 as f64, n2 as f64);
    let n = a + b;
    let u = rank_sum_x - a * (a + 1.0) / 2.0;
    let mean = a * b / 2.0;
    let var = a * b / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if var <= 0.0 {
        // Every value tied: no evidence of any difference.
        return 1.0;
    }
    let z = ((u - mean).abs() - 0.5).max(0.0) / var.sqrt();
    normal_two_sided_p(z)
}

/// Mean and sample variance (n − 1).
pub(crate) fn mean_var(s: &[f64]) -> (f64, f64) {
    let n = s.len() as f64;
    let mean = s.iter().sum::<f64>() / n;
    let var = if s.len() > 1 {
        s.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var)
}

/// Two-sided Welch t-test p-value from each sample's size, mean and variance.
pub(crate) fn welch(nx: usize, mx: f64, vx: f64, ny: usize, my: f64, vy: f64) -> f64 {
    if nx < 2 || ny < 2 {
        return 1.0;
    }
    let a = vx / nx as f64;
    let b = vy / ny as f64;
    let se2 = a + b;
    if se2 <= 0.0 {
        // Two constant segments: identical means are no change, different ones are certain.
        return if mx == my { 1.0 } else { 0.0 };
    }
    let t = (my - mx) / se2.sqrt();
    let df = se2 * se2 / (a * a / (nx as f64 - 1.0) + b * b / (ny as f64 - 1.0));
    student_t_two_sided_p(t, df)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mann_whitney_known_value() {
        // x = 1..=5, y = 6..=10: U = 0, mean 12.5, var 22.917, z = (12.5-0.5)/4.787 = 2.507.
        let x = [1.0, 2.0, 3.0, 4.0, 5.0];
        let y = [6.0, 7.0, 8.0, 9.0, 10.0];
        let p = mann_whitney_sorted(&x, &y);
        assert!((p - 0.012_18).abs() < 1e-4, "{p}");
        assert_eq!(mann_whitney_sorted(&[1.0, 1.0], &[1.0, 1.0, 1.0]), 1.0);
    }

    #[test]
    fn welch_known_value() {
        // Two samples with means 0 and 1, variances 1, n = 10 each: t = 2.236, df = 18.
        let p = welch(10, 0.0, 1.0, 10, 1.0, 1.0);
        assert!((p - 0.038_2).abs() < 1e-3, "{p}");
        assert_eq!(welch(5, 2.0, 0.0, 5, 2.0, 0.0), 1.0);
        assert_eq!(welch(5, 2.0, 0.0, 5, 3.0, 0.0), 0.0);
    }
}
