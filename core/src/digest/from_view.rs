//! The digest of a comparison view (`ComparisonView`, what the compare page shows):
//! the counts and the largest changes. Used by the job's PR comment and by
//! `perfwatch compare --summary`.

use crate::comparison::{CompareRow, ComparisonView, RowVerdict};

use super::{Change, Confidence, Counts, Digest, Link, LinkKind, Section};

/// Regressions, improvements and unchanged rows; everything else (too few samples,
/// added, removed) is counted as inconclusive.
pub fn view_counts(v: &ComparisonView) -> Counts {
    let count = |k: RowVerdict| v.rows.iter().filter(|r| r.verdict == k).count();
    let (reg, imp, same) = (
        count(RowVerdict::Regression),
        count(RowVerdict::Improvement),
        count(RowVerdict::NoChange),
    );
    Counts {
        total: v.rows.len(),
        regressions: reg,
        improvements: imp,
        unchanged: same,
        inconclusive: v.rows.len() - reg - imp - same,
        geomean_pct: v.summary.geomean.change_pct,
    }
}

/// The first `shown` rows, significant ones first, then by the size of the change;
/// `base` is the public URL the series links start with.
pub fn view_section(v: &ComparisonView, base: &str, shown: usize) -> Section {
    let mut sorted: Vec<&CompareRow> = v.rows.iter().collect();
    sorted.sort_by(|a, b| {
        let key = |r: &CompareRow| {
            (
                r.verdict.is_significant(),
                r.change_pct.map_or(0.0, f64::abs),
            )
        };
        let (ka, kb) = (key(a), key(b));
        kb.0.cmp(&ka.0).then(kb.1.total_cmp(&ka.1))
    });
    Section {
        label: Some("Series".into()),
        changes: sorted
            .iter()
            .take(shown)
            .map(|r| row_change(r, base))
            .collect(),
        more: v.rows.len().saturating_sub(shown),
    }
}

fn row_change(r: &CompareRow, base: &str) -> Change {
    let verdict = match (r.verdict, r.needed) {
        (RowVerdict::NotEnoughSamples, Some(n)) => format!("inconclusive (needs {n} per side)"),
        (v, _) => v.as_str().replace('_', " "),
    };
    Change {
        series_id: r.series.id,
        benchmark: r.series.benchmark.clone(),
        params: r.series.params.clone(),
        measure: r.series.measure.clone(),
        testbed: r.series.testbed.clone(),
        unit: r.series.display_unit.clone(),
        verdict,
        change_pct: r.change_pct,
        change_low: r.change_low,
        change_high: r.change_high,
        before: r.base.as_ref().map(|s| s.median),
        after: r.head.as_ref().map(|s| s.median),
        n_before: r.base.as_ref().map(|s| s.n),
        n_after: r.head.as_ref().map(|s| s.n),
        confidence: r
            .p_adjusted
            .or(r.p_value)
            .map_or(Confidence::Unknown, |p_value| Confidence::Test { p_value }),
        p_adjusted: r.p_adjusted,
        // Offline comparisons have no series pages.
        chart_url: (r.series.id > 0 && !base.is_empty())
            .then(|| format!("{base}/series/{}", r.series.id)),
        chart_image_url: None,
    }
}

/// A whole comparison: `head vs base`, the counts, the largest `shown` changes and
/// the permalink when there is one.
pub fn view_digest(v: &ComparisonView, permalink: Option<String>, shown: usize) -> Digest {
    let base = permalink
        .as_deref()
        .and_then(|p| p.find("/projects/").map(|i| &p[..i]))
        .unwrap_or("");
    Digest {
        title: format!("{} vs {}", v.head.label, v.base.label),
        project: v.project.clone(),
        counts: Some(view_counts(v)),
        sections: vec![view_section(v, base, shown)],
        links: permalink
            .map(|url| Link {
                kind: LinkKind::Compare,
                url,
            })
            .into_iter()
            .collect(),
        ..Digest::default()
    }
}
