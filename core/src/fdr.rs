//! False-discovery-rate control across many tests in one pass (Benjamini–Hochberg).
//! With hundreds of series per run, testing each at p < 0.05 would flag several by
//! chance every run; BH keeps the expected share of false discoveries at `q`.

/// Which of `p_values` are discoveries at false-discovery rate `q`.
pub fn benjamini_hochberg(p_values: &[f64], q: f64) -> Vec<bool> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut cutoff = None;
    for (rank, &i) in order.iter().enumerate() {
        if p_values[i] <= q * (rank + 1) as f64 / m as f64 {
            cutoff = Some(rank);
        }
    }
    let mut out = vec![false; m];
    if let Some(k) = cutoff {
        for &i in &order[..=k] {
            out[i] = true;
        }
    }
    out
}

/// BH-adjusted p-values (q-values): the smallest FDR at which each test is a discovery.
pub fn bh_adjusted(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]));
    let mut out = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        running = running.min(p_values[i] * m as f64 / (rank + 1) as f64);
        out[i] = running.min(1.0);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn textbook_example() {
        // Sorted p-values 0.005, 0.01, 0.03, 0.04 meet k/m·q exactly or below; 0.5 does not.
        let p = [0.01, 0.04, 0.03, 0.005, 0.5];
        assert_eq!(
            benjamini_hochberg(&p, 0.05),
            vec![true, true, true, true, false]
        );
        let p = [
            0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205, 0.212, 0.216,
        ];
        let d = benjamini_hochberg(&p, 0.05);
        assert_eq!(d.iter().filter(|x| **x).count(), 2);
        let adj = bh_adjusted(&p);
        assert!((adj[0] - 0.01).abs() < 1e-12);
        assert!((adj[1] - 0.04).abs() < 1e-12);
        assert!(benjamini_hochberg(&[], 0.05).is_empty());
    }
}
