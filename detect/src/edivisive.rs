//! E-Divisive means by binary segmentation, followed by pruning of weak change points.
//!
//! 1. Segmentation: for an interval [s, e) find the split τ maximising the energy
//!    statistic Q̂([s,τ), [τ,e)) with both sides ≥ `min_segment` (one O(L log L) scan).
//!    If the two-sample test between the two sides is significant, keep τ and recurse into
//!    both sides. Every interval is scanned once, so the total is O(n log n) per level of
//!    the split tree: ~O(n log n · log k) for k evenly spread changes and O(k·n log n) at
//!    worst, plus one failed scan per final segment. Then every change point moves to
//!    the best split between its final neighbours (`refine`).
//! 2. Pruning (as Otava's merge step): describe every change point against its adjacent
//!    segments (previous and next change point); while some fail the p-value or the
//!    relative-change filter, drop the weakest (largest p, then smallest change) and
//!    re-describe only its two neighbours.

use crate::adjacent::{describe, passes};
use crate::config::{ChangePoint, DetectConfig, EnergyInput};
use crate::energy::best_split;
use crate::ranks::rank;
use crate::significance::{mann_whitney_sorted, mean_var, welch, SignificanceTest};

/// Candidate change points (sorted) from binary segmentation.
pub(crate) fn segment(values: &[f64], cfg: &DetectConfig) -> Vec<usize> {
    let mut found = Vec::new();
    let mut stack = vec![(0usize, values.len())];
    while let Some((s, e)) = stack.pop() {
        if e - s < 2 * cfg.min_segment {
            continue;
        }
        let Some(tau) = split_interval(&values[s..e], cfg) else {
            continue;
        };
        found.push(s + tau);
        stack.push((s, s + tau));
        stack.push((s + tau, e));
    }
    found.sort_unstable();
    refine(values, &mut found, cfg);
    found
}

/// Moves every change point to the best split of the stretch between its neighbours,
/// until none moves (a few passes at most). Binary segmentation splits a long interval
/// first, and on a staircase that first split can land inside a plateau (the energy is
/// nearly flat there); the steps on either side are then found, but the one the split
/// stands in for is not. Between its final neighbours the split goes to that step.
fn refine(values: &[f64], found: &mut [usize], cfg: &DetectConfig) {
    for _ in 0..4 {
        let mut moved = false;
        for i in 0..found.len() {
            let s = if i == 0 { 0 } else { found[i - 1] };
            let e = found.get(i + 1).copied().unwrap_or(values.len());
            if let Some(tau) = best_energy_split(&values[s..e], cfg) {
                moved |= s + tau != found[i];
                found[i] = s + tau;
            }
        }
        if !moved {
            break;
        }
    }
}

/// The best split of one interval if the test between its two sides is significant.
fn split_interval(seg: &[f64], cfg: &DetectConfig) -> Option<usize> {
    let tau = best_energy_split(seg, cfg)?;
    let p = split_p_value(&seg[..tau], &seg[tau..], cfg.test);
    (p <= cfg.max_p_value).then_some(tau)
}

/// The split maximising the energy statistic, both sides at least `min_segment` long;
/// `None` when no split separates anything.
fn best_energy_split(seg: &[f64], cfg: &DetectConfig) -> Option<usize> {
    let r = rank(seg);
    let (tau, q) = match cfg.energy_input {
        EnergyInput::Ranks => best_split(&r.doubled_midrank, &r.position, cfg.min_segment)?,
        EnergyInput::Values => {
            // Centring on the median keeps the Fenwick sums small, limiting rounding.
            let c = r.sorted[r.sorted.len() / 2];
            let w: Vec<f64> = seg.iter().map(|v| v - c).collect();
            best_split(&w, &r.position, cfg.min_segment)?
        }
    };
    (q > 0.0).then_some(tau)
}

fn split_p_value(x: &[f64], y: &[f64], test: SignificanceTest) -> f64 {
    match test {
        SignificanceTest::MannWhitney => {
            let mut xs = x.to_vec();
            let mut ys = y.to_vec();
            xs.sort_by(f64::total_cmp);
            ys.sort_by(f64::total_cmp);
            mann_whitney_sorted(&xs, &ys)
        }
        SignificanceTest::Welch => {
            let (mx, vx) = mean_var(x);
            let (my, vy) = mean_var(y);
            welch(x.len(), mx, vx, y.len(), my, vy)
        }
    }
}

/// Describes the candidates and drops the weakest failing one until all pass. Each is
/// described against its nearest boundaries among the other candidates and `fixed`
/// (drift edges, never dropped).
pub(crate) fn prune(
    values: &[f64],
    mut idx: Vec<usize>,
    fixed: &[usize],
    cfg: &DetectConfig,
) -> Vec<ChangePoint> {
    let n = values.len();
    let bounds = |idx: &[usize], i: usize| {
        let below = fixed.iter().copied().filter(|&f| f < idx[i]).max();
        let above = fixed.iter().copied().filter(|&f| f > idx[i]).min();
        let prev = if i == 0 { 0 } else { idx[i - 1] };
        let next = idx.get(i + 1).copied().unwrap_or(n);
        (
            below.map_or(prev, |b| b.max(prev)),
            above.map_or(next, |a| a.min(next)),
        )
    };
    let mut cps: Vec<ChangePoint> = (0..idx.len())
        .map(|i| {
            let (s, e) = bounds(&idx, i);
            describe(values, s, idx[i], e, cfg)
        })
        .collect();
    loop {
        let weakest = cps
            .iter()
            .enumerate()
            .filter(|(_, cp)| !passes(cp, cfg))
            .max_by(|(ia, a), (ib, b)| {
                a.p_value
                    .total_cmp(&b.p_value)
                    .then(b.relative_change.abs().total_cmp(&a.relative_change.abs()))
                    .then(ib.cmp(ia))
            })
            .map(|(i, _)| i);
        let Some(w) = weakest else { break };
        idx.remove(w);
        cps.remove(w);
        // The neighbours now border a longer segment; only they need re-describing.
        for i in [w.wrapping_sub(1), w] {
            if i < idx.len() {
                let (s, e) = bounds(&idx, i);
                cps[i] = describe(values, s, idx[i], e, cfg);
            }
        }
    }
    cps
}
