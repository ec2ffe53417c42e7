//! Downsampling for charts. A series page with 100k points must draw a few thousand,
//! without hiding the spikes people look for: we keep, per bucket, the point with
//! the lowest and the highest value (min/max buckets), plus the first and last point.

/// Indices of the points to draw, in order, at most about `max_points` of them.
/// `ys` holds the values in x order. Returns every index when there are few points.
pub fn minmax_indices(ys: &[f64], max_points: usize) -> Vec<usize> {
    let n = ys.len();
    if n <= max_points || max_points < 4 {
        return (0..n).collect();
    }
    // Two points per bucket, first and last kept outside the buckets.
    let buckets = (max_points - 2) / 2;
    let inner = n - 2;
    let mut out = Vec::with_capacity(buckets * 2 + 2);
    out.push(0);
    for b in 0..buckets {
        let start = 1 + b * inner / buckets;
        let end = 1 + (b + 1) * inner / buckets;
        if start >= end {
            continue;
        }
        let (mut lo, mut hi) = (start, start);
        for i in start..end {
            if ys[i] < ys[lo] {
                lo = i;
            }
            if ys[i] > ys[hi] {
                hi = i;
            }
        }
        if lo == hi {
            out.push(lo);
        } else {
            out.push(lo.min(hi));
            out.push(lo.max(hi));
        }
    }
    out.push(n - 1);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn keeps_a_single_spike() {
        let mut ys = vec![1.0; 100_000];
        ys[54_321] = 50.0;
        ys[7] = -3.0;
        let idx = minmax_indices(&ys, 2000);
        assert!(idx.len() <= 2000);
        assert!(idx.contains(&54_321));
        assert!(idx.contains(&7));
        assert_eq!(idx[0], 0);
        assert_eq!(*idx.last().unwrap(), 99_999);
    }

    proptest! {
        #[test]
        fn indices_are_sorted_bounded_and_keep_extremes(
            ys in proptest::collection::vec(-1e6f64..1e6, 0..3000),
            max in 4usize..500,
        ) {
            let idx = minmax_indices(&ys, max);
            prop_assert!(idx.windows(2).all(|w| w[0] < w[1]));
            prop_assert!(idx.len() <= max.max(ys.len().min(max)) || ys.len() <= max);
            if !ys.is_empty() {
                let gmax = ys.iter().cloned().fold(f64::MIN, f64::max);
                let gmin = ys.iter().cloned().fold(f64::MAX, f64::min);
                prop_assert!(idx.iter().any(|&i| ys[i] == gmax));
                prop_assert!(idx.iter().any(|&i| ys[i] == gmin));
            }
        }
    }
}
