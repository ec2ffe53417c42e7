//! The pure half of a comparison: the sides' pooled samples compared series by series
//! (`perfwatch-compare`), each series decided on its samples or, against the main
//! branch's noise, on its run levels, and the results mapped into the read model.

use std::collections::{BTreeSet, HashMap};

use perfwatch_compare::verdict::testable;
use perfwatch_compare::{
    compare_all_with_history, CompareConfig, ComparisonSummary, Geomean, Note, RunLevels,
    SeriesComparison, SeriesInput, SideStats, Verdict,
};
use perfwatch_core::comparison::{
    CompareRow, CompareSpec, CompareSummary, ComparisonView, GeomeanSummary, RowVerdict, RunBasis,
    SideSummary,
};
use perfwatch_core::view::{ProjectInfo, SeriesInfo};

use super::{suite, ResolvedSide};
use crate::comparison_history::MainHistory;

/// Pure part: compare the pooled samples and build the view.
pub fn build_view(
    project: &ProjectInfo,
    spec: CompareSpec,
    base_defaulted: bool,
    base: ResolvedSide,
    head: ResolvedSide,
    series: &[SeriesInfo],
) -> ComparisonView {
    let cfg = CompareConfig::default();
    build_view_with_history(
        project,
        spec,
        base_defaulted,
        (base, head),
        series,
        None,
        &cfg,
    )
}

/// [`build_view`] with the main branch's history: each row shows its series' noise,
/// and a series is decided on its run levels against that noise when `runs` is set (a
/// release side) or when its samples alone could never be significant.
pub fn build_view_with_history(
    project: &ProjectInfo,
    spec: CompareSpec,
    base_defaulted: bool,
    (mut base, mut head): (ResolvedSide, ResolvedSide),
    series: &[SeriesInfo],
    history: Option<(&MainHistory, bool)>,
    cfg: &CompareConfig,
) -> ComparisonView {
    let by_id: HashMap<i64, &SeriesInfo> = series.iter().map(|s| (s.id, s)).collect();
    let mut inputs = Inputs::default();
    for id in compared_series(&by_id, &base, &head) {
        inputs.add(by_id[&id], &mut base, &mut head, history, cfg);
    }
    let (results, summary) =
        compare_all_with_history(inputs.series, cfg).expect("the caller validated the settings");
    let mut rows: Vec<CompareRow> = results
        .into_iter()
        .map(|c| {
            let samples = inputs.samples.remove(&c.key).unwrap_or_default();
            let noise = inputs.noise_pct.get(&c.key).copied();
            let series = by_id[&c.key];
            compare_row(c, series, samples, noise)
        })
        .collect();
    let measures: BTreeSet<String> = rows.iter().map(|r| r.series.measure.clone()).collect();
    let testbeds: BTreeSet<String> = rows.iter().map(|r| r.series.testbed.clone()).collect();
    let total_rows = rows.len();
    spec.apply(&mut rows);
    ComparisonView {
        project: project.slug.clone(),
        main_branch: project.main_branch.clone(),
        spec,
        base_defaulted,
        base: base.info,
        head: head.info,
        summary: summary_view(&summary),
        rows,
        total_rows,
        measures: measures.into_iter().collect(),
        testbeds: testbeds.into_iter().collect(),
    }
}

/// The known series with samples on either side, in id order.
fn compared_series(
    by_id: &HashMap<i64, &SeriesInfo>,
    base: &ResolvedSide,
    head: &ResolvedSide,
) -> Vec<i64> {
    base.samples
        .keys()
        .chain(head.samples.keys())
        .copied()
        .filter(|id| by_id.contains_key(id))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// What the comparison gets per series, and what the rows show beside its results.
#[derive(Default)]
struct Inputs {
    series: Vec<(SeriesInput<i64>, Option<RunLevels>)>,
    /// The pooled samples of each side, shown in the row.
    samples: HashMap<i64, (Vec<f64>, Vec<f64>)>,
    /// Run-to-run noise on main, as a percentage.
    noise_pct: HashMap<i64, f64>,
}

impl Inputs {
    /// Takes one series' samples and run levels out of the sides.
    fn add(
        &mut self,
        s: &SeriesInfo,
        base: &mut ResolvedSide,
        head: &mut ResolvedSide,
        history: Option<(&MainHistory, bool)>,
        cfg: &CompareConfig,
    ) {
        let input = SeriesInput {
            key: s.id,
            group: suite(&s.benchmark),
            direction: s.direction,
            base: base.samples.remove(&s.id),
            head: head.samples.remove(&s.id),
        };
        let noise = history.and_then(|(h, _)| h.noise(s.id));
        if let Some(n) = noise {
            self.noise_pct.insert(s.id, n.pct());
        }
        let few = |v: &Option<Vec<f64>>| v.as_ref().map_or(0, |v| v.len());
        let use_runs = history.is_some_and(|(_, releases)| releases)
            || !testable(few(&input.base), few(&input.head), cfg);
        let levels = match (noise, base.levels.remove(&s.id), head.levels.remove(&s.id)) {
            (Some(noise), Some(b), Some(h)) if use_runs && !b.is_empty() && !h.is_empty() => {
                Some(RunLevels {
                    base: b,
                    head: h,
                    noise,
                })
            }
            _ => None,
        };
        self.samples.insert(
            s.id,
            (
                input.base.clone().unwrap_or_default(),
                input.head.clone().unwrap_or_default(),
            ),
        );
        self.series.push((input, levels));
    }
}

/// One series' result as a row of the view.
fn compare_row(
    c: SeriesComparison<i64>,
    series: &SeriesInfo,
    (base_samples, head_samples): (Vec<f64>, Vec<f64>),
    noise_pct: Option<f64>,
) -> CompareRow {
    let (verdict, needed) = row_verdict(c.verdict);
    CompareRow {
        series: series.clone(),
        group: c.group,
        base: c.base.map(side_summary),
        head: c.head.map(side_summary),
        change_pct: c.change_pct,
        change_low: c.change_ci.map(|i| i.low),
        change_high: c.change_ci.map(|i| i.high),
        p_value: c.p_value,
        p_adjusted: c.p_adjusted,
        verdict,
        needed,
        notes: c.notes.iter().map(note_kind).collect(),
        base_samples,
        head_samples,
        noise_pct,
        run_basis: c.run_test.map(|t| RunBasis {
            base_runs: t.base_runs,
            head_runs: t.head_runs,
            fence_pct: t.noise.scale.to_pct(t.fence),
        }),
    }
}

/// The row's verdict, and the samples a side needs when there are too few.
fn row_verdict(v: Verdict) -> (RowVerdict, Option<usize>) {
    match v {
        Verdict::Regression => (RowVerdict::Regression, None),
        Verdict::Improvement => (RowVerdict::Improvement, None),
        Verdict::NoChange => (RowVerdict::NoChange, None),
        Verdict::NotEnoughSamples { needed } => (RowVerdict::NotEnoughSamples, Some(needed)),
        Verdict::Added => (RowVerdict::Added, None),
        Verdict::Removed => (RowVerdict::Removed, None),
    }
}

fn side_summary(s: SideStats) -> SideSummary {
    SideSummary {
        n: s.n,
        median: s.median,
        ci_low: s.ci_low,
        ci_high: s.ci_high,
        confidence: s.confidence,
    }
}

/// A note as the row shows it: its serialized `kind` tag.
fn note_kind(n: &Note) -> String {
    serde_json::to_value(n)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(String::from))
        .unwrap_or_default()
}

fn summary_view(s: &ComparisonSummary) -> CompareSummary {
    CompareSummary {
        total: s.total,
        regressions: s.regressions,
        improvements: s.improvements,
        unchanged: s.unchanged,
        inconclusive: s.inconclusive,
        added: s.added,
        removed: s.removed,
        geomean: geomean_view("all", &s.overall),
        groups: s
            .groups
            .iter()
            .map(|g| geomean_view(&g.group, &g.geomean))
            .collect(),
    }
}

fn geomean_view(group: &str, g: &Geomean) -> GeomeanSummary {
    GeomeanSummary {
        group: group.to_string(),
        series: g.series,
        change_pct: g.change_pct,
        better_pct: g.better_pct,
    }
}
