//! The series as sorted points and the robust statistics a verdict is built from.

use super::SIGMA_FLOOR;

/// Finite points sorted by time.
pub(super) struct Sorted {
    pub(super) t: Vec<i64>,
    pub(super) v: Vec<f64>,
}

impl Sorted {
    pub(super) fn new(points: &[(i64, f64)]) -> Self {
        let mut p: Vec<(i64, f64)> = points.iter().copied().filter(|p| p.1.is_finite()).collect();
        p.sort_by_key(|p| p.0);
        Self {
            t: p.iter().map(|p| p.0).collect(),
            v: p.iter().map(|p| p.1).collect(),
        }
    }

    /// Median of the values with time in `[start, end)` (bounds in i128: no overflow).
    pub(super) fn median_in(&self, start: i128, end: i128) -> Option<f64> {
        if end <= start {
            return None;
        }
        let lo = self.t.partition_point(|&t| (t as i128) < start);
        let hi = self.t.partition_point(|&t| (t as i128) < end);
        if hi <= lo {
            return None;
        }
        median(self.v[lo..hi].to_vec())
    }
}

impl Sorted {
    /// Half the median spacing of the points (at least 1 ms): how far a point may be
    /// from a time to stand for it.
    pub(super) fn half_spacing(&self) -> i64 {
        let mut gaps: Vec<i64> = self
            .t
            .windows(2)
            .map(|w| w[1].saturating_sub(w[0]))
            .filter(|g| *g > 0)
            .collect();
        if gaps.is_empty() {
            return 1;
        }
        gaps.sort_unstable();
        (gaps[gaps.len() / 2] / 2).max(1)
    }

    /// The value at `t` (the nearest point within `tol`).
    fn at(&self, t: i64, tol: i64) -> Option<f64> {
        let i = self.t.partition_point(|&x| x < t);
        let mut best: Option<(i64, f64)> = None;
        for j in [i.checked_sub(1), Some(i)].into_iter().flatten() {
            if let (Some(&x), Some(&v)) = (self.t.get(j), self.v.get(j)) {
                let dist = x.abs_diff(t).min(i64::MAX as u64) as i64;
                if dist <= tol && best.is_none_or(|b| dist < b.0) {
                    best = Some((dist, v));
                }
            }
        }
        best.map(|b| b.1)
    }

    /// Median over the points in `[start, end)` of value now ÷ value at the same local
    /// time `k` weeks earlier, over the pairs where both exist and are > 0.
    pub(super) fn matched_ratio(
        &self,
        start: i128,
        end: i128,
        k: i64,
        tz: crate::calendar::Tz,
        tol: i64,
    ) -> Option<f64> {
        if end <= start {
            return None;
        }
        let lo = self.t.partition_point(|&t| (t as i128) < start);
        let hi = self.t.partition_point(|&t| (t as i128) < end);
        let mut r = Vec::new();
        for i in lo..hi {
            let (t, v) = (self.t[i], self.v[i]);
            let Some(then) = crate::calendar::weeks_before(t, k, tz).and_then(|b| self.at(b, tol))
            else {
                continue;
            };
            if v > 0.0 && then > 0.0 {
                let x = v / then;
                if x.is_finite() && x > 0.0 {
                    r.push(x);
                }
            }
        }
        median(r)
    }
}

/// Median of finite values (mean of the middle two for an even count); None when empty.
pub(super) fn median(mut v: Vec<f64>) -> Option<f64> {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    let m = if n % 2 == 1 {
        v[n / 2]
    } else {
        // Halve first: no overflow near f64::MAX.
        v[n / 2 - 1] / 2.0 + v[n / 2] / 2.0
    };
    Some(m)
}

/// Sample standard deviation of finite values (at least two).
pub(super) fn sample_sd(v: &[f64]) -> Option<f64> {
    let v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if v.len() < 2 {
        return None;
    }
    let mean = v.iter().sum::<f64>() / v.len() as f64;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (v.len() - 1) as f64;
    Some(var.sqrt()).filter(|s| s.is_finite())
}

/// Small-sample correction factor of the MAD (Croux & Rousseeuw 1992).
fn mad_correction(n: usize) -> f64 {
    match n {
        0 | 1 => 1.0,
        2 => 1.196,
        3 => 1.495,
        4 => 1.363,
        5 => 1.206,
        6 => 1.200,
        7 => 1.140,
        8 => 1.129,
        9 => 1.107,
        _ => n as f64 / (n as f64 - 0.8),
    }
}

/// Robust σ of `r` (at least three values), floored at [`SIGMA_FLOOR`].
pub(super) fn robust_sigma(r: &[f64]) -> Option<f64> {
    if r.len() < 3 {
        return None;
    }
    let med = median(r.to_vec())?;
    let mad = median(r.iter().map(|x| (x - med).abs()).collect())?;
    let s = mad_correction(r.len()) * 1.4826 * mad;
    if s.is_finite() {
        Some(s.max(SIGMA_FLOOR))
    } else {
        None
    }
}

/// `a / b` when both are finite and > 0 and the ratio is finite.
pub(super) fn level_scale(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    match (a, b) {
        (Some(a), Some(b)) if a > 0.0 && b > 0.0 => {
            Some(a / b).filter(|s| s.is_finite() && *s > 0.0)
        }
        _ => None,
    }
}
