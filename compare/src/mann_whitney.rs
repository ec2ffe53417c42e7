//! Mann–Whitney U test (Wilcoxon rank-sum), two-sided.
//!
//! Why this test: it assumes nothing about the shape of the timing distribution, is
//! unaffected by a few wild outliers, and is invariant to any monotone rescaling of the
//! data (ns vs ms, or ln of the values). It is what benchstat uses.
//!
//! * Exact null distribution when there are no ties and `n·m ≤ 2500` (e.g. 50 vs 50):
//!   the count of rank arrangements giving each U is the coefficient list of the
//!   Gaussian binomial [n+m choose n]_q, built in exact integer arithmetic as
//!   ∏ᵢ (1 − q^(m+i)) / (1 − q^i). Cost O(min(n,m)·n·m), tiny at these sizes.
//! * Otherwise the normal approximation with tie correction and continuity correction,
//!   matching `scipy.stats.mannwhitneyu(method="asymptotic", use_continuity=True)`.
//!   With ties the exact no-ties distribution would be wrong, and for large samples
//!   the normal is accurate to far better than anyone reads a p-value.

use perfwatch_core::dist::normal_two_sided_p;
use serde::{Deserialize, Serialize};

/// Largest `n·m` for which the exact distribution is used. [n+m choose n] is at most
/// C(100, 50) ≈ 1e29 here, well inside i128.
pub const MAX_EXACT_PRODUCT: usize = 2500;

/// Exact null distribution of U for sample sizes `n` and `m` (continuous data).
#[derive(Debug, Clone, PartialEq)]
pub struct UDistribution {
    n: usize,
    m: usize,
    /// `cdf[u] = P(U ≤ u)` for `u` in `0..=n·m`.
    cdf: Vec<f64>,
}

impl UDistribution {
    /// Builds the distribution, or `None` when `n·m` exceeds [`MAX_EXACT_PRODUCT`].
    pub fn new(n: usize, m: usize) -> Option<Self> {
        if n.checked_mul(m)? > MAX_EXACT_PRODUCT {
            return None;
        }
        let (a, b) = (n.min(m), n.max(m));
        let deg = a * b;
        // counts[u] = number of the C(n+m, n) equally likely arrangements with U = u.
        let mut counts = vec![0i128; deg + 1];
        counts[0] = 1;
        for i in 1..=a {
            // Multiply by (1 − q^(b+i)), then divide exactly by (1 − q^i). After step i
            // the list holds [b+i choose i]_q, so every intermediate is an integer bounded
            // by C(b+i, i): no overflow, no rounding.
            let s = b + i;
            for u in (s..=deg).rev() {
                counts[u] -= counts[u - s];
            }
            for u in i..=deg {
                counts[u] += counts[u - i];
            }
        }
        let total: i128 = counts.iter().sum();
        let mut running = 0i128;
        let cdf = counts
            .iter()
            .map(|&c| {
                running += c;
                running as f64 / total as f64
            })
            .collect();
        Some(Self { n, m, cdf })
    }

    /// Sample sizes this distribution is for.
    pub fn sizes(&self) -> (usize, usize) {
        (self.n, self.m)
    }

    /// `P(U ≤ u)`; 0 below the support, 1 above it.
    pub fn cdf(&self, u: i64) -> f64 {
        if u < 0 {
            0.0
        } else {
            self.cdf.get(u as usize).copied().unwrap_or(1.0)
        }
    }

    /// Two-sided p-value of an observed integer U: `2·P(U ≤ min(u, nm − u))`, capped at 1.
    /// Using the lower tail of the smaller side avoids `1 − cdf` cancellation.
    pub fn two_sided_p(&self, u: u64) -> f64 {
        let nm = (self.n * self.m) as u64;
        let lower = u.min(nm.saturating_sub(u));
        (2.0 * self.cdf(lower as i64)).min(1.0)
    }
}

/// Which computation produced a p-value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PMethod {
    Exact,
    Normal,
}

/// Result of one two-sided Mann–Whitney test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MannWhitney {
    /// U of the head sample: #(head > base) + ½·#(head = base) over all pairs.
    pub u_head: f64,
    pub p_value: f64,
    pub method: PMethod,
    /// Whether any value occurs more than once in the pooled sample.
    pub ties: bool,
    /// Standard deviation of U under the null, tie-corrected (used by the Moses
    /// interval's normal approximation).
    pub sigma: f64,
}

/// Rank statistics of the pooled sample.
struct Ranked {
    u_head: f64,
    /// Σ (t³ − t) over tie groups.
    tie_term: f64,
    ties: bool,
}

/// U of `head` against `base`, both sorted ascending, by one merge pass with mid-ranks
/// (O(n + m) after sorting).
fn rank_sorted(base: &[f64], head: &[f64]) -> Ranked {
    let (n, m) = (base.len(), head.len());
    let (mut i, mut j) = (0, 0);
    let mut rank_sum_head = 0.0;
    let mut tie_term = 0.0;
    let mut ties = false;
    let mut next_rank = 1usize;
    while i < n || j < m {
        let v = match (base.get(i), head.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => unreachable!(),
        };
        let (i0, j0) = (i, j);
        while i < n && base[i] == v {
            i += 1;
        }
        while j < m && head[j] == v {
            j += 1;
        }
        let t = (i - i0) + (j - j0);
        // Mid-rank of the tie group occupying ranks next_rank ..= next_rank + t − 1.
        let mid = next_rank as f64 + (t as f64 - 1.0) / 2.0;
        rank_sum_head += mid * (j - j0) as f64;
        if t > 1 {
            ties = true;
            let tf = t as f64;
            tie_term += tf * tf * tf - tf;
        }
        next_rank += t;
    }
    let mf = m as f64;
    Ranked {
        u_head: rank_sum_head - mf * (mf + 1.0) / 2.0,
        tie_term,
        ties,
    }
}

/// Tie-corrected null standard deviation of U.
pub fn u_sigma(n: usize, m: usize, tie_term: f64) -> f64 {
    let (nf, mf) = (n as f64, m as f64);
    let big_n = nf + mf;
    if big_n < 2.0 {
        return 0.0;
    }
    let var = nf * mf / 12.0 * ((big_n + 1.0) - tie_term / (big_n * (big_n - 1.0)));
    var.max(0.0).sqrt()
}

/// Two-sided Mann–Whitney test of sorted, finite, non-empty samples. `exact` is a
/// cached distribution for these sizes if the caller has one (see [`UDistribution`]);
/// otherwise one is built when eligible.
pub fn mann_whitney_sorted(
    base: &[f64],
    head: &[f64],
    exact: Option<&UDistribution>,
) -> MannWhitney {
    let (n, m) = (base.len(), head.len());
    let r = rank_sorted(base, head);
    let sigma = u_sigma(n, m, r.tie_term);
    if !r.ties && n * m <= MAX_EXACT_PRODUCT {
        let owned;
        let dist = match exact {
            Some(d) if d.sizes() == (n, m) => d,
            _ => {
                owned = UDistribution::new(n, m).expect("size checked above");
                &owned
            }
        };
        // Without ties U is an integer.
        let p = dist.two_sided_p(r.u_head.round() as u64);
        return MannWhitney {
            u_head: r.u_head,
            p_value: p,
            method: PMethod::Exact,
            ties: false,
            sigma,
        };
    }
    MannWhitney {
        u_head: r.u_head,
        p_value: normal_p(r.u_head, n, m, sigma),
        method: PMethod::Normal,
        ties: r.ties,
        sigma,
    }
}

/// Normal approximation with continuity correction, as scipy:
/// z = (|U − nm/2| − ½) / σ, p = 2·(1 − Φ(z)), capped to [0, 1]. All-equal data
/// (σ = 0) carry no evidence: p = 1.
fn normal_p(u: f64, n: usize, m: usize, sigma: f64) -> f64 {
    if sigma <= 0.0 {
        return 1.0;
    }
    let mu = (n * m) as f64 / 2.0;
    let z = ((u - mu).abs() - 0.5) / sigma;
    if z <= 0.0 {
        return 1.0;
    }
    normal_two_sided_p(z).clamp(0.0, 1.0)
}

/// Smallest two-sided p-value the exact test can ever give for sizes `n`, `m`:
/// `2 / C(n+m, n)` (all of one sample below all of the other), capped at 1. Ties only
/// make the attainable p larger, so this is the best case.
pub fn min_p_value(n: usize, m: usize) -> f64 {
    let (a, b) = (n.min(m), n.max(m));
    // C(a+b, a) built as a product of a ratios, in f64 (overflow to ∞ just gives 0).
    let mut c = 1.0f64;
    for i in 1..=a {
        c *= (b + i) as f64 / i as f64;
    }
    (2.0 / c).min(1.0)
}

/// Smallest equal per-side sample count at which a two-sided test at level `alpha`
/// can possibly be significant, i.e. the least `s` with `2 / C(2s, s) ≤ alpha`.
/// α = 0.05 → 4 (4 vs 4 gives p = 2/70 = 0.0286; 3 vs 3 at best 0.1).
pub fn samples_needed_per_side(alpha: f64) -> usize {
    let mut s = 1;
    // alpha > 0 is validated by the caller; the cap guards against a bad caller.
    while min_p_value(s, s) > alpha && s < 10_000 {
        s += 1;
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sorted(v: &[f64]) -> Vec<f64> {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        v
    }

    fn mw(base: &[f64], head: &[f64]) -> MannWhitney {
        mann_whitney_sorted(&sorted(base), &sorted(head), None)
    }

    fn close(a: f64, b: f64, tol: f64) {
        assert!((a - b).abs() <= tol, "{a} vs {b}");
    }

    #[test]
    fn exact_distribution_counts() {
        // n = m = 2: U ∈ {0,1,2,2,3,4} over the C(4,2) = 6 arrangements.
        let d = UDistribution::new(2, 2).unwrap();
        let want = [1.0, 2.0, 4.0, 5.0, 6.0].map(|c| c / 6.0);
        for (u, w) in want.iter().enumerate() {
            close(d.cdf(u as i64), *w, 1e-15);
        }
        // n = m = 4: P(U ≤ 0) = 1/70, P(U ≤ 1) = 2/70, P(U ≤ 2) = 4/70, P(U ≤ 3) = 7/70
        // (partitions of u into at most 4 parts each ≤ 4).
        let d = UDistribution::new(4, 4).unwrap();
        for (u, c) in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 7.0), (16, 70.0)] {
            close(d.cdf(u), c / 70.0, 1e-15);
        }
        // Largest exact case: the distribution is symmetric and sums to 1.
        let d = UDistribution::new(50, 50).unwrap();
        close(d.cdf(2500), 1.0, 0.0);
        close(d.cdf(1249), 1.0 - d.cdf(1250), 1e-12);
        assert!(UDistribution::new(51, 50).is_none());
    }

    #[test]
    fn scipy_exact_known_answers() {
        // scipy.stats.mannwhitneyu([1,2,3,4], [5,6,7,8]) → U = 0, p = 0.028571428571428571
        // (= 2/70, exact).
        let r = mw(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0]);
        assert_eq!(r.method, PMethod::Exact);
        assert_eq!(r.u_head, 16.0);
        close(r.p_value, 2.0 / 70.0, 1e-15);
        // R's wilcox.test example (Hollander & Wolfe, permeability constants):
        // x = c(0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46),
        // y = c(1.15, 0.88, 0.90, 0.74, 1.21): W = 35, one-sided p = 0.1272.
        // scipy 1.17 mannwhitneyu(x, y) two-sided → U = 35.0, p = 0.2544122544122544.
        let x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        let y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let r = mw(&y, &x);
        assert_eq!(r.u_head, 35.0);
        close(r.p_value, 0.254_412_254_412_254_4, 1e-14);
        // scipy mannwhitneyu([1,3,5,7,9], [2,4,6,8,10,12]) → U = 10, p = 0.42857142857142855.
        let r = mw(
            &[2.0, 4.0, 6.0, 8.0, 10.0, 12.0],
            &[1.0, 3.0, 5.0, 7.0, 9.0],
        );
        assert_eq!(r.u_head, 10.0);
        close(r.p_value, 0.428_571_428_571_428_55, 1e-14);
    }

    #[test]
    fn scipy_exact_at_the_largest_exact_size() {
        // 50 vs 50, no ties: b = 0,2,…,98; h = 21,23,…,119.
        // scipy.stats.mannwhitneyu(h, b, method="exact") → U = 1720,
        // p = 0.0010550164711136663.
        let b: Vec<f64> = (0..50).map(|i| (2 * i) as f64).collect();
        let h: Vec<f64> = (0..50).map(|i| (2 * i + 21) as f64).collect();
        let r = mw(&b, &h);
        assert_eq!(r.method, PMethod::Exact);
        assert_eq!(r.u_head, 1720.0);
        close(r.p_value, 0.001_055_016_471_113_666_3, 1e-15);
    }

    #[test]
    fn scipy_asymptotic_known_answers() {
        // Ties force the normal approximation, as in scipy's method="auto".
        // scipy.stats.mannwhitneyu([2,3,3,5,6,6], [1,2,2,3,4]) → U = 24,
        // p = 0.1130499788563229 (continuity- and tie-corrected). The tolerance is the
        // error bound of core's erfc (1.2e-7).
        let r = mw(&[1.0, 2.0, 2.0, 3.0, 4.0], &[2.0, 3.0, 3.0, 5.0, 6.0, 6.0]);
        assert_eq!(r.method, PMethod::Normal);
        assert_eq!(r.u_head, 24.0);
        close(r.p_value, 0.113_049_978_856_322_9, 2e-7);
        // Too large for exact (60·60 > 2500), no ties: b = 0,2,…,118; h = 1,3,…,119.
        // scipy mannwhitneyu(h, b, method="asymptotic") → U = 1830, p = 0.8769515201868247.
        let b: Vec<f64> = (0..60).map(|i| (2 * i) as f64).collect();
        let h: Vec<f64> = (0..60).map(|i| (2 * i + 1) as f64).collect();
        let r = mw(&b, &h);
        assert_eq!(r.method, PMethod::Normal);
        assert_eq!(r.u_head, 1830.0);
        close(r.p_value, 0.876_951_520_186_824_7, 2e-7);
        // b = 0..59, h = 10.5..69.5 → U = 2375, p = 0.0025668879435241754.
        let b: Vec<f64> = (0..60).map(f64::from).collect();
        let h: Vec<f64> = (0..60).map(|i| f64::from(i) + 10.5).collect();
        let r = mw(&b, &h);
        assert_eq!(r.u_head, 2375.0);
        close(r.p_value, 0.002_566_887_943_524_175_4, 2e-7);
    }

    #[test]
    fn identical_samples_give_p_one() {
        let r = mw(&[5.0; 10], &[5.0; 10]);
        assert_eq!(r.p_value, 1.0);
        assert_eq!(r.u_head, 50.0);
        let r = mw(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]);
        assert_eq!(r.p_value, 1.0);
    }

    #[test]
    fn minimum_p_and_samples_needed() {
        close(min_p_value(4, 4), 2.0 / 70.0, 1e-15);
        close(min_p_value(3, 3), 0.1, 1e-15);
        close(min_p_value(1, 1), 1.0, 0.0);
        close(min_p_value(0, 7), 1.0, 0.0);
        close(min_p_value(1, 39), 0.05, 1e-15);
        assert_eq!(samples_needed_per_side(0.05), 4);
        assert_eq!(samples_needed_per_side(0.1), 3); // 3 vs 3 reaches exactly 0.1
        assert_eq!(samples_needed_per_side(0.01), 5); // 2/252 = 0.0079
        assert_eq!(samples_needed_per_side(0.001), 7); // 2/3432 = 0.00058
    }

    proptest! {
        #[test]
        fn p_is_a_probability_and_symmetric(
            a in proptest::collection::vec(-1e6f64..1e6, 1..40),
            b in proptest::collection::vec(-1e6f64..1e6, 1..40),
        ) {
            let r = mw(&a, &b);
            prop_assert!((0.0..=1.0).contains(&r.p_value));
            let s = mw(&b, &a);
            prop_assert_eq!(r.p_value, s.p_value);
            prop_assert_eq!(r.u_head + s.u_head, (a.len() * b.len()) as f64);
            // Exact p never beats the best case.
            prop_assert!(r.p_value >= min_p_value(a.len(), b.len()) - 1e-12);
        }

        #[test]
        fn exact_matches_brute_force_counting(
            a in proptest::collection::vec(0u32..1000, 1..6),
            b in proptest::collection::vec(0u32..1000, 1..6),
        ) {
            // U by its definition: pairs with head > base, ties ½.
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            let mut u = 0.0;
            for x in &a { for y in &b {
                if y > x { u += 1.0 } else if y == x { u += 0.5 }
            }}
            prop_assert_eq!(mw(&a, &b).u_head, u);
        }

        #[test]
        fn scaling_leaves_p_unchanged(
            a in proptest::collection::vec(1i32..100_000, 1..30),
            b in proptest::collection::vec(1i32..100_000, 1..30),
            pow in -20i32..20,
        ) {
            let a: Vec<f64> = a.into_iter().map(f64::from).collect();
            let b: Vec<f64> = b.into_iter().map(f64::from).collect();
            // Powers of two scale exactly, so the ranks are untouched.
            let c = 2f64.powi(pow);
            let sa: Vec<f64> = a.iter().map(|v| v * c).collect();
            let sb: Vec<f64> = b.iter().map(|v| v * c).collect();
            prop_assert_eq!(mw(&a, &b).p_value, mw(&sa, &sb).p_value);
        }
    }
}
