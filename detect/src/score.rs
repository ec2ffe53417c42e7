//! Scoring of detected change points against labels, as in TCPDBench
//! (van den Burg & Williams 2020, analysis/scripts/metrics.py), single annotator.
//!
//! - F1 with margin M: index 0 is added to both the true and the predicted set (as
//!   TCPDBench does, so precision is defined when nothing is predicted); a true point
//!   is matched by at most one prediction within M, the closest first.
//! - Covering: Σ over true segments of |R| · max Jaccard(R, R′) over predicted segments,
//!   divided by the series length.
//!
//! Because the start counts as a found change, a change-free series with no alert scores
//! F1 = 1 and one false alert drops it to 0.67. [`Tally`] therefore also keeps pooled
//! event counts without the start point, and false alerts per 10,000 points.

/// How many of `truth` are matched by a distinct prediction within `margin`.
pub fn true_positives(truth: &[usize], pred: &[usize], margin: usize) -> usize {
    let mut t: Vec<usize> = truth.to_vec();
    t.sort_unstable();
    t.dedup();
    let mut left: Vec<usize> = pred.to_vec();
    left.sort_unstable();
    left.dedup();
    let mut tp = 0;
    for tau in t {
        // Closest remaining prediction; on equal distance the smaller index.
        let best = left
            .iter()
            .enumerate()
            .filter(|(_, &x)| x.abs_diff(tau) <= margin)
            .min_by_key(|(_, &x)| (x.abs_diff(tau), x))
            .map(|(i, _)| i);
        if let Some(i) = best {
            left.remove(i);
            tp += 1;
        }
    }
    tp
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FMeasure {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// TCPDBench F-measure (α = 0.5, i.e. F1) with the start point added to both sets.
pub fn f_measure(truth: &[usize], pred: &[usize], margin: usize) -> FMeasure {
    let with_start = |s: &[usize]| {
        let mut v: Vec<usize> = std::iter::once(0).chain(s.iter().copied()).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let t = with_start(truth);
    let x = with_start(pred);
    let tp = true_positives(&t, &x, margin) as f64;
    let precision = tp / x.len() as f64;
    let recall = tp / t.len() as f64;
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    FMeasure {
        precision,
        recall,
        f1,
    }
}

/// Segment boundaries [0, c1, c2, …, n] from change points (those outside 1..n ignored).
fn boundaries(cps: &[usize], n: usize) -> Vec<usize> {
    let mut b: Vec<usize> = std::iter::once(0)
        .chain(cps.iter().copied().filter(|&c| c > 0 && c < n))
        .chain(std::iter::once(n))
        .collect();
    b.sort_unstable();
    b.dedup();
    b
}

/// TCPDBench covering of the true partition by the predicted one, for `n` points.
pub fn covering(truth: &[usize], pred: &[usize], n: usize) -> f64 {
    if n == 0 {
        return 1.0;
    }
    let tb = boundaries(truth, n);
    let pb = boundaries(pred, n);
    let mut c = 0.0;
    for t in tb.windows(2) {
        let (a0, a1) = (t[0], t[1]);
        let best = pb
            .windows(2)
            .map(|p| {
                let (b0, b1) = (p[0], p[1]);
                let inter = a1.min(b1).saturating_sub(a0.max(b0));
                let union = (a1 - a0) + (b1 - b0) - inter;
                inter as f64 / union as f64
            })
            .fold(0.0, f64::max);
        c += (a1 - a0) as f64 * best;
    }
    c / n as f64
}

/// Running totals over a stratum of series.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub series: usize,
    pub points: usize,
    sum_precision: f64,
    sum_recall: f64,
    sum_f1: f64,
    sum_covering: f64,
    /// Pooled, without the start point.
    pub true_changes: usize,
    pub predicted: usize,
    pub matched: usize,
    /// Predictions on series that have no labelled change.
    pub false_alerts_change_free: usize,
    pub points_change_free: usize,
}

impl Tally {
    pub fn add(&mut self, truth: &[usize], pred: &[usize], n: usize, margin: usize) {
        let f = f_measure(truth, pred, margin);
        self.series += 1;
        self.points += n;
        self.sum_precision += f.precision;
        self.sum_recall += f.recall;
        self.sum_f1 += f.f1;
        self.sum_covering += covering(truth, pred, n);
        self.true_changes += truth.len();
        self.predicted += pred.len();
        self.matched += true_positives(truth, pred, margin);
        if truth.is_empty() {
            self.false_alerts_change_free += pred.len();
            self.points_change_free += n;
        }
    }

    fn mean(&self, s: f64) -> f64 {
        if self.series == 0 {
            f64::NAN
        } else {
            s / self.series as f64
        }
    }

    /// Mean per-series TCPDBench precision, recall, F1 and covering.
    pub fn tcpd(&self) -> (f64, f64, f64, f64) {
        (
            self.mean(self.sum_precision),
            self.mean(self.sum_recall),
            self.mean(self.sum_f1),
            self.mean(self.sum_covering),
        )
    }

    /// Pooled event precision, recall and F1 (no start point).
    pub fn events(&self) -> (f64, f64, f64) {
        let p = if self.predicted == 0 {
            1.0
        } else {
            self.matched as f64 / self.predicted as f64
        };
        let r = if self.true_changes == 0 {
            1.0
        } else {
            self.matched as f64 / self.true_changes as f64
        };
        let f = if p + r > 0.0 {
            2.0 * p * r / (p + r)
        } else {
            0.0
        };
        (p, r, f)
    }

    /// False alerts per 10,000 points of change-free series (NaN if there were none).
    pub fn false_alerts_per_10k(&self) -> f64 {
        if self.points_change_free == 0 {
            f64::NAN
        } else {
            self.false_alerts_change_free as f64 * 10_000.0 / self.points_change_free as f64
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_positives_as_tcpdbench_doctests() {
        assert_eq!(true_positives(&[1, 10, 20, 23], &[3, 8, 20], 5), 3);
        assert_eq!(true_positives(&[1, 10, 20, 23], &[1, 3, 8, 20], 5), 3);
        assert_eq!(true_positives(&[1, 10, 20, 23], &[1, 3, 5, 8, 20], 5), 3);
        assert_eq!(true_positives(&[], &[1, 2, 3], 5), 0);
        assert_eq!(true_positives(&[1, 2, 3], &[], 5), 0);
    }

    #[test]
    fn f_measure_by_hand() {
        // TCPDBench doctest: f_measure({1: [10, 20], 2: [11, 20], 3: [10], 4: [0, 5]},
        // [10, 20]) is multi-annotator; single-annotator cases by hand:
        // truth {0, 50}, pred {0, 52, 80}: TP = 2, P = 2/3, R = 1, F1 = 0.8.
        let f = f_measure(&[50], &[52, 80], 5);
        assert!((f.precision - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(f.recall, 1.0);
        assert!((f.f1 - 0.8).abs() < 1e-12);
        // Change-free, one false alert: P = 1/2, R = 1, F1 = 2/3.
        let f = f_measure(&[], &[30], 5);
        assert!((f.f1 - 2.0 / 3.0).abs() < 1e-12);
        // Missed change: truth {0, 50}, pred {0}: P = 1, R = 1/2, F1 = 2/3.
        let f = f_measure(&[50], &[], 5);
        assert_eq!(f.precision, 1.0);
        assert_eq!(f.recall, 0.5);
        // Off by 6 (outside the margin): P = 1/2, R = 1/2.
        let f = f_measure(&[50], &[56], 5);
        assert_eq!((f.precision, f.recall, f.f1), (0.5, 0.5, 0.5));
    }

    #[test]
    fn covering_by_hand() {
        // TCPDBench doctests: covering({1: [10, 20], 2: [10], 3: [0, 5]}, [10, 20], 45)
        // is multi-annotator; single-annotator by hand:
        // truth [0,10)[10,45), pred [0,10)[10,20)[20,45):
        // (10·1 + 35·(25/35)) / 45 = 35/45.
        assert!((covering(&[10], &[10, 20], 45) - 35.0 / 45.0).abs() < 1e-12);
        assert_eq!(covering(&[10, 20], &[10, 20], 45), 1.0);
        // truth [0,50)[50,100), pred one segment: (50·0.5 + 50·0.5)/100 = 0.5.
        assert_eq!(covering(&[50], &[], 100), 0.5);
        assert_eq!(covering(&[], &[], 100), 1.0);
    }
}
