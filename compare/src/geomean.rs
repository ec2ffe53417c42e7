//! Geometric mean of head/base median ratios, per suite and overall.
//!
//! Why geometric: ratios multiply. A 2× slowdown and a 2× speed-up should cancel to
//! 1×, which the geometric mean gives and the arithmetic mean (1.25×) does not; it is
//! also independent of each benchmark's unit and scale (benchstat's "geomean" row).
//!
//! Only series present on both sides with positive medians take part (a ratio of a
//! zero or negative median has no logarithm); the others are counted in `excluded`.
//!
//! Two figures:
//! * `ratio` — plain geomean of head/base. Meaningful when all series share one
//!   direction (e.g. all times).
//! * `better_ratio` — direction-aware: each series contributes base/head if lower is
//!   better and head/base if higher is better, so > 1 always means "head is better".
//!   `better_pct = (better_ratio − 1)·100` reads as "x % better overall" (for times
//!   that is the speed-up: 1.25 = 25 % more work per unit time).

use perfwatch_core::Direction;
use serde::{Deserialize, Serialize};

/// Geometric-mean summary of one set of series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Geomean {
    /// Series that contributed.
    pub series: usize,
    /// Series present on both sides whose median ratio has no logarithm.
    pub excluded: usize,
    /// Geomean of head/base; `None` when no series contributed.
    pub ratio: Option<f64>,
    /// `(ratio − 1)·100`.
    pub change_pct: Option<f64>,
    /// Direction-aware geomean, > 1 = head better.
    pub better_ratio: Option<f64>,
    /// `(better_ratio − 1)·100`.
    pub better_pct: Option<f64>,
}

/// Geomean of one benchmark suite (the caller's group key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupGeomean {
    pub group: String,
    pub geomean: Geomean,
}

/// Running sums of logs; O(1) per series.
#[derive(Debug, Clone, Copy, Default)]
pub struct GeomeanAcc {
    sum_ln: f64,
    sum_ln_better: f64,
    series: usize,
    excluded: usize,
}

impl GeomeanAcc {
    /// Adds one series present on both sides with medians `base`, `head`.
    pub fn add(&mut self, base: f64, head: f64, direction: Direction) {
        if !(base > 0.0 && head > 0.0 && base.is_finite() && head.is_finite()) {
            self.excluded += 1;
            return;
        }
        // ln(head) − ln(base) rather than ln(head/base): the quotient can overflow.
        let l = head.ln() - base.ln();
        self.sum_ln += l;
        self.sum_ln_better += match direction {
            Direction::Lower => -l,
            Direction::Higher => l,
        };
        self.series += 1;
    }

    /// The summary so far.
    pub fn finish(&self) -> Geomean {
        if self.series == 0 {
            return Geomean {
                excluded: self.excluded,
                ..Geomean::default()
            };
        }
        let n = self.series as f64;
        let finite = |v: f64| v.is_finite().then_some(v);
        let ratio = finite((self.sum_ln / n).exp());
        let better = finite((self.sum_ln_better / n).exp());
        Geomean {
            series: self.series,
            excluded: self.excluded,
            ratio,
            // A finite ratio near f64::MAX still overflows when scaled to percent.
            change_pct: ratio.and_then(|r| finite((r - 1.0) * 100.0)),
            better_ratio: better,
            better_pct: better.and_then(|r| finite((r - 1.0) * 100.0)),
        }
    }
}

/// Geometric mean of positive values; `None` if empty or any value is not positive.
pub fn geometric_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| !(*v > 0.0 && v.is_finite())) {
        return None;
    }
    let s: f64 = values.iter().map(|v| v.ln()).sum();
    Some((s / values.len() as f64).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }

    #[test]
    fn known_geometric_means() {
        close(geometric_mean(&[2.0, 8.0]).unwrap(), 4.0);
        close(geometric_mean(&[1.0, 3.0, 9.0]).unwrap(), 3.0);
        // A 2× slowdown and a 2× speed-up cancel.
        close(geometric_mean(&[2.0, 0.5]).unwrap(), 1.0);
        assert_eq!(geometric_mean(&[]), None);
        assert_eq!(geometric_mean(&[1.0, 0.0]), None);
    }

    #[test]
    fn direction_aware_geomean() {
        let mut acc = GeomeanAcc::default();
        // Time 100 → 125 (lower better: 1.25× slower, better factor 0.8).
        acc.add(100.0, 125.0, Direction::Lower);
        // Throughput 100 → 125 (higher better: better factor 1.25).
        acc.add(100.0, 125.0, Direction::Higher);
        // Zero median: excluded.
        acc.add(0.0, 3.0, Direction::Lower);
        let g = acc.finish();
        assert_eq!((g.series, g.excluded), (2, 1));
        close(g.ratio.unwrap(), 1.25);
        close(g.change_pct.unwrap(), 25.0);
        // √(0.8 · 1.25) = 1: one better, one worse by the same factor.
        close(g.better_ratio.unwrap(), 1.0);
        close(g.better_pct.unwrap(), 0.0);
    }

    #[test]
    fn empty_accumulator_has_no_figures() {
        let g = GeomeanAcc::default().finish();
        assert_eq!(g, Geomean::default());
    }
}
