//! What a finished job says, as a digest (`perfwatch_core::digest`) rendered to
//! Markdown (the PR comment, the job page, the check run's summary): the verdict in
//! words, the largest changes with their intervals, invalid and inconclusive rows
//! explained, and links to the job, the compare permalink and the charts.

use perfwatch_core::comparison::{CompareRow, ComparisonView, RowVerdict};
use perfwatch_core::digest::{
    short_sha, to_markdown, Change, Confidence, Counts, Digest, Link, LinkKind, Outcome, Section,
};

use super::results::Context;

/// The verdict of one job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Regression,
    Improvement,
    NoChange,
    /// Compared, but no series had enough data to decide.
    Inconclusive,
    /// The load or metrics step produced no data: never "no change".
    Invalid,
    /// A master-set job: stored as the baseline of later PRs.
    Baseline,
    /// No master set at the merge-base (its backfill failed).
    NoBaseline,
    /// A master set exists, but from another job definition or testbed.
    NotComparable,
    /// A master commit slower than the previous master set: a confirmation job re-runs
    /// both sides before anyone is told.
    Unconfirmed,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Improvement => "improvement",
            Self::NoChange => "no change",
            Self::Inconclusive => "inconclusive",
            Self::Invalid => "invalid",
            Self::Baseline => "baseline",
            Self::NoBaseline => "no baseline",
            Self::NotComparable => "not comparable",
            Self::Unconfirmed => "unconfirmed regression",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Regression,
            Self::Improvement,
            Self::NoChange,
            Self::Inconclusive,
            Self::Invalid,
            Self::Baseline,
            Self::NoBaseline,
            Self::NotComparable,
            Self::Unconfirmed,
        ]
        .into_iter()
        .find(|v| v.as_str() == s)
    }

    /// The verdict in words, the first thing a reader sees.
    pub fn outcome(self) -> Outcome {
        let (mark, word, text, bad) = match self {
            Self::Regression => (
                "❌",
                "Slower",
                "at least one series regressed beyond run-to-run noise.",
                true,
            ),
            Self::Improvement => (
                "✅",
                "Faster",
                "at least one series improved, none regressed.",
                false,
            ),
            Self::NoChange => ("✅", "No change", "beyond run-to-run noise.", false),
            Self::Inconclusive => (
                "⚪",
                "Inconclusive",
                "too few samples to decide; run more repeats (/perfwatch run repeats=5).",
                false,
            ),
            Self::Invalid => (
                "⚠️",
                "Invalid",
                "a run produced no data (see below); this is not a \"no change\".",
                true,
            ),
            Self::Baseline => ("📏", "Baseline", "stored as the master baseline.", false),
            Self::NoBaseline => (
                "⚪",
                "No baseline",
                "the master commit at the merge-base could not be measured.",
                false,
            ),
            Self::NotComparable => (
                "⚪",
                "Not comparable",
                "the baseline was measured with another job definition or testbed.",
                false,
            ),
            Self::Unconfirmed => (
                "⏳",
                "Slower than the previous master commit",
                "re-running both sides together to confirm before anyone is told.",
                true,
            ),
        };
        Outcome {
            mark: mark.into(),
            word: word.into(),
            text: text.into(),
            bad,
        }
    }
}

/// Rows shown; the rest are counted and linked.
const SHOWN: usize = 20;
/// Rows that carry their chart image: the largest significant changes.
const CHARTS: usize = 3;

impl Context<'_> {
    /// The job's digest (`perfwatch_core::digest`): its verdict, the largest changes
    /// with their intervals, invalid runs explained, links to the job and the compare
    /// permalink.
    pub fn report(&self, verdict: Verdict, view: Option<&ComparisonView>) -> Digest {
        let base = self.public_url.trim_end_matches('/');
        let job = self.job;
        let mut title = format!("perfwatch job {} at {}", job.id, short_sha(&job.sha));
        if let Some(b) = &job.base_sha {
            title.push_str(&format!(" vs {}", short_sha(b)));
        }
        let (sections, counts) = match view {
            Some(v) => (vec![changes(v, base)], Some(counts(v))),
            None => (Vec::new(), None),
        };
        let mut links = vec![Link {
            kind: LinkKind::Job,
            url: format!("{base}/jobs/{}", job.id),
        }];
        if let Some(v) = view {
            links.push(Link {
                kind: LinkKind::Compare,
                url: format!("{base}{}", v.spec.page_path(self.project)),
            });
        }
        Digest {
            title,
            project: self.project.into(),
            outcome: Some(verdict.outcome()),
            state: None,
            sides: None,
            counts,
            sections,
            suspects: None,
            invalid: self.invalid.to_vec(),
            links,
        }
    }
}

fn counts(v: &ComparisonView) -> Counts {
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

/// Significant rows first, then by the size of the change; the first `SHOWN`.
fn changes(v: &ComparisonView, base: &str) -> Section {
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
    let changes = sorted
        .iter()
        .take(SHOWN)
        .enumerate()
        .map(|(i, r)| {
            let mut c = row_change(r, base);
            if i < CHARTS && r.verdict.is_significant() {
                c.chart_image_url = Some(format!("{base}/api/v1/series/{}/chart.png", r.series.id));
            }
            c
        })
        .collect();
    Section {
        label: Some("Series".into()),
        changes,
        more: v.rows.len().saturating_sub(SHOWN),
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
        chart_url: Some(format!("{base}/series/{}", r.series.id)),
        chart_image_url: None,
    }
}

/// Markdown for GitHub (the sticky PR comment, the check run) and the job page: the
/// digest through the one Markdown renderer.
pub fn render(d: &Digest) -> String {
    to_markdown(d)
}
