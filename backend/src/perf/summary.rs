//! What a finished job says, as a digest (`perfwatch_core::digest`) rendered to
//! Markdown (the PR comment, the job page, the check run's summary): the verdict in
//! words, the largest changes with their intervals, invalid and inconclusive rows
//! explained, and links to the job, the compare permalink and the charts.

use perfwatch_core::comparison::ComparisonView;
use perfwatch_core::digest::{
    short_sha, to_markdown, view_counts, view_section, Digest, Link, LinkKind, Outcome, Section,
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
            Some(v) => (vec![with_charts(v, base)], Some(view_counts(v))),
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

/// The rows shown, the largest significant changes with their chart image (PNG, which
/// GitHub shows inline).
fn with_charts(v: &ComparisonView, base: &str) -> Section {
    let mut s = view_section(v, base, SHOWN);
    let significant: Vec<i64> = v
        .rows
        .iter()
        .filter(|r| r.verdict.is_significant())
        .map(|r| r.series.id)
        .collect();
    for c in s.changes.iter_mut().take(CHARTS) {
        if significant.contains(&c.series_id) {
            c.chart_image_url = Some(format!("{base}/api/v1/series/{}/chart.png", c.series_id));
        }
    }
    s
}

/// Markdown for GitHub (the sticky PR comment, the check run) and the job page: the
/// digest through the one Markdown renderer.
pub fn render(d: &Digest) -> String {
    to_markdown(d)
}
