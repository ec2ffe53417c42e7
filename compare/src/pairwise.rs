//! Order statistics of the pairwise differences { y_j − x_i } without always
//! materialising all n·m of them.
//!
//! Small products (≤ [`MATERIALIZE_LIMIT`]) are computed outright and the wanted ranks
//! picked by `select_nth_unstable` (O(nm) each). Larger ones use an exact selection
//! that needs only O(n + m) memory: bisection over the *bit patterns* of f64 values
//! (at most 64 steps, each an O(n + m) two-pointer count of differences ≤ t). Because
//! IEEE subtraction is monotone in each operand, the count sees exactly the same
//! rounded differences the direct method would, so both paths return identical values.

/// Above this many pairs the bisection path is used.
pub const MATERIALIZE_LIMIT: usize = 100_000;

/// Selects ranks of `{ y[j] − x[i] }` for sorted, finite `x` and `y`.
pub struct PairwiseDiffs<'a> {
    x: &'a [f64],
    y: &'a [f64],
    all: Option<Vec<f64>>,
}

impl<'a> PairwiseDiffs<'a> {
    /// Both slices sorted ascending and non-empty.
    pub fn new(x: &'a [f64], y: &'a [f64]) -> Self {
        Self::with_limit(x, y, MATERIALIZE_LIMIT)
    }

    /// As [`PairwiseDiffs::new`] with an explicit materialisation limit (tests use it to
    /// check that both paths agree).
    pub fn with_limit(x: &'a [f64], y: &'a [f64], limit: usize) -> Self {
        let all = (x.len() * y.len() <= limit).then(|| {
            let mut v = Vec::with_capacity(x.len() * y.len());
            for &b in y {
                for &a in x {
                    v.push(b - a);
                }
            }
            v
        });
        Self { x, y, all }
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.x.len() * self.y.len()
    }

    /// Whether there are no pairs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The k-th smallest difference, `k` 1-based in `1..=len()`.
    pub fn kth(&mut self, k: usize) -> f64 {
        debug_assert!((1..=self.len()).contains(&k));
        let v = match &mut self.all {
            Some(all) => *all.select_nth_unstable_by(k - 1, f64::total_cmp).1,
            None => self.kth_by_bisection(k),
        };
        // −0.0 and +0.0 compare equal; report +0.0 so output never shows "-0".
        v + 0.0
    }

    /// Several order statistics at once; `ranks` 1-based and ascending (repeats
    /// allowed). On the materialised path each selection only searches the part right
    /// of the previous one, which `select_nth_unstable` has already partitioned, so
    /// four ranks cost about two full passes instead of four.
    pub fn kths<const N: usize>(&mut self, ranks: [usize; N]) -> [f64; N] {
        debug_assert!(ranks.windows(2).all(|w| w[0] <= w[1]));
        let mut out = [0.0; N];
        match &mut self.all {
            Some(all) => {
                let mut offset = 0;
                for (o, &k) in out.iter_mut().zip(&ranks) {
                    let idx = k - 1;
                    let rest = &mut all[offset..];
                    *o = *rest.select_nth_unstable_by(idx - offset, f64::total_cmp).1 + 0.0;
                    offset = idx;
                }
            }
            None => {
                for (o, &k) in out.iter_mut().zip(&ranks) {
                    *o = self.kth_by_bisection(k) + 0.0;
                }
            }
        }
        out
    }

    /// Median of the differences (mean of the two middle ones for an even count).
    pub fn median(&mut self) -> f64 {
        let len = self.len();
        if len % 2 == 1 {
            self.kth(len / 2 + 1)
        } else {
            // Halving each avoids overflow and keeps −median(−D) = median(D) exact.
            self.kth(len / 2) / 2.0 + self.kth(len / 2 + 1) / 2.0
        }
    }

    /// Count of pairs with `y[j] − x[i] ≤ t` in O(n + m). For fixed j the qualifying i
    /// form a suffix of x; the suffix start only moves right as y[j] grows.
    fn count_le(&self, t: f64) -> usize {
        let n = self.x.len();
        let mut start = 0;
        let mut count = 0;
        for &b in self.y {
            while start < n && b - self.x[start] > t {
                start += 1;
            }
            count += n - start;
        }
        count
    }

    /// Smallest f64 `t` with `count_le(t) ≥ k`, which is exactly the k-th difference.
    fn kth_by_bisection(&self, k: usize) -> f64 {
        let (x, y) = (self.x, self.y);
        let mut lo = order_key(y[0] - x[x.len() - 1]);
        let mut hi = order_key(y[y.len() - 1] - x[0]);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.count_le(from_order_key(mid)) >= k {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        from_order_key(lo)
    }
}

/// Maps f64 to u64 so that unsigned order equals numeric order (for non-NaN values).
fn order_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

fn from_order_key(k: u64) -> f64 {
    if k >> 63 == 1 {
        f64::from_bits(k & !(1 << 63))
    } else {
        f64::from_bits(!k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn order_key_is_monotone() {
        let vals = [f64::MIN, -1.0, -1e-300, -0.0, 0.0, 1e-300, 1.0, f64::MAX];
        for w in vals.windows(2) {
            assert!(order_key(w[0]) < order_key(w[1]));
            assert_eq!(from_order_key(order_key(w[0])).to_bits(), w[0].to_bits());
        }
    }

    #[test]
    fn small_example() {
        let x = [1.0, 2.0];
        let y = [3.0, 7.0];
        // Differences: 2, 1, 6, 5 → sorted 1, 2, 5, 6.
        let mut d = PairwiseDiffs::with_limit(&x, &y, 0);
        assert_eq!(
            [d.kth(1), d.kth(2), d.kth(3), d.kth(4)],
            [1.0, 2.0, 5.0, 6.0]
        );
        assert_eq!(d.median(), 3.5);
    }

    proptest! {
        #[test]
        fn bisection_matches_sorting(
            mut x in proptest::collection::vec(-1e6f64..1e6, 1..25),
            mut y in proptest::collection::vec(-1e6f64..1e6, 1..25),
            kf in 0.0f64..1.0,
        ) {
            x.sort_by(f64::total_cmp);
            y.sort_by(f64::total_cmp);
            let len = x.len() * y.len();
            let k = 1 + ((len - 1) as f64 * kf) as usize;
            let mut fast = PairwiseDiffs::with_limit(&x, &y, usize::MAX);
            let mut slow = PairwiseDiffs::with_limit(&x, &y, 0);
            prop_assert_eq!(fast.kth(k).to_bits(), slow.kth(k).to_bits());
            prop_assert_eq!(fast.median().to_bits(), slow.median().to_bits());
        }

        #[test]
        fn kths_match_single_selections(
            mut x in proptest::collection::vec(0u8..6, 1..20),
            mut y in proptest::collection::vec(-1e3f64..1e3, 1..20),
            mut r in proptest::collection::vec(0.0f64..1.0, 4),
        ) {
            x.sort();
            y.sort_by(f64::total_cmp);
            let x: Vec<f64> = x.into_iter().map(f64::from).collect();
            let len = x.len() * y.len();
            r.sort_by(f64::total_cmp);
            let ranks: [usize; 4] = std::array::from_fn(|i| 1 + ((len - 1) as f64 * r[i]) as usize);
            let mut fast = PairwiseDiffs::with_limit(&x, &y, usize::MAX);
            let mut slow = PairwiseDiffs::with_limit(&x, &y, 0);
            let got = fast.kths(ranks);
            let want = slow.kths(ranks);
            for i in 0..4 {
                prop_assert_eq!(got[i].to_bits(), want[i].to_bits());
                prop_assert_eq!(got[i].to_bits(), PairwiseDiffs::with_limit(&x, &y, usize::MAX).kth(ranks[i]).to_bits());
            }
        }

        #[test]
        fn bisection_handles_heavy_ties(
            mut x in proptest::collection::vec(0u8..4, 1..30),
            mut y in proptest::collection::vec(0u8..4, 1..30),
        ) {
            x.sort();
            y.sort();
            let x: Vec<f64> = x.into_iter().map(f64::from).collect();
            let y: Vec<f64> = y.into_iter().map(f64::from).collect();
            let len = x.len() * y.len();
            let mut fast = PairwiseDiffs::with_limit(&x, &y, usize::MAX);
            let mut slow = PairwiseDiffs::with_limit(&x, &y, 0);
            for k in [1, len.div_ceil(2), len] {
                prop_assert_eq!(fast.kth(k).to_bits(), slow.kth(k).to_bits());
            }
        }
    }
}
