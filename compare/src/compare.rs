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
    let (family, raw): (Vec<usize>, Vec<f64>) = rows
        .iter()
        .enumerate()
        .filter_map(|(i, (_, ev))| ev.filter(|e| e.testable(cfg)).map(|e| (i, e.p_value)))
        .unzip();
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
    let mut row = SeriesComparison {
        key: input.key,
        group: input.group,
        direction: input.direction,
        base: base.as_deref().and_then(|b| side_stats(b, cfg.confidence)),
        head: head.as_deref().and_then(|h| side_stats(h, cfg.confidence)),
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
        notes: Vec::new(),
        run_test: None,
    };
    if base_dropped + head_dropped > 0 {
        row.notes.push(Note::NonFiniteDropped {
            base: base_dropped,
            head: head_dropped,
        });
    }
    if [row.base, row.head]
        .iter()
        .flatten()
        .any(|s| below_requested(s.confidence, cfg))
    {
        row.notes.push(Note::LowConfidenceInterval);
    }
    // Side stats exist exactly when a side has a finite sample.
    let (Some(b), Some(h), Some(base_stats), Some(head_stats)) =
        (base.as_deref(), head.as_deref(), row.base, row.head)
    else {
        return (row, None);
    };
    let bm = base_stats.median;
    if bm != 0.0 {
        row.median_ratio = finite(head_stats.median / bm);
    }
    let (p_value, rank) = rank_test(&mut row, b, h, cfg, cache);
    let effect = if b[0] > 0.0 && h[0] > 0.0 {
        log_ratio_effect(&mut row, b, h, rank)
    } else {
        relative_effect(&mut row, bm)
    };
    let evidence = Evidence {
        n_base: b.len(),
        n_head: h.len(),
        p_value,
        p_adjusted: None,
        effect,
        run: None,
    };
    (row, Some(evidence))
}

/// Whether an interval's actual coverage falls short of the requested confidence.
fn below_requested(coverage: f64, cfg: &CompareConfig) -> bool {
    coverage < cfg.confidence - 1e-9
}

/// Mann–Whitney p and the Hodges–Lehmann shift with its Moses interval, written into
/// `row`; returns the p and the interval's ranks (the change estimate reuses them).
fn rank_test<K>(
    row: &mut SeriesComparison<K>,
    b: &[f64],
    h: &[f64],
    cfg: &CompareConfig,
    cache: &mut ExactCache,
) -> (f64, MosesRank) {
    let (n, m) = (b.len(), h.len());
    let dist = cache.get(n, m);
    let mw = mann_whitney_sorted(b, h, dist);
    row.p_value = Some(mw.p_value);
    row.p_method = Some(mw.method);
    let rank: MosesRank = match (mw.method, dist) {
        (PMethod::Exact, Some(d)) => moses_rank_exact(d, cfg.confidence),
        _ => moses_rank_normal(n, m, mw.sigma, cfg.confidence),
    };
    row.shift = finite_shift(hodges_lehmann_sorted(b, h, rank));
    if below_requested(rank.coverage, cfg) && !row.notes.contains(&Note::LowConfidenceInterval) {
        row.notes.push(Note::LowConfidenceInterval);
    }
    (mw.p_value, rank)
}

/// All values positive (the slices are sorted): estimate the ratio directly on ln
/// values. This makes the change scale-free and exactly symmetric — swapping base and
/// head inverts the ratio and its interval — and matches how slowdowns compound.
fn log_ratio_effect<K>(
    row: &mut SeriesComparison<K>,
    b: &[f64],
    h: &[f64],
    rank: MosesRank,
) -> Effect {
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
}

/// Some value ≤ 0 (e.g. error counts that can be 0): no logarithm, so express the
/// absolute shift (already in `row.shift`) relative to the base median's magnitude.
fn relative_effect<K>(row: &mut SeriesComparison<K>, base_median: f64) -> Effect {
    row.notes.push(Note::RelativeToBaseMedian);
    let Some(s) = row.shift else {
        row.notes.push(Note::RatioUndefined);
        return Effect::Unknown;
    };
    let scale = base_median.abs();
    // Both the fraction and its percentage must be finite: a subnormal base median makes
    // the fraction finite but ×100 overflow.
    let rel = |v: f64| finite(v / scale).filter(|r| (r * 100.0).is_finite());
    match (base_median != 0.0, rel(s.estimate), rel(s.low), rel(s.high)) {
        (true, Some(r), Some(lo), Some(hi)) => {
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
