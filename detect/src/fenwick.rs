//! Fenwick tree (binary indexed tree) holding, per value rank, how many points are
//! present and the sum of their values. It answers "how many points rank below `r`
//! and what do they sum to" in O(log n), which is what turns the energy statistic's
//! sum of |xi − xj| over a growing segment into an O(log n) update per point.

/// Counts and value sums over ranks `0..len`.
pub(crate) struct Fenwick {
    count: Vec<u32>,
    sum: Vec<f64>,
    total_count: u32,
    total_sum: f64,
}

impl Fenwick {
    pub(crate) fn new(len: usize) -> Self {
        Self {
            count: vec![0; len + 1],
            sum: vec![0.0; len + 1],
            total_count: 0,
            total_sum: 0.0,
        }
    }

    /// Adds a point of value `v` at rank `r`.
    pub(crate) fn insert(&mut self, r: usize, v: f64) {
        self.total_count += 1;
        self.total_sum += v;
        let mut i = r + 1;
        while i < self.count.len() {
            self.count[i] += 1;
            self.sum[i] += v;
            i += i & i.wrapping_neg();
        }
    }

    /// Count and value sum of the points with rank strictly below `r`.
    pub(crate) fn below(&self, r: usize) -> (u32, f64) {
        let (mut c, mut s) = (0u32, 0.0f64);
        let mut i = r;
        while i > 0 {
            c += self.count[i];
            s += self.sum[i];
            i &= i - 1;
        }
        (c, s)
    }

    /// Σ |v − x| over every point x in the tree, for a value `v` of rank `r` that is
    /// not itself in the tree. Ranks are unique positions in sorted order, so points
    /// ranked below have x ≤ v and points ranked above have x ≥ v (ties add 0 either way).
    pub(crate) fn abs_dev_sum(&self, r: usize, v: f64) -> f64 {
        let (cb, sb) = self.below(r);
        let ca = self.total_count - cb;
        let sa = self.total_sum - sb;
        // Clamp each side at 0: with f64 sums the subtraction can go a hair negative.
        (f64::from(cb) * v - sb).max(0.0) + (sa - f64::from(ca) * v).max(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abs_dev_sum_matches_brute_force() {
        let vals: [f64; 8] = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let mut order: Vec<usize> = (0..vals.len()).collect();
        order.sort_by(|&a, &b| vals[a].total_cmp(&vals[b]));
        let mut rank = vec![0; vals.len()];
        for (r, &i) in order.iter().enumerate() {
            rank[i] = r;
        }
        let mut f = Fenwick::new(vals.len());
        for i in 0..vals.len() {
            let brute: f64 = vals[..i].iter().map(|x| (x - vals[i]).abs()).sum();
            assert_eq!(f.abs_dev_sum(rank[i], vals[i]), brute);
            f.insert(rank[i], vals[i]);
        }
    }
}
