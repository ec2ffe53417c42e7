//! Orchestration: per-series statistics, then Benjamini–Hochberg across series, then
//! verdicts and the summary. Pure and single-pass; the only shared state is a cache
//! of exact U distributions per sample-size pair (most series share one pair).

use crate::config::{CompareConfig, CompareError};
use crate::geomean::{GeomeanAcc, GroupGeomean};
use crate::hodges_lehmann::{
    hodges_lehmann_sorted, moses_rank_exact, moses_rank_normal, MosesRank, ShiftEstimate,
};
use crate::mann_whitney::{mann_whitney_sorted, PMethod, UDistribution, MAX_EXACT_PRODUCT};
use crate::median_ci::median_ci_sorted;
use crate::noise::Scale;
use crate::run_level::{run_test, RunLevels};
use crate::types::{
    ChangeMethod, ComparisonSummary, Interval, Note, SeriesComparison, SeriesInput, SideStats,
};
use crate::verdict::{decide, samples_needed, Effect, Evidence, Verdict};
use perfwatch_core::fdr::bh_adjusted;
use std::collections::BTreeMap;

/// Compares every series base vs head, controls the false-discovery rate across them
/// and summarises. Output rows are in input order.
///
/// Non-finite samples (NaN, ±∞) are skipped and reported in [`Note::NonFiniteDropped`];
/// a side left empty gets `NotEnoughSamples`. Only an invalid `cfg` is an error.
pub fn compare_all<K>(
    inputs: Vec<SeriesInput<K>>,
    cfg: &CompareConfig,
) -> Result<(Vec<SeriesComparison<K>>, ComparisonSummary), CompareError> {
    compare_all_with_history(inputs.into_iter().map(|i| (i, None)).collect(), cfg)
}

/// [`compare_all`] where some series also bring their run levels and run-to-run
/// noise: those are decided by the run-level rule of [`crate::run_level`] (p, change
/// and interval are then that test's); the others by the samples as usual.
pub fn compare_all_with_history<K>(
    inputs: Vec<(SeriesInput<K>, Option<RunLevels>)>,
    cfg: &CompareConfig,
) -> Result<(Vec<SeriesComparison<K>>, ComparisonSummary), CompareError> {
    cfg.validate()?;
    let mut cache = ExactCache::default();
    let mut rows: Vec<(SeriesComparison<K>, Option<Evidence>)> = inputs
        .into_iter()
        .map(|(input, runs)| {
            let (mut row, mut ev) = analyse(input, cfg, &mut cache);
            if let (Some(levels), Some(e)) = (runs, ev.as_mut()) {
                apply_run_test(&mut row, e, &levels, cfg);
            }
            (row, ev)
        })
        .collect();

    // The BH family: series that could be significant at all. Dropping untestable ones
    // (too few samples) is valid because that filter does not look at the values, and
    // it keeps them from diluting the others' power.
    let family: Vec<usize> = (0..rows.len())
        .filter(|&i| rows[i].1.is_some_and(|e| e.testable(cfg)))
        .collect();
    let raw: Vec<f64> = family.iter().map(|&i| rows[i].1.unwrap().p_value).collect();
    for (&i, q) in family.iter().zip(bh_adjusted(&raw)) {
        rows[i].0.p_adjusted = Some(q);
        if let Some(e) = rows[i].1.as_mut() {
            e.p_adjusted = Some(q);
        }
    }

    let mut out = Vec::with_capacity(rows.len());
    for (mut row, evidence) in rows {
        match evidence {
            Some(e) => {
                let (verdict, significant) = decide(row.direction, &e, cfg);
                row.verdict = verdict;
                row.significant = significant;
            }
            // One side absent keeps Added/Removed from `analyse`; a side present without
            // finite samples (or both absent) can never be tested.
            None if matches!(row.verdict, Verdict::Added | Verdict::Removed) => {}
            None => {
                row.verdict = Verdict::NotEnoughSamples {
                    needed: samples_needed(cfg),
                }
            }
        }
        out.push(row);
    }
    let summary = summarise(&out);
    Ok((out, summary))
}

/// Exact U distributions keyed by (n_base, n_head).
#[derive(Default)]
struct ExactCache {
    map: BTreeMap<(usize, usize), UDistribution>,
}

impl ExactCache {
    fn get(&mut self, n: usize, m: usize) -> Option<&UDistribution> {
        if n.saturating_mul(m) > MAX_EXACT_PRODUCT {
            return None;
        }
        Some(
            self.map
                .entry((n, m))
                .or_insert_with(|| UDistribution::new(n, m).expect("size checked")),
        )
    }
}

/// Finite samples, sorted, and how many were dropped.
fn clean(side: Option<Vec<f64>>) -> (Option<Vec<f64>>, usize) {
    match side {
        None => (None, 0),
        Some(mut v) => {
            let before = v.len();
            v.retain(|x| x.is_finite());
            v.sort_unstable_by(f64::total_cmp);
            let dropped = before - v.len();
            (Some(v), dropped)
        }
    }
}

fn side_stats(sorted: &[f64], confidence: f64) -> Option<SideStats> {
    if sorted.is_empty() {
        return None;
    }
    let ci = median_ci_sorted(sorted, confidence);
    Some(SideStats {
        n: sorted.len(),
        median: ci.median,
        ci_low: ci.low,
        ci_high: ci.high,
        confidence: ci.confidence,
    })
}

fn finite(v: f64) -> Option<f64> {
    v.is_finite().then_some(v)
}

fn finite_shift(s: ShiftEstimate) -> Option<ShiftEstimate> {
    (s.estimate.is_finite() && s.low.is_finite() && s.high.is_finite()).then_some(s)
}

/// Everything about one series except BH adjustment and the final verdict.
fn analyse<K>(
    input: SeriesInput<K>,
    cfg: &CompareConfig,
    cache: &mut ExactCache,
) -> (SeriesComparison<K>, Option<Evidence>) {
    let (base, base_dropped) = clean(input.base);
    let (head, head_dropped) = clean(input.head);
    let mut notes = Vec::new();
    if base_dropped + head_dropped > 0 {
        notes.push(Note::NonFiniteDropped {
            base: base_dropped,
            head: head_dropped,
        });
    }
    let base_stats = base.as_deref().and_then(|b| side_stats(b, cfg.confidence));
    let head_stats = head.as_deref().and_then(|h| side_stats(h, cfg.confidence));
    let mut row = SeriesComparison {
        key: input.key,
        group: input.group,
        direction: input.direction,
        base: base_stats,
        head: head_stats,
        median_ratio: None,
        ratio: None,
        change_pct: None,
        change_ci: None,
        change_method: None,
        shift: None,
        p_value: None,
        p_method: None,
        p_adjusted: None,
        significant: false,
        // Provisional; `compare_all` sets the real verdict.
        verdict: match (&base, &head) {
            (None, Some(_)) => Verdict::Added,
            (Some(_), None) => Verdict::Removed,
            _ => Verdict::NoChange,
        },
        notes,
        run_test: None,
    };
    let low_conf = |c: f64| c < cfg.confidence - 1e-9;
    if [base_stats, head_stats]
        .iter()
        .flatten()
        .any(|s| low_conf(s.confidence))
    {
        row.notes.push(Note::LowConfidenceInterval);
    }
    let (Some(b), Some(h)) = (base.as_deref(), head.as_deref()) else {
        return (row, None);
    };
    if b.is_empty() || h.is_empty() {
        return (row, None);
    }
    let (bm, hm) = (base_stats.unwrap().median, head_stats.unwrap().median);
    if bm != 0.0 {
        row.median_ratio = finite(hm / bm);
    }

    let (n, m) = (b.len(), h.len());
    let dist = cache.get(n, m);
    let mw = mann_whitney_sorted(b, h, dist);
    row.p_value = Some(mw.p_value);
    row.p_method = Some(mw.method);
    let rank: MosesRank = match (mw.method, dist) {
        (PMethod::Exact, Some(d)) => moses_rank_exact(d, cfg.confidence),
        _ => moses_rank_normal(n, m, mw.sigma, cfg.confidence),
    };
    let shift = finite_shift(hodges_lehmann_sorted(b, h, rank));
    row.shift = shift;
    if low_conf(rank.coverage) && !row.notes.contains(&Note::LowConfidenceInterval) {
        row.notes.push(Note::LowConfidenceInterval);
    }

    let effect = if b[0] > 0.0 && h[0] > 0.0 {
        // All positive (the slices are sorted): estimate the ratio directly on ln values.
        // This makes the change scale-free and exactly symmetric — swapping base and head
        // inverts the ratio and its interval — and matches how slowdowns compound.
        let lb: Vec<f64> = b.iter().map(|v| v.ln()).collect();
        let lh: Vec<f64> = h.iter().map(|v| v.ln()).collect();
        let ls = hodges_lehmann_sorted(&lb, &lh, rank);
        let pct = |l: f64| finite(l.exp_m1() * 100.0);
        match (pct(ls.estimate), pct(ls.low), pct(ls.high)) {
            (Some(c), Some(lo), Some(hi)) => {
                row.change_method = Some(ChangeMethod::LogRatio);
                row.ratio = Some(ls.estimate.exp());
                row.change_pct = Some(c);
                row.change_ci = Some(Interval {
                    low: lo,
                    high: hi,
                    confidence: ls.confidence,
                });
                Effect::LogRatio(ls.estimate)
            }
            _ => {
                row.notes.push(Note::RatioUndefined);
                Effect::Unknown
            }
        }
    } else {
        // Some value ≤ 0 (e.g. error counts that can be 0): no logarithm, so express the
        // absolute shift relative to the base median's magnitude.
        row.notes.push(Note::RelativeToBaseMedian);
        match shift {
            Some(s) if bm != 0.0 => {
                let scale = bm.abs();
                let rel = |v: f64| finite(v / scale);
                match (rel(s.estimate), rel(s.low), rel(s.high)) {
                    (Some(r), Some(lo), Some(hi)) => {
                        row.change_method = Some(ChangeMethod::ShiftOverBaseMedian);
                        row.ratio = Some(1.0 + r);
                        row.change_pct = Some(r * 100.0);
                        row.change_ci = Some(Interval {
                            low: lo * 100.0,
                            high: hi * 100.0,
                            confidence: s.confidence,
                        });
                        Effect::Relative(r)
                    }
                    _ => {
                        row.notes.push(Note::RatioUndefined);
                        Effect::ShiftOnly(s.estimate)
                    }
                }
            }
            Some(s) => {
                row.notes.push(Note::RatioUndefined);
                Effect::ShiftOnly(s.estimate)
            }
            None => {
                row.notes.push(Note::RatioUndefined);
                Effect::Unknown
            }
        }
    };
    let evidence = Evidence {
        n_base: n,
        n_head: m,
        p_value: mw.p_value,
        p_adjusted: None,
        effect,
        run: None,
    };
    (row, Some(evidence))
}

/// Replaces the sample-based p, change and interval by the run-level test's.
fn apply_run_test<K>(
    row: &mut SeriesComparison<K>,
    ev: &mut Evidence,
    levels: &RunLevels,
    cfg: &CompareConfig,
) {
    let Some(t) = run_test(levels, cfg) else {
        return;
    };
    let scale = t.noise.scale;
    row.p_value = Some(t.p_value);
    row.p_method = Some(PMethod::Normal);
    row.change_pct = finite(scale.to_pct(t.estimate));
    row.change_ci = match (finite(scale.to_pct(t.low)), finite(scale.to_pct(t.high))) {
        (Some(low), Some(high)) => Some(Interval {
            low,
            high,
            confidence: t.confidence,
        }),
        _ => None,
    };
    match scale {
        Scale::Log => {
            row.ratio = finite(t.estimate.exp());
            row.change_method = Some(ChangeMethod::LogRatio);
        }
        Scale::Relative { .. } => {
            row.ratio = Some(1.0 + t.estimate);
            row.change_method = Some(ChangeMethod::ShiftOverBaseMedian);
        }
    }
    // The run-level interval is at the requested level; the sample intervals' shortfall
    // no longer bears on the verdict.
    row.notes.retain(|n| *n != Note::LowConfidenceInterval);
    row.notes.push(Note::RunLevel);
    if t.within_fence() {
        row.notes.push(Note::WithinNoise);
    }
    row.run_test = Some(t);
    ev.p_value = t.p_value;
    ev.run = Some(t);
}

/// Counts by verdict and geomeans per group and overall.
fn summarise<K>(rows: &[SeriesComparison<K>]) -> ComparisonSummary {
    let mut s = ComparisonSummary {
        total: rows.len(),
        regressions: 0,
        improvements: 0,
        unchanged: 0,
        inconclusive: 0,
        added: 0,
        removed: 0,
        groups: Vec::new(),
        overall: Default::default(),
    };
    let mut groups: BTreeMap<&str, GeomeanAcc> = BTreeMap::new();
    let mut overall = GeomeanAcc::default();
    for r in rows {
        match r.verdict {
            Verdict::Regression => s.regressions += 1,
            Verdict::Improvement => s.improvements += 1,
            Verdict::NoChange => s.unchanged += 1,
            Verdict::NotEnoughSamples { .. } => s.inconclusive += 1,
            Verdict::Added => s.added += 1,
            Verdict::Removed => s.removed += 1,
        }
        if matches!(r.verdict, Verdict::Added | Verdict::Removed) {
            continue;
        }
        let (b, h) = match (r.base, r.head) {
            (Some(b), Some(h)) => (b.median, h.median),
            // Present on both sides but a side has no finite sample: no ratio.
            _ => (f64::NAN, f64::NAN),
        };
        groups
            .entry(r.group.as_str())
            .or_default()
            .add(b, h, r.direction);
        overall.add(b, h, r.direction);
    }
    s.groups = groups
        .into_iter()
        .map(|(g, acc)| GroupGeomean {
            group: g.to_string(),
            geomean: acc.finish(),
        })
        .collect();
    s.overall = overall.finish();
    s
}
