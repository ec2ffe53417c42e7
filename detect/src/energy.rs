//! The E-Divisive energy statistic (Matteson & James 2014, α = 1) for 1-D data.
//!
//! For a left segment X (n points) and right segment Y (m points):
//!   Ê = 2/(nm)·Σ|x−y| − Σ_{i<j}|xi−xj| / C(n,2) − Σ_{i<j}|yi−yj| / C(m,2)
//!   Q̂ = nm/(n+m) · Ê
//! The classic algorithm recomputes these pair sums for every split: O(n²). Here the
//! within-left sum W_L(τ) is built left to right and the within-right sum W_R(τ) right to
//! left, each point adding Σ|v − x| over the points already seen, which a Fenwick tree
//! over value ranks answers in O(log n). The across sum is then A(τ) = T − W_L − W_R
//! with T the all-pairs sum. One scan over every τ costs O(n log n).

use crate::fenwick::Fenwick;

/// The split τ (1..len) maximising Q̂ with both sides holding at least `min_seg`
/// points, and its Q̂. `w` are the values the statistic is computed on; `position[i]`
/// is the unique sorted position of `w[i]`. Ties between splits go to the earliest τ.
pub(crate) fn best_split(w: &[f64], position: &[usize], min_seg: usize) -> Option<(usize, f64)> {
    let len = w.len();
    let min_seg = min_seg.max(2);
    if len < 2 * min_seg {
        return None;
    }
    // within_left[τ] = Σ_{i<j<τ} |wi − wj|
    let mut within_left = vec![0.0; len + 1];
    let mut tree = Fenwick::new(len);
    for t in 0..len {
        within_left[t + 1] = within_left[t] + tree.abs_dev_sum(position[t], w[t]);
        tree.insert(position[t], w[t]);
    }
    // within_right[τ] = Σ_{τ≤i<j<len} |wi − wj|
    let mut within_right = vec![0.0; len + 1];
    let mut tree = Fenwick::new(len);
    for t in (0..len).rev() {
        within_right[t] = within_right[t + 1] + tree.abs_dev_sum(position[t], w[t]);
        tree.insert(position[t], w[t]);
    }
    let total = within_left[len];
    let mut best: Option<(usize, f64)> = None;
    for tau in min_seg..=len - min_seg {
        let q = q_hat(
            tau,
            len - tau,
            total - within_left[tau] - within_right[tau],
            within_left[tau],
            within_right[tau],
        );
        if best.is_none_or(|(_, b)| q > b) {
            best = Some((tau, q));
        }
    }
    best
}

/// Q̂ from the pair sums: `across` = Σ|x−y|, `wx`/`wy` = within-segment pair sums.
pub(crate) fn q_hat(n: usize, m: usize, across: f64, wx: f64, wy: f64) -> f64 {
    let (nf, mf) = (n as f64, m as f64);
    let e = 2.0 * across.max(0.0) / (nf * mf)
        - wx / (nf * (nf - 1.0) / 2.0)
        - wy / (mf * (mf - 1.0) / 2.0);
    nf * mf / (nf + mf) * e
}

/// Σ_{i<j} |si − sj| of a sorted slice: the k-th smallest (0-based) is subtracted by
/// the n−1−k points above it and added by the k points below it.
pub(crate) fn pair_sum_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len() as f64;
    sorted
        .iter()
        .enumerate()
        .map(|(k, v)| (2.0 * k as f64 - n + 1.0) * v)
        .sum()
}

/// Q̂ for two fixed segments given each one sorted and their merge sorted.
pub(crate) fn q_hat_sorted(x: &[f64], y: &[f64], merged: &[f64]) -> f64 {
    let wx = pair_sum_sorted(x);
    let wy = pair_sum_sorted(y);
    let across = pair_sum_sorted(merged) - wx - wy;
    q_hat(x.len(), y.len(), across, wx, wy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ranks::rank;

    fn brute_q(w: &[f64], tau: usize) -> f64 {
        let (x, y) = w.split_at(tau);
        let mut across = 0.0;
        for a in x {
            for b in y {
                across += (a - b).abs();
            }
        }
        let within = |s: &[f64]| {
            let mut t = 0.0;
            for i in 0..s.len() {
                for j in i + 1..s.len() {
                    t += (s[i] - s[j]).abs();
                }
            }
            t
        };
        q_hat(x.len(), y.len(), across, within(x), within(y))
    }

    #[test]
    fn scan_matches_brute_force() {
        let w = [1.0, 3.0, 2.0, 2.0, 8.0, 9.0, 7.5, 8.0, 1.0, 9.5, 8.2];
        let r = rank(&w);
        let (tau, q) = best_split(&w, &r.position, 2).unwrap();
        let (bt, bq) = (2..=w.len() - 2)
            .map(|t| (t, brute_q(&w, t)))
            .fold((0, f64::MIN), |acc, c| if c.1 > acc.1 { c } else { acc });
        assert_eq!(tau, bt);
        assert!((q - bq).abs() < 1e-9, "{q} vs {bq}");
        let mut x = w[..tau].to_vec();
        let mut y = w[tau..].to_vec();
        let mut m = w.to_vec();
        x.sort_by(f64::total_cmp);
        y.sort_by(f64::total_cmp);
        m.sort_by(f64::total_cmp);
        assert!((q_hat_sorted(&x, &y, &m) - bq).abs() < 1e-9);
    }
}
