//! Trends and ramps: turns staircases of change points that a ramp explains better into
//! one finding.
//!
//! Binary segmentation approximates a steadily moving level by a staircase: a ramp of
//! 50 points becomes a handful of same-direction change points, and a trend over the
//! whole series becomes dozens. After pruning, every maximal run of consecutive change
//! points that go the same way is judged on its region, from the change point before the
//! run to the one after it:
//!
//! - the **staircase** model: one level per segment of the run (2k + 1 parameters for k
//!   change points);
//! - the **ramp** model: flat, a straight ramp from `s` to `e`, flat again (level, height,
//!   `s`, `e`: 4 parameters); either plateau may be absent but is otherwise at least
//!   `min_segment` long.
//!
//! Both are least-squares fits to the region's values with outliers winsorized (so a
//! spike or a heavy tail does not drag them), compared by BIC; the ramp may also be a
//! plain line or have one plateau, each with fewer parameters. When the ramp wins, a ramp of at least `min_drift_span` points becomes a
//! [`Drift`] (if its own trend test passes `max_p_value` and its total change passes
//! `min_relative_change`); a shorter ramp of a run of several change points becomes one
//! change point at the ramp's middle. Remaining change points are then described again
//! against their new neighbours (drift edges included) and pruned as before.

use perfwatch_core::dist::normal_two_sided_p;
use perfwatch_core::summary::median_sorted;

use crate::adjacent::relative_change;
use crate::config::{ChangePoint, DetectConfig, Drift};
use crate::edivisive::prune;
use crate::ranks::rank;

/// How much better (in units of ln n, i.e. parameters' worth of BIC) a ramp must fit
/// than the staircase it replaces. Chosen on the two corpora (docs/detection.md): 0 and 1
/// cost F1 on staircases of 1–3σ steps (0.962, 0.967 against 0.969); 2 keeps every
/// step-corpus figure and still beats reporting nothing on the trend corpus.
const RAMP_MARGIN: f64 = 2.0;

/// Change points and drifts after explaining trends; see the module docs.
pub(crate) fn explain_trends(
    values: &[f64],
    cps: Vec<ChangePoint>,
    cfg: &DetectConfig,
) -> (Vec<ChangePoint>, Vec<Drift>) {
    if !cfg.trends || cps.is_empty() {
        return (cps, Vec::new());
    }
    let mut kept = Vec::new();
    let mut drifts = Vec::new();
    let mut changed = false;
    let mut i = 0;
    while i < cps.len() {
        let up = cps[i].absolute_change > 0.0;
        let mut j = i;
        while j + 1 < cps.len() && (cps[j + 1].absolute_change > 0.0) == up {
            j += 1;
        }
        let mut verdicts = Vec::new();
        judge_run(values, &cps[i..=j], cfg, &mut verdicts);
        for v in verdicts {
            match v {
                Verdict::Staircase(at) => kept.push(at),
                Verdict::OneStep(at) => {
                    kept.push(at);
                    changed = true;
                }
                Verdict::Drift(d) => {
                    drifts.push(d);
                    changed = true;
                }
            }
        }
        i = j + 1;
    }
    if !changed {
        return (cps, drifts);
    }
    kept.sort_unstable();
    kept.dedup();
    // Drift edges bound the neighbouring segments; change points inside a drift go.
    kept.retain(|&k| !drifts.iter().any(|d| k > d.start && k < d.end));
    let fixed: Vec<usize> = drifts
        .iter()
        .flat_map(|d| [d.start, d.end])
        .filter(|&b| b > 0 && b < values.len())
        .collect();
    kept.retain(|k| !fixed.contains(k));
    (prune(values, kept, &fixed, cfg), drifts)
}

enum Verdict {
    /// This change point stays.
    Staircase(usize),
    OneStep(usize),
    Drift(Drift),
}

/// Verdicts for a run: the whole run as one ramp if that fits better than its
/// staircase; otherwise its strongest change point stays and the parts on either side
/// are judged the same way (a step on top of a trend stays a step).
fn judge_run(values: &[f64], run: &[ChangePoint], cfg: &DetectConfig, out: &mut Vec<Verdict>) {
    if let Some(v) = judge_whole(values, run, cfg) {
        out.push(v);
        return;
    }
    if run.len() == 1 {
        out.push(Verdict::Staircase(run[0].index));
        return;
    }
    let k = (0..run.len())
        .max_by(|&i, &j| {
            run[i]
                .relative_change
                .abs()
                .total_cmp(&run[j].relative_change.abs())
        })
        .unwrap_or(0);
    if k > 0 {
        judge_run(values, &run[..k], cfg, out);
    }
    out.push(Verdict::Staircase(run[k].index));
    if k + 1 < run.len() {
        judge_run(values, &run[k + 1..], cfg, out);
    }
}

/// The run as one ramp, if a ramp explains its region better than its staircase does,
/// on the values or (for positive data, growth at a constant rate) their logarithms.
fn judge_whole(values: &[f64], run: &[ChangePoint], cfg: &DetectConfig) -> Option<Verdict> {
    let a = run[0].before_start;
    let b = run[run.len() - 1].after_end;
    let up = run[0].absolute_change > 0.0;
    let region = &values[a..b];
    let inner: Vec<usize> = run.iter().map(|c| c.index - a).collect();
    let n = region.len() as f64;
    let bic = |sse: f64, params: usize| n * (sse.max(1e-300) / n).ln() + params as f64 * n.ln();
    let mut spaces = vec![winsorized(region)];
    if region.iter().all(|&v| v > 0.0) {
        let logs: Vec<f64> = region.iter().map(|v| v.ln()).collect();
        spaces.push(winsorized(&logs));
    }
    // The fit whose BIC beats the staircase's by the most, in either space.
    let (gain, ramp) = spaces
        .iter()
        .filter_map(|y| {
            let ramp = best_ramp(y, cfg.min_segment, up)
                .into_iter()
                .flatten()
                .min_by(|x, z| bic(x.sse, x.params).total_cmp(&bic(z.sse, z.params)))?;
            let gain =
                bic(staircase_sse(y, &inner), 2 * run.len() + 1) - bic(ramp.sse, ramp.params);
            Some((gain, ramp))
        })
        .max_by(|x, z| x.0.total_cmp(&z.0))?;
    if gain <= RAMP_MARGIN * n.ln() {
        return None;
    }
    let (s, e) = (a + ramp.s, a + ramp.e);
    // The ramp must account for every change point it replaces: one it leaves on a
    // plateau is a step of its own (judged when the run is split).
    let m = cfg.min_segment;
    if s >= run[0].index + m || e + m <= run[run.len() - 1].index {
        return None;
    }

    if e - s >= cfg.min_drift_span {
        let d = describe_drift(values, s, e, run.len());
        let passes = d.p_value <= cfg.max_p_value
            && d.relative_change.abs() >= cfg.min_relative_change
            && (d.absolute_change > 0.0) == up;
        return passes.then_some(Verdict::Drift(d));
    }
    // Merging a short run into one step: on a ramp the segments between the run's
    // change points slope too; on a staircase (even one whose change points are a little
    // off, which can make a short ramp fit better) they are flat.
    (run.len() >= 2 && inner_segments_trend(values, run, up))
        .then_some(Verdict::OneStep(s + (e - s) / 2))
}

/// The values with outliers pulled in to 3 robust standard deviations of a running
/// median of 5, so that least squares is not dragged by spikes or heavy tails. The
/// scale comes from the median absolute first difference, which neither a trend nor a
/// few steps inflate.
fn winsorized(v: &[f64]) -> Vec<f64> {
    let len = v.len();
    let mut diffs: Vec<f64> = v.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    diffs.sort_by(f64::total_cmp);
    if diffs.is_empty() {
        return v.to_vec();
    }
    // MAD of a difference of two iid normals is 0.6745·√2·σ.
    let sigma = median_sorted(&diffs) / (0.6745 * std::f64::consts::SQRT_2);
    (0..len)
        .map(|i| {
            let lo = i.saturating_sub(2);
            let hi = (i + 3).min(len);
            let mut w = [0.0; 5];
            w[..hi - lo].copy_from_slice(&v[lo..hi]);
            let w = &mut w[..hi - lo];
            w.sort_by(f64::total_cmp);
            let m = median_sorted(w);
            v[i].clamp(m - 3.0 * sigma, m + 3.0 * sigma)
        })
        .collect()
}

/// Residual sum of squares of one level per segment, `inner` the split points.
fn staircase_sse(y: &[f64], inner: &[usize]) -> f64 {
    let mut bounds = vec![0];
    bounds.extend_from_slice(inner);
    bounds.push(y.len());
    bounds
        .windows(2)
        .map(|w| {
            let seg = &y[w[0]..w[1]];
            let mean = seg.iter().sum::<f64>() / seg.len() as f64;
            seg.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>()
        })
        .sum()
}

/// Points per side of the first, coarse (s, e) grid; each later level is 4× finer around
/// the best so far.
const COARSE_GRID: usize = 16;

struct Ramp {
    s: usize,
    e: usize,
    sse: f64,
    /// 2 for a line over the region, plus one per plateau.
    params: usize,
}

/// Least-squares fits of y ≈ α + β·h(t), h = 0 before `s`, (t − s + ½)/(e − s) on the
/// ramp, 1 from `e`, over every allowed (s, e) with β going the run's way: the best with
/// no plateau, one, and two. Prefix sums make each candidate O(1); a coarse grid then a
/// local refinement keep the search O(L).
fn best_ramp(y: &[f64], min_segment: usize, up: bool) -> [Option<Ramp>; 3] {
    let len = y.len();
    let mut best: [Option<Ramp>; 3] = [None, None, None];
    if len < 3 {
        return best;
    }
    let mean = y.iter().sum::<f64>() / len as f64;
    let mut p1 = vec![0.0; len + 1];
    let mut pt = vec![0.0; len + 1];
    let mut syy = 0.0;
    for (t, v) in y.iter().enumerate() {
        let c = v - mean;
        p1[t + 1] = p1[t] + c;
        pt[t + 1] = pt[t] + t as f64 * c;
        syy += c * c;
    }
    let nf = len as f64;
    let sse = |s: usize, e: usize| -> Option<f64> {
        let r = (e - s) as f64;
        let tail = (len - e) as f64;
        let sh = r / 2.0 + tail;
        let shh = r / 3.0 - 1.0 / (12.0 * r) + tail;
        let ramp_y = (pt[e] - pt[s]) - (s as f64 - 0.5) * (p1[e] - p1[s]);
        let shy = ramp_y / r + (p1[len] - p1[e]);
        // y is centred, so Σy = 0.
        let sxx = shh - sh * sh / nf;
        if sxx <= 1e-12 || (shy > 0.0) != up {
            return None;
        }
        Some((syy - shy * shy / sxx).max(0.0))
    };
    let plateau_ok = |p: usize| p == 0 || p >= min_segment;
    let consider = |s: usize, e: usize, best: &mut [Option<Ramp>; 3]| {
        if s >= e || !plateau_ok(s) || !plateau_ok(len - e) {
            return;
        }
        let plateaus = usize::from(s > 0) + usize::from(e < len);
        if let Some(v) = sse(s, e) {
            let slot = &mut best[plateaus];
            if slot.as_ref().is_none_or(|b| v < b.sse) {
                *slot = Some(Ramp {
                    s,
                    e,
                    sse: v,
                    params: 2 + plateaus,
                });
            }
        }
    };
    // Coarse grid, then finer grids around each class's best, down to single points.
    let mut stride = (len / COARSE_GRID).max(1);
    let grid: Vec<usize> = (0..=len).step_by(stride).chain([len]).collect();
    for &s in &grid {
        for &e in &grid {
            consider(s, e, &mut best);
        }
    }
    while stride > 1 {
        let finer = (stride / 4).max(1);
        for k in 1..3 {
            let Some((s0, e0)) = best[k].as_ref().map(|b| (b.s, b.e)) else {
                continue;
            };
            let around =
                |c: usize| (c.saturating_sub(stride)..=(c + stride).min(len)).step_by(finer);
            for s in around(s0) {
                for e in around(e0) {
                    consider(s, e, &mut best);
                }
            }
        }
        stride = finer;
    }
    best
}

/// Robust slope, levels and a rank trend test over the ramp `values[s..e]`.
fn describe_drift(values: &[f64], s: usize, e: usize, replaced: usize) -> Drift {
    let ramp = &values[s..e];
    let len = ramp.len();
    // Median of the slopes between points half the ramp apart: robust, O(L log L).
    let h = len.div_ceil(2).max(1);
    let mut slopes: Vec<f64> = (0..len.saturating_sub(h))
        .map(|i| (ramp[i + h] - ramp[i]) / h as f64)
        .collect();
    slopes.sort_by(f64::total_cmp);
    let slope = if slopes.is_empty() {
        0.0
    } else {
        median_sorted(&slopes)
    };
    let mut intercepts: Vec<f64> = ramp
        .iter()
        .enumerate()
        .map(|(t, v)| v - slope * t as f64)
        .collect();
    intercepts.sort_by(f64::total_cmp);
    let start_level = median_sorted(&intercepts);
    let absolute_change = slope * len as f64;
    let end_level = start_level + absolute_change;
    Drift {
        start: s,
        end: e,
        slope,
        start_level,
        end_level,
        relative_change: relative_change(start_level, end_level),
        absolute_change,
        p_value: spearman_trend_p(ramp),
        replaced,
    }
}

/// Whether the segments between consecutive change points of the run trend the run's
/// way: Stouffer's combination of their Spearman z-scores, one-sided at 1 %.
fn inner_segments_trend(values: &[f64], run: &[ChangePoint], up: bool) -> bool {
    let zs: Vec<f64> = run
        .windows(2)
        .map(|w| spearman_z(&values[w[0].index..w[1].index]))
        .collect();
    let z = zs.iter().sum::<f64>() / (zs.len() as f64).sqrt();
    let z = if up { z } else { -z };
    z >= 2.326
}

/// Spearman's ρ between position and value as a z-score, ρ·√(n − 1); 0 for fewer than
/// 3 points or all-equal values.
fn spearman_z(v: &[f64]) -> f64 {
    let n = v.len();
    if n < 3 {
        return 0.0;
    }
    let r = rank(v);
    let nf = n as f64;
    let mean = (nf + 1.0) / 2.0;
    let (mut sxy, mut syy) = (0.0, 0.0);
    for (t, d) in r.doubled_midrank.iter().enumerate() {
        let y = d / 2.0 - mean;
        sxy += (t as f64 + 1.0 - mean) * y;
        syy += y * y;
    }
    if syy <= 0.0 {
        return 0.0;
    }
    let sxx = nf * (nf * nf - 1.0) / 12.0;
    sxy / (sxx * syy).sqrt() * (nf - 1.0).sqrt()
}

/// Two-sided p-value of Spearman's ρ between position and value (normal approximation,
/// z = ρ·√(n − 1)); 1 when the values are all equal.
fn spearman_trend_p(v: &[f64]) -> f64 {
    if v.len() < 3 || v.iter().all(|x| *x == v[0]) {
        return 1.0;
    }
    normal_two_sided_p(spearman_z(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramp_fit_finds_a_noiseless_ramp() {
        // 40 · h(t) for s = 30, e = 70: exactly the model.
        let y: Vec<f64> = (0..100)
            .map(|t| 40.0 * ((f64::from(t) - 29.5) / 40.0).clamp(0.0, 1.0))
            .collect();
        let [line, _, both] = best_ramp(&y, 5, true);
        let r = both.unwrap();
        assert_eq!((r.s, r.e, r.params), (30, 70, 4));
        assert!(r.sse < 1e-9 && line.unwrap().sse > 1.0);
        assert!(best_ramp(&y, 5, false).iter().all(Option::is_none));
    }

    #[test]
    fn spearman_on_monotone_and_constant() {
        let up: Vec<f64> = (0..50).map(f64::from).collect();
        assert!(spearman_trend_p(&up) < 1e-6);
        assert_eq!(spearman_trend_p(&[3.0; 20]), 1.0);
    }
}
