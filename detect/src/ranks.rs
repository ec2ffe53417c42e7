//! Ranking helpers shared by the energy scan and the rank test.

/// A slice's sort order and ranks.
pub(crate) struct Ranked {
    /// `position[i]`: unique position of element `i` in a stable sort (0-based). Ties get
    /// distinct positions, which is all the Fenwick tree needs (tied pairs add 0).
    pub(crate) position: Vec<usize>,
    /// `doubled_midrank[i]`: twice the 1-based mid-rank of element `i`. Doubling keeps
    /// every value an integer, so sums of rank differences are exact in f64 (up to
    /// ~2·10^5 points per segment) and therefore reproducible across platforms and
    /// invariant under any monotone rescaling of the data.
    pub(crate) doubled_midrank: Vec<f64>,
    /// The sorted values, reused for medians and centring.
    pub(crate) sorted: Vec<f64>,
}

pub(crate) fn rank(values: &[f64]) -> Ranked {
    let n = values.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut position = vec![0; n];
    let mut doubled_midrank = vec![0.0; n];
    let sorted: Vec<f64> = order.iter().map(|&i| values[i]).collect();
    let mut start = 0;
    while start < n {
        let mut end = start + 1;
        while end < n && sorted[end] == sorted[start] {
            end += 1;
        }
        // Positions start..end (0-based) share the 1-based mid-rank (start+1 + end)/2.
        let dm = (start + 1 + end) as f64;
        for (p, &i) in order.iter().enumerate().take(end).skip(start) {
            position[i] = p;
            doubled_midrank[i] = dm;
        }
        start = end;
    }
    Ranked {
        position,
        doubled_midrank,
        sorted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn midranks_with_ties() {
        let r = rank(&[10.0, 20.0, 10.0, 30.0]);
        assert_eq!(r.doubled_midrank, vec![3.0, 6.0, 3.0, 8.0]);
        assert_eq!(r.position, vec![0, 2, 1, 3]);
        assert_eq!(r.sorted, vec![10.0, 10.0, 20.0, 30.0]);
    }
}
